/*
 * loader/main.c: spamhints-load, sFlow captures and mail server logs into
 * PostgreSQL.
 *
 * The command line, parsed once for both kinds of input: --maillog=exim or
 * --maillog=postfix loads mail logs (maillog_pipeline.h), else the files are
 * sFlow captures (capture_pipeline.h); --listen collects sFlow live into
 * spool files, each loaded as a capture (live.h). Options of one kind are
 * refused with the others. All load each file the same way (load.h).
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_pipeline.h"
#include "db.h"
#include "enrich.h"
#include "live.h"
#include "load.h"
#include "maillog_pipeline.h"
#include "smtp.h"
#include "shared/smtp_roles.h"

/* Where to connect, as psql takes it, in both usages. */
static void
connection_usage(FILE *f)
{
	fprintf(f,
			"\n"
			"Connection options (as psql's; PG* variables and ~/.pgpass apply):\n"
			"  -d, --dbname=CONNINFO  database to load into: a name, a conninfo string or a\n"
			"                         URI; as in psql, the values a conninfo string or URI\n"
			"                         gives win over -h, -p and -U\n"
			"  -h, --db-host=HOST     database server host or socket directory (--host is\n"
			"                         the mail server's name, for mail logs)\n"
			"  -p, --port=PORT        database server port\n"
			"  -U, --username=USER    database user name\n"
			"  -w, --no-password      never ask for a password\n"
			"  -W, --password         ask for the password before connecting (without -W\n"
			"                         and -w it is asked for when the server wants one and\n"
			"                         standard input is a terminal); asked on the terminal\n");
}

/* The options of every load, in both usages. */
static void
load_options_usage(FILE *f)
{
	fprintf(f,
			"      --retry=N          when the server goes away during a load (restart,\n"
			"                         crash, terminated backend) or cannot be reached,\n"
			"                         reconnect and load that file again from its start,\n"
			"                         up to N times (default 0); not for standard input,\n"
			"                         which cannot be read twice\n"
			"      --retry-wait=SECS  seconds before the first retry, doubled for each next\n"
			"                         one, at most 60 (default 1)\n"
			"  -q, --quiet            no summary lines and no progress bar\n"
			"      --progress         a progress bar even when standard error is not a terminal\n"
			"      --no-progress      no progress bar\n"
			"  -V, --version          print the version and exit\n"
			"  -?, --help             show this help and exit\n");
}

static void
usage(FILE *f)
{
	fprintf(f,
			"%s loads the sampled SMTP packets of sFlow captures into PostgreSQL.\n"
			"\n"
			"Usage:\n"
			"  %s [OPTION]... FILE...\n"
			"\n"
			"FILE is a pcap or pcapng capture of sFlow datagrams (versions 2, 4 and 5);\n"
			"\"-\" reads one from standard input. Each file is one load, in one transaction:\n"
			"all of its samples or none. A file loaded before (same SHA-256) adds nothing.\n"
			"\n"
			"FILE may be gzip'd (read through zlib; its SHA-256 is of the capture's own\n"
			"bytes, as zcat FILE | sha256sum gives: a capture and its gzip are one load).\n"
			"\n"
			"Options:\n"
			"      --ports=LIST       SMTP ports, comma-separated (default: 25)\n"
			"      --filter=BPF       which captured packets are sFlow (default: udp port 6343,\n"
			"                         tagged or not, and UDP to any port that starts as an\n"
			"                         sFlow datagram); frames it does not take are counted\n"
			"                         as frame_filtered\n"
			"      --asn-db=FILE      fill src_asn and dst_asn from FILE, an ASN database in\n"
			"                         MaxMind DB format (GeoLite2-ASN, DB-IP, IPinfo), and\n"
			"                         keep the AS names in spamhints.asn (default:\n"
			"                         $SPAMHINTS_ASN_DB; an empty FILE: none)\n"
			"      --country-db=FILE  fill src_cc and dst_cc from FILE, a country or city\n"
			"                         database in MaxMind DB format (default:\n"
			"                         $SPAMHINTS_COUNTRY_DB; an empty FILE: none)\n"
			"  -o, --output=FILE      write the binary COPY stream to FILE, no database\n"
			"      --dry-run          decode only: no database, no output\n",
			SH_PROGNAME, SH_PROGNAME);
	load_options_usage(f);
	connection_usage(f);
	fprintf(f,
			"\n"
			"Mail server logs: %s --maillog=exim|postfix [OPTION]... FILE...\n"
			"(%s --maillog=exim --help says more).\n"
			"Live collection: %s --listen=[ADDR:]PORT --spool=DIR [OPTION]...\n"
			"(%s --listen=6343 --help says more).\n"
			"\n"
			"Exit status:\n"
			"  0  every file was loaded, or had been loaded before\n"
			"  1  bad command line\n"
			"  2  a file could not be read (missing, unreadable, a directory, empty, not a\n"
			"     capture, corrupt or truncated gzip, unsupported link type; or an\n"
			"     enrichment database that is missing, corrupt or of the wrong kind: then\n"
			"     nothing is loaded)\n"
			"  3  a database error (cannot connect, no extension, the load failed and was\n"
			"     rolled back: running the same command again completes it)\n"
			"Malformed datagrams are not an error: they are skipped, counted in the summary\n"
			"and in spamhints.load (malformed, skipped), and the rest is loaded.\n",
			SH_PROGNAME, SH_PROGNAME, SH_PROGNAME, SH_PROGNAME);
}

