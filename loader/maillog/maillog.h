/*
 * loader/maillog/maillog.h: mail server logs (Exim's mainlog; Postfix with
 * amavisd-new, SpamAssassin and ClamAV through syslog) turned into mail
 * events: one per message, or per refused attempt, that a network client
 * sent to our mail servers.
 *
 * The parser is pure: lines in, events out through a callback, counts of
 * what was skipped and why. Reading files, hashing and the database are
 * maillog_pipeline.c's and common/load.c's.
 */
#ifndef SPAMHINTS_MAILLOG_H
#define SPAMHINTS_MAILLOG_H

#include <stddef.h>
#include <stdint.h>

typedef enum sh_mta
{
	SH_MTA_EXIM,
	SH_MTA_POSTFIX
} sh_mta;

typedef enum sh_verdict
{
	SH_VERDICT_CLEAN,
	SH_VERDICT_SPAM,
	SH_VERDICT_VIRUS,
	SH_VERDICT_REJECTED
} sh_verdict;

/* Why a line, or a message, was not loaded. */
typedef enum sh_mskip
{
	SH_MSKIP_OTHER_PROGRAM,		/* a syslog line of another program */
	SH_MSKIP_OTHER_LINE,		/* an MTA line that holds nothing we load */
	SH_MSKIP_LOCAL_SUBMISSION,	/* a message with no network client */
	SH_MSKIP_LOOPBACK_CLIENT,	/* from 127.0.0.0/8 or ::1: a content filter re-injecting */
	SH_MSKIP_AMBIGUOUS_TIME,	/* a local time of the repeated hour that the lines around it do not tell */
	/* the malformed lines: counted, never loaded */
	SH_MSKIP_MALFORMED_TIME,	/* no valid time at the start */
	SH_MSKIP_MALFORMED_LINE,	/* an MTA line that breaks its own syntax */
	SH_MSKIP_MALFORMED_ADDRESS, /* a client address that is not an address */
	SH_MSKIP_LINE_TOO_LONG,
	SH_MSKIP_BINARY,			/* a NUL byte in the line */
	SH_MSKIP_COUNT_
} sh_mskip;

#define SH_MSKIP_FIRST_MALFORMED SH_MSKIP_MALFORMED_TIME

/* Lines longer than this are malformed (the rest of the line is dropped). */
#define SH_MAILLOG_LINE_MAX 65536

/* The identity of a line: maillog.h's sh_maillog_on_line says what it is made of. */
#define SH_LINE_KEY_BYTES 16

typedef struct sh_mail_event
{
	uint64_t	line;			/* the line that gave the event its client */
	uint8_t		line_key[SH_LINE_KEY_BYTES];	/* that line's identity ... */
	int			has_key;		/* ... when it has one (a time was read) */
	uint32_t	line_count;		/* the lines the event was made from */
	uint64_t	last_line;		/* the parser's: the last of them */
	char		ts[48];			/* "YYYY-MM-DD HH:MM:SS[.frac][+HH:MM]" */
	char	   *host;			/* syslog host, NULL for Exim's own log */
	char	   *queue_id;
	char		client_ip[48];	/* "" while unknown */
	int			client_port;	/* -1: unknown */
	char	   *client_name;
	char	   *helo;
	int64_t		size;			/* -1: unknown */
	char	   *sender;			/* NULL unknown, "" the null sender */
	char	  **rcpt;
	size_t		nrcpt;
	size_t		rcpt_cap;
	sh_verdict	verdict;
	char	   *virus;
	char		spam_score[24]; /* "" unknown */
	char	   *reason;
	/* the parser's bookkeeping */
	int			done;
	int64_t		done_at;
	int64_t		secs;			/* ts as seconds since 1970, UTC */
	int64_t		ts_fold;		/* 0: ts is told; > 0: ts is in the repeated hour
								 * before that change (UTC seconds), not yet
								 * told; -1: it cannot be told */
} sh_mail_event;

typedef void (*sh_mail_emit) (const sh_mail_event *ev, void *arg);

typedef struct sh_maillog_config
{
	sh_mta		mta;
	/* Syslog lines carry no year. With year > 0 (--year) it is the year of
	 * the first such line, and a month going back by more than six (December,
	 * then January) starts the next year. Otherwise each line takes the
	 * latest year that does not put it after ref (the file's modification
	 * time in the log's zone) by more than a day. */
	int			year;
	int			ref_year;
	int			ref_month;
	int			ref_day;
	/* The mail server's name for lines that do not carry one (Exim's own
	 * mainlog): --host; NULL leaves it unknown. */
	const char *host;
	/* The zone of times without an offset (--timezone), as TZ names it
	 * ("Europe/London"); NULL: the C library's local zone. Where clocks go
	 * back, an hour of local times happens twice: such times are told by
	 * the lines around them and given their offset (an Exim log, or a
	 * syslog file, is written in time order), or else skipped as
	 * ambiguous_time; a time in the hour skipped where clocks go forward is
	 * a malformed_time. */
	const char *zone;
} sh_maillog_config;

