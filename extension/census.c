/*
 * extension/census.c: the SMTP census of addresses.
 *
 * Which addresses were SMTP clients only, servers only, or both: the OR of
 * the roles that each address took over many samples, counted.  Two forms:
 *
 *   smtp_census(ip, role) / smtp_census(src_ip, dst_ip, src_port, dst_port
 *   [, ports]) -> census_counts: an aggregate whose internal state is an
 *   open-addressing hash table keyed by the address bytes, with combine,
 *   serialize and deserialize functions, so it runs in parallel workers;
 *
 *   the type spamhints.census, the same address -> role set as a value to
 *   store and merge later (as postgresql-hll does with hll_add_agg and
 *   hll_union_agg): census_agg(...) builds one, census_union(census) and
 *   '|' merge them, counts(census) counts them.
 *
 * The census value, the binary (send/recv) form and the serialized
 * aggregate state share one layout, all in network byte order:
 *
 *   uint8   version (1)
 *   uint32  n[6]     address counts of six lists: IPv4 client only, server
 *                    only, both; then IPv6 client only, server only, both
 *   bytes            the six lists: 4 bytes an IPv4 address, 16 an IPv6 one
 *
 * A census value is canonical: each address in exactly one list, each list
 * sorted by address bytes, so equal sets are equal bytes.  A serialized
 * aggregate state need not be sorted.  Every reader checks that the length
 * is exactly what the counts say; addresses are compared by family and
 * address bits only (the netmask of an inet is ignored: samples hold host
 * addresses).
 */
#include "postgres.h"

#include <ctype.h>
#include <sys/socket.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/expandeddatum.h"
#include "utils/inet.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "spamhints.h"

#define CENSUS_VERSION		1
#define CENSUS_HEADER_SIZE	(1 + 6 * 4)
#define CENSUS_V4			0
#define CENSUS_V6			1

/* at most this many addresses of a family: a census value is below 1 GB */
#define CENSUS_MAX_ADDRESSES	(MaxAllocSize / 4)

/* ------------------------------------------------------------------------
 * The hash table: linear probing, grown (doubled) when three quarters full
 * (small enough to stay in cache longer), power-of-two sized,
 * Fibonacci hashing of the address.  IPv4 slots are one uint64 holding
 * (address << 2 | role), 0 when empty; IPv6 slots hold the address as two
 * uint64 and the role in a byte, role 0 when empty.
 * ------------------------------------------------------------------------
 */
typedef struct CensusV6Slot
{
	uint64		hi;
	uint64		lo;
	uint8		role;
} CensusV6Slot;

typedef struct CensusTable
{
	MemoryContext mcxt;			/* where the slot arrays live */
	uint64	   *v4;
	uint64		v4_size;		/* slots, a power of two (0: none yet) */
	uint64		v4_count;		/* addresses */
	int			v4_shift;		/* 64 - log2(v4_size) */
	CensusV6Slot *v6;
	uint64		v6_size;
	uint64		v6_count;
	int			v6_shift;
} CensusTable;

#define FIB_MULT	UINT64CONST(0x9E3779B97F4A7C15)

static inline uint64
hash_v4(uint32 addr, int shift)
{
	return ((uint64) addr * FIB_MULT) >> shift;
}

static inline uint64
hash_v6(uint64 hi, uint64 lo, int shift)
{
	uint64		h = (hi * FIB_MULT) ^ lo;

	h ^= h >> 29;
	return (h * FIB_MULT) >> shift;
}

static void *
census_alloc_slots(MemoryContext mcxt, uint64 nslots, Size slot_size)
{
	return MemoryContextAllocExtended(mcxt, (Size) (nslots * slot_size),
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

static void
census_too_many(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("census has too many addresses"),
			 errdetail("A census holds at most %d addresses of each family.",
					   (int) CENSUS_MAX_ADDRESSES)));
}

static CensusTable *
census_table_create(MemoryContext mcxt)
{
	CensusTable *t = MemoryContextAllocZero(mcxt, sizeof(CensusTable));

	t->mcxt = mcxt;
	return t;
}

#define CENSUS_FULL(count, size)	((uint64) (count) * 4 >= (uint64) (size) * 3)

/* size for n addresses: half full */
static int
census_log2_size(uint64 n)
{
	int			bits = 8;

	while (((uint64) 1 << bits) < n * 2)
		bits++;
	return bits;
}

static void census_add_v4(CensusTable *t, uint32 addr, uint8 role);
static void census_add_v6(CensusTable *t, uint64 hi, uint64 lo, uint8 role);

