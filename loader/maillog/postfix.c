/*
 * loader/maillog/postfix.c: Postfix's log, with its content filters
 * amavisd-new (SpamAssassin, ClamAV) and clamav-milter.
 *
 * Postfix logs through syslog, one line per daemon and step, keyed by queue
 * id: smtpd "client=", qmgr "from=, size=", the delivery agents "to=",
 * "removed"; refusals are smtpd's (or postscreen's) "reject:" and
 * "milter-reject:" lines (ClamAV and spam milters). amavisd-new adds its
 * verdict (CLEAN, SPAM with SpamAssassin's Hits, INFECTED with the virus
 * name) with the original queue id, and re-injects the message from
 * 127.0.0.1, which is not a client of ours and is left out.
 *
 * A message is pending until its "removed" line, and then a minute more of
 * log time, since amavisd-new's line may come just after it.
 */
#include "maillog_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POSTFIX_LINGER	60	/* seconds a removed Postfix message waits for amavisd-new */

/* A Postfix queue id followed by ": " at s (short hex or long ids). */
static size_t
postfix_id_len(const char *s)
{
	size_t		n = 0;

	while (isalnum((unsigned char) s[n]))
		n++;
	if (n < 5 || n > 20 || s[n] != ':' || s[n + 1] != ' ')
		return 0;
	return n;
}

/*
 * "name[ip]" or "name[ip]:port" at s, as Postfix writes a client; *end after
 * it. 1, or -1 malformed, -2 a bad address.
 */
static int
postfix_client(sh_maillog *p, const char *s, sh_mail_event *ev, const char **end)
{
	const char *open = strchr(s, '['),
			   *close;
	size_t		name_len;

	if (open == NULL)
		return -1;
	name_len = (size_t) (open - s);
	if (memchr(s, ' ', name_len))
		return -1;
	close = strchr(open, ']');
	if (close == NULL)
		return -1;
	if (!sh_ml_parse_ip(open + 1, (size_t) (close - open - 1), ev->client_ip))
	{
		ev->client_ip[0] = '\0';
		return -2;
	}
	*end = close + 1;
	if (close[1] == ':' && isdigit((unsigned char) close[2]))
	{
		long		port = sh_ml_digits(close + 2, end, 5);

		if (port >= 0 && port <= 65535)
			ev->client_port = (int) port;
	}
	if (name_len > 0 && !(name_len == 7 && strncmp(s, "unknown", 7) == 0))
		sh_ml_set_text(p, &ev->client_name, s, name_len);
	return 1;
}

/*
 * A refusal, after "reject: " or "milter-reject: ": "STAGE from
 * name[ip]: reason; from=<s> to=<r> proto=ESMTP helo=<h>" (postscreen
 * separates the fields with commas). header and body checks quote the
 * header, which is not kept: their reason is the check and the text after
 * the fields. Fills ev; 1, or a bad_host code.
 */
