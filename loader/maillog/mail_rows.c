/*
 * loader/maillog/mail_rows.c: rows of spamhints.mail_event (mail_rows.h).
 */
#include "mail_rows.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

const char *const sh_mail_copy_sql =
"COPY spamhints.mail_event (maillog_load_id, line, ts, host, queue_id, client_ip, client_port, "
"client_name, helo, size, sender, recipients, verdict, virus, spam_score, reason) FROM STDIN";

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
	put_field(b, ev->reason, "\n");
}