static void
census_grow_v4(CensusTable *t, uint64 want)
{
	uint64	   *old = t->v4;
	uint64		old_size = t->v4_size;
	int			bits = census_log2_size(want);
	uint64		i;

	if (want > CENSUS_MAX_ADDRESSES)
		census_too_many();
	t->v4_size = (uint64) 1 << bits;
	t->v4_shift = 64 - bits;
	t->v4 = census_alloc_slots(t->mcxt, t->v4_size, sizeof(uint64));
	t->v4_count = 0;
	for (i = 0; i < old_size; i++)
		if (old[i] != 0)
			census_add_v4(t, (uint32) (old[i] >> 2), (uint8) (old[i] & 3));
	if (old)
		pfree(old);
}

static void
census_grow_v6(CensusTable *t, uint64 want)
{
	CensusV6Slot *old = t->v6;
	uint64		old_size = t->v6_size;
	int			bits = census_log2_size(want);
	uint64		i;

	if (want > CENSUS_MAX_ADDRESSES)
		census_too_many();
	t->v6_size = (uint64) 1 << bits;
	t->v6_shift = 64 - bits;
	t->v6 = census_alloc_slots(t->mcxt, t->v6_size, sizeof(CensusV6Slot));
	t->v6_count = 0;
	for (i = 0; i < old_size; i++)
		if (old[i].role != 0)
			census_add_v6(t, old[i].hi, old[i].lo, old[i].role);
	if (old)
		pfree(old);
}

static inline void
census_add_v4(CensusTable *t, uint32 addr, uint8 role)
{
	uint64		key = (uint64) addr << 2;
	uint64		mask;
	uint64		i;

	if (unlikely(CENSUS_FULL(t->v4_count, t->v4_size)))
		census_grow_v4(t, t->v4_count + 1);
	mask = t->v4_size - 1;
	for (i = hash_v4(addr, t->v4_shift);; i = (i + 1) & mask)
	{
		uint64		slot = t->v4[i];

		if (slot == 0)
		{
			t->v4[i] = key | role;
			t->v4_count++;
			return;
		}
		if ((slot & ~(uint64) 3) == key)
		{
			t->v4[i] = slot | role;
			return;
		}
	}
}

static inline void
census_add_v6(CensusTable *t, uint64 hi, uint64 lo, uint8 role)
{
	uint64		mask;
	uint64		i;

	if (unlikely(CENSUS_FULL(t->v6_count, t->v6_size)))
		census_grow_v6(t, t->v6_count + 1);
	mask = t->v6_size - 1;
	for (i = hash_v6(hi, lo, t->v6_shift);; i = (i + 1) & mask)
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

static inline uint32
read_be32(const unsigned char *p)
{
	uint32		v;

	memcpy(&v, p, 4);
	return pg_ntoh32(v);
}

static inline uint64
read_be64(const unsigned char *p)
{
	uint64		v;

	memcpy(&v, p, 8);
	return pg_ntoh64(v);
}

static inline void
write_be32(unsigned char *p, uint32 v)
{
	v = pg_hton32(v);
	memcpy(p, &v, 4);
}

static inline void
write_be64(unsigned char *p, uint64 v)
{
	v = pg_hton64(v);
	memcpy(p, &v, 8);
}

/* add an inet (family and address bits; the netmask is ignored) */
static inline void
census_add_inet(CensusTable *t, inet *ip, uint8 role)
{
	const unsigned char *a = ip_addr(ip);

	if (ip_family(ip) == PGSQL_AF_INET)
		census_add_v4(t, read_be32(a), role);
	else
		census_add_v6(t, read_be64(a), read_be64(a + 8), role);
}

/* add the addresses of one list: width 4 or 16 bytes */
static void
census_add_list(CensusTable *t, int family, const unsigned char *p, uint32 n, uint8 role)
{
	uint32		i;

	if (family == CENSUS_V4)
	{
		if (CENSUS_FULL(t->v4_count + n, t->v4_size))
			census_grow_v4(t, t->v4_count + n);
		for (i = 0; i < n; i++, p += 4)
			census_add_v4(t, read_be32(p), role);
	}
	else
	{
		if (CENSUS_FULL(t->v6_count + n, t->v6_size))
			census_grow_v6(t, t->v6_count + n);
		for (i = 0; i < n; i++, p += 16)
			census_add_v6(t, read_be64(p), read_be64(p + 8), role);
	}
}

/* counts by role: n[family][role - 1] */
static void
census_table_counts(const CensusTable *t, uint64 n[2][3])
{
	uint64		i;

	memset(n, 0, sizeof(uint64) * 6);
	for (i = 0; i < t->v4_size; i++)
		if (t->v4[i] != 0)
			n[CENSUS_V4][(t->v4[i] & 3) - 1]++;
	for (i = 0; i < t->v6_size; i++)
		if (t->v6[i].role != 0)
			n[CENSUS_V6][t->v6[i].role - 1]++;
}

/* ------------------------------------------------------------------------
 * The flat layout: parse (checking every length) and build.
 * ------------------------------------------------------------------------
 */
typedef struct CensusLists
{
	uint32		n[2][3];
	const unsigned char *list[2][3];
} CensusLists;

static inline int
family_width(int family)
{
	return family == CENSUS_V4 ? 4 : 16;
}

/*
 * Parse len bytes at data into lists; anything that does not add up is an
 * error with the given SQLSTATE (what: the kind of input, for the message).
 */
static void
census_parse(const unsigned char *data, Size len, CensusLists *lists,
			 int sqlstate, const char *what)
{
	uint64		need = CENSUS_HEADER_SIZE;
	const unsigned char *p;
	int			f,
				r;

	if (len < CENSUS_HEADER_SIZE)
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("invalid %s: the header is cut short at %zu bytes", what, len)));
	if (data[0] != CENSUS_VERSION)
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("invalid %s: unknown version %d", what, (int) data[0])));
	for (f = 0; f < 2; f++)
		for (r = 0; r < 3; r++)
		{
			uint32		n = read_be32(data + 1 + 4 * (3 * f + r));

			if (n > CENSUS_MAX_ADDRESSES)
				ereport(ERROR,
						(errcode(sqlstate),
						 errmsg("invalid %s: address count %u is out of range", what, n)));
			lists->n[f][r] = n;
			need += (uint64) n * family_width(f);
		}
	if (need != len)
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("invalid %s: length is %zu bytes, the counts say %llu",
						what, len, (unsigned long long) need)));
	p = data + CENSUS_HEADER_SIZE;
	for (f = 0; f < 2; f++)
		for (r = 0; r < 3; r++)
		{
			lists->list[f][r] = p;
			p += (Size) lists->n[f][r] * family_width(f);
		}
}

