/*
 * tests/unit/test_census_core.c: the census without the server
 * (extension/census_core.c) under AddressSanitizer and UBSan: the text
 * syntax, the layout checks on the corrupt inputs of the regression tests
 * (tests/regress/sql/21_census.sql), the canonical form, the merge, and a
 * table grown to 120,000 addresses. Every input is a heap copy of exactly
 * its length.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "census_core.h"

/* the host's side of census_core.h */
void *
census_alloc(void *cxt, size_t size)
{
	void	   *p = calloc(1, size ? size : 1);

	(void) cxt;
	if (p == NULL)
		abort();
	return p;
}

void
census_free(void *p)
{
	free(p);
}

void
census_too_many(void)
{
	fail_msg("census_too_many");
	abort();
}

static void
table_free(CensusTable *t)
{
	free(t->v4);
	free(t->v6);
	free(t);
}

/* hex text -> heap bytes of exactly that length */
static unsigned char *
unhex(const char *hex, size_t *len)
{
	size_t		n = strlen(hex) / 2;
	unsigned char *b = malloc(n ? n : 1);

	for (size_t i = 0; i < n; i++)
	{
		unsigned int v;

		sscanf(hex + 2 * i, "%2x", &v);
		b[i] = (unsigned char) v;
	}
	*len = n;
	return b;
}

static CensusLayoutStatus
parse_hex(const char *hex, uint64_t *detail)
{
	size_t		len;
	unsigned char *b = unhex(hex, &len);
	CensusLists lists;
	CensusLayoutStatus st = census_layout_parse(b, len, &lists, detail);

	free(b);
	return st;
}

/* text -> table, via census_text_parse and inet_pton; NULL and *why on an error */
static void
add_address(const char *address, uint8_t role, void *arg)
{
	CensusTable *t = arg;
	unsigned char a[16];

	if (inet_pton(AF_INET, address, a) == 1)
		census_add_v4(t, census_read_be32(a), role);
	else
	{
		assert_int_equal(inet_pton(AF_INET6, address, a), 1);
		census_add_v6(t, census_read_be64(a), census_read_be64(a + 8), role);
	}
}

static CensusTable *
from_text(const char *text, const char **why)
{
	char	   *s = strdup(text);
	CensusTable *t = census_table_create(NULL);

	*why = census_text_parse(s, add_address, t);
	free(s);
	if (*why)
	{
		table_free(t);
		return NULL;
	}
	return t;
}

static unsigned char *
canonical(const CensusTable *t, size_t *len)
{
	uint64_t	n[2][3];
	unsigned char *out;

	census_table_counts(t, n);
	*len = (size_t) census_layout_size(n);
	out = census_alloc(NULL, *len);
	census_write_canonical(t, n, out);
	return out;
}

/* the census as text, as census_out writes it (inet_ntop for the addresses) */
static char *
to_text(const unsigned char *data, size_t len)
{
	CensusLists lists;
	uint64_t	detail;
	char	   *out = calloc(1, len * 8 + 64);
	size_t		at = 0;

	assert_int_equal(census_layout_parse(data, len, &lists, &detail), CENSUS_LAYOUT_OK);
	out[at++] = '{';
	for (int f = 0; f < 2; f++)
	{
		CensusCursor c;
		const unsigned char *addr;
		uint8_t		role;
		char		a[64];

		census_cursor_init(&c, &lists, f);
		while (census_cursor_next(&c, &addr, &role))
		{
			inet_ntop(f == CENSUS_V4 ? AF_INET : AF_INET6, addr, a, sizeof(a));
			at += (size_t) sprintf(out + at, "%s%s=%s", at > 1 ? "," : "", a, sh_smtp_role_name(role));
		}
	}
	out[at++] = '}';
	return out;
}

static char *
roundtrip(const char *text)
{
	const char *why;
	CensusTable *t = from_text(text, &why);
	size_t		len;
	unsigned char *c;
	char	   *s;

	assert_null(why);
	c = canonical(t, &len);
	s = to_text(c, len);
	free(c);
	table_free(t);
	return s;
}

static void
test_text(void **state)
{
	char	   *s;
	const char *why;

	(void) state;
	s = roundtrip(" { 10.0.0.2 = client , 10.0.0.1=server,2001:DB8::1=both, 10.0.0.2=SERVER } ");
	assert_string_equal(s, "{10.0.0.1=server,10.0.0.2=both,2001:db8::1=both}");
	free(s);
	s = roundtrip("{}");
	assert_string_equal(s, "{}");
	free(s);
	s = roundtrip("{ }");
	assert_string_equal(s, "{}");
	free(s);

	assert_null(from_text("10.0.0.1=client", &why));
	assert_string_equal(why, "A census starts with \"{\".");
	assert_null(from_text("{10.0.0.1}", &why));
	assert_string_equal(why, "Each address is followed by \"=\" and its role.");
	assert_null(from_text("{10.0.0.1=sender}", &why));
	assert_string_equal(why, "A role is client, server or both.");
	assert_null(from_text("{10.0.0.1=client", &why));
	assert_string_equal(why, "Entries are separated by \",\" and the census ends with \"}\".");
	assert_null(from_text("{10.0.0.1=client}x", &why));
	assert_string_equal(why, "Junk after the closing \"}\".");
	assert_null(from_text("{10.0.0.1=client,}", &why));
	assert_string_equal(why, "Each address is followed by \"=\" and its role.");
	assert_null(from_text("", &why));
	assert_string_equal(why, "A census starts with \"{\".");
}

