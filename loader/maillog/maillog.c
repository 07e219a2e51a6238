/*
 * loader/maillog/maillog.c: mail server log lines -> mail events, what every
 * MTA's parser shares: the parser and its counts, text and addresses, the
 * events, and the messages pending by queue id. Each line goes to the parser
 * of its MTA in mtas[] (exim.c, postfix.c); times.c reads the times.
 *
 * A message is pending until its last line (Exim's "Completed", Postfix's
 * "removed"), and then its MTA's linger of log time. At the end of the file
 * every pending message is emitted with what is known of it.
 *
 * Nothing here trusts a line: every field is bounded by the line, text is
 * kept only as valid UTF-8 without control characters, addresses only when
 * inet_pton takes them.
 */
#include "maillog_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#define FIELD_MAX		2000	/* longest text kept of one field */
#define FLUSH_EVERY		1024	/* lines between looks for messages to emit */

/* The MTAs --format names. */
static const sh_mta_parser *const mtas[] = {&sh_mta_exim, &sh_mta_postfix};

#define NMTAS (sizeof(mtas) / sizeof(mtas[0]))

static const char *const skip_names[SH_MSKIP_COUNT_] = {
	"other_program", "other_line", "local_submission", "loopback_client", "ambiguous_time",
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
	for (size_t i = 0; i < NMTAS; i++)
		if (strcmp(name, mtas[i]->name) == 0)
		{
			*out = mtas[i]->mta;
			return 0;
		}
	return -1;
}

/* ---------------------------------------------------------------------------
 * Text.
 * ------------------------------------------------------------------------- */

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
 * Whether the UTF-8 sequence u (len bytes, valid) is a control or format
 * character that must not reach a report: a C0 control or DEL, a C1 control
 * (U+0080-U+009F), the Arabic letter mark U+061C, the marks U+200E and
 * U+200F, the line and paragraph separators U+2028 and U+2029, and the
 * bidirectional embeddings, overrides (U+202A-U+202E) and isolates
 * (U+2066-U+2069). The database refuses them in every column a report
 * shows (spamhints.plain_text()).
 */
static int
is_control_or_format(const unsigned char *u, size_t len)
{
	if (len == 1)
		return u[0] < 0x20 || u[0] == 0x7f;
	if (len == 2)
		return (u[0] == 0xC2 && u[1] <= 0x9F) || (u[0] == 0xD8 && u[1] == 0x9C);
	if (len == 3 && u[0] == 0xE2 && u[1] == 0x80)
		return u[2] == 0x8E || u[2] == 0x8F || (u[2] >= 0xA8 && u[2] <= 0xAE);
	if (len == 3 && u[0] == 0xE2 && u[1] == 0x81)
		return u[2] >= 0xA6 && u[2] <= 0xA9;
	return 0;
}

/*
 * A copy of s[0..n) fit for the database: valid UTF-8 kept, any other byte
 * and every control or format character (is_control_or_format) replaced by
 * one '?', at most FIELD_MAX bytes. Every text field of an event is made by
 * it, so an outsider's bytes never fail a load; the replacements are not
 * counted.
 */
char *
sh_ml_text_dup(sh_maillog *p, const char *s, size_t n)
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

		if (len == 0 || is_control_or_format(u, len))
		{
			/* a bad byte, or a whole character: one '?' */
			out[at++] = '?';
			i += len > 0 ? len : 1;
			continue;
		}
		memcpy(out + at, u, len);
		at += len;
		i += len;
	}
	out[at] = '\0';
	return out;
}

void
sh_ml_set_text(sh_maillog *p, char **field, const char *s, size_t n)
{
	char	   *v = sh_ml_text_dup(p, s, n);

	if (v == NULL)
		return;
	free(*field);
	*field = v;
}

/* s with n bytes: an IPv4 or IPv6 address, written normalised into out. */
int
sh_ml_parse_ip(const char *s, size_t n, char out[48])
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
	return sh_ml_starts(ip, "127.") || strcmp(ip, "::1") == 0;
}

