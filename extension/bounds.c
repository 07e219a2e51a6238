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

#include <math.h>

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

/*
 * est_low(samples, est), est_high(samples, est): the bound of the real count
 * behind est, the sum of the sampling rates of samples sampled packets,
 * est / samples * midp(samples), rounded. Negative counts are an error
 * (22023), a bound beyond bigint too (22003); with no sample the lower bound
 * is 0 and there is no upper one (NULL).
 */
static Datum
est_bound(FunctionCallInfo fcinfo, bool upper)
{
	int64		samples = PG_GETARG_INT64(0);
	int64		est = PG_GETARG_INT64(1);
	double		mean_bound = midp_bound(samples, upper);	/* refuses samples < 0 */
	double		bound;

	if (est < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an estimated packet count cannot be negative: " INT64_FORMAT, est)));
	if (samples == 0)
	{
		if (upper)
			PG_RETURN_NULL();
		PG_RETURN_INT64(0);
	}
	bound = rint((double) est * mean_bound / (double) samples);
	/* 2^63 is exactly representable; every double below it fits in int64 */
	if (!(bound >= 0.0 && bound < 9223372036854775808.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the %s bound of " INT64_FORMAT " packets is out of range for bigint",
						upper ? "upper" : "lower", est)));
	PG_RETURN_INT64((int64) bound);
}

PG_FUNCTION_INFO_V1(spamhints_est_low);
PG_FUNCTION_INFO_V1(spamhints_est_high);

Datum
spamhints_est_low(PG_FUNCTION_ARGS)
{
	return est_bound(fcinfo, false);
}

Datum
spamhints_est_high(PG_FUNCTION_ARGS)
{
	return est_bound(fcinfo, true);
}
