/*
 * tests/unit/test_agents.c: per-agent sequence tracking (agents.c): losses,
 * resets, reordering within the window, duplicates, many agents, the bound
 * on agents, the order agents are listed in, and restarts told by the
 * uptime when the sequence number alone cannot tell them; the flow samples'
 * steps behind the effective sampling rate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agents.h"

static sh_addr
v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	sh_addr		addr;

	memset(&addr, 0, sizeof(addr));
	addr.family = 4;
	addr.bytes[0] = a;
	addr.bytes[1] = b;
	addr.bytes[2] = c;
	addr.bytes[3] = d;
	return addr;
}

/* feed one agent the sequence numbers, in order; return it */
static sh_agent
run(const uint32_t *seqs, size_t n)
{
	sh_agents	agents;
	sh_addr		a = v4(10, 0, 0, 1);
	sh_agent	out;

	memset(&agents, 0, sizeof(agents));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(sh_agents_see(&agents, &a, 0, 5, seqs[i], 0), 0);
	assert_int_equal(agents.n, 1);
	out = agents.v[0];
	assert_int_equal(sh_agents_lost(&agents), out.lost);
	sh_agents_free(&agents);
	return out;
}

static void
test_in_order_and_gaps(void **state)
{
	const uint32_t in_order[] = {1, 2, 3, 4, 5};
	const uint32_t gaps[] = {1, 2, 5, 6, 10};
	sh_agent	a;

	(void) state;
	a = run(in_order, 5);
	assert_int_equal(a.datagrams, 5);
	assert_int_equal(a.first_seq, 1);
	assert_int_equal(a.last_seq, 5);
	assert_int_equal(a.lost, 0);
	assert_int_equal(a.resets, 0);

	a = run(gaps, 5);
	assert_int_equal(a.lost, 2 + 3);
	assert_int_equal(a.resets, 0);
	assert_int_equal(a.last_seq, 10);
}

/* 1, 3, 2, 4, 5: nothing lost, no reset */
static void
test_reordered(void **state)
{
	const uint32_t swapped[] = {1, 3, 2, 4, 5};
	const uint32_t late[] = {1, 2, 4, 5, 6, 7, 8, 3, 9};
	const uint32_t gap_then_late[] = {100, 110, 105, 111};
	sh_agent	a;

	(void) state;
	a = run(swapped, 5);
	assert_int_equal(a.lost, 0);
	assert_int_equal(a.resets, 0);
	assert_int_equal(a.datagrams, 5);
	assert_int_equal(a.last_seq, 5);

	a = run(late, 9);
	assert_int_equal(a.lost, 0);
	assert_int_equal(a.resets, 0);
	assert_int_equal(a.last_seq, 9);

	/* 101..109 missing, 105 comes late: 8 lost */
	a = run(gap_then_late, 4);
	assert_int_equal(a.lost, 8);
	assert_int_equal(a.resets, 0);
}

/* a late datagram at the edge of the window, and just past it */
static void
test_window_edge(void **state)
{
	uint32_t	seqs[3];
	sh_agent	a;

	(void) state;
	/* 1000, then 1000 + W + 1 (W numbers missing), then 1001: still in the window */
	seqs[0] = 1000;
	seqs[1] = 1000 + SH_SEQ_WINDOW + 1;
	seqs[2] = 1001;
	a = run(seqs, 3);
	assert_int_equal(a.lost, SH_SEQ_WINDOW - 1);
	assert_int_equal(a.resets, 0);

	/* a step back by more than the window: the agent restarted */
	seqs[0] = 1000;
	seqs[1] = 1000 + SH_SEQ_WINDOW + 1;
	seqs[2] = 1000;
	a = run(seqs, 3);
	assert_int_equal(a.lost, SH_SEQ_WINDOW);
	assert_int_equal(a.resets, 1);
	assert_int_equal(a.last_seq, 1000);
}

/*
 * A sequence number wraps at 2^32 after 4 billion datagrams: 2^32-2, 2^32-1,
 * then 1 (0 is missing) is no restart; 0 arriving late fills the gap, and
 * 2^32-3 arriving late after the wrap is late too, not a jump of 4 billion.
 * Near 2^32 a step to a small number with the uptime gone back is a restart.
 */