/* Decimal digits at s: their value (at most 9 digits), and *end after them. */
long
sh_ml_digits(const char *s, const char **end, int max)
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
 * The end of the address at s: the first byte of stops after it, or the end
 * of s. A local part in double quotes (RFC 5321's quoted string, with
 * backslash escapes) is read whole, whatever it holds, when its closing
 * quote is followed by '@', by a byte of stops or by the end; a quote that
 * is not closed so is an ordinary byte.
 */
const char *
sh_ml_addr_end(const char *s, const char *stops)
{
	if (*s == '"')
	{
		const char *q = s + 1;

		while (*q && *q != '"')
			q += q[0] == '\\' && q[1] ? 2 : 1;
		if (*q == '"' && (q[1] == '\0' || q[1] == '@' || strchr(stops, q[1]) != NULL))
			s = q + 1;
	}
	return s + strcspn(s, stops);
}

/*
 * The first needle in s outside the quoted addresses in angle brackets
 * (<"...">): the text of a field is never read inside an address. An
 * address is skipped only when a '>' follows, so each is read once.
 */
const char *
sh_ml_find(const char *s, const char *needle)
{
	size_t		nlen = strlen(needle);
	const char *gt = NULL;		/* the next '>' once looked for */
	int			looked = 0;

	while (*s)
	{
		if (strncmp(s, needle, nlen) == 0)
			return s;
		if (s[0] == '<' && s[1] == '"')
		{
			if (!looked || (gt != NULL && gt < s))
			{
				gt = strchr(s, '>');
				looked = 1;
			}
			if (gt != NULL)
			{
				const char *end = sh_ml_addr_end(s + 1, ">");

				if (*end == '>')
				{
					s = end;
					continue;
				}
			}
		}
		s++;
	}
	return NULL;
}

/*
 * The value of a "name=<value>" field in s: *val and its length, or 0. The
 * last occurrence wins (refusal texts may quote addresses too); occurrences
 * inside a quoted address do not count, and the value is an address, read
 * by sh_ml_addr_end().
 */
int
sh_ml_angle_field(const char *s, const char *name, const char **val, size_t *len)
{
	const char *hit = NULL,
			   *at = s,
			   *end;
	size_t		nlen = strlen(name);

	while ((at = sh_ml_find(at, name)) != NULL)
	{
		if (at == s || at[-1] == ' ' || at[-1] == ',' || at[-1] == ';')
			hit = at;
		at += nlen;
		/* an address value: the next occurrence is after it; with no end,
		 * there is no value */
		end = sh_ml_addr_end(at, ">");
		if (*end != '>')
			break;
		at = end;
	}
	if (hit == NULL)
		return 0;
	hit += nlen;
	end = sh_ml_addr_end(hit, ">");
	if (*end != '>')
		return 0;
	*val = hit;
	*len = (size_t) (end - hit);
	return 1;
}

/* A number (with an optional sign and decimals) at s, into out. */
int
sh_ml_number_at(const char *s, char *out, size_t outlen)
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
sh_verdict
sh_ml_classify(sh_maillog *p, sh_mail_event *ev, const char *text)
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
			sh_ml_set_text(p, &ev->virus, open + 1, (size_t) (close - open - 1));
		else if ((word = by ? by + 12 : found ? found + 7 : NULL) != NULL)
		{
			size_t		n = strcspn(word, " ;,)");

			if (n > 0)
				sh_ml_set_text(p, &ev->virus, word, n);
		}
		return SH_VERDICT_VIRUS;
	}
	if (strcasestr(text, "spam"))
	{
		const char *s = strcasestr(text, "score");

		if (s)
		{
			s += 5;
			for (int i = 0; i < 12 && *s && !sh_ml_number_at(s, ev->spam_score, sizeof(ev->spam_score)); i++)
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
			sh_ml_number_at(b, ev->spam_score, sizeof(ev->spam_score));
		}
		return SH_VERDICT_SPAM;
	}
	return SH_VERDICT_REJECTED;
}

