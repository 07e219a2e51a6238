/*
 * tests/unit/test_maillog.c: the mail log parser (loader/maillog/) on lines
 * written by hand, and on every line of the sample logs in tests/data/maillog
 * cut at every byte. Each line is fed from a heap copy of exactly its length,
 * so AddressSanitizer reports any read past it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "maillog.h"

#define MAX_EVENTS 64

/* A copy of an event, flattened to text for the assertions. */
typedef struct got_event
{
	uint64_t	line;
	char		ts[48];
	char		ip[48];
	int			port;
	char		helo[64];
	char		name[64];
	char		sender[64];
	char		rcpt[256];		/* recipients joined by ',' */
	long long	size;
	sh_verdict	verdict;
	char		virus[64];
	char		score[24];
	char		reason[256];
	char		qid[32];
	int64_t		secs;
	uint8_t		key[SH_LINE_KEY_BYTES];
	int			has_key;
	uint32_t	line_count;
} got_event;

static got_event got[MAX_EVENTS];
static int	ngot;

static void
copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "(null)");
}

static void
collect(const sh_mail_event *ev, void *arg)
{
	got_event  *g;
	size_t		at = 0;

	(void) arg;
	/* every string handed over is valid text */
	assert_true(ev->client_ip[0] != '\0');
	if (ngot >= MAX_EVENTS)
	{
		ngot++;
		return;
	}
	g = &got[ngot++];
	memset(g, 0, sizeof(*g));
	g->line = ev->line;
	g->secs = ev->secs;
	copy(g->ts, sizeof(g->ts), ev->ts);
	copy(g->ip, sizeof(g->ip), ev->client_ip);
	g->port = ev->client_port;
	copy(g->helo, sizeof(g->helo), ev->helo);
	copy(g->name, sizeof(g->name), ev->client_name);
	copy(g->sender, sizeof(g->sender), ev->sender);
	for (size_t i = 0; i < ev->nrcpt; i++)
		at += (size_t) snprintf(g->rcpt + at, sizeof(g->rcpt) - at, "%s%s", i ? "," : "", ev->rcpt[i]);
	g->size = ev->size;
	g->verdict = ev->verdict;
	copy(g->virus, sizeof(g->virus), ev->virus);
	copy(g->score, sizeof(g->score), ev->spam_score);
	copy(g->reason, sizeof(g->reason), ev->reason);
	copy(g->qid, sizeof(g->qid), ev->queue_id);
	memcpy(g->key, ev->line_key, sizeof(g->key));
	g->has_key = ev->has_key;
	g->line_count = ev->line_count;
}

static sh_maillog *
parser(sh_mta mta, int year)
{
	sh_maillog_config cfg = {mta, year, 2008, 1, 1, NULL, NULL};
	sh_maillog *p = sh_maillog_new(&cfg, collect, NULL);

	assert_non_null(p);
	ngot = 0;
	return p;
}

/* A parser of logs written in zone. */
static sh_maillog *
parser_in(sh_mta mta, int year, const char *zone)
{
	sh_maillog_config cfg = {mta, year, 2008, 1, 1, NULL, zone};
	sh_maillog *p = sh_maillog_new(&cfg, collect, NULL);

	assert_non_null(p);
	ngot = 0;
	return p;
}

/* Feed a line from a heap copy of exactly its bytes. */
static void
feed(sh_maillog *p, const char *line, size_t len)
{
	char	   *copy_of_line = malloc(len ? len : 1);

	assert_non_null(copy_of_line);
	memcpy(copy_of_line, line, len);
	sh_maillog_line(p, copy_of_line, len);
	free(copy_of_line);
}

static void
feeds(sh_maillog *p, const char *line)
{
	feed(p, line, strlen(line));
}

/* ---------------------------------------------------------------------------
 * The lines' identities.
 * ------------------------------------------------------------------------- */

#define MAX_KEYS 16
static uint8_t keys[MAX_KEYS][SH_LINE_KEY_BYTES];
static uint64_t key_lines[MAX_KEYS];
static int	nkeys;

static void
collect_key(const uint8_t key[SH_LINE_KEY_BYTES], uint64_t lineno, void *arg)
{
	(void) arg;
	assert_true(nkeys < MAX_KEYS);
	memcpy(keys[nkeys], key, SH_LINE_KEY_BYTES);
	key_lines[nkeys++] = lineno;
}

/* The identity as maillog.h defines it, worked out here with OpenSSL. */
static void
expected_key(const char *host, const char *year, const char *line, uint32_t n, uint8_t out[SH_LINE_KEY_BYTES])
{
	unsigned char buf[1024],
				md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	size_t		at = 0;

	at += (size_t) snprintf((char *) buf, sizeof(buf), "%s", host);
	buf[at++] = '\0';
	memcpy(buf + at, year, 4);
	at += 4;
	buf[at++] = '\0';
	memcpy(buf + at, line, strlen(line));
	at += strlen(line);
	assert_true(EVP_Digest(buf, at, md, &mdlen, EVP_sha256(), NULL));
	memcpy(buf, md, SH_LINE_KEY_BYTES);
	buf[16] = (unsigned char) (n >> 24);
	buf[17] = (unsigned char) (n >> 16);
	buf[18] = (unsigned char) (n >> 8);
	buf[19] = (unsigned char) n;
	assert_true(EVP_Digest(buf, 20, md, &mdlen, EVP_sha256(), NULL));
	memcpy(out, md, SH_LINE_KEY_BYTES);
}

static sh_maillog *
keyed_parser(sh_mta mta, int year, const char *host)
{
	sh_maillog_config cfg = {mta, year, 2008, 1, 1, host, NULL};
	sh_maillog *p = sh_maillog_new(&cfg, collect, NULL);

	assert_non_null(p);
	sh_maillog_on_line(p, collect_key, NULL);
	ngot = 0;
	nkeys = 0;
	return p;
}