static void
maillog_usage(FILE *f)
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
			"events or none. A file loaded before as the same format (same SHA-256) adds\n"
			"nothing, and a line of a mail server loaded before (its server, bytes, year\n"
			"and which occurrence of those bytes it is) adds nothing either: a log that\n"
			"grew, its rotated copy or an excerpt adds only the lines and events that are\n"
			"new (an event whose message it saw more lines of replaces the one loaded).\n"
			"Malformed lines are counted, never loaded, and do not stop the load.\n"
			"A file that is empty, or has no event and is binary or has not one line of\n"
			"the format, is refused (exit 2, nothing recorded). A gzip'd FILE is read\n"
			"through zlib, its SHA-256 that of the log's own bytes (zcat | sha256sum).\n"
			"\n"
			"Options:\n"
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
			"      --follow           load FILE as it grows (one FILE): its new complete lines\n"
			"                         every --interval, each batch a load of its own; follows\n"
			"                         logrotate's rename and copytruncate; a restart reads\n"
			"                         FILE again from its start and adds only what is new;\n"
			"                         SIGTERM or SIGINT loads what was read, then exits 0\n"
			"      --interval=SECONDS with --follow: how often (default 5)\n"
			"  -o, --output=FILE      write the text COPY stream of spamhints.mail_event to\n"
			"                         FILE, no database\n"
			"      --dry-run          read only: no database\n",
			SH_PROGNAME, SH_PROGNAME);
	load_options_usage(f);
	connection_usage(f);
	fprintf(f,
			"\n"
			"Exit status: 0 loaded (or loaded before), 1 bad command line, 2 a file could\n"
			"not be read (missing, unreadable, a directory, empty, corrupt gzip) or is not\n"
			"a mail log of the format, 3 a database error (the load was rolled back).\n");
}

/* getopt values of the long options without a short one */
enum
{
	OPT_DRY_RUN = 256,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_RETRY,
	OPT_RETRY_WAIT,
	OPT_PORTS,
	OPT_FILTER,
	OPT_ASN_DB,
	OPT_COUNTRY_DB,
	OPT_MAILLOG,
	OPT_TIMEZONE,
	OPT_HOST,
	OPT_YEAR,
	OPT_FOLLOW,
	OPT_INTERVAL
};

/* The options of one kind of input only, by getopt value. */
typedef struct only_for
{
	int			val;
	const char *name;
	int			maillog;		/* 1: mail logs only, 0: captures only */
} only_for;

static const only_for only[] = {
	{OPT_PORTS, "--ports", 0},
	{OPT_FILTER, "--filter", 0},
	{OPT_ASN_DB, "--asn-db", 0},
	{OPT_COUNTRY_DB, "--country-db", 0},
	{OPT_TIMEZONE, "--timezone", 1},
	{OPT_HOST, "--host", 1},
	{OPT_YEAR, "--year", 1},
	{OPT_FOLLOW, "--follow", 1},
	{OPT_INTERVAL, "--interval", 1},
};

