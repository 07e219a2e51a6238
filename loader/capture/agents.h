/*
 * loader/capture/agents.h: per-agent datagram sequence numbers, to count datagrams
 * lost in transit.
 *
 * Every sFlow agent (and v5 sub-agent) numbers its datagrams 1, 2, 3, ...
 * A jump forward by more than one means datagrams were lost on the way,
 * unless they arrive later: UDP may reorder, so a datagram up to
 * SH_SEQ_WINDOW numbers behind the highest one seen fills its gap (and is
 * no longer counted lost). A step back by more than the window means the
 * agent restarted (a reset, not a loss), and so does a smaller step back
 * with the agent's uptime gone back by more than SH_UPTIME_SLACK_MS (an
 * agent that restarts soon after it started).
 *
 * Agents are kept in a hash table keyed by address and sub-agent, with a
 * hash key drawn at random per run, so that a sender cannot choose
 * addresses or sub-agent ids that collide; and there are at most
 * SH_AGENTS_MAX of them per load: any UDP sender can make up sub-agent ids.
 */
#ifndef SPAMHINTS_AGENTS_H
#define SPAMHINTS_AGENTS_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* Sequence numbers behind the highest one that still count as late, not as a restart. */
#define SH_SEQ_WINDOW	64

/*
 * A step back within the window is a late datagram, unless the agent's uptime
 * went back by more than this (a datagram is not that late): then a restart.
 */
#define SH_UPTIME_SLACK_MS	10000

/* Agents (address + sub-agent) one load keeps; datagrams of more are not loaded. */
#define SH_AGENTS_MAX	65536

typedef struct sh_agent
{
	sh_addr		addr;
	uint32_t	sub_agent;
	uint32_t	version;
	uint64_t	datagrams;		/* decoded whole */
	uint64_t	malformed;		/* arrived, but rejected */
	uint32_t	first_seq;
	uint32_t	last_seq;		/* the highest since the last reset */
	uint64_t	lost;			/* gaps, less the late datagrams that filled them */
	uint64_t	resets;
	uint64_t	seen;			/* bit i: last_seq - 1 - i arrived (or is before the run) */
	uint32_t	last_uptime;	/* ms, of the datagram that set last_seq */
	uint8_t		has_uptime;
} sh_agent;

/* All of a load's agents, in the order first seen. Zeroed is empty. */
typedef struct sh_agents
{
	sh_agent   *v;
	size_t		n;
	size_t		cap;
	size_t		last;			/* index of the last agent seen: datagrams come in runs */
	uint32_t   *slots;			/* hash table: index + 1 into v, 0 free */
	size_t		nslots;			/* a power of two, at least twice n */
	uint64_t	key[2];			/* the hash key, drawn when the table is made */
} sh_agents;

/*
 * Note one datagram, decoded whole or malformed (a malformed one arrived: it
 * was not lost in transit). Returns 0, 1 when it is from a new agent and
 * SH_AGENTS_MAX are known already (the agent is not kept), or -1 when out
 * of memory.
 */
int			sh_agents_see(sh_agents *agents, const sh_addr *addr, uint32_t sub_agent,
						  uint32_t version, uint32_t seq, int malformed);

/*
 * The same with the datagram's uptime (ms since the agent started): a
 * sequence number a few behind the highest whose uptime went back by more
 * than SH_UPTIME_SLACK_MS is a restart, not a late datagram.
 */
int			sh_agents_see_uptime(sh_agents *agents, const sh_addr *addr, uint32_t sub_agent,
								 uint32_t version, uint32_t seq, uint32_t uptime_ms, int malformed);

/* Datagrams lost, over all agents. */
uint64_t	sh_agents_lost(const sh_agents *agents);

void		sh_agents_free(sh_agents *agents);

#endif							/* SPAMHINTS_AGENTS_H */
