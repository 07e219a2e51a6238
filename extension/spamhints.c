/*
 * extension/spamhints.c: module entry and small SQL helpers.
 *
 * Types and aggregates live in files of their own, one per SQL type or
 * concern; this file holds what belongs to none of them.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "census_core.h"
#include "spamhints.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * The abuse desk workflow's settings (sql/parts/50_settings.sql: spamhints.settings,
 * spamhints.setting()). Empty means "the default", which the SQL side
 * holds, so that the defaults are listed and documented in one place.
 *
 * Every value is checked when it is set (GUC check hooks), and again by
 * spamhints.setting() when it is used (spamhints_setting_check), since a
 * value set before this module was loaded was not: a report never comes out
 * of a value it cannot use.
 */

/* The limits a check names in its message. */
#define MAX_ITEMS_LIMIT 100000
#define INTERVAL_YEARS_LIMIT 100

/*
 * A check: NULL when value is fit, else what is wrong with it; *hint (may
 * stay NULL) says what would be.
 */
typedef const char *(*setting_check) (const char *value, const char **hint);

static const char *check_interval(const char *value, const char **hint);
static const char *check_address(const char *value, const char **hint);
static const char *check_host(const char *value, const char **hint);
static const char *check_count(const char *value, const char **hint);

static bool check_interval_hook(char **newval, void **extra, GucSource source);
static bool check_address_hook(char **newval, void **extra, GucSource source);
static bool check_host_hook(char **newval, void **extra, GucSource source);
static bool check_count_hook(char **newval, void **extra, GucSource source);

static const struct
{
	const char *name;
	const char *description;
	setting_check check;
	GucStringCheckHook hook;
}			workflow_settings[] = {
	{"spamhints.report_suppression", "Interval within which an address is not reported to the same ISP again, unless there is a new kind of evidence (empty: 7 days).",
	check_interval, check_interval_hook},
	{"spamhints.retention", "Personal data older than this is deleted by spamhints.purge() (empty: 90 days).",
	check_interval, check_interval_hook},
	{"spamhints.report_from", "The From address of abuse reports (empty: unset, no report is made).",
	check_address, check_address_hook},
	{"spamhints.reporting_mta", "The host name reports give in their Message-ID and as Reporting-MTA (empty: unset, no report is made).",
	check_host, check_host_hook},
	{"spamhints.report_max_items", "Evidence items listed per kind and address in a report, 1 to 100000 (empty: 100).",
	check_count, check_count_hook},
	{"spamhints.report_min_samples", "Sampled client packets an address needs in the period to be reported without a mail-log verdict, 1 to 100000 (empty: 3).",
	check_count, check_count_hook},
	{"spamhints.report_min_minutes", "Different minutes those sampled packets must fall in, 1 to 100000 (empty: 2).",
	check_count, check_count_hook},
};
static char *workflow_values[lengthof(workflow_settings)];

/* An interval greater than zero and at most INTERVAL_YEARS_LIMIT years. */
static const char *
check_interval(const char *value, const char **hint)
{
	char		workbuf[256];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	char		copy[256];
	int			nf;
	int			dtype = 0;
	int			dterr;
	struct pg_itm_in itm;
	Interval	span;
	double		days;

	*hint = "An interval such as '7 days', '12 hours' or 'P30D'.";
	if (value[0] == '\0')
		return NULL;
	if (strlen(value) >= sizeof(copy))
		return "It is too long to be an interval.";
	strlcpy(copy, value, sizeof(copy));
	memset(&itm, 0, sizeof(itm));
	/* as interval_in reads it, without raising an error */
	dterr = ParseDateTime(copy, workbuf, sizeof(workbuf), field, ftype, MAXDATEFIELDS, &nf);
	if (dterr == 0)
		dterr = DecodeInterval(field, ftype, nf, INTERVAL_FULL_RANGE, &dtype, &itm);
	if (dterr == DTERR_BAD_FORMAT)
	{
		memset(&itm, 0, sizeof(itm));
		strlcpy(copy, value, sizeof(copy));
		dterr = DecodeISO8601Interval(copy, &dtype, &itm);
	}
	if (dterr != 0 || dtype != DTK_DELTA || itmin2interval(&itm, &span) != 0)
		return "It is not an interval.";
	/* compared as PostgreSQL compares intervals: a month is 30 days */
	days = (double) span.month * DAYS_PER_MONTH + span.day + (double) span.time / USECS_PER_DAY;
	if (days <= 0)
		return "It is not greater than zero.";
	if (days > (double) INTERVAL_YEARS_LIMIT * MONTHS_PER_YEAR * DAYS_PER_MONTH)
		return "It is longer than 100 years.";
	return NULL;
}

/*
 * A host name: labels of letters, digits and hyphens (not first or last),
 * 1 to 63 characters each, joined by dots, 253 characters at most.
 */