static void
test_line_identity(void **state)
{
	const char *arr = "2007-07-14 10:15:01 1IAb3x-0001Ab-7Q <= bob@example.org H=mail.example.org [192.0.2.25]:41234 P=esmtp S=5321";
	const char *rej = "2007-07-14 10:16:00 H=(x) [192.0.2.9]:1000 F=<a@example.org> rejected RCPT <b@example.net>: relay not permitted";
	uint8_t		want[SH_LINE_KEY_BYTES],
				first[SH_LINE_KEY_BYTES];
	sh_maillog *p;

	(void) state;
	/* the arrival alone, as the first line */
	p = keyed_parser(SH_MTA_EXIM, 0, "mx1");
	feeds(p, arr);
	assert_int_equal(nkeys, 1);
	expected_key("mx1", "2007", arr, 1, want);
	assert_memory_equal(keys[0], want, SH_LINE_KEY_BYTES);
	memcpy(first, keys[0], SH_LINE_KEY_BYTES);
	sh_maillog_free(p);

	/* later in a log, with a CR: the same identity; its message's event has it, with its 4 lines */
	p = keyed_parser(SH_MTA_EXIM, 0, "mx1");
	feeds(p, "2007-07-14 10:00:00 Start queue run: pid=1");
	feeds(p, "2007-07-14 10:15:01 1IAb3x-0001Ab-7Q <= bob@example.org H=mail.example.org [192.0.2.25]:41234 P=esmtp S=5321\r");
	feeds(p, "2007-07-14 10:15:02 1IAb3x-0001Ab-7Q => alice@example.net R=local_user T=local_delivery");
	feeds(p, "2007-07-14 10:15:02 1IAb3x-0001Ab-7Q -> carol@example.net R=local_user T=local_delivery");
	feeds(p, "2007-07-14 10:15:02 1IAb3x-0001Ab-7Q Completed");
	/* two identical lines: two identities, the first as if it were alone */
	feeds(p, rej);
	feeds(p, rej);
	sh_maillog_finish(p);
	assert_int_equal(nkeys, 7);
	assert_int_equal(key_lines[1], 2);
	assert_memory_equal(keys[1], first, SH_LINE_KEY_BYTES);
	assert_int_equal(ngot, 3);
	assert_true(got[0].has_key);
	assert_memory_equal(got[0].key, first, SH_LINE_KEY_BYTES);
	assert_int_equal(got[0].line_count, 4);
	expected_key("mx1", "2007", rej, 1, want);
	assert_memory_equal(keys[5], want, SH_LINE_KEY_BYTES);
	assert_memory_equal(got[1].key, want, SH_LINE_KEY_BYTES);
	expected_key("mx1", "2007", rej, 2, want);
	assert_memory_equal(keys[6], want, SH_LINE_KEY_BYTES);
	assert_memory_equal(got[2].key, want, SH_LINE_KEY_BYTES);
	assert_int_equal(got[1].line_count, 1);
	assert_int_equal(sh_maillog_keyed(p), 7);
	sh_maillog_free(p);

	/* another server's line is another line */
	p = keyed_parser(SH_MTA_EXIM, 0, "mx2");
	feeds(p, arr);
	assert_int_equal(nkeys, 1);
	assert_memory_not_equal(keys[0], first, SH_LINE_KEY_BYTES);
	sh_maillog_free(p);

	/* a syslog line: its year (here --year) is part of it */
	p = keyed_parser(SH_MTA_POSTFIX, 2007, NULL);
	feeds(p, "Mar 14 00:36:38 mx2 postfix/smtpd[4001]: CECC22AF58: client=unknown[10.1.0.4]:8946");
	assert_int_equal(nkeys, 1);
	expected_key("mx2", "2007", "Mar 14 00:36:38 mx2 postfix/smtpd[4001]: CECC22AF58: client=unknown[10.1.0.4]:8946", 1, want);
	assert_memory_equal(keys[0], want, SH_LINE_KEY_BYTES);
	sh_maillog_free(p);
	p = keyed_parser(SH_MTA_POSTFIX, 2008, NULL);
	feeds(p, "Mar 14 00:36:38 mx2 postfix/smtpd[4001]: CECC22AF58: client=unknown[10.1.0.4]:8946");
	assert_memory_not_equal(keys[0], want, SH_LINE_KEY_BYTES);
	/* a line of another program has none */
	feeds(p, "Mar 14 00:36:39 mx2 dovecot: imap-login: Login: user=<bob>");
	assert_int_equal(nkeys, 1);
	sh_maillog_free(p);
}

static void
test_exim_arrival_and_deliveries(void **state)
{
	sh_maillog *p = parser(SH_MTA_EXIM, 0);

	(void) state;
	feeds(p, "2007-07-14 10:15:01 1IAb3x-0001Ab-7Q <= bob@example.org H=mail.example.org (helo.example.org) [192.0.2.25]:41234 P=esmtp S=5321 id=x@y");
	feeds(p, "2007-07-14 10:15:02 1IAb3x-0001Ab-7Q => alice@example.net R=local_user T=local_delivery");
	feeds(p, "2007-07-14 10:15:02 1IAb3x-0001Ab-7Q -> carol@example.net R=local_user T=local_delivery");
	assert_int_equal(ngot, 0);	/* pending until Completed */
	feeds(p, "2007-07-14 10:15:02 1IAb3x-0001Ab-7Q Completed");
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].line, 1);
	assert_string_equal(got[0].ts, "2007-07-14 10:15:01");
	assert_string_equal(got[0].ip, "192.0.2.25");
	assert_int_equal(got[0].port, 41234);
	assert_string_equal(got[0].name, "mail.example.org");
	assert_string_equal(got[0].helo, "helo.example.org");
	assert_string_equal(got[0].sender, "bob@example.org");
	assert_string_equal(got[0].rcpt, "alice@example.net,carol@example.net");
	assert_int_equal(got[0].size, 5321);
	assert_int_equal(got[0].verdict, SH_VERDICT_CLEAN);
	assert_string_equal(got[0].qid, "1IAb3x-0001Ab-7Q");
	sh_maillog_free(p);
}

static void
test_exim_refusals(void **state)
{
	sh_maillog *p = parser(SH_MTA_EXIM, 0);

	(void) state;
	feeds(p, "2007-07-14 10:17:33 1IAb5b-0001Cd-2K H=(kjsdhf) [192.0.2.7]:40161 F=<info@bank.example> rejected after DATA: This message contains a virus (Worm.Mydoom.M).");
	feeds(p, "2007-07-14 10:18:04 +0200 H=[192.0.2.42] F=<> rejected after DATA: Your message scored 17.3 SpamAssassin points.");
	feeds(p, "2007-07-14 10:19:00 H=(x) [192.0.2.43] F=<a@b> rejected RCPT <c@d>: blocked using zen.spamhaus.org");
	assert_int_equal(ngot, 3);
	assert_int_equal(got[0].verdict, SH_VERDICT_VIRUS);
	assert_string_equal(got[0].virus, "Worm.Mydoom.M");
	assert_string_equal(got[0].helo, "kjsdhf");
	assert_string_equal(got[0].name, "(null)");
	assert_int_equal(got[1].verdict, SH_VERDICT_SPAM);
	assert_string_equal(got[1].score, "17.3");
	assert_string_equal(got[1].sender, "");
	assert_string_equal(got[1].ts, "2007-07-14 10:18:04+02:00");
	assert_int_equal(got[1].port, -1);
	/* a refusal at RCPT is never a content verdict, whatever its text says */
	assert_int_equal(got[2].verdict, SH_VERDICT_REJECTED);
	assert_string_equal(got[2].rcpt, "c@d");
	assert_string_equal(got[2].reason, "rejected RCPT <c@d>: blocked using zen.spamhaus.org");
	sh_maillog_free(p);
}

