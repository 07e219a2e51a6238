/*
 * loader/maillog/maillog.c: mail server log lines -> mail events.
 *
 * Exim writes one line per step of a message, keyed by its message id:
 * "<=" its arrival (client, HELO, sender, size), "=>" "->" "**" "==" its
 * recipients, "Completed"; refusals are lines of their own ("rejected RCPT",
 * "rejected after DATA" with the malware and spam ACLs' messages).
 *
 * Postfix logs through syslog, one line per daemon and step, keyed by queue
 * id: smtpd "client=", qmgr "from=, size=", the delivery agents "to=",
 * "removed"; refusals are smtpd's (or postscreen's) "reject:" and
 * "milter-reject:" lines (ClamAV and spam milters). amavisd-new adds its
 * verdict (CLEAN, SPAM with SpamAssassin's Hits, INFECTED with the virus
 * name) with the original queue id, and re-injects the message from
 * 127.0.0.1, which is not a client of ours and is left out.
 *
 * A message is pending until its last line: Exim's "Completed"; Postfix's
 * "removed", and then a minute more of log time, since amavisd-new's line
 * may come just after it. At the end of the file every pending message is
 * emitted with what is known of it.
 *
 * Nothing here trusts a line: every field is bounded by the line, text is
 * kept only as valid UTF-8 without control characters, addresses only when
 * inet_pton takes them.
 */
#include "maillog.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NBUCKETS		4096
#define FIELD_MAX		2000	/* longest text kept of one field */
#define POSTFIX_LINGER	60		/* seconds a removed Postfix message waits for amavisd-new */
#define FLUSH_EVERY		1024	/* lines between looks for messages to emit */

typedef struct pending
{
	struct pending *next;
	char	   *key;
	sh_mail_event ev;
} pending;

struct sh_maillog
{
	sh_maillog_config cfg;
	sh_mail_emit emit;
	void	   *arg;
	uint64_t	lines;
	uint64_t	events;
	uint64_t	skip[SH_MSKIP_COUNT_];
	int			needed_year;
	int			oom;
	int			cur_year;		/* --year: the year of the current syslog line */
	int			last_month;
	int64_t		now;			/* seconds of the latest line, for the linger */
	pending    *buckets[NBUCKETS];
	char	   *buf;			/* the current line, NUL-terminated */
};

/* A time read from the start of a line. */
typedef struct ltime
{
	int			y,
				mo,
				d,
				h,
				mi,
				s;
	char		frac[8];		/* ".123456" or "" */
	char		off[12];		/* "+01:00" or "" */
	int			off_secs;
} ltime;

/* The line being read, with its time. */
typedef struct lctx
{
	uint64_t	lineno;
	char		ts[48];
	int64_t		secs;
	const char *host;			/* syslog host or NULL */
	size_t		host_len;
} lctx;

static const char *const skip_names[SH_MSKIP_COUNT_] = {
	"other_program", "other_line", "local_submission", "loopback_client",
	"malformed_time", "malformed_line", "malformed_address", "line_too_long", "binary"
};

const char *
sh_mskip_name(sh_mskip reason)
{
	return reason < SH_MSKIP_COUNT_ ? skip_names[reason] : "unknown";
}

const char *
sh_verdict_name(sh_verdict v)
{
	switch (v)
	{
		case SH_VERDICT_CLEAN:
			return "clean";
		case SH_VERDICT_SPAM:
			return "spam";
		case SH_VERDICT_VIRUS:
			return "virus";
		case SH_VERDICT_REJECTED:
			return "rejected";
	}
	return "clean";
}

int
sh_mta_parse(const char *name, sh_mta *out)
{
	if (strcmp(name, "exim") == 0)
		*out = SH_MTA_EXIM;
	else if (strcmp(name, "postfix") == 0)
		*out = SH_MTA_POSTFIX;
	else
		return -1;
	return 0;
}

/* ---------------------------------------------------------------------------
 * Text.
 * ------------------------------------------------------------------------- */

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t		len;
	unsigned char lo = 0x80,
				hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
	{
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	}
	else
		return 0;
	if (len > n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

/*
 * A copy of s[0..n) fit for the database: valid UTF-8 kept, any other byte
 * and every control character replaced by '?', at most FIELD_MAX bytes.
 */
static char *
text_dup(sh_maillog *p, const char *s, size_t n)
{
	char	   *out;
	size_t		at = 0;

	if (n > FIELD_MAX)
		n = FIELD_MAX;
	out = malloc(n + 1);
	if (out == NULL)
	{
		p->oom = 1;
		return NULL;
	}
	for (size_t i = 0; i < n;)
	{
		const unsigned char *u = (const unsigned char *) s + i;
		size_t		len = utf8_len(u, n - i);

		if (len == 0 || (len == 1 && (u[0] < 0x20 || u[0] == 0x7f)))
		{
			out[at++] = '?';
			i++;
			continue;
		}
		memcpy(out + at, u, len);
		at += len;
		i += len;
	}
	out[at] = '\0';
	return out;
}

static void
set_text(sh_maillog *p, char **field, const char *s, size_t n)
{
	char	   *v = text_dup(p, s, n);

	if (v == NULL)
		return;
	free(*field);
	*field = v;
}

/* s with n bytes: an IPv4 or IPv6 address, written normalised into out. */
static int
parse_ip(const char *s, size_t n, char out[48])
{
	char		buf[64];
	unsigned char bin[16];

	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strncasecmp(buf, "ipv6:", 5) == 0)
		memmove(buf, buf + 5, n - 4);
	if (inet_pton(AF_INET, buf, bin) == 1)
		return inet_ntop(AF_INET, bin, out, 48) != NULL;
	if (inet_pton(AF_INET6, buf, bin) == 1)
	{
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		if (memcmp(bin, mapped, 12) == 0)
			return inet_ntop(AF_INET, bin + 12, out, 48) != NULL;
		return inet_ntop(AF_INET6, bin, out, 48) != NULL;
	}
	return 0;
}