#define N_ONLY ((int) (sizeof(only) / sizeof(only[0])))

static void
try_help(int maillog)
{
	fprintf(stderr, "Try \"%s%s --help\" for more information.\n", SH_PROGNAME,
			maillog ? " --maillog=exim" : "");
}

/* The captures, once the command line is read: the exit code. */
static int
run_captures(const sh_load_options *opt, const char *ports_spec, const char *filter,
			 const char *asn_db, const char *country_db, char *const *files, int nfiles)
{
	sh_capture_options copt;
	sh_enrich	enrich;
	char		err[1024];
	int			rc;

	memset(&copt, 0, sizeof(copt));
	copt.filter = filter;
	if (sh_ports_parse(&copt.ports, ports_spec, err, sizeof(err)) != 0)
	{
		sh_error("%s", err);
		return EXIT_USAGE;
	}

	/* the databases are checked before anything is read or connected to */
	if (sh_enrich_open(&enrich, asn_db, country_db, stderr, SH_PROGNAME, err, sizeof(err)) != 0)
	{
		sh_error("%s", err);
		if ((asn_db && asn_db == getenv("SPAMHINTS_ASN_DB")) ||
			(country_db && country_db == getenv("SPAMHINTS_COUNTRY_DB")))
			fprintf(stderr, "%s: hint: SPAMHINTS_ASN_DB and SPAMHINTS_COUNTRY_DB name the databases "
					"when --asn-db and --country-db are not given\n", SH_PROGNAME);
		return EXIT_INPUT;
	}
	if (sh_enrich_enabled(&enrich))
		copt.enrich = &enrich;
	rc = sh_load_files(opt, &sh_capture_pipeline, &copt, files, nfiles);
	sh_enrich_close(&enrich);
	return rc;
}

