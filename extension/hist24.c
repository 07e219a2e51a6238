/*
 * extension/hist24.c: the type spamhints.hist24, 24 counts by hour of day,
 * the aggregates that build and merge it, and chart(), which draws it.
 *
 * hist24 is a fixed-length value (24 int8, 192 bytes): it is the plain
 * state of hourly(ts [, weight]) and hist24_union(hist24), so they need no
 * serialize functions, run in parallel workers, and Citus can compute them
 * in parts.  Transition functions add in place when called as aggregates,
 * as float8_accum does.
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "types_core.h"

typedef struct Hist24
{
	int64_t		count[HIST24_HOURS];
} Hist24;

StaticAssertDecl(sizeof(Hist24) == HIST24_BINARY_SIZE, "a hist24 is 24 int8");

#define DatumGetHist24P(d)		((Hist24 *) DatumGetPointer(d))
#define PG_GETARG_HIST24_P(n)	DatumGetHist24P(PG_GETARG_DATUM(n))
#define PG_RETURN_HIST24_P(h)	PG_RETURN_POINTER(h)

PG_FUNCTION_INFO_V1(hist24_in);
PG_FUNCTION_INFO_V1(hist24_out);
PG_FUNCTION_INFO_V1(hist24_recv);
PG_FUNCTION_INFO_V1(hist24_send);
PG_FUNCTION_INFO_V1(hist24_to_array);
PG_FUNCTION_INFO_V1(hist24_from_array);
PG_FUNCTION_INFO_V1(hist24_add);
PG_FUNCTION_INFO_V1(hist24_eq);
PG_FUNCTION_INFO_V1(hist24_accum);
PG_FUNCTION_INFO_V1(hist24_accum_weighted);
PG_FUNCTION_INFO_V1(hist24_union_accum);
PG_FUNCTION_INFO_V1(hist24_chart);

static void
hist24_syntax_error(const char *str, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", "hist24", str),
			 errdetail("%s", why),
			 errhint("A hist24 is written {hour:count,...} with hours 0 to 23 (missing hours are 0), or as 24 counts {c0,c1,...,c23}.")));
}

static inline void
add_count(int64 *to, int64 n)
{
	if (unlikely(pg_add_s64_overflow(*to, n, to)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("hist24 count out of range")));
}

/*
 * Text input: {hour:count,...} (any order, each hour at most once, missing
 * hours 0; {} is all zeros) or exactly 24 plain counts {c0,...,c23}; the
 * parser is types_core.c's.
 */
Datum
hist24_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	Hist24	   *h = palloc0(sizeof(Hist24));
	const char *why = hist24_parse_text(str, h->count);

	if (why != NULL)
		hist24_syntax_error(str, why);
	PG_RETURN_HIST24_P(h);
}

/* text output: {0:c0,1:c1,...,23:c23} */
Datum
hist24_out(PG_FUNCTION_ARGS)
{
	Hist24	   *h = PG_GETARG_HIST24_P(0);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < HIST24_HOURS; i++)
		appendStringInfo(&buf, "%s%d:" INT64_FORMAT, i ? "," : "", i, h->count[i]);
	appendStringInfoChar(&buf, '}');
	PG_RETURN_CSTRING(buf.data);
}

/* binary form: 24 int8 */
Datum
hist24_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	Hist24	   *h = palloc(sizeof(Hist24));

	if (!hist24_parse_binary((const unsigned char *) buf->data + buf->cursor,
							 buf->len - buf->cursor, h->count))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary hist24: %d bytes, expected %d",
						buf->len - buf->cursor, (int) sizeof(Hist24))));
	buf->cursor = buf->len;
	PG_RETURN_HIST24_P(h);
}