static int
postfix_reject(sh_maillog *p, const char *s, sh_mail_event *ev, int milter)
{
	const char *fields = NULL,
			   *at = s,
			   *v,
			   *after;
	size_t		n,
				stage_len = strcspn(s, " ");
	int			content,
				r;

	/* the fields start at the last "; from=<" (or "; proto=") */
	while ((at = sh_ml_find(at, "; ")) != NULL)
	{
		if (sh_ml_starts(at + 2, "from=<") || sh_ml_starts(at + 2, "proto="))
			fields = at;
		at += 2;
	}
	if (fields == NULL)
		fields = s + strlen(s);

	content = milter || (stage_len == 4 && strncmp(s, "DATA", 4) == 0) ||
		(stage_len == 14 && strncmp(s, "END-OF-MESSAGE", 14) == 0) ||
		(stage_len == 6 && strncmp(s, "header", 6) == 0) ||
		(stage_len == 4 && strncmp(s, "body", 4) == 0);

	if ((stage_len == 6 && strncmp(s, "header", 6) == 0) || (stage_len == 4 && strncmp(s, "body", 4) == 0))
	{
		/* "header Subject: ... from name[ip]; from=<...": the client is the
		 * last name[ip] before the fields */
		const char *b = fields;
		char		reason[256];

		while (b > s && b[-1] != ' ')
			b--;
		if (b <= s || (r = postfix_client(p, b, ev, &after)) < 0)
			return b <= s ? -1 : r;
		v = strstr(*fields ? fields : s, ">: ");
		snprintf(reason, sizeof(reason), "%s%s check%s%s", milter ? "milter " : "",
				 s[0] == 'h' ? "header" : "body", v ? ": " : "", v ? v + 3 : "");
		sh_ml_set_text(p, &ev->reason, reason, strlen(reason));
	}
	else
	{
		const char *from = strstr(s, " from ");

		if (from == NULL || from > fields)
			return -1;
		if ((r = postfix_client(p, from + 6, ev, &after)) < 0)
			return r;
		if (after[0] != ':' || after[1] != ' ')
			return -1;
		after += 2;
		if (fields > after)
		{
			char		head[32];

			/* the reason, with the stage: "RCPT: 554 5.7.1 ..." */
			snprintf(head, sizeof(head), "%s%.*s: ", milter ? "milter " : "", (int) stage_len, s);
			n = (size_t) (fields - after);
			{
				size_t		hl = strlen(head);
				char	   *buf = malloc(hl + n + 1);

				if (buf == NULL)
				{
					p->oom = 1;
					return -1;
				}
				memcpy(buf, head, hl);
				memcpy(buf + hl, after, n);
				buf[hl + n] = '\0';
				sh_ml_set_text(p, &ev->reason, buf, hl + n);
				free(buf);
			}
		}
	}
	if (*fields)
	{
		if (sh_ml_angle_field(fields, "from=<", &v, &n))
			sh_ml_set_text(p, &ev->sender, v, n);
		if (sh_ml_angle_field(fields, "to=<", &v, &n))
			sh_ml_ev_add_rcpt(p, ev, v, n);
		if (sh_ml_angle_field(fields, "helo=<", &v, &n) && n > 0)
			sh_ml_set_text(p, &ev->helo, v, n);
	}
	ev->verdict = content && ev->reason ? sh_ml_classify(p, ev, ev->reason) : SH_VERDICT_REJECTED;
	return 1;
}

/* Copy into dst what a refusal or filter found out, keeping what dst knows. */
static void
ev_merge(sh_maillog *p, sh_mail_event *dst, sh_mail_event *src)
{
#define TAKE(f) do { if (src->f && !dst->f) { dst->f = src->f; src->f = NULL; } } while (0)
	TAKE(client_name);
	TAKE(helo);
	TAKE(sender);
#undef TAKE
	if (dst->client_ip[0] == '\0' && src->client_ip[0])
	{
		memcpy(dst->client_ip, src->client_ip, sizeof(dst->client_ip));
		dst->client_port = src->client_port;
		dst->line = src->line;
		memcpy(dst->line_key, src->line_key, sizeof(dst->line_key));
		dst->has_key = src->has_key;
		memcpy(dst->ts, src->ts, sizeof(dst->ts));
		dst->ts_fold = src->ts_fold;
	}
	if (dst->size < 0)
		dst->size = src->size;
	for (size_t i = 0; i < src->nrcpt; i++)
		sh_ml_ev_add_rcpt(p, dst, src->rcpt[i], strlen(src->rcpt[i]));
	if (src->reason || src->verdict != SH_VERDICT_CLEAN)
		dst->verdict = src->verdict;
	if (src->virus)
	{
		free(dst->virus);
		dst->virus = src->virus;
		src->virus = NULL;
	}
	if (src->spam_score[0])
		memcpy(dst->spam_score, src->spam_score, sizeof(dst->spam_score));
	if (src->reason)
	{
		free(dst->reason);
		dst->reason = src->reason;
		src->reason = NULL;
	}
}