/* The mail logs, once the command line is read: the exit code. */
static int
run_maillogs(const sh_load_options *opt, const char *format, const char *year,
			 const char *timezone, const char *host, int follow, const char *interval,
			 char *const *files, int nfiles)
{
	double		every = 5;

	sh_maillog_options mopt;
	char		zbuf[PATH_MAX];

	memset(&mopt, 0, sizeof(mopt));
	mopt.format = format;
	mopt.host = host;
	if (year)
	{
		char	   *end;
		long		y = strtol(year, &end, 10);

		if (*end || y < 1970 || y > 9999)
		{
			sh_error("bad year \"%s\": give four digits, 1970 or later", year);
			return EXIT_USAGE;
		}
		mopt.year = (int) y;
	}
	if (sh_mta_parse(format, &mopt.mta) != 0)
	{
		sh_error("unknown mail log format \"%s\": give --maillog=exim or --maillog=postfix", format);
		return EXIT_USAGE;
	}
	mopt.timezone = timezone ? timezone : sh_maillog_local_zone(zbuf, sizeof(zbuf));
	if (!sh_maillog_zone_known(mopt.timezone))
	{
		sh_error("unknown time zone \"%s\": give a name such as Europe/London or UTC", mopt.timezone);
		return EXIT_USAGE;
	}
	if (nfiles == 0)
	{
		sh_error("no mail log file given");
		try_help(1);
		return EXIT_USAGE;
	}
	if (interval && !follow)
	{
		sh_error("--interval is for --follow: how often a followed log's new lines are loaded");
		return EXIT_USAGE;
	}
	if (interval)
	{
		char	   *end;

		every = strtod(interval, &end);
		if (end == interval || *end != '\0' || !(every >= 0.1 && every <= 3600))
		{
			sh_error("bad --interval \"%s\": seconds from 0.1 to 3600", interval);
			return EXIT_USAGE;
		}
	}
	if (follow)
	{
		if (nfiles != 1 || strcmp(files[0], "-") == 0)
		{
			sh_error("--follow follows one log file (not standard input): give exactly one FILE");
			return EXIT_USAGE;
		}
		if (opt->output || opt->dry_run)
		{
			sh_error("--follow loads into a database: it cannot be used with --output or --dry-run");
			return EXIT_USAGE;
		}
		return sh_maillog_follow(opt, &mopt, files[0], every);
	}
	return sh_load_files(opt, &sh_maillog_pipeline, &mopt, files, nfiles);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		/* where to connect, as psql's options (but --host: the mail server's, below) */
		{"dbname", required_argument, NULL, 'd'},
		{"db-host", required_argument, NULL, 'h'},
		{"port", required_argument, NULL, 'p'},
		{"username", required_argument, NULL, 'U'},
		{"no-password", no_argument, NULL, 'w'},
		{"password", no_argument, NULL, 'W'},
		{"output", required_argument, NULL, 'o'},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"quiet", no_argument, NULL, 'q'},
		{"progress", no_argument, NULL, OPT_PROGRESS},
		{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
		{"retry", required_argument, NULL, OPT_RETRY},
		{"retry-wait", required_argument, NULL, OPT_RETRY_WAIT},
		{"version", no_argument, NULL, 'V'},
		/* captures */
		{"ports", required_argument, NULL, OPT_PORTS},
		{"filter", required_argument, NULL, OPT_FILTER},
		{"asn-db", required_argument, NULL, OPT_ASN_DB},
		{"country-db", required_argument, NULL, OPT_COUNTRY_DB},
		/* mail logs */
		{"maillog", required_argument, NULL, OPT_MAILLOG},
		{"timezone", required_argument, NULL, OPT_TIMEZONE},
		{"host", required_argument, NULL, OPT_HOST},
		{"year", required_argument, NULL, OPT_YEAR},
		{"follow", no_argument, NULL, OPT_FOLLOW},
		{"interval", required_argument, NULL, OPT_INTERVAL},
		/* live collection */
		{"listen", required_argument, NULL, SH_LIVE_OPT_LISTEN},
		{"spool", required_argument, NULL, SH_LIVE_OPT_SPOOL},
		{"rotate", required_argument, NULL, SH_LIVE_OPT_ROTATE},
		{"keep", no_argument, NULL, SH_LIVE_OPT_KEEP},
		{"agents", required_argument, NULL, SH_LIVE_OPT_AGENTS},
		{"rcvbuf", required_argument, NULL, SH_LIVE_OPT_RCVBUF},
		{NULL, 0, NULL, 0}
	};
	sh_load_options opt;
	const char *ports_spec = SH_SMTP_DEFAULT_PORTS,
			   *filter = NULL,
			   *asn_db = getenv("SPAMHINTS_ASN_DB"),
			   *country_db = getenv("SPAMHINTS_COUNTRY_DB"),
			   *format = NULL,
			   *timezone = NULL,
			   *host = NULL,
			   *year = NULL,
			   *interval = NULL,
			   *retry = NULL,
			   *retry_wait = NULL;
	sh_live_cli live;
	int			given[N_ONLY] = {0};
	int			c,
				follow = 0,
				help = 0,
				version = 0,
				bad = 0;

	memset(&opt, 0, sizeof(opt));
	memset(&live, 0, sizeof(live));
	opt.progress = -1;
	opt.retry_wait = 1.0;

	/* --help wins over anything else on the line, even options in error */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
	{
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-?") == 0)
			help = 1;
	}
	opterr = !help;
	while ((c = getopt_long(argc, argv, "d:h:p:U:wWo:qV", longopts, NULL)) != -1)
	{
		for (int i = 0; i < N_ONLY; i++)
			if (only[i].val == c)
				given[i] = 1;
		switch (c)
		{
			case 'd':
				opt.conn.dbname = optarg;
				break;
			case 'h':
				opt.conn.host = optarg;
				break;
			case 'p':
				opt.conn.port = optarg;
				break;
			case 'U':
				opt.conn.user = optarg;
				break;
			case 'w':
				opt.conn.password_prompt = -1;
				break;
			case 'W':
				opt.conn.password_prompt = 1;
				break;
			case 'o':
				opt.output = optarg;
				break;
			case OPT_DRY_RUN:
				opt.dry_run = 1;
				break;
			case 'q':
				opt.quiet = 1;
				break;
			case OPT_PROGRESS:
				opt.progress = 1;
				break;
			case OPT_NO_PROGRESS:
				opt.progress = 0;
				break;
			case OPT_RETRY:
				retry = optarg;
				break;
			case OPT_RETRY_WAIT:
				retry_wait = optarg;
				break;
			case 'V':
				version = 1;
				break;
			case OPT_PORTS:
				ports_spec = optarg;
				break;
			case OPT_FILTER:
				filter = optarg;
				break;
			case OPT_ASN_DB:
				asn_db = optarg;
				break;
			case OPT_COUNTRY_DB:
				country_db = optarg;
				break;
			case OPT_MAILLOG:
				format = optarg;
				break;
			case OPT_TIMEZONE:
				timezone = optarg;
				break;
			case OPT_HOST:
				host = optarg;
				break;
			case OPT_YEAR:
				year = optarg;
				break;
			case OPT_FOLLOW:
				follow = 1;
				break;
			case OPT_INTERVAL:
				interval = optarg;
				break;
			default:
				if (sh_live_option(&live, c, optarg))
					break;
				bad = 1;
				break;
		}
	}
	if (help)
	{
		if (format)
			maillog_usage(stdout);
		else if (live.listening)
		{
			sh_live_usage(stdout);
			load_options_usage(stdout);
		}
		else
			usage(stdout);
		return 0;
	}
	if (bad)
	{
		try_help(format != NULL);
		return EXIT_USAGE;
	}
	if (version)
	{
		printf("%s %s\n", SH_PROGNAME, SH_LOADER_VERSION);
		return 0;
	}
	for (int i = 0; i < N_ONLY; i++)
	{
		if (!given[i] || only[i].maillog == (format != NULL))
			continue;
		if (only[i].val == OPT_HOST)
			sh_error("--host is for mail logs (the mail server's name): give it with --maillog=exim or "
					 "--maillog=postfix; the database server's host is -h HOST (--db-host=HOST)");
		else if (only[i].maillog)
			sh_error("%s is for mail logs: give it with --maillog=exim or --maillog=postfix", only[i].name);
		else
			sh_error("%s is for captures: it cannot be used with --maillog", only[i].name);
		try_help(format != NULL);
		return EXIT_USAGE;
	}
	if (retry)
	{
		char	   *end;
		long		n = strtol(retry, &end, 10);

		if (end == retry || *end != '\0' || n < 0 || n > 1000)
		{
			sh_error("bad --retry \"%s\": a number of retries from 0 to 1000", retry);
			return EXIT_USAGE;
		}
		opt.retry = (int) n;
	}
	if (retry_wait)
	{
		char	   *end;
		double		w = strtod(retry_wait, &end);

		if (end == retry_wait || *end != '\0' || !(w >= 0 && w <= 60))
		{
			sh_error("bad --retry-wait \"%s\": seconds from 0 to 60", retry_wait);
			return EXIT_USAGE;
		}
		opt.retry_wait = w;
	}
	if (opt.output && opt.dry_run)
	{
		sh_error("--output and --dry-run cannot be used together");
		return EXIT_USAGE;
	}

	if (sh_live_refuse(&live, format != NULL, filter != NULL, &opt, argc - optind) != 0)
	{
		try_help(format != NULL);
		return EXIT_USAGE;
	}
	if (live.listening)
	{
		sh_ports	ports;
		char		err[1024];

		if (sh_ports_parse(&ports, ports_spec, err, sizeof(err)) != 0)
		{
			sh_error("%s", err);
			return EXIT_USAGE;
		}
		return sh_live_main(&opt, &live, &ports, asn_db, country_db);
	}
	if (format)
		return run_maillogs(&opt, format, year, timezone, host, follow, interval, argv + optind, argc - optind);
	if (optind >= argc)
	{
		sh_error("no capture file given");
		try_help(0);
		return EXIT_USAGE;
	}
	return run_captures(&opt, ports_spec, filter, asn_db, country_db, argv + optind, argc - optind);
}