Datum
hist24_send(PG_FUNCTION_ARGS)
{
	Hist24	   *h = PG_GETARG_HIST24_P(0);
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	for (i = 0; i < HIST24_HOURS; i++)
		pq_sendint64(&buf, h->count[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* hist24::bigint[]: the 24 counts, hour 0 first (subscript 1) */
Datum
hist24_to_array(PG_FUNCTION_ARGS)
{
	Hist24	   *h = PG_GETARG_HIST24_P(0);
	Datum		elems[HIST24_HOURS];
	int			i;

	for (i = 0; i < HIST24_HOURS; i++)
		elems[i] = Int64GetDatum(h->count[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, HIST24_HOURS, INT8OID,
										  sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* bigint[]::hist24: exactly 24 counts, none NULL */
Datum
hist24_from_array(PG_FUNCTION_ARGS)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
	Hist24	   *h = palloc(sizeof(Hist24));
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("a hist24 is made from a one-dimensional array")));
	deconstruct_array(a, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &n);
	if (n != HIST24_HOURS)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("a hist24 is made from 24 counts, not %d", n)));
	for (i = 0; i < HIST24_HOURS; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a hist24 count cannot be NULL")));
		h->count[i] = DatumGetInt64(elems[i]);
	}
	PG_RETURN_HIST24_P(h);
}

/* hist24 + hist24 */
Datum
hist24_add(PG_FUNCTION_ARGS)
{
	Hist24	   *a = PG_GETARG_HIST24_P(0);
	Hist24	   *b = PG_GETARG_HIST24_P(1);
	Hist24	   *r = palloc(sizeof(Hist24));
	int			i;

	*r = *a;
	for (i = 0; i < HIST24_HOURS; i++)
		add_count(&r->count[i], b->count[i]);
	PG_RETURN_HIST24_P(r);
}

Datum
hist24_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(memcmp(PG_GETARG_HIST24_P(0), PG_GETARG_HIST24_P(1), sizeof(Hist24)) == 0);
}

/*
 * The state to add to: the first argument itself when we are an aggregate's
 * transition (its value lives in the aggregate context and is ours), else a
 * copy.
 */
static Hist24 *
hist24_state(FunctionCallInfo fcinfo)
{
	Hist24	   *h = PG_GETARG_HIST24_P(0);
	Hist24	   *copy;

	if (AggCheckCallContext(fcinfo, NULL))
		return h;
	copy = palloc(sizeof(Hist24));
	*copy = *h;
	return copy;
}

/*
 * The hour of day of ts in the session's time zone.  The UTC offset is
 * cached in fn_extra with the interval (up to the next DST boundary) in
 * which it holds, so a run of samples costs no pg_localtime() call each.
 */
typedef struct HourCache
{
	const pg_tz *tz;
	pg_time_t	from;			/* the offset holds in [from, until) */
	pg_time_t	until;
	long int	gmtoff;
} HourCache;

static int
hour_of_day(FunctionCallInfo fcinfo, TimestampTz ts)
{
	HourCache  *cache = (HourCache *) fcinfo->flinfo->fn_extra;
	pg_time_t	t;
	int64		local;

	/* whole seconds since the Unix epoch, rounded down */
	t = ts / USECS_PER_SEC;
	if (ts % USECS_PER_SEC < 0)
		t--;
	t += (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;

	if (cache == NULL || cache->tz != session_timezone ||
		t < cache->from || t >= cache->until)
	{
		long int	before_gmtoff,
					after_gmtoff;
		int			before_isdst,
					after_isdst;
		pg_time_t	boundary;
		int			res;

		res = pg_next_dst_boundary(&t, &before_gmtoff, &before_isdst, &boundary,
								   &after_gmtoff, &after_isdst, session_timezone);
		if (res < 0)
		{
			/* no offset known: ask as extract(hour ...) does */
			struct pg_tm tm;
			fsec_t		fsec;
			int			tz;

			if (timestamp2tm(ts, &tz, &tm, &fsec, NULL, NULL) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
						 errmsg("timestamp out of range")));
			return tm.tm_hour;
		}
		if (cache == NULL)
		{
			cache = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(HourCache));
			fcinfo->flinfo->fn_extra = cache;
		}
		cache->tz = session_timezone;
		cache->from = t;
		cache->until = res == 0 ? PG_INT64_MAX : boundary;
		cache->gmtoff = before_gmtoff;
	}
	local = (int64) t + cache->gmtoff;
	local %= SECS_PER_DAY;
	if (local < 0)
		local += SECS_PER_DAY;
	return (int) (local / SECS_PER_HOUR);
}