static void
postfix_smtp(sh_maillog *p, const sh_ml_lctx *L, const char *msg)
{
	size_t		idlen = postfix_id_len(msg);
	const char *rest = msg + idlen + 2;
	sh_ml_pending *e;
	const char *v,
			   *after;
	size_t		n;
	int			r;

	if (sh_ml_starts(msg, "NOQUEUE: "))
	{
		int			milter = sh_ml_starts(msg + 9, "milter-reject: ");

		if (milter || sh_ml_starts(msg + 9, "reject: "))
		{
			sh_mail_event ev;

			sh_ml_ev_init(&ev, L, p);
			r = postfix_reject(p, msg + 9 + (milter ? 15 : 8), &ev, milter);
			if (sh_ml_bad_host(p, r))
				sh_ml_ev_free(&ev);
			else
				sh_ml_ev_emit(p, &ev);
			return;
		}
		p->skip[SH_MSKIP_OTHER_LINE]++;
		return;
	}
	if (idlen == 0)
	{
		/* connect from, disconnect from, warning:, statistics: ... */
		p->skip[SH_MSKIP_OTHER_LINE]++;
		return;
	}
	if (sh_ml_starts(rest, "client="))
	{
		sh_mail_event ev;

		sh_ml_ev_init(&ev, L, p);
		r = postfix_client(p, rest + 7, &ev, &after);
		if (sh_ml_bad_host(p, r))
		{
			sh_ml_ev_free(&ev);
			return;
		}
		e = sh_ml_pend_get(p, L, msg, idlen, 1);
		if (e)
			ev_merge(p, &e->ev, &ev);
		sh_ml_ev_free(&ev);
		return;
	}
	if (sh_ml_starts(rest, "reject: ") || sh_ml_starts(rest, "milter-reject: "))
	{
		int			milter = sh_ml_starts(rest, "milter-reject: ");
		sh_mail_event ev;

		sh_ml_ev_init(&ev, L, p);
		r = postfix_reject(p, rest + (milter ? 15 : 8), &ev, milter);
		if (sh_ml_bad_host(p, r))
		{
			sh_ml_ev_free(&ev);
			return;
		}
		e = sh_ml_pend_get(p, L, msg, idlen, 0);
		if (e && ev.helo && e->ev.helo == NULL)
			sh_ml_set_text(p, &e->ev.helo, ev.helo, strlen(ev.helo));
		if (e == NULL || sh_ml_starts(rest + (milter ? 15 : 8), "RCPT "))
		{
			/* one recipient refused (the message may go on for the others),
			 * or a message whose start we did not see */
			ev.queue_id = sh_ml_text_dup(p, msg, idlen);
			sh_ml_ev_emit(p, &ev);
			return;
		}
		/* the message refused: it ends here */
		ev_merge(p, &e->ev, &ev);
		sh_ml_ev_free(&ev);
		sh_ml_pend_drop(p, e, 1);
		return;
	}
	e = sh_ml_pend_get(p, L, msg, idlen, 0);
	if (e == NULL)
	{
		/* a message of which we saw no client: pickup, or an older log */
		if (sh_ml_starts(rest, "uid=") || sh_ml_starts(rest, "from=<"))
		{
			e = sh_ml_pend_get(p, L, msg, idlen, 1);
			if (e && sh_ml_starts(rest, "from=<") && sh_ml_angle_field(rest, "from=<", &v, &n))
				sh_ml_set_text(p, &e->ev.sender, v, n);
			return;
		}
		p->skip[SH_MSKIP_OTHER_LINE]++;
		return;
	}
	if (sh_ml_starts(rest, "from=<"))
	{
		const char *size = sh_ml_find(rest, ", size=");

		if (sh_ml_angle_field(rest, "from=<", &v, &n))
			sh_ml_set_text(p, &e->ev.sender, v, n);
		if (size)
		{
			long		sz = sh_ml_digits(size + 7, &after, 12);

			if (sz >= 0)
				e->ev.size = sz;
		}
		return;
	}
	if (sh_ml_starts(rest, "to=<"))
	{
		if (sh_ml_angle_field(rest, "to=<", &v, &n))
			sh_ml_ev_add_rcpt(p, &e->ev, v, n);
		return;
	}
	if (strcmp(rest, "removed") == 0)
	{
		e->ev.done = 1;
		e->ev.done_at = L->secs;
		return;
	}
	if (sh_ml_starts(rest, "discard: ") || sh_ml_starts(rest, "hold: ") || sh_ml_starts(rest, "info: ") ||
		sh_ml_starts(rest, "warning: header ") || sh_ml_starts(rest, "warning: body "))
	{
		/* header_checks actions: the HELO is in the fields */
		if (sh_ml_angle_field(rest, "helo=<", &v, &n) && n > 0 && e->ev.helo == NULL)
			sh_ml_set_text(p, &e->ev.helo, v, n);
		if (sh_ml_starts(rest, "discard: ") || sh_ml_starts(rest, "hold: "))
		{
			char		reason[64];

			snprintf(reason, sizeof(reason), "%.*s by header or body check",
					 (int) strcspn(rest, ":"), rest);
			sh_ml_set_text(p, &e->ev.reason, reason, strlen(reason));
		}
		return;
	}
	p->skip[SH_MSKIP_OTHER_LINE]++;
}

