/*
 * loader/common/db.c: libpq and terminal helpers shared by the pipelines (db.h).
 */
#include "db.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <termios.h>
#include <unistd.h>

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

void
sh_file_error(const char *path, const char *reason)
{
	fprintf(stderr, "%s: error: %s: %s\n", SH_PROGNAME, path, reason);
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

int
sh_prompt_password(const char *prompt, char *buf, size_t len)
{
	FILE	   *tty = fopen("/dev/tty", "r+");
	struct termios old,
				quiet;
	int			echo_off = 0;
	size_t		n;

	if (tty == NULL)
	{
		snprintf(buf, len, "no terminal to ask on (/dev/tty: %s)", strerror(errno));
		return -1;
	}
	/* echo off before the prompt shows: what is typed after it is never echoed */
	if (tcgetattr(fileno(tty), &old) == 0)
	{
		quiet = old;
		quiet.c_lflag &= (tcflag_t) ~ECHO;
		quiet.c_lflag |= ECHONL;
		echo_off = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
	}
	fputs(prompt, tty);
	fflush(tty);
	if (fgets(buf, (int) len, tty) == NULL)
		buf[0] = '\0';
	if (echo_off)
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	else
		fputc('\n', tty);
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	fclose(tty);
	return 0;
}

/* The password asked for, kept for the reconnections of --retry. */
static char password[1024];
static int	have_password;

/* Connect with what the command line says, and the password if one was asked for. */
static PGconn *
connect_params(const sh_conn_params *cp, const char *client_encoding, int ping, PGPing *pingp)
{
	const char *keys[8],
			   *vals[8];
	int			n = 0;

	/* in psql's order: a conninfo string or URI in dbname overrides the keywords before it */
	keys[n] = "host", vals[n++] = cp->host;
	keys[n] = "port", vals[n++] = cp->port;
	keys[n] = "user", vals[n++] = cp->user;
	keys[n] = "password", vals[n++] = have_password ? password : NULL;
	keys[n] = "dbname", vals[n++] = cp->dbname;
	keys[n] = "fallback_application_name", vals[n++] = SH_PROGNAME;
	keys[n] = "client_encoding", vals[n++] = client_encoding;
	keys[n] = NULL, vals[n] = NULL;
	if (ping)
	{
		*pingp = PQpingParams(keys, vals, 1);
		return NULL;
	}
	return PQconnectdbParams(keys, vals, 1);
}

/* Ask for the password: 0, or -1 printed. */
static int
ask_password(const char *user)
{
	char		prompt[256];

	if (user && *user)
		snprintf(prompt, sizeof(prompt), "Password for user %s: ", user);
	else
		snprintf(prompt, sizeof(prompt), "Password: ");
	if (sh_prompt_password(prompt, password, sizeof(password)) != 0)
	{
		sh_error("cannot ask for the password: %s", password);
		password[0] = '\0';
		return -1;
	}
	have_password = 1;
	return 0;
}

PGconn *
sh_connect(const sh_conn_params *cp, const char *client_encoding, int *transient)
{
	PGconn	   *conn;
	PGresult   *res;

	*transient = 0;
	if (cp->password_prompt > 0 && !have_password && ask_password(cp->user) != 0)
		return NULL;
	conn = connect_params(cp, client_encoding, 0, NULL);
	/* the server wants a password that libpq does not have: ask, as psql does */
	if (PQstatus(conn) == CONNECTION_BAD && PQconnectionNeedsPassword(conn) && !have_password &&
		cp->password_prompt == 0 && isatty(STDIN_FILENO))
	{
		char		user[256];

		snprintf(user, sizeof(user), "%s", PQuser(conn) ? PQuser(conn) : "");
		PQfinish(conn);
		if (ask_password(user) != 0)
			return NULL;
		conn = connect_params(cp, client_encoding, 0, NULL);
	}
	if (PQstatus(conn) != CONNECTION_OK)
	{
		PGPing		ping;
		int			needs = PQconnectionNeedsPassword(conn);

		connect_params(cp, client_encoding, 1, &ping);
		sh_error("cannot connect to the database: %s", PQerrorMessage(conn));
		if (needs && cp->password_prompt < 0)
			fprintf(stderr, "%s: hint: the server asks for a password and -w says not to ask for one: "
					"put it in ~/.pgpass (or PGPASSWORD), or leave out -w\n", SH_PROGNAME);
		else if (needs && !isatty(STDIN_FILENO))
			fprintf(stderr, "%s: hint: the server asks for a password and standard input is not a terminal: "
					"put it in ~/.pgpass (or PGPASSWORD), or give -W to be asked on the terminal\n", SH_PROGNAME);
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
