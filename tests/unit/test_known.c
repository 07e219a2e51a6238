/*
 * tests/unit/test_known.c: the loader's set of known sFlow datagrams
 * (loader/capture/known.c): sequence number ranges against a plain bitmap
 * under random additions in any order; which datagrams are known (earlier
 * loads' ranges, repeats within the load, the 10 s boot slack, a reboot).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "known.h"

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

static void
known_repeat_and_slack(void **state)
{
	sh_known	k = {0};
	int64_t		boot = 1700000000000LL;

	(void) state;
	assert_int_equal(sh_known_take(&k, boot, 5), 0);
	assert_int_equal(sh_known_take(&k, boot, 6), 0);
	/* the same datagram again in the file, its boot estimate a few seconds off */
	assert_int_equal(sh_known_take(&k, boot + 3000, 5), 1);
	assert_int_equal(sh_known_take(&k, boot - 9999, 6), 1);
	/* more than 10 s from every estimate of the boot: another boot, the same number is new */
	assert_int_equal(sh_known_take(&k, boot + 3000 + SH_BOOT_SLACK_MS + 1, 5), 0);
	assert_int_equal(k.n, 2);
	/* this load's own estimates of the first boot: boot - 9999 matched but took nothing */
	assert_int_equal(k.boots[0].own_lo_ms, boot);
	assert_int_equal(k.boots[0].own_hi_ms, boot);
	sh_known_free(&k);
}

static void
known_from_earlier_loads(void **state)
{
	sh_known	k = {0};
	int64_t		boot = 1173000000000LL;

	(void) state;
	/* an earlier load took 10..20 and 30..40 of this boot */
	assert_int_equal(sh_known_add(&k, boot, boot + 200, 10, 20), 0);
	assert_int_equal(sh_known_add(&k, boot + 100, boot + 300, 30, 40), 0);
	assert_int_equal(k.n, 1);
	assert_int_equal(sh_known_take(&k, boot + 5000, 10), 1);
	assert_int_equal(sh_known_take(&k, boot + 5000, 40), 1);
	assert_int_equal(sh_known_take(&k, boot + 5000, 25), 0);
	assert_int_equal(sh_known_take(&k, boot + 5000, 41), 0);
	/* what this load took is apart from what it found: only 25 and 41 are its own */
	assert_int_equal(k.boots[0].taken.n, 2);
	assert_int_equal(k.boots[0].known.n, 2);
	/* an agent reboot a day later: numbers from 1 again, all new */
	for (int64_t seq = 1; seq <= 50; seq++)
		assert_int_equal(sh_known_take(&k, boot + 86400000, seq), 0);
	assert_int_equal(k.n, 2);
	assert_int_equal(k.boots[1].taken.n, 1);
	assert_int_equal(k.boots[1].taken.v[0].hi, 50);
	sh_known_free(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seqset_random),
		cmocka_unit_test(seqset_in_order_is_one_range),
		cmocka_unit_test(known_repeat_and_slack),
		cmocka_unit_test(known_from_earlier_loads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