/* ---------------------------------------------------------------------------
 * Events and the pending messages.
 * ------------------------------------------------------------------------- */

void
sh_ml_ev_init(sh_mail_event *ev, const sh_ml_lctx *L, sh_maillog *p)
{
	memset(ev, 0, sizeof(*ev));
	ev->line = L->lineno;
	ev->has_key = sh_ml_line_key(p, L, ev->line_key);
	ev->line_count = 1;
	ev->last_line = L->lineno;
	memcpy(ev->ts, L->ts, sizeof(ev->ts));
	ev->secs = L->secs;
	ev->client_port = -1;
	ev->size = -1;
	ev->verdict = SH_VERDICT_CLEAN;
	ev->ts_fold = L->fold;
	if (L->host)
		ev->host = sh_ml_text_dup(p, L->host, L->host_len);
	else if (p->cfg.host)
		ev->host = sh_ml_text_dup(p, p->cfg.host, strlen(p->cfg.host));
}

void
sh_ml_ev_free(sh_mail_event *ev)
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

void
sh_ml_ev_add_rcpt(sh_maillog *p, sh_mail_event *ev, const char *s, size_t n)
{
	char	   *r;

	if (n == 0)
		return;
	r = sh_ml_text_dup(p, s, n);
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

/*
 * Hand an event over, unless it has no network client or its time cannot
 * be told; then free it. An event whose time is not told yet is held (moved
 * to p->held) until it is.
 */
void
sh_ml_ev_emit(sh_maillog *p, sh_mail_event *ev)
{
	if (ev->client_ip[0] == '\0')
		p->skip[SH_MSKIP_LOCAL_SUBMISSION]++;
	else if (is_loopback(ev->client_ip))
		p->skip[SH_MSKIP_LOOPBACK_CLIENT]++;
	else if (ev->ts_fold != 0 && (ev->ts_fold != p->fold || !p->fold_open))
		p->skip[SH_MSKIP_AMBIGUOUS_TIME]++;
	else if (ev->ts_fold != 0)
	{
		if (p->nheld == p->held_cap)
		{
			size_t		cap = p->held_cap ? p->held_cap * 2 : 16;
			sh_mail_event *v = realloc(p->held, cap * sizeof(*v));

			if (v == NULL)
			{
				p->oom = 1;
				sh_ml_ev_free(ev);
				return;
			}
			p->held = v;
			p->held_cap = cap;
		}
		p->held[p->nheld++] = *ev;
		memset(ev, 0, sizeof(*ev));
		return;
	}
	else
	{
		p->emit(ev, p->arg);
		p->events++;
	}
	sh_ml_ev_free(ev);
}

/* An event's time told as of the first occurrence of the repeated hour. */
static void
fold_first(const sh_maillog *p, sh_mail_event *ev)
{
	size_t		n = strlen(ev->ts);

	sh_ml_offset_text(p->fold_first, ev->ts + n, sizeof(ev->ts) - n);
	ev->ts_fold = 0;
}

/*
 * The lines of the open repeated hour told: of its first occurrence (first),
 * or never (they are ambiguous). The held events are emitted or counted; the
 * pending ones take their time, or the mark that it cannot be told.
 */
void
sh_ml_fold_told(sh_maillog *p, int first)
{
	if (first)
	{
		int64_t		u = p->fold_max - p->fold_first;

		if (!p->last_known || u > p->last_utc)
			p->last_utc = u;
		p->last_known = 1;
	}
	for (size_t i = 0; i < p->nheld; i++)
	{
		if (first)
		{
			fold_first(p, &p->held[i]);
			p->emit(&p->held[i], p->arg);
			p->events++;
		}
		else
			p->skip[SH_MSKIP_AMBIGUOUS_TIME]++;
		sh_ml_ev_free(&p->held[i]);
	}
	p->nheld = 0;
	for (int h = 0; h < SH_ML_NBUCKETS; h++)
		for (sh_ml_pending *e = p->buckets[h]; e; e = e->next)
			if (e->ev.ts_fold == p->fold)
			{
				if (first)
					fold_first(p, &e->ev);
				else
					e->ev.ts_fold = -1;
			}
	p->fold_open = 0;
}

/*
 * Count a client that exim_host() or postfix_client() could not read: -1 a
 * malformed line, -2 a bad address. Whether r was one.
 */
int
sh_ml_bad_host(sh_maillog *p, int r)
{
	if (r == -1)
		p->skip[SH_MSKIP_MALFORMED_LINE]++;
	else if (r == -2)
		p->skip[SH_MSKIP_MALFORMED_ADDRESS]++;
	return r < 0;
}

static unsigned
key_hash(const char *key)
{
	unsigned	h = 2166136261u;

	for (; *key; key++)
		h = (h ^ (unsigned char) *key) * 16777619u;
	return h % SH_ML_NBUCKETS;
}

/* The pending message (host, queue id): found, or created when create. */
sh_ml_pending *
sh_ml_pend_get(sh_maillog *p, const sh_ml_lctx *L, const char *qid, size_t qlen, int create)
{
	char		key[512];
	int			n = snprintf(key, sizeof(key), "%.*s\n%.*s", (int) (L->host ? L->host_len : 0),
							 L->host ? L->host : "", (int) qlen, qid);
	unsigned	h;
	sh_ml_pending *e;

	if (n < 0 || (size_t) n >= sizeof(key))
		return NULL;
	h = key_hash(key);
	for (e = p->buckets[h]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
		{
			/* one more line of the message */
			if (e->ev.last_line != L->lineno)
			{
				e->ev.last_line = L->lineno;
				e->ev.line_count++;
			}
			return e;
		}
	if (!create)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->key = strdup(key)) == NULL)
	{
		free(e);
		p->oom = 1;
		return NULL;
	}
	sh_ml_ev_init(&e->ev, L, p);
	e->ev.queue_id = sh_ml_text_dup(p, qid, qlen);
	e->next = p->buckets[h];
	p->buckets[h] = e;
	return e;
}

