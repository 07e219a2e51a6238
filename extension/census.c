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
 *
 * What needs no server (the address table, the layout, the merge, the text
 * syntax) is in census_core.c, which the fuzz targets build alone; this
 * file is its PostgreSQL side: fmgr functions, memory contexts, errors.
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
#include "utils/builtins.h"
#include "utils/expandeddatum.h"
#include "utils/inet.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "spamhints.h"

#include "census_core.h"

StaticAssertDecl(CENSUS_MAX_ADDRESSES == MaxAllocSize / 4,
				 "census_core.h's limit is the server's MaxAllocSize / 4");

/* ------------------------------------------------------------------------
 * What census_core.c asks of its host: memory from a context, and an error
 * when a census would grow too big.
 * ------------------------------------------------------------------------
 */
void *
census_alloc(void *cxt, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) cxt, size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

void
census_free(void *p)
{
	pfree(p);
}

void
census_too_many(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("census has too many addresses"),
			 errdetail("A census holds at most %d addresses of each family.",
					   (int) CENSUS_MAX_ADDRESSES)));
}

/* add an inet (family and address bits; the netmask is ignored) */
static inline void
census_add_inet(CensusTable *t, inet *ip, uint8 role)
{
	const unsigned char *a = ip_addr(ip);

	if (ip_family(ip) == PGSQL_AF_INET)
		census_add_v4(t, census_read_be32(a), role);
	else
		census_add_v6(t, census_read_be64(a), census_read_be64(a + 8), role);
}

/*
 * Parse len bytes at data into lists; anything that does not add up is an
 * error with the given SQLSTATE (what: the kind of input, for the message).
 */
static void
census_parse(const unsigned char *data, Size len, CensusLists *lists,
			 int sqlstate, const char *what)
{
	uint64_t	detail;

	switch (census_layout_parse(data, len, lists, &detail))
	{
		case CENSUS_LAYOUT_OK:
			return;
		case CENSUS_LAYOUT_CUT_SHORT:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("invalid %s: the header is cut short at %zu bytes", what, len)));
			break;
		case CENSUS_LAYOUT_BAD_VERSION:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("invalid %s: unknown version %d", what, (int) detail)));
			break;
		case CENSUS_LAYOUT_BAD_COUNT:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("invalid %s: address count %u is out of range", what, (uint32) detail)));
			break;
		case CENSUS_LAYOUT_BAD_LENGTH:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("invalid %s: length is %zu bytes, the counts say %llu",
							what, len, (unsigned long long) detail)));
			break;
	}
}

/* the size of a census value (varlena) with counts n, checked */
static Size
census_flat_size(uint64 n[2][3])
{
	uint64		size = VARHDRSZ + census_layout_size(n);

	if (!AllocSizeIsValid(size))
		census_too_many();
	return (Size) size;
}

/* the canonical census value of a table, with its counts n, into result of size bytes */
static void
census_write_value(const CensusTable *t, uint64 n[2][3], bytea *result, Size size)
{
	SET_VARSIZE(result, size);
	census_write_canonical(t, n, (unsigned char *) VARDATA(result));
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
	census_write_value(t, n, result, size);
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

Datum
census_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = census_agg_context(fcinfo, "census_combine");
	CensusTable *a = PG_ARGISNULL(0) ? NULL : (CensusTable *) PG_GETARG_POINTER(0);
	CensusTable *b = PG_ARGISNULL(1) ? NULL : (CensusTable *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		PG_RETURN_POINTER(census_table_copy(b, aggcontext));

	census_table_merge(a, b);
	PG_RETURN_POINTER(a);
}

/* the state as the flat layout, unsorted */
Datum
census_serialize(PG_FUNCTION_ARGS)
{
	CensusTable *t;
	uint64		n[2][3];
	Size		size;
	bytea	   *result;

	census_agg_context(fcinfo, "census_serialize");
	t = (CensusTable *) PG_GETARG_POINTER(0);
	census_table_counts(t, n);
	size = census_flat_size(n);
	result = palloc_extended(size, MCXT_ALLOC_HUGE);
	SET_VARSIZE(result, size);
	census_write_unsorted(t, n, (unsigned char *) VARDATA(result));
	PG_RETURN_BYTEA_P(result);
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
		empty.cxt = CurrentMemoryContext;
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
typedef struct CensusInState
{
	const char *str;
	CensusTable *table;
} CensusInState;

static void
census_in_entry(const char *address, uint8_t role, void *arg)
{
	CensusInState *st = arg;
	inet	   *ip = DatumGetInetPP(DirectFunctionCall1(inet_in, CStringGetDatum(address)));

	if (ip_bits(ip) != ip_maxbits(ip))
		census_syntax_error(st->str, "A census holds host addresses, without a netmask.");
	census_add_inet(st->table, ip, role);
}

Datum
census_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	CensusInState st;
	const char *why;

	st.str = str;
	st.table = census_table_create(CurrentMemoryContext);
	why = census_text_parse(pstrdup(str), census_in_entry, &st);
	if (why != NULL)
		census_syntax_error(str, why);
	PG_RETURN_BYTEA_P(census_from_table(st.table));
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
			appendStringInfoString(&buf, sh_smtp_role_name(role));
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
	census_write_value(ec->table, ec->n, (bytea *) result, allocated_size);
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
	uint64		n[2][3];
	bytea	   *result;
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

	result = (bytea *) census_merge_lists(&la, &lb, CurrentMemoryContext, VARHDRSZ, n);
	SET_VARSIZE(result, census_flat_size(n));
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
			memcpy(ip->inet_data.ipaddr, addr, census_family_width(f));
			SET_INET_VARSIZE(ip);
			values[0] = InetPGetDatum(ip);
			values[1] = SmtpRoleGetDatum(role);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			pfree(ip);
		}
	}
	return (Datum) 0;
}
