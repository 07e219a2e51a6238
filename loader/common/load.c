/*
 * loader/common/load.c: the load of a file, for every pipeline (load.h).
 */
#include "load.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "input.h"

/* Summary lines go here: standard output, unless the COPY stream does. */
static FILE *report;

/* ---------------------------------------------------------------------------
 * The transaction.
 * ------------------------------------------------------------------------- */

/* BEGIN, the load row, what the pipeline prepares, COPY. */
static int
db_begin(const sh_pipeline *pl, sh_load *ld)
{
	const char *values[16];
	char		sql[1024];
	size_t		at;
	int			n;
	PGresult   *res;

	if (!sh_exec_ok(ld->conn, "BEGIN"))
		return -1;
	values[0] = ld->name;
	n = 1 + pl->insert_values(ld, values + 1);
	values[n++] = SH_LOADER_VERSION;
	at = (size_t) snprintf(sql, sizeof(sql), "INSERT INTO %s (file_name, %s, loader_version) VALUES (",
						   pl->table, pl->insert_columns);
	for (int i = 1; i <= n && at < sizeof(sql); i++)
		at += (size_t) snprintf(sql + at, sizeof(sql) - at, "%s$%d", i > 1 ? ", " : "", i);
	if (at < sizeof(sql))
		snprintf(sql + at, sizeof(sql) - at, ") RETURNING %s", pl->id_column);
	res = PQexecParams(ld->conn, sql, n, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		sh_db_error(ld->conn, res);
		PQclear(res);
		return -1;
	}
	ld->id = (int32_t) strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (pl->prepare && pl->prepare(ld) != 0)
		return -1;
	ld->copy_stmt = pl->copy_sql(ld);
	res = PQexec(ld->conn, ld->copy_stmt);
	if (PQresultStatus(res) != PGRES_COPY_IN)
	{
		sh_db_error(ld->conn, res);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/*
 * The counts and the hash. Returns 0 when committed, 1 when the file had
 * been loaded before (then rolled back), -1 on error.
 */
static int
db_finish(const sh_pipeline *pl, sh_load *ld)
{
	char		id[16],
				bytes[24];
	char		sql[2048];
	const char *values[24];
	int			n;
	PGresult   *res;
	const char *sqlstate;

	snprintf(id, sizeof(id), "%d", ld->id);
	snprintf(bytes, sizeof(bytes), "%" PRIu64, ld->bytes);
	values[0] = id;
	values[1] = ld->sha256;
	values[2] = bytes;
	n = 3 + pl->update_values(ld, values + 3);
	snprintf(sql, sizeof(sql), "UPDATE %s SET sha256 = $2, file_bytes = $3, %s, finished_at = clock_timestamp() "
			 "WHERE %s = $1", pl->table, pl->update_set, pl->id_column);
	res = PQexecParams(ld->conn, sql, n, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (sqlstate && strcmp(sqlstate, "23505") == 0)
		{
			PQclear(res);
			return sh_exec_ok(ld->conn, "ROLLBACK") ? 1 : -1;
		}
		sh_db_error(ld->conn, res);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return sh_exec_ok(ld->conn, "COMMIT") ? 0 : -1;
}

/*
 * Which load holds the file with this hash (and the pipeline's
 * duplicate_column value): 1 when one does (then "already
 * loaded" is printed), 0 when none, -1 on error (printed).
 */
static int
find_duplicate(const sh_pipeline *pl, const sh_load *ld, const char *sha256)
{
	char		sql[512];
	const char *values[2] = {sha256, NULL};
	int			n = 1;
	PGresult   *res;
	int			found;

	snprintf(sql, sizeof(sql), "SELECT %s, file_name, finished_at FROM %s WHERE sha256 = $1%s%s%s",
			 pl->id_column, pl->table, pl->duplicate_column ? " AND " : "",
			 pl->duplicate_column ? pl->duplicate_column : "", pl->duplicate_column ? " = $2" : "");
	if (pl->duplicate_column)
		values[n++] = pl->duplicate_value(ld);
	res = PQexecParams(ld->conn, sql, n, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		sh_db_error(ld->conn, res);
		PQclear(res);
		return -1;
	}
	found = PQntuples(res) == 1;
	if (found)
		fprintf(report, "%s: %s: already loaded as %s %s (\"%s\", %s): nothing added\n", SH_PROGNAME,
				ld->path, pl->row_noun, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
				PQgetvalue(res, 0, 2));
	PQclear(res);
	return found;
}

/* After db_finish said 1: the load that holds the file (it may have gone since). */
static void
report_duplicate(const sh_pipeline *pl, const sh_load *ld)
{
	if (find_duplicate(pl, ld, ld->sha256) != 1)
		fprintf(report, "%s: %s: already loaded: nothing added\n", SH_PROGNAME, ld->path);
}

/*
 * The SHA-256 of a regular file, read once before its load, so that a file
 * loaded before is found before anything is sent (no load row, no id used,
 * no unique violation in the server's log). It is the hash of the bytes the
 * pipeline reads (input.h): of a gzip'd file, its decompressed bytes. 1 with
 * hex set; 0 when path is not a regular file (standard input, a pipe: the
 * load's own hash is checked at its end instead); -1 when the file cannot
 * be read to its end (corrupt gzip data, a read error: printed).
 */
static int
hash_file_first(const char *path, char hex[65])
{
	static char buf[1 << 20];
	struct stat st;
	sh_input   *in;
	char		err[512];
	ssize_t		n;
	int			rc = 1;

	if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if ((in = sh_input_open(path, err, sizeof(err))) == NULL)
		return 0;				/* the pipeline's open said why, or will */
	while ((n = sh_input_read(in, buf, sizeof(buf))) > 0)
		;
	if (n < 0 || sh_input_finish(in, hex) != 0)
	{
		sh_file_error(path, sh_input_error(in));
		rc = -1;
	}
	sh_input_close(in);
	return rc;
}

/* Is s[0..len) one whole UTF-8 character (no overlong form, no surrogate, at most U+10FFFF)? Its length, or 0. */
static size_t
utf8_char(const unsigned char *s, size_t len)
{
	size_t		n;
	uint32_t	c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, c = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, c = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3F);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10FFFF ||
		(c >= 0xD800 && c <= 0xDFFF))
		return 0;
	return n;
}

/*
 * The file name for the load row, which is text in the database's UTF-8: a
 * name that is valid UTF-8 as it is, else each byte that is not part of a
 * valid character as \xNN (two lowercase hex digits). Malloc'd; NULL when
 * out of memory.
 */
static char *
file_name_text(const char *path)
{
	const unsigned char *s = (const unsigned char *) path;
	size_t		len = strlen(path);
	char	   *out = malloc(4 * len + 1);
	size_t		at = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len;)
	{
		size_t		n = utf8_char(s + i, len - i);

		if (n == 0)
		{
			at += (size_t) sprintf(out + at, "\\x%02x", s[i]);
			i++;
			continue;
		}
		memcpy(out + at, s + i, n);
		at += n;
		i += n;
	}
	out[at] = '\0';
	return out;
}