static void
test_exim_skips(void **state)
{
	sh_maillog *p = parser(SH_MTA_EXIM, 0);

	(void) state;
	feeds(p, "2007-07-14 10:19:00 1IAb7d-0001Gh-1Z <= <> R=1IAb3x-0001Ab-7Q U=Debian-exim P=local S=1873");
	feeds(p, "2007-07-14 10:23:00 1IAbAg-0001Mn-6T <= a@b H=localhost [127.0.0.1] P=esmtpa S=9");
	feeds(p, "2007-07-14 10:23:01 1IAbAg-0001Mn-6T Completed");
	feeds(p, "2007-07-14 10:24:00 1IAbBh-0001Op-7U <= x@y H=[999.1.2.3]:25 P=smtp S=1");
	feeds(p, "2007-02-29 10:00:00 1IAbBj-0001Rs-8V Completed");
	feeds(p, "2007-07-14 10:25:00 1IAbBk-0001St-9W <= y@z H=(broken [198.51.100.7] P=smtp");
	feed(p, "2007-07-14 10:26:00 1IAbCl-0001Uv-0X <= \0 H=[192.0.2.67]", 44);
	feeds(p, "2007-07-14 10:29:00 Start queue run: pid=2400");
	sh_maillog_finish(p);
	assert_int_equal(ngot, 0);
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_LOCAL_SUBMISSION), 1);
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_LOOPBACK_CLIENT), 1);
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_MALFORMED_ADDRESS), 1);
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_MALFORMED_TIME), 1);
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_MALFORMED_LINE), 1);
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_BINARY), 1);
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_OTHER_LINE), 1);
	assert_int_equal(sh_maillog_malformed(p), 4);
	assert_int_equal(sh_maillog_lines(p), 8);
	sh_maillog_free(p);
}

static void
test_postfix_amavis_and_reinjection(void **state)
{
	sh_maillog *p = parser(SH_MTA_POSTFIX, 0);

	(void) state;
	feeds(p, "Jan  1 00:01:00 mx2 postfix/smtpd[1001]: 4B3C2D1E0: client=dsl-42.example.com[192.0.2.42]:3321");
	feeds(p, "Jan  1 00:01:01 mx2 postfix/cleanup[1002]: 4B3C2D1E0: info: header Subject: Cheap from dsl-42.example.com[192.0.2.42]; from=<s@w.example> to=<d@example.net> proto=ESMTP helo=<xyz123>");
	feeds(p, "Jan  1 00:01:01 mx2 postfix/qmgr[900]: 4B3C2D1E0: from=<s@w.example>, size=4321, nrcpt=2 (queue active)");
	feeds(p, "Jan  1 00:01:02 mx2 postfix/smtpd[1003]: 8A1B2C3D4: client=localhost[127.0.0.1]");
	feeds(p, "Jan  1 00:01:02 mx2 postfix/qmgr[900]: 4B3C2D1E0: removed");
	/* amavisd-new's line after "removed": the message waits for it */
	feeds(p, "Jan  1 00:01:03 mx2 amavis[2002]: (02002-01) Blocked SPAM {DiscardedInbound,Quarantined}, [192.0.2.42]:3321 [192.0.2.42] <s@w.example> -> <d@example.net>,<e@example.net>, Queue-ID: 4B3C2D1E0, Message-ID: <x1@w.example>, mail_id: X, Hits: 25.073, size: 4321, queued_as: 8A1B2C3D4, 1520 ms");
	feeds(p, "Jan  1 00:01:04 mx2 postfix/qmgr[900]: 8A1B2C3D4: removed");
	assert_int_equal(ngot, 0);
	sh_maillog_finish(p);
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0].ts, "2008-01-01 00:01:00");
	assert_string_equal(got[0].ip, "192.0.2.42");
	assert_int_equal(got[0].port, 3321);
	assert_string_equal(got[0].helo, "xyz123");
	assert_string_equal(got[0].sender, "s@w.example");
	assert_string_equal(got[0].rcpt, "d@example.net,e@example.net");
	assert_int_equal(got[0].size, 4321);
	assert_int_equal(got[0].verdict, SH_VERDICT_SPAM);
	assert_string_equal(got[0].score, "25.073");
	assert_string_equal(got[0].reason, "Blocked SPAM {DiscardedInbound,Quarantined}");
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_LOOPBACK_CLIENT), 1);
	sh_maillog_free(p);
}

static void
test_postfix_linger_then_emit(void **state)
{
	sh_maillog *p = parser(SH_MTA_POSTFIX, 0);
	char		line[160];

	(void) state;
	feeds(p, "Jan  1 00:01:00 mx2 postfix/smtpd[1]: AAAAA1: client=unknown[192.0.2.1]");
	feeds(p, "Jan  1 00:01:00 mx2 postfix/qmgr[2]: AAAAA1: removed");
	/* a thousand lines, two minutes later: the message has lingered enough */
	for (int i = 0; i < 1024; i++)
	{
		snprintf(line, sizeof(line), "Jan  1 00:03:%02d mx2 postfix/smtpd[1]: connect from unknown[192.0.2.2]", i % 60);
		feeds(p, line);
	}
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0].ip, "192.0.2.1");
	assert_string_equal(got[0].name, "(null)");	/* "unknown" is no name */
	sh_maillog_free(p);
}

static void
test_postfix_refusals(void **state)
{
	sh_maillog *p = parser(SH_MTA_POSTFIX, 0);

	(void) state;
	feeds(p, "Dec 31 23:59:10 mx2 postfix/smtpd[1001]: NOQUEUE: reject: RCPT from unknown[192.0.2.7]:40200: 554 5.7.1 <n@example.net>: Relay access denied; from=<m@example.com> to=<n@example.net> proto=ESMTP helo=<friend>");
	feeds(p, "Jan  1 00:03:00 mx2 postfix/smtpd[1]: 6D5E4F3A2: client=pc-17.example.net[2001:db8::17]:3050");
	feeds(p, "Jan  1 00:03:01 mx2 postfix/cleanup[2]: 6D5E4F3A2: milter-reject: END-OF-MESSAGE from pc-17.example.net[2001:db8::17]:3050: 5.7.1 Infected (Win.Test.EICAR_HDB-1); from=<m@example.com> to=<g@example.net> proto=ESMTP helo=<pc-17>");
	feeds(p, "Jan  1 00:04:00 mx2 postfix/cleanup[2]: 7E6F5A4B3: reject: header Subject: buy from unknown[::ffff:192.0.2.9]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>: 5.7.1 no thanks");
	assert_int_equal(ngot, 3);
	assert_int_equal(got[0].verdict, SH_VERDICT_REJECTED);
	assert_string_equal(got[0].ts, "2007-12-31 23:59:10");	/* the year before the file's date */
	assert_string_equal(got[0].reason, "RCPT: 554 5.7.1 <n@example.net>: Relay access denied");
	assert_string_equal(got[0].helo, "friend");
	assert_int_equal(got[1].verdict, SH_VERDICT_VIRUS);
	assert_string_equal(got[1].virus, "Win.Test.EICAR_HDB-1");
	assert_string_equal(got[1].ip, "2001:db8::17");
	assert_string_equal(got[1].rcpt, "g@example.net");
	/* header checks: the header itself (a Subject) is not kept */
	assert_string_equal(got[2].ip, "192.0.2.9");
	assert_string_equal(got[2].reason, "header check: 5.7.1 no thanks");
	assert_null(strstr(got[2].reason, "buy"));
	sh_maillog_free(p);
}