void
sh_ml_pend_drop(sh_maillog *p, sh_ml_pending *e, int emit)
{
	unsigned	h = key_hash(e->key);
	sh_ml_pending **at = &p->buckets[h];

	while (*at && *at != e)
		at = &(*at)->next;
	if (*at)
		*at = e->next;
	if (emit)
		sh_ml_ev_emit(p, &e->ev);
	else
		sh_ml_ev_free(&e->ev);
	free(e->key);
	free(e);
}

/* Emit the finished messages whose linger is over (all of them at the end). */
static void
pend_flush(sh_maillog *p, int all)
{
	for (int h = 0; h < SH_ML_NBUCKETS; h++)
	{
		sh_ml_pending *e = p->buckets[h];

		while (e)
		{
			sh_ml_pending *next = e->next;

			if (all || (e->ev.done && p->now > e->ev.done_at + p->mta->linger))
				sh_ml_pend_drop(p, e, 1);
			e = next;
		}
	}
}

/* ---------------------------------------------------------------------------
 * The lines' identities (maillog.h: sh_maillog_on_line).
 * ------------------------------------------------------------------------- */

/* Identical bytes within this much log time are occurrences of one line's bytes. */
#define SEEN_WINDOW		(6 * 3600)

static int
sha256_16(const void *data, size_t len, uint8_t out[SH_LINE_KEY_BYTES])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen < SH_LINE_KEY_BYTES)
		return -1;
	memcpy(out, md, SH_LINE_KEY_BYTES);
	return 0;
}

static size_t
seen_slot(const sh_ml_seen *t, size_t cap, const uint8_t h[SH_LINE_KEY_BYTES])
{
	size_t		i;

	memcpy(&i, h, sizeof(i));
	for (i &= cap - 1; t[i].n != 0 && memcmp(t[i].h, h, SH_LINE_KEY_BYTES) != 0; i = (i + 1) & (cap - 1))
		;
	return i;
}

