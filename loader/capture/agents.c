/*
 * loader/capture/agents.c: per-agent sequence tracking (see agents.h).
 *
 * The agents are a vector in the order first seen (the order of the
 * load_agent rows) and an open-addressing hash table of indexes into it,
 * half full at most; datagrams from one agent come in runs, so the last
 * agent found is tried first.
 */
#include "agents.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define INITIAL_SLOTS	64

static int
same_agent(const sh_agent *a, const sh_addr *addr, uint32_t sub_agent)
{
	return a->sub_agent == sub_agent && a->addr.family == addr->family &&
		memcmp(a->addr.bytes, addr->bytes, addr->family == 6 ? 16 : 4) == 0;
}

/* A 64-bit finalizer (as in MurmurHash3): every input bit moves every output bit. */
static inline uint64_t
mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

static uint64_t
agent_hash(const uint64_t key[2], const sh_addr *addr, uint32_t sub_agent)
{
	uint64_t	hi = 0,
				lo = 0;
	size_t		n = addr->family == 6 ? 16 : 4;

	for (size_t i = 0; i < n; i++)
	{
		if (i < 8)
			hi = hi << 8 | addr->bytes[i];
		else
			lo = lo << 8 | addr->bytes[i];
	}
	return mix64(mix64(mix64(hi ^ key[0]) ^ lo ^ key[1]) ^
				 ((uint64_t) addr->family << 32 | sub_agent));
}

/* A key no sender can know: from the kernel, or failing that the time and pid. */
static void
draw_key(uint64_t key[2])
{
	if (getrandom(key, 2 * sizeof(uint64_t), 0) != (ssize_t) (2 * sizeof(uint64_t)))
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		key[0] = mix64((uint64_t) ts.tv_sec ^ ((uint64_t) ts.tv_nsec << 20));
		key[1] = mix64(key[0] ^ (uint64_t) getpid());
	}
}

/* The slot of the agent, or of the free slot where it would go. */
static size_t
find_slot(const sh_agents *agents, const sh_addr *addr, uint32_t sub_agent)
{
	size_t		mask = agents->nslots - 1;
	size_t		i = (size_t) agent_hash(agents->key, addr, sub_agent) & mask;

	while (agents->slots[i] != 0 &&
		   !same_agent(&agents->v[agents->slots[i] - 1], addr, sub_agent))
		i = (i + 1) & mask;
	return i;
}

/* Make the table nslots big, putting back every agent. */
static int
rehash(sh_agents *agents, size_t nslots)
{
	uint32_t   *slots = calloc(nslots, sizeof(*slots));

	if (slots == NULL)
		return -1;
	free(agents->slots);
	agents->slots = slots;
	agents->nslots = nslots;
	for (size_t k = 0; k < agents->n; k++)
		agents->slots[find_slot(agents, &agents->v[k].addr, agents->v[k].sub_agent)] = (uint32_t) k + 1;
	return 0;
}

/* The next sequence number of a known agent. */
static int	see(sh_agents *agents, const sh_addr *addr, uint32_t sub_agent, uint32_t version,
				uint32_t seq, int has_uptime, uint32_t uptime, int malformed);

static void
see_seq(sh_agent *a, uint32_t seq, int has_uptime, uint32_t uptime)
{
	/* only a sequence number going back can be a restart: a wrapped uptime is not one */
	int			uptime_back = has_uptime && a->has_uptime &&
		uptime < a->last_uptime && a->last_uptime - uptime > SH_UPTIME_SLACK_MS;

	/*
	 * Sequence numbers are 32 bits and wrap after 2^32 datagrams: a step
	 * across 2^32 of at most SH_SEQ_WRAP_GAP (2^32-1 to 0, 1, ...) is a step
	 * forward, and a number at most SH_SEQ_WINDOW behind across it is late;
	 * with the uptime gone back, either is a restart.
	 */
	uint32_t	fwd = seq - a->last_seq;
	uint32_t	behind = a->last_seq - seq;
	int			wrapped_forward = seq < a->last_seq && fwd <= SH_SEQ_WRAP_GAP && !uptime_back;
	int			wrapped_late = seq > a->last_seq && behind <= SH_SEQ_WINDOW && !uptime_back;

	if ((seq > a->last_seq && !wrapped_late) || wrapped_forward)
	{
		uint32_t	gap = fwd;

		a->last_uptime = uptime;
		a->has_uptime = (uint8_t) has_uptime;

		/* the numbers between are missing until they arrive late */
		a->lost += (uint64_t) gap - 1;
		if (gap > 64)
			a->seen = 0;
		else if (gap == 64)
			a->seen = UINT64_C(1) << 63;
		else
			a->seen = a->seen << gap | UINT64_C(1) << (gap - 1);
		a->last_seq = seq;
	}
	else if (seq != a->last_seq)
	{
		uint32_t	back = behind;

		if (back <= SH_SEQ_WINDOW && !uptime_back)
		{
			uint64_t	bit = UINT64_C(1) << (back - 1);

			/* late: it fills its gap; if it was there already, a duplicate */
			if ((a->seen & bit) == 0)
			{
				a->seen |= bit;
				a->lost--;
			}
		}
		else
		{
			a->resets++;
			a->last_seq = seq;
			a->seen = ~UINT64_C(0);
			a->last_uptime = uptime;
			a->has_uptime = (uint8_t) has_uptime;
		}
	}
	/* seq == last_seq: a duplicate datagram; neither lost nor a reset */
}