static int
is_loopback(const char *ip)
{
	return starts(ip, "127.") || strcmp(ip, "::1") == 0;
}

/* Decimal digits at s: their value (at most 9 digits), and *end after them. */
static long
digits(const char *s, const char **end, int max)
{
	long		v = 0;
	int			n = 0;

	while (n < max && isdigit((unsigned char) s[n]))
	{
		v = v * 10 + (s[n] - '0');
		n++;
	}
	*end = s + n;
	return n ? v : -1;
}

/*
 * The value of a "name=<value>" field in s: *val and its length, or 0. The
 * last occurrence wins (refusal texts may quote addresses too).
 */
static int
angle_field(const char *s, const char *name, const char **val, size_t *len)
{
	const char *hit = NULL,
			   *at = s,
			   *end;
	size_t		nlen = strlen(name);

	while ((at = strstr(at, name)) != NULL)
	{
		if (at == s || at[-1] == ' ' || at[-1] == ',' || at[-1] == ';')
			hit = at;
		at += nlen;
	}
	if (hit == NULL)
		return 0;
	hit += nlen;
	end = strchr(hit, '>');
	if (end == NULL)
		return 0;
	*val = hit;
	*len = (size_t) (end - hit);
	return 1;
}

/* A number (with an optional sign and decimals) at s, into out. */
static int
number_at(const char *s, char *out, size_t outlen)
{
	size_t		n = 0;

	if (s[n] == '-' || s[n] == '+')
		n++;
	if (!isdigit((unsigned char) s[n]))
		return 0;
	while (isdigit((unsigned char) s[n]))
		n++;
	if (s[n] == '.' && isdigit((unsigned char) s[n + 1]))
	{
		n++;
		while (isdigit((unsigned char) s[n]))
			n++;
	}
	if (n >= outlen || n > 12)
		return 0;
	memcpy(out, s, n);
	out[n] = '\0';
	return 1;
}

/*
 * A refusal's or filter's text: spam, virus or neither. The virus name is
 * the first parenthesised word after the keyword (Exim's "contains a virus
 * (Worm.Mydoom.M)", ClamAV's "Infected (Eicar-Signature)"), or the word
 * after "infected by" or "found:". The spam score is a number after "score"
 * or before "points".
 */
static sh_verdict
classify(sh_maillog *p, sh_mail_event *ev, const char *text)
{
	static const char *const virus_words[] = {"virus", "infected", "malware", "worm", NULL};
	const char *hit = NULL;

	for (int i = 0; virus_words[i] && !hit; i++)
		hit = strcasestr(text, virus_words[i]);
	if (hit)
	{
		const char *open = strchr(hit, '('),
				   *close = open ? strchr(open, ')') : NULL,
				   *word = NULL;
		const char *by = strcasestr(hit, "infected by "),
				   *found = strcasestr(hit, "found: ");

		if (open && close && close > open + 1)
			set_text(p, &ev->virus, open + 1, (size_t) (close - open - 1));
		else if ((word = by ? by + 12 : found ? found + 7 : NULL) != NULL)
		{
			size_t		n = strcspn(word, " ;,)");

			if (n > 0)
				set_text(p, &ev->virus, word, n);
		}
		return SH_VERDICT_VIRUS;
	}
	if (strcasestr(text, "spam"))
	{
		const char *s = strcasestr(text, "score");

		if (s)
		{
			s += 5;
			for (int i = 0; i < 12 && *s && !number_at(s, ev->spam_score, sizeof(ev->spam_score)); i++)
				s++;
		}
		if (ev->spam_score[0] == '\0' && (s = strcasestr(text, " points")) != NULL)
		{
			/* "12.3 points", or "12.3 spam points": the word before */
			const char *b = s;

			while (b > text && b[-1] != ' ')
				b--;
			if (strncasecmp(b, "spam ", 5) == 0 && b - text >= 2)
			{
				b--;
				while (b > text && b[-1] != ' ')
					b--;
			}
			number_at(b, ev->spam_score, sizeof(ev->spam_score));
		}
		return SH_VERDICT_SPAM;
	}
	return SH_VERDICT_REJECTED;
}

/* ---------------------------------------------------------------------------
 * Events and the pending messages.
 * ------------------------------------------------------------------------- */

static void
ev_init(sh_mail_event *ev, const lctx *L, sh_maillog *p)
{
	memset(ev, 0, sizeof(*ev));
	ev->line = L->lineno;
	memcpy(ev->ts, L->ts, sizeof(ev->ts));
	ev->client_port = -1;
	ev->size = -1;
	ev->verdict = SH_VERDICT_CLEAN;
	if (L->host)
		ev->host = text_dup(p, L->host, L->host_len);
	else if (p->cfg.host)
		ev->host = text_dup(p, p->cfg.host, strlen(p->cfg.host));
}