static CensusTable *
census_table_from_lists(const CensusLists *lists, MemoryContext mcxt)
{
	CensusTable *t = census_table_create(mcxt);
	int			f,
				r;

	for (f = 0; f < 2; f++)
		for (r = 0; r < 3; r++)
			census_add_list(t, f, lists->list[f][r], lists->n[f][r], (uint8) (r + 1));
	return t;
}

typedef struct V6Key
{
	uint64		hi;
	uint64		lo;
} V6Key;

static int
cmp_uint32(const void *a, const void *b)
{
	uint32		x = *(const uint32 *) a;
	uint32		y = *(const uint32 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

static int
cmp_v6key(const void *a, const void *b)
{
	const V6Key *x = a;
	const V6Key *y = b;

	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return 0;
}

static Size
census_flat_size(uint64 n[2][3])
{
	Size		size = VARHDRSZ + CENSUS_HEADER_SIZE;
	int			f,
				r;

	for (f = 0; f < 2; f++)
		for (r = 0; r < 3; r++)
			size += n[f][r] * family_width(f);
	if (!AllocSizeIsValid(size))
		census_too_many();
	return size;
}

static void
census_write_header(unsigned char *p, uint64 n[2][3])
{
	int			f,
				r;

	p[0] = CENSUS_VERSION;
	for (f = 0; f < 2; f++)
		for (r = 0; r < 3; r++)
			write_be32(p + 1 + 4 * (3 * f + r), (uint32) n[f][r]);
}

/*
 * Write the canonical census value of a table (its counts n, from
 * census_table_counts) into result, census_flat_size(n) bytes: sorted lists.
 */
static void
census_write_canonical(const CensusTable *t, uint64 n[2][3], bytea *result, Size size)
{
	uint64		at[2][3];
	uint32	   *v4[3];
	V6Key	   *v6[3];
	unsigned char *p;
	uint64		i;
	int			r;

	for (r = 0; r < 3; r++)
	{
		v4[r] = palloc_extended(Max(n[CENSUS_V4][r], 1) * sizeof(uint32), MCXT_ALLOC_HUGE);
		v6[r] = palloc_extended(Max(n[CENSUS_V6][r], 1) * sizeof(V6Key), MCXT_ALLOC_HUGE);
		at[CENSUS_V4][r] = at[CENSUS_V6][r] = 0;
	}
	for (i = 0; i < t->v4_size; i++)
	{
		uint64		slot = t->v4[i];

		if (slot != 0)
		{
			r = (int) (slot & 3) - 1;
			v4[r][at[CENSUS_V4][r]++] = (uint32) (slot >> 2);
		}
	}
	for (i = 0; i < t->v6_size; i++)
	{
		if (t->v6[i].role != 0)
		{
			r = t->v6[i].role - 1;
			v6[r][at[CENSUS_V6][r]].hi = t->v6[i].hi;
			v6[r][at[CENSUS_V6][r]].lo = t->v6[i].lo;
			at[CENSUS_V6][r]++;
		}
	}

	SET_VARSIZE(result, size);
	p = (unsigned char *) VARDATA(result);
	census_write_header(p, n);
	p += CENSUS_HEADER_SIZE;
	for (r = 0; r < 3; r++)
	{
		qsort(v4[r], n[CENSUS_V4][r], sizeof(uint32), cmp_uint32);
		for (i = 0; i < n[CENSUS_V4][r]; i++, p += 4)
			write_be32(p, v4[r][i]);
		pfree(v4[r]);
	}
	for (r = 0; r < 3; r++)
	{
		qsort(v6[r], n[CENSUS_V6][r], sizeof(V6Key), cmp_v6key);
		for (i = 0; i < n[CENSUS_V6][r]; i++, p += 16)
		{
			write_be64(p, v6[r][i].hi);
			write_be64(p + 8, v6[r][i].lo);
		}
		pfree(v6[r]);
	}
}

/* the canonical census value of a table */
static bytea *
census_from_table(const CensusTable *t)
{
	uint64		n[2][3];
	Size		size;
	bytea	   *result;

	census_table_counts(t, n);
	size = census_flat_size(n);
	result = palloc_extended(size, MCXT_ALLOC_HUGE);
	census_write_canonical(t, n, result, size);
	return result;
}

/* a census value from a datum: detoasted and its lists checked */
static bytea *
census_get(Datum d, CensusLists *lists)
{
	bytea	   *c = (bytea *) PG_DETOAST_DATUM(d);

	census_parse((const unsigned char *) VARDATA(c), VARSIZE(c) - VARHDRSZ, lists,
				 ERRCODE_DATA_CORRUPTED, "census value");
	return c;
}

#define PG_GETARG_CENSUS(n, lists)	census_get(PG_GETARG_DATUM(n), (lists))

/*
 * Walking one family of a census in address order: a merge of its three
 * sorted lists.  Equal heads (not canonical, but harmless) are ORed.
 */
typedef struct CensusCursor
{
	const unsigned char *p[3];
	uint32		left[3];
	int			width;
} CensusCursor;

static void
census_cursor_init(CensusCursor *c, const CensusLists *lists, int family)
{
	int			r;

	for (r = 0; r < 3; r++)
	{
		c->p[r] = lists->list[family][r];
		c->left[r] = lists->n[family][r];
	}
	c->width = family_width(family);
}

static bool
census_cursor_next(CensusCursor *c, const unsigned char **addr, uint8 *role)
{
	int			best = -1;
	int			r;

	for (r = 0; r < 3; r++)
		if (c->left[r] > 0 &&
			(best < 0 || memcmp(c->p[r], c->p[best], c->width) < 0))
			best = r;
	if (best < 0)
		return false;
	*addr = c->p[best];
	*role = 0;
	for (r = 0; r < 3; r++)
		if (c->left[r] > 0 && (r == best || memcmp(c->p[r], *addr, c->width) == 0))
		{
			*role |= (uint8) (r + 1);
			if (r != best)
			{
				c->p[r] += c->width;
				c->left[r]--;
			}
		}
	c->p[best] += c->width;
	c->left[best]--;
	return true;
}

/* ------------------------------------------------------------------------
 * The aggregates with internal state.
 * ------------------------------------------------------------------------
 */
PG_FUNCTION_INFO_V1(census_trans_role);
PG_FUNCTION_INFO_V1(census_trans_pair);
PG_FUNCTION_INFO_V1(census_combine);
PG_FUNCTION_INFO_V1(census_serialize);
PG_FUNCTION_INFO_V1(census_deserialize);
PG_FUNCTION_INFO_V1(census_final_counts);
PG_FUNCTION_INFO_V1(census_final_census);

static MemoryContext
census_agg_context(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s called in non-aggregate context", fname)));
	return aggcontext;
}

static inline CensusTable *
census_state(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext aggcontext = census_agg_context(fcinfo, fname);

	if (PG_ARGISNULL(0))
		return census_table_create(aggcontext);
	return (CensusTable *) PG_GETARG_POINTER(0);
}

/* smtp_census(ip inet, role smtp_role): rows with a NULL are skipped */
Datum
census_trans_role(PG_FUNCTION_ARGS)
{
	CensusTable *t = census_state(fcinfo, "census_trans_role");

	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
	{
		uint8		role = PG_GETARG_SMTP_ROLE(2);

		if (role < SMTP_ROLE_CLIENT || role > SMTP_ROLE_BOTH)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("invalid smtp_role value %d", (int) role)));
		census_add_inet(t, PG_GETARG_INET_PP(1), role);
	}
	PG_RETURN_POINTER(t);
}

