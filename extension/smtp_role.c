/*
 * extension/smtp_role.c: the type spamhints.smtp_role (client, server,
 * both), its operators and opclasses, the role functions of a sample's two
 * addresses, and the SMTP port set argument they share with the census.
 *
 * A role is a set of two bits in one byte, passed by value; '|' is the
 * union of the sets, and the order (for btree) is client < server < both.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "spamhints.h"
#include "types_core.h"


PG_FUNCTION_INFO_V1(smtp_role_in);
PG_FUNCTION_INFO_V1(smtp_role_out);
PG_FUNCTION_INFO_V1(smtp_role_recv);
PG_FUNCTION_INFO_V1(smtp_role_send);
PG_FUNCTION_INFO_V1(smtp_role_eq);
PG_FUNCTION_INFO_V1(smtp_role_ne);
PG_FUNCTION_INFO_V1(smtp_role_lt);
PG_FUNCTION_INFO_V1(smtp_role_le);
PG_FUNCTION_INFO_V1(smtp_role_gt);
PG_FUNCTION_INFO_V1(smtp_role_ge);
PG_FUNCTION_INFO_V1(smtp_role_cmp);
PG_FUNCTION_INFO_V1(smtp_role_hash);
PG_FUNCTION_INFO_V1(smtp_role_hash_extended);
PG_FUNCTION_INFO_V1(smtp_role_or);
PG_FUNCTION_INFO_V1(smtp_role_src);
PG_FUNCTION_INFO_V1(smtp_role_dst);

Datum
smtp_role_in(PG_FUNCTION_ARGS)
{
	const char *str = PG_GETARG_CSTRING(0);
	int			role = sh_smtp_role_from_name(str);

	if (role != SMTP_ROLE_NONE)
		PG_RETURN_SMTP_ROLE(role);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", "smtp_role", str),
			 errhint("An SMTP role is client, server or both.")));
	PG_RETURN_VOID();			/* keep the compiler quiet */
}

/* a role read from disk or from a datum we did not make: never index with junk */
static inline uint8
checked_role(Datum d)
{
	uint8		role = DatumGetSmtpRole(d);

	if (!smtp_role_valid(role))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid smtp_role value %d", (int) role)));
	return role;
}

Datum
smtp_role_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(pstrdup(sh_smtp_role_name(checked_role(PG_GETARG_DATUM(0)))));
}

/* binary form: the one byte */
Datum
smtp_role_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			role;

	/* exactly one byte: pq_getmsgbyte() on none would be a protocol error (08P01) */
	if (buf->len - buf->cursor != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary smtp_role: %d bytes, expected 1", buf->len - buf->cursor)));
	role = pq_getmsgbyte(buf);
	if (!smtp_role_valid(role))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid smtp_role value %d in binary input", role)));
	PG_RETURN_SMTP_ROLE(role);
}

Datum
smtp_role_send(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, checked_role(PG_GETARG_DATUM(0)));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

#define ROLE_CMP_FN(name, op) \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	PG_RETURN_BOOL(PG_GETARG_SMTP_ROLE(0) op PG_GETARG_SMTP_ROLE(1)); \
}

ROLE_CMP_FN(smtp_role_eq, ==)
ROLE_CMP_FN(smtp_role_ne, !=)
ROLE_CMP_FN(smtp_role_lt, <)
ROLE_CMP_FN(smtp_role_le, <=)
ROLE_CMP_FN(smtp_role_gt, >)
ROLE_CMP_FN(smtp_role_ge, >=)

Datum
smtp_role_cmp(PG_FUNCTION_ARGS)
{
	uint8		a = PG_GETARG_SMTP_ROLE(0);
	uint8		b = PG_GETARG_SMTP_ROLE(1);

	PG_RETURN_INT32(a < b ? -1 : (a > b ? 1 : 0));
}

Datum
smtp_role_hash(PG_FUNCTION_ARGS)
{
	return hash_uint32((uint32) PG_GETARG_SMTP_ROLE(0));
}

Datum
smtp_role_hash_extended(PG_FUNCTION_ARGS)
{
	return hash_uint32_extended((uint32) PG_GETARG_SMTP_ROLE(0), PG_GETARG_INT64(1));
}

/* role | role: the union; also the transition and combine function of role_or */
Datum
smtp_role_or(PG_FUNCTION_ARGS)
{
	PG_RETURN_SMTP_ROLE(PG_GETARG_SMTP_ROLE(0) | PG_GETARG_SMTP_ROLE(1));
}

/*
 * The port set argument: an int4[] of TCP ports, NULL elements ignored.
 * Built once per distinct array value and kept in fn_extra with a copy of
 * the array it came from.
 */
typedef struct PortSetCache
{
	SmtpPortSet set;
	Size		array_size;
	char		array[FLEXIBLE_ARRAY_MEMBER];	/* the flat array it was built from */
} PortSetCache;

const SmtpPortSet *
smtp_port_set_from_array(FunctionCallInfo fcinfo, int argno)
{
	ArrayType  *ports = PG_GETARG_ARRAYTYPE_P(argno);
	Size		size = VARSIZE(ports);
	PortSetCache *cache = (PortSetCache *) fcinfo->flinfo->fn_extra;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int			i;

	if (cache != NULL && cache->array_size == size &&
		memcmp(cache->array, ports, size) == 0)
		return &cache->set;

	if (ARR_ELEMTYPE(ports) != INT4OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("SMTP ports must be an integer[]")));
	if (ARR_NDIM(ports) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("SMTP ports must be a one-dimensional array")));

	if (cache != NULL)
		pfree(cache);
	cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
								   offsetof(PortSetCache, array) + size);
	deconstruct_array(ports, INT4OID, sizeof(int32), true, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	for (i = 0; i < nelems; i++)
	{
		int32		port;

		if (nulls[i])
			continue;
		port = DatumGetInt32(elems[i]);
		if (port < 0 || port > 65535)
		{
			pfree(cache);
			fcinfo->flinfo->fn_extra = NULL;
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("SMTP port %d is out of range", port),
					 errhint("A TCP port is between 0 and 65535.")));
		}
		cache->set.bits[port >> 6] |= UINT64CONST(1) << (port & 63);
	}
	cache->array_size = size;
	memcpy(cache->array, ports, size);
	fcinfo->flinfo->fn_extra = cache;
	return &cache->set;
}

/*
 * src_role(src_port, dst_port [, ports]) and dst_role(...): the role that a
 * sample gives its source (destination) address, NULL when neither port is
 * an SMTP port.
 */
static Datum
role_of_side(FunctionCallInfo fcinfo, bool destination)
{
	const SmtpPortSet *ports = NULL;
	uint8		role;

	if (PG_NARGS() > 2)
		ports = smtp_port_set_from_array(fcinfo, 2);
	role = smtp_src_role(ports, PG_GETARG_INT32(0), PG_GETARG_INT32(1));
	if (destination)
		role = smtp_role_swap(role);
	if (role == SMTP_ROLE_NONE)
		PG_RETURN_NULL();
	PG_RETURN_SMTP_ROLE(role);
}

Datum
smtp_role_src(PG_FUNCTION_ARGS)
{
	return role_of_side(fcinfo, false);
}

Datum
smtp_role_dst(PG_FUNCTION_ARGS)
{
	return role_of_side(fcinfo, true);
}