static void
ev_free(sh_mail_event *ev)
{
	free(ev->host);
	free(ev->queue_id);
	free(ev->client_name);
	free(ev->helo);
	free(ev->sender);
	for (size_t i = 0; i < ev->nrcpt; i++)
		free(ev->rcpt[i]);
	free(ev->rcpt);
	free(ev->virus);
	free(ev->reason);
	memset(ev, 0, sizeof(*ev));
}

static void
ev_add_rcpt(sh_maillog *p, sh_mail_event *ev, const char *s, size_t n)
{
	char	   *r;

	if (n == 0)
		return;
	r = text_dup(p, s, n);
	if (r == NULL)
		return;
	for (size_t i = 0; i < ev->nrcpt; i++)
		if (strcmp(ev->rcpt[i], r) == 0)
		{
			free(r);
			return;
		}
	if (ev->nrcpt == ev->rcpt_cap)
	{
		size_t		cap = ev->rcpt_cap ? ev->rcpt_cap * 2 : 4;
		char	  **v = realloc(ev->rcpt, cap * sizeof(char *));

		if (v == NULL)
		{
			free(r);
			p->oom = 1;
			return;
		}
		ev->rcpt = v;
		ev->rcpt_cap = cap;
	}
	ev->rcpt[ev->nrcpt++] = r;
}

/* Hand an event over, unless it has no network client; then free it. */
static void
ev_emit(sh_maillog *p, sh_mail_event *ev)
{
	if (ev->client_ip[0] == '\0')
		p->skip[SH_MSKIP_LOCAL_SUBMISSION]++;
	else if (is_loopback(ev->client_ip))
		p->skip[SH_MSKIP_LOOPBACK_CLIENT]++;
	else
	{
		p->emit(ev, p->arg);
		p->events++;
	}
	ev_free(ev);
}

static unsigned
key_hash(const char *key)
{
	unsigned	h = 2166136261u;

	for (; *key; key++)
		h = (h ^ (unsigned char) *key) * 16777619u;
	return h % NBUCKETS;
}

/* The pending message (host, queue id): found, or created when create. */
static pending *
pend_get(sh_maillog *p, const lctx *L, const char *qid, size_t qlen, int create)
{
	char		key[512];
	int			n = snprintf(key, sizeof(key), "%.*s\n%.*s", (int) (L->host ? L->host_len : 0),
							 L->host ? L->host : "", (int) qlen, qid);
	unsigned	h;
	pending    *e;

	if (n < 0 || (size_t) n >= sizeof(key))
		return NULL;
	h = key_hash(key);
	for (e = p->buckets[h]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	if (!create)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->key = strdup(key)) == NULL)
	{
		free(e);
		p->oom = 1;
		return NULL;
	}
	ev_init(&e->ev, L, p);
	e->ev.queue_id = text_dup(p, qid, qlen);
	e->next = p->buckets[h];
	p->buckets[h] = e;
	return e;
}

static void
pend_drop(sh_maillog *p, pending *e, int emit)
{
	unsigned	h = key_hash(e->key);
	pending   **at = &p->buckets[h];

	while (*at && *at != e)
		at = &(*at)->next;
	if (*at)
		*at = e->next;
	if (emit)
		ev_emit(p, &e->ev);
	else
		ev_free(&e->ev);
	free(e->key);
	free(e);
}

/* Emit the finished messages whose linger is over (all of them at the end). */
static void
pend_flush(sh_maillog *p, int all)
{
	for (int h = 0; h < NBUCKETS; h++)
	{
		pending    *e = p->buckets[h];

		while (e)
		{
			pending    *next = e->next;

			if (all || (e->ev.done && p->now > e->ev.done_at + POSTFIX_LINGER))
				pend_drop(p, e, 1);
			e = next;
		}
	}
}

/* ---------------------------------------------------------------------------
 * Times.
 * ------------------------------------------------------------------------- */

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
valid_time(const ltime *t)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (t->y < 1970 || t->y > 9999 || t->mo < 1 || t->mo > 12 || t->d < 1)
		return 0;
	if (t->d > mdays[t->mo - 1] + (t->mo == 2 && leap(t->y)))
		return 0;
	return t->h >= 0 && t->h <= 23 && t->mi >= 0 && t->mi <= 59 && t->s >= 0 && t->s <= 59;
}

/* Days from 1970-01-01 (Howard Hinnant's days_from_civil). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t		era;
	unsigned	yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned) (y - era * 400);
	doy = (unsigned) ((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t) doe - 719468;
}

static void
time_text(const ltime *t, lctx *L)
{
	snprintf(L->ts, sizeof(L->ts), "%04d-%02d-%02d %02d:%02d:%02d%s%s",
			 t->y, t->mo, t->d, t->h, t->mi, t->s, t->frac, t->off);
	L->secs = days_from_civil(t->y, t->mo, t->d) * 86400 + t->h * 3600 + t->mi * 60 + t->s - t->off_secs;
}

/* "HH:MM:SS" at s. */
static const char *
clock_at(const char *s, ltime *t)
{
	const char *e;

	t->h = (int) digits(s, &e, 2);
	if (e != s + 2 || *e != ':')
		return NULL;
	t->mi = (int) digits(e + 1, &e, 2);
	if (e != s + 5 || *e != ':')
		return NULL;
	t->s = (int) digits(e + 1, &e, 2);
	if (e != s + 8)
		return NULL;
	return e;
}

