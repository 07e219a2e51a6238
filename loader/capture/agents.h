/*
 * loader/capture/agents.h: per-agent datagram sequence numbers, to count datagrams
 * lost in transit.
 *
 * Every sFlow agent (and v5 sub-agent) numbers its datagrams 1, 2, 3, ...
 * A jump forward by more than one means datagrams were lost on the way;
 * a step back means the agent restarted (a reset, not a loss).
 */
#ifndef SPAMHINTS_AGENTS_H
#define SPAMHINTS_AGENTS_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

typedef struct sh_agent
{
	sh_addr		addr;
	uint32_t	sub_agent;
	uint32_t	version;
	uint64_t	datagrams;		/* decoded whole */
	uint64_t	malformed;		/* arrived, but rejected */
	uint32_t	first_seq;
	uint32_t	last_seq;
	uint64_t	lost;
	uint64_t	resets;
} sh_agent;

typedef struct sh_agents
{
	sh_agent   *v;
	size_t		n;
	size_t		cap;
	size_t		last;			/* index of the last agent seen: datagrams come in runs */
} sh_agents;

/*
 * Note one datagram, decoded whole or malformed (a malformed one arrived: it
 * was not lost in transit). Returns -1 when out of memory.
 */
int			sh_agents_see(sh_agents *agents, const sh_addr *addr, uint32_t sub_agent,
						  uint32_t version, uint32_t seq, int malformed);

/* Datagrams lost, over all agents. */
uint64_t	sh_agents_lost(const sh_agents *agents);

void		sh_agents_free(sh_agents *agents);

#endif							/* SPAMHINTS_AGENTS_H */
