/*
 * loader/maillog/maillog_follow.c: spamhints-load --maillog FORMAT --follow
 * FILE (maillog_pipeline.h): a growing log loaded as it grows.
 *
 * One parser reads the log from its start to the end of the follow, across
 * rotations, so that a message whose lines straddle a batch, or a rotation,
 * is one event. Every interval the complete lines read since the last batch
 * are loaded in a transaction of their own, as a load row of their own
 * (file_name the path; sha256 and file_bytes those of the file from its
 * start to the batch's last line, so that the same bytes are never a
 * second load); the messages still open stay in the parser for the next
 * batch. What a load adds is settled against the loads before it
 * (sh_maillog_settle): lines and events already loaded add nothing, which
 * is what makes a restart (reading the file from its start again), an
 * overlap with a load of the rotated file, and copytruncate safe.
 *
 * Rotation: when the path names another file (logrotate renamed the log
 * and created a new one), the old file is read to its end, then the path is
 * opened again and read from its start; while the path is missing, the old
 * file is still read. When the file shrinks, or its first bytes change
 * (copytruncate: it was copied, then truncated in place), it is read again
 * from its start.
 *
 * SIGTERM, SIGINT: the complete lines read are loaded, with the messages
 * still open as they are (a later load that sees more of them replaces
 * them), then exit 0.
 */
#include "maillog_pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/evp.h>

#include "buf.h"
#include "db.h"
#include "mail_rows.h"

#define READ_BYTES		(1u << 20)
#define HEAD_BYTES		64		/* the first bytes that tell the same file */
#define TRUNCATED		(-2)	/* file_read(): the file was truncated or replaced in place */

static volatile sig_atomic_t stop;

static void
on_stop(int sig)
{
	(void) sig;
	stop = 1;
}

typedef struct follow
{
	const sh_load_options *lopt;
	const sh_maillog_options *opt;
	const char *path;
	PGconn	   *conn;
	sh_maillog *p;
	/* the file being read */
	int			fd;
	dev_t		dev;
	ino_t		ino;
	uint64_t	off;			/* bytes of it fed to the parser: complete lines */
	EVP_MD_CTX *hash;			/* of those bytes */
	char		head[HEAD_BYTES];	/* its first bytes, as read */
	size_t		head_len;
	char	   *buf;			/* a line not complete yet, then what is read */
	size_t		have;
	int			too_long;
	/* the batch: a load in its transaction */
	int			open;
	int32_t		id;
	sh_buf		copy;
	FILE	   *lines;
	int			lines_failed;
	uint64_t	lines0,
				keyed0,
				events0,
				malformed0;
	uint64_t	skip0[SH_MSKIP_COUNT_];
	int			failed;			/* an exit code once a batch failed */
} follow;

/* ---------------------------------------------------------------------------
 * The parser's callbacks.
 * ------------------------------------------------------------------------- */

static int
copy_out(follow *f)
{
	if (f->copy.oom)
	{
		sh_error("out of memory");
		return -1;
	}
	if (f->copy.len > 0 && PQputCopyData(f->conn, (const char *) f->copy.buf, (int) f->copy.len) != 1)
	{
		sh_error("%s", PQerrorMessage(f->conn));
		return -1;
	}
	f->copy.len = 0;
	return 0;
}

static void
on_event(const sh_mail_event *ev, void *arg)
{
	follow	   *f = arg;

	if (!f->open || f->failed)
		return;
	sh_mail_row(&f->copy, f->id, ev);
	if (f->copy.len >= (1u << 20) && copy_out(f) != 0)
		f->failed = EXIT_DATABASE;
}

static void
on_line(const uint8_t key[SH_LINE_KEY_BYTES], uint64_t lineno, void *arg)
{
	follow	   *f = arg;
	char		row[32 + 2 * SH_LINE_KEY_BYTES];
	int			n = snprintf(row, sizeof(row), "%d\t\\\\x", f->id);

	(void) lineno;
	if (!f->open || f->lines_failed)
		return;
	for (int i = 0; i < SH_LINE_KEY_BYTES; i++)
		n += snprintf(row + n, sizeof(row) - (size_t) n, "%02x", key[i]);
	row[n++] = '\n';
	if (fwrite(row, 1, (size_t) n, f->lines) != (size_t) n)
		f->lines_failed = 1;
}

