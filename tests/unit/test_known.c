/*
 * tests/unit/test_known.c: the loader's set of known sFlow datagrams
 * (loader/capture/known.c): sequence number ranges against a plain bitmap
 * under random additions in any order, with the uptimes of their ends;
 * which datagrams are known (earlier loads' ranges, repeats within the load,
 * a restart, uptimes that must fit, a replay tied to its boot by an exact
 * range end); runs found from the numbers (a fast replay is one run, wraps
 * go on, random numbers are bounded).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "known.h"

/*
 * The digest the tests give a datagram: its numbers'; a replay is the same
 * datagram (the same digest), a datagram of other bytes is tested with
 * sh_known_take itself.
 */
static uint64_t
dg(int64_t seq, int64_t up)
{
	return up < 0 ? 0 : (uint64_t) seq * 2654435761u + (uint64_t) up + 1;
}

static int
take(sh_known *k, int64_t boot, uint32_t seq, uint32_t up)
{
	return sh_known_take(k, boot, seq, up, dg(seq, up));
}

static int
add(sh_known *k, int64_t boot_lo, int64_t boot_hi, int64_t seq_lo, int64_t seq_hi, int64_t up_lo, int64_t up_hi)
{
	return sh_known_add(k, boot_lo, boot_hi, seq_lo, seq_hi, up_lo, up_hi, dg(seq_lo, up_lo), dg(seq_hi, up_hi));
}

static int
seqset_add(sh_seqset *s, int64_t seq, int64_t up)
{
	return sh_seqset_add(s, seq, up, dg(seq, up));
}

/* The ranges are sorted, disjoint and not adjacent, and hold exactly the bitmap's numbers. */
static void
check_against(const sh_seqset *s, const uint8_t *bits, int64_t n)
{
	for (size_t i = 0; i < s->n; i++)
	{
		assert_true(s->v[i].lo <= s->v[i].hi);
		if (i > 0)
			assert_true(s->v[i - 1].hi + 1 < s->v[i].lo);
	}
	for (int64_t x = -2; x < n + 2; x++)
		assert_int_equal(sh_seqset_has(s, x), x >= 0 && x < n && bits[x]);
}

static void
seqset_random(void **state)
{
	enum
	{
		N = 600
	};
	uint8_t		bits[N];

	(void) state;
	srand(13);
	for (int round = 0; round < 50; round++)
	{
		sh_seqset	s = {0};

		memset(bits, 0, sizeof(bits));
		for (int op = 0; op < 80; op++)
		{
			int64_t		lo = rand() % N,
						len = rand() % 4 == 0 ? rand() % 40 : 0,
						hi = lo + len < N ? lo + len : N - 1;

			assert_int_equal(sh_seqset_add_range(&s, lo, hi), 0);
			for (int64_t x = lo; x <= hi; x++)
				bits[x] = 1;
			check_against(&s, bits, N);
		}
		sh_seqset_free(&s);
	}
}

static void
seqset_in_order_is_one_range(void **state)
{
	sh_seqset	s = {0};

	(void) state;
	for (int64_t x = 100; x < 10100; x++)
		assert_int_equal(sh_seqset_add_range(&s, x, x), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].lo, 100);
	assert_int_equal(s.v[0].hi, 10099);
	/* a gap, then the number that fills it: one range again */
	sh_seqset_add_range(&s, 10101, 10101);
	assert_int_equal(s.n, 2);
	sh_seqset_add_range(&s, 10100, 10100);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].hi, 10101);
	/* the highest 32-bit sequence number */
	sh_seqset_add_range(&s, 4294967295LL, 4294967295LL);
	assert_true(sh_seqset_has(&s, 4294967295LL));
	assert_false(sh_seqset_has(&s, 4294967294LL));
	sh_seqset_free(&s);
}

/* Ranges added one datagram at a time keep the uptimes of their end datagrams. */
static void
seqset_ends_keep_uptimes(void **state)
{
	enum
	{
		N = 400
	};
	uint8_t		bits[N];
	sh_seqset	s = {0};

	(void) state;
	srand(7);
	memset(bits, 0, sizeof(bits));
	for (int op = 0; op < 300; op++)
	{
		int64_t		x = rand() % N;

		assert_int_equal(seqset_add(&s, x, 1000 * x + 7), 0);
		bits[x] = 1;
		check_against(&s, bits, N);
		for (size_t i = 0; i < s.n; i++)
		{
			assert_int_equal(s.v[i].up_lo, 1000 * s.v[i].lo + 7);
			assert_int_equal(s.v[i].up_hi, 1000 * s.v[i].hi + 7);
		}
	}
	sh_seqset_free(&s);
}

