/*
 * extension/census_core.h: the census without the server.
 *
 * What census.c needs that does not depend on PostgreSQL: the address
 * table (an open-addressing hash table of address -> role set), the flat
 * layout shared by the census value, its binary form and the serialized
 * aggregate state (parsed with every length checked, and written in
 * canonical form), the walk of a census in address order, the merge of two
 * censuses, and the text form's syntax. Plain C: no postgres.h, so the fuzz
 * targets and the standalone tests build it alone (tests/fuzz/fuzz_census.c),
 * under the sanitizers, while the server runs the very same code.
 *
 * The host gives the memory: census_alloc (zeroed, may be larger than 1 GB,
 * never returns NULL), census_free, and census_too_many (a census would
 * pass CENSUS_MAX_ADDRESSES of a family: raise an error, never return).
 * census.c implements them with palloc and ereport; the tests with malloc.
 *
 * The flat layout, all in network byte order:
 *
 *   uint8   version (1)
 *   uint32  n[6]     address counts of six lists: IPv4 client only, server
 *                    only, both; then IPv6 client only, server only, both
 *   bytes            the six lists: 4 bytes an IPv4 address, 16 an IPv6 one
 *
 * A canonical census has each address in exactly one list and each list
 * sorted by address bytes, so equal sets are equal bytes.
 */
#ifndef SPAMHINTS_CENSUS_CORE_H
#define SPAMHINTS_CENSUS_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shared/smtp_roles.h"

#define CENSUS_VERSION		1
#define CENSUS_HEADER_SIZE	(1 + 6 * 4)
#define CENSUS_V4			0
#define CENSUS_V6			1

/* at most this many addresses of a family: a census value stays below 1 GB (MaxAllocSize) */
#define CENSUS_MAX_ADDRESSES	((size_t) 0x3fffffff / 4)

#if defined(__GNUC__) || defined(__clang__)
#define CENSUS_NORETURN __attribute__((noreturn))
#define CENSUS_UNLIKELY(x) __builtin_expect((x) != 0, 0)
#else
#define CENSUS_NORETURN
#define CENSUS_UNLIKELY(x) (x)
#endif

/* Provided by the host (see above). cxt is the host's memory context. */
extern void *census_alloc(void *cxt, size_t size);
extern void census_free(void *p);
extern CENSUS_NORETURN void census_too_many(void);

/* ------------------------------------------------------------------------
 * The address table: linear probing, grown (doubled) when three quarters
 * full, power-of-two sized, Fibonacci hashing of the address.  IPv4 slots
 * are one uint64 holding (address << 2 | role), 0 when empty; IPv6 slots
 * hold the address as two uint64 and the role in a byte, role 0 when empty.
 * ------------------------------------------------------------------------
 */
typedef struct CensusV6Slot
{
	uint64_t	hi;
	uint64_t	lo;
	uint8_t		role;
} CensusV6Slot;

typedef struct CensusTable
{
	void	   *cxt;			/* where the slot arrays live */
	uint64_t   *v4;
	uint64_t	v4_size;		/* slots, a power of two (0: none yet) */
	uint64_t	v4_count;		/* addresses */
	int			v4_shift;		/* 64 - log2(v4_size) */
	CensusV6Slot *v6;
	uint64_t	v6_size;
	uint64_t	v6_count;
	int			v6_shift;
} CensusTable;

#define CENSUS_FIB_MULT		UINT64_C(0x9E3779B97F4A7C15)
#define CENSUS_FULL(count, size)	((uint64_t) (count) * 4 >= (uint64_t) (size) * 3)

CensusTable *census_table_create(void *cxt);
CensusTable *census_table_copy(const CensusTable *src, void *cxt);
void		census_grow_v4(CensusTable *t, uint64_t want);
void		census_grow_v6(CensusTable *t, uint64_t want);

/*
 * The hash key: random per backend (census_set_hash_key, from _PG_init).
 * Addresses come from the traffic, and whoever sends it picks them (any
 * host picks the low 64 bits of its IPv6 address): with an unkeyed hash it
 * could make every address it uses fall into one slot and the census take
 * quadratic time. Slot positions never leave the backend (serialized
 * censuses are lists of addresses), so the key need not be shared.
 */
extern uint64_t census_hash_key[2];

void		census_set_hash_key(uint64_t k0, uint64_t k1);

/* a 64-bit mixer (MurmurHash3's finalizer): every input bit moves every output bit */
static inline uint64_t
census_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

static inline uint64_t
census_hash_v4(uint32_t addr, int shift)
{
	return ((((uint64_t) addr) ^ census_hash_key[0]) * CENSUS_FIB_MULT) >> shift;
}

static inline uint64_t
census_hash_v6(uint64_t hi, uint64_t lo, int shift)
{
	uint64_t	h = census_mix64(hi ^ census_hash_key[0]);

	h = census_mix64(h ^ lo ^ census_hash_key[1]);
	return h >> shift;
}

/* add an IPv4 address with role (1, 2 or 3): the hot path of the aggregates */
static inline void
census_add_v4(CensusTable *t, uint32_t addr, uint8_t role)
{
	uint64_t	key = (uint64_t) addr << 2;
	uint64_t	mask;
	uint64_t	i;

	if (CENSUS_UNLIKELY(CENSUS_FULL(t->v4_count, t->v4_size)))
		census_grow_v4(t, t->v4_count + 1);
	mask = t->v4_size - 1;
	for (i = census_hash_v4(addr, t->v4_shift);; i = (i + 1) & mask)
	{
		uint64_t	slot = t->v4[i];

		if (slot == 0)
		{
			t->v4[i] = key | role;
			t->v4_count++;
			return;
		}
		if ((slot & ~(uint64_t) 3) == key)
		{
			t->v4[i] = slot | role;
			return;
		}
	}
}

