/*
 * extension/role_hours.c: an address's SMTP roles by UTC hour of day, so
 * that a day's rollup (spamhints.address_day) answers for any whole hours
 * of that day and not only for the whole day.
 *
 * A role-hours value is a bigint: bit h (0 to 23) is set when a sample of
 * UTC hour h gave the address the client role, bit 24 + h when one gave it
 * the server role ("both" sets the two). role_hours(role, ts) aggregates
 * it (combined with a plain OR, so it is parallel and merges across loads
 * with |); hours_role(role_hours, hours) is the role the address had in a
 * set of hours (a 24-bit mask), NULL for none; day_hours(day, from, to) is
 * the mask of the hours of a UTC day that lie wholly in [from, to).
 *
 * Hours are UTC whatever the session's TimeZone: the rollups' days are UTC
 * days.
 */
#include "postgres.h"

#include "common/int.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/date.h"
#include "utils/timestamp.h"

#include "spamhints.h"

PG_FUNCTION_INFO_V1(role_hours_add);
PG_FUNCTION_INFO_V1(hours_role);
PG_FUNCTION_INFO_V1(day_hours);

#define ALL_HOURS	((int64) 0xffffff)
#define SERVER_SHIFT 24

/* the UTC hour of day (0 to 23) of a finite timestamp */
static int
utc_hour(TimestampTz ts)
{
	int64		of_day = ts % USECS_PER_DAY;

	if (of_day < 0)
		of_day += USECS_PER_DAY;
	return (int) (of_day / USECS_PER_HOUR);
}

/*
 * role_hours(role, ts)'s transition: state | the bits of role at ts's UTC
 * hour. STRICT: a NULL role or time leaves the state alone; an infinite
 * time has no hour and is skipped, as hourly(ts) skips it.
 */
Datum
role_hours_add(PG_FUNCTION_ARGS)
{
	int64		state = PG_GETARG_INT64(0);
	int			role = PG_GETARG_SMTP_ROLE(1);
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(2);
	int64		bit;

	if (TIMESTAMP_NOT_FINITE(ts))
		PG_RETURN_INT64(state);
	bit = (int64) 1 << utc_hour(ts);
	if (role & SH_ROLE_CLIENT)
		state |= bit;
	if (role & SH_ROLE_SERVER)
		state |= bit << SERVER_SHIFT;
	PG_RETURN_INT64(state);
}

/* hours_role(role_hours, hours): the role in those hours; NULL for none */
Datum
hours_role(PG_FUNCTION_ARGS)
{
	int64		rh = PG_GETARG_INT64(0);
	int64		hours = (int64) PG_GETARG_INT32(1) & ALL_HOURS;
	int			role = 0;

	if (rh & hours)
		role |= SH_ROLE_CLIENT;
	if ((rh >> SERVER_SHIFT) & hours)
		role |= SH_ROLE_SERVER;
	if (role == 0)
		PG_RETURN_NULL();
	PG_RETURN_SMTP_ROLE(role);
}

/*
 * day_hours(day, from, to): bit h set when hour h of the UTC day lies
 * wholly in [from, to); from and to may be infinite. A day outside the
 * range of timestamps is an error (it cannot hold a sample).
 */
Datum
day_hours(PG_FUNCTION_ARGS)
{
	DateADT		day = PG_GETARG_DATEADT(0);
	TimestampTz from = PG_GETARG_TIMESTAMPTZ(1);
	TimestampTz to = PG_GETARG_TIMESTAMPTZ(2);
	int64		start;
	int32		mask = 0;
	int			h;

	if (DATE_NOT_FINITE(day) || pg_mul_s64_overflow((int64) day, USECS_PER_DAY, &start) ||
		!IS_VALID_TIMESTAMP(start) || !IS_VALID_TIMESTAMP(start + USECS_PER_DAY - 1))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("day_hours: day is out of the range of timestamps")));
	for (h = 0; h < 24; h++)
	{
		int64		lo = start + h * USECS_PER_HOUR;

		if (lo >= from && lo + USECS_PER_HOUR <= to)
			mask |= (int32) 1 << h;
	}
	PG_RETURN_INT32(mask);
}
