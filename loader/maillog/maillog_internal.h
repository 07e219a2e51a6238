/*
 * loader/maillog/maillog_internal.h: what the parts of the mail log parser
 * share. maillog.c holds the parser's state and counts, the text helpers,
 * the events and the messages pending by queue id, and hands each line to
 * its MTA's parser through the table below; times.c reads the times; each
 * MTA's file (exim.c, postfix.c) its log lines.
 *
 * The rest of the loader uses maillog.h only.
 */
#ifndef SPAMHINTS_MAILLOG_INTERNAL_H
#define SPAMHINTS_MAILLOG_INTERNAL_H

#include "maillog.h"

#include <string.h>

#define SH_ML_NBUCKETS	4096

typedef struct sh_ml_pending
{
	struct sh_ml_pending *next;
	char	   *key;
	sh_mail_event ev;
} sh_ml_pending;

typedef struct sh_mta_parser sh_mta_parser;

/* The MTAs of maillog.c's mtas[]: a parser probes the others (sh_maillog_other_format). */
#define SH_ML_NMTAS		2

struct sh_maillog
{
	sh_maillog_config cfg;
	sh_mail_emit emit;
	void	   *arg;
	uint64_t	lines;
	uint64_t	events;
	uint64_t	skip[SH_MSKIP_COUNT_];
	const sh_mta_parser *mta;	/* the parser of cfg.mta */
	int			needed_year;
	int			oom;
	int			cur_year;		/* --year: the year of the current syslog line */
	int			last_month;
	int64_t		now;			/* seconds of the latest line, for the linger */
	/* times without an offset, in cfg.zone (times.c) */
	int64_t		zone_hour;		/* a local hour of one offset, cached ... */
	int			zone_hour_off;	/* ... with that offset */
	int			zone_hour_known;
	int64_t		last_utc;		/* the latest time of a line told */
	int			last_known;
	/* the repeated hour (clocks went back) last read */
	int64_t		fold;			/* the change, UTC seconds; 0: none */
	int			fold_first;		/* the offset before it (the first occurrence) */
	int			fold_second;	/* and after it */
	int			fold_open;		/* its lines not told yet: their events held */
	int64_t		fold_max;		/* the latest local time read in it while open */
	sh_mail_event *held;		/* the events held (maillog.c) */
	size_t		nheld;
	size_t		held_cap;
	sh_ml_pending *buckets[SH_ML_NBUCKETS];
	char	   *buf;			/* the current line, NUL-terminated */
	/* what tells a file of this format from one that is not (sh_maillog_refusal) */
	uint64_t	text_lines;		/* not blank */
	uint64_t	recognised;		/* taken by the MTA's parser as its own */
	char		head[SH_MAILLOG_HEAD_BYTES];	/* the first bytes of the lines, each ended by '\n' */
	size_t		head_len;
	sh_maillog *probes[SH_ML_NMTAS];	/* the other formats' parsers, on the first lines */
	int			probes_made;
	int			is_probe;
	/* the lines' identities (sh_maillog_on_line) */
	sh_mail_line_cb line_cb;
	void	   *line_arg;
	uint64_t	keyed;
	size_t		cur_len;		/* the current line, in buf */
	int			cur_keyed;		/* 0: not yet; 1: cur_key is its identity; -1: it has none */
	uint8_t		cur_key[SH_LINE_KEY_BYTES];
	struct sh_ml_seen *seen;	/* the occurrences of recent lines' bytes */
	size_t		seen_cap;		/* a power of 2, or 0 */
	size_t		seen_n;
};

/* How many times a line's bytes were read (sh_maillog_on_line). */
typedef struct sh_ml_seen
{
	uint8_t		h[SH_LINE_KEY_BYTES];
	uint32_t	n;				/* 0: a free slot */
	int64_t		secs;			/* the time of the last of them */
} sh_ml_seen;

/* A time read from the start of a line. */
typedef struct sh_ml_ltime
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
} sh_ml_ltime;