static void
test_years(void **state)
{
	sh_maillog *p = parser(SH_MTA_POSTFIX, 2007);
	const char *const lines[] = {
		"Dec 31 23:59:59 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 5; from=<a@b> to=<c@d> proto=SMTP helo=<h>",
		"Jan  1 00:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 5; from=<a@b> to=<c@d> proto=SMTP helo=<h>",
		"Feb 29 00:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 5; from=<a@b> to=<c@d> proto=SMTP helo=<h>",
		"2009-06-01T12:00:00.5Z mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 5; from=<a@b> to=<c@d> proto=SMTP helo=<h>",
	};

	(void) state;
	/* --year 2007: the first line's; December, then January: the next */
	for (int i = 0; i < 4; i++)
		feeds(p, lines[i]);
	assert_int_equal(ngot, 4);
	assert_string_equal(got[0].ts, "2007-12-31 23:59:59");
	assert_string_equal(got[1].ts, "2008-01-01 00:00:00");
	assert_string_equal(got[2].ts, "2008-02-29 00:00:00");	/* 2008 is a leap year */
	assert_string_equal(got[3].ts, "2009-06-01 12:00:00.5+00:00");	/* RFC 3339 carries its year */
	assert_true(sh_maillog_needed_year(p));
	sh_maillog_free(p);

	/* the modification time, 2008-01-01: February is of 2007, which has no 29th */
	p = parser(SH_MTA_POSTFIX, 0);
	for (int i = 0; i < 3; i++)
		feeds(p, lines[i]);
	assert_int_equal(ngot, 2);
	assert_string_equal(got[0].ts, "2007-12-31 23:59:59");
	assert_string_equal(got[1].ts, "2008-01-01 00:00:00");
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_MALFORMED_TIME), 1);
	sh_maillog_free(p);
}

static void
test_text_is_cleaned(void **state)
{
	sh_maillog *p = parser(SH_MTA_EXIM, 0);

	(void) state;
	feeds(p, "2007-07-14 10:26:00 H=(\xff\xfepc\x01\xc3) [192.0.2.66]:1234 F=<r@\xc3\xa9t\xc3\xa9.example> rejected RCPT <p@e.net>: bad \xed\xa0\x80");
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0].helo, "??pc??");
	assert_string_equal(got[0].sender, "r@\xc3\xa9t\xc3\xa9.example");
	assert_string_equal(got[0].reason, "rejected RCPT <p@e.net>: bad ???");
	sh_maillog_free(p);
}

/*
 * Control and format characters that are valid UTF-8 are replaced too, one
 * '?' each: C1 controls (NEL), the line separator, a right-to-left override,
 * an isolate, the left-to-right mark, the Arabic letter mark. Characters
 * next to them in the code table (U+00A0, U+2027, U+202F, U+2065, U+200D)
 * are kept.
 */
static void
test_format_characters_replaced(void **state)
{
	sh_maillog *p = parser(SH_MTA_EXIM, 0);

	(void) state;
	feeds(p, "2007-07-14 10:26:00 H=(a\xc2\x85" "b\xc2\x80\xc2\x9f) [192.0.2.66]:1234 F=<x\xe2\x80\xa8" "y@e.example> "
		  "rejected RCPT <p@e.net>: \xe2\x80\xae" "evil\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c"
		  " kept\xc2\xa0\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x80\x8d");
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0].helo, "a?b??");
	assert_string_equal(got[0].sender, "x?y@e.example");
	assert_string_equal(got[0].reason, "rejected RCPT <p@e.net>: ?evil????? kept\xc2\xa0\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x80\x8d");
	sh_maillog_free(p);
}

/*
 * Each format reaches its own parser: a line of the other MTA is skipped,
 * and why tells which parser read it.
 */
static void
test_formats(void **state)
{
	sh_maillog *p;
	sh_mta		mta;

	(void) state;
	assert_int_equal(sh_mta_parse("exim", &mta), 0);
	assert_int_equal(mta, SH_MTA_EXIM);
	assert_int_equal(sh_mta_parse("postfix", &mta), 0);
	assert_int_equal(mta, SH_MTA_POSTFIX);
	assert_int_equal(sh_mta_parse("sendmail", &mta), -1);
	assert_int_equal(sh_mta_parse("Exim", &mta), -1);
	assert_int_equal(sh_mta_parse("", &mta), -1);

	/* the Postfix parser wants a syslog header: Exim's own time is malformed */
	p = parser(SH_MTA_POSTFIX, 2007);
	feeds(p, "2007-07-14 10:26:00 H=(pc) [192.0.2.66]:1234 F=<r@e.org> rejected RCPT <p@e.net>: no");
	feeds(p, "Jul 14 10:26:00 mx exim[12]: H=(pc) [192.0.2.66]:1234 F=<r@e.org> rejected RCPT <p@e.net>: no");
	assert_int_equal(ngot, 0);
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_MALFORMED_TIME), 1);
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_OTHER_PROGRAM), 1);
	sh_maillog_free(p);

	/* the Exim parser reads syslog lines of exim only */
	p = parser(SH_MTA_EXIM, 2007);
	feeds(p, "Dec 31 23:59:10 mx2 postfix/smtpd[1001]: NOQUEUE: reject: RCPT from unknown[192.0.2.7]:40200: 554 5.7.1 <n@example.net>: Relay access denied; from=<m@example.com> to=<n@example.net> proto=ESMTP helo=<friend>");
	feeds(p, "Jul 14 10:26:00 mx exim[12]: H=(pc) [192.0.2.66]:1234 F=<r@e.org> rejected RCPT <p@e.net>: no");
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_OTHER_PROGRAM), 1);
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0].ip, "192.0.2.66");
	assert_string_equal(got[0].ts, "2007-07-14 10:26:00");
	sh_maillog_free(p);
}

static void
test_long_lines(void **state)
{
	sh_maillog *p = parser(SH_MTA_EXIM, 0);
	char	   *big = malloc(SH_MAILLOG_LINE_MAX + 2);

	(void) state;
	assert_non_null(big);
	memset(big, 'x', SH_MAILLOG_LINE_MAX + 1);
	feed(p, big, SH_MAILLOG_LINE_MAX + 1);
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_LINE_TOO_LONG), 1);
	free(big);
	sh_maillog_free(p);
}

/* Every line of a sample log, cut at every byte, for both parsers. */
static void
cut_everywhere(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		n;

	assert_non_null(f);
	while ((n = getline(&line, &cap, f)) > 0)
	{
		for (ssize_t cut = 0; cut <= n; cut++)
		{
			for (int mta = 0; mta < 2; mta++)
			{
				sh_maillog *p = parser(mta == 0 ? SH_MTA_EXIM : SH_MTA_POSTFIX, mta ? 0 : 2007);

				feed(p, line, (size_t) cut);
				sh_maillog_finish(p);
				assert_int_equal(sh_maillog_lines(p), 1);
				sh_maillog_free(p);
			}
		}
	}
	free(line);
	fclose(f);
}

