/*
 * loader/common/db.c: libpq and terminal helpers shared by the pipelines (db.h).
 */
#include "db.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "load.h"

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

int
sh_exec_ok(PGconn *conn, const char *sql)
{
	PGresult   *res = PQexec(conn, sql);
	int			ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		sh_error("%s", PQerrorMessage(conn));
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
		sh_error("%s", PQerrorMessage(conn));
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