static const char *
host_problem(const char *s, size_t len)
{
	size_t		label = 0;

	if (len == 0)
		return "It has no host name.";
	if (len > 253)
		return "The host name is longer than 253 characters.";
	for (size_t i = 0; i <= len; i++)
	{
		char		c = i < len ? s[i] : '.';

		if (c == '.')
		{
			if (label == 0)
				return "The host name has an empty label (a dot at the start or end, or two dots).";
			if (s[i - 1] == '-' || s[i - label] == '-')
				return "A label of the host name starts or ends with a hyphen.";
			if (label > 63)
				return "A label of the host name is longer than 63 characters.";
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
			return "The host name holds a character other than letters, digits, hyphens and dots.";
		label++;
	}
	return NULL;
}

static const char *
check_host(const char *value, const char **hint)
{
	*hint = "A host name such as 'mx1.isp.example'.";
	return value[0] == '\0' ? NULL : host_problem(value, strlen(value));
}

/*
 * A mail address, local@domain: a dot-atom local part (RFC 5322: letters,
 * digits and !#$%&'*+/=?^_`{|}~-, dots between them) of 64 characters at
 * most, and a host name. No display name: it is the From field whole.
 */
static const char *
check_address(const char *value, const char **hint)
{
	const char *at = strrchr(value, '@');
	size_t		local;

	*hint = "A bare address such as 'abuse@isp.example' (no display name, no angle brackets).";
	if (value[0] == '\0')
		return NULL;
	if (at == NULL)
		return "It has no '@'.";
	local = (size_t) (at - value);
	if (local == 0)
		return "It has nothing before the '@'.";
	if (local > 64)
		return "Its local part is longer than 64 characters.";
	for (size_t i = 0; i < local; i++)
	{
		char		c = value[i];

		if (c == '.')
		{
			if (i == 0 || i == local - 1 || value[i - 1] == '.')
				return "Its local part has a dot at the start or end, or two dots.";
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL)))
			return "Its local part holds a character a plain address does not (a space, a control character, <, >, @, quotes...).";
	}
	return host_problem(at + 1, strlen(at + 1));
}

/* A whole number from 1 to MAX_ITEMS_LIMIT, in plain digits. */
static const char *
check_count(const char *value, const char **hint)
{
	long		n = 0;

	*hint = "A number from 1 to 100000; to list every item, set a number larger than any report needs, such as 100000.";
	if (value[0] == '\0')
		return NULL;
	for (const char *c = value; *c; c++)
	{
		if (*c < '0' || *c > '9')
			return "It is not a whole number in digits.";
		n = n * 10 + (*c - '0');
		if (n > MAX_ITEMS_LIMIT)
			return "It is greater than 100000.";
	}
	if (n < 1)
		return "It is 0: the least it can be is 1.";
	return NULL;
}

static bool
run_check_hook(setting_check check, const char *value)
{
	const char *hint = NULL;
	const char *problem = value == NULL ? NULL : check(value, &hint);

	if (problem == NULL)
		return true;
	GUC_check_errdetail("%s", problem);
	if (hint)
		GUC_check_errhint("%s", hint);
	return false;
}

static bool
check_interval_hook(char **newval, void **extra, GucSource source)
{
	return run_check_hook(check_interval, *newval);
}

static bool
check_address_hook(char **newval, void **extra, GucSource source)
{
	return run_check_hook(check_address, *newval);
}

static bool
check_host_hook(char **newval, void **extra, GucSource source)
{
	return run_check_hook(check_host, *newval);
}

static bool
check_count_hook(char **newval, void **extra, GucSource source)
{
	return run_check_hook(check_count, *newval);
}

/* The module's settings, defined when a backend loads it. */
void
_PG_init(void)
{
	uint64		key[2];

	/* the census hash is keyed per backend: see census_core.h */
	if (!pg_strong_random(key, sizeof(key)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random hash key")));
	census_set_hash_key(key[0], key[1]);

	enrich_define_settings();
	for (int i = 0; i < (int) lengthof(workflow_settings); i++)
		DefineCustomStringVariable(workflow_settings[i].name, workflow_settings[i].description,
								   NULL, &workflow_values[i], "", PGC_USERSET, 0,
								   workflow_settings[i].hook, NULL, NULL);
	/* any other spamhints.* name is a typo: say so instead of keeping it */
	MarkGUCPrefixReserved("spamhints");
}

PG_FUNCTION_INFO_V1(spamhints_setting_check);

/*
 * setting_check(name text, value text) -> text: value when it is fit for
 * the workflow setting spamhints.name, else an error that says why, as SET
 * would have. The empty value (the default) is always fit.
 */
Datum
spamhints_setting_check(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *value = text_to_cstring(PG_GETARG_TEXT_PP(1));

	for (int i = 0; i < (int) lengthof(workflow_settings); i++)
	{
		const char *hint = NULL;
		const char *problem;

		if (strcmp(workflow_settings[i].name + strlen("spamhints."), name) != 0)
			continue;
		problem = workflow_settings[i].check(value, &hint);
		if (problem != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for parameter \"%s\": \"%s\"",
							workflow_settings[i].name, value),
					 errdetail("%s", problem),
					 hint ? errhint("%s", hint) : 0));
		PG_RETURN_TEXT_P(PG_GETARG_TEXT_PP(1));
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("unknown spamhints setting \"%s\"", name),
			 errhint("SELECT * FROM spamhints.settings lists them.")));
	PG_RETURN_NULL();
}

PG_FUNCTION_INFO_V1(spamhints_tcp_flags_text);

/*
 * tcp_flags_text(int) -> text: the names of the flags set in a TCP flags
 * byte, lowest bit first as tcpdump and Wireshark list them, joined by ','.
 */
Datum
spamhints_tcp_flags_text(PG_FUNCTION_ARGS)
{
	static const char *const names[8] = {
		"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"
	};
	int32		flags = PG_GETARG_INT32(0);
	StringInfoData buf;
	int			bit;

	if (flags < 0 || flags > 255)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("TCP flags value %d is out of range", flags),
				 errhint("The TCP flags byte is between 0 and 255.")));

	initStringInfo(&buf);
	for (bit = 0; bit < 8; bit++)
	{
		if (flags & (1 << bit))
		{
			if (buf.len > 0)
				appendStringInfoChar(&buf, ',');
			appendStringInfoString(&buf, names[bit]);
		}
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