/* ---------------------------------------------------------------------------
 * A batch.
 * ------------------------------------------------------------------------- */

static PGresult *
exec_params(PGconn *conn, const char *sql, int n, const char *const *v)
{
	return PQexecParams(conn, sql, n, NULL, v, NULL, NULL, 0);
}

static int
batch_begin(follow *f)
{
	const char *v[4];
	char		mtime[64] = "";
	struct stat st;
	PGresult   *res;
	time_t		now = time(NULL);
	int			y,
				m,
				d;

	if (fstat(f->fd, &st) == 0)
	{
		struct tm	tm;

		gmtime_r(&st.st_mtime, &tm);
		strftime(mtime, sizeof(mtime), "%Y-%m-%d %H:%M:%S+00", &tm);
	}
	/* syslog lines take the latest year that does not put them after now */
	sh_maillog_date_in_zone(now, f->opt->timezone, &y, &m, &d);
	sh_maillog_set_ref(f->p, y, m, d);
	if (!sh_exec_ok(f->conn, "BEGIN"))
		return -1;
	v[0] = f->path;
	v[1] = f->opt->format;
	v[2] = f->opt->timezone;
	v[3] = mtime[0] ? mtime : NULL;
	res = exec_params(f->conn, "INSERT INTO spamhints.maillog_load (file_name, format, timezone, file_mtime, loader_version) "
					  "VALUES ($1, $2, $3, $4, '" SH_LOADER_VERSION "') RETURNING maillog_load_id", 4, v);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		sh_db_error(f->conn, res);
		PQclear(res);
		return -1;
	}
	f->id = (int32_t) strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	v[0] = f->opt->timezone;
	res = exec_params(f->conn, "SELECT pg_catalog.set_config('TimeZone', $1, true)", 1, v);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		sh_db_error(f->conn, res);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	if (!sh_exec_ok(f->conn, sh_mail_stage_sql))
		return -1;
	res = PQexec(f->conn, sh_mail_copy_sql);
	if (PQresultStatus(res) != PGRES_COPY_IN)
	{
		sh_db_error(f->conn, res);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	if (ftruncate(fileno(f->lines), 0) != 0 || fseek(f->lines, 0, SEEK_SET) != 0)
	{
		sh_error("cannot empty the temporary file of the lines' identities: %s", strerror(errno));
		return -1;
	}
	f->lines_failed = 0;
	f->lines0 = sh_maillog_lines(f->p);
	f->keyed0 = sh_maillog_keyed(f->p);
	f->events0 = sh_maillog_events(f->p);
	f->malformed0 = sh_maillog_malformed(f->p);
	for (int i = 0; i < SH_MSKIP_COUNT_; i++)
		f->skip0[i] = sh_maillog_skipped(f->p, (sh_mskip) i);
	f->open = 1;
	return 0;
}

static const char *
skip_name(int reason)
{
	return sh_mskip_name((sh_mskip) reason);
}

/*
 * End the batch: the messages done (all of them when final), then the
 * events and lines settled, the load row finished, COMMIT. A batch that
 * read no line records nothing. 0, or an exit code (printed).
 */