static void
known_repeat_and_restart(void **state)
{
	sh_known	k = {0};
	int64_t		boot = 1700000000000LL;

	(void) state;
	assert_int_equal(take(&k, boot, 5, 5000000), 0);
	assert_int_equal(take(&k, boot, 6, 5001000), 0);
	/* the same datagrams again in the file, received at other times */
	assert_int_equal(take(&k, boot + 3000, 5, 5000000), 1);
	assert_int_equal(take(&k, boot - 999999, 6, 5001000), 1);
	assert_int_equal(k.nruns, 1);
	/* a restart: numbers and uptime from the start again, another boot: all new */
	assert_int_equal(take(&k, boot + 100000, 5, 500), 0);
	assert_int_equal(take(&k, boot + 100000, 6, 600), 0);
	assert_int_equal(k.nruns, 2);
	assert_int_equal(take(&k, boot + 100000, 6, 600), 1);
	/* the first run's boot estimates: every one of its datagrams' */
	assert_int_equal(k.runs[0].boot_lo, boot - 999999);
	assert_int_equal(k.runs[0].boot_hi, boot + 3000);
	sh_known_free(&k);
}

/* A replay that squeezes a day of datagrams into seconds: one run, not one per datagram. */
static void
known_fast_replay_one_run(void **state)
{
	sh_known	k = {0};
	int64_t		t = 1800000000000LL;

	(void) state;
	for (uint32_t seq = 1; seq <= 20000; seq++)
		assert_int_equal(take(&k, t + seq - 200000 * (int64_t) seq, seq, 200000u * seq), 0);
	assert_int_equal(k.nruns, 1);
	assert_int_equal(k.runs[0].taken.n, 1);
	/* the same replay again, later in the file: a second run, tied to the first by its first datagram */
	for (uint32_t seq = 1; seq <= 20000; seq++)
		assert_int_equal(take(&k, t + 30000 + seq - 200000 * (int64_t) seq, seq, 200000u * seq), 1);
	assert_int_equal(k.nruns, 2);
	assert_int_equal(k.runs[1].taken.n, 0);
	sh_known_free(&k);
}

/* Sequence numbers and uptimes that wrap go on counting in the same run. */
static void
known_wraps(void **state)
{
	sh_known	k = {0};
	int64_t		boot = 1700000000000LL;

	(void) state;
	for (uint32_t i = 0; i < 8; i++)
	{
		uint32_t	seq = 4294967292u + i,	/* 2^32 - 4 .. 3 */
					up = 4294960000u + 2000 * i;	/* past 2^32 - 1 too */

		assert_int_equal(take(&k, boot, seq, up), 0);
	}
	assert_int_equal(k.nruns, 1);
	assert_int_equal(k.runs[0].taken.n, 2);
	/* again: all known, the uptimes fit the ranges though they wrapped inside them */
	for (uint32_t i = 0; i < 8; i++)
		assert_int_equal(take(&k, boot + 500, 4294967292u + i, 4294960000u + 2000 * i), 1);
	sh_known_free(&k);
	assert_int_equal(add(&k, boot, boot, 100, 110, 4294960000u, 12000), 0);
	assert_int_equal(take(&k, boot, 105, 3000), 1);
	assert_int_equal(take(&k, boot, 106, 100000000), 0);
	sh_known_free(&k);
}

/* A sender of random numbers makes at most SH_RUNS_MAX runs; past them datagrams are refused. */
static void
known_random_is_bounded(void **state)
{
	sh_known	k = {0};
	int			refused = 0;

	(void) state;
	srand(3);
	for (int i = 0; i < 20000; i++)
	{
		uint32_t	seq = (uint32_t) rand() * 2654435761u,
					up = (uint32_t) rand() * 40503u;
		int			rc = take(&k, 1700000000000LL + 100000LL * i, seq, up);

		assert_true(rc >= 0 && rc <= 2);
	}
	assert_true(k.nruns <= SH_RUNS_MAX);
	sh_known_free(&k);
	/* each datagram behind the last in both numbers, boots 100 s apart: a run each, up to the bound */
	for (int i = 0; i < 200; i++)
	{
		int			rc = take(&k, 1700000000000LL + 100000LL * i, 4000000000u - 5000u * (uint32_t) i,
									   4000000000u - 20000u * (uint32_t) i);

		assert_int_equal(rc, i < SH_RUNS_MAX ? 0 : 2);
		refused += rc == 2;
	}
	assert_int_equal(k.nruns, SH_RUNS_MAX);
	assert_int_equal(refused, 200 - SH_RUNS_MAX);
	sh_known_free(&k);
}

