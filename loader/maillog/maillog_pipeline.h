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

/* The pipeline, for sh_load_files() with an sh_maillog_options. */
extern const sh_pipeline sh_maillog_pipeline;

#endif							/* SPAMHINTS_MAILLOG_PIPELINE_H */