static int
batch_end(follow *f, int final)
{
	char		v[8][48],
				hex[65],
				why[512],
				skipped[1024];
	const char *vals[10];
	uint64_t	counts[SH_MSKIP_COUNT_],
				kept = 0,
				known = 0,
				lines;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *h;
	PGresult   *res;
	const char *state;

	if (final)
		sh_maillog_finish(f->p);
	else
		sh_maillog_flush(f->p);
	f->open = 0;
	if (f->failed || copy_out(f) != 0 || sh_db_copy_end(f->conn, NULL) != 0)
		return EXIT_DATABASE;
	lines = sh_maillog_lines(f->p) - f->lines0;
	if (lines == 0 && sh_maillog_events(f->p) == f->events0)
		return sh_exec_ok(f->conn, "ROLLBACK") ? 0 : EXIT_DATABASE;
	if (sh_maillog_oom(f->p))
	{
		sh_error("out of memory");
		return EXIT_INPUT;
	}
	if (sh_maillog_text_lines(f->p) > 0 && sh_maillog_refusal(f->p, why, sizeof(why)) != NULL)
	{
		sh_error("%s: %s (nothing loaded)", f->path, why);
		return EXIT_INPUT;
	}
	if (f->lines_failed)
	{
		sh_error("cannot write the lines' identities to a temporary file");
		return EXIT_INPUT;
	}
	if (sh_maillog_settle(f->conn, f->id, f->lines, f->buf, READ_BYTES, sh_maillog_keyed(f->p) - f->keyed0,
						  &kept, &known) != 0)
		return EXIT_DATABASE;
	/* the hash of the file from its start to here */
	h = EVP_MD_CTX_new();
	if (h == NULL || !EVP_MD_CTX_copy_ex(h, f->hash) || !EVP_DigestFinal_ex(h, md, &mdlen) || mdlen != 32)
	{
		EVP_MD_CTX_free(h);
		sh_error("cannot hash the log");
		return EXIT_INPUT;
	}
	EVP_MD_CTX_free(h);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	for (int i = 0; i < SH_MSKIP_COUNT_; i++)
		counts[i] = sh_maillog_skipped(f->p, (sh_mskip) i) - f->skip0[i];
	sh_load_counts_json(skipped, sizeof(skipped), counts, SH_MSKIP_COUNT_, skip_name);
	snprintf(v[0], 48, "%d", f->id);
	snprintf(v[1], 48, "%" PRIu64, f->off);
	snprintf(v[2], 48, "%" PRIu64, lines);
	snprintf(v[3], 48, "%" PRIu64, kept);
	snprintf(v[4], 48, "%" PRIu64, sh_maillog_malformed(f->p) - f->malformed0);
	snprintf(v[5], 48, "%" PRIu64, known);
	vals[0] = v[0];
	vals[1] = hex;
	vals[2] = v[1];
	vals[3] = v[2];
	vals[4] = v[3];
	vals[5] = v[4];
	vals[6] = skipped;
	vals[7] = !sh_maillog_needed_year(f->p) ? NULL : f->opt->year ? "option" : "mtime";
	vals[8] = v[5];
	res = exec_params(f->conn, "UPDATE spamhints.maillog_load SET sha256 = $2, file_bytes = $3, lines = $4, events = $5, "
					  "malformed = $6, skipped = $7, year_source = $8, lines_known = $9, "
					  "first_ts = (SELECT min(ts) FROM spamhints.mail_event WHERE maillog_load_id = $1), "
					  "last_ts = (SELECT max(ts) FROM spamhints.mail_event WHERE maillog_load_id = $1), "
					  "finished_at = clock_timestamp() WHERE maillog_load_id = $1", 9, vals);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (state && strcmp(state, "23505") == 0)
		{
			/* these very bytes were a load before (a restart): nothing to add */
			PQclear(res);
			if (!f->lopt->quiet)
				printf("%s: %s: the first %" PRIu64 " bytes were loaded before: nothing added\n", SH_PROGNAME,
					   f->path, f->off);
			fflush(stdout);
			return sh_exec_ok(f->conn, "ROLLBACK") ? 0 : EXIT_DATABASE;
		}
		sh_db_error(f->conn, res);
		PQclear(res);
		return EXIT_DATABASE;
	}
	PQclear(res);
	if (!sh_exec_ok(f->conn, "COMMIT"))
		return EXIT_DATABASE;
	if (!f->lopt->quiet)
	{
		printf("%s: %s: mail log %d: %s, %" PRIu64 " lines, %" PRIu64 " events", SH_PROGNAME, f->path, f->id,
			   f->opt->format, lines, kept);
		if (known > 0 || kept != sh_maillog_events(f->p) - f->events0)
			printf(" (%" PRIu64 " lines and %" PRIu64 " events loaded before)", known,
				   sh_maillog_events(f->p) - f->events0 > kept ? sh_maillog_events(f->p) - f->events0 - kept : 0);
		printf(", %s malformed, to byte %" PRIu64 "%s\n", v[4], f->off, final ? ", stopped" : "");
		fflush(stdout);
	}
	return 0;
}