static void
test_sample_lines_cut_everywhere(void **state)
{
	(void) state;
	cut_everywhere("../data/maillog/exim-mainlog");
	cut_everywhere("../data/maillog/postfix-maillog");
	cut_everywhere("../data/maillog/exim-mainlog-london-october");
	cut_everywhere("../data/maillog/postfix-maillog-london-october");
}

/* The sample logs whole: the counts the end-to-end test checks too. */
static void
test_sample_logs(void **state)
{
	static const struct
	{
		const char *path;
		sh_mta		mta;
		int			year;
		uint64_t	lines,
					events,
					malformed;
	}			logs[] = {
		{"../data/maillog/exim-mainlog", SH_MTA_EXIM, 0, 40, 11, 6},
		{"../data/maillog/postfix-maillog", SH_MTA_POSTFIX, 2007, 50, 10, 6},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++)
	{
		sh_maillog *p = parser(logs[i].mta, logs[i].year);
		FILE	   *f = fopen(logs[i].path, "rb");
		char	   *line = NULL;
		size_t		cap = 0;
		ssize_t		n;

		assert_non_null(f);
		while ((n = getline(&line, &cap, f)) > 0)
			feed(p, line, (size_t) (line[n - 1] == '\n' ? n - 1 : n));
		sh_maillog_finish(p);
		assert_int_equal(sh_maillog_lines(p), logs[i].lines);
		assert_int_equal(sh_maillog_events(p), logs[i].events);
		assert_int_equal(sh_maillog_malformed(p), logs[i].malformed);
		free(line);
		fclose(f);
		sh_maillog_free(p);
	}
}

/*
 * Addresses with a quoted local part (RFC 5321: "...", backslash escapes)
 * are kept whole wherever a log names them, whatever the quotes hold:
 * spaces, '>', '=', ',', ';' or the names of other fields.
 */
static void
test_exim_quoted_addresses(void **state)
{
	sh_maillog *p = parser(SH_MTA_EXIM, 0);

	(void) state;
	feeds(p, "2007-07-14 10:15:01 1IAb3x-0001Ab-7Q <= \"q\\\"x\"@ex.net H=mail.example.org [192.0.2.25]:41234 P=esmtp S=5321 id=x@y");
	feeds(p, "2007-07-14 10:15:02 1IAb3x-0001Ab-7Q => \"q\\\"x\"@ex.net R=local_user T=local_delivery");
	feeds(p, "2007-07-14 10:15:02 1IAb3x-0001Ab-7Q -> \"sp ace\"@ex.net R=local_user T=local_delivery");
	feeds(p, "2007-07-14 10:15:02 1IAb3x-0001Ab-7Q => alice <\"a>b c\"@ex.net> R=local_user T=local_delivery");
	feeds(p, "2007-07-14 10:15:02 1IAb3x-0001Ab-7Q => |/usr/bin/procmail <bob@ex.net> R=pipe T=address_pipe");
	feeds(p, "2007-07-14 10:15:02 1IAb3x-0001Ab-7Q Completed");
	/* a sender whose quotes hold what looks like the other fields */
	feeds(p, "2007-07-14 10:16:01 1IAb4y-0001Bc-8R <= \"a H=[203.0.113.9] S=7\"@ex.net H=(helo) [192.0.2.26] P=esmtp S=100");
	feeds(p, "2007-07-14 10:16:02 1IAb4y-0001Bc-8R Completed");
	feeds(p, "2007-07-14 10:19:00 H=(x) [192.0.2.43] F=<\"a>b rejected c\"@ex.net> rejected RCPT <\"d>e, f=g\"@ex.net>: blocked");
	assert_int_equal(ngot, 3);
	assert_string_equal(got[0].sender, "\"q\\\"x\"@ex.net");
	assert_string_equal(got[0].rcpt, "\"q\\\"x\"@ex.net,\"sp ace\"@ex.net,\"a>b c\"@ex.net,bob@ex.net");
	assert_string_equal(got[0].ip, "192.0.2.25");
	assert_int_equal(got[0].size, 5321);
	assert_string_equal(got[1].sender, "\"a H=[203.0.113.9] S=7\"@ex.net");
	assert_string_equal(got[1].ip, "192.0.2.26");
	assert_string_equal(got[1].helo, "helo");
	assert_int_equal(got[1].size, 100);
	assert_string_equal(got[2].ip, "192.0.2.43");
	assert_string_equal(got[2].sender, "\"a>b rejected c\"@ex.net");
	assert_string_equal(got[2].rcpt, "\"d>e, f=g\"@ex.net");
	assert_string_equal(got[2].reason, "rejected RCPT <\"d>e, f=g\"@ex.net>: blocked");
	sh_maillog_free(p);
}

static void
test_postfix_quoted_addresses(void **state)
{
	sh_maillog *p = parser(SH_MTA_POSTFIX, 2007);

	(void) state;
	feeds(p, "Jan  1 00:01:00 mx2 postfix/smtpd[1001]: 4B3C2D1E0: client=dsl-42.example.com[192.0.2.42]:3321");
	feeds(p, "Jan  1 00:01:01 mx2 postfix/qmgr[900]: 4B3C2D1E0: from=<\"q\\\"x, size=9\"@ex.net>, size=4321, nrcpt=2 (queue active)");
	feeds(p, "Jan  1 00:01:02 mx2 postfix/local[1004]: 4B3C2D1E0: to=<\"a>b, to=<c@d>\"@ex.net>, orig_to=<o@ex.net>, relay=local, status=sent");
	feeds(p, "Jan  1 00:01:02 mx2 postfix/local[1004]: 4B3C2D1E0: to=<\"sp ace\"@ex.net>, relay=local, status=sent");
	feeds(p, "Jan  1 00:01:02 mx2 postfix/qmgr[900]: 4B3C2D1E0: removed");
	feeds(p, "Jan  1 00:02:00 mx2 postfix/smtpd[1001]: NOQUEUE: reject: RCPT from unknown[192.0.2.7]:40200: 554 5.7.1 <\"x; from=<e@v> to=<f@v>\"@ex.net>: Relay access denied; from=<\"m n\"@example.com> to=<\"x; from=<e@v> to=<f@v>\"@ex.net> proto=ESMTP helo=<friend>");
	feeds(p, "Jan  1 00:03:00 mx2 amavis[2002]: (02002-01) Blocked SPAM {DiscardedInbound}, [192.0.2.44]:3321 [192.0.2.44] <\"a> -> <b\"@x.example> -> <\"c,d\"@y.example>,<e@z.example>, Queue-ID: 9F9F9F9F9, Message-ID: <x1@w.example>, mail_id: X, Hits: 25.073, size: 4321, 1520 ms");
	sh_maillog_finish(p);
	assert_int_equal(ngot, 3);
	assert_string_equal(got[0].ip, "192.0.2.7");
	assert_string_equal(got[0].sender, "\"m n\"@example.com");
	assert_string_equal(got[0].rcpt, "\"x; from=<e@v> to=<f@v>\"@ex.net");
	assert_string_equal(got[0].helo, "friend");
	assert_string_equal(got[0].reason, "RCPT: 554 5.7.1 <\"x; from=<e@v> to=<f@v>\"@ex.net>: Relay access denied");
	/* the amavisd-new line, then the message at the end */
	assert_string_equal(got[1].sender, "\"a> -> <b\"@x.example");
	assert_string_equal(got[1].rcpt, "\"c,d\"@y.example,e@z.example");
	assert_int_equal(got[1].size, 4321);
	assert_string_equal(got[2].sender, "\"q\\\"x, size=9\"@ex.net");
	assert_int_equal(got[2].size, 4321);
	assert_string_equal(got[2].rcpt, "\"a>b, to=<c@d>\"@ex.net,\"sp ace\"@ex.net");
	sh_maillog_free(p);
}