/*
 * smtp_census(src_ip, dst_ip, src_port, dst_port [, ports]): both sides of
 * a sample at once.  A sample with a NULL port or port set, or with no SMTP
 * port, is skipped; a NULL address leaves out that side only, as in
 * spamhints.endpoint.
 */
Datum
census_trans_pair(PG_FUNCTION_ARGS)
{
	CensusTable *t = census_state(fcinfo, "census_trans_pair");
	const SmtpPortSet *ports = NULL;
	uint8		role;
	int			i;

	for (i = 3; i < PG_NARGS(); i++)
		if (PG_ARGISNULL(i))
			PG_RETURN_POINTER(t);
	if (PG_NARGS() > 5)
		ports = smtp_port_set_from_array(fcinfo, 5);
	role = smtp_src_role(ports, PG_GETARG_INT32(3), PG_GETARG_INT32(4));
	if (role != SMTP_ROLE_NONE)
	{
		if (!PG_ARGISNULL(1))
			census_add_inet(t, PG_GETARG_INET_PP(1), role);
		if (!PG_ARGISNULL(2))
			census_add_inet(t, PG_GETARG_INET_PP(2), smtp_role_swap(role));
	}
	PG_RETURN_POINTER(t);
}

/* copy of a table in another context, same size */
static CensusTable *
census_table_copy(const CensusTable *src, MemoryContext mcxt)
{
	CensusTable *t = census_table_create(mcxt);

	*t = *src;
	t->mcxt = mcxt;
	if (src->v4_size > 0)
	{
		t->v4 = census_alloc_slots(mcxt, src->v4_size, sizeof(uint64));
		memcpy(t->v4, src->v4, src->v4_size * sizeof(uint64));
	}
	if (src->v6_size > 0)
	{
		t->v6 = census_alloc_slots(mcxt, src->v6_size, sizeof(CensusV6Slot));
		memcpy(t->v6, src->v6, src->v6_size * sizeof(CensusV6Slot));
	}
	return t;
}