static void
test_sequence_wrap(void **state)
{
	sh_agents	agents;
	sh_addr		a = v4(10, 0, 0, 8);
	const uint32_t feed[][2] = {
		{UINT32_MAX - 1, 5000}, {UINT32_MAX, 6000}, {1, 8000}, {0, 7000}, {UINT32_MAX - 2, 4000}, {2, 9000}
	};

	(void) state;
	memset(&agents, 0, sizeof(agents));
	for (size_t i = 0; i < sizeof(feed) / sizeof(feed[0]); i++)
		assert_int_equal(sh_agents_see_uptime(&agents, &a, 0, 5, feed[i][0], feed[i][1], 0), 0);
	assert_int_equal(agents.v[0].resets, 0);
	assert_int_equal(agents.v[0].lost, 0);
	assert_int_equal(agents.v[0].last_seq, 2);
	sh_agents_free(&agents);

	/* without uptimes, the same */
	memset(&agents, 0, sizeof(agents));
	for (size_t i = 0; i < sizeof(feed) / sizeof(feed[0]); i++)
		assert_int_equal(sh_agents_see(&agents, &a, 0, 5, feed[i][0], 0), 0);
	assert_int_equal(agents.v[0].resets, 0);
	assert_int_equal(agents.v[0].lost, 0);
	sh_agents_free(&agents);

	/* a wrap with a gap: 2^32-1, then 5 (0 to 4 lost) */
	memset(&agents, 0, sizeof(agents));
	assert_int_equal(sh_agents_see(&agents, &a, 0, 5, UINT32_MAX, 0), 0);
	assert_int_equal(sh_agents_see(&agents, &a, 0, 5, 5, 0), 0);
	assert_int_equal(agents.v[0].resets, 0);
	assert_int_equal(agents.v[0].lost, 5);
	sh_agents_free(&agents);

	/* near 2^32, back to 1 with the uptime back by a minute: a restart */
	memset(&agents, 0, sizeof(agents));
	assert_int_equal(sh_agents_see_uptime(&agents, &a, 0, 5, UINT32_MAX - 10, 70000, 0), 0);
	assert_int_equal(sh_agents_see_uptime(&agents, &a, 0, 5, 1, 1000, 0), 0);
	assert_int_equal(agents.v[0].resets, 1);
	assert_int_equal(agents.v[0].lost, 0);
	sh_agents_free(&agents);
}

/* a restart: back to 1 after a long run; then counting goes on from there */
static void
test_reset(void **state)
{
	uint32_t	seqs[300];
	size_t		n = 0;
	sh_agent	a;

	(void) state;
	for (uint32_t s = 1; s <= 200; s++)
		seqs[n++] = s;
	seqs[n++] = 1;
	seqs[n++] = 2;
	seqs[n++] = 4;
	a = run(seqs, n);
	assert_int_equal(a.resets, 1);
	assert_int_equal(a.lost, 1);
	assert_int_equal(a.first_seq, 1);
	assert_int_equal(a.last_seq, 4);
	assert_int_equal(a.datagrams, 203);
}

/* duplicates, and numbers below the first one seen: neither lost nor a reset */
static void
test_duplicates(void **state)
{
	const uint32_t dup[] = {7, 7, 8, 8, 6, 9};
	sh_agent	a;

	(void) state;
	a = run(dup, 6);
	assert_int_equal(a.lost, 0);
	assert_int_equal(a.resets, 0);
	assert_int_equal(a.datagrams, 6);
	assert_int_equal(a.last_seq, 9);
}

