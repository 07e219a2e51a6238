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
