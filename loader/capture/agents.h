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

/* The biggest step across 2^32 (2^32-1 to 0, ...) taken as a wrapped sequence number, not a restart. */
#define SH_SEQ_WRAP_GAP	65536

/*
 * A step back within the window is a late datagram, unless the agent's uptime
 * went back by more than this (a datagram is not that late): then a restart.
 */
#define SH_UPTIME_SLACK_MS	10000

/* Agents (address + sub-agent) one load keeps; datagrams of more are not loaded. */
#define SH_AGENTS_MAX	65536

/* Flow-sample sources (ifIndex) an agent's sampling is followed for; the rest are not. */
#define SH_SOURCES_MAX	4096

/*
 * One source of flow samples (sFlow v5: source id type and index; v2/v4: the
 * same, packed) of an agent: its last flow sample, and the sums over the
 * steps from one to the next. The sample pool counts the packets the source
 * could have sampled, the sequence number the samples it made: their steps'
 * ratio is the rate it really sampled at (sFlow v5 section 4.2).
 */
typedef struct sh_source
{
	uint64_t	id;
	uint32_t	last_seq;
	uint32_t	last_pool;
	uint32_t	last_drops;
} sh_source;

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

	/* sampling, over the steps between consecutive flow samples of each source */
	sh_source  *src;			/* its sources, in the order first seen */
	uint32_t	nsrc;
	uint32_t	capsrc;
	uint32_t	src_last;		/* index of the last source seen */
	uint64_t	seq_steps;		/* samples made: the sum of sequence steps */
	uint64_t	pool_steps;		/* packets they were drawn from: the sum of sample pool steps */
	uint64_t	drop_steps;		/* samples dropped by the agent (lack of resources) */
	uint64_t	rate_steps;		/* configured rate times sequence step, summed */
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

/*
 * Note one flow sample of agent a: its source, sequence number, configured
 * sampling rate, sample pool and drops. A step forward (sequence up by less
 * than 2^31, pool not back) adds to the agent's sums; the same sequence
 * number again (another record of the sample) and a late sample (up to
 * SH_SEQ_WINDOW behind) add nothing; a bigger step back, or a pool that went
 * back, starts the source anew (a restart). Returns 0, or -1 when out of
 * memory; a source past SH_SOURCES_MAX is not followed.
 */
int			sh_agent_flow_sample(sh_agent *a, uint64_t source, uint32_t seq, uint32_t rate,
								 uint32_t pool, uint32_t drops);

/* Datagrams lost, over all agents. */
uint64_t	sh_agents_lost(const sh_agents *agents);

void		sh_agents_free(sh_agents *agents);

#endif							/* SPAMHINTS_AGENTS_H */