static void
test_layout_errors(void **state)
{
	uint64_t	d;

	(void) state;
	assert_int_equal(parse_hex("", &d), CENSUS_LAYOUT_CUT_SHORT);
	assert_int_equal(parse_hex("01", &d), CENSUS_LAYOUT_CUT_SHORT);
	assert_int_equal(parse_hex("02000000000000000000000000000000000000000000000000", &d), CENSUS_LAYOUT_BAD_VERSION);
	assert_int_equal(d, 2);
	assert_int_equal(parse_hex("01000000020000000000000000000000000000000000000000c0000201", &d), CENSUS_LAYOUT_BAD_LENGTH);
	assert_int_equal(d, 33);
	assert_int_equal(parse_hex("01000000010000000000000000000000000000000000000000c0000201ff", &d), CENSUS_LAYOUT_BAD_LENGTH);
	assert_int_equal(d, 29);
	assert_int_equal(parse_hex("01ffffffff0000000000000000000000000000000000000000c0000201", &d), CENSUS_LAYOUT_BAD_COUNT);
	assert_int_equal(d, 0xffffffffu);
	assert_int_equal(parse_hex("01000000000000000000000000000000000000000100000000c0000201", &d), CENSUS_LAYOUT_BAD_LENGTH);
	assert_int_equal(d, 25 + 16);
	/* the largest counts that pass the count check still fail the length check, without overflow */
	assert_int_equal(parse_hex("010fffffff0fffffff0fffffff0fffffff0fffffff0fffffff", &d), CENSUS_LAYOUT_BAD_LENGTH);
}

static void
test_unsorted_made_canonical(void **state)
{
	size_t		len,
				clen;
	unsigned char *b = unhex("01000000020000000100000000000000000000000000000000c0000202c0000201c0000202", &len);
	CensusLists lists;
	uint64_t	d;
	CensusTable *t;
	unsigned char *c;
	char	   *s;

	(void) state;
	assert_int_equal(census_layout_parse(b, len, &lists, &d), CENSUS_LAYOUT_OK);
	t = census_table_from_lists(&lists, NULL);
	c = canonical(t, &clen);
	s = to_text(c, clen);
	assert_string_equal(s, "{192.0.2.1=client,192.0.2.2=both}");
	free(s);
	free(c);
	table_free(t);
	free(b);
}

static void
test_merge(void **state)
{
	const char *why;
	CensusTable *a = from_text("{10.0.0.1=client,::1=server}", &why);
	CensusTable *b = from_text("{10.0.0.1=server,10.0.0.2=client,::2=both}", &why);
	size_t		la,
				lb;
	unsigned char *ca = canonical(a, &la);
	unsigned char *cb = canonical(b, &lb);
	CensusLists lists_a,
				lists_b;
	uint64_t	d,
				n[2][3];
	unsigned char *m;
	char	   *s;

	(void) state;
	census_layout_parse(ca, la, &lists_a, &d);
	census_layout_parse(cb, lb, &lists_b, &d);
	m = census_merge_lists(&lists_a, &lists_b, NULL, 4, n);
	s = to_text(m + 4, (size_t) census_layout_size(n));
	assert_string_equal(s, "{10.0.0.1=both,10.0.0.2=client,::1=server,::2=both}");
	free(s);
	free(m);
	m = census_merge_lists(&lists_b, &lists_a, NULL, 0, n);
	s = to_text(m, (size_t) census_layout_size(n));
	assert_string_equal(s, "{10.0.0.1=both,10.0.0.2=client,::1=server,::2=both}");
	free(s);
	free(m);
	free(ca);
	free(cb);
	table_free(a);
	table_free(b);
}