typedef struct sh_maillog sh_maillog;

sh_maillog *sh_maillog_new(const sh_maillog_config *cfg, sh_mail_emit emit, void *arg);
/* One line, without its line end; it may hold NUL bytes. */
void		sh_maillog_line(sh_maillog *p, const char *line, size_t len);
/* End of the file: emit the messages still pending. */
void		sh_maillog_finish(sh_maillog *p);
void		sh_maillog_free(sh_maillog *p);

/*
 * The identity of each line of the MTA whose time was read, for the lines
 * that a load must not add twice (spamhints.maillog_line): the first
 * SH_LINE_KEY_BYTES bytes of SHA-256 over the mail server's name (the
 * syslog host, else the config's host), the year of the line's time (syslog
 * lines do not write it), the line's bytes without its line end, and which
 * occurrence of those same bytes (host and year included) it is in what was
 * read, from 1. Its line number or byte offset are no part of it: they
 * change when a log is rotated or grows at the front, or is an excerpt; the
 * occurrence keeps two identical lines apart (identical bytes hold the same
 * time to the second, so occurrences are counted over the lines of the last
 * few hours of log time only). An event's line_key is the identity of its
 * line (the one that gave its client). cb is called after each such line.
 */
typedef void (*sh_mail_line_cb) (const uint8_t key[SH_LINE_KEY_BYTES], uint64_t lineno, void *arg);
void		sh_maillog_on_line(sh_maillog *p, sh_mail_line_cb cb, void *arg);
/* The lines that got an identity. */
uint64_t	sh_maillog_keyed(const sh_maillog *p);
/*
 * Emit the messages whose last line was read and whose linger is over,
 * without waiting for more lines (a batch of a followed log ends).
 */
void		sh_maillog_flush(sh_maillog *p);
/* The reference date of syslog years (sh_maillog_config: ref_year...), for a log read as it grows. */
void		sh_maillog_set_ref(sh_maillog *p, int year, int month, int day);

uint64_t	sh_maillog_lines(const sh_maillog *p);
uint64_t	sh_maillog_events(const sh_maillog *p);
uint64_t	sh_maillog_malformed(const sh_maillog *p);
uint64_t	sh_maillog_skipped(const sh_maillog *p, sh_mskip reason);
/* Whether some line needed its year told (a syslog line). */
int			sh_maillog_needed_year(const sh_maillog *p);
/* Whether memory ran out (then events were lost: the load must fail). */
int			sh_maillog_oom(const sh_maillog *p);

const char *sh_mskip_name(sh_mskip reason);

/*
 * What must not be loaded as a mail log of this format. Lines that are not
 * blank (not only spaces, tabs and a CR), and of those the lines the
 * format's parser took as its own (a line of its MTA, whatever it held).
 */
uint64_t	sh_maillog_text_lines(const sh_maillog *p);
uint64_t	sh_maillog_recognised(const sh_maillog *p);
/* Whether the first SH_MAILLOG_HEAD_BYTES of the lines looked binary. */
int			sh_maillog_binary_start(const sh_maillog *p);
/*
 * The name of another format whose parser took some of the first
 * SH_MAILLOG_PROBE_LINES lines as its own while this one took none, or NULL.
 */
const char *sh_maillog_other_format(const sh_maillog *p);
/*
 * Why the file read must not be recorded as a load of this format, into
 * buf (one line, no newline), or NULL when it may: no line that is not
 * blank ("empty"); no event and a binary start (a capture given as a mail
 * log); no event and no line of the format, in any number of lines (the
 * wrong --maillog format, or not a mail log), naming the format that fits
 * when another one does. A log whose lines are the format's loads even
 * with no event (a quiet day: a daemon start, a queue run).
 */
const char *sh_maillog_refusal(const sh_maillog *p, char *buf, size_t len);

/* The first bytes looked at for a binary start, and the lines probed for another format. */
#define SH_MAILLOG_HEAD_BYTES	4096
#define SH_MAILLOG_PROBE_LINES	1000

/*
 * Whether buf[0..len) looks binary rather than text: more than 1% of its
 * bytes NUL, or more than a quarter of them control characters (NUL, and
 * the others but tab, line feed, vertical tab, form feed, carriage return
 * and escape) or bytes that are not part of valid UTF-8. A capture is
 * binary (its headers are mostly zeros); a log with a line of NULs, or
 * with Latin-1 text here and there, is text.
 */
int			sh_maillog_looks_binary(const char *buf, size_t len);

const char *sh_verdict_name(sh_verdict v);
/* "exim" or "postfix": 0, or -1 for another name. */
int			sh_mta_parse(const char *name, sh_mta *out);

#endif
