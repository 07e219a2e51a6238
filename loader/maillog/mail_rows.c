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

/* A text field of COPY's text format: \N for NULL, backslash escapes. */
static void
put_field(sh_buf *b, const char *s)
{
	if (s == NULL)
	{
		sh_buf_put(b, "\\N", 2);
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
}

/* The recipients as a text[] literal, inside a COPY field. */
static void
put_array(sh_buf *b, char *const *v, size_t n)
{
	sh_buf		lit = {0};

	if (n == 0)
	{
		sh_buf_put(b, "\\N", 2);
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
		put_field(b, sh_buf_text(&lit));
	sh_buf_free(&lit);
}

/* A number; negative is unknown: NULL. */
static void
put_num(sh_buf *b, long long v)
{
	char		n[32];

	if (v < 0)
		sh_buf_put(b, "\\N", 2);
	else
	{
		snprintf(n, sizeof(n), "%lld", v);
		sh_buf_str(b, n);
	}
}

void
sh_mail_row(sh_buf *b, int32_t maillog_load_id, const sh_mail_event *ev)
{
	char		n[32];

	snprintf(n, sizeof(n), "%d\t%" PRIu64 "\t", maillog_load_id, ev->line);
	sh_buf_str(b, n);
	put_field(b, ev->ts);
	sh_buf_put(b, "\t", 1);
	put_field(b, ev->host);
	sh_buf_put(b, "\t", 1);
	put_field(b, ev->queue_id);
	sh_buf_put(b, "\t", 1);
	put_field(b, ev->client_ip);
	sh_buf_put(b, "\t", 1);
	put_num(b, ev->client_port);
	sh_buf_put(b, "\t", 1);
	put_field(b, ev->client_name);
	sh_buf_put(b, "\t", 1);
	put_field(b, ev->helo);
	sh_buf_put(b, "\t", 1);
	put_num(b, ev->size);
	sh_buf_put(b, "\t", 1);
	put_field(b, ev->sender);
	sh_buf_put(b, "\t", 1);
	put_array(b, ev->rcpt, ev->nrcpt);
	sh_buf_put(b, "\t", 1);
	put_field(b, sh_verdict_name(ev->verdict));
	sh_buf_put(b, "\t", 1);
	put_field(b, ev->virus);
	sh_buf_put(b, "\t", 1);
	put_field(b, ev->spam_score[0] ? ev->spam_score : NULL);
	sh_buf_put(b, "\t", 1);
	put_field(b, ev->reason);
	sh_buf_put(b, "\n", 1);
}
