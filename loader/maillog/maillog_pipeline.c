/*
 * loader/maillog/maillog_pipeline.c: the mail-log pipeline
 * (maillog_pipeline.h). Each log file is one load in one transaction, as a
 * capture is; a log loaded before as the same format (same SHA-256) adds
 * nothing; what is not a log of its format is refused (maillog_check).
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

/*
 * The events' times by UTC day: the first and last of the log, how many
 * are in the future, and which lie more than a year from the others.
 */
#define DATE_DAYS		4096	/* distinct days kept; past them, no "far" warning */
#define FAR_DAYS		366		/* a gap longer than a year between events */
#define FUTURE_SLACK	86400	/* later than now by this much is the future */

typedef struct mday
{
	int64_t		day;
	int64_t		min,
				max;
	uint64_t	n;
} mday;

typedef struct mdates
{
	int64_t		now;
	uint64_t	events;
	int64_t		min,
				max;
	uint64_t	future;
	uint64_t	no_host;		/* events without a mail server's name */
	mday	   *days;
	size_t		ndays;
	size_t		last;			/* the day of the event before: most follow it */
	int			too_many;
} mdates;

static int64_t
day_of(int64_t secs)
{
	return secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
}

static void
dates_add(mdates *d, const sh_mail_event *ev)
{
	int64_t		day = day_of(ev->secs);
	size_t		i;

	if (d->events == 0 || ev->secs < d->min)
		d->min = ev->secs;
	if (d->events == 0 || ev->secs > d->max)
		d->max = ev->secs;
	d->events++;
	if (ev->secs > d->now + FUTURE_SLACK)
		d->future++;
	if (ev->host == NULL)
		d->no_host++;
	if (d->too_many)
		return;
	if (d->last < d->ndays && d->days[d->last].day == day)
		i = d->last;
	else
	{
		for (i = 0; i < d->ndays && d->days[i].day != day; i++)
			;
		if (i == d->ndays)
		{
			if (d->days == NULL && (d->days = malloc(DATE_DAYS * sizeof(mday))) == NULL)
			{
				d->too_many = 1;	/* only a warning is lost */
				return;
			}
			if (d->ndays == DATE_DAYS)
			{
				d->too_many = 1;
				return;
			}
			d->days[d->ndays++] = (mday) {day, ev->secs, ev->secs, 0};
		}
	}
	d->last = i;
	if (ev->secs < d->days[i].min)
		d->days[i].min = ev->secs;
	if (ev->secs > d->days[i].max)
		d->days[i].max = ev->secs;
	d->days[i].n++;
}

static int
day_cmp(const void *a, const void *b)
{
	const mday *x = a,
			   *y = b;

	return (x->day > y->day) - (x->day < y->day);
}

/* "YYYY-MM-DD HH:MM:SS" in UTC. */
static void
utc_text(int64_t secs, char *buf, size_t len)
{
	time_t		t = (time_t) secs;
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL)
		snprintf(buf, len, "(%lld)", (long long) secs);
	else
		strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/*
 * The warning about the events' dates, one line for the file: those in the
 * future, and those more than a year from the others (the days split where
 * a year or more passes without an event; the group with the most events
 * is the log, the rest are far from it).
 */