/* ".fraction" at s, up to microseconds kept. */
static const char *
fraction_at(const char *s, ltime *t)
{
	size_t		n = 1;

	t->frac[0] = '\0';
	if (*s != '.' || !isdigit((unsigned char) s[1]))
		return s;
	while (isdigit((unsigned char) s[n]))
		n++;
	memcpy(t->frac, s, n > 7 ? 7 : n);
	t->frac[n > 7 ? 7 : n] = '\0';
	return s + n;
}

/* "YYYY-MM-DD" at s. */
static const char *
date_at(const char *s, ltime *t)
{
	const char *e;

	t->y = (int) digits(s, &e, 4);
	if (e != s + 4 || *e != '-')
		return NULL;
	t->mo = (int) digits(e + 1, &e, 2);
	if (e != s + 7 || *e != '-')
		return NULL;
	t->d = (int) digits(e + 1, &e, 2);
	if (e != s + 10)
		return NULL;
	return e;
}

/* An offset "+HH:MM", "+HHMM" or "Z" at s. */
static const char *
offset_at(const char *s, ltime *t, int colon)
{
	const char *e;
	int			hh,
				mm;

	t->off[0] = '\0';
	t->off_secs = 0;
	if (*s == 'Z')
	{
		snprintf(t->off, sizeof(t->off), "+00:00");
		return s + 1;
	}
	if (*s != '+' && *s != '-')
		return NULL;
	hh = (int) digits(s + 1, &e, 2);
	if (e != s + 3)
		return NULL;
	if (colon)
	{
		if (*e != ':')
			return NULL;
		e++;
	}
	mm = (int) digits(e, &e, 2);
	if (hh < 0 || mm < 0 || hh > 14 || mm > 59)
		return NULL;
	snprintf(t->off, sizeof(t->off), "%c%02d:%02d", *s, hh, mm);
	t->off_secs = (*s == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
	return e;
}

/*
 * The year of a syslog line: from --year and the months seen so far, or
 * from the file's modification time.
 */
static int
syslog_year(sh_maillog *p, int month, int day)
{
	p->needed_year = 1;
	if (p->cfg.year > 0)
	{
		if (p->cur_year == 0)
			p->cur_year = p->cfg.year;
		else if (month < p->last_month - 6)
			p->cur_year++;
		p->last_month = month;
		return p->cur_year;
	}
	if (month > p->cfg.ref_month || (month == p->cfg.ref_month && day > p->cfg.ref_day + 1))
		return p->cfg.ref_year - 1;
	return p->cfg.ref_year;
}

/*
 * A syslog header: "Mmm dd hh:mm:ss host prog[pid]: " (BSD) or
 * "YYYY-MM-DDThh:mm:ss[.frac]+hh:mm host prog[pid]: " (RFC 3339). Sets the
 * time, host and program; returns the message, or NULL (*bad_time tells
 * whether the time was what failed).
 */
static const char *
syslog_header(sh_maillog *p, const char *s, lctx *L, const char **prog, size_t *prog_len, int *bad_time)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	ltime		t;
	const char *e;

	memset(&t, 0, sizeof(t));
	*bad_time = 1;
	if (isdigit((unsigned char) s[0]))
	{
		if ((e = date_at(s, &t)) == NULL || *e != 'T' || (e = clock_at(e + 1, &t)) == NULL)
			return NULL;
		e = fraction_at(e, &t);
		if ((e = offset_at(e, &t, 1)) == NULL || *e != ' ')
			return NULL;
	}
	else
	{
		const char *m;

		if (strlen(s) < 16 || s[3] != ' ')
			return NULL;
		m = strstr(months, (char[4]) {s[0], s[1], s[2], '\0'});
		if (m == NULL || (m - months) % 3 != 0)
			return NULL;
		t.mo = (int) ((m - months) / 3) + 1;
		if (s[4] == ' ')
			t.d = (int) digits(s + 5, &e, 1);
		else
			t.d = (int) digits(s + 4, &e, 2);
		if (t.d < 1 || *e != ' ' || (e = clock_at(e + 1, &t)) == NULL)
			return NULL;
		e = fraction_at(e, &t);
		if (*e != ' ')
			return NULL;
		t.y = syslog_year(p, t.mo, t.d);
	}
	if (!valid_time(&t))
		return NULL;
	time_text(&t, L);
	*bad_time = 0;

	/* host and program */
	s = e + 1;
	L->host = s;
	L->host_len = strcspn(s, " ");
	if (L->host_len == 0 || s[L->host_len] != ' ')
		return NULL;
	s += L->host_len + 1;
	*prog = s;
	*prog_len = strcspn(s, "[: ");
	if (*prog_len == 0)
		return NULL;
	s += *prog_len;
	if (*s == '[')
	{
		s = strchr(s, ']');
		if (s == NULL)
			return NULL;
		s++;
	}
	if (s[0] != ':' || s[1] != ' ')
		return NULL;
	return s + 2;
}

/* ---------------------------------------------------------------------------
 * Exim.
 * ------------------------------------------------------------------------- */

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
 * parentheses the name is the HELO too. 1 found, 0 absent, -1 malformed,
 * -2 a bad address.
 */