/* many agents: each found again, listed in the order first seen, bounded */
static void
test_many_agents(void **state)
{
	sh_agents	agents;
	sh_addr		a = v4(192, 0, 2, 1);
	sh_addr		b;
	uint32_t	n = SH_AGENTS_MAX + 1000;

	(void) state;
	memset(&agents, 0, sizeof(agents));
	memset(&b, 0, sizeof(b));
	b.family = 6;
	b.bytes[0] = 0x20;
	b.bytes[1] = 0x01;
	for (uint32_t i = 0; i < n; i++)
	{
		int			r = sh_agents_see(&agents, &a, i, 5, 1, 0);

		assert_int_equal(r, i < SH_AGENTS_MAX ? 0 : 1);
	}
	assert_int_equal(agents.n, SH_AGENTS_MAX);
	/* the known ones are still found, and counted */
	for (uint32_t i = 0; i < SH_AGENTS_MAX; i += 97)
		assert_int_equal(sh_agents_see(&agents, &a, i, 5, 3, 0), 0);
	assert_int_equal(agents.n, SH_AGENTS_MAX);
	for (uint32_t i = 0; i < SH_AGENTS_MAX; i++)
	{
		assert_int_equal(agents.v[i].sub_agent, i);
		assert_int_equal(agents.v[i].datagrams, i % 97 == 0 ? 2 : 1);
		assert_int_equal(agents.v[i].lost, i % 97 == 0 ? 1 : 0);
	}
	/* a new agent past the bound is not kept */
	assert_int_equal(sh_agents_see(&agents, &b, 0, 5, 1, 0), 1);
	assert_int_equal(agents.n, SH_AGENTS_MAX);
	sh_agents_free(&agents);

	/* the same sub-agent under IPv4 and IPv6 addresses: two agents */
	memset(&agents, 0, sizeof(agents));
	assert_int_equal(sh_agents_see(&agents, &a, 0, 5, 1, 0), 0);
	assert_int_equal(sh_agents_see(&agents, &b, 0, 5, 1, 1), 0);
	assert_int_equal(sh_agents_see(&agents, &a, 0, 5, 2, 0), 0);
	assert_int_equal(agents.n, 2);
	assert_int_equal(agents.v[0].addr.family, 4);
	assert_int_equal(agents.v[0].datagrams, 2);
	assert_int_equal(agents.v[1].addr.family, 6);
	assert_int_equal(agents.v[1].malformed, 1);
	sh_agents_free(&agents);
}

/*
 * An agent that restarts soon after starting steps back fewer than
 * SH_SEQ_WINDOW numbers: only its uptime going back says it restarted.
 * A late datagram has a slightly older uptime and is still late; an uptime
 * that wraps (49.7 days) while the sequence goes on is no restart.
 */
static void
test_uptime_restart(void **state)
{
	sh_agents	agents;
	sh_addr		a = v4(10, 0, 0, 9);
	/* seq, uptime (ms) */
	const uint32_t feed[][2] = {
		{1, 5000}, {2, 6000}, {4, 8000}, {3, 7000},	/* 3 is late: fills its gap */
		{5, 9000}, {6, 10000}, {7, 11000},
		{1, 400}, {2, 1400},	/* restarted: back by 6, uptime back by 10.6 s */
		{3, 2400}
	};

	(void) state;
	memset(&agents, 0, sizeof(agents));
	for (size_t i = 0; i < sizeof(feed) / sizeof(feed[0]); i++)
		assert_int_equal(sh_agents_see_uptime(&agents, &a, 0, 5, feed[i][0], feed[i][1], 0), 0);
	assert_int_equal(agents.v[0].resets, 1);
	assert_int_equal(agents.v[0].lost, 0);
	assert_int_equal(agents.v[0].last_seq, 3);
	assert_int_equal(agents.v[0].datagrams, 10);
	sh_agents_free(&agents);

	/* without uptimes (sh_agents_see), the same numbers are late datagrams and duplicates */
	memset(&agents, 0, sizeof(agents));
	for (size_t i = 0; i < sizeof(feed) / sizeof(feed[0]); i++)
		assert_int_equal(sh_agents_see(&agents, &a, 0, 5, feed[i][0], 0), 0);
	assert_int_equal(agents.v[0].resets, 0);
	sh_agents_free(&agents);

	/* the uptime wraps, the sequence goes on: no restart, nothing lost */
	memset(&agents, 0, sizeof(agents));
	assert_int_equal(sh_agents_see_uptime(&agents, &a, 0, 5, 100, UINT32_MAX - 500, 0), 0);
	assert_int_equal(sh_agents_see_uptime(&agents, &a, 0, 5, 101, 500, 0), 0);
	assert_int_equal(sh_agents_see_uptime(&agents, &a, 0, 5, 102, 1500, 0), 0);
	assert_int_equal(agents.v[0].resets, 0);
	assert_int_equal(agents.v[0].lost, 0);
	sh_agents_free(&agents);
}

/*
 * Flow samples and the effective sampling rate: steps of the sample pool over
 * steps of the sequence number, per source, counted by hand.
 */