/* hourly(ts): count one for the hour of ts; infinite timestamps are skipped */
Datum
hist24_accum(PG_FUNCTION_ARGS)
{
	Hist24	   *h = hist24_state(fcinfo);
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(1);

	if (!TIMESTAMP_NOT_FINITE(ts))
		add_count(&h->count[hour_of_day(fcinfo, ts)], 1);
	PG_RETURN_HIST24_P(h);
}

/* hourly(ts, weight): add weight (e.g. sampling_rate) for the hour of ts */
Datum
hist24_accum_weighted(PG_FUNCTION_ARGS)
{
	Hist24	   *h = hist24_state(fcinfo);
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(1);

	if (!TIMESTAMP_NOT_FINITE(ts))
		add_count(&h->count[hour_of_day(fcinfo, ts)], PG_GETARG_INT64(2));
	PG_RETURN_HIST24_P(h);
}

/* hist24_union(hist24) and the combine function of all three aggregates */
Datum
hist24_union_accum(PG_FUNCTION_ARGS)
{
	Hist24	   *h = hist24_state(fcinfo);
	Hist24	   *b = PG_GETARG_HIST24_P(1);
	int			i;

	for (i = 0; i < HIST24_HOURS; i++)
		add_count(&h->count[i], b->count[i]);
	PG_RETURN_HIST24_P(h);
}

/* a count in at most 6 characters, for the chart's axis */
static void
format_compact(char *out, size_t size, double v)
{
	if (v < 99999.5)
		snprintf(out, size, "%.0f", v);
	else if (v < 999.5e3)
		snprintf(out, size, "%.0fk", v / 1e3);
	else if (v < 99.95e6)
		snprintf(out, size, "%.1fM", v / 1e6);
	else if (v < 99.95e9)
		snprintf(out, size, "%.1fG", v / 1e9);
	else
		snprintf(out, size, "%.0e", v);
}

/* 1234567 -> "1,234,567" */
static void
append_grouped(StringInfo buf, int64 v)
{
	char		digits[32];
	int			len;
	int			i;

	snprintf(digits, sizeof(digits), INT64_FORMAT, v);
	len = strlen(digits);
	for (i = 0; i < len; i++)
	{
		appendStringInfoChar(buf, digits[i]);
		if (isdigit((unsigned char) digits[i]) && (len - i - 1) % 3 == 0 && i < len - 1)
			appendStringInfoChar(buf, ',');
	}
}

/*
 * chart(hist24 [, height]): an hour-of-day bar chart, one column of X per hour,
 * height rows scaled to the busiest hour, the axis labelled 0 3am 6am 9am N
 * 3pm 6pm 9pm, then each hour's count in two digits of a stated unit and
 * the exact peak and total.  Lines are at most 80 characters.
 */
#define CHART_MARGIN 8			/* "%6s |" */