/*
 * amavisd-new: "(pid-n) Passed|Blocked CATEGORY [(detail)] [{actions}],
 * [LOCAL] [ip]:port [ip] <sender> -> <rcpt>,<rcpt>, Queue-ID: id,
 * Message-ID: ..., Hits: 12.3, size: 1234, ...".
 */
static void
amavis_line(sh_maillog *p, const sh_ml_lctx *L, const char *msg)
{
	const char *s = msg,
			   *word,
			   *cat,
			   *detail = NULL,
			   *v,
			   *after;
	size_t		word_len,
				cat_len,
				detail_len = 0,
				n;
	sh_mail_event ev;
	sh_ml_pending *e = NULL;
	char		reason[512];
	int			r;

	if (*s == '(')
	{
		s = strstr(s, ") ");
		if (s == NULL)
		{
			p->skip[SH_MSKIP_OTHER_LINE]++;
			return;
		}
		s += 2;
	}
	word = s;
	word_len = strcspn(s, " ");
	if (!((word_len == 6 && sh_ml_starts(s, "Passed")) || (word_len == 7 && sh_ml_starts(s, "Blocked")) ||
		  (word_len == 13 && sh_ml_starts(s, "Not-Delivered"))))
	{
		p->skip[SH_MSKIP_OTHER_LINE]++;
		return;
	}
	s += word_len;
	if (*s != ' ')
	{
		p->skip[SH_MSKIP_MALFORMED_LINE]++;
		return;
	}
	cat = ++s;
	cat_len = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
	if (cat_len == 0)
	{
		p->skip[SH_MSKIP_MALFORMED_LINE]++;
		return;
	}
	s += cat_len;
	if (sh_ml_starts(s, " ("))
	{
		const char *end = strstr(s, ") {");

		if (end == NULL)
			end = strstr(s, "),");
		if (end == NULL)
		{
			p->skip[SH_MSKIP_MALFORMED_LINE]++;
			return;
		}
		detail = s + 2;
		detail_len = (size_t) (end - detail);
		s = end + 1;
	}
	if (sh_ml_starts(s, " {"))
	{
		const char *end = strchr(s, '}');

		if (end == NULL)
		{
			p->skip[SH_MSKIP_MALFORMED_LINE]++;
			return;
		}
		s = end + 1;
	}
	snprintf(reason, sizeof(reason), "%.*s", (int) (s - word), word);
	if (s[0] != ',' || s[1] != ' ')
	{
		p->skip[SH_MSKIP_MALFORMED_LINE]++;
		return;
	}
	s += 2;
	while (isupper((unsigned char) *s))
	{
		/* LOCAL, MYNETS, ORIGINATING ... */
		s += strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
		if (*s == ' ')
			s++;
	}
	sh_ml_ev_init(&ev, L, p);
	r = postfix_client(p, s, &ev, &after);
	if (sh_ml_bad_host(p, r))
	{
		sh_ml_ev_free(&ev);
		return;
	}
	sh_ml_set_text(p, &ev.reason, reason, strlen(reason));
	/* the sender and the recipients: " <s> -> <r>,<r>," */
	v = strstr(after, " <");
	if (v && *(after = sh_ml_addr_end(v + 2, ">")) == '>' && sh_ml_starts(after, "> -> <"))
	{
		sh_ml_set_text(p, &ev.sender, v + 2, (size_t) (after - v - 2));
		s = after + 5;
		while (*s == '<')
		{
			const char *close = sh_ml_addr_end(s + 1, ">");

			if (*close != '>')
				break;
			sh_ml_ev_add_rcpt(p, &ev, s + 1, (size_t) (close - s - 1));
			s = close + 1;
			if (*s == ',' && s[1] == '<')
				s++;
		}
		after = s;
	}
	else
		after = NULL;
	if ((v = sh_ml_find(after ? after : s, ", size: ")) != NULL)
	{
		long		sz = sh_ml_digits(v + 8, &after, 12);

		if (sz >= 0)
			ev.size = sz;
	}
	if (cat_len == 8 && sh_ml_starts(cat, "INFECTED"))
	{
		ev.verdict = SH_VERDICT_VIRUS;
		if (detail)
			sh_ml_set_text(p, &ev.virus, detail, detail_len);
	}
	else if ((cat_len == 4 && sh_ml_starts(cat, "SPAM")) || (cat_len == 6 && sh_ml_starts(cat, "SPAMMY")))
		ev.verdict = SH_VERDICT_SPAM;
	else if (cat_len == 5 && sh_ml_starts(cat, "CLEAN"))
		ev.verdict = SH_VERDICT_CLEAN;
	else
		ev.verdict = word[0] == 'P' ? SH_VERDICT_CLEAN : SH_VERDICT_REJECTED;

	/* SpamAssassin's score, whatever the verdict ("-" when not scanned) */
	if ((v = sh_ml_find(msg, ", Hits: ")) != NULL)
		sh_ml_number_at(v + 8, ev.spam_score, sizeof(ev.spam_score));
	/* with its Queue-ID, the verdict joins Postfix's lines of the message */
	if ((v = sh_ml_find(msg, ", Queue-ID: ")) != NULL)
	{
		v += 12;
		n = strcspn(v, ",");
		if (n > 0 && n <= 20)
		{
			e = sh_ml_pend_get(p, L, v, n, 0);
			if (e == NULL)
				ev.queue_id = sh_ml_text_dup(p, v, n);
		}
	}
	if (e)
	{
		ev_merge(p, &e->ev, &ev);
		sh_ml_ev_free(&ev);
		return;
	}
	sh_ml_ev_emit(p, &ev);
}

