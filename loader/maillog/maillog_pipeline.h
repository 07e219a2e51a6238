/*
 * loader/maillog/maillog_pipeline.h: spamhints-load --maillog exim|postfix
 * FILE...: mail server logs into spamhints.maillog_load and
 * spamhints.mail_event.
 *
 * Data flows one way: the file's lines (read here, hashed as they pass) ->
 * the parser (maillog.h) -> the row writer (mail_rows.h) -> the load
 * (load.h: the transaction, the COPY stream, the summary). Times without an
 * offset are read in the log's time zone (--timezone), by setting the
 * transaction's TimeZone and letting PostgreSQL convert them; syslog lines
 * take their year from --year or the file's modification time (maillog.h
 * says how).
 */
#ifndef SPAMHINTS_MAILLOG_PIPELINE_H
#define SPAMHINTS_MAILLOG_PIPELINE_H

#include "load.h"
#include "maillog.h"

#include <stdio.h>
#include <time.h>

/* What the command line says of mail logs. */
typedef struct sh_maillog_options
{
	sh_mta		mta;
	const char *format;			/* "exim" or "postfix", as given */
	int			year;			/* --year, 0 without */
	const char *timezone;		/* a known zone (sh_maillog_zone_known) */
	const char *host;			/* --host, or NULL */
} sh_maillog_options;

/* The machine's time zone: TZ, or what /etc/localtime links to, or UTC. */
const char *sh_maillog_local_zone(char *buf, size_t len);

/* Whether zone names a time zone of the system's database. */
int			sh_maillog_zone_known(const char *zone);

/*
 * The end of a load's transaction, before its load row is finished: the
 * lines' identities written to lines (rows of mail_rows.h's line COPY) go
 * to the load's temporary table; then, under the lock of the lines, what
 * is new is kept (mail_rows.h). *kept: the events added; *known: of the
 * keyed lines read, those a load had added before. 0, or -1 printed.
 */
int			sh_maillog_settle(PGconn *conn, int32_t id, FILE *lines, char *buf, size_t bufsize, uint64_t keyed,
							  uint64_t *kept, uint64_t *known);
/* The parser's skipped counts as a JSON object, for the load row. */
void		sh_maillog_skipped_json(const sh_maillog *p, char *buf, size_t len);
/* The date of t in the time zone zone (the reference of syslog years). */
void		sh_maillog_date_in_zone(time_t t, const char *zone, int *y, int *m, int *d);
/* An SQL command's row count ($1 = id when not NULL): -1 on error (printed). */
int64_t		sh_maillog_exec_count(PGconn *conn, const char *sql, const char *id);

/*
 * spamhints-load --maillog FORMAT --follow FILE (maillog_follow.c): load
 * a growing log as it grows, a batch of complete lines every interval
 * seconds in a transaction of its own, following logrotate's rename (the
 * old file read to its end, then the path opened again) and copytruncate
 * (the file shrinking: read again from its start). Lines already loaded
 * add nothing (sh_maillog_on_line), so a restart reads the file from its
 * start. SIGTERM or SIGINT: the lines read are loaded, then exit 0.
 */
int			sh_maillog_follow(const sh_load_options *opt, const sh_maillog_options *mopt, const char *path,
							  double interval);

/* The pipeline, for sh_load_files() with an sh_maillog_options. */
extern const sh_pipeline sh_maillog_pipeline;

#endif							/* SPAMHINTS_MAILLOG_PIPELINE_H */
