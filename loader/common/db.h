/*
 * loader/common/db.h: what every load needs of libpq and of the terminal
 * (load.c, and the pipelines' own SQL).
 */
#ifndef SPAMHINTS_DB_H
#define SPAMHINTS_DB_H

#include <stddef.h>

#include <libpq-fe.h>

/* "spamhints-load: error: ..." on standard error */
void		sh_error(const char *fmt,...) __attribute__((format(printf, 1, 2)));

/*
 * "spamhints-load: error: PATH: REASON" on standard error: why a file cannot
 * be loaded, in one line (as a failed read says it: sh_error("PATH: ...")).
 */
void		sh_file_error(const char *path, const char *reason);

/* seconds on a monotonic clock */
double		sh_now(void);

/* run a command; 1 when it succeeded, else 0 with the server's message printed */
int			sh_exec_ok(PGconn *conn, const char *sql);

/*
 * Print the server's message for a failed result and remember its SQLSTATE
 * for sh_db_hint() (res may be NULL: the connection's message, no SQLSTATE).
 */
void		sh_db_error(PGconn *conn, const PGresult *res);

/* The SQLSTATE of the last failure sh_db_error() printed ("" if none), and forgetting it. */
const char *sh_db_sqlstate(void);
void		sh_db_forget(void);

/*
 * After a failed load of what (a file's path): the hint that can help, by
 * the last SQLSTATE. Only what a retry can cure (a lost connection, a
 * serialization failure or deadlock, a server shutting down or short of
 * resources) says to run the command again; a missing privilege names the
 * grant; other errors (bad data, a constraint) only say nothing was kept.
 */
void		sh_db_hint(PGconn *conn, const char *what);

/* end a COPY (errmsg non-NULL: abort it); 0 or -1 with the message printed */
int			sh_db_copy_end(PGconn *conn, const char *errmsg);

/*
 * Where to connect, as psql takes it: dbname (-d) is a database name, a
 * conninfo string or a URI; host, port and user (-h, -p, -U) may be NULL.
 * As in psql and pg_dump, a conninfo string or URI given as dbname wins over
 * -h, -p and -U (libpq's expand_dbname: its values override the keywords
 * before it); PG* variables and ~/.pgpass fill in what neither gives.
 */
typedef struct sh_conn_params
{
	const char *dbname;
	const char *host;
	const char *port;
	const char *user;
	/*
	 * 1 (-W): ask for the password on the terminal before connecting; -1
	 * (-w): never ask; 0: ask when the server wants one that libpq does not
	 * have, if standard input is a terminal.
	 */
	int			password_prompt;
} sh_conn_params;

/*
 * Connect (asking for a password as password_prompt says, once: later
 * connections, after --retry, reuse it), empty the session's search_path
 * (every name the loader uses is schema-qualified) and check that the
 * extension is installed. NULL on failure, message printed; *transient
 * says whether no server answered (yet), so that retrying may help.
 * client_encoding may be NULL (the default).
 */
PGconn	   *sh_connect(const sh_conn_params *cp, const char *client_encoding, int *transient);

/*
 * Ask for a password on the terminal (/dev/tty), without echo: the line
 * read, without its newline, into buf. 0, or -1 with the reason in buf when
 * there is no terminal.
 */
int			sh_prompt_password(const char *prompt, char *buf, size_t len);

#endif							/* SPAMHINTS_DB_H */