static void
test_flow_sampling(void **state)
{
	sh_agent	a,
				b;

	(void) state;
	memset(&a, 0, sizeof(a));
	/* source 1 at 1 in 1000, its pool about to wrap */
	assert_int_equal(sh_agent_flow_sample(&a, 1, 1, 1000, UINT32_C(4294966796), 0), 0);	/* 2^32 - 500 */
	assert_int_equal(a.seq_steps, 0);
	/* +1 sample, +1000 packets across the wrap */
	assert_int_equal(sh_agent_flow_sample(&a, 1, 2, 1000, 500, 0), 0);
	/* another record of the same sample: nothing */
	assert_int_equal(sh_agent_flow_sample(&a, 1, 2, 1000, 500, 0), 0);
	/* +2 samples (one lost in transit), +2500 packets, 3 dropped */
	assert_int_equal(sh_agent_flow_sample(&a, 1, 4, 1000, 3000, 3), 0);
	/* the lost one arrives late: its step is in the sums already */
	assert_int_equal(sh_agent_flow_sample(&a, 1, 3, 1000, 2000, 1), 0);
	/* source 2 at 1 in 500, between them: +1 sample, +400 packets */
	assert_int_equal(sh_agent_flow_sample(&a, 2, 100, 500, 10000, 0), 0);
	assert_int_equal(sh_agent_flow_sample(&a, 2, 101, 500, 10400, 0), 0);
	/* source 1 again: +1, +1000, no new drop */
	assert_int_equal(sh_agent_flow_sample(&a, 1, 5, 1000, 4000, 3), 0);
	assert_int_equal(a.nsrc, 2);
	assert_int_equal(a.seq_steps, 5);
	assert_int_equal(a.pool_steps, 4900);		/* effective rate 980 */
	assert_int_equal(a.rate_steps, 4 * 1000 + 500);	/* configured 900 */
	assert_int_equal(a.drop_steps, 3);
	free(a.src);

	/* a restart (sequence back by more than the window) and a pool gone back add nothing */
	memset(&b, 0, sizeof(b));
	assert_int_equal(sh_agent_flow_sample(&b, 7, 1000, 256, 5000, 0), 0);
	assert_int_equal(sh_agent_flow_sample(&b, 7, 1, 256, 10, 0), 0);
	assert_int_equal(b.seq_steps, 0);
	assert_int_equal(sh_agent_flow_sample(&b, 7, 2, 256, 1010, 0), 0);
	assert_int_equal(sh_agent_flow_sample(&b, 7, 3, 256, 500, 0), 0);
	assert_int_equal(sh_agent_flow_sample(&b, 7, 4, 256, 1500, 0), 0);
	assert_int_equal(b.seq_steps, 2);
	assert_int_equal(b.pool_steps, 2000);
	free(b.src);

	/* samples at rate 0 (1 in 0) say nothing of the rates: no step, no source (a configured rate of 0 failed the load) */
	memset(&b, 0, sizeof(b));
	assert_int_equal(sh_agent_flow_sample(&b, 9, 1, 0, 0, 0), 0);
	assert_int_equal(sh_agent_flow_sample(&b, 9, 2, 0, 1000, 0), 0);
	assert_int_equal(sh_agent_flow_sample(&b, 9, 3, 0, 2000, 0), 0);
	assert_int_equal(b.nsrc, 0);
	assert_int_equal(b.seq_steps, 0);
	assert_int_equal(b.rate_steps, 0);
	free(b.src);

	/* sources past SH_SOURCES_MAX are not followed */
	memset(&b, 0, sizeof(b));
	for (uint32_t i = 0; i < SH_SOURCES_MAX + 10; i++)
		assert_int_equal(sh_agent_flow_sample(&b, i, 1, 256, 0, 0), 0);
	assert_int_equal(b.nsrc, SH_SOURCES_MAX);
	assert_int_equal(sh_agent_flow_sample(&b, SH_SOURCES_MAX + 1, 2, 256, 256, 0), 0);
	assert_int_equal(b.seq_steps, 0);
	free(b.src);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_and_gaps),
		cmocka_unit_test(test_uptime_restart),
		cmocka_unit_test(test_reordered),
		cmocka_unit_test(test_window_edge),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_sequence_wrap),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_many_agents),
		cmocka_unit_test(test_flow_sampling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