/*
 * Make room in the table of occurrences: keep the bytes seen within the
 * window of the latest line, in a table twice as big when they fill half
 * of it. 0, or -1 out of memory.
 */
static int
seen_grow(sh_maillog *p, int64_t now)
{
	size_t		kept = 0,
				cap;
	sh_ml_seen *t;

	for (size_t i = 0; i < p->seen_cap; i++)
		if (p->seen[i].n != 0 && p->seen[i].secs >= now - SEEN_WINDOW)
			kept++;
	cap = p->seen_cap ? p->seen_cap : 1024;
	while (kept * 2 >= cap)
		cap *= 2;
	t = calloc(cap, sizeof(*t));
	if (t == NULL)
		return -1;
	for (size_t i = 0; i < p->seen_cap; i++)
		if (p->seen[i].n != 0 && p->seen[i].secs >= now - SEEN_WINDOW)
			t[seen_slot(t, cap, p->seen[i].h)] = p->seen[i];
	free(p->seen);
	p->seen = t;
	p->seen_cap = cap;
	p->seen_n = kept;
	return 0;
}

/* The occurrence of these bytes, from 1; 0 out of memory. */
static uint32_t
seen_count(sh_maillog *p, const uint8_t h[SH_LINE_KEY_BYTES], int64_t secs)
{
	size_t		i;

	if ((p->seen_n + 1) * 2 > p->seen_cap && seen_grow(p, p->now > secs ? p->now : secs) != 0)
	{
		p->oom = 1;
		return 0;
	}
	i = seen_slot(p->seen, p->seen_cap, h);
	if (p->seen[i].n == 0)
	{
		memcpy(p->seen[i].h, h, SH_LINE_KEY_BYTES);
		p->seen_n++;
	}
	p->seen[i].n++;
	if (secs > p->seen[i].secs || p->seen[i].n == 1)
		p->seen[i].secs = secs;
	return p->seen[i].n;
}

int
sh_ml_line_key(sh_maillog *p, const sh_ml_lctx *L, uint8_t out[SH_LINE_KEY_BYTES])
{
	if (p->cur_keyed == 0)
	{
		const char *host = L->host ? L->host : p->cfg.host;
		size_t		host_len = L->host ? L->host_len : host ? strlen(host) : 0;
		uint8_t		h[SH_LINE_KEY_BYTES],
					k[SH_LINE_KEY_BYTES + 4];
		uint32_t	n;
		EVP_MD_CTX *ctx;
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;
		int			ok;

		p->cur_keyed = -1;
		if (p->is_probe || L->ts[0] < '0' || L->ts[0] > '9')
			return 0;			/* a probe's lines, or no time read */
		/* the host, NUL, the year, NUL, the bytes */
		ctx = EVP_MD_CTX_new();
		ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
			EVP_DigestUpdate(ctx, host ? host : "", host_len) && EVP_DigestUpdate(ctx, "", 1) &&
			EVP_DigestUpdate(ctx, L->ts, 4) && EVP_DigestUpdate(ctx, "", 1) &&
			EVP_DigestUpdate(ctx, p->buf, p->cur_len) &&
			EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen >= SH_LINE_KEY_BYTES;
		EVP_MD_CTX_free(ctx);
		if (!ok)
		{
			p->oom = 1;			/* the digest failed: the load must */
			return 0;
		}
		memcpy(h, md, SH_LINE_KEY_BYTES);
		if ((n = seen_count(p, h, L->secs)) == 0)
			return 0;
		/* with the occurrence, big-endian */
		memcpy(k, h, SH_LINE_KEY_BYTES);
		k[SH_LINE_KEY_BYTES] = (uint8_t) (n >> 24);
		k[SH_LINE_KEY_BYTES + 1] = (uint8_t) (n >> 16);
		k[SH_LINE_KEY_BYTES + 2] = (uint8_t) (n >> 8);
		k[SH_LINE_KEY_BYTES + 3] = (uint8_t) n;
		if (sha256_16(k, sizeof(k), p->cur_key) != 0)
		{
			p->oom = 1;
			return 0;
		}
		p->cur_keyed = 1;
	}
	if (p->cur_keyed < 0)
		return 0;
	memcpy(out, p->cur_key, SH_LINE_KEY_BYTES);
	return 1;
}

