/*
 * loader/common/load.h: one load, whatever the input (a capture, a mail log).
 *
 * A file is loaded in one transaction: BEGIN, a row in the pipeline's load
 * table (INSERT ... RETURNING its id), COPY of the rows the pipeline reads
 * from the file, what the pipeline adds at the end, then the counts and the
 * file's SHA-256 in the load row. sha256 is unique (with the pipeline's
 * duplicate_column, when it has one): a file loaded before fails that
 * UPDATE (SQLSTATE 23505), the transaction is rolled back and the
 * file adds nothing. A load that fails otherwise is rolled back too. This
 * module also owns what goes around a load: connecting (and reconnecting,
 * with --retry), the COPY stream's way out (the server, -o FILE, or nowhere
 * for --dry-run), the progress bar, the summary line and the exit codes.
 *
 * A pipeline says what is its own in an sh_pipeline: its load table and SQL,
 * how it reads a file into rows, what its summary says.
 */
#ifndef SPAMHINTS_LOAD_H
#define SPAMHINTS_LOAD_H

#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "db.h"
#include "pgcopy.h"
#include "sender.h"

#define SH_LOADER_VERSION "0.1.0"
#define SH_PROGNAME "spamhints-load"

/* Exit codes, as --help documents them. */
#define EXIT_USAGE		1
#define EXIT_INPUT		2
#define EXIT_DATABASE	3

/* The COPY buffer goes to the server once it holds this much. */
#define SH_LOAD_FLUSH_BYTES (1u << 20)

/* What the command line says of every load. */
typedef struct sh_load_options
{
	sh_conn_params conn;		/* where to connect: -d, -h, -p, -U, -W, -w */
	const char *output;			/* write the COPY stream here instead of a database */
	int			dry_run;		/* read only: no database, no output */
	int			quiet;			/* no summary lines, no progress unless asked */
	int			progress;		/* 1, 0, or -1: when stderr is a terminal */
	int			retry;			/* reconnect and load a file again this many times */
	double		retry_wait;		/* seconds before the first retry; doubled each time */
} sh_load_options;

/* The load of one file, as a pipeline sees it. */
typedef struct sh_load
{
	const sh_load_options *opt;
	PGconn	   *conn;			/* NULL: no database (-o, --dry-run) */
	const char *path;			/* as given; "-" is standard input */
	const char *name;			/* for the load row: the path, or "(standard input)" */
	int32_t		id;				/* the load row's id; 0 without a database */
	sh_copy		copy;			/* the pipeline's rows go here */
	char		sha256[65];		/* the pipeline's read() sets both */
	uint64_t	bytes;
	double		started;
	int			show_progress;
	void	   *state;			/* the pipeline's (state_size bytes) */
	/* the load's own */
	const char *count_label;
	sh_sender  *sender;
	FILE	   *out;
	int			send_rc;
	double		last_draw;
	const char *copy_stmt;		/* the COPY ... FROM STDIN the rows go to (NULL: no database) */
} sh_load;