Datum
hist24_chart(PG_FUNCTION_ARGS)
{
	Hist24	   *h = PG_GETARG_HIST24_P(0);
	int32		height = PG_GETARG_INT32(1);
	static const char *const labels[8] = {"0", "3am", "6am", "9am", "N", "3pm", "6pm", "9pm"};
	int64		max = 0;
	int64		total = 0;
	int			peak = 0;
	int			bar[HIST24_HOURS];
	int64		unit = 1;
	StringInfoData buf;
	char		line[CHART_MARGIN + 3 * HIST24_HOURS + 2];
	int			row;
	int			i;

	if (height < 1 || height > 100)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("chart height must be between 1 and 100, not %d", height)));
	for (i = 0; i < HIST24_HOURS; i++)
	{
		if (h->count[i] > max)
		{
			max = h->count[i];
			peak = i;
		}
		if (pg_add_s64_overflow(total, h->count[i], &total))
			total = PG_INT64_MAX;
	}
	for (i = 0; i < HIST24_HOURS; i++)
	{
		if (h->count[i] <= 0 || max == 0)
			bar[i] = 0;
		else
			bar[i] = Max(1, (int) rint((double) h->count[i] * height / (double) max));
	}

	initStringInfo(&buf);
	for (row = height; row >= 1; row--)
	{
		char		label[16] = "";
		int			len;

		if (max > 0 && (row == height || (height >= 4 && row == (height + 1) / 2)))
			format_compact(label, sizeof(label), (double) max * row / height);
		snprintf(line, CHART_MARGIN + 1, "%6s |", label);
		len = CHART_MARGIN;
		for (i = 0; i < HIST24_HOURS; i++)
		{
			const char *cell = bar[i] >= row ? " XX" : "   ";

			memcpy(line + len, cell, 3);
			len += 3;
		}
		while (len > CHART_MARGIN && line[len - 1] == ' ')
			len--;
		line[len] = '\0';
		appendStringInfo(&buf, "%s\n", line);
	}

	/* the axis and the hour labels */
	appendStringInfo(&buf, "%6s +", "0");
	for (i = 0; i < 3 * HIST24_HOURS; i++)
		appendStringInfoChar(&buf, '-');
	appendStringInfoChar(&buf, '\n');
	memset(line, ' ', sizeof(line));
	for (i = 0; i < 8; i++)
		memcpy(line + CHART_MARGIN + 9 * i + 1, labels[i], strlen(labels[i]));
	{
		int			len = CHART_MARGIN + 9 * 7 + 1 + 3;

		while (line[len - 1] == ' ')
			len--;
		line[len] = '\0';
	}
	appendStringInfo(&buf, "%s\n", line);

	/* each hour's count, two digits at most, in a unit that makes them fit */
	while (max / unit > 99 || (max / unit == 99 && max % unit >= unit / 2 && unit > 1))
		unit *= 10;
	{
		char		u[16] = "n";
		int			exp10 = 0;
		int64		x;

		for (x = unit; x >= 10; x /= 10)
			exp10++;
		if (unit >= 10000)
			snprintf(u, sizeof(u), "x1e%d", exp10);
		else if (unit > 1)
			snprintf(u, sizeof(u), "x" INT64_FORMAT, unit);
		snprintf(line, CHART_MARGIN + 1, "%6s  ", u);
	}
	line[CHART_MARGIN - 1] = ' ';
	{
		int			len = CHART_MARGIN;

		for (i = 0; i < HIST24_HOURS; i++)
		{
			char		cell[8];
			int64		v = 0;

			/* rounded to the unit, without overflow near INT64_MAX */
			if (h->count[i] > 0)
				v = h->count[i] / unit + (h->count[i] % unit >= (unit + 1) / 2 ? 1 : 0);

			snprintf(cell, sizeof(cell), "%3d", (int) Min(v, 99));
			memcpy(line + len, cell, 3);
			len += 3;
		}
		line[len] = '\0';
	}
	appendStringInfo(&buf, "%s\n", line);

	/* the exact figures */
	appendStringInfoString(&buf, "total ");
	append_grouped(&buf, total);
	if (max > 0)
	{
		appendStringInfoString(&buf, ", peak ");
		append_grouped(&buf, max);
		appendStringInfo(&buf, " at %d:00", peak);
	}
	if (unit > 1)
	{
		appendStringInfoString(&buf, "\n(the counts row is in units of ");
		append_grouped(&buf, unit);
		appendStringInfoChar(&buf, ')');
	}
	PG_RETURN_TEXT_P(cstring_to_text(buf.data));
}
