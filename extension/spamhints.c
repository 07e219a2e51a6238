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

#include "spamhints.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* The module's settings, defined when a backend loads it. */
void
_PG_init(void)
{
	enrich_define_settings();
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