void
sh_maillog_on_line(sh_maillog *p, sh_mail_line_cb cb, void *arg)
{
	p->line_cb = cb;
	p->line_arg = arg;
}

uint64_t
sh_maillog_keyed(const sh_maillog *p)
{
	return p->keyed;
}

/* ---------------------------------------------------------------------------
 * The parser.
 * ------------------------------------------------------------------------- */

sh_maillog *
sh_maillog_new(const sh_maillog_config *cfg, sh_mail_emit emit, void *arg)
{
	sh_maillog *p;
	const sh_mta_parser *mta = NULL;

	for (size_t i = 0; i < NMTAS && mta == NULL; i++)
		if (mtas[i]->mta == cfg->mta)
			mta = mtas[i];
	if (mta == NULL)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->cfg = *cfg;
	p->mta = mta;
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

/* A probe's events go nowhere: only whether it took lines counts. */
static void
probe_emit(const sh_mail_event *ev, void *arg)
{
	(void) ev;
	(void) arg;
}

/*
 * The other formats' parsers, on the first lines while this one has taken
 * none: which format the file is when it is not this one. Made at the
 * first line; a probe that cannot be made (out of memory) is left out, as
 * it is only advice.
 */
static void
probe_line(sh_maillog *p, const char *line, size_t len)
{
	if (p->is_probe || p->recognised > 0 || p->lines > SH_MAILLOG_PROBE_LINES)
		return;
	if (!p->probes_made)
	{
		int			n = 0;

		p->probes_made = 1;
		for (size_t i = 0; i < NMTAS && n < SH_ML_NMTAS; i++)
		{
			sh_maillog_config c = p->cfg;

			if (mtas[i] == p->mta)
				continue;
			c.mta = mtas[i]->mta;
			if ((p->probes[n] = sh_maillog_new(&c, probe_emit, NULL)) != NULL)
				p->probes[n++]->is_probe = 1;
		}
	}
	for (int i = 0; i < SH_ML_NMTAS; i++)
		if (p->probes[i] && p->probes[i]->recognised == 0)
			sh_maillog_line(p->probes[i], line, len);
}

/* Keep the first bytes of the lines (each with its '\n'), and count the lines that are not blank. */
static void
note_text(sh_maillog *p, const char *line, size_t len)
{
	size_t		room = sizeof(p->head) - p->head_len;

	if (room > 0)
	{
		size_t		n = len < room ? len : room;

		memcpy(p->head + p->head_len, line, n);
		p->head_len += n;
		if (p->head_len < sizeof(p->head))
			p->head[p->head_len++] = '\n';
	}
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
		{
			p->text_lines++;
			return;
		}
}

void
sh_maillog_line(sh_maillog *p, const char *line, size_t len)
{
	sh_ml_lctx	L;

	p->lines++;
	note_text(p, line, len);
	probe_line(p, line, len);
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
	p->cur_len = len;
	p->cur_keyed = 0;
	memset(&L, 0, sizeof(L));
	L.lineno = p->lines;
	p->mta->line(p, &L, p->buf);
	if (L.mine)
	{
		uint8_t		key[SH_LINE_KEY_BYTES];

		p->recognised++;
		if (sh_ml_line_key(p, &L, key))
		{
			p->keyed++;
			if (p->line_cb)
				p->line_cb(key, L.lineno, p->line_arg);
		}
	}
	if (L.secs > p->now)
		p->now = L.secs;
	if (p->lines % FLUSH_EVERY == 0)
		pend_flush(p, 0);
}

void
sh_maillog_flush(sh_maillog *p)
{
	pend_flush(p, 0);
}

void
sh_maillog_set_ref(sh_maillog *p, int year, int month, int day)
{
	p->cfg.ref_year = year;
	p->cfg.ref_month = month;
	p->cfg.ref_day = day;
}

void
sh_maillog_finish(sh_maillog *p)
{
	pend_flush(p, 1);
	if (p->fold_open)
		sh_ml_fold_told(p, 0);	/* the log ends in a repeated hour */
}

void
sh_maillog_free(sh_maillog *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < SH_ML_NMTAS; i++)
		sh_maillog_free(p->probes[i]);
	for (int h = 0; h < SH_ML_NBUCKETS; h++)
		while (p->buckets[h])
			sh_ml_pend_drop(p, p->buckets[h], 0);
	for (size_t i = 0; i < p->nheld; i++)
		sh_ml_ev_free(&p->held[i]);
	free(p->held);
	free(p->seen);
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

uint64_t
sh_maillog_text_lines(const sh_maillog *p)
{
	return p->text_lines;
}

uint64_t
sh_maillog_recognised(const sh_maillog *p)
{
	return p->recognised;
}

int
sh_maillog_looks_binary(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *) buf;
	size_t		odd = 0,
				nul = 0;

	for (size_t i = 0; i < len;)
	{
		size_t		n;

		if (s[i] == '\0')
			nul++;
		if (s[i] < 0x20 || s[i] == 0x7f)
		{
			if (strchr("\t\n\v\f\r\033", s[i]) == NULL)
				odd++;
			i++;
			continue;
		}
		if ((n = utf8_len(s + i, len - i)) == 0)
		{
			odd++;
			i++;
			continue;
		}
		i += n;
	}
	return nul * 100 > len || odd * 4 > len;
}

