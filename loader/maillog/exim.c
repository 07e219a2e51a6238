/*
 * loader/maillog/exim.c: Exim's mainlog (or Exim logging through syslog).
 *
 * Exim writes one line per step of a message, keyed by its message id:
 * "<=" its arrival (client, HELO, sender, size), "=>" "->" "**" "==" its
 * recipients, "Completed"; refusals are lines of their own ("rejected RCPT",
 * "rejected after DATA" with the malware and spam ACLs' messages).
 *
 * A message is pending from its arrival until its "Completed" line.
 */
#include "maillog_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Exim's message id: 6-6-2 (Exim 4) or 6-11-4 (4.97 and later). */
static size_t
exim_id_len(const char *s)
{
	size_t		a = 0,
				b,
				c;

	while (isalnum((unsigned char) s[a]))
		a++;
	if (a != 6 || s[a] != '-')
		return 0;
	b = a + 1;
	while (isalnum((unsigned char) s[b]))
		b++;
	if (b - a - 1 != 6 && b - a - 1 != 11)
		return 0;
	if (s[b] != '-')
		return 0;
	c = b + 1;
	while (isalnum((unsigned char) s[c]))
		c++;
	if (c - b - 1 != 2 && c - b - 1 != 4)
		return 0;
	return s[c] == ' ' ? c : 0;
}

/*
 * Exim's H= field: "H=[ip]", "H=name [ip]", "H=(helo) [ip]",
 * "H=name (helo) [ip]", each with an optional ":port". The HELO is shown
 * apart only when it differs from the verified name, so without
 * parentheses the name is the HELO too. 1 found (*after: the end of the
 * field), 0 absent, -1 malformed, -2 a bad address.
 */
static int
exim_host(sh_maillog *p, const char *s, sh_mail_event *ev, const char **after)
{
	const char *h = sh_ml_find(s, " H=");
	const char *name = NULL,
			   *helo = NULL,
			   *ip,
			   *end;
	size_t		name_len = 0,
				helo_len = 0;

	if (sh_ml_starts(s, "H="))
		h = s;
	else if (h)
		h++;
	else
		return 0;
	h += 2;
	if (*h != '[' && *h != '(')
	{
		name = h;
		name_len = strcspn(h, " ");
		h += name_len;
		if (*h == ' ')
			h++;
	}
	if (*h == '(')
	{
		end = strstr(h, ") [");
		if (end == NULL)
			return -1;
		helo = h + 1;
		helo_len = (size_t) (end - helo);
		h = end + 2;
	}
	if (*h != '[')
		return -1;
	ip = h + 1;
	end = strchr(ip, ']');
	if (end == NULL)
		return -1;
	if (!sh_ml_parse_ip(ip, (size_t) (end - ip), ev->client_ip))
	{
		ev->client_ip[0] = '\0';
		return -2;
	}
	*after = end + 1;
	if (end[1] == ':' || end[1] == '.')
	{
		long		port = sh_ml_digits(end + 2, after, 5);

		if (port >= 0 && port <= 65535)
			ev->client_port = (int) port;
	}
	if (name && name_len)
		sh_ml_set_text(p, &ev->client_name, name, name_len);
	if (helo)
		sh_ml_set_text(p, &ev->helo, helo, helo_len);
	else if (name && name_len)
		sh_ml_set_text(p, &ev->helo, name, name_len);
	return 1;
}