/* ---------------------------------------------------------------------------
 * The file.
 * ------------------------------------------------------------------------- */

static int
file_open(follow *f)
{
	struct stat st;
	int			fd = open(f->path, O_RDONLY);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
	{
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if (f->fd >= 0)
		close(f->fd);
	f->fd = fd;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->off = 0;
	f->have = 0;
	f->too_long = 0;
	f->head_len = 0;
	return EVP_DigestInit_ex(f->hash, EVP_sha256(), NULL) ? 0 : -1;
}

/* The file read again from its start (it was truncated). */
static void
file_restart(follow *f)
{
	lseek(f->fd, 0, SEEK_SET);
	f->off = 0;
	f->have = 0;
	f->too_long = 0;
	f->head_len = 0;
	EVP_DigestInit_ex(f->hash, EVP_sha256(), NULL);
}

static int	file_truncated(follow *f);

/*
 * What the file holds now, to its end: its complete lines fed (and hashed),
 * a line not complete yet kept for later; at_end: the file is done (rotated
 * away), so that last bytes are a line. 0, TRUNCATED, or an exit code.
 */
static int
file_read(follow *f, int at_end)
{
	for (;;)
	{
		ssize_t		got = read(f->fd, f->buf + f->have, READ_BYTES);
		size_t		start = 0;
		char	   *nl;
		int			rc;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
		{
			sh_error("%s: %s", f->path, strerror(errno));
			return EXIT_INPUT;
		}
		/*
		 * Bytes read past the start are the file's only if its first bytes
		 * are still what they were: else it was truncated and written again
		 * (copytruncate) before this read, and these bytes are the middle of
		 * the new content: not fed, the file is read again from its start.
		 */
		if (got > 0 && f->off + f->have > 0 && file_truncated(f))
			return TRUNCATED;
		if (f->head_len < HEAD_BYTES && got > 0)
		{
			size_t		n = (size_t) got < HEAD_BYTES - f->head_len ? (size_t) got : HEAD_BYTES - f->head_len;

			memcpy(f->head + f->head_len, f->buf + f->have, n);
			f->head_len += n;
		}
		if (got == 0)
			break;
		f->have += (size_t) got;
		while ((nl = memchr(f->buf + start, '\n', f->have - start)) != NULL)
		{
			size_t		len = (size_t) (nl - (f->buf + start));

			if (!f->open && batch_begin(f) != 0)
				return EXIT_DATABASE;
			EVP_DigestUpdate(f->hash, f->buf + start, len + 1);
			f->off += len + 1;
			if (f->too_long)
				f->too_long = 0;	/* the end of a line already counted */
			else
				sh_maillog_line(f->p, f->buf + start, len);
			if (f->failed)
				return f->failed;
			start += len + 1;
		}
		memmove(f->buf, f->buf + start, f->have - start);
		f->have -= start;
		if (f->have > SH_MAILLOG_LINE_MAX)
		{
			/* a line too long: counted once, its bytes hashed as they pass */
			if (!f->open && batch_begin(f) != 0)
				return EXIT_DATABASE;
			if (!f->too_long)
				sh_maillog_line(f->p, f->buf, SH_MAILLOG_LINE_MAX + 1);
			if ((rc = f->failed) != 0)
				return rc;
			EVP_DigestUpdate(f->hash, f->buf, f->have);
			f->off += f->have;
			f->too_long = 1;
			f->have = 0;
		}
	}
	if (at_end && f->have > 0)
	{
		int			rc;

		/* the rotated file's last line, without its newline */
		if (!f->open && batch_begin(f) != 0)
			return EXIT_DATABASE;
		EVP_DigestUpdate(f->hash, f->buf, f->have);
		f->off += f->have;
		if (!f->too_long)
			sh_maillog_line(f->p, f->buf, f->have);
		f->have = 0;
		if ((rc = f->failed) != 0)
			return rc;
	}
	return 0;
}

/*
 * Whether the file was truncated or replaced in place (copytruncate): it is
 * shorter than what was read of it, or its first bytes changed.
 */
static int
file_truncated(follow *f)
{
	struct stat st;
	char		now[HEAD_BYTES];
	ssize_t		n;

	if (fstat(f->fd, &st) != 0)
		return 0;
	if ((uint64_t) st.st_size < f->off)
		return 1;
	if (f->head_len == 0)
		return 0;
	n = pread(f->fd, now, f->head_len, 0);
	return n >= 0 && ((size_t) n < f->head_len || memcmp(now, f->head, f->head_len) != 0);
}

/* Whether the path names another file now (rotated by renaming): 1, 0, or -1 while it is missing. */
static int
file_renamed(follow *f)
{
	struct stat st;

	if (stat(f->path, &st) != 0)
		return -1;
	return st.st_dev != f->dev || st.st_ino != f->ino;
}

static void
nap(double seconds)
{
	double		until = sh_now() + seconds;

	while (!stop && sh_now() < until)
	{
		struct timespec ts = {0, 100 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
}

int
sh_maillog_follow(const sh_load_options *lopt, const sh_maillog_options *opt, const char *path, double interval)
{
	follow		f;
	sh_maillog_config cfg;
	struct sigaction sa;
	int			transient,
				rc = 0;

	memset(&f, 0, sizeof(f));
	f.lopt = lopt;
	f.opt = opt;
	f.path = path;
	f.fd = -1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mta = opt->mta;
	cfg.year = opt->year;
	cfg.host = opt->host;
	cfg.zone = opt->timezone;
	sh_maillog_date_in_zone(time(NULL), opt->timezone, &cfg.ref_year, &cfg.ref_month, &cfg.ref_day);
	f.p = sh_maillog_new(&cfg, on_event, &f);
	f.buf = malloc(READ_BYTES + SH_MAILLOG_LINE_MAX + 2);
	f.hash = EVP_MD_CTX_new();
	f.lines = tmpfile();
	if (f.p == NULL || f.buf == NULL || f.hash == NULL || f.lines == NULL)
	{
		sh_error(f.lines == NULL ? "cannot make a temporary file" : "out of memory");
		rc = EXIT_INPUT;
		goto out;
	}
	sh_maillog_on_line(f.p, on_line, &f);
	if (file_open(&f) != 0)
	{
		sh_file_error(path, strerror(errno));
		rc = EXIT_INPUT;
		goto out;
	}
	f.conn = sh_connect(&lopt->conn, "UTF8", &transient);
	if (f.conn == NULL)
	{
		rc = EXIT_DATABASE;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	for (;;)
	{
		int			final = stop;
		int			renamed;

		if (file_truncated(&f))
			file_restart(&f);	/* copytruncate: the same path, read again from its start */
		rc = file_read(&f, 0);
		if (rc == TRUNCATED)
		{
			file_restart(&f);
			rc = file_read(&f, 0);
		}
		if (rc == 0 && !final && (renamed = file_renamed(&f)) == 1)
		{
			/* rotated: the old file to its end (read just now), then the new one */
			if ((rc = file_read(&f, 1)) == 0 && file_open(&f) != 0)
			{
				sh_file_error(path, strerror(errno));
				rc = EXIT_INPUT;
			}
			else if (rc == 0)
				rc = file_read(&f, 0);
		}
		if (rc == TRUNCATED)
			continue;			/* again, from the start, at once */
		if (rc != 0)
			break;
		if (final && !f.open && batch_begin(&f) != 0)
		{
			rc = EXIT_DATABASE;
			break;
		}
		if (f.open && (rc = batch_end(&f, final)) != 0)
			break;
		if (final)
			break;
		nap(interval);
	}

out:
	if (f.conn)
	{
		if (PQtransactionStatus(f.conn) == PQTRANS_ACTIVE)
			sh_db_copy_end(f.conn, SH_PROGNAME " stopped");
		if (PQstatus(f.conn) == CONNECTION_OK && PQtransactionStatus(f.conn) != PQTRANS_IDLE)
			sh_exec_ok(f.conn, "ROLLBACK");
		PQfinish(f.conn);
	}
	if (f.fd >= 0)
		close(f.fd);
	if (f.lines)
		fclose(f.lines);
	EVP_MD_CTX_free(f.hash);
	sh_buf_free(&f.copy);
	sh_maillog_free(f.p);
	free(f.buf);
	return rc;
}