static int
exim_host(sh_maillog *p, const char *s, sh_mail_event *ev)
{
	const char *h = strstr(s, " H=");
	const char *name = NULL,
			   *helo = NULL,
			   *ip,
			   *end;
	size_t		name_len = 0,
				helo_len = 0;

	if (starts(s, "H="))
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
	if (!parse_ip(ip, (size_t) (end - ip), ev->client_ip))
	{
		ev->client_ip[0] = '\0';
		return -2;
	}
	if (end[1] == ':' || end[1] == '.')
	{
		const char *pe;
		long		port = digits(end + 2, &pe, 5);

		if (port >= 0 && port <= 65535)
			ev->client_port = (int) port;
	}
	if (name && name_len)
		set_text(p, &ev->client_name, name, name_len);
	if (helo)
		set_text(p, &ev->helo, helo, helo_len);
	else if (name && name_len)
		set_text(p, &ev->helo, name, name_len);
	return 1;
}

static int
bad_host(sh_maillog *p, int r)
{
	if (r == -1)
		p->skip[SH_MSKIP_MALFORMED_LINE]++;
	else if (r == -2)
		p->skip[SH_MSKIP_MALFORMED_ADDRESS]++;
	return r < 0;
}

static void
exim_message(sh_maillog *p, const lctx *L, const char *s)
{
	size_t		idlen = exim_id_len(s);
	const char *id = idlen ? s : NULL;
	const char *rest = idlen ? s + idlen + 1 : s;
	const char *rej;
	pending    *e;

	if (id && starts(rest, "<= "))
	{
		/* arrival: sender, H=, S= */
		sh_mail_event ev;
		const char *sender = rest + 3,
				   *size;
		size_t		slen = strcspn(sender, " ");
		int			r;

		ev_init(&ev, L, p);
		r = exim_host(p, rest, &ev);
		if (bad_host(p, r))
		{
			ev_free(&ev);
			return;
		}
		if (r == 0)
		{
			/* P=local and friends: not from the network */
			p->skip[SH_MSKIP_LOCAL_SUBMISSION]++;
			ev_free(&ev);
			return;
		}
		e = pend_get(p, L, id, idlen, 1);
		if (e == NULL)
		{
			ev_free(&ev);
			return;
		}
		/* the same id again: keep the newest arrival */
		free(ev.queue_id);
		ev.queue_id = e->ev.queue_id;
		e->ev.queue_id = NULL;
		ev_free(&e->ev);
		e->ev = ev;
		if (strcmp(sender, "<>") == 0 || starts(sender, "<> "))
			set_text(p, &e->ev.sender, "", 0);
		else
			set_text(p, &e->ev.sender, sender, slen);
		if ((size = strstr(rest, " S=")) != NULL)
		{
			const char *pe;
			long		v = digits(size + 3, &pe, 12);

			if (v >= 0)
				e->ev.size = v;
		}
		return;
	}
	if (id && (starts(rest, "=> ") || starts(rest, "-> ") || starts(rest, "*> ") ||
			   starts(rest, "** ") || starts(rest, "== ")))
	{
		const char *r = rest + 3;
		size_t		n = strcspn(r, " ");

		e = pend_get(p, L, id, idlen, 0);
		if (e == NULL)
		{
			p->skip[SH_MSKIP_OTHER_LINE]++;
			return;
		}
		/* a pipe or file delivery names the address after it: |cmd <a@b>,
		 * "|cmd" <a@b>, /var/mail/x <a@b> */
		if (r[0] == '"')
		{
			const char *q = strchr(r + 1, '"');

			n = q ? (size_t) (q - r + 1) : n;
		}
		if (memchr(r, '@', n) == NULL && r[n] == ' ' && r[n + 1] == '<')
		{
			r += n + 2;
			n = strcspn(r, ">");
		}
		ev_add_rcpt(p, &e->ev, r, n);
		return;
	}
	if (id && starts(rest, "Completed"))
	{
		e = pend_get(p, L, id, idlen, 0);
		if (e == NULL)
			p->skip[SH_MSKIP_OTHER_LINE]++;
		else
			pend_drop(p, e, 1);
		return;
	}
	rej = strstr(rest, " rejected ");
	if (rej && strstr(rest, "H="))
	{
		/* a refusal: at connect, HELO, MAIL, RCPT, or after DATA */
		sh_mail_event ev;
		const char *f,
				   *rcpt;
		size_t		n;
		int			r;

		ev_init(&ev, L, p);
		r = exim_host(p, rest, &ev);
		if (bad_host(p, r) || r == 0)
		{
			if (r == 0)
				p->skip[SH_MSKIP_MALFORMED_LINE]++;
			ev_free(&ev);
			return;
		}
		if (id)
			ev.queue_id = text_dup(p, id, idlen);
		if (angle_field(rest, "F=<", &f, &n))
			set_text(p, &ev.sender, f, n);
		if ((rcpt = strstr(rej, "rejected RCPT <")) != NULL)
		{
			rcpt += 15;
			ev_add_rcpt(p, &ev, rcpt, strcspn(rcpt, ">"));
		}
		set_text(p, &ev.reason, rej + 1, strlen(rej + 1));
		/* only the content checks after DATA say spam or virus */
		if (starts(rej, " rejected after DATA"))
			ev.verdict = classify(p, &ev, rej + 20);
		else
			ev.verdict = SH_VERDICT_REJECTED;
		if (id && (e = pend_get(p, L, id, idlen, 0)) != NULL)
			pend_drop(p, e, 0);
		ev_emit(p, &ev);
		return;
	}
	p->skip[SH_MSKIP_OTHER_LINE]++;
}

