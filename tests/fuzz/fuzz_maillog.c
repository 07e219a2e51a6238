/*
 * tests/fuzz/fuzz_maillog.c: libFuzzer target for the mail-log parser
 * (loader/maillog/: maillog.c, times.c, exim.c, postfix.c with amavisd-new
 * and ClamAV) and its row writer (mail_rows.c): lines in, events out, as
 * maillog_pipeline.c drives them. Mail logs are attacker-controlled text
 * (HELO names, addresses, subjects, rejection texts come from spammers).
 *
 * The first byte of an input picks the configuration: bit 0 the format
 * (Exim, Postfix), bit 1 a --year (else the reference date), bits 2-3 the
 * time zone (none: the C library's, UTC, Europe/London, America/St_Johns:
 * a half-hour offset), bit 4 a --host; bit 5 feeds the lines in batches
 * with sh_maillog_flush() between them, as a followed log is read. The rest
 * is the log, split into lines at '\n' as maillog_read() splits it, the
 * last line without its newline too.
 *
 * Checks, beyond ASan and UBSan: every event's row is one COPY text row of
 * the 18 columns of spamhints.mail_event; every text field is valid UTF-8
 * holding no character that spamhints.plain_text() refuses (the CHECK of
 * the table: one such character would fail a whole load); ts is a time the
 * server reads, client_ip an address, client_port in 0..65535, spam_score
 * a number; an event's line is one read; the counts add up; the refusal,
 * when there is one, is one line.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mail_rows.h"
#include "maillog.h"

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz_maillog: broken promise: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

typedef struct state
{
	sh_buf		row;
	uint64_t	lines_fed;
	uint64_t	events;
	uint64_t	keyed;
	uint64_t	last_keyed_line;
} state;

/* Valid UTF-8 (no overlong form, no surrogate, at most U+10FFFF) as PostgreSQL reads it: 1, else 0. */
static int
valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;)
	{
		unsigned	c = s[i];
		size_t		len;
		unsigned long cp;

		if (c < 0x80)
		{
			if (c == 0)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4, cp = c & 0x07;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (size_t k = 1; k < len; k++)
		{
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
			(cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += len;
	}
	return 1;
}

/* What spamhints.plain_text() refuses: [\x01-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]. */
static int
plain_text(const char *s)
{
	const unsigned char *u = (const unsigned char *) s;
	size_t		n = strlen(s);

	if (!valid_utf8(u, n))
		return 0;
	for (size_t i = 0; i < n;)
	{
		unsigned long cp;
		size_t		len;

		if (u[i] < 0x80)
			cp = u[i], len = 1;
		else if (u[i] < 0xE0)
			cp = (u[i] & 0x1Fu) << 6 | (u[i + 1] & 0x3Fu), len = 2;
		else if (u[i] < 0xF0)
			cp = (u[i] & 0x0Fu) << 12 | (u[i + 1] & 0x3Fu) << 6 | (u[i + 2] & 0x3Fu), len = 3;
		else
			cp = 0x10000, len = 4;
		if ((cp >= 0x01 && cp <= 0x1f) || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c ||
			cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
			return 0;
		i += len;
	}
	return 1;
}

static void
check_text(const char *s)
{
	if (s == NULL)
		return;
	CHECK(strlen(s) < 1 << 20);
	CHECK(plain_text(s));
}

static int
digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
num(const char *s, int n)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* "YYYY-MM-DD HH:MM:SS[.frac][+HH:MM]", a real date and time PostgreSQL reads. */
static void
check_ts(const char *ts)
{
	static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	size_t		n = strnlen(ts, 48);
	int			y,
				mo,
				d;
	const char *s;

	CHECK(n < 48);
	CHECK(n >= 19);
	CHECK(digits(ts, 4) && ts[4] == '-' && digits(ts + 5, 2) && ts[7] == '-' && digits(ts + 8, 2) &&
		  ts[10] == ' ' && digits(ts + 11, 2) && ts[13] == ':' && digits(ts + 14, 2) && ts[16] == ':' &&
		  digits(ts + 17, 2));
	y = num(ts, 4);
	mo = num(ts + 5, 2);
	d = num(ts + 8, 2);
	CHECK(y >= 1);
	CHECK(mo >= 1 && mo <= 12);
	CHECK(d >= 1 && d <= mdays[mo - 1]);
	CHECK(mo != 2 || d < 29 || (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
	CHECK(num(ts + 11, 2) <= 23 && num(ts + 14, 2) <= 59 && num(ts + 17, 2) <= 60);
	s = ts + 19;
	if (*s == '.')
	{
		s++;
		CHECK(*s >= '0' && *s <= '9');
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == '+' || *s == '-')
	{
		s++;
		CHECK(digits(s, 2) && s[2] == ':' && digits(s + 3, 2));
		CHECK(num(s, 2) <= 15 && num(s + 3, 2) <= 59);
		s += 5;
	}
	CHECK(*s == '\0');
}

static void
check_number(const char *s)
{
	if (*s == '\0')
		return;
	if (*s == '-' || *s == '+')
		s++;
	CHECK((*s >= '0' && *s <= '9') || (*s == '.' && s[1] >= '0' && s[1] <= '9'));
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	CHECK(*s == '\0');
}

static void
on_event(const sh_mail_event *ev, void *arg)
{
	state	   *st = arg;
	unsigned char bin[16];
	size_t		tabs = 0;

	st->events++;
	CHECK(ev->line >= 1 && ev->line <= st->lines_fed);
	CHECK(ev->line_count >= 1);
	check_ts(ev->ts);
	CHECK(strnlen(ev->client_ip, 48) < 48);
	CHECK(inet_pton(strchr(ev->client_ip, ':') ? AF_INET6 : AF_INET, ev->client_ip, bin) == 1);
	CHECK(ev->client_port >= -1 && ev->client_port <= 65535);
	CHECK(ev->size >= -1);
	CHECK(ev->verdict >= SH_VERDICT_CLEAN && ev->verdict <= SH_VERDICT_REJECTED);
	CHECK(strnlen(ev->spam_score, sizeof(ev->spam_score)) < sizeof(ev->spam_score));
	check_number(ev->spam_score);
	check_text(ev->host);
	check_text(ev->queue_id);
	check_text(ev->client_name);
	check_text(ev->helo);
	check_text(ev->sender);
	check_text(ev->virus);
	check_text(ev->reason);
	CHECK(ev->nrcpt <= ev->rcpt_cap);
	for (size_t i = 0; i < ev->nrcpt; i++)
	{
		CHECK(ev->rcpt[i] != NULL);
		check_text(ev->rcpt[i]);
	}

	/* the row as the pipeline writes it: 18 columns, one line */
	st->row.len = 0;
	sh_mail_row(&st->row, 1, ev);
	CHECK(!st->row.oom);
	CHECK(st->row.len > 0 && st->row.buf[st->row.len - 1] == '\n');
	for (size_t i = 0; i + 1 < st->row.len; i++)
	{
		CHECK(st->row.buf[i] != '\n' && st->row.buf[i] != '\r' && st->row.buf[i] != '\0');
		tabs += st->row.buf[i] == '\t';
	}
	CHECK(tabs == 17);
}

static void
on_line(const uint8_t key[SH_LINE_KEY_BYTES], uint64_t lineno, void *arg)
{
	state	   *st = arg;

	(void) key;
	st->keyed++;
	CHECK(lineno == st->lines_fed);
	CHECK(lineno > st->last_keyed_line);
	st->last_keyed_line = lineno;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const zones[4] = {NULL, "UTC", "Europe/London", "America/St_Johns"};
	static state st;
	sh_maillog_config cfg;
	sh_maillog *p;
	const char *text;
	size_t		len,
				start = 0;
	uint64_t	skipped = 0,
				malformed = 0;
	char		why[512];
	const char *refusal;
	int			batches;

	if (size < 1)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mta = data[0] & 1 ? SH_MTA_POSTFIX : SH_MTA_EXIM;
	if (data[0] & 2)
		cfg.year = 2007;
	cfg.ref_year = 2008;
	cfg.ref_month = 1;
	cfg.ref_day = 2;
	cfg.zone = zones[(data[0] >> 2) & 3];
	cfg.host = data[0] & 16 ? "mx1" : NULL;
	batches = data[0] & 32;
	text = (const char *) data + 1;
	len = size - 1;

	st.lines_fed = st.events = st.keyed = st.last_keyed_line = 0;
	p = sh_maillog_new(&cfg, on_event, &st);
	CHECK(p != NULL);
	sh_maillog_on_line(p, on_line, &st);
	while (start < len)
	{
		const char *nl = memchr(text + start, '\n', len - start);
		size_t		n = nl ? (size_t) (nl - (text + start)) : len - start;

		st.lines_fed++;
		sh_maillog_line(p, text + start, n);
		start += n + 1;
		if (batches && st.lines_fed % 3 == 0)
			sh_maillog_flush(p);
	}
	sh_maillog_finish(p);
	CHECK(!sh_maillog_oom(p));

	CHECK(sh_maillog_lines(p) == st.lines_fed);
	CHECK(sh_maillog_events(p) == st.events);
	CHECK(sh_maillog_keyed(p) == st.keyed);
	CHECK(st.keyed <= st.lines_fed);
	for (int i = 0; i < SH_MSKIP_COUNT_; i++)
	{
		uint64_t	n = sh_maillog_skipped(p, (sh_mskip) i);

		CHECK(sh_mskip_name((sh_mskip) i) != NULL);
		skipped += n;
		if (i >= SH_MSKIP_FIRST_MALFORMED)
			malformed += n;
	}
	CHECK(sh_maillog_malformed(p) == malformed);
	CHECK(malformed <= st.lines_fed);
	CHECK(sh_maillog_recognised(p) <= sh_maillog_text_lines(p));
	CHECK(sh_maillog_text_lines(p) <= st.lines_fed);
	refusal = sh_maillog_refusal(p, why, sizeof(why));
	if (refusal != NULL)
	{
		CHECK(strlen(refusal) > 0 && strchr(refusal, '\n') == NULL);
		CHECK(refusal != why || strlen(why) < sizeof(why));
	}
	(void) skipped;
	sh_maillog_free(p);
	return 0;
}