/* An Exim refusal at local time hms on date (one event each). */
static void
exim_at(sh_maillog *p, const char *date, const char *hms)
{
	char		line[256];

	snprintf(line, sizeof(line), "%s %s H=(x) [192.0.2.43] F=<a@b> rejected RCPT <c@d>: no", date, hms);
	feeds(p, line);
}

/*
 * Europe/London, 25 October 2026: at 01:00 UTC (02:00 BST) the clocks went
 * back to 01:00 GMT, so 01:00:00-01:59:59 local happened twice, first at
 * +01:00 (00:00-00:59 UTC), then at +00:00 (01:00-01:59 UTC). A busy log
 * tells them apart: its times go back by most of an hour.
 */
static void
test_exim_clocks_go_back(void **state)
{
	sh_maillog *p = parser_in(SH_MTA_EXIM, 0, "Europe/London");

	(void) state;
	exim_at(p, "2026-10-25", "00:59:30");	/* BST only */
	exim_at(p, "2026-10-25", "01:10:00");	/* the first 01:10, 00:10 UTC */
	exim_at(p, "2026-10-25", "01:50:00");	/* 00:50 UTC */
	exim_at(p, "2026-10-25", "01:49:58");	/* a line written out of order by 2 s */
	exim_at(p, "2026-10-25", "01:05:00");	/* back: the second 01:05, 01:05 UTC */
	exim_at(p, "2026-10-25", "01:40:00");	/* 01:40 UTC */
	exim_at(p, "2026-10-25", "02:00:10");	/* GMT only */
	sh_maillog_finish(p);
	assert_int_equal(ngot, 7);
	assert_string_equal(got[0].ts, "2026-10-25 00:59:30");
	assert_string_equal(got[1].ts, "2026-10-25 01:10:00+01:00");
	assert_string_equal(got[2].ts, "2026-10-25 01:50:00+01:00");
	assert_string_equal(got[3].ts, "2026-10-25 01:49:58+01:00");
	assert_string_equal(got[4].ts, "2026-10-25 01:05:00+00:00");
	assert_string_equal(got[5].ts, "2026-10-25 01:40:00+00:00");
	assert_string_equal(got[6].ts, "2026-10-25 02:00:10");
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_AMBIGUOUS_TIME), 0);
	assert_int_equal(sh_maillog_malformed(p), 0);
	sh_maillog_free(p);

	/* New York, 1 November 2026: 01:00-01:59 at -04:00, then at -05:00 */
	p = parser_in(SH_MTA_EXIM, 0, "America/New_York");
	exim_at(p, "2026-11-01", "01:30:00");
	exim_at(p, "2026-11-01", "01:59:59");
	exim_at(p, "2026-11-01", "01:00:00");
	sh_maillog_finish(p);
	assert_int_equal(ngot, 3);
	assert_string_equal(got[0].ts, "2026-11-01 01:30:00-04:00");
	assert_string_equal(got[1].ts, "2026-11-01 01:59:59-04:00");
	assert_string_equal(got[2].ts, "2026-11-01 01:00:00-05:00");
	sh_maillog_free(p);
}

/*
 * Where the lines do not tell (no going back in the repeated hour), its
 * times are skipped and counted as ambiguous_time, not guessed.
 */
static void
test_exim_clocks_go_back_ambiguous(void **state)
{
	sh_maillog *p = parser_in(SH_MTA_EXIM, 0, "Europe/London");

	(void) state;
	exim_at(p, "2026-10-25", "00:55:00");
	exim_at(p, "2026-10-25", "01:30:00");	/* 00:30 or 01:30 UTC: either fits */
	exim_at(p, "2026-10-25", "01:45:00");
	exim_at(p, "2026-10-25", "02:05:00");
	assert_int_equal(ngot, 2);
	assert_string_equal(got[0].ts, "2026-10-25 00:55:00");
	assert_string_equal(got[1].ts, "2026-10-25 02:05:00");
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_AMBIGUOUS_TIME), 2);
	/* a log that ends in the repeated hour */
	exim_at(p, "2027-10-31", "01:20:00");
	sh_maillog_finish(p);
	assert_int_equal(ngot, 2);
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_AMBIGUOUS_TIME), 3);
	assert_int_equal(sh_maillog_malformed(p), 0);
	assert_int_equal(sh_maillog_events(p), 2);
	sh_maillog_free(p);
}

/*
 * A message whose arrival is in the repeated hour waits for it to be told,
 * whether it completes before or after.
 */
static void
test_exim_clocks_go_back_pending(void **state)
{
	sh_maillog *p = parser_in(SH_MTA_EXIM, 0, "Europe/London");

	(void) state;
	feeds(p, "2026-10-25 01:50:00 1IAb3x-0001Ab-7Q <= bob@example.org H=[192.0.2.25] P=esmtp S=5");
	feeds(p, "2026-10-25 01:51:00 1IAb3x-0001Ab-7Q Completed");
	feeds(p, "2026-10-25 01:55:00 1IAb4y-0001Bc-8R <= eve@example.org H=[192.0.2.26] P=esmtp S=6");
	assert_int_equal(ngot, 0);
	feeds(p, "2026-10-25 01:02:00 1IAb5z-0001Cd-9S <= tom@example.org H=[192.0.2.27] P=esmtp S=7");
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0].ts, "2026-10-25 01:50:00+01:00");
	assert_string_equal(got[0].ip, "192.0.2.25");
	feeds(p, "2026-10-25 01:03:00 1IAb4y-0001Bc-8R Completed");
	feeds(p, "2026-10-25 01:04:00 1IAb5z-0001Cd-9S Completed");
	assert_int_equal(ngot, 3);
	assert_string_equal(got[1].ts, "2026-10-25 01:55:00+01:00");
	assert_string_equal(got[1].ip, "192.0.2.26");
	assert_string_equal(got[2].ts, "2026-10-25 01:02:00+00:00");
	sh_maillog_free(p);
}

/*
 * Europe/London, 29 March 2026: at 01:00 GMT the clocks went forward to
 * 02:00 BST; no clock there read 01:00:00-01:59:59: a malformed time.
 */