static void
known_from_earlier_loads(void **state)
{
	sh_known	k = {0};
	int64_t		boot = 1173000000000LL;

	(void) state;
	/* an earlier load took 10..20 and 30..40 of this boot, a datagram a second */
	assert_int_equal(add(&k, boot, boot + 200, 10, 20, 10000, 20000), 0);
	assert_int_equal(add(&k, boot, boot + 200, 30, 40, 30000, 40000), 0);
	assert_int_equal(take(&k, boot + 5000, 10, 10000), 1);
	assert_int_equal(take(&k, boot + 5000, 25, 25000), 0);
	assert_int_equal(take(&k, boot + 5000, 40, 40000), 1);
	assert_int_equal(take(&k, boot + 5000, 41, 41000), 0);
	/* what this load took is apart from what it found: only 25 and 41 are its own */
	assert_int_equal(k.runs[0].taken.n, 2);
	/* an agent reboot a day later: numbers from 1 again, all new */
	for (uint32_t seq = 1; seq <= 50; seq++)
		assert_int_equal(take(&k, boot + 86400000, seq, 1000 * seq + 777), 0);
	assert_int_equal(k.nruns, 2);
	assert_int_equal(k.runs[1].taken.n, 1);
	assert_int_equal(k.runs[1].taken.v[0].hi, 50);
	sh_known_free(&k);
}

/* The same boot, the same sequence numbers, uptimes far apart: not the same datagrams (a wrap). */
static void
known_uptime_must_fit(void **state)
{
	sh_known	k = {0};
	int64_t		boot = 1173000000000LL;

	(void) state;
	assert_int_equal(add(&k, boot, boot, 1, 5, 1000, 5000), 0);
	assert_int_equal(take(&k, boot, 3, 3000), 1);
	sh_known_free(&k);
	assert_int_equal(add(&k, boot, boot, 1, 5, 1000, 5000), 0);
	assert_int_equal(take(&k, boot, 3, 1000000000u), 0);
	sh_known_free(&k);
	/* ranges of loads that kept no uptimes: any uptime fits */
	assert_int_equal(add(&k, boot, boot, 1, 5, SH_UP_NONE, SH_UP_NONE), 0);
	assert_int_equal(take(&k, boot, 3, 1000000000u), 1);
	sh_known_free(&k);
}

/* A replay: other capture times, other boot estimates; an exact range end ties the boots. */
static void
known_replay_ties_boots(void **state)
{
	sh_known	k = {0};
	int64_t		boot = 1173000000000LL,
				later = boot + 400LL * 86400000;

	(void) state;
	assert_int_equal(add(&k, boot, boot + 50, 100, 200, 100000, 200000), 0);
	assert_int_equal(add(&k, boot + 900000, boot + 900050, 201, 300, 201000, 300000), 0);
	/* inside a range, uptime fitting, but another boot and no exact end yet: new */
	assert_int_equal(take(&k, later, 150, 150500), 0);
	sh_known_free(&k);
	assert_int_equal(add(&k, boot, boot + 50, 100, 200, 100000, 200000), 0);
	assert_int_equal(add(&k, boot + 900000, boot + 900050, 201, 300, 201000, 300000), 0);
	/* the replay of 100..300: 100 is the first range's first datagram exactly */
	for (uint32_t seq = 100; seq <= 300; seq++)
		assert_int_equal(take(&k, later + seq, seq, 1000 * seq), 1);
	assert_int_equal(take(&k, later + 301, 301, 301000), 0);
	/* one millisecond off is not exact: a second run, another boot, stays apart */
	assert_int_equal(take(&k, later + 5000000, 100, 100001), 0);
	sh_known_free(&k);
}

