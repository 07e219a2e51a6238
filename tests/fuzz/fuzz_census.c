/*
 * tests/fuzz/fuzz_census.c: libFuzzer target for the census type's input
 * and the census aggregates' deserializer, through extension/census_core.c,
 * the code the server runs for them (census_recv, census_deserialize,
 * census_in, census_merge, census_out's walk).
 *
 * The first byte chooses what the rest is:
 *   0  a binary census or serialized state: parsed with every length
 *      checked, loaded into the address table, written back in canonical
 *      form; checks that the canonical form parses, is sorted with each
 *      address once, is a fixed point, and that the unsorted (serialized)
 *      form of the same table gives it again;
 *   1  two binary censuses (the next byte says where the first ends): the
 *      merge of their canonical forms (the '|' operator) must equal the
 *      canonical form of one table holding both;
 *   2  census text, {address=role,...}: the syntax (census_text_parse), the
 *      addresses parsed with inet_pton (the server uses inet_in); the
 *      census printed back as text must read back the same;
 *   3  a census value as found on disk, possibly not canonical: walked in
 *      address order as census_out and members() do; must end.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "census_core.h"

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz_census: broken promise: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

/* the host's side of census_core.h: plain malloc */
void *
census_alloc(void *cxt, size_t size)
{
	void	   *p = calloc(1, size ? size : 1);

	(void) cxt;
	CHECK(p != NULL);
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
	/* a fuzz input is far below CENSUS_MAX_ADDRESSES: never reached */
	CHECK(!"census_too_many");
	abort();
}

static void
table_free(CensusTable *t)
{
	free(t->v4);
	free(t->v6);
	free(t);
}

/* the canonical layout of a table, malloc'ed; its size in *len */
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

/* a canonical layout: every list sorted, each address in one list only */
static void
check_canonical(const unsigned char *data, size_t len)
{
	CensusLists lists;
	uint64_t	detail;

	CHECK(census_layout_parse(data, len, &lists, &detail) == CENSUS_LAYOUT_OK);
	for (int f = 0; f < 2; f++)
	{
		CensusCursor c;
		const unsigned char *addr,
				   *prev = NULL;
		uint8_t		role;
		uint64_t	seen = 0,
					total = 0;
		int			w = census_family_width(f);

		for (int r = 0; r < 3; r++)
		{
			total += lists.n[f][r];
			for (uint32_t i = 1; i < lists.n[f][r]; i++)
				CHECK(memcmp(lists.list[f][r] + (size_t) (i - 1) * w, lists.list[f][r] + (size_t) i * w, w) < 0);
		}
		census_cursor_init(&c, &lists, f);
		while (census_cursor_next(&c, &addr, &role))
		{
			CHECK(role >= 1 && role <= 3);
			CHECK(prev == NULL || memcmp(prev, addr, w) < 0);
			prev = addr;
			seen++;
		}
		CHECK(seen == total);	/* no address in two lists */
	}
}

static CensusTable *
table_of(const unsigned char *data, size_t len)
{
	CensusLists lists;
	uint64_t	detail;

	if (census_layout_parse(data, len, &lists, &detail) != CENSUS_LAYOUT_OK)
		return NULL;
	return census_table_from_lists(&lists, NULL);
}

static void
binary(const unsigned char *data, size_t len)
{
	CensusTable *t = table_of(data, len);
	CensusTable *again;
	unsigned char *canon,
			   *canon2,
			   *unsorted;
	size_t		clen,
				clen2;
	uint64_t	n[2][3];

	if (t == NULL)
		return;
	canon = canonical(t, &clen);
	CHECK(clen <= len);			/* duplicates only ever shrink it */
	check_canonical(canon, clen);

	/* canonical is a fixed point */
	again = table_of(canon, clen);
	CHECK(again != NULL);
	canon2 = canonical(again, &clen2);
	CHECK(clen2 == clen && memcmp(canon, canon2, clen) == 0);
	free(canon2);
	table_free(again);

	/* serialize (unsorted) and deserialize: the same census */
	census_table_counts(t, n);
	unsorted = census_alloc(NULL, (size_t) census_layout_size(n));
	census_write_unsorted(t, n, unsorted);
	again = table_of(unsorted, (size_t) census_layout_size(n));
	CHECK(again != NULL);
	canon2 = canonical(again, &clen2);
	CHECK(clen2 == clen && memcmp(canon, canon2, clen) == 0);
	free(canon2);
	table_free(again);
	free(unsorted);

	/* combine: a table merged into a copy of itself is itself */
	again = census_table_copy(t, NULL);
	census_table_merge(again, t);
	canon2 = canonical(again, &clen2);
	CHECK(clen2 == clen && memcmp(canon, canon2, clen) == 0);
	free(canon2);
	table_free(again);

	free(canon);
	table_free(t);
}