/* a big table: growth, canonical order, serialize/deserialize, merge with itself */
static void
test_big(void **state)
{
	CensusTable *t = census_table_create(NULL);
	CensusTable *u,
			   *copy;
	uint64_t	n[2][3],
				total4 = 0,
				total6 = 0,
				d;
	unsigned char *c,
			   *c2,
			   *ser;
	size_t		len,
				len2;
	CensusLists lists;
	uint32_t	x = 12345;

	(void) state;
	for (int i = 0; i < 100000; i++)
	{
		x = x * 1103515245u + 12345u;
		census_add_v4(t, x >> 8, (uint8_t) (1 + x % 3));
	}
	for (int i = 0; i < 20000; i++)
	{
		x = x * 1103515245u + 12345u;
		census_add_v6(t, UINT64_C(0x20010db800000000) | (x >> 16), x, (uint8_t) (1 + x % 3));
	}
	census_table_counts(t, n);
	for (int r = 0; r < 3; r++)
	{
		total4 += n[CENSUS_V4][r];
		total6 += n[CENSUS_V6][r];
	}
	assert_int_equal(total4, t->v4_count);
	assert_int_equal(total6, t->v6_count);
	assert_true(total4 > 90000 && total6 > 15000);

	c = canonical(t, &len);
	assert_int_equal(census_layout_parse(c, len, &lists, &d), CENSUS_LAYOUT_OK);
	for (int f = 0; f < 2; f++)
		for (int r = 0; r < 3; r++)
		{
			int			w = census_family_width(f);

			for (uint32_t i = 1; i < lists.n[f][r]; i++)
				assert_true(memcmp(lists.list[f][r] + (size_t) (i - 1) * w, lists.list[f][r] + (size_t) i * w, w) < 0);
		}

	/* serialize (unsorted), deserialize, canonical again: the same bytes */
	ser = census_alloc(NULL, len);
	census_write_unsorted(t, n, ser);
	assert_int_equal(census_layout_parse(ser, len, &lists, &d), CENSUS_LAYOUT_OK);
	u = census_table_from_lists(&lists, NULL);
	c2 = canonical(u, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(c, c2, len);
	free(c2);

	/* combine with a copy of itself: unchanged */
	copy = census_table_copy(t, NULL);
	census_table_merge(copy, u);
	c2 = canonical(copy, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(c, c2, len);
	free(c2);

	table_free(copy);
	table_free(u);
	free(ser);
	free(c);
	table_free(t);
}

/* every prefix of a valid layout is refused, without a read past it */
static void
test_prefixes(void **state)
{
	size_t		len;
	unsigned char *b = unhex("0100000001000000000000000100000000000000000000000110000201c000020200000000000000000000000000000001", &len);

	(void) state;
	for (size_t l = 0; l < len; l++)
	{
		unsigned char *p = malloc(l ? l : 1);
		CensusLists lists;
		uint64_t	d;

		memcpy(p, b, l);
		assert_int_not_equal(census_layout_parse(p, l, &lists, &d), CENSUS_LAYOUT_OK);
		free(p);
	}
	free(b);
}

/*
 * Addresses an attacker picks: one /64 (hi fixed), the low 64 bits chosen by
 * inverting the old unkeyed hash, h = mix((hi * M) ^ lo), so that every one
 * of them falls into slot 0 of a table of 2^16. The keyed hash must spread
 * them like any addresses.
 */
static uint64_t
unkeyed_hash_v6(uint64_t hi, uint64_t lo, int shift)
{
	uint64_t	h = (hi * CENSUS_FIB_MULT) ^ lo;

	h ^= h >> 29;
	return (h * CENSUS_FIB_MULT) >> shift;
}

static uint64_t
chosen_lo(uint64_t hi, uint64_t j)
{
	uint64_t	inv = CENSUS_FIB_MULT;	/* M^-1 mod 2^64, by Newton's method */
	uint64_t	x;

	for (int k = 0; k < 6; k++)
		inv *= 2 - CENSUS_FIB_MULT * inv;
	x = j * inv;				/* x * M == j: top 16 bits 0, slot 0 */
	x ^= (x >> 29) ^ (x >> 58);	/* undo h ^= h >> 29 */
	return x ^ (hi * CENSUS_FIB_MULT);
}

static int
distinct_slots(uint64_t hi, int n, int shift, int keyed)
{
	static uint8_t seen[1 << 16];
	int			distinct = 0;

	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < n; i++)
	{
		uint64_t	lo = chosen_lo(hi, (uint64_t) i);
		uint64_t	slot = keyed ? census_hash_v6(hi, lo, shift) : unkeyed_hash_v6(hi, lo, shift);

		if (!seen[slot])
			distinct++;
		seen[slot] = 1;
	}
	return distinct;
}

static void
test_hash_resists_chosen_addresses(void **state)
{
	const int	shift = 64 - 16;
	uint64_t	hi = UINT64_C(0x20010db8deadbeef);

	(void) state;
	/* the attack works on the unkeyed hash: 2000 addresses, one slot */
	assert_int_equal(distinct_slots(hi, 2000, shift, 0), 1);
	/* not on the keyed one: the fixed key of standalone builds, and a key as _PG_init sets one */
	assert_true(distinct_slots(hi, 2000, shift, 1) > 1900);
	census_set_hash_key(UINT64_C(0x0123456789abcdef), UINT64_C(0xfedcba9876543210));
	assert_true(distinct_slots(hi, 2000, shift, 1) > 1900);

	/* and the census is the same whatever the key */
	{
		CensusTable *t = census_table_create(NULL);
		uint64_t	n[2][3];

		for (int i = 0; i < 2000; i++)
			census_add_v6(t, hi, chosen_lo(hi, (uint64_t) i), (uint8_t) (1 + (i % 3)));
		census_table_counts(t, n);
		assert_int_equal(n[CENSUS_V6][0] + n[CENSUS_V6][1] + n[CENSUS_V6][2], 2000);
		assert_int_equal(n[CENSUS_V6][2], 666);
		table_free(t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_layout_errors),
		cmocka_unit_test(test_unsorted_made_canonical),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_big),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_hash_resists_chosen_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