static void
test_clocks_go_forward(void **state)
{
	sh_maillog *p = parser_in(SH_MTA_EXIM, 0, "Europe/London");

	(void) state;
	exim_at(p, "2026-03-29", "00:59:59");
	exim_at(p, "2026-03-29", "01:00:00");
	exim_at(p, "2026-03-29", "01:59:59");
	exim_at(p, "2026-03-29", "02:00:00");
	feeds(p, "2026-03-29 01:30:00 +0000 H=(x) [192.0.2.43] F=<a@b> rejected RCPT <c@d>: no");
	sh_maillog_finish(p);
	assert_int_equal(ngot, 3);
	assert_string_equal(got[0].ts, "2026-03-29 00:59:59");
	assert_string_equal(got[1].ts, "2026-03-29 02:00:00");
	assert_string_equal(got[2].ts, "2026-03-29 01:30:00+00:00");	/* its own offset */
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_MALFORMED_TIME), 2);
	sh_maillog_free(p);

	p = parser_in(SH_MTA_POSTFIX, 2026, "Europe/London");
	feeds(p, "Mar 29 01:15:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 5; from=<a@b> to=<c@d> proto=SMTP helo=<h>");
	assert_int_equal(ngot, 0);
	assert_int_equal(sh_maillog_skipped(p, SH_MSKIP_MALFORMED_TIME), 1);
	sh_maillog_free(p);
}

/* BSD syslog times (Postfix, or Exim through syslog) are local times too. */
static void
test_syslog_clocks_go_back(void **state)
{
	static const char fmt[] = "Oct 25 %s mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 5; from=<a@b> to=<c@d> proto=SMTP helo=<h>";
	static const char *const hms[] = {"01:10:00", "01:50:00", "01:05:00", "02:30:00"};
	sh_maillog *p = parser_in(SH_MTA_POSTFIX, 2026, "Europe/London");
	char		line[256];

	(void) state;
	for (int i = 0; i < 4; i++)
	{
		snprintf(line, sizeof(line), fmt, hms[i]);
		feeds(p, line);
	}
	/* RFC 3339 times carry their offset: nothing to tell */
	feeds(p, "2026-10-25T01:20:00+01:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 5; from=<a@b> to=<c@d> proto=SMTP helo=<h>");
	sh_maillog_finish(p);
	assert_int_equal(ngot, 5);
	assert_string_equal(got[0].ts, "2026-10-25 01:10:00+01:00");
	assert_string_equal(got[1].ts, "2026-10-25 01:50:00+01:00");
	assert_string_equal(got[2].ts, "2026-10-25 01:05:00+00:00");
	assert_string_equal(got[3].ts, "2026-10-25 02:30:00");
	assert_string_equal(got[4].ts, "2026-10-25 01:20:00+01:00");
	sh_maillog_free(p);

	/* Exim through syslog */
	p = parser_in(SH_MTA_EXIM, 2026, "Europe/London");
	feeds(p, "Oct 25 01:50:00 mx exim[12]: H=(pc) [192.0.2.66]:1234 F=<r@e.org> rejected RCPT <p@e.net>: no");
	feeds(p, "Oct 25 01:01:00 mx exim[12]: H=(pc) [192.0.2.66]:1234 F=<r@e.org> rejected RCPT <p@e.net>: no");
	assert_int_equal(ngot, 2);
	assert_string_equal(got[0].ts, "2026-10-25 01:50:00+01:00");
	assert_string_equal(got[1].ts, "2026-10-25 01:01:00+00:00");
	sh_maillog_free(p);
}

/*
 * Lines full of opened quotes and fields: read within the line
 * (AddressSanitizer), each address skipped once, not rescanned per field.
 */
static void
test_quotes_hostile(void **state)
{
	static const char *const pieces[] = {"<\"; ", " from=<", " F=<", "<\"x\"@", "\"\\", "F=<\"a> rejected "};
	char	   *line = malloc(SH_MAILLOG_LINE_MAX + 1);
	clock_t		start = clock();

	(void) state;
	assert_non_null(line);
	for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++)
	{
		for (int mta = 0; mta < 2; mta++)
		{
			const char *head = mta ? "Jan  1 00:02:00 mx2 postfix/smtpd[1001]: NOQUEUE: reject: RCPT from unknown[192.0.2.7]:40200: 554 x; from=<a@b> to=<c@d> "
				: "2007-07-14 10:19:00 H=(x) [192.0.2.43] rejected RCPT <";
			sh_maillog *p = parser(mta ? SH_MTA_POSTFIX : SH_MTA_EXIM, 2007);
			size_t		at = strlen(head),
						plen = strlen(pieces[k]);

			memcpy(line, head, at);
			while (at + plen <= SH_MAILLOG_LINE_MAX)
			{
				memcpy(line + at, pieces[k], plen);
				at += plen;
			}
			feed(p, line, at);
			sh_maillog_finish(p);
			assert_int_equal(sh_maillog_lines(p), 1);
			sh_maillog_free(p);
		}
	}
	free(line);
	/* each in milliseconds without the sanitizers; here, within a generous bound */
	assert_true((double) (clock() - start) / CLOCKS_PER_SEC < 10.0);
}


/*
 * What looks binary: a capture's bytes (mostly zeros and bytes that are not
 * UTF-8), or text with a NUL in more than 1 byte of 100; a log with Latin-1
 * text, a line of NULs among a few kB of lines, tabs and ANSI colours is
 * text.
 */
static void
test_looks_binary(void **state)
{
	/* a pcap's global header and a record header, as libpcap writes them */
	static const char pcap[] = "\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00"
		"\xff\xff\x00\x00\x01\x00\x00\x00\x5a\x1e\x3b\x47\x10\x27\x00\x00\xb8\x00\x00\x00";
	char		text[4096],
				noise[512];
	size_t		at = 0;
	uint32_t	x = 12345;
	const char *latin1,
			   *colours;

	(void) state;
	assert_false(sh_maillog_looks_binary("", 0));
	assert_false(sh_maillog_looks_binary("2007-07-14 10:15:01 Completed\n", 30));
	assert_true(sh_maillog_looks_binary(pcap, sizeof(pcap) - 1));
	/* Latin-1 (not UTF-8) in a line: text */
	latin1 = "Jul 14 10:15:01 mx postfix/smtpd[1]: from=<caf\xe9@x.example>\n";
	assert_false(sh_maillog_looks_binary(latin1, strlen(latin1)));
	/* tabs, CR, ESC (colours) */
	colours = "a\tb\r\n\033[1mc\033[0m\n";
	assert_false(sh_maillog_looks_binary(colours, strlen(colours)));
	/* one NUL among 4 kB of lines: text; 1 in 50 bytes: binary */
	while (at + 64 < sizeof(text))
		at += (size_t) snprintf(text + at, sizeof(text) - at, "2007-07-14 10:15:%02zu 1IAb3x-0001Ab-7Q Completed\n", at % 60);
	text[100] = '\0';
	assert_false(sh_maillog_looks_binary(text, at));
	for (size_t i = 0; i < at; i += 50)
		text[i] = '\0';
	assert_true(sh_maillog_looks_binary(text, at));
	/* random bytes without a NUL: mostly not UTF-8 */
	for (size_t i = 0; i < sizeof(noise); i++)
	{
		x = x * 1103515245u + 12345u;
		noise[i] = (char) ((x >> 16) % 255 + 1);
	}
	assert_true(sh_maillog_looks_binary(noise, sizeof(noise)));
}