Datum
census_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = census_agg_context(fcinfo, "census_combine");
	CensusTable *a = PG_ARGISNULL(0) ? NULL : (CensusTable *) PG_GETARG_POINTER(0);
	CensusTable *b = PG_ARGISNULL(1) ? NULL : (CensusTable *) PG_GETARG_POINTER(1);
	uint64		i;

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		PG_RETURN_POINTER(census_table_copy(b, aggcontext));

	if (CENSUS_FULL(a->v4_count + b->v4_count, a->v4_size))
		census_grow_v4(a, a->v4_count + b->v4_count);
	for (i = 0; i < b->v4_size; i++)
		if (b->v4[i] != 0)
			census_add_v4(a, (uint32) (b->v4[i] >> 2), (uint8) (b->v4[i] & 3));
	if (b->v6_count > 0 && CENSUS_FULL(a->v6_count + b->v6_count, a->v6_size))
		census_grow_v6(a, a->v6_count + b->v6_count);
	for (i = 0; i < b->v6_size; i++)
		if (b->v6[i].role != 0)
			census_add_v6(a, b->v6[i].hi, b->v6[i].lo, b->v6[i].role);
	PG_RETURN_POINTER(a);
}

/* the state as the flat layout, unsorted, written with pq_send* */
Datum
census_serialize(PG_FUNCTION_ARGS)
{
	CensusTable *t;
	uint64		n[2][3];
	StringInfoData buf;
	uint64		i;
	int			f,
				r;

	census_agg_context(fcinfo, "census_serialize");
	t = (CensusTable *) PG_GETARG_POINTER(0);
	census_table_counts(t, n);
	pq_begintypsend(&buf);
	enlargeStringInfo(&buf, (int) (census_flat_size(n) - VARHDRSZ));
	pq_sendbyte(&buf, CENSUS_VERSION);
	for (f = 0; f < 2; f++)
		for (r = 0; r < 3; r++)
			pq_sendint32(&buf, (uint32) n[f][r]);
	for (r = 1; r <= 3; r++)
		for (i = 0; i < t->v4_size; i++)
			if (t->v4[i] != 0 && (int) (t->v4[i] & 3) == r)
				pq_sendint32(&buf, (uint32) (t->v4[i] >> 2));
	for (r = 1; r <= 3; r++)
		for (i = 0; i < t->v6_size; i++)
			if (t->v6[i].role == r)
			{
				pq_sendint64(&buf, t->v6[i].hi);
				pq_sendint64(&buf, t->v6[i].lo);
			}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
census_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *data;
	CensusLists lists;

	census_agg_context(fcinfo, "census_deserialize");
	data = PG_GETARG_BYTEA_PP(0);
	census_parse((const unsigned char *) VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data),
				 &lists, ERRCODE_DATA_CORRUPTED, "serialized census state");
	PG_RETURN_POINTER(census_table_from_lists(&lists, CurrentMemoryContext));
}