int
sh_maillog_binary_start(const sh_maillog *p)
{
	return sh_maillog_looks_binary(p->head, p->head_len);
}

const char *
sh_maillog_other_format(const sh_maillog *p)
{
	for (int i = 0; i < SH_ML_NMTAS; i++)
		if (p->probes[i] && p->probes[i]->recognised > 0)
			return p->probes[i]->mta->name;
	return NULL;
}

/* "a" or "an" before a format's name. */
static const char *
article(const char *name)
{
	return strchr("aeiou", name[0]) ? "an" : "a";
}

const char *
sh_maillog_refusal(const sh_maillog *p, char *buf, size_t len)
{
	const char *other;
	int			most = -1;
	size_t		at;

	if (p->text_lines == 0)
	{
		if (p->lines == 0)
			snprintf(buf, len, "empty: not a line to read");
		else
			snprintf(buf, len, "empty: %llu line%s, all blank", (unsigned long long) p->lines,
					 p->lines == 1 ? "" : "s");
		return buf;
	}
	if (p->events > 0)
		return NULL;
	if (sh_maillog_binary_start(p))
	{
		snprintf(buf, len, "binary data, not a mail log (its first %d bytes are not text): a capture loads without --maillog",
				 SH_MAILLOG_HEAD_BYTES);
		return buf;
	}
	if (p->recognised > 0)
		return NULL;
	for (int i = 0; i < SH_MSKIP_COUNT_; i++)
		if (p->skip[i] > 0 && (most < 0 || p->skip[i] > p->skip[most]))
			most = i;
	at = (size_t) snprintf(buf, len, "%llu line%s read, none of them %s %s line",
						   (unsigned long long) p->lines, p->lines == 1 ? "" : "s",
						   article(p->mta->name), p->mta->name);
	if (most >= 0 && at < len)
		at += (size_t) snprintf(buf + at, len - at, " (%llu %s)", (unsigned long long) p->skip[most],
								skip_names[most]);
	if ((other = sh_maillog_other_format(p)) != NULL && at < len)
		snprintf(buf + at, len - at, ": it reads as %s %s log, try --maillog=%s", article(other), other, other);
	else if (at < len)
		snprintf(buf + at, len - at, ": not %s %s log", article(p->mta->name), p->mta->name);
	return buf;
}