typedef struct sh_pipeline
{
	const char *input;			/* what a file is, in messages: "capture" */
	const char *row_noun;		/* what its load row is called: "load", "mail log" */
	const char *table;			/* the load table: "spamhints.load" */
	const char *id_column;		/* its key: "load_id" */
	const char *client_encoding;	/* NULL: the default */
	const char *count_label;	/* the rows, on the progress bar: "SMTP rows" */
	/*
	 * What makes a load a duplicate besides the hash (may be NULL): a column
	 * of the load table, unique with sha256, and its value for this load
	 * (a mail log's format: the same file read as another format is another
	 * load).
	 */
	const char *duplicate_column;
	const char *(*duplicate_value) (const sh_load *ld);

	/* In the order a load calls them; the hooks that may be NULL say so. */

	/* The size of the pipeline's state for a load: ld->state, zeroed, freed after close(). */
	size_t		state_size;
	/* Open ld->path: 0, or EXIT_INPUT with the message printed. */
	int			(*open) (const void *config, sh_load *ld);
	/* The load row's columns besides file_name and loader_version, which load.c fills. */
	const char *insert_columns;
	/* Their values, into values[0..]; returns how many. */
	int			(*insert_values) (const sh_load *ld, const char **values);
	/* In the transaction, after the INSERT (may be NULL): 0, or -1 printed. */
	int			(*prepare) (sh_load *ld);
	const char *(*copy_sql) (const sh_load *ld);
	/* Read the file into rows (sh_load_flush() as they pile up), set ld->sha256 and ld->bytes: 0 or an exit code. */
	int			(*read) (sh_load *ld);
	/*
	 * After read(), before anything is kept (may be NULL): 0, or an exit
	 * code with its one-line reason printed; then the load is rolled back
	 * and nothing is recorded (a file that is not what the pipeline reads).
	 */
	int			(*check) (sh_load *ld);
	/* After the COPY, before the UPDATE (may be NULL): 0, or -1 printed. */
	int			(*after_copy) (sh_load *ld);
	/* The counts the load row gets at the end, "col = $4, ...", from $4 on (load.c sets sha256, file_bytes, finished_at). */
	const char *update_set;
	/* Their values, into values[0..]; returns how many. */
	int			(*update_values) (const sh_load *ld, const char **values);
	/*
	 * After the load committed (may be NULL): a statement that tidies up
	 * (the capture pipeline: spamhints.maintain_partitions()). Its failure
	 * is a warning: the load is kept.
	 */
	const char *after_commit_sql;
	/* The summary line after "spamhints-load: FILE: load N: ", without its newline: one line a file. */
	void		(*summary) (const sh_load *ld, FILE *f, double seconds);
	/* Free what ld->state holds (also after a failed load, or a failed open). */
	void		(*close) (sh_load *ld);
} sh_pipeline;

/* Hand the rows to the COPY stream: 0, or the exit code (the message printed). */
int			sh_load_send(sh_load *ld);

/*
 * In the middle of the COPY, one statement of the load's transaction: the
 * rows in ld->copy before keep_from go out and the COPY ends, sql runs with
 * its one parameter (it must return rows), then the COPY starts again with
 * the rows from keep_from on. The same transaction: the load stays all or
 * nothing. Without a database (-o, --dry-run) nothing happens: the stream
 * stays one COPY. 0, or the exit code (the message printed).
 */
int			sh_load_between_copies(sh_load *ld, size_t keep_from, const char *sql, const char *param);

/*
 * The same with nparams parameters, the statement's result handed to the
 * caller in *res (PQclear it; NULL without a database: nothing was run).
 */
int			sh_load_between_copies_res(sh_load *ld, size_t keep_from, const char *sql, int nparams,
									   const char *const *params, PGresult **res);

/* Hand them over once there are enough. */
static inline int
sh_load_flush(sh_load *ld)
{
	return ld->copy.len < SH_LOAD_FLUSH_BYTES && ld->send_rc == 0 ? 0 : sh_load_send(ld);
}

/*
 * The counts[0..n) that are not 0 as a JSON object, {"name": count, ...},
 * for the load row's skipped and the summary line.
 */
void		sh_load_counts_json(char *buf, size_t len, const uint64_t *counts, int n,
								const char *(*name) (int i));

/* The progress bar: done of size bytes (size 0: unknown), count rows. */
void		sh_load_progress(sh_load *ld, uint64_t done, uint64_t size, uint64_t count);
/* Clear it, at the end of the file. */
void		sh_load_progress_end(sh_load *ld);

/*
 * Load each file with the pipeline pl and its config (what the command line
 * says for it): connect (or open the output), load the files one by one. Returns the exit code: 0, or the worst of the files'.
 */
int			sh_load_files(const sh_load_options *opt, const sh_pipeline *pl, const void *config,
						  char *const *files, int nfiles);

#endif							/* SPAMHINTS_LOAD_H */