/* (ips, client_only, server_only, both) as the composite census_counts */
static Datum
census_counts_datum(FunctionCallInfo fcinfo, uint64 n[2][3])
{
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	int			r;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Int64GetDatum(0);
	for (r = 0; r < 3; r++)
	{
		int64		count = (int64) (n[CENSUS_V4][r] + n[CENSUS_V6][r]);

		values[r + 1] = Int64GetDatum(count);
		values[0] = Int64GetDatum(DatumGetInt64(values[0]) + count);
	}
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

Datum
census_final_counts(PG_FUNCTION_ARGS)
{
	uint64		n[2][3];

	census_agg_context(fcinfo, "census_final_counts");
	if (PG_ARGISNULL(0))
		memset(n, 0, sizeof(n));
	else
		census_table_counts((CensusTable *) PG_GETARG_POINTER(0), n);
	return census_counts_datum(fcinfo, n);
}

Datum
census_final_census(PG_FUNCTION_ARGS)
{
	CensusTable empty;

	census_agg_context(fcinfo, "census_final_census");
	if (PG_ARGISNULL(0))
	{
		memset(&empty, 0, sizeof(empty));
		PG_RETURN_BYTEA_P(census_from_table(&empty));
	}
	PG_RETURN_BYTEA_P(census_from_table((CensusTable *) PG_GETARG_POINTER(0)));
}

/* ------------------------------------------------------------------------
 * The type spamhints.census.
 * ------------------------------------------------------------------------
 */
PG_FUNCTION_INFO_V1(census_in);
PG_FUNCTION_INFO_V1(census_out);
PG_FUNCTION_INFO_V1(census_recv);
PG_FUNCTION_INFO_V1(census_send);
PG_FUNCTION_INFO_V1(census_counts);
PG_FUNCTION_INFO_V1(census_merge);
PG_FUNCTION_INFO_V1(census_eq);
PG_FUNCTION_INFO_V1(census_members);

static const char *const census_role_names[3] = {"client", "server", "both"};

static void
census_syntax_error(const char *str, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", "census", str),
			 errdetail("%s", why),
			 errhint("A census is written {address=role, ...} with the roles client, server and both, e.g. {192.0.2.1=client,2001:db8::25=server}.")));
}

/*
 * Text form: {address=role,...}, every address a host address; an address
 * given twice gets the OR of its roles.  Output lists IPv4 then IPv6, each
 * in address order.
 */
Datum
census_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	char	   *copy = pstrdup(str);
	char	   *p = copy;
	CensusTable *t = census_table_create(CurrentMemoryContext);

	while (isspace((unsigned char) *p))
		p++;
	if (*p != '{')
		census_syntax_error(str, "A census starts with \"{\".");
	p++;
	while (isspace((unsigned char) *p))
		p++;
	if (*p == '}')
		p++;
	else
	{
		for (;;)
		{
			char	   *addr = p;
			char	   *eq;
			char	   *role;
			char	   *end;
			char		save;
			inet	   *ip;
			int			r;

			while (isspace((unsigned char) *p))
				p++;
			addr = p;
			while (*p && *p != '=' && *p != ',' && *p != '}')
				p++;
			if (*p != '=')
				census_syntax_error(str, "Each address is followed by \"=\" and its role.");
			eq = p;
			while (eq > addr && isspace((unsigned char) eq[-1]))
				eq--;
			*eq = '\0';
			p++;
			while (isspace((unsigned char) *p))
				p++;
			role = p;
			while (isalpha((unsigned char) *p))
				p++;
			end = p;
			while (isspace((unsigned char) *p))
				p++;
			save = *p;
			*end = '\0';
			for (r = 0; r < 3; r++)
				if (pg_strcasecmp(role, census_role_names[r]) == 0)
					break;
			if (r == 3)
				census_syntax_error(str, "A role is client, server or both.");
			ip = DatumGetInetPP(DirectFunctionCall1(inet_in, CStringGetDatum(addr)));
			if (ip_bits(ip) != ip_maxbits(ip))
				census_syntax_error(str, "A census holds host addresses, without a netmask.");
			census_add_inet(t, ip, (uint8) (r + 1));
			if (save == ',')
			{
				p++;
				continue;
			}
			if (save == '}')
			{
				p++;
				break;
			}
			census_syntax_error(str, "Entries are separated by \",\" and the census ends with \"}\".");
		}
	}
	while (isspace((unsigned char) *p))
		p++;
	if (*p != '\0')
		census_syntax_error(str, "Junk after the closing \"}\".");
	PG_RETURN_BYTEA_P(census_from_table(t));
}

static void
append_address(StringInfo buf, int family, const unsigned char *addr)
{
	char		text[64];

	if (family == CENSUS_V4)
		appendStringInfo(buf, "%u.%u.%u.%u", addr[0], addr[1], addr[2], addr[3]);
	else
	{
		if (pg_inet_net_ntop(PGSQL_AF_INET6, addr, 128, text, sizeof(text)) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("could not format IPv6 address")));
		appendStringInfoString(buf, text);
	}
}

