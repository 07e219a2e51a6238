/*
 * loader/maillog/maillog_pipeline.c: the mail-log pipeline
 * (maillog_pipeline.h). Each log file is one load in one transaction, as a
 * capture is; a log loaded before (same SHA-256) adds nothing.
 */
#include "maillog_pipeline.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "db.h"
#include "input.h"
#include "mail_rows.h"

#define READ_BYTES		(1u << 20)

/* Everything about the log being loaded. */
typedef struct mload
{
	const sh_maillog_options *opt;
	sh_load    *ld;
	sh_input   *in;				/* the file or stdin, gzip'd or not */
	char		mtime[64];		/* "" unknown */
	sh_maillog *parser;
	char	   *buf;
	int			rc;				/* the COPY stream failed: its exit code */

	/* the SQL values, kept until they are sent */
	char		v[3][48];
	char		skipped[1024];
} mload;

/* The parser's callback: one row of spamhints.mail_event. */
static void
on_event(const sh_mail_event *ev, void *arg)
{
	mload	   *ml = arg;

	if (ml->rc != 0)
		return;
	sh_mail_row(&ml->ld->copy, ml->ld->id, ev);
	if (!ml->ld->copy.oom)
		ml->rc = sh_load_flush(ml->ld);
}

static const char *
skip_name(int reason)
{
	return sh_mskip_name((sh_mskip) reason);
}

/* The parser's skipped counts as a JSON object. */
static void
skipped_json(const sh_maillog *p, char *buf, size_t len)
{
	uint64_t	counts[SH_MSKIP_COUNT_];

	for (int i = 0; i < SH_MSKIP_COUNT_; i++)
		counts[i] = sh_maillog_skipped(p, (sh_mskip) i);
	sh_load_counts_json(buf, len, counts, SH_MSKIP_COUNT_, skip_name);
}

/*
 * The date of t in the time zone zone (for the year of syslog lines), by
 * the C library's copy of the time zone database.
 */
static void
date_in_zone(time_t t, const char *zone, int *y, int *m, int *d)
{
	char	   *old = getenv("TZ");
	char	   *saved = old ? strdup(old) : NULL;
	struct tm	tm;

	setenv("TZ", zone, 1);
	tzset();
	localtime_r(&t, &tm);
	if (saved)
	{
		setenv("TZ", saved, 1);
		free(saved);
	}
	else
		unsetenv("TZ");
	tzset();
	*y = tm.tm_year + 1900;
	*m = tm.tm_mon + 1;
	*d = tm.tm_mday;
}

/* ---------------------------------------------------------------------------
 * The pipeline's part of a load (load.h).
 * ------------------------------------------------------------------------- */

static int
maillog_open(const void *config, sh_load *ld)
{
	const sh_maillog_options *opt = config;
	mload	   *ml = ld->state;
	sh_maillog_config cfg;
	time_t		ref;
	char		err[512];

	ml->opt = opt;
	ml->ld = ld;
	ml->in = sh_input_open(ld->path, err, sizeof(err));
	if (ml->in == NULL)
	{
		sh_file_error(ld->path, err);
		return EXIT_INPUT;
	}
	if (sh_input_mtime(ml->in, &ref))
	{
		struct tm	tm;

		gmtime_r(&ref, &tm);
		strftime(ml->mtime, sizeof(ml->mtime), "%Y-%m-%d %H:%M:%S+00", &tm);
	}
	else
		ref = time(NULL);		/* a pipe is being written now */
	memset(&cfg, 0, sizeof(cfg));
	cfg.mta = opt->mta;
	cfg.year = opt->year;
	cfg.host = opt->host;
	cfg.zone = opt->timezone;
	date_in_zone(ref, opt->timezone, &cfg.ref_year, &cfg.ref_month, &cfg.ref_day);

	ml->parser = sh_maillog_new(&cfg, on_event, ml);
	ml->buf = malloc(READ_BYTES + SH_MAILLOG_LINE_MAX + 2);
	if (ml->parser == NULL || ml->buf == NULL)
	{
		sh_error("out of memory");
		return EXIT_INPUT;
	}
	return 0;
}

static int
maillog_insert_values(const sh_load *ld, const char **values)
{
	mload	   *ml = ld->state;

	values[0] = ml->opt->format;
	values[1] = ml->opt->timezone;
	values[2] = ml->mtime[0] ? ml->mtime : NULL;
	return 3;
}

