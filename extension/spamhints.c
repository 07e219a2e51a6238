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
#include "utils/guc.h"

#include "census_core.h"
#include "spamhints.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * The abuse desk workflow's settings (sql/parts/50_settings.sql: spamhints.settings,
 * spamhints.setting()). Empty means "the default", which the SQL side
 * holds, so that the defaults are listed and documented in one place.
 */
static const struct
{
	const char *name;
	const char *description;
}			workflow_settings[] = {
	{"spamhints.report_suppression", "Interval within which an address is not reported to the same ISP again, unless there is a new kind of evidence (empty: 7 days)."},
	{"spamhints.retention", "Personal data older than this is deleted by spamhints.purge() (empty: 90 days)."},
	{"spamhints.report_from", "The From address of abuse reports (empty: abuse@localhost)."},
	{"spamhints.reporting_mta", "The host name reports give as their Reporting-MTA (empty: localhost)."},
	{"spamhints.report_max_items", "Evidence items listed per kind and address in a report (empty: 100)."},
};
static char *workflow_values[lengthof(workflow_settings)];

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
								   NULL, NULL, NULL);
	/* any other spamhints.* name is a typo: say so instead of keeping it */
	MarkGUCPrefixReserved("spamhints");
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