/* ---------------------------------------------------------------------------
 * The COPY stream and the progress bar.
 * ------------------------------------------------------------------------- */

int
sh_load_send(sh_load *ld)
{
	char		err[512];

	if (ld->send_rc != 0)
	{
		ld->copy.len = 0;		/* nothing more goes out */
		return ld->send_rc;
	}
	if (sh_sender_swap(ld->sender, &ld->copy) == 0)
		return 0;
	/* writing failed (the server went away, say): finishing the sender says why */
	sh_sender_finish(ld->sender, &ld->copy, err, sizeof(err));
	ld->sender = NULL;
	sh_error("%s", err);
	ld->send_rc = ld->conn ? EXIT_DATABASE : EXIT_INPUT;
	return ld->send_rc;
}

int
sh_load_between_copies(sh_load *ld, size_t keep_from, const char *sql, const char *param)
{
	return sh_load_between_copies_res(ld, keep_from, sql, 1, &param, NULL);
}

int
sh_load_between_copies_res(sh_load *ld, size_t keep_from, const char *sql, int nparams,
						   const char *const *params, PGresult **out)
{
	char		err[512];
	size_t		keep;
	uint8_t    *saved = NULL;
	PGresult   *res;
	int			ok;

	if (out != NULL)
		*out = NULL;
	if (ld->conn == NULL || ld->copy_stmt == NULL)
		return 0;
	if (ld->send_rc != 0)
		return ld->send_rc;
	keep = ld->copy.len - keep_from;
	if (keep > 0)
	{
		if ((saved = malloc(keep)) == NULL)
		{
			sh_error("out of memory");
			return EXIT_INPUT;
		}
		memcpy(saved, ld->copy.buf + keep_from, keep);
	}
	ld->copy.len = keep_from;
	sh_copy_trailer(&ld->copy);
	ok = sh_sender_finish(ld->sender, &ld->copy, err, sizeof(err)) == 0;
	ld->sender = NULL;
	if (!ok)
	{
		sh_error("%s", err);
		free(saved);
		return ld->send_rc = EXIT_DATABASE;
	}
	if (sh_db_copy_end(ld->conn, NULL) != 0)
	{
		free(saved);
		return ld->send_rc = EXIT_DATABASE;
	}
	res = PQexecParams(ld->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		sh_db_error(ld->conn, res);
	if (ok && out != NULL)
		*out = res;
	else
		PQclear(res);
	if (ok)
	{
		res = PQexec(ld->conn, ld->copy_stmt);
		ok = PQresultStatus(res) == PGRES_COPY_IN;
		if (!ok)
			sh_db_error(ld->conn, res);
		PQclear(res);
	}
	if (ok && (ld->sender = sh_sender_start(ld->conn, ld->out, SH_LOAD_FLUSH_BYTES + 64 * SH_COPY_ROW_MAX,
											&ld->copy)) == NULL)
	{
		sh_error("out of memory");
		ok = 0;
	}
	if (ok)
	{
		sh_copy_header(&ld->copy);
		if (keep > 0 && sh_copy_reserve(&ld->copy, keep) == 0)
		{
			memcpy(ld->copy.buf + ld->copy.len, saved, keep);
			ld->copy.len += keep;
		}
		else if (keep > 0)
		{
			sh_error("out of memory");
			ok = 0;
		}
	}
	free(saved);
	if (!ok)
	{
		if (out != NULL && *out != NULL)
		{
			PQclear(*out);
			*out = NULL;
		}
		return ld->send_rc = EXIT_DATABASE;
	}
	return 0;
}

void
sh_load_counts_json(char *buf, size_t len, const uint64_t *counts, int n, const char *(*name) (int i))
{
	size_t		at = (size_t) snprintf(buf, len, "{");

	for (int i = 0; i < n && at < len; i++)
	{
		if (counts[i] == 0)
			continue;
		at += (size_t) snprintf(buf + at, len - at, "%s\"%s\": %" PRIu64,
								at > 1 ? ", " : "", name(i), counts[i]);
	}
	if (at < len)
		snprintf(buf + at, len - at, "}");
}

static void
human_bytes(double v, char *buf, size_t len)
{
	const char *units[] = {"B", "kB", "MB", "GB", "TB"};
	int			u = 0;

	while (v >= 1000 && u < 4)
	{
		v /= 1000;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

void
sh_load_progress(sh_load *ld, uint64_t done, uint64_t size, uint64_t count)
{
	double		t,
				elapsed;
	char		bytes[32];

	if (!ld->show_progress)
		return;
	t = sh_now();
	if (t - ld->last_draw < 0.25)
		return;
	ld->last_draw = t;
	elapsed = t - ld->started;
	human_bytes((double) done, bytes, sizeof(bytes));
	if (size > 0)
	{
		int			width = 30;
		int			filled = (int) (width * (double) done / (double) size);

		if (filled > width)
			filled = width;
		fprintf(stderr, "\r%.30s [%.*s%*s] %3d%% %s, %" PRIu64 " %s, %.0f s",
				ld->path, filled, "##############################", width - filled, "",
				(int) (100.0 * (double) done / (double) size), bytes, count, ld->count_label, elapsed);
	}
	else
		fprintf(stderr, "\r%.30s %s, %" PRIu64 " %s, %.0f s", ld->path, bytes, count, ld->count_label,
				elapsed);
	fprintf(stderr, "\033[K");
}

void
sh_load_progress_end(sh_load *ld)
{
	if (ld->show_progress)
		fprintf(stderr, "\r\033[K");
}

/* ---------------------------------------------------------------------------
 * One file.
 * ------------------------------------------------------------------------- */

/* Returns 0 (loaded or already loaded), EXIT_INPUT or EXIT_DATABASE. */
static int
load_file(const sh_load_options *opt, const sh_pipeline *pl, const void *config, PGconn *conn, FILE *out,
		  const char *path)
{
	char		err[512];
	char		first_sha[65] = "";
	char	   *name = NULL;
	sh_load		ld;
	int			rc;

	memset(&ld, 0, sizeof(ld));
	ld.opt = opt;
	ld.conn = conn;
	ld.out = out;
	ld.path = path;
	if (strcmp(path, "-") == 0)
		ld.name = "(standard input)";
	else if ((name = file_name_text(path)) != NULL)
		ld.name = name;
	else
	{
		sh_error("out of memory");
		return EXIT_INPUT;
	}
	sh_db_forget();
	ld.started = sh_now();
	ld.show_progress = opt->progress < 0 ? isatty(STDERR_FILENO) && !opt->quiet : opt->progress;
	ld.count_label = pl->count_label;

	ld.state = calloc(1, pl->state_size);
	if (ld.state == NULL)
	{
		sh_error("out of memory");
		free(name);
		return EXIT_INPUT;
	}
	rc = pl->open(config, &ld);
	if (rc != 0)
	{
		pl->close(&ld);
		free(ld.state);
		free(name);
		return rc;
	}
	if (conn)
	{
		/* a file loaded before is found before anything is written */
		int			hashed = hash_file_first(path, first_sha);

		if (hashed < 0)
		{
			rc = EXIT_INPUT;
			goto done;
		}
		if (hashed == 1)
		{
			int			found = find_duplicate(pl, &ld, first_sha);

			if (found != 0)
			{
				rc = found < 0 ? EXIT_DATABASE : 0;
				goto done;
			}
		}
	}
	if (conn && db_begin(pl, &ld) != 0)
	{
		rc = EXIT_DATABASE;
		goto done;
	}
	ld.sender = sh_sender_start(conn, out, SH_LOAD_FLUSH_BYTES + 64 * SH_COPY_ROW_MAX, &ld.copy);
	if (ld.sender == NULL)
	{
		sh_error("out of memory");
		rc = EXIT_INPUT;
		goto done;
	}
	rc = pl->read(&ld);
	if (rc == 0 && pl->check)
		rc = pl->check(&ld);
	if (rc != 0)
		goto done;
	/*
	 * The reader hashes the bytes it decoded: the hash stored is theirs. A
	 * file that changed since it was first hashed is not the file that was
	 * checked for a duplicate, and keeps nothing.
	 */
	if (first_sha[0] != '\0' && strcmp(first_sha, ld.sha256) != 0)
	{
		sh_error("%s: the file changed while it was read (SHA-256 %.16s... before, %.16s... after): nothing kept",
				 path, first_sha, ld.sha256);
		rc = EXIT_INPUT;
		goto done;
	}
	if (sh_sender_finish(ld.sender, &ld.copy, err, sizeof(err)) != 0)
	{
		ld.sender = NULL;
		sh_error("%s", err);
		rc = conn ? EXIT_DATABASE : EXIT_INPUT;
		goto done;
	}
	ld.sender = NULL;
	if (conn)
	{
		if (sh_db_copy_end(conn, NULL) != 0 ||
			(pl->after_copy && pl->after_copy(&ld) != 0))
		{
			rc = EXIT_DATABASE;
			goto done;
		}
		switch (db_finish(pl, &ld))
		{
			case 0:
				if (pl->after_commit_sql)
				{
					PGresult   *res = PQexec(conn, pl->after_commit_sql);

					if (PQresultStatus(res) != PGRES_TUPLES_OK)
						fprintf(stderr, "%s: warning: %s: loaded, but %s failed: %s", SH_PROGNAME, path,
								pl->after_commit_sql, PQresultErrorMessage(res));
					PQclear(res);
				}
				break;
			case 1:
				report_duplicate(pl, &ld);
				goto done;
			default:
				rc = EXIT_DATABASE;
				goto done;
		}
	}
	if (!opt->quiet)
	{
		fprintf(report, "%s: %s: ", SH_PROGNAME, path);
		if (ld.id > 0)
			fprintf(report, "%s %d: ", pl->row_noun, ld.id);
		pl->summary(&ld, report, sh_now() - ld.started);
		fprintf(report, "\n");
		fflush(report);
	}

done:
	if (ld.sender != NULL)
		sh_sender_finish(ld.sender, &ld.copy, err, sizeof(err));
	if (rc != 0 && conn)
	{
		/* leave nothing behind: end a COPY in progress, then roll back */
		if (PQtransactionStatus(conn) == PQTRANS_ACTIVE)
			sh_db_copy_end(conn, SH_PROGNAME " stopped");
		if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
			sh_exec_ok(conn, "ROLLBACK");
		if (rc == EXIT_DATABASE)
			sh_db_hint(conn, path);
	}
	sh_copy_free(&ld.copy);
	pl->close(&ld);
	free(ld.state);
	free(name);
	return rc;
}

/* ---------------------------------------------------------------------------
 * Retrying when the server goes away (--retry).
 * ------------------------------------------------------------------------- */

/* Wait before try number attempt + 1: retry_wait, doubled each time, at most a minute. */
static void
back_off(const sh_load_options *opt, int attempt, const char *what)
{
	double		wait = opt->retry_wait;
	struct timespec ts;

	for (int i = 0; i < attempt && wait < 60; i++)
		wait *= 2;
	if (wait > 60)
		wait = 60;
	fprintf(stderr, "%s: %s: retrying in %.1f s (retry %d of %d)\n", SH_PROGNAME, what, wait,
			attempt + 1, opt->retry);
	ts.tv_sec = (time_t) wait;
	ts.tv_nsec = (long) ((wait - (double) ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Connect, trying again with back-off while the server cannot be reached,
 * using up *retries_left. NULL when it still cannot.
 */
static PGconn *
connect_retrying(const sh_load_options *opt, const sh_pipeline *pl, int *retries_left)
{
	for (;;)
	{
		int			transient;
		PGconn	   *conn = sh_connect(&opt->conn, pl->client_encoding, &transient);

		if (conn != NULL || !transient || *retries_left <= 0)
			return conn;
		back_off(opt, opt->retry - *retries_left, "the server cannot be reached");
		(*retries_left)--;
	}
}

/*
 * Load one file; when the connection to the server is lost on the way (the
 * server restarted, the backend was terminated), the transaction rolled
 * back and nothing of the file was kept: with --retry, reconnect and load
 * the whole file again. *connp may be replaced (NULL when reconnecting
 * failed).
 */
static int
load_file_retrying(const sh_load_options *opt, const sh_pipeline *pl, const void *config, PGconn **connp,
				   FILE *out, const char *path)
{
	int			retries_left = opt->retry;

	for (;;)
	{
		int			rc = load_file(opt, pl, config, *connp, out, path);

		if (*connp == NULL || rc != EXIT_DATABASE || PQstatus(*connp) == CONNECTION_OK)
			return rc;
		sh_error("the connection to the server was lost while loading %s", path);
		if (retries_left <= 0)
			return rc;
		if (strcmp(path, "-") == 0)
		{
			sh_error("standard input cannot be read a second time: not retrying; save the %s to a file and load that file to have it retried",
					 pl->input);
			return rc;
		}
		PQfinish(*connp);
		*connp = NULL;
		back_off(opt, opt->retry - retries_left, path);
		retries_left--;
		*connp = connect_retrying(opt, pl, &retries_left);
		if (*connp == NULL)
			return EXIT_DATABASE;
	}
}

/* ---------------------------------------------------------------------------
 * Every file.
 * ------------------------------------------------------------------------- */

int
sh_load_files(const sh_load_options *opt, const sh_pipeline *pl, const void *config,
			  char *const *files, int nfiles)
{
	PGconn	   *conn = NULL;
	FILE	   *out = NULL;
	int			rc = 0;

	report = stdout;
	if (opt->output)
	{
		if (strcmp(opt->output, "-") == 0)
		{
			out = stdout;
			report = stderr;
		}
		else
			out = fopen(opt->output, "wb");
		if (out == NULL)
		{
			sh_error("cannot open \"%s\": %s", opt->output, strerror(errno));
			return EXIT_INPUT;
		}
	}
	else if (!opt->dry_run)
	{
		int			retries_left = opt->retry;

		conn = connect_retrying(opt, pl, &retries_left);
		if (conn == NULL)
			return EXIT_DATABASE;
	}

	for (int i = 0; i < nfiles; i++)
	{
		int			r = load_file_retrying(opt, pl, config, &conn, out, files[i]);

		if (r > rc)
			rc = r;
		/* a lost connection ends the run: the remaining files are not tried */
		if (!opt->dry_run && !opt->output && (conn == NULL || PQstatus(conn) != CONNECTION_OK))
		{
			if (i + 1 < nfiles)
				sh_error("the connection to the server was lost: %d file(s) after %s not tried",
						 nfiles - i - 1, files[i]);
			rc = EXIT_DATABASE;
			break;
		}
	}
	if (conn)
		PQfinish(conn);
	if (out && out != stdout && fclose(out) != 0)
	{
		sh_error("cannot write \"%s\": %s", opt->output, strerror(errno));
		rc = EXIT_INPUT;
	}
	return rc;
}
