/*
 * loader/common/db.c: libpq and terminal helpers shared by the pipelines (db.h).
 */
#include "db.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "load.h"

/* The SQLSTATE of the last failure printed, for sh_db_hint(). */
static char last_sqlstate[6];

void
sh_error(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "%s: error: ", SH_PROGNAME);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

double
sh_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

void
sh_db_error(PGconn *conn, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : "";

	snprintf(last_sqlstate, sizeof(last_sqlstate), "%s", state ? state : "");
	sh_error("%s", msg[0] ? msg : PQerrorMessage(conn));
}

const char *
sh_db_sqlstate(void)
{
	return last_sqlstate;
}

void
sh_db_forget(void)
{
	last_sqlstate[0] = '\0';
}

/* Would the same load, run again, succeed where this one failed? */
static int
retry_may_help(PGconn *conn, const char *state)
{
	if (PQstatus(conn) != CONNECTION_OK)
		return 1;				/* the connection was lost */
	return strncmp(state, "08", 2) == 0 ||	/* connection exception */
		strncmp(state, "40", 2) == 0 ||	/* serialization failure, deadlock */
		strncmp(state, "53", 2) == 0 ||	/* out of disk, memory, connections */
		strncmp(state, "57P0", 4) == 0 ||	/* admin or crash shutdown, cannot connect now */
		strcmp(state, "55P03") == 0 ||	/* lock not available */
		strcmp(state, "57014") == 0;	/* canceled (statement_timeout, pg_cancel_backend) */
}

void
sh_db_hint(PGconn *conn, const char *what)
{
	const char *state = last_sqlstate;

	if (retry_may_help(conn, state))
		fprintf(stderr, "%s: hint: nothing of %s was kept; run the same command again to load it\n",
				SH_PROGNAME, what);
	else if (strcmp(state, "42501") == 0)
		fprintf(stderr, "%s: hint: nothing of %s was kept; the role \"%s\" may not load: "
				"a superuser or the extension's owner runs GRANT spamhints_loader TO %s;\n",
				SH_PROGNAME, what, PQuser(conn), PQuser(conn));
	else if (state[0] == '\0')
		fprintf(stderr, "%s: hint: nothing of %s was kept\n", SH_PROGNAME, what);
	else
		fprintf(stderr, "%s: hint: nothing of %s was kept; the same command would fail the same way%s\n",
				SH_PROGNAME, what,
				strncmp(state, "22", 2) == 0 ? ": the server refused a value of the file" :
				strncmp(state, "23", 2) == 0 ? ": a constraint of the database refused a row" :
				strcmp(state, "0A000") == 0 ? ": the server does not support what the load needs" : "");
}

int
sh_exec_ok(PGconn *conn, const char *sql)
{
	PGresult   *res = PQexec(conn, sql);
	int			ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		sh_db_error(conn, res);
	PQclear(res);
	return ok;
}

int
sh_db_copy_end(PGconn *conn, const char *errmsg)
{
	PGresult   *res;
	int			ok;

	if (PQputCopyEnd(conn, errmsg) != 1)
	{
		sh_error("%s", PQerrorMessage(conn));
		return -1;
	}
	res = PQgetResult(conn);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok && errmsg == NULL)
		sh_db_error(conn, res);
	PQclear(res);
	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
	return ok ? 0 : -1;
}

PGconn *
sh_connect(const char *conninfo, const char *client_encoding, int *transient)
{
	const char *keys[] = {"dbname", "fallback_application_name", "client_encoding", NULL};
	const char *vals[] = {conninfo, SH_PROGNAME, client_encoding, NULL};
	PGconn	   *conn = PQconnectdbParams(keys, vals, 1);
	PGresult   *res;

	*transient = 0;
	if (PQstatus(conn) != CONNECTION_OK)
	{
		PGPing		ping = PQpingParams(keys, vals, 1);

		sh_error("cannot connect to the database: %s", PQerrorMessage(conn));
		/* no server there (yet), or one starting up, shutting down, recovering */
		*transient = ping == PQPING_NO_RESPONSE || ping == PQPING_REJECT;
		PQfinish(conn);
		return NULL;
	}
	/*
	 * An empty search_path keeps objects that others created in a schema of
	 * the path from standing in for pg_catalog's (as pg_dump does).
	 */
	res = PQexec(conn, "SELECT pg_catalog.set_config('search_path', '', false)");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		sh_error("%s", PQerrorMessage(conn));
		PQclear(res);
		PQfinish(conn);
		return NULL;
	}
	PQclear(res);
	res = PQexec(conn, "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'spamhints'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		if (PQresultStatus(res) == PGRES_TUPLES_OK)
			sh_error("the extension spamhints is not installed in database \"%s\": run CREATE EXTENSION spamhints; there first",
					 PQdb(conn));
		else
			sh_error("%s", PQerrorMessage(conn));
		PQclear(res);
		PQfinish(conn);
		return NULL;
	}
	PQclear(res);
	return conn;
}
