/*
 * loader/live/live.h: spamhints-load --listen, the live sFlow collector.
 *
 * The collector receives sFlow datagrams over UDP (IPv4 and IPv6, batched
 * with recvmmsg, kernel receive times, a large socket buffer), appends each
 * one as received to a spool file (spool.h: pcapng, the evidence, as a
 * capture would be) and, at each rotation, closes the file and loads it
 * through the capture pipeline (capture_pipeline.h) like any other capture:
 * one load, one transaction, the duplicate check by SHA-256. Loading runs
 * in a thread of its own, so that receiving never waits for the database.
 *
 * A spool file is written as NAME.pcapng.part and renamed NAME.pcapng once
 * closed and flushed to disk. On start, a .part that no running collector
 * holds (a crash) is cut after its last whole block and closed; every
 * closed file is loaded, oldest first. A file is removed (or with --keep
 * moved to DIR/loaded/) only once its load committed; a load that failed
 * for the database is tried again at the next rotation; a file that cannot
 * be read as a capture is renamed NAME.pcapng.failed and kept.
 *
 * What the collector counts per file (datagrams received, refused for
 * --agents, dropped by the kernel at the socket) goes into the file's
 * closing Interface Statistics Block and, with its load, into its row of
 * spamhints.load (collector, received, refused, kernel_dropped, recovered).
 */
#ifndef SPAMHINTS_LIVE_H
#define SPAMHINTS_LIVE_H

#include "capture_pipeline.h"
#include "load.h"

#define SH_LIVE_MAX_LISTEN	16
#define SH_LIVE_DEFAULT_PORT "6343"
#define SH_LIVE_DEFAULT_ROTATE 60.0
#define SH_LIVE_DEFAULT_RCVBUF (32L << 20)

/* What the command line says of the collector. */
typedef struct sh_live_options
{
	const char *listen[SH_LIVE_MAX_LISTEN];	/* "[ADDR:]PORT" each */
	int			nlisten;
	const char *spool;			/* the spool directory */
	double		rotate;			/* seconds a spool file stays open */
	int			keep;			/* keep loaded files in spool/loaded/ */
	const char *agents;			/* "NET,...": the senders whose datagrams are kept; NULL: all */
	long		rcvbuf;			/* socket receive buffer, bytes */
	const char *asn_db;			/* the enrichment databases, reopened on SIGHUP */
	const char *country_db;
} sh_live_options;

/* The command line's part (live_cli.c): getopt values past any character. */
#define SH_LIVE_OPT_LISTEN	0x200
#define SH_LIVE_OPT_SPOOL	0x201
#define SH_LIVE_OPT_ROTATE	0x202
#define SH_LIVE_OPT_KEEP	0x203
#define SH_LIVE_OPT_AGENTS	0x204
#define SH_LIVE_OPT_RCVBUF	0x205

/* The collector's options as given. */
typedef struct sh_live_cli
{
	int			listening;		/* --listen given */
	int			given;			/* an option of the collector given (but --listen) */
	const char *given_name;
	sh_live_options lopt;
	const char *rotate;
	const char *rcvbuf;
	int			too_many;		/* more than SH_LIVE_MAX_LISTEN --listen */
} sh_live_cli;

/* One option of the collector (getopt value c): 1 when it is one, else 0. */
int			sh_live_option(sh_live_cli *cli, int c, const char *arg);

/*
 * The options of the other modes given with --listen (--maillog, --filter,
 * -o, --dry-run, files), or the collector's without it: -1 with the reason
 * printed, else 0.
 */
int			sh_live_refuse(const sh_live_cli *cli, int maillog, int filter, const sh_load_options *opt,
						   int nfiles);

void		sh_live_usage(FILE *f);

/* Check the collector's own values and run it: the exit code. */
int			sh_live_main(const sh_load_options *opt, sh_live_cli *cli, const sh_ports *ports,
						 const char *asn_db, const char *country_db);

/*
 * Collect until SIGTERM or SIGINT, then load the last file. ports and the
 * databases as for captures. Returns the exit code: 0 when every spool file
 * was loaded, EXIT_DATABASE when one is left for the next start,
 * EXIT_USAGE or EXIT_INPUT when the collector could not start.
 */
int			sh_live_run(const sh_load_options *opt, const sh_live_options *lopt, const sh_ports *ports);

#endif							/* SPAMHINTS_LIVE_H */