/* clamav-milter: "Message QID from <s> to <r> with subject '...' ... infected by NAME". */
static void
clamav_line(sh_maillog *p, const sh_ml_lctx *L, const char *msg)
{
	const char *by = NULL,
			   *at = msg;
	size_t		n;
	sh_ml_pending *e;

	while ((at = strstr(at, " infected by ")) != NULL)
		by = at++;
	if (!sh_ml_starts(msg, "Message ") || by == NULL)
	{
		p->skip[SH_MSKIP_OTHER_LINE]++;
		return;
	}
	n = strcspn(msg + 8, " ");
	e = sh_ml_pend_get(p, L, msg + 8, n, 0);
	if (e == NULL)
	{
		p->skip[SH_MSKIP_OTHER_LINE]++;
		return;
	}
	e->ev.verdict = SH_VERDICT_VIRUS;
	by += 13;
	sh_ml_set_text(p, &e->ev.virus, by, strcspn(by, " "));
	if (e->ev.reason == NULL)
		sh_ml_set_text(p, &e->ev.reason, "clamav-milter", 13);
}

static void
postfix_line(sh_maillog *p, sh_ml_lctx *L, const char *s)
{
	const char *prog;
	size_t		prog_len;
	const char *msg = sh_ml_syslog_header(p, s, L, &prog, &prog_len);

	if (msg == NULL)
		return;
	/* postfix/smtpd, postfix/qmgr, ...; postfix-in/smtpd for a second instance */
	if (prog_len > 8 && strncmp(prog, "postfix", 7) == 0 && memchr(prog, '/', prog_len))
	{
		L->mine = 1;
		postfix_smtp(p, L, msg);
		return;
	}
	if ((prog_len == 6 && strncmp(prog, "amavis", 6) == 0) ||
		(prog_len == 7 && strncmp(prog, "amavisd", 7) == 0) ||
		(prog_len == 11 && strncmp(prog, "amavisd-new", 11) == 0))
	{
		L->mine = 1;
		amavis_line(p, L, msg);
		return;
	}
	if (prog_len == 13 && strncmp(prog, "clamav-milter", 13) == 0)
	{
		L->mine = 1;
		clamav_line(p, L, msg);
		return;
	}
	p->skip[SH_MSKIP_OTHER_PROGRAM]++;
}

const sh_mta_parser sh_mta_postfix = {
	.name = "postfix",
	.mta = SH_MTA_POSTFIX,
	.line = postfix_line,
	.linger = POSTFIX_LINGER,
};
