/*
 * loader/maillog/maillog_load.c: spamhints-load --maillog exim|postfix FILE...
 *
 * Each log file is one load in one transaction, as captures are: a row in
 * spamhints.maillog_load, its events in spamhints.mail_event by COPY, and
 * at the end the file's SHA-256, which is unique: a log loaded before adds
 * nothing. Times without an offset are read in the log's time zone
 * (--timezone), by setting the transaction's TimeZone and letting
 * PostgreSQL convert them; syslog lines take their year from --year or the
 * file's modification time (maillog.h says how).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/evp.h>

#include "db.h"
#include "maillog.h"

#define ML_VERSION		"0.1.0"
#define EXIT_USAGE		1
#define EXIT_INPUT		2
#define EXIT_DATABASE	3
#define FLUSH_BYTES		(1u << 20)
#define READ_BYTES		(1u << 20)

static const char *progname = "spamhints-load";

typedef struct mopts
{
	const char *conninfo;
	sh_mta		mta;
	const char *format;
	int			year;
	const char *timezone;
	const char *host;
	int			dry_run;
	int			quiet;
} mopts;

/* A growing text buffer: the COPY rows on their way to the server. */
typedef struct sbuf
{
	char	   *d;
	size_t		len;
	size_t		cap;
	int			oom;
} sbuf;

typedef struct mload
{
	const mopts *opt;
	PGconn	   *conn;
	int			id;
	sbuf		out;
	int			failed;
} mload;

static void
sb_put(sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 4096;
		char	   *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		d = realloc(b->d, cap);
		if (d == NULL)
		{
			b->oom = 1;
			return;
		}
		b->d = d;
		b->cap = cap;
	}
	memcpy(b->d + b->len, s, n);
	b->len += n;
}