/* The log's time zone, for the transaction. */
static int
maillog_prepare(sh_load *ld)
{
	mload	   *ml = ld->state;
	const char *v[1] = {ml->opt->timezone};
	PGresult   *res = PQexecParams(ld->conn, "SELECT pg_catalog.set_config('TimeZone', $1, true)", 1,
								   NULL, v, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		sh_error("time zone \"%s\": %s", ml->opt->timezone, PQerrorMessage(ld->conn));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

static const char *
maillog_copy_sql(const sh_load *ld)
{
	(void) ld;
	return sh_mail_copy_sql;
}

/* The lines of the log, however long; a line longer than the limit is counted, not read. */
static int
maillog_read(sh_load *ld)
{
	mload	   *ml = ld->state;
	sh_maillog *p = ml->parser;
	char	   *buf = ml->buf;
	size_t		have = 0;
	int			too_long = 0,
				rc = 0,
				read_failed = 0;

	for (;;)
	{
		ssize_t		got = sh_input_read(ml->in, buf + have, READ_BYTES);
		size_t		start = 0;
		char	   *nl;

		if (got < 0)
			read_failed = 1;
		if (got <= 0)
			break;
		have += (size_t) got;
		while ((nl = memchr(buf + start, '\n', have - start)) != NULL)
		{
			size_t		len = (size_t) (nl - (buf + start));

			if (too_long)
				too_long = 0;	/* the end of a line already counted */
			else
				sh_maillog_line(p, buf + start, len);
			start += len + 1;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have > SH_MAILLOG_LINE_MAX)
		{
			if (!too_long)
				sh_maillog_line(p, buf, SH_MAILLOG_LINE_MAX + 1);
			too_long = 1;
			have = 0;
		}
		if (ml->rc != 0 || ld->copy.oom)
			break;
		sh_load_progress(ld, sh_input_position(ml->in), sh_input_size(ml->in), sh_maillog_events(p));
	}
	sh_load_progress_end(ld);
	if (ml->rc != 0)
		rc = ml->rc;
	else if (read_failed)
	{
		/* a log not read to its end is not loaded, nor is its hash kept */
		sh_error("%s: %s; nothing of it is loaded", ld->path, sh_input_error(ml->in));
		rc = EXIT_INPUT;
	}
	else
	{
		if (have > 0 && !too_long)
			sh_maillog_line(p, buf, have);	/* a last line without its newline */
		sh_maillog_finish(p);
		if (ml->rc != 0)
			rc = ml->rc;
		else if (sh_maillog_oom(p) || ld->copy.oom)
		{
			sh_error("out of memory");
			rc = EXIT_INPUT;
		}
		else if (sh_input_finish(ml->in, ld->sha256) != 0)
		{
			sh_error("%s: %s; nothing of it is loaded", ld->path, sh_input_error(ml->in));
			rc = EXIT_INPUT;
		}
		else
			ld->bytes = sh_input_bytes(ml->in);
	}
	return rc;
}

static int
maillog_update_values(const sh_load *ld, const char **values)
{
	mload	   *ml = ld->state;
	const sh_maillog *p = ml->parser;

	snprintf(ml->v[0], 48, "%" PRIu64, sh_maillog_lines(p));
	snprintf(ml->v[1], 48, "%" PRIu64, sh_maillog_events(p));
	snprintf(ml->v[2], 48, "%" PRIu64, sh_maillog_malformed(p));
	values[0] = ml->v[0];
	values[1] = ml->v[1];
	values[2] = ml->v[2];
	skipped_json(p, ml->skipped, sizeof(ml->skipped));
	values[3] = ml->skipped;
	values[4] = !sh_maillog_needed_year(p) ? NULL : ml->opt->year ? "option" : "mtime";
	return 5;
}

static void
maillog_summary(const sh_load *ld, FILE *f, double seconds)
{
	mload	   *ml = ld->state;
	const sh_maillog *p = ml->parser;
	char		skipped[1024];

	skipped_json(p, skipped, sizeof(skipped));
	fprintf(f, "%s, %" PRIu64 " lines, %" PRIu64 " events, %" PRIu64 " malformed, %.2f s",
			ml->opt->format, sh_maillog_lines(p), sh_maillog_events(p), sh_maillog_malformed(p),
			seconds);
	if (strcmp(skipped, "{}") != 0)
		fprintf(f, ", skipped %s", skipped);
}

static void
maillog_close(sh_load *ld)
{
	mload	   *ml = ld->state;

	free(ml->buf);
	sh_maillog_free(ml->parser);
	sh_input_close(ml->in);
}

/* Events are UTF-8 whatever the database's encoding; the log's time zone is set once the load row is in. */
const sh_pipeline sh_maillog_pipeline = {
	.input = "mail log", .row_noun = "mail log", .count_label = "events", .state_size = sizeof(mload),
	.table = "spamhints.maillog_load", .id_column = "maillog_load_id", .client_encoding = "UTF8",
	.open = maillog_open,
	.insert_columns = "format, timezone, file_mtime", .insert_values = maillog_insert_values,
	.prepare = maillog_prepare, .copy_sql = maillog_copy_sql, .read = maillog_read,
	.update_set = "lines = $4, events = $5, malformed = $6, skipped = $7, year_source = $8, "
	"first_ts = (SELECT min(ts) FROM spamhints.mail_event WHERE maillog_load_id = $1), "
	"last_ts = (SELECT max(ts) FROM spamhints.mail_event WHERE maillog_load_id = $1)",
	.update_values = maillog_update_values,
	.summary = maillog_summary, .close = maillog_close,
};

/* ---------------------------------------------------------------------------
 * Time zones, for the command line.
 * ------------------------------------------------------------------------- */

const char *
sh_maillog_local_zone(char *buf, size_t len)
{
	const char *tz = getenv("TZ");
	ssize_t		n;
	const char *z;

	if (tz && *tz)
		return *tz == ':' ? tz + 1 : tz;
	n = readlink("/etc/localtime", buf, len - 1);
	if (n > 0)
	{
		buf[n] = '\0';
		if ((z = strstr(buf, "zoneinfo/")) != NULL)
			return z + 9;
	}
	return "UTC";
}

int
sh_maillog_zone_known(const char *zone)
{
	char		path[PATH_MAX];

	if (strcmp(zone, "UTC") == 0)
		return 1;
	if (zone[0] == '/' || strstr(zone, "..") || strlen(zone) > 64)
		return 0;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	return access(path, R_OK) == 0;
}
