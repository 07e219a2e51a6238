/*
 * loader/maillog/mail_rows.c: rows of spamhints.mail_event (mail_rows.h).
 */
#include "mail_rows.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAIL_COLUMNS "maillog_load_id, line, ts, host, queue_id, client_ip, client_port, " \
	"client_name, helo, size, sender, recipients, verdict, virus, spam_score, reason, line_key, line_count"

const char *const sh_mail_stage_sql =
"CREATE TEMP TABLE spamhints_mail_event (maillog_load_id integer, line bigint, ts timestamptz, host text, "
"queue_id text, client_ip inet, client_port integer, client_name text, helo text, size bigint, sender text, "
"recipients text[], verdict text, virus text, spam_score numeric, reason text, line_key bytea, line_count integer) "
"ON COMMIT DROP; "
"CREATE TEMP TABLE spamhints_maillog_line (maillog_load_id integer, line_key bytea) ON COMMIT DROP";

const char *const sh_mail_copy_sql =
"COPY pg_temp.spamhints_mail_event (" MAIL_COLUMNS ") FROM STDIN";

const char *const sh_mail_line_copy_sql =
"COPY pg_temp.spamhints_maillog_line (maillog_load_id, line_key) FROM STDIN";

const char *const sh_mail_lock_sql =
"SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('spamhints.maillog_line'))";

const char *const sh_mail_keep_lines_sql =
"INSERT INTO spamhints.maillog_line (line_key, maillog_load_id) "
"SELECT DISTINCT line_key, maillog_load_id FROM pg_temp.spamhints_maillog_line "
"ON CONFLICT (line_key) DO NOTHING";

const char *const sh_mail_keep_events_sql =
"INSERT INTO spamhints.mail_event (" MAIL_COLUMNS ") "
"SELECT " MAIL_COLUMNS " FROM pg_temp.spamhints_mail_event n "
"WHERE n.line_key IS NULL OR NOT EXISTS (SELECT 1 FROM spamhints.mail_event o "
"WHERE o.line_key = n.line_key AND o.line_count >= n.line_count) "
"ORDER BY n.line";

const char *const sh_mail_replace_sql =
"DELETE FROM spamhints.mail_event o USING spamhints.mail_event n "
"WHERE n.maillog_load_id = $1 AND o.line_key = n.line_key AND o.line_count < n.line_count "
"AND o.maillog_load_id <> $1";

/* A text field of COPY's text format (\N for NULL, backslash escapes), then end. */
static void
put_field(sh_buf *b, const char *s, const char *end)
{
	if (s == NULL)
	{
		sh_buf_put(b, "\\N", 2);
		sh_buf_str(b, end);
		return;
	}
	for (; *s; s++)
	{
		switch (*s)
		{
			case '\\':
				sh_buf_put(b, "\\\\", 2);
				break;
			case '\t':
				sh_buf_put(b, "\\t", 2);
				break;
			case '\n':
				sh_buf_put(b, "\\n", 2);
				break;
			case '\r':
				sh_buf_put(b, "\\r", 2);
				break;
			default:
				sh_buf_put(b, s, 1);
		}
	}
	sh_buf_str(b, end);
}

/* The recipients as a text[] literal, inside a COPY field, then end. */
static void
put_array(sh_buf *b, char *const *v, size_t n, const char *end)
{
	sh_buf		lit = {0};

	if (n == 0)
	{
		put_field(b, NULL, end);
		return;
	}
	sh_buf_put(&lit, "{", 1);
	for (size_t i = 0; i < n; i++)
	{
		if (i)
			sh_buf_put(&lit, ",", 1);
		sh_buf_put(&lit, "\"", 1);
		for (const char *s = v[i]; *s; s++)
		{
			if (*s == '"' || *s == '\\')
				sh_buf_put(&lit, "\\", 1);
			sh_buf_put(&lit, s, 1);
		}
		sh_buf_put(&lit, "\"", 1);
	}
	sh_buf_put(&lit, "}", 1);
	if (lit.oom)
		b->oom = 1;
	else
		put_field(b, sh_buf_text(&lit), end);
	sh_buf_free(&lit);
}

/* A number (negative is unknown: NULL), then end. */
static void
put_num(sh_buf *b, long long v, const char *end)
{
	char		n[32];

	if (v < 0)
	{
		put_field(b, NULL, end);
		return;
	}
	snprintf(n, sizeof(n), "%lld", v);
	sh_buf_str(b, n);
	sh_buf_str(b, end);
}

void
sh_mail_row(sh_buf *b, int32_t maillog_load_id, const sh_mail_event *ev)
{
	char		n[32];

	snprintf(n, sizeof(n), "%d\t%" PRIu64 "\t", maillog_load_id, ev->line);
	sh_buf_str(b, n);
	put_field(b, ev->ts, "\t");
	put_field(b, ev->host, "\t");
	put_field(b, ev->queue_id, "\t");
	put_field(b, ev->client_ip, "\t");
	put_num(b, ev->client_port, "\t");
	put_field(b, ev->client_name, "\t");
	put_field(b, ev->helo, "\t");
	put_num(b, ev->size, "\t");
	put_field(b, ev->sender, "\t");
	put_array(b, ev->rcpt, ev->nrcpt, "\t");
	put_field(b, sh_verdict_name(ev->verdict), "\t");
	put_field(b, ev->virus, "\t");
	put_field(b, ev->spam_score[0] ? ev->spam_score : NULL, "\t");
	put_field(b, ev->reason, "\t");
	if (ev->has_key)
	{
		/* bytea's hex form, its backslash escaped for COPY */
		char		hex[4 + 2 * SH_LINE_KEY_BYTES + 1];

		memcpy(hex, "\\\\x", 3);
		for (int i = 0; i < SH_LINE_KEY_BYTES; i++)
			snprintf(hex + 3 + 2 * i, 3, "%02x", ev->line_key[i]);
		sh_buf_str(b, hex);
		sh_buf_str(b, "\t");
	}
	else
		put_field(b, NULL, "\t");
	put_num(b, ev->line_count > 0 ? (long long) ev->line_count : -1, "\n");
}