static inline void
census_add_v6(CensusTable *t, uint64_t hi, uint64_t lo, uint8_t role)
{
	uint64_t	mask;
	uint64_t	i;

	if (CENSUS_UNLIKELY(CENSUS_FULL(t->v6_count, t->v6_size)))
		census_grow_v6(t, t->v6_count + 1);
	mask = t->v6_size - 1;
	for (i = census_hash_v6(hi, lo, t->v6_shift);; i = (i + 1) & mask)
	{
		CensusV6Slot *slot = &t->v6[i];

		if (slot->role == 0)
		{
			slot->hi = hi;
			slot->lo = lo;
			slot->role = role;
			t->v6_count++;
			return;
		}
		if (slot->hi == hi && slot->lo == lo)
		{
			slot->role |= role;
			return;
		}
	}
}

/* big-endian reads and writes, alignment-free */
static inline uint32_t
census_read_be32(const unsigned char *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

static inline uint64_t
census_read_be64(const unsigned char *p)
{
	return ((uint64_t) census_read_be32(p) << 32) | census_read_be32(p + 4);
}

static inline void
census_write_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char) (v >> 24);
	p[1] = (unsigned char) (v >> 16);
	p[2] = (unsigned char) (v >> 8);
	p[3] = (unsigned char) v;
}

static inline void
census_write_be64(unsigned char *p, uint64_t v)
{
	census_write_be32(p, (uint32_t) (v >> 32));
	census_write_be32(p + 4, (uint32_t) v);
}

static inline int
census_family_width(int family)
{
	return family == CENSUS_V4 ? 4 : 16;
}

/* add the n addresses of one list (width 4 or 16 bytes each) with role */
void		census_add_list(CensusTable *t, int family, const unsigned char *p, uint32_t n,
							uint8_t role);

/* add every address of b to a (the combine step) */
void		census_table_merge(CensusTable *a, const CensusTable *b);

/* counts by role: n[family][role - 1] */
void		census_table_counts(const CensusTable *t, uint64_t n[2][3]);

/* ------------------------------------------------------------------------
 * The flat layout.
 * ------------------------------------------------------------------------
 */
typedef struct CensusLists
{
	uint32_t	n[2][3];
	const unsigned char *list[2][3];
} CensusLists;

typedef enum CensusLayoutStatus
{
	CENSUS_LAYOUT_OK = 0,
	CENSUS_LAYOUT_CUT_SHORT,	/* shorter than the header */
	CENSUS_LAYOUT_BAD_VERSION,	/* detail: the version byte */
	CENSUS_LAYOUT_BAD_COUNT,	/* detail: an address count over CENSUS_MAX_ADDRESSES */
	CENSUS_LAYOUT_BAD_LENGTH	/* detail: the length the counts say */
} CensusLayoutStatus;

/*
 * Parse len bytes at data into lists (pointers into data), checking every
 * length. On an error, *detail holds the value the message needs.
 */
CensusLayoutStatus census_layout_parse(const unsigned char *data, size_t len,
									   CensusLists *lists, uint64_t *detail);

/* bytes of the flat layout (header and lists) for counts n */
uint64_t	census_layout_size(const uint64_t n[2][3]);

void		census_write_header(unsigned char *p, const uint64_t n[2][3]);

/*
 * Write the canonical layout of a table, with its counts n (from
 * census_table_counts), into out: census_layout_size(n) bytes, sorted lists.
 */
void		census_write_canonical(const CensusTable *t, const uint64_t n[2][3], unsigned char *out);

/*
 * Write the layout of a table in slot order (not canonical: the serialized
 * aggregate state, which need not be sorted): census_layout_size(n) bytes.
 */
void		census_write_unsorted(const CensusTable *t, const uint64_t n[2][3], unsigned char *out);

/* a table holding every address of lists (any order, duplicates allowed) */
CensusTable *census_table_from_lists(const CensusLists *lists, void *cxt);

/*
 * Walking one family of a census in address order: a merge of its three
 * sorted lists.  Equal heads (not canonical, but harmless) are ORed.
 */
typedef struct CensusCursor
{
	const unsigned char *p[3];
	uint32_t	left[3];
	int			width;
} CensusCursor;

void		census_cursor_init(CensusCursor *c, const CensusLists *lists, int family);
bool		census_cursor_next(CensusCursor *c, const unsigned char **addr, uint8_t *role);

/*
 * The union of two censuses (their lists parsed), each address with the OR
 * of its roles: a merge of the sorted lists, linear in both sizes. Fills n
 * with the result's counts and returns its flat layout, census_layout_size(n)
 * bytes written at out_offset of a buffer of out_offset + that size
 * allocated with census_alloc (the caller puts its own header in front).
 */
unsigned char *census_merge_lists(const CensusLists *a, const CensusLists *b, void *cxt,
								  size_t out_offset, uint64_t n[2][3]);

/* ------------------------------------------------------------------------
 * The text form: {address=role,...}. The syntax is checked here; each
 * entry's address text (NUL-terminated, surrounding spaces removed) and
 * role (1 client, 2 server, 3 both) go to a callback, which parses the
 * address. str is modified. Returns NULL, or why the text is not a census.
 * ------------------------------------------------------------------------
 */
typedef void (*census_entry_fn) (const char *address, uint8_t role, void *arg);

const char *census_text_parse(char *str, census_entry_fn fn, void *arg);

#endif							/* SPAMHINTS_CENSUS_CORE_H */