/* The line being read, with its time. */
typedef struct sh_ml_lctx
{
	uint64_t	lineno;
	char		ts[48];
	int64_t		secs;
	const char *host;			/* syslog host or NULL */
	size_t		host_len;
	int64_t		fold;			/* the line's time not told yet: see sh_mail_event.ts_fold */
	int			mine;			/* the MTA's parser took the line as its MTA's */
} sh_ml_lctx;

/*
 * One MTA's log format: the name --format gives, and the parser of one line
 * (NUL-terminated, L holding its number), which sets L's time (and syslog
 * host), sets L->mine when the line is one its MTA writes (its own time
 * format, or its program's syslog lines), and counts what it skips. A message its parser marked done (ev.done,
 * at ev.done_at) is emitted once linger more seconds of log time have gone
 * by. A new MTA is a file that defines one of these, and its entry in
 * maillog.c's mtas[].
 */
struct sh_mta_parser
{
	const char *name;
	sh_mta		mta;
	void		(*line) (sh_maillog *p, sh_ml_lctx *L, const char *s);
	int			linger;
};

extern const sh_mta_parser sh_mta_exim;		/* exim.c */
extern const sh_mta_parser sh_mta_postfix;	/* postfix.c */

/* maillog.c: text */
static inline int
sh_ml_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

char	   *sh_ml_text_dup(sh_maillog *p, const char *s, size_t n);
void		sh_ml_set_text(sh_maillog *p, char **field, const char *s, size_t n);
int			sh_ml_parse_ip(const char *s, size_t n, char out[48]);
long		sh_ml_digits(const char *s, const char **end, int max);
const char *sh_ml_addr_end(const char *s, const char *stops);
const char *sh_ml_find(const char *s, const char *needle);
int			sh_ml_angle_field(const char *s, const char *name, const char **val, size_t *len);
int			sh_ml_number_at(const char *s, char *out, size_t outlen);
sh_verdict	sh_ml_classify(sh_maillog *p, sh_mail_event *ev, const char *text);

/* maillog.c: events and the pending messages */
/* The current line's identity into out: 1, or 0 when it has none. */
int			sh_ml_line_key(sh_maillog *p, const sh_ml_lctx *L, uint8_t out[SH_LINE_KEY_BYTES]);
void		sh_ml_ev_init(sh_mail_event *ev, const sh_ml_lctx *L, sh_maillog *p);
void		sh_ml_ev_free(sh_mail_event *ev);
void		sh_ml_ev_add_rcpt(sh_maillog *p, sh_mail_event *ev, const char *s, size_t n);
void		sh_ml_ev_emit(sh_maillog *p, sh_mail_event *ev);
int			sh_ml_bad_host(sh_maillog *p, int r);
sh_ml_pending *sh_ml_pend_get(sh_maillog *p, const sh_ml_lctx *L, const char *qid, size_t qlen, int create);
void		sh_ml_pend_drop(sh_maillog *p, sh_ml_pending *e, int emit);
void		sh_ml_fold_told(sh_maillog *p, int first);

/* times.c */
int			sh_ml_valid_time(const sh_ml_ltime *t);
void		sh_ml_time_text(const sh_ml_ltime *t, sh_ml_lctx *L);
int			sh_ml_line_time(sh_maillog *p, sh_ml_ltime *t, sh_ml_lctx *L);
void		sh_ml_offset_text(int secs, char *out, size_t len);
const char *sh_ml_clock_at(const char *s, sh_ml_ltime *t);
const char *sh_ml_fraction_at(const char *s, sh_ml_ltime *t);
const char *sh_ml_date_at(const char *s, sh_ml_ltime *t);
const char *sh_ml_offset_at(const char *s, sh_ml_ltime *t, int colon);
const char *sh_ml_syslog_header(sh_maillog *p, const char *s, sh_ml_lctx *L,
								const char **prog, size_t *prog_len);

#endif							/* SPAMHINTS_MAILLOG_INTERNAL_H */