Datum
census_out(PG_FUNCTION_ARGS)
{
	CensusLists lists;
	StringInfoData buf;
	int			f;
	bool		first = true;

	PG_GETARG_CENSUS(0, &lists);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (f = 0; f < 2; f++)
	{
		CensusCursor c;
		const unsigned char *addr;
		uint8		role;

		census_cursor_init(&c, &lists, f);
		while (census_cursor_next(&c, &addr, &role))
		{
			if (!first)
				appendStringInfoChar(&buf, ',');
			first = false;
			append_address(&buf, f, addr);
			appendStringInfoChar(&buf, '=');
			appendStringInfoString(&buf, census_role_names[role - 1]);
		}
	}
	appendStringInfoChar(&buf, '}');
	PG_RETURN_CSTRING(buf.data);
}

/* binary form: the flat layout; any order and duplicates are accepted and made canonical */
Datum
census_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	CensusLists lists;
	const unsigned char *data = (const unsigned char *) buf->data + buf->cursor;
	Size		len = buf->len - buf->cursor;
	bytea	   *result;

	census_parse(data, len, &lists, ERRCODE_INVALID_BINARY_REPRESENTATION,
				 "binary census");
	result = census_from_table(census_table_from_lists(&lists, CurrentMemoryContext));
	buf->cursor = buf->len;
	PG_RETURN_BYTEA_P(result);
}

Datum
census_send(PG_FUNCTION_ARGS)
{
	CensusLists lists;
	bytea	   *c = PG_GETARG_CENSUS(0, &lists);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, VARDATA(c), VARSIZE(c) - VARHDRSZ);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
census_counts(PG_FUNCTION_ARGS)
{
	CensusLists lists;
	uint64		n[2][3];
	int			f,
				r;

	PG_GETARG_CENSUS(0, &lists);
	for (f = 0; f < 2; f++)
		for (r = 0; r < 3; r++)
			n[f][r] = lists.n[f][r];
	return census_counts_datum(fcinfo, n);
}

/* census = census: the same address -> role set (canonical values: same bytes) */
Datum
census_eq(PG_FUNCTION_ARGS)
{
	CensusLists la,
				lb;
	bytea	   *a = PG_GETARG_CENSUS(0, &la);
	bytea	   *b = PG_GETARG_CENSUS(1, &lb);

	PG_RETURN_BOOL(VARSIZE(a) == VARSIZE(b) &&
				   memcmp(VARDATA(a), VARDATA(b), VARSIZE(a) - VARHDRSZ) == 0);
}

/*
 * The state of census_union: an expanded object (a hash table) that each row
 * is added to in place, so that unioning many censuses costs the size of
 * the input, not rows x size of the result.  It is flattened to a canonical
 * census value whenever it leaves the aggregate (result, partial result
 * sent to the leader, window frame).
 */
typedef struct ExpandedCensus
{
	ExpandedObjectHeader hdr;
	CensusTable *table;
	uint64		n[2][3];		/* set by get_flat_size for flatten_into */
	Size		flat_size;
} ExpandedCensus;

static Size
census_eoh_get_flat_size(ExpandedObjectHeader *eohptr)
{
	ExpandedCensus *ec = (ExpandedCensus *) eohptr;

	census_table_counts(ec->table, ec->n);
	ec->flat_size = census_flat_size(ec->n);
	return ec->flat_size;
}

static void
census_eoh_flatten_into(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	ExpandedCensus *ec = (ExpandedCensus *) eohptr;

	if (allocated_size != ec->flat_size)
		elog(ERROR, "census flattened into %zu bytes, expected %zu", allocated_size, ec->flat_size);
	census_write_canonical(ec->table, ec->n, (bytea *) result, allocated_size);
}

static const ExpandedObjectMethods census_eoh_methods = {
	census_eoh_get_flat_size,
	census_eoh_flatten_into
};

/* a new expanded census holding lists, in a child context of parent */
static ExpandedCensus *
census_expand(const CensusLists *lists, MemoryContext parent)
{
	MemoryContext objcxt = AllocSetContextCreate(parent, "census_union state",
												 ALLOCSET_DEFAULT_SIZES);
	ExpandedCensus *ec = MemoryContextAllocZero(objcxt, sizeof(ExpandedCensus));

	EOH_init_header(&ec->hdr, &census_eoh_methods, objcxt);
	ec->table = census_table_from_lists(lists, objcxt);
	return ec;
}

/*
 * census | census: the union, each address with the OR of its roles.  A
 * merge of the sorted lists, O(size of both).  Also the transition and
 * combine function of census_union(census), where it adds the second
 * census to an expanded state in place.
 */