/* The history is asked for by the hour of uptime: which hours a datagram needs, which rows came already. */
static void
known_hours_asked(void **state)
{
	sh_known	k = {0};

	(void) state;
	/* an uptime in the middle of an hour needs that hour */
	assert_int_equal(sh_known_lacks(&k, 5 * SH_UPTIME_BUCKET_MS + 1800000), 5);
	sh_known_asked(&k, 5, 5);
	assert_int_equal(sh_known_lacks(&k, 5 * SH_UPTIME_BUCKET_MS + 1800000), -1);
	/* within the slack of the next hour: that one too */
	assert_int_equal(sh_known_lacks(&k, 6 * SH_UPTIME_BUCKET_MS - 5000), 6);
	/* the first hour needs the last one (uptime wraps) */
	assert_int_equal(sh_known_lacks(&k, 2000), 0);
	sh_known_asked(&k, 0, 0);
	assert_int_equal(sh_known_lacks(&k, 2000), SH_UPTIME_BUCKETS - 1);
	/* a row spanning hours 4 to 5 came with hour 5; one of hours 7 to 8 did not; one without uptimes did */
	assert_true(sh_known_had(&k, 4 * SH_UPTIME_BUCKET_MS, 5 * SH_UPTIME_BUCKET_MS + 10));
	assert_false(sh_known_had(&k, 7 * SH_UPTIME_BUCKET_MS, 8 * SH_UPTIME_BUCKET_MS + 10));
	assert_true(sh_known_had(&k, SH_UP_NONE, SH_UP_NONE));
	/* every hour at once */
	sh_known_asked(&k, -1, -1);
	assert_int_equal(sh_known_lacks(&k, 4000000000u), -1);
	sh_known_free(&k);
}

/* The same numbers, other bytes (a restart's datagram, a test fixture): no tie, new. */
static void
known_other_bytes_do_not_tie(void **state)
{
	sh_known	k = {0};
	int64_t		boot = 1173000000000LL,
				later = boot + 400LL * 86400000;

	(void) state;
	assert_int_equal(sh_known_add(&k, boot, boot, 100, 200, 100000, 200000, 77, 78), 0);
	assert_int_equal(sh_known_take(&k, later, 100, 100000, 79), 0);
	assert_int_equal(sh_known_take(&k, later, 101, 101000, 80), 0);
	sh_known_free(&k);
	/* the bytes of the range's first datagram: tied, known */
	assert_int_equal(sh_known_add(&k, boot, boot, 100, 200, 100000, 200000, 77, 78), 0);
	assert_int_equal(sh_known_take(&k, later, 100, 100000, 77), 1);
	assert_int_equal(sh_known_take(&k, later, 101, 101000, 80), 1);
	sh_known_free(&k);
	/* the digest is the bytes': XXH3, never 0 */
	assert_true(sh_datagram_digest("abc", 3) != sh_datagram_digest("abd", 3));
	assert_true(sh_datagram_digest("", 0) != 0);
}

/*
 * Lower numbers with later uptimes (a sender out of order with itself):
 * each datagram still once. 410 at uptime U, 408 at U + 3 s, 409 at
 * U + 15.8 s: merged into one range 408..410, its end uptimes (U + 3 s, U)
 * no longer bounded 409's, which was then taken a second time (found by
 * fuzz_known). Every datagram taken is known when it comes again, and the
 * ranges still hold every number once.
 */
static void
known_uptimes_out_of_order(void **state)
{
	sh_known	k = {0};
	int64_t		t = 1500000000000LL;
	uint32_t	u = 2315290368u;

	(void) state;
	assert_int_equal(take(&k, t - u, 2128382410u, u), 0);
	assert_int_equal(take(&k, t - u, 2128382408u, u + 3075), 0);
	assert_int_equal(take(&k, t - u, 2128382409u, u + 15825), 0);
	assert_int_equal(take(&k, t - u, 2128382409u, u + 15825), 1);
	assert_int_equal(take(&k, t - u, 2128382408u, u + 3075), 1);
	assert_int_equal(take(&k, t - u, 2128382410u, u), 1);
	sh_known_free(&k);
	/* in order, uptimes equal or rising: one run, one range */
	for (uint32_t i = 0; i < 100; i++)
		assert_int_equal(take(&k, t, 1000 + (i ^ 1), 5000 + (i ^ 1) / 4 * 10), 0);
	assert_int_equal(k.nruns, 1);
	assert_int_equal(k.runs[0].taken.n, 1);
	for (uint32_t i = 0; i < 100; i++)
		assert_int_equal(take(&k, t, 1000 + i, 5000 + i / 4 * 10), 1);
	sh_known_free(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seqset_random),
		cmocka_unit_test(seqset_in_order_is_one_range),
		cmocka_unit_test(seqset_ends_keep_uptimes),
		cmocka_unit_test(known_repeat_and_restart),
		cmocka_unit_test(known_fast_replay_one_run),
		cmocka_unit_test(known_wraps),
		cmocka_unit_test(known_random_is_bounded),
		cmocka_unit_test(known_from_earlier_loads),
		cmocka_unit_test(known_uptime_must_fit),
		cmocka_unit_test(known_replay_ties_boots),
		cmocka_unit_test(known_hours_asked),
		cmocka_unit_test(known_other_bytes_do_not_tie),
		cmocka_unit_test(known_uptimes_out_of_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