static void
exim_message(sh_maillog *p, const sh_ml_lctx *L, const char *s)
{
	size_t		idlen = exim_id_len(s);
	const char *id = idlen ? s : NULL;
	const char *rest = idlen ? s + idlen + 1 : s;
	const char *rej;
	sh_ml_pending *e;

	if (id && sh_ml_starts(rest, "<= "))
	{
		/* arrival: sender, H=, S= (after the sender, which may hold anything
		 * in quotes) */
		sh_mail_event ev;
		const char *sender = rest + 3,
				   *send = sh_ml_addr_end(sender, " "),
				   *after = send,
				   *size;
		size_t		slen = (size_t) (send - sender);
		int			r;

		sh_ml_ev_init(&ev, L, p);
		r = exim_host(p, send, &ev, &after);
		if (sh_ml_bad_host(p, r))
		{
			sh_ml_ev_free(&ev);
			return;
		}
		if (r == 0)
		{
			/* P=local and friends: not from the network */
			p->skip[SH_MSKIP_LOCAL_SUBMISSION]++;
			sh_ml_ev_free(&ev);
			return;
		}
		e = sh_ml_pend_get(p, L, id, idlen, 1);
		if (e == NULL)
		{
			sh_ml_ev_free(&ev);
			return;
		}
		/* the same id again: keep the newest arrival */
		free(ev.queue_id);
		ev.queue_id = e->ev.queue_id;
		e->ev.queue_id = NULL;
		sh_ml_ev_free(&e->ev);
		e->ev = ev;
		if (strcmp(sender, "<>") == 0 || sh_ml_starts(sender, "<> "))
			sh_ml_set_text(p, &e->ev.sender, "", 0);
		else
			sh_ml_set_text(p, &e->ev.sender, sender, slen);
		if ((size = strstr(after, " S=")) != NULL)
		{
			const char *pe;
			long		v = sh_ml_digits(size + 3, &pe, 12);

			if (v >= 0)
				e->ev.size = v;
		}
		return;
	}
	if (id && (sh_ml_starts(rest, "=> ") || sh_ml_starts(rest, "-> ") || sh_ml_starts(rest, "*> ") ||
			   sh_ml_starts(rest, "** ") || sh_ml_starts(rest, "== ")))
	{
		const char *r = rest + 3;
		size_t		n = (size_t) (sh_ml_addr_end(r, " ") - r);

		e = sh_ml_pend_get(p, L, id, idlen, 0);
		if (e == NULL)
		{
			p->skip[SH_MSKIP_OTHER_LINE]++;
			return;
		}
		/* a pipe or file delivery names the address after it: |cmd <a@b>,
		 * "|cmd" <a@b>, /var/mail/x <a@b>; so does a local one: bob <b@c> */
		if (memchr(r, '@', n) == NULL && r[n] == ' ' && r[n + 1] == '<')
		{
			r += n + 2;
			n = (size_t) (sh_ml_addr_end(r, ">") - r);
		}
		sh_ml_ev_add_rcpt(p, &e->ev, r, n);
		return;
	}
	if (id && sh_ml_starts(rest, "Completed"))
	{
		e = sh_ml_pend_get(p, L, id, idlen, 0);
		if (e == NULL)
			p->skip[SH_MSKIP_OTHER_LINE]++;
		else
			sh_ml_pend_drop(p, e, 1);
		return;
	}
	rej = sh_ml_find(rest, " rejected ");
	if (rej && strstr(rest, "H="))
	{
		/* a refusal: at connect, HELO, MAIL, RCPT, or after DATA */
		sh_mail_event ev;
		const char *f,
				   *rcpt,
				   *after;
		size_t		n;
		int			r;

		sh_ml_ev_init(&ev, L, p);
		r = exim_host(p, rest, &ev, &after);
		if (sh_ml_bad_host(p, r) || r == 0)
		{
			if (r == 0)
				p->skip[SH_MSKIP_MALFORMED_LINE]++;
			sh_ml_ev_free(&ev);
			return;
		}
		if (id)
			ev.queue_id = sh_ml_text_dup(p, id, idlen);
		if (sh_ml_angle_field(after, "F=<", &f, &n))
			sh_ml_set_text(p, &ev.sender, f, n);
		if ((rcpt = strstr(rej, "rejected RCPT <")) != NULL)
		{
			rcpt += 15;
			sh_ml_ev_add_rcpt(p, &ev, rcpt, (size_t) (sh_ml_addr_end(rcpt, ">") - rcpt));
		}
		sh_ml_set_text(p, &ev.reason, rej + 1, strlen(rej + 1));
		/* only the content checks after DATA say spam or virus */
		if (sh_ml_starts(rej, " rejected after DATA"))
			ev.verdict = sh_ml_classify(p, &ev, rej + 20);
		else
			ev.verdict = SH_VERDICT_REJECTED;
		if (id && (e = sh_ml_pend_get(p, L, id, idlen, 0)) != NULL)
			sh_ml_pend_drop(p, e, 0);
		sh_ml_ev_emit(p, &ev);
		return;
	}
	p->skip[SH_MSKIP_OTHER_LINE]++;
}

/* An Exim mainlog line: "YYYY-MM-DD hh:mm:ss[.mmm] [+hhmm] [[pid]] ...". */
static void
exim_line(sh_maillog *p, sh_ml_lctx *L, const char *s)
{
	sh_ml_ltime	t;
	const char *e;

	memset(&t, 0, sizeof(t));
	if (!isdigit((unsigned char) s[0]))
	{
		/* Exim logging to syslog */
		const char *prog;
		size_t		prog_len;
		const char *msg = sh_ml_syslog_header(p, s, L, &prog, &prog_len);

		if (msg == NULL)
			return;
		if (!((prog_len == 4 && strncmp(prog, "exim", 4) == 0) ||
			  (prog_len == 5 && strncmp(prog, "exim4", 5) == 0)))
		{
			p->skip[SH_MSKIP_OTHER_PROGRAM]++;
			return;
		}
		L->mine = 1;
		exim_message(p, L, msg);
		return;
	}
	if ((e = sh_ml_date_at(s, &t)) == NULL || *e != ' ' || (e = sh_ml_clock_at(e + 1, &t)) == NULL)
	{
		p->skip[SH_MSKIP_MALFORMED_TIME]++;
		return;
	}
	e = sh_ml_fraction_at(e, &t);
	if (*e == ' ' && (e[1] == '+' || e[1] == '-'))
	{
		/* log_timezone: "+0100" */
		const char *o = sh_ml_offset_at(e + 1, &t, 0);

		if (o && *o == ' ')
			e = o;
		else
		{
			t.off[0] = '\0';
			t.off_secs = 0;
		}
	}
	if (*e != ' ' || !sh_ml_valid_time(&t) || sh_ml_line_time(p, &t, L) != 0)
	{
		p->skip[SH_MSKIP_MALFORMED_TIME]++;
		return;
	}
	e++;
	if (*e == '[')
	{
		/* log_selector +pid */
		const char *close = strchr(e, ']');

		if (close && close[1] == ' ')
			e = close + 2;
	}
	L->mine = 1;
	exim_message(p, L, e);
}

const sh_mta_parser sh_mta_exim = {
	.name = "exim",
	.mta = SH_MTA_EXIM,
	.line = exim_line,
	.linger = 0,
};