static void
dates_warn(mdates *d, const char *path)
{
	char		line[768],
				a[32],
				b[32],
				c[32];
	size_t		at = 0;
	uint64_t	far = 0;
	int64_t		far_min = 0,
				far_max = 0,
				main_min = 0,
				main_max = 0;

	if (d->future > 0)
	{
		utc_text(d->max, a, sizeof(a));
		at += (size_t) snprintf(line + at, sizeof(line) - at, d->future == 1 ? "%" PRIu64 " event is in the future, the latest at %s UTC" :
								"%" PRIu64 " events are in the future, the latest at %s UTC", d->future, a);
	}
	if (!d->too_many && d->ndays > 1)
	{
		size_t		best = 0,
					best_end = 0,
					start = 0;
		uint64_t	best_n = 0,
					n = 0;

		qsort(d->days, d->ndays, sizeof(mday), day_cmp);
		/* the group with the most events: days[best, best_end) */
		for (size_t i = 0; i <= d->ndays; i++)
		{
			if (i == d->ndays || (i > start && d->days[i].day - d->days[i - 1].day > FAR_DAYS))
			{
				if (n > best_n)
					best = start, best_end = i, best_n = n;
				start = i;
				n = 0;
			}
			if (i < d->ndays)
				n += d->days[i].n;
		}
		main_min = d->days[best].min;
		main_max = d->days[best].max;
		for (size_t i = best; i < best_end; i++)
			if (d->days[i].max > main_max)
				main_max = d->days[i].max;
		for (size_t i = 0; i < d->ndays; i++)
		{
			if (i >= best && i < best_end)
				continue;
			if (far == 0 || d->days[i].min < far_min)
				far_min = d->days[i].min;
			if (far == 0 || d->days[i].max > far_max)
				far_max = d->days[i].max;
			far += d->days[i].n;
		}
	}
	if (far > 0 && at < sizeof(line))
	{
		utc_text(far_min, a, sizeof(a));
		utc_text(main_min, b, sizeof(b));
		utc_text(main_max, c, sizeof(c));
		at += (size_t) snprintf(line + at, sizeof(line) - at, "%s%" PRIu64 " event%s more than a year from the others (%s UTC",
								at ? "; " : "", far, far == 1 ? " is" : "s are", a);
		if (far_max != far_min && at < sizeof(line))
		{
			utc_text(far_max, a, sizeof(a));
			at += (size_t) snprintf(line + at, sizeof(line) - at, " to %s UTC", a);
		}
		if (at < sizeof(line))
			at += (size_t) snprintf(line + at, sizeof(line) - at, "; the rest from %s UTC to %s UTC)", b, c);
	}
	if (at == 0)
		return;
	fprintf(stderr, "%s: warning: %s: %s: a clock, the year (--year) or the time zone (--timezone) may be wrong\n",
			SH_PROGNAME, path, line);
}

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
	mdates		dates;			/* the events' times, for the summary and its warnings */

	/* the SQL values, kept until they are sent */
	char		v[4][48];
	char		skipped[1024];
	/* the lines' identities, for spamhints.maillog_line after the events */
	FILE	   *lines;
	int			lines_failed;
	uint64_t	kept;			/* events added once settled against the loads before */
	uint64_t	lines_known;	/* lines an earlier load had read */
	int			settled;
} mload;

/* The parser's other callback: a line's identity, as a row of spamhints.maillog_line. */
static void
on_line(const uint8_t key[SH_LINE_KEY_BYTES], uint64_t lineno, void *arg)
{
	mload	   *ml = arg;
	char		row[32 + 2 * SH_LINE_KEY_BYTES];
	int			n = snprintf(row, sizeof(row), "%d\t\\\\x", ml->ld->id);

	(void) lineno;
	if (ml->lines == NULL || ml->lines_failed)
		return;
	for (int i = 0; i < SH_LINE_KEY_BYTES; i++)
		n += snprintf(row + n, sizeof(row) - (size_t) n, "%02x", key[i]);
	row[n++] = '\n';
	if (fwrite(row, 1, (size_t) n, ml->lines) != (size_t) n)
		ml->lines_failed = 1;
}