int
sh_agents_see(sh_agents *agents, const sh_addr *addr, uint32_t sub_agent,
			  uint32_t version, uint32_t seq, int malformed)
{
	return see(agents, addr, sub_agent, version, seq, 0, 0, malformed);
}

int
sh_agents_see_uptime(sh_agents *agents, const sh_addr *addr, uint32_t sub_agent,
					 uint32_t version, uint32_t seq, uint32_t uptime_ms, int malformed)
{
	return see(agents, addr, sub_agent, version, seq, 1, uptime_ms, malformed);
}

static int
see(sh_agents *agents, const sh_addr *addr, uint32_t sub_agent, uint32_t version, uint32_t seq,
	int has_uptime, uint32_t uptime, int malformed)
{
	sh_agent   *a = NULL;
	size_t		slot = 0;

	if (agents->n > 0 && same_agent(&agents->v[agents->last], addr, sub_agent))
		a = &agents->v[agents->last];
	else
	{
		if (agents->slots == NULL)
		{
			draw_key(agents->key);
			if (rehash(agents, INITIAL_SLOTS) != 0)
				return -1;
		}
		slot = find_slot(agents, addr, sub_agent);
		if (agents->slots[slot] != 0)
		{
			agents->last = agents->slots[slot] - 1;
			a = &agents->v[agents->last];
		}
	}

	if (a == NULL)
	{
		if (agents->n >= SH_AGENTS_MAX)
			return 1;
		if (agents->n == agents->cap)
		{
			size_t		cap = agents->cap ? agents->cap * 2 : 16;
			sh_agent   *v = realloc(agents->v, cap * sizeof(*v));

			if (v == NULL)
				return -1;
			agents->v = v;
			agents->cap = cap;
		}
		a = &agents->v[agents->n];
		memset(a, 0, sizeof(*a));
		a->addr = *addr;
		a->sub_agent = sub_agent;
		a->version = version;
		a->first_seq = a->last_seq = seq;
		a->seen = ~UINT64_C(0);	/* nothing before the first one is expected */
		a->last_uptime = uptime;
		a->has_uptime = (uint8_t) has_uptime;
		a->datagrams = malformed ? 0 : 1;
		a->malformed = malformed ? 1 : 0;
		agents->slots[slot] = (uint32_t) agents->n + 1;
		agents->last = agents->n++;
		/* at most half full */
		if (agents->n * 2 > agents->nslots && rehash(agents, agents->nslots * 2) != 0)
			return -1;
		return 0;
	}

	if (malformed)
		a->malformed++;
	else
		a->datagrams++;
	a->version = version;
	see_seq(a, seq, has_uptime, uptime);
	return 0;
}

uint64_t
sh_agents_lost(const sh_agents *agents)
{
	uint64_t	lost = 0;

	for (size_t i = 0; i < agents->n; i++)
		lost += agents->v[i].lost;
	return lost;
}

int
sh_agent_flow_sample(sh_agent *a, uint64_t source, uint32_t seq, uint32_t rate, uint32_t pool,
					 uint32_t drops)
{
	sh_source  *s = NULL;
	uint32_t	dseq,
				dpool;

	/*
	 * A sampling rate of 0 (1 in 0) is no sampling an agent can do: such a
	 * sample says nothing of the agent's rates (a configured_rate of 0 would
	 * fail the load_agent row, and with it the whole load).
	 */
	if (rate == 0)
		return 0;
	if (a->nsrc > 0 && a->src[a->src_last].id == source)
		s = &a->src[a->src_last];
	else
	{
		for (uint32_t i = 0; i < a->nsrc; i++)
			if (a->src[i].id == source)
			{
				a->src_last = i;
				s = &a->src[i];
				break;
			}
	}
	if (s == NULL)
	{
		if (a->nsrc >= SH_SOURCES_MAX)
			return 0;
		if (a->nsrc == a->capsrc)
		{
			uint32_t	cap = a->capsrc ? a->capsrc * 2 : 4;
			sh_source  *v = realloc(a->src, cap * sizeof(*v));

			if (v == NULL)
				return -1;
			a->src = v;
			a->capsrc = cap;
		}
		a->src_last = a->nsrc++;
		s = &a->src[a->src_last];
		s->id = source;
		s->last_seq = seq;
		s->last_pool = pool;
		s->last_drops = drops;
		return 0;
	}
	/* the counters are 32 bits and wrap: steps are taken modulo 2^32 */
	dseq = seq - s->last_seq;
	dpool = pool - s->last_pool;
	if (dseq == 0)
		return 0;
	if (dseq >= UINT32_C(0x80000000) && s->last_seq - seq <= SH_SEQ_WINDOW)
		return 0;				/* late: its step is in the sums already */
	if (dseq < UINT32_C(0x80000000) && dpool < UINT32_C(0x80000000))
	{
		uint32_t	ddrops = drops - s->last_drops;

		a->seq_steps += dseq;
		a->pool_steps += dpool;
		a->rate_steps += (uint64_t) rate * dseq;
		if (ddrops < UINT32_C(0x80000000))
			a->drop_steps += ddrops;
	}
	/* a step forward, or a restart: this sample is where the next step starts */
	s->last_seq = seq;
	s->last_pool = pool;
	s->last_drops = drops;
	return 0;
}

void
sh_agents_free(sh_agents *agents)
{
	for (size_t i = 0; i < agents->n; i++)
		free(agents->v[i].src);
	free(agents->v);
	free(agents->slots);
	memset(agents, 0, sizeof(*agents));
}
