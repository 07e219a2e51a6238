/*
 * loader/capture/agents.c: per-agent sequence tracking (see agents.h).
 *
 * Agents are few (an exchange has tens to hundreds of switches) and
 * datagrams from one agent come in runs, so a list searched from the last
 * hit is all it takes.
 */
#include "agents.h"

#include <stdlib.h>
#include <string.h>

static int
same_agent(const sh_agent *a, const sh_addr *addr, uint32_t sub_agent)
{
	return a->sub_agent == sub_agent && a->addr.family == addr->family &&
		memcmp(a->addr.bytes, addr->bytes, addr->family == 6 ? 16 : 4) == 0;
}

int
sh_agents_see(sh_agents *agents, const sh_addr *addr, uint32_t sub_agent,
			  uint32_t version, uint32_t seq, int malformed)
{
	sh_agent   *a = NULL;

	if (agents->n > 0 && same_agent(&agents->v[agents->last], addr, sub_agent))
		a = &agents->v[agents->last];
	else
	{
		for (size_t i = 0; i < agents->n; i++)
		{
			if (same_agent(&agents->v[i], addr, sub_agent))
			{
				a = &agents->v[i];
				agents->last = i;
				break;
			}
		}
	}

	if (a == NULL)
	{
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
		a->datagrams = malformed ? 0 : 1;
		a->malformed = malformed ? 1 : 0;
		agents->last = agents->n++;
		return 0;
	}

	if (malformed)
		a->malformed++;
	else
		a->datagrams++;
	a->version = version;
	if (seq > a->last_seq)
		a->lost += (uint64_t) (seq - a->last_seq - 1);
	else if (seq < a->last_seq)
		a->resets++;
	/* seq == last_seq: a duplicate datagram; neither lost nor a reset */
	a->last_seq = seq;
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

void
sh_agents_free(sh_agents *agents)
{
	free(agents->v);
	memset(agents, 0, sizeof(*agents));
}