Datum
census_merge(PG_FUNCTION_ARGS)
{
	CensusLists la,
				lb;
	bytea	   *a;
	bytea	   *b;
	unsigned char *out[2][3];
	uint64		n[2][3];
	bytea	   *result;
	unsigned char *p;
	int			f,
				r;
	MemoryContext aggcontext;

	if (AggCheckCallContext(fcinfo, &aggcontext))
	{
		Datum		state = PG_GETARG_DATUM(0);
		ExpandedCensus *ec;

		if (VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(state)) &&
			DatumGetEOHP(state)->eoh_methods == &census_eoh_methods)
			ec = (ExpandedCensus *) DatumGetEOHP(state);
		else
		{
			census_get(state, &la);
			ec = census_expand(&la, aggcontext);
		}
		census_get(PG_GETARG_DATUM(1), &lb);
		for (f = 0; f < 2; f++)
			for (r = 0; r < 3; r++)
				census_add_list(ec->table, f, lb.list[f][r], lb.n[f][r], (uint8) (r + 1));
		PG_RETURN_DATUM(EOHPGetRWDatum(&ec->hdr));
	}

	a = PG_GETARG_CENSUS(0, &la);
	b = PG_GETARG_CENSUS(1, &lb);

	if (VARSIZE(b) == VARHDRSZ + CENSUS_HEADER_SIZE)
		PG_RETURN_BYTEA_P(a);
	if (VARSIZE(a) == VARHDRSZ + CENSUS_HEADER_SIZE)
		PG_RETURN_BYTEA_P(b);

	for (f = 0; f < 2; f++)
	{
		CensusCursor ca,
					cb;
		const unsigned char *xa = NULL,
				   *xb = NULL;
		uint8		ra = 0,
					rb = 0;
		bool		has_a,
					has_b;
		int			w = family_width(f);
		uint64		most = 0;

		for (r = 0; r < 3; r++)
			most += (uint64) la.n[f][r] + lb.n[f][r];
		for (r = 0; r < 3; r++)
		{
			out[f][r] = palloc_extended(Max(most, 1) * w, MCXT_ALLOC_HUGE);
			n[f][r] = 0;
		}
		census_cursor_init(&ca, &la, f);
		census_cursor_init(&cb, &lb, f);
		has_a = census_cursor_next(&ca, &xa, &ra);
		has_b = census_cursor_next(&cb, &xb, &rb);
		while (has_a || has_b)
		{
			int			cmp;
			const unsigned char *x;
			uint8		role;

			if (!has_b)
				cmp = -1;
			else if (!has_a)
				cmp = 1;
			else
				cmp = memcmp(xa, xb, w);
			x = cmp <= 0 ? xa : xb;
			role = (cmp <= 0 ? ra : 0) | (cmp >= 0 ? rb : 0);
			memcpy(out[f][role - 1] + n[f][role - 1] * w, x, w);
			n[f][role - 1]++;
			if (cmp <= 0)
				has_a = census_cursor_next(&ca, &xa, &ra);
			if (cmp >= 0)
				has_b = census_cursor_next(&cb, &xb, &rb);
		}
	}

	{
		Size		size = census_flat_size(n);

		result = palloc_extended(size, MCXT_ALLOC_HUGE);
		SET_VARSIZE(result, size);
	}
	p = (unsigned char *) VARDATA(result);
	census_write_header(p, n);
	p += CENSUS_HEADER_SIZE;
	for (f = 0; f < 2; f++)
		for (r = 0; r < 3; r++)
		{
			Size		bytes = n[f][r] * family_width(f);

			memcpy(p, out[f][r], bytes);
			p += bytes;
			pfree(out[f][r]);
		}
	PG_RETURN_BYTEA_P(result);
}

/* members(census): the addresses and their roles, as rows */
Datum
census_members(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CensusLists lists;
	int			f;

	InitMaterializedSRF(fcinfo, 0);
	PG_GETARG_CENSUS(0, &lists);
	for (f = 0; f < 2; f++)
	{
		CensusCursor c;
		const unsigned char *addr;
		uint8		role;

		census_cursor_init(&c, &lists, f);
		while (census_cursor_next(&c, &addr, &role))
		{
			inet	   *ip = palloc0(sizeof(inet));
			Datum		values[2];
			bool		nulls[2] = {false, false};

			ip->inet_data.family = f == CENSUS_V4 ? PGSQL_AF_INET : PGSQL_AF_INET6;
			ip->inet_data.bits = f == CENSUS_V4 ? 32 : 128;
			memcpy(ip->inet_data.ipaddr, addr, family_width(f));
			SET_INET_VARSIZE(ip);
			values[0] = InetPGetDatum(ip);
			values[1] = SmtpRoleGetDatum(role);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			pfree(ip);
		}
	}
	return (Datum) 0;
}
