/*
 * extension/bounds.c: the 95% bounds of sampled counts in SQL.
 *
 *   midp_low(n), midp_high(n)   mid-p 95% bounds of the mean of a Poisson
 *                               count n (bounds_core.c)
 *
 * In C rather than PL/pgSQL: a view computes them once per row, and the
 * bisection on the incomplete gamma function costs microseconds here.
 */
#include "postgres.h"

#include "fmgr.h"

#include "bounds_core.h"

PG_FUNCTION_INFO_V1(spamhints_midp_low);
PG_FUNCTION_INFO_V1(spamhints_midp_high);

static double
midp_bound(int64 n, bool upper)
{
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a count of sampled packets cannot be negative: " INT64_FORMAT, n)));
	return bounds_poisson(n, upper, true);
}

Datum
spamhints_midp_low(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(midp_bound(PG_GETARG_INT64(0), false));
}

Datum
spamhints_midp_high(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(midp_bound(PG_GETARG_INT64(0), true));
}