/* An Exim mainlog line: "YYYY-MM-DD hh:mm:ss[.mmm] [+hhmm] [[pid]] ...". */
static void
exim_line(sh_maillog *p, lctx *L, const char *s)
{
	ltime		t;
	const char *e;

	memset(&t, 0, sizeof(t));
	if (!isdigit((unsigned char) s[0]))
	{
		/* Exim logging to syslog */
		const char *prog;
		size_t		prog_len;
		int			bad_time;
		const char *msg = syslog_header(p, s, L, &prog, &prog_len, &bad_time);

		if (msg == NULL)
		{
			p->skip[bad_time ? SH_MSKIP_MALFORMED_TIME : SH_MSKIP_MALFORMED_LINE]++;
			return;
		}
		if (!((prog_len == 4 && strncmp(prog, "exim", 4) == 0) ||
			  (prog_len == 5 && strncmp(prog, "exim4", 5) == 0)))
		{
			p->skip[SH_MSKIP_OTHER_PROGRAM]++;
			return;
		}
		exim_message(p, L, msg);
		return;
	}
	if ((e = date_at(s, &t)) == NULL || *e != ' ' || (e = clock_at(e + 1, &t)) == NULL)
	{
		p->skip[SH_MSKIP_MALFORMED_TIME]++;
		return;
	}
	e = fraction_at(e, &t);
	if (*e == ' ' && (e[1] == '+' || e[1] == '-'))
	{
		/* log_timezone: "+0100" */
		const char *o = offset_at(e + 1, &t, 0);

		if (o && *o == ' ')
			e = o;
		else
		{
			t.off[0] = '\0';
			t.off_secs = 0;
		}
	}
	if (*e != ' ' || !valid_time(&t))
	{
		p->skip[SH_MSKIP_MALFORMED_TIME]++;
		return;
	}
	time_text(&t, L);
	e++;
	if (*e == '[')
	{
		/* log_selector +pid */
		const char *close = strchr(e, ']');

		if (close && close[1] == ' ')
			e = close + 2;
	}
	exim_message(p, L, e);
}

