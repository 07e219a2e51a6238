/*
 * extension/inputs.c: checks of the arguments of SQL functions, for the
 * functions in SQL that cannot raise an error themselves.
 *
 *   window_check(fn, window_start, window_end)   true, or an error: 22004
 *                                                for a NULL bound, 22023 for
 *                                                a window that ends before it
 *                                                starts
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(spamhints_window_check);

static char *
timestamptz_text(TimestampTz t)
{
	return DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(t)));
}

Datum
spamhints_window_check(PG_FUNCTION_ARGS)
{
	char	   *fn = PG_ARGISNULL(0) ? "window" : text_to_cstring(PG_GETARG_TEXT_PP(0));
	TimestampTz start;
	TimestampTz end;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s() window cannot have a NULL bound", fn),
				 errhint("For all time, use '-infinity' and 'infinity'.")));
	start = PG_GETARG_TIMESTAMPTZ(1);
	end = PG_GETARG_TIMESTAMPTZ(2);
	if (end < start)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s() window ends before it starts: [%s, %s)", fn,
						timestamptz_text(start), timestamptz_text(end)),
				 errhint("Give window_start first, then window_end.")));
	PG_RETURN_BOOL(true);
}