/* The parser's callback: one row of spamhints.mail_event. */
static void
on_event(const sh_mail_event *ev, void *arg)
{
	mload	   *ml = arg;

	if (ml->rc != 0)
		return;
	dates_add(&ml->dates, ev);
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
void
sh_maillog_skipped_json(const sh_maillog *p, char *buf, size_t len)
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
void
sh_maillog_date_in_zone(time_t t, const char *zone, int *y, int *m, int *d)
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
	ml->dates.now = (int64_t) time(NULL);
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
	sh_maillog_date_in_zone(ref, opt->timezone, &cfg.ref_year, &cfg.ref_month, &cfg.ref_day);

	ml->parser = sh_maillog_new(&cfg, on_event, ml);
	ml->buf = malloc(READ_BYTES + SH_MAILLOG_LINE_MAX + 2);
	if (ml->parser == NULL || ml->buf == NULL)
	{
		sh_error("out of memory");
		return EXIT_INPUT;
	}
	if (ld->conn)
	{
		/* the lines go to the database after the events, from a file of their own */
		if ((ml->lines = tmpfile()) == NULL)
		{
			sh_error("cannot make a temporary file for the lines' identities: %s", strerror(errno));
			return EXIT_INPUT;
		}
		sh_maillog_on_line(ml->parser, on_line, ml);
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
	return sh_exec_ok(ld->conn, sh_mail_stage_sql) ? 0 : -1;
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

/*
 * What was read, before anything is kept: a file that is not a mail log of
 * this format is refused (sh_maillog_refusal: exit 2, nothing recorded);
 * the events' dates and Exim's missing host name are warned about.
 */
static int
maillog_check(sh_load *ld)
{
	static int	warned_host;	/* once a run */
	mload	   *ml = ld->state;
	char		why[512];

	if (sh_maillog_refusal(ml->parser, why, sizeof(why)) != NULL)
	{
		sh_error("%s: %s (nothing loaded)", ld->path, why);
		return EXIT_INPUT;
	}
	dates_warn(&ml->dates, ld->path);
	if (ml->dates.no_host > 0 && ml->opt->mta == SH_MTA_EXIM && ml->opt->host == NULL && !warned_host)
	{
		warned_host = 1;
		fprintf(stderr, "%s: warning: Exim's own log names no mail server: its events get no host, and reports name the "
				"setting spamhints.reporting_mta as the server that received them; give the server's name with --host=NAME\n",
				SH_PROGNAME);
	}
	return 0;
}

/* An SQL command's row count: -1 on error (printed). */
int64_t
sh_maillog_exec_count(PGconn *conn, const char *sql, const char *id)
{
	const char *v[1] = {id};
	PGresult   *res = PQexecParams(conn, sql, id ? 1 : 0, NULL, id ? v : NULL, NULL, NULL, 0);
	int64_t		n = -1;

	if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK)
		n = strtoll(PQcmdTuples(res), NULL, 10);
	else
		sh_db_error(conn, res);
	PQclear(res);
	return n;
}

int
sh_maillog_settle(PGconn *conn, int32_t id, FILE *lines, char *buf, size_t bufsize, uint64_t keyed,
				  uint64_t *kept, uint64_t *known)
{
	PGresult   *res;
	size_t		n;
	int64_t		added,
				events;
	char		ids[16];

	if (fflush(lines) != 0 || ferror(lines) || fseek(lines, 0, SEEK_SET) != 0)
	{
		sh_error("cannot write the lines' identities to a temporary file: %s", strerror(errno));
		return -1;
	}
	res = PQexec(conn, sh_mail_line_copy_sql);
	if (PQresultStatus(res) != PGRES_COPY_IN)
	{
		sh_db_error(conn, res);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	while ((n = fread(buf, 1, bufsize, lines)) > 0)
		if (PQputCopyData(conn, buf, (int) n) != 1)
		{
			sh_error("%s", PQerrorMessage(conn));
			return -1;
		}
	if (ferror(lines))
	{
		sh_error("cannot read the lines' identities back from a temporary file");
		sh_db_copy_end(conn, SH_PROGNAME " stopped");
		return -1;
	}
	if (sh_db_copy_end(conn, NULL) != 0)
		return -1;
	snprintf(ids, sizeof(ids), "%d", id);
	if (!sh_exec_ok(conn, sh_mail_lock_sql) ||
		(added = sh_maillog_exec_count(conn, sh_mail_keep_lines_sql, NULL)) < 0 ||
		(events = sh_maillog_exec_count(conn, sh_mail_keep_events_sql, NULL)) < 0 ||
		sh_maillog_exec_count(conn, sh_mail_replace_sql, ids) < 0)
		return -1;
	*kept = (uint64_t) events;
	*known = keyed > (uint64_t) added ? keyed - (uint64_t) added : 0;
	return 0;
}

/* The lines read, then what is new of the lines and the events (sh_maillog_settle). */
static int
maillog_after_copy(sh_load *ld)
{
	mload	   *ml = ld->state;

	if (ml->lines == NULL)
		return 0;
	if (ml->lines_failed)
	{
		sh_error("%s: cannot write the lines' identities to a temporary file", ld->path);
		return -1;
	}
	if (sh_maillog_settle(ld->conn, ld->id, ml->lines, ml->buf, READ_BYTES, sh_maillog_keyed(ml->parser),
						  &ml->kept, &ml->lines_known) != 0)
		return -1;
	ml->settled = 1;
	return 0;
}

static int
maillog_update_values(const sh_load *ld, const char **values)
{
	mload	   *ml = ld->state;
	const sh_maillog *p = ml->parser;

	snprintf(ml->v[0], 48, "%" PRIu64, sh_maillog_lines(p));
	snprintf(ml->v[1], 48, "%" PRIu64, ml->settled ? ml->kept : sh_maillog_events(p));
	snprintf(ml->v[2], 48, "%" PRIu64, sh_maillog_malformed(p));
	values[0] = ml->v[0];
	values[1] = ml->v[1];
	values[2] = ml->v[2];
	sh_maillog_skipped_json(p, ml->skipped, sizeof(ml->skipped));
	values[3] = ml->skipped;
	values[4] = !sh_maillog_needed_year(p) ? NULL : ml->opt->year ? "option" : "mtime";
	snprintf(ml->v[3], 48, "%" PRIu64, ml->lines_known);
	values[5] = ml->v[3];
	return 6;
}

static void
maillog_summary(const sh_load *ld, FILE *f, double seconds)
{
	mload	   *ml = ld->state;
	const sh_maillog *p = ml->parser;
	char		skipped[1024];

	uint64_t	events = sh_maillog_events(p);
	char		known[128] = "";

	sh_maillog_skipped_json(p, skipped, sizeof(skipped));
	if (ml->settled)
	{
		if (ml->lines_known > 0 || ml->kept != events)
			snprintf(known, sizeof(known), " (%" PRIu64 " lines and %" PRIu64 " events loaded before)",
					 ml->lines_known, events > ml->kept ? events - ml->kept : 0);
		events = ml->kept;
	}
	fprintf(f, "%s, %" PRIu64 " lines, %" PRIu64 " events%s, %" PRIu64 " malformed, %.2f s",
			ml->opt->format, sh_maillog_lines(p), events, known, sh_maillog_malformed(p),
			seconds);
	if (strcmp(skipped, "{}") != 0)
		fprintf(f, ", skipped %s", skipped);
	if (!ml->opt->year && ml->dates.events > 0)
	{
		char		a[32],
					b[32];

		utc_text(ml->dates.min, a, sizeof(a));
		utc_text(ml->dates.max, b, sizeof(b));
		fprintf(f, ", events from %s UTC to %s UTC, years from %s", a, b,
				!sh_maillog_needed_year(p) ? "the lines" :
				ml->mtime[0] ? "the file's modification time" : "the time it was read");
	}
}

static const char *
maillog_format(const sh_load *ld)
{
	const mload *ml = ld->state;

	return ml->opt->format;
}

static void
maillog_close(sh_load *ld)
{
	mload	   *ml = ld->state;

	if (ml->lines)
		fclose(ml->lines);
	free(ml->buf);
	free(ml->dates.days);
	sh_maillog_free(ml->parser);
	sh_input_close(ml->in);
}

/* Events are UTF-8 whatever the database's encoding; the log's time zone is set once the load row is in. */
const sh_pipeline sh_maillog_pipeline = {
	.input = "mail log", .row_noun = "mail log", .count_label = "events", .state_size = sizeof(mload),
	.table = "spamhints.maillog_load", .id_column = "maillog_load_id", .client_encoding = "UTF8",
	.open = maillog_open,
	.insert_columns = "format, timezone, file_mtime", .insert_values = maillog_insert_values,
	.prepare = maillog_prepare, .copy_sql = maillog_copy_sql, .read = maillog_read, .check = maillog_check,
	.after_copy = maillog_after_copy,
	.duplicate_column = "format", .duplicate_value = maillog_format,
	/* events, first_ts and last_ts: what spamhints.maillog_settle() keeps */
	.update_set = "lines = $4, events = $5, malformed = $6, skipped = $7, year_source = $8, lines_known = $9, "
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