/* ---------------------------------------------------------------------------
 * Postfix, amavisd-new, clamav-milter.
 * ------------------------------------------------------------------------- */

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
	if (!parse_ip(open + 1, (size_t) (close - open - 1), ev->client_ip))
	{
		ev->client_ip[0] = '\0';
		return -2;
	}
	*end = close + 1;
	if (close[1] == ':' && isdigit((unsigned char) close[2]))
	{
		long		port = digits(close + 2, end, 5);

		if (port >= 0 && port <= 65535)
			ev->client_port = (int) port;
	}
	if (name_len > 0 && !(name_len == 7 && strncmp(s, "unknown", 7) == 0))
		set_text(p, &ev->client_name, s, name_len);
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
	while ((at = strstr(at, "; ")) != NULL)
	{
		if (starts(at + 2, "from=<") || starts(at + 2, "proto="))
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
		set_text(p, &ev->reason, reason, strlen(reason));
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
				set_text(p, &ev->reason, buf, hl + n);
				free(buf);
			}
		}
	}
	if (*fields)
	{
		if (angle_field(fields, "from=<", &v, &n))
			set_text(p, &ev->sender, v, n);
		if (angle_field(fields, "to=<", &v, &n))
			ev_add_rcpt(p, ev, v, n);
		if (angle_field(fields, "helo=<", &v, &n) && n > 0)
			set_text(p, &ev->helo, v, n);
	}
	ev->verdict = content && ev->reason ? classify(p, ev, ev->reason) : SH_VERDICT_REJECTED;
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
		memcpy(dst->ts, src->ts, sizeof(dst->ts));
	}
	if (dst->size < 0)
		dst->size = src->size;
	for (size_t i = 0; i < src->nrcpt; i++)
		ev_add_rcpt(p, dst, src->rcpt[i], strlen(src->rcpt[i]));
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
postfix_smtp(sh_maillog *p, const lctx *L, const char *msg)
{
	size_t		idlen = postfix_id_len(msg);
	const char *rest = msg + idlen + 2;
	pending    *e;
	const char *v,
			   *after;
	size_t		n;
	int			r;

	if (starts(msg, "NOQUEUE: "))
	{
		int			milter = starts(msg + 9, "milter-reject: ");

		if (milter || starts(msg + 9, "reject: "))
		{
			sh_mail_event ev;

			ev_init(&ev, L, p);
			r = postfix_reject(p, msg + 9 + (milter ? 15 : 8), &ev, milter);
			if (bad_host(p, r))
				ev_free(&ev);
			else
				ev_emit(p, &ev);
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
	if (starts(rest, "client="))
	{
		sh_mail_event ev;

		ev_init(&ev, L, p);
		r = postfix_client(p, rest + 7, &ev, &after);
		if (bad_host(p, r))
		{
			ev_free(&ev);
			return;
		}
		e = pend_get(p, L, msg, idlen, 1);
		if (e)
			ev_merge(p, &e->ev, &ev);
		ev_free(&ev);
		return;
	}
	if (starts(rest, "reject: ") || starts(rest, "milter-reject: "))
	{
		int			milter = starts(rest, "milter-reject: ");
		sh_mail_event ev;

		ev_init(&ev, L, p);
		r = postfix_reject(p, rest + (milter ? 15 : 8), &ev, milter);
		if (bad_host(p, r))
		{
			ev_free(&ev);
			return;
		}
		e = pend_get(p, L, msg, idlen, 0);
		if (e && ev.helo && e->ev.helo == NULL)
			set_text(p, &e->ev.helo, ev.helo, strlen(ev.helo));
		if (e == NULL || starts(rest + (milter ? 15 : 8), "RCPT "))
		{
			/* one recipient refused (the message may go on for the others),
			 * or a message whose start we did not see */
			ev.queue_id = text_dup(p, msg, idlen);
			ev_emit(p, &ev);
			return;
		}
		/* the message refused: it ends here */
		ev_merge(p, &e->ev, &ev);
		ev_free(&ev);
		pend_drop(p, e, 1);
		return;
	}
	e = pend_get(p, L, msg, idlen, 0);
	if (e == NULL)
	{
		/* a message of which we saw no client: pickup, or an older log */
		if (starts(rest, "uid=") || starts(rest, "from=<"))
		{
			e = pend_get(p, L, msg, idlen, 1);
			if (e && starts(rest, "from=<") && angle_field(rest, "from=<", &v, &n))
				set_text(p, &e->ev.sender, v, n);
			return;
		}
		p->skip[SH_MSKIP_OTHER_LINE]++;
		return;
	}
	if (starts(rest, "from=<"))
	{
		const char *size = strstr(rest, ", size=");

		if (angle_field(rest, "from=<", &v, &n))
			set_text(p, &e->ev.sender, v, n);
		if (size)
		{
			long		sz = digits(size + 7, &after, 12);

			if (sz >= 0)
				e->ev.size = sz;
		}
		return;
	}
	if (starts(rest, "to=<"))
	{
		if (angle_field(rest, "to=<", &v, &n))
			ev_add_rcpt(p, &e->ev, v, n);
		return;
	}
	if (strcmp(rest, "removed") == 0)
	{
		e->ev.done = 1;
		e->ev.done_at = L->secs;
		return;
	}
	if (starts(rest, "discard: ") || starts(rest, "hold: ") || starts(rest, "info: ") ||
		starts(rest, "warning: header ") || starts(rest, "warning: body "))
	{
		/* header_checks actions: the HELO is in the fields */
		if (angle_field(rest, "helo=<", &v, &n) && n > 0 && e->ev.helo == NULL)
			set_text(p, &e->ev.helo, v, n);
		if (starts(rest, "discard: ") || starts(rest, "hold: "))
		{
			char		reason[64];

			snprintf(reason, sizeof(reason), "%.*s by header or body check",
					 (int) strcspn(rest, ":"), rest);
			set_text(p, &e->ev.reason, reason, strlen(reason));
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
amavis_line(sh_maillog *p, const lctx *L, const char *msg)
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
	pending    *e = NULL;
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
	if (!((word_len == 6 && starts(s, "Passed")) || (word_len == 7 && starts(s, "Blocked")) ||
		  (word_len == 13 && starts(s, "Not-Delivered"))))
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
	if (starts(s, " ("))
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
	if (starts(s, " {"))
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
	ev_init(&ev, L, p);
	r = postfix_client(p, s, &ev, &after);
	if (bad_host(p, r))
	{
		ev_free(&ev);
		return;
	}
	set_text(p, &ev.reason, reason, strlen(reason));
	/* the sender and the recipients: " <s> -> <r>,<r>," */
	v = strstr(after, " <");
	if (v && (after = strstr(v, "> -> <")) != NULL)
	{
		set_text(p, &ev.sender, v + 2, (size_t) (after - v - 2));
		s = after + 5;
		while (*s == '<')
		{
			const char *close = strchr(s, '>');

			if (close == NULL)
				break;
			ev_add_rcpt(p, &ev, s + 1, (size_t) (close - s - 1));
			s = close + 1;
			if (*s == ',' && s[1] == '<')
				s++;
		}
	}
	if ((v = strstr(after ? after : s, ", size: ")) != NULL)
	{
		long		sz = digits(v + 8, &after, 12);

		if (sz >= 0)
			ev.size = sz;
	}
	if (cat_len == 8 && starts(cat, "INFECTED"))
	{
		ev.verdict = SH_VERDICT_VIRUS;
		if (detail)
			set_text(p, &ev.virus, detail, detail_len);
	}
	else if ((cat_len == 4 && starts(cat, "SPAM")) || (cat_len == 6 && starts(cat, "SPAMMY")))
		ev.verdict = SH_VERDICT_SPAM;
	else if (cat_len == 5 && starts(cat, "CLEAN"))
		ev.verdict = SH_VERDICT_CLEAN;
	else
		ev.verdict = word[0] == 'P' ? SH_VERDICT_CLEAN : SH_VERDICT_REJECTED;

	/* SpamAssassin's score, whatever the verdict ("-" when not scanned) */
	if ((v = strstr(msg, ", Hits: ")) != NULL)
		number_at(v + 8, ev.spam_score, sizeof(ev.spam_score));
	/* with its Queue-ID, the verdict joins Postfix's lines of the message */
	if ((v = strstr(msg, ", Queue-ID: ")) != NULL)
	{
		v += 12;
		n = strcspn(v, ",");
		if (n > 0 && n <= 20)
		{
			e = pend_get(p, L, v, n, 0);
			if (e == NULL)
				ev.queue_id = text_dup(p, v, n);
		}
	}
	if (e)
	{
		ev_merge(p, &e->ev, &ev);
		ev_free(&ev);
		return;
	}
	ev_emit(p, &ev);
}

/* clamav-milter: "Message QID from <s> to <r> with subject '...' ... infected by NAME". */
static void
clamav_line(sh_maillog *p, const lctx *L, const char *msg)
{
	const char *by = NULL,
			   *at = msg;
	size_t		n;
	pending    *e;

	while ((at = strstr(at, " infected by ")) != NULL)
		by = at++;
	if (!starts(msg, "Message ") || by == NULL)
	{
		p->skip[SH_MSKIP_OTHER_LINE]++;
		return;
	}
	n = strcspn(msg + 8, " ");
	e = pend_get(p, L, msg + 8, n, 0);
	if (e == NULL)
	{
		p->skip[SH_MSKIP_OTHER_LINE]++;
		return;
	}
	e->ev.verdict = SH_VERDICT_VIRUS;
	by += 13;
	set_text(p, &e->ev.virus, by, strcspn(by, " "));
	if (e->ev.reason == NULL)
		set_text(p, &e->ev.reason, "clamav-milter", 13);
}

static void
postfix_line(sh_maillog *p, lctx *L, const char *s)
{
	const char *prog;
	size_t		prog_len;
	int			bad_time;
	const char *msg = syslog_header(p, s, L, &prog, &prog_len, &bad_time);

	if (msg == NULL)
	{
		p->skip[bad_time ? SH_MSKIP_MALFORMED_TIME : SH_MSKIP_MALFORMED_LINE]++;
		return;
	}
	/* postfix/smtpd, postfix/qmgr, ...; postfix-in/smtpd for a second instance */
	if (prog_len > 8 && strncmp(prog, "postfix", 7) == 0 && memchr(prog, '/', prog_len))
	{
		postfix_smtp(p, L, msg);
		return;
	}
	if ((prog_len == 6 && strncmp(prog, "amavis", 6) == 0) ||
		(prog_len == 7 && strncmp(prog, "amavisd", 7) == 0) ||
		(prog_len == 11 && strncmp(prog, "amavisd-new", 11) == 0))
	{
		amavis_line(p, L, msg);
		return;
	}
	if (prog_len == 13 && strncmp(prog, "clamav-milter", 13) == 0)
	{
		clamav_line(p, L, msg);
		return;
	}
	p->skip[SH_MSKIP_OTHER_PROGRAM]++;
}

/* ---------------------------------------------------------------------------
 * The parser.
 * ------------------------------------------------------------------------- */

sh_maillog *
sh_maillog_new(const sh_maillog_config *cfg, sh_mail_emit emit, void *arg)
{
	sh_maillog *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->cfg = *cfg;
	p->emit = emit;
	p->arg = arg;
	p->buf = malloc(SH_MAILLOG_LINE_MAX + 1);
	if (p->buf == NULL)
	{
		free(p);
		return NULL;
	}
	return p;
}

void
sh_maillog_line(sh_maillog *p, const char *line, size_t len)
{
	lctx		L;

	p->lines++;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
	{
		p->skip[SH_MSKIP_OTHER_LINE]++;
		return;
	}
	if (len > SH_MAILLOG_LINE_MAX)
	{
		p->skip[SH_MSKIP_LINE_TOO_LONG]++;
		return;
	}
	if (memchr(line, '\0', len))
	{
		p->skip[SH_MSKIP_BINARY]++;
		return;
	}
	memcpy(p->buf, line, len);
	p->buf[len] = '\0';
	memset(&L, 0, sizeof(L));
	L.lineno = p->lines;
	if (p->cfg.mta == SH_MTA_EXIM)
		exim_line(p, &L, p->buf);
	else
		postfix_line(p, &L, p->buf);
	if (L.secs > p->now)
		p->now = L.secs;
	if (p->lines % FLUSH_EVERY == 0)
		pend_flush(p, 0);
}

void
sh_maillog_finish(sh_maillog *p)
{
	pend_flush(p, 1);
}

void
sh_maillog_free(sh_maillog *p)
{
	if (p == NULL)
		return;
	for (int h = 0; h < NBUCKETS; h++)
		while (p->buckets[h])
			pend_drop(p, p->buckets[h], 0);
	free(p->buf);
	free(p);
}

uint64_t
sh_maillog_lines(const sh_maillog *p)
{
	return p->lines;
}

uint64_t
sh_maillog_events(const sh_maillog *p)
{
	return p->events;
}

uint64_t
sh_maillog_malformed(const sh_maillog *p)
{
	uint64_t	n = 0;

	for (int i = SH_MSKIP_FIRST_MALFORMED; i < SH_MSKIP_COUNT_; i++)
		n += p->skip[i];
	return n;
}

uint64_t
sh_maillog_skipped(const sh_maillog *p, sh_mskip reason)
{
	return reason < SH_MSKIP_COUNT_ ? p->skip[reason] : 0;
}

int
sh_maillog_needed_year(const sh_maillog *p)
{
	return p->needed_year;
}

int
sh_maillog_oom(const sh_maillog *p)
{
	return p->oom;
}
