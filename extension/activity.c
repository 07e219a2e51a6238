/*
 * extension/activity.c: the bins of spamhints.activity(), checked before any
 * work.
 *
 * activity() returns one row per bin of its window, empty bins included, so
 * its size is the window over the bin, whatever the data: a century of
 * 1-second bins is three billion rows. activity_stride() refuses more than
 * ACTIVITY_MAX_BINS bins, and gives the bin as a span of time without days,
 * so that the bins generate_series() makes are those of date_bin(), which
 * counts a day as 24 hours, even across a daylight saving change of the
 * session's time zone.
 */
#include "postgres.h"

#include "common/int.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

/* the most bins activity() returns (stated in its COMMENT) */
#define ACTIVITY_MAX_BINS	1000000

PG_FUNCTION_INFO_V1(spamhints_activity_stride);

static char *
interval_text(Interval *bin)
{
	return DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(bin)));
}

/*
 * activity_stride(window_start, window_end, bin) -> bin as a time span
 * (no days, no months), or an error: 22023 for a bin that is not longer than
 * zero or has months, or an infinite window; 54000 for more than
 * ACTIVITY_MAX_BINS bins in [window_start, window_end).
 */
Datum
spamhints_activity_stride(PG_FUNCTION_ARGS)
{
	TimestampTz start = PG_GETARG_TIMESTAMPTZ(0);
	TimestampTz end = PG_GETARG_TIMESTAMPTZ(1);
	Interval   *bin = PG_GETARG_INTERVAL_P(2);
	Interval   *stride;
	int64		usecs;

	if (bin->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("activity() bin cannot contain months or years, not %s", interval_text(bin)),
				 errhint("Give it in days, e.g. '30 days'.")));
	if (pg_mul_s64_overflow((int64) bin->day, USECS_PER_DAY, &usecs) ||
		pg_add_s64_overflow(usecs, bin->time, &usecs))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("activity() bin out of range: %s", interval_text(bin))));
	if (usecs <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("activity() bin must be longer than zero, not %s", interval_text(bin))));
	if (TIMESTAMP_NOT_FINITE(start) || TIMESTAMP_NOT_FINITE(end))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("activity() window must be finite")));
	if (end > start)
	{
		/* both finite, so the span fits in 64 unsigned bits */
		uint64		span = (uint64) end - (uint64) start;
		uint64		bins = (span - 1) / (uint64) usecs + 1;

		if (bins > ACTIVITY_MAX_BINS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("activity() would return " UINT64_FORMAT " bins, more than %d",
							bins, ACTIVITY_MAX_BINS),
					 errhint("Use a longer bin or a shorter window.")));
	}

	stride = (Interval *) palloc0(sizeof(Interval));
	stride->time = usecs;
	PG_RETURN_INTERVAL_P(stride);
}