static void
merge(const unsigned char *data, size_t len)
{
	size_t		split;
	CensusTable *ta,
			   *tb,
			   *both;
	unsigned char *ca,
			   *cb,
			   *merged,
			   *want;
	size_t		la,
				lb,
				lwant;
	CensusLists lists_a,
				lists_b;
	uint64_t	detail;
	uint64_t	n[2][3];

	if (len < 1)
		return;
	split = len > 1 ? (size_t) data[0] * (len - 1) / 255 : 0;
	ta = table_of(data + 1, split);
	tb = table_of(data + 1 + split, len - 1 - split);
	if (ta == NULL || tb == NULL)
	{
		if (ta)
			table_free(ta);
		if (tb)
			table_free(tb);
		return;
	}
	ca = canonical(ta, &la);
	cb = canonical(tb, &lb);
	CHECK(census_layout_parse(ca, la, &lists_a, &detail) == CENSUS_LAYOUT_OK);
	CHECK(census_layout_parse(cb, lb, &lists_b, &detail) == CENSUS_LAYOUT_OK);
	merged = census_merge_lists(&lists_a, &lists_b, NULL, 3, n);

	both = census_table_copy(ta, NULL);
	census_table_merge(both, tb);
	want = canonical(both, &lwant);
	CHECK(census_layout_size(n) == lwant && memcmp(merged + 3, want, lwant) == 0);
	check_canonical(merged + 3, lwant);

	free(merged);
	free(want);
	free(ca);
	free(cb);
	table_free(both);
	table_free(ta);
	table_free(tb);
}

typedef struct text_state
{
	CensusTable *table;
	int			bad_addresses;
} text_state;

static void
on_entry(const char *address, uint8_t role, void *arg)
{
	text_state *st = arg;
	unsigned char a[16];

	CHECK(role >= 1 && role <= 3);
	if (inet_pton(AF_INET, address, a) == 1)
		census_add_v4(st->table, census_read_be32(a), role);
	else if (inet_pton(AF_INET6, address, a) == 1)
		census_add_v6(st->table, census_read_be64(a), census_read_be64(a + 8), role);
	else
		st->bad_addresses++;	/* the server's inet_in raises an error here */
}

/* the census as text, from its canonical layout, as census_out writes it */
static char *
to_text(const unsigned char *data, size_t len)
{
	CensusLists lists;
	uint64_t	detail;
	size_t		cap = 2 + len * 16 + 64;
	char	   *out = census_alloc(NULL, cap);
	size_t		at = 0;

	CHECK(census_layout_parse(data, len, &lists, &detail) == CENSUS_LAYOUT_OK);
	out[at++] = '{';
	for (int f = 0; f < 2; f++)
	{
		CensusCursor c;
		const unsigned char *addr;
		uint8_t		role;
		char		text[64];

		census_cursor_init(&c, &lists, f);
		while (census_cursor_next(&c, &addr, &role))
		{
			CHECK(inet_ntop(f == CENSUS_V4 ? AF_INET : AF_INET6, addr, text, sizeof(text)) != NULL);
			at += (size_t) snprintf(out + at, cap - at, "%s%s=%s", at > 1 ? "," : "", text,
									sh_smtp_role_name(role));
			CHECK(at < cap);
		}
	}
	out[at++] = '}';
	out[at] = '\0';
	return out;
}

static void
text(const unsigned char *data, size_t len)
{
	char	   *str = census_alloc(NULL, len + 1);
	text_state st = {census_table_create(NULL), 0};
	const char *why;

	memcpy(str, data, len);
	str[len] = '\0';
	why = census_text_parse(str, on_entry, &st);
	if (why == NULL && st.bad_addresses == 0)
	{
		size_t		clen,
					clen2;
		unsigned char *canon = canonical(st.table, &clen);
		char	   *printed = to_text(canon, clen);
		text_state	st2 = {census_table_create(NULL), 0};
		unsigned char *canon2;

		check_canonical(canon, clen);
		CHECK(census_text_parse(printed, on_entry, &st2) == NULL && st2.bad_addresses == 0);
		canon2 = canonical(st2.table, &clen2);
		CHECK(clen2 == clen && memcmp(canon, canon2, clen) == 0);
		free(canon2);
		table_free(st2.table);
		free(printed);
		free(canon);
	}
	table_free(st.table);
	free(str);
}

static void
walk(const unsigned char *data, size_t len)
{
	CensusLists lists;
	uint64_t	detail;
	uint64_t	total = 0;

	if (census_layout_parse(data, len, &lists, &detail) != CENSUS_LAYOUT_OK)
		return;
	for (int f = 0; f < 2; f++)
	{
		CensusCursor c;
		const unsigned char *addr;
		uint8_t		role;
		uint64_t	steps = 0,
					in_family = 0;

		for (int r = 0; r < 3; r++)
			in_family += lists.n[f][r];
		census_cursor_init(&c, &lists, f);
		while (census_cursor_next(&c, &addr, &role))
		{
			CHECK(role >= 1 && role <= 3);
			CHECK(addr >= data && addr + census_family_width(f) <= data + len);
			CHECK(++steps <= in_family);
		}
		total += in_family;
	}
	CHECK(CENSUS_HEADER_SIZE + total * 4 <= len);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 4)
	{
		case 0:
			binary(data + 1, size - 1);
			break;
		case 1:
			merge(data + 1, size - 1);
			break;
		case 2:
			text(data + 1, size - 1);
			break;
		case 3:
			walk(data + 1, size - 1);
			break;
	}
	return 0;
}
