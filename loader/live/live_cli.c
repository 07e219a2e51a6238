/*
 * loader/live/live_cli.c: the command line of spamhints-load --listen
 * (live.h): its options, which main.c's single parser hands over, the
 * options of other modes it refuses, its help.
 */
#include "live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

int
sh_live_option(sh_live_cli *cli, int c, const char *arg)
{
	static const char *const names[] = {"--listen", "--spool", "--rotate", "--keep", "--agents", "--rcvbuf"};

	if (c < SH_LIVE_OPT_LISTEN || c > SH_LIVE_OPT_RCVBUF)
		return 0;
	if (c != SH_LIVE_OPT_LISTEN && !cli->given)
	{
		cli->given = 1;
		cli->given_name = names[c - SH_LIVE_OPT_LISTEN];
	}
	switch (c)
	{
		case SH_LIVE_OPT_LISTEN:
			cli->listening = 1;
			if (cli->lopt.nlisten < SH_LIVE_MAX_LISTEN)
				cli->lopt.listen[cli->lopt.nlisten++] = arg;
			else
				cli->too_many = 1;
			break;
		case SH_LIVE_OPT_SPOOL:
			cli->lopt.spool = arg;
			break;
		case SH_LIVE_OPT_ROTATE:
			cli->rotate = arg;
			break;
		case SH_LIVE_OPT_KEEP:
			cli->lopt.keep = 1;
			break;
		case SH_LIVE_OPT_AGENTS:
			cli->lopt.agents = arg;
			break;
		case SH_LIVE_OPT_RCVBUF:
			cli->rcvbuf = arg;
			break;
	}
	return 1;
}

int
sh_live_refuse(const sh_live_cli *cli, int maillog, int filter, const sh_load_options *opt, int nfiles)
{
	const char *what = NULL;

	if (!cli->listening)
	{
		if (!cli->given)
			return 0;
		sh_error("%s is for live collection: give it with --listen", cli->given_name);
		return -1;
	}
	if (maillog)
		what = "--maillog";
	else if (filter)
		what = "--filter (a spool file holds only what the sockets received)";
	else if (opt->output)
		what = "-o/--output";
	else if (opt->dry_run)
		what = "--dry-run";
	if (what)
	{
		sh_error("%s cannot be used with --listen", what);
		return -1;
	}
	if (nfiles > 0)
	{
		sh_error("--listen takes no capture file: load files without --listen");
		return -1;
	}
	return 0;
}

void
sh_live_usage(FILE *f)
{
	fprintf(f,
			"%s --listen collects sFlow datagrams live into spool files and loads them.\n"
			"\n"
			"Usage:\n"
			"  %s --listen=[ADDR:]PORT --spool=DIR [OPTION]...\n"
			"\n"
			"Receives sFlow over UDP (PORT alone: every IPv6 and IPv4 address), appends each\n"
			"datagram as received to a pcapng spool file in DIR and, at each rotation, loads\n"
			"the closed file as a capture: one load, in one transaction. SIGTERM or SIGINT:\n"
			"the last file is closed and loaded, then exit. SIGHUP: the enrichment databases\n"
			"are opened again. On start, spool files not loaded yet are loaded first.\n"
			"\n"
			"Options:\n"
			"  -d, --dbname=CONNINFO  database to load into, as psql takes it\n"
			"      --listen=[ADDR:]PORT  where to receive (default port %s); again for more\n"
			"                         addresses; sockets share a port (SO_REUSEPORT), each\n"
			"                         datagram reaching one of them\n"
			"      --spool=DIR        where the spool files are written (made when missing)\n"
			"      --rotate=SECS      seconds a spool file stays open (default %.0f)\n"
			"      --keep             move loaded spool files to DIR/loaded/ (default: removed\n"
			"                         once their load committed)\n"
			"      --agents=NET,...   keep only datagrams from these senders (ADDRESS or\n"
			"                         ADDRESS/BITS); the others are counted, not loaded\n"
			"      --rcvbuf=BYTES     socket receive buffer (default %ld)\n"
			"      --ports=LIST       SMTP ports, comma-separated (default: 25)\n"
			"      --asn-db=FILE      as for captures (reopened on SIGHUP)\n"
			"      --country-db=FILE  as for captures (reopened on SIGHUP)\n",
			SH_PROGNAME, SH_PROGNAME, SH_LIVE_DEFAULT_PORT, SH_LIVE_DEFAULT_ROTATE, SH_LIVE_DEFAULT_RCVBUF);
	fprintf(f, "\nExit status: 0 stopped with every spool file loaded, 1 bad command line,\n"
			"2 a socket, the spool directory or a database file failed, 3 stopped with a\n"
			"spool file not loaded (a database error): it is loaded at the next start.\n\n");
}

int
sh_live_main(const sh_load_options *opt, sh_live_cli *cli, const sh_ports *ports,
			 const char *asn_db, const char *country_db)
{
	sh_live_options *lopt = &cli->lopt;

	if (cli->too_many)
	{
		sh_error("at most %d --listen", SH_LIVE_MAX_LISTEN);
		return EXIT_USAGE;
	}
	if (lopt->spool == NULL || lopt->spool[0] == '\0')
	{
		sh_error("--listen needs --spool=DIR, where the datagrams are kept until they are loaded");
		return EXIT_USAGE;
	}
	lopt->rotate = SH_LIVE_DEFAULT_ROTATE;
	if (cli->rotate)
	{
		char	   *end;
		double		r = strtod(cli->rotate, &end);

		if (end == cli->rotate || *end || !(r >= 0.1 && r <= 86400))
		{
			sh_error("bad --rotate \"%s\": seconds from 0.1 to 86400", cli->rotate);
			return EXIT_USAGE;
		}
		lopt->rotate = r;
	}
	lopt->rcvbuf = SH_LIVE_DEFAULT_RCVBUF;
	if (cli->rcvbuf)
	{
		char	   *end;
		long		b = strtol(cli->rcvbuf, &end, 10);

		if (end == cli->rcvbuf || *end || b < 1024 || b > 1073741823L)
		{
			sh_error("bad --rcvbuf \"%s\": bytes from 1024 to 1073741823", cli->rcvbuf);
			return EXIT_USAGE;
		}
		lopt->rcvbuf = b;
	}
	lopt->asn_db = asn_db;
	lopt->country_db = country_db;
	return sh_live_run(opt, lopt, ports);
}