/* A parser fed lines (no line ends): the refusal, or NULL. */
static const char *
refusal_of(sh_mta mta, const char *const *lines, size_t n, char *buf, size_t len)
{
	static sh_maillog *p;

	sh_maillog_free(p);
	p = parser(mta, 2007);
	for (size_t i = 0; i < n; i++)
		feed(p, lines[i], strlen(lines[i]));
	sh_maillog_finish(p);
	return sh_maillog_refusal(p, buf, len);
}

/*
 * What is refused, and why: nothing to read; blank lines; binary data; lines
 * that are not the format's, in any number, naming the format they are;
 * neither format's. A log of the format with no event is not refused.
 */
static void
test_refusals(void **state)
{
	static const char *const exim[] = {
		"2007-07-14 10:15:01 1IAb3x-0001Ab-7Q <= bob@example.org H=mail.example.org [192.0.2.25]:41234 P=esmtp S=5321",
		"2007-07-14 10:15:02 1IAb3x-0001Ab-7Q Completed",
	};
	static const char *const postfix[] = {
		"Dec 31 23:58:01 mx2 postfix/smtpd[1001]: connect from mail.example.org[192.0.2.25]",
		"Dec 31 23:58:02 mx2 postfix/smtpd[1001]: 3F2A41A3C: client=mail.example.org[192.0.2.25]:41000",
		"Dec 31 23:58:02 mx2 postfix/qmgr[900]: 3F2A41A3C: from=<bob@example.org>, size=2345, nrcpt=1 (queue active)",
		"Dec 31 23:58:03 mx2 postfix/local[1004]: 3F2A41A3C: to=<alice@example.net>, relay=local, status=sent (delivered)",
		"Dec 31 23:58:03 mx2 postfix/qmgr[900]: 3F2A41A3C: removed",
	};
	static const char *const quiet_exim[] = {
		"2007-07-14 10:00:00 exim 4.63 daemon started: pid=2201, -q30m",
		"2007-07-14 10:30:00 Start queue run: pid=2301",
	};
	static const char *const quiet_postfix[] = {
		"Dec 31 23:58:01 mx2 postfix/master[1]: daemon started -- version 2.5.1",
		"Dec 31 23:58:01 mx2 CRON[2]: (root) CMD (run-parts)",
	};
	static const char *const neither[] = {"hello", "world", "Dec 31 23:58:01 mx2 CRON[2]: (root) CMD (x)"};
	static const char *const blank[] = {"", "  ", "\t\r"};
	static const char *const nul_lines[] = {"\xd4\xc3\xb2\xa1\x02"};
	char		why[512];
	const char *r;

	(void) state;
	/* the right formats: events, nothing refused */
	assert_null(refusal_of(SH_MTA_EXIM, exim, 2, why, sizeof(why)));
	assert_null(refusal_of(SH_MTA_POSTFIX, postfix, 5, why, sizeof(why)));
	/* lines of the format, no event: loaded */
	assert_null(refusal_of(SH_MTA_EXIM, quiet_exim, 2, why, sizeof(why)));
	assert_null(refusal_of(SH_MTA_POSTFIX, quiet_postfix, 2, why, sizeof(why)));

	r = refusal_of(SH_MTA_EXIM, NULL, 0, why, sizeof(why));
	assert_non_null(r);
	assert_string_equal(r, "empty: not a line to read");
	r = refusal_of(SH_MTA_POSTFIX, blank, 3, why, sizeof(why));
	assert_non_null(r);
	assert_string_equal(r, "empty: 3 lines, all blank");

	r = refusal_of(SH_MTA_POSTFIX, exim, 2, why, sizeof(why));
	assert_non_null(r);
	assert_string_equal(r, "2 lines read, none of them a postfix line (2 malformed_time): it reads as an exim log, try --maillog=exim");
	r = refusal_of(SH_MTA_EXIM, postfix, 5, why, sizeof(why));
	assert_non_null(r);
	assert_string_equal(r, "5 lines read, none of them an exim line (5 other_program): it reads as a postfix log, try --maillog=postfix");
	r = refusal_of(SH_MTA_EXIM, neither, 3, why, sizeof(why));
	assert_non_null(r);
	assert_string_equal(r, "3 lines read, none of them an exim line (2 malformed_time): not an exim log");

	r = refusal_of(SH_MTA_EXIM, nul_lines, 1, why, sizeof(why));
	assert_non_null(r);
	assert_non_null(strstr(r, "binary data, not a mail log"));
	refusal_of(SH_MTA_EXIM, NULL, 0, why, sizeof(why));
}

/* Each event has its time as seconds since 1970, UTC: the line's, its offset applied. */
static void
test_event_seconds(void **state)
{
	sh_maillog *p = parser(SH_MTA_EXIM, 0);

	(void) state;
	feeds(p, "2007-07-14 10:15:01 H=(x) [192.0.2.43] F=<a@ex.net> rejected RCPT <b@ex.net>: blocked");
	feeds(p, "2007-07-14 10:22:00 +0200 H=(x) [192.0.2.44] F=<a@ex.net> rejected RCPT <b@ex.net>: blocked");
	sh_maillog_finish(p);
	assert_int_equal(ngot, 2);
	/* 2007-07-14 is day 13708 since 1970-01-01 (hand: 37 years, 9 leap days, 194 days) */
	assert_int_equal(got[0].secs, 13708LL * 86400 + 10 * 3600 + 15 * 60 + 1);
	assert_int_equal(got[1].secs, 13708LL * 86400 + 8 * 3600 + 22 * 60);
	sh_maillog_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exim_arrival_and_deliveries),
		cmocka_unit_test(test_exim_refusals),
		cmocka_unit_test(test_exim_skips),
		cmocka_unit_test(test_postfix_amavis_and_reinjection),
		cmocka_unit_test(test_postfix_linger_then_emit),
		cmocka_unit_test(test_postfix_refusals),
		cmocka_unit_test(test_years),
		cmocka_unit_test(test_text_is_cleaned),
		cmocka_unit_test(test_format_characters_replaced),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_sample_lines_cut_everywhere),
		cmocka_unit_test(test_sample_logs),
		cmocka_unit_test(test_exim_quoted_addresses),
		cmocka_unit_test(test_postfix_quoted_addresses),
		cmocka_unit_test(test_exim_clocks_go_back),
		cmocka_unit_test(test_exim_clocks_go_back_ambiguous),
		cmocka_unit_test(test_exim_clocks_go_back_pending),
		cmocka_unit_test(test_clocks_go_forward),
		cmocka_unit_test(test_syslog_clocks_go_back),
		cmocka_unit_test(test_quotes_hostile),
		cmocka_unit_test(test_looks_binary),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_event_seconds),
		cmocka_unit_test(test_line_identity),
	};

	return cmocka_run_group_tests_name("maillog", tests, NULL, NULL);
}
