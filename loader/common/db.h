/*
 * loader/common/db.h: what every load needs of libpq and of the terminal
 * (load.c, and the pipelines' own SQL).
 */
#ifndef SPAMHINTS_DB_H
#define SPAMHINTS_DB_H

#include <libpq-fe.h>

/* "spamhints-load: error: ..." on standard error */
void		sh_error(const char *fmt,...) __attribute__((format(printf, 1, 2)));

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
 * Connect as psql does (conninfo is a name, a conninfo string or a URI; PG*
 * variables and .pgpass apply), empty the session's search_path (every name
 * the loader uses is schema-qualified) and check that the extension is
 * installed. NULL on failure, message printed; *transient says whether no
 * server answered (yet), so that retrying may help. client_encoding may be
 * NULL (the default).
 */
PGconn	   *sh_connect(const char *conninfo, const char *client_encoding, int *transient);

#endif							/* SPAMHINTS_DB_H */