static void
sb_str(sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

/* A text field of COPY's text format: \N for NULL, backslash escapes. */
static void
sb_field(sbuf *b, const char *s)
{
	if (s == NULL)
	{
		sb_put(b, "\\N", 2);
		return;
	}
	for (; *s; s++)
	{
		switch (*s)
		{
			case '\\':
				sb_put(b, "\\\\", 2);
				break;
			case '\t':
				sb_put(b, "\\t", 2);
				break;
			case '\n':
				sb_put(b, "\\n", 2);
				break;
			case '\r':
				sb_put(b, "\\r", 2);
				break;
			default:
				sb_put(b, s, 1);
		}
	}
}

/* The recipients as a text[] literal, inside a COPY field. */
static void
sb_array(sbuf *b, char *const *v, size_t n)
{
	sbuf		lit = {0};

	if (n == 0)
	{
		sb_put(b, "\\N", 2);
		return;
	}
	sb_put(&lit, "{", 1);
	for (size_t i = 0; i < n; i++)
	{
		if (i)
			sb_put(&lit, ",", 1);
		sb_put(&lit, "\"", 1);
		for (const char *s = v[i]; *s; s++)
		{
			if (*s == '"' || *s == '\\')
				sb_put(&lit, "\\", 1);
			sb_put(&lit, s, 1);
		}
		sb_put(&lit, "\"", 1);
	}
	sb_put(&lit, "}", 1);
	if (lit.oom)
		b->oom = 1;
	else
	{
		lit.d[lit.len] = '\0';
		sb_field(b, lit.d);
	}
	free(lit.d);
}

static void
sb_num(sbuf *b, long long v)
{
	char		n[32];

	if (v < 0)
		sb_put(b, "\\N", 2);
	else
	{
		snprintf(n, sizeof(n), "%lld", v);
		sb_str(b, n);
	}
}

/* The parser's callback: one row of spamhints.mail_event. */
static void
on_event(const sh_mail_event *ev, void *arg)
{
	mload	   *ld = arg;
	sbuf	   *b = &ld->out;
	char		n[32];

	if (ld->opt->dry_run)
		return;
	snprintf(n, sizeof(n), "%d\t%" PRIu64 "\t", ld->id, ev->line);
	sb_str(b, n);
	sb_field(b, ev->ts);
	sb_put(b, "\t", 1);
	sb_field(b, ev->host);
	sb_put(b, "\t", 1);
	sb_field(b, ev->queue_id);
	sb_put(b, "\t", 1);
	sb_field(b, ev->client_ip);
	sb_put(b, "\t", 1);
	sb_num(b, ev->client_port);
	sb_put(b, "\t", 1);
	sb_field(b, ev->client_name);
	sb_put(b, "\t", 1);
	sb_field(b, ev->helo);
	sb_put(b, "\t", 1);
	sb_num(b, ev->size);
	sb_put(b, "\t", 1);
	sb_field(b, ev->sender);
	sb_put(b, "\t", 1);
	sb_array(b, ev->rcpt, ev->nrcpt);
	sb_put(b, "\t", 1);
	sb_field(b, sh_verdict_name(ev->verdict));
	sb_put(b, "\t", 1);
	sb_field(b, ev->virus);
	sb_put(b, "\t", 1);
	sb_field(b, ev->spam_score[0] ? ev->spam_score : NULL);
	sb_put(b, "\t", 1);
	sb_field(b, ev->reason);
	sb_put(b, "\n", 1);

	if (b->len >= FLUSH_BYTES && !ld->failed)
	{
		if (PQputCopyData(ld->conn, b->d, (int) b->len) != 1)
			ld->failed = 1;
		b->len = 0;
	}
}

/* ---------------------------------------------------------------------------
 * The database.
 * ------------------------------------------------------------------------- */

/* BEGIN, the load's row, the log's time zone, COPY. */
static int
db_begin(mload *ld, const char *name, const char *mtime)
{
	const char *v[5] = {name, ld->opt->format, ld->opt->timezone, mtime, ML_VERSION};
	PGresult   *res;

	if (!sh_exec_ok(ld->conn, "BEGIN"))
		return -1;
	res = PQexecParams(ld->conn,
					   "INSERT INTO spamhints.maillog_load (file_name, format, timezone, file_mtime, loader_version) "
					   "VALUES ($1, $2, $3, $4, $5) RETURNING maillog_load_id", 5, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		sh_error("%s", PQerrorMessage(ld->conn));
		PQclear(res);
		return -1;
	}
	ld->id = (int) strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	res = PQexecParams(ld->conn, "SELECT pg_catalog.set_config('TimeZone', $1, true)", 1, NULL, v + 2, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		sh_error("time zone \"%s\": %s", ld->opt->timezone, PQerrorMessage(ld->conn));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	res = PQexec(ld->conn,
				 "COPY spamhints.mail_event (maillog_load_id, line, ts, host, queue_id, client_ip, client_port, "
				 "client_name, helo, size, sender, recipients, verdict, virus, spam_score, reason) FROM STDIN");
	if (PQresultStatus(res) != PGRES_COPY_IN)
	{
		sh_error("%s", PQerrorMessage(ld->conn));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

static void
skipped_json(const sh_maillog *p, char *buf, size_t len)
{
	size_t		at = (size_t) snprintf(buf, len, "{");

	for (int i = 0; i < SH_MSKIP_COUNT_ && at < len; i++)
	{
		uint64_t	n = sh_maillog_skipped(p, (sh_mskip) i);

		if (n)
			at += (size_t) snprintf(buf + at, len - at, "%s\"%s\": %" PRIu64, at > 1 ? ", " : "",
									sh_mskip_name((sh_mskip) i), n);
	}
	if (at < len)
		snprintf(buf + at, len - at, "}");
}

/* The counts and the hash: 0 committed, 1 loaded before (rolled back), -1. */
static int
db_finish(mload *ld, const sh_maillog *p, const char *sha, uint64_t bytes)
{
	char		v[6][48];
	char		skipped[1024];
	const char *vals[8];
	PGresult   *res;
	const char *state;

	snprintf(v[0], 48, "%d", ld->id);
	snprintf(v[2], 48, "%" PRIu64, bytes);
	snprintf(v[3], 48, "%" PRIu64, sh_maillog_lines(p));
	snprintf(v[4], 48, "%" PRIu64, sh_maillog_events(p));
	snprintf(v[5], 48, "%" PRIu64, sh_maillog_malformed(p));
	skipped_json(p, skipped, sizeof(skipped));
	for (int i = 0; i < 6; i++)
		vals[i] = v[i];
	vals[1] = sha;				/* 64 hex digits */
	vals[6] = skipped;
	vals[7] = !sh_maillog_needed_year(p) ? NULL : ld->opt->year ? "option" : "mtime";
	res = PQexecParams(ld->conn,
					   "UPDATE spamhints.maillog_load SET sha256 = $2, file_bytes = $3, lines = $4, events = $5, "
					   "malformed = $6, skipped = $7, year_source = $8, finished_at = clock_timestamp(), "
					   "first_ts = (SELECT min(ts) FROM spamhints.mail_event WHERE maillog_load_id = $1), "
					   "last_ts = (SELECT max(ts) FROM spamhints.mail_event WHERE maillog_load_id = $1) "
					   "WHERE maillog_load_id = $1", 8, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (state && strcmp(state, "23505") == 0)
		{
			PQclear(res);
			return sh_exec_ok(ld->conn, "ROLLBACK") ? 1 : -1;
		}
		sh_error("%s", PQerrorMessage(ld->conn));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return sh_exec_ok(ld->conn, "COMMIT") ? 0 : -1;
}

static void
report_duplicate(PGconn *conn, const char *path, const char *sha)
{
	const char *v[1] = {sha};
	PGresult   *res = PQexecParams(conn, "SELECT maillog_load_id, file_name, finished_at FROM spamhints.maillog_load "
								   "WHERE sha256 = $1", 1, NULL, v, NULL, NULL, 0);

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		printf("%s: %s: already loaded as mail log %s (\"%s\", %s): nothing added\n", progname, path,
			   PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	else
		printf("%s: %s: already loaded: nothing added\n", progname, path);
	PQclear(res);
}

/* ---------------------------------------------------------------------------
 * Files.
 * ------------------------------------------------------------------------- */

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

/* Returns 0, EXIT_INPUT or EXIT_DATABASE. */
static int
load_file(const mopts *opt, PGconn *conn, const char *path)
{
	int			is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "(standard input)" : path;
	FILE	   *f = is_stdin ? stdin : fopen(path, "rb");
	struct stat st;
	sh_maillog_config cfg;
	sh_maillog *p = NULL;
	mload		ld;
	EVP_MD_CTX *sha = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char		hex[65],
				mtime[64] = "";
	char	   *buf = NULL;
	size_t		have = 0,
				cap = READ_BYTES + SH_MAILLOG_LINE_MAX + 2;
	uint64_t	bytes = 0;
	int			rc = 0,
				too_long = 0;
	double		started = sh_now();
	time_t		ref;

	memset(&ld, 0, sizeof(ld));
	ld.opt = opt;
	ld.conn = conn;
	if (f == NULL)
	{
		sh_error("cannot open \"%s\": %s", path, strerror(errno));
		return EXIT_INPUT;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
	{
		struct tm	tm;

		ref = st.st_mtime;
		gmtime_r(&ref, &tm);
		strftime(mtime, sizeof(mtime), "%Y-%m-%d %H:%M:%S+00", &tm);
	}
	else
		ref = time(NULL);		/* a pipe is being written now */
	memset(&cfg, 0, sizeof(cfg));
	cfg.mta = opt->mta;
	cfg.year = opt->year;
	cfg.host = opt->host;
	date_in_zone(ref, opt->timezone, &cfg.ref_year, &cfg.ref_month, &cfg.ref_day);

	p = sh_maillog_new(&cfg, on_event, &ld);
	buf = malloc(cap);
	sha = EVP_MD_CTX_new();
	if (p == NULL || buf == NULL || sha == NULL || !EVP_DigestInit_ex(sha, EVP_sha256(), NULL))
	{
		sh_error("out of memory");
		rc = EXIT_INPUT;
		goto done;
	}
	if (conn && !opt->dry_run && db_begin(&ld, name, mtime[0] ? mtime : NULL) != 0)
	{
		rc = EXIT_DATABASE;
		goto done;
	}

	/* lines, however long; a line longer than the limit is counted, not read */
	for (;;)
	{
		size_t		got = fread(buf + have, 1, READ_BYTES, f);
		size_t		start = 0;
		char	   *nl;

		if (got == 0)
			break;
		EVP_DigestUpdate(sha, buf + have, got);
		bytes += got;
		have += got;
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
	}
	if (ferror(f))
	{
		sh_error("cannot read \"%s\": %s", path, strerror(errno));
		rc = EXIT_INPUT;
		goto done;
	}
	if (have > 0 && !too_long)
		sh_maillog_line(p, buf, have);	/* a last line without its newline */
	sh_maillog_finish(p);
	if (sh_maillog_oom(p) || ld.out.oom)
	{
		sh_error("out of memory");
		rc = EXIT_INPUT;
		goto done;
	}
	if (!EVP_DigestFinal_ex(sha, md, &mdlen) || mdlen != 32)
	{
		sh_error("cannot compute the SHA-256 of \"%s\"", path);
		rc = EXIT_INPUT;
		goto done;
	}
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);

	if (conn && !opt->dry_run)
	{
		if (ld.failed || (ld.out.len && PQputCopyData(conn, ld.out.d, (int) ld.out.len) != 1))
		{
			sh_error("%s", PQerrorMessage(conn));
			rc = EXIT_DATABASE;
			goto done;
		}
		if (sh_db_copy_end(conn, NULL) != 0)
		{
			rc = EXIT_DATABASE;
			goto done;
		}
		switch (db_finish(&ld, p, hex, bytes))
		{
			case 0:
				break;
			case 1:
				report_duplicate(conn, path, hex);
				goto done;
			default:
				rc = EXIT_DATABASE;
				goto done;
		}
	}
	if (!opt->quiet)
	{
		char		skipped[1024];

		skipped_json(p, skipped, sizeof(skipped));
		printf("%s: %s: ", progname, path);
		if (ld.id > 0)
			printf("mail log %d: ", ld.id);
		printf("%s, %" PRIu64 " lines, %" PRIu64 " events, %" PRIu64 " malformed, %.2f s",
			   opt->format, sh_maillog_lines(p), sh_maillog_events(p), sh_maillog_malformed(p),
			   sh_now() - started);
		if (strcmp(skipped, "{}") != 0)
			printf(", skipped %s", skipped);
		printf("\n");
		fflush(stdout);
	}

done:
	if (rc != 0 && conn && !opt->dry_run)
	{
		if (PQtransactionStatus(conn) == PQTRANS_ACTIVE)
			sh_db_copy_end(conn, "spamhints-load stopped");
		if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
			sh_exec_ok(conn, "ROLLBACK");
		if (rc == EXIT_DATABASE)
			fprintf(stderr, "%s: hint: nothing of %s was kept; run the same command again to load it\n",
					progname, path);
	}
	if (sha)
		EVP_MD_CTX_free(sha);
	free(buf);
	free(ld.out.d);
	sh_maillog_free(p);
	if (!is_stdin)
		fclose(f);
	return rc;
}

/* ---------------------------------------------------------------------------
 * Command line.
 * ------------------------------------------------------------------------- */

/* The machine's time zone: TZ, or what /etc/localtime links to, or UTC. */
static const char *
local_zone(char *buf, size_t len)
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

static int
zone_known(const char *zone)
{
	char		path[PATH_MAX];

	if (strcmp(zone, "UTC") == 0)
		return 1;
	if (zone[0] == '/' || strstr(zone, "..") || strlen(zone) > 64)
		return 0;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	return access(path, R_OK) == 0;
}

static void
usage(FILE *f)
{
	fprintf(f,
			"%s --maillog loads mail server logs into PostgreSQL (spamhints.mail_event).\n"
			"\n"
			"Usage:\n"
			"  %s --maillog=exim|postfix [OPTION]... FILE...\n"
			"\n"
			"exim:    Exim's mainlog (its own file, or through syslog)\n"
			"postfix: Postfix's syslog lines, with amavisd-new (SpamAssassin, ClamAV) and\n"
			"         clamav-milter; other programs' lines are skipped and counted\n"
			"\n"
			"Each FILE (\"-\": standard input) is one load, in one transaction: all of its\n"
			"events or none. A file loaded before (same SHA-256) adds nothing. Malformed\n"
			"lines are counted, never loaded, and do not stop the load.\n"
			"\n"
			"Options:\n"
			"  -d, --dbname=CONNINFO  database: a name, a conninfo string or a URI\n"
			"      --timezone=ZONE    time zone of log times without an offset (default: the\n"
			"                         machine's, from TZ or /etc/localtime); an offset written\n"
			"                         in the line wins\n"
			"      --year=YEAR        syslog lines have no year: YEAR is the first line's, and\n"
			"                         a month going back (December, then January) starts the\n"
			"                         next; without it, each line takes the latest year that\n"
			"                         does not put it after the file's modification time\n"
			"                         (standard input: now) by more than a day\n"
			"      --host=NAME        the mail server's name, for lines that do not carry\n"
			"                         one (Exim's own mainlog; syslog lines name theirs)\n"
			"      --dry-run          read only: no database\n"
			"  -q, --quiet            no summary lines\n"
			"  -?, --help             show this help and exit\n"
			"\n"
			"Exit status: 0 loaded (or loaded before), 1 bad command line, 2 a file could\n"
			"not be read, 3 a database error (the load was rolled back).\n",
			progname, progname);
}

int
sh_maillog_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"maillog", required_argument, NULL, 'M'},
		{"dbname", required_argument, NULL, 'd'},
		{"timezone", required_argument, NULL, 'z'},
		{"host", required_argument, NULL, 'H'},
		{"year", required_argument, NULL, 'y'},
		{"dry-run", no_argument, NULL, 'n'},
		{"quiet", no_argument, NULL, 'q'},
		{"progress", no_argument, NULL, 'P'},
		{"no-progress", no_argument, NULL, 'N'},
		{NULL, 0, NULL, 0}
	};
	mopts		opt;
	char		zbuf[PATH_MAX];
	int			c,
				rc = 0;
	PGconn	   *conn = NULL;

	memset(&opt, 0, sizeof(opt));
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
	{
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-?") == 0)
		{
			usage(stdout);
			return 0;
		}
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:q", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'M':
				opt.format = optarg;
				break;
			case 'd':
				opt.conninfo = optarg;
				break;
			case 'z':
				opt.timezone = optarg;
				break;
			case 'H':
				opt.host = optarg;
				break;
			case 'y':
				{
					char	   *end;
					long		y = strtol(optarg, &end, 10);

					if (*end || y < 1970 || y > 9999)
					{
						sh_error("bad year \"%s\": give four digits, 1970 or later", optarg);
						return EXIT_USAGE;
					}
					opt.year = (int) y;
				}
				break;
			case 'n':
				opt.dry_run = 1;
				break;
			case 'q':
				opt.quiet = 1;
				break;
			case 'P':
			case 'N':
				break;
			default:
				fprintf(stderr, "Try \"%s --maillog=exim --help\" for more information.\n", progname);
				return EXIT_USAGE;
		}
	}
	if (opt.format == NULL || sh_mta_parse(opt.format, &opt.mta) != 0)
	{
		sh_error("unknown mail log format \"%s\": give --maillog=exim or --maillog=postfix",
			  opt.format ? opt.format : "");
		return EXIT_USAGE;
	}
	if (opt.timezone == NULL)
		opt.timezone = local_zone(zbuf, sizeof(zbuf));
	if (!zone_known(opt.timezone))
	{
		sh_error("unknown time zone \"%s\": give a name such as Europe/London or UTC", opt.timezone);
		return EXIT_USAGE;
	}
	if (optind >= argc)
	{
		sh_error("no mail log file given");
		fprintf(stderr, "Try \"%s --maillog=exim --help\" for more information.\n", progname);
		return EXIT_USAGE;
	}
	if (!opt.dry_run)
	{
		{
			int			transient;

			conn = sh_connect(opt.conninfo, "UTF8", &transient);
		}
		if (conn == NULL)
			return EXIT_DATABASE;
	}
	for (int i = optind; i < argc; i++)
	{
		int			r = load_file(&opt, conn, argv[i]);

		if (r > rc)
			rc = r;
		if (conn && PQstatus(conn) != CONNECTION_OK)
		{
			sh_error("the connection to the server was lost");
			rc = EXIT_DATABASE;
			break;
		}
	}
	if (conn)
		PQfinish(conn);
	return rc;
}
