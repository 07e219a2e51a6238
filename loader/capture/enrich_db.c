/*
 * loader/capture/enrich_db.c: spamhints.asn and spamhints.load.enrichment at
 * the end of a load (enrich_db.h).
 */
#include "enrich_db.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "load.h"

/* A JSON string (RFC 8259 escapes); NULL is JSON null. */
static void
sb_json(sh_buf *b, const char *s)
{
	if (s == NULL)
	{
		sh_buf_str(b, "null");
		return;
	}
	sh_buf_put(b, "\"", 1);
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;
		char		esc[8];

		if (c == '"' || c == '\\')
		{
			esc[0] = '\\';
			esc[1] = (char) c;
			sh_buf_put(b, esc, 2);
		}
		else if (c < 0x20)
		{
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			sh_buf_put(b, esc, 6);
		}
		else
			sh_buf_put(b, (const char *) &c, 1);
	}
	sh_buf_put(b, "\"", 1);
}

/* The metadata of one file as a JSON object: what spamhints.enrichment_databases() shows. */
static void
sb_metadata(sh_buf *b, const sh_mmdb *db)
{
	const MMDB_metadata_s *m = &db->mmdb.metadata;
	time_t		built = (time_t) m->build_epoch;
	struct tm	tm;
	char		text[64];
	const char *description = NULL;

	sh_buf_str(b, "{\"file\": ");
	sb_json(b, db->path);
	sh_buf_str(b, ", \"database_type\": ");
	sb_json(b, m->database_type);
	sh_buf_str(b, ", \"ip_version\": ");
	sh_buf_u64(b, m->ip_version);
	sh_buf_str(b, ", \"record_size\": ");
	sh_buf_u64(b, m->record_size);
	sh_buf_str(b, ", \"node_count\": ");
	sh_buf_u64(b, m->node_count);
	snprintf(text, sizeof(text), "%u.%u", m->binary_format_major_version, m->binary_format_minor_version);
	sh_buf_str(b, ", \"binary_format\": ");
	sb_json(b, text);
	sh_buf_str(b, ", \"build_epoch\": ");
	sh_buf_u64(b, m->build_epoch);
	gmtime_r(&built, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	sh_buf_str(b, ", \"built\": ");
	sb_json(b, text);
	sh_buf_str(b, ", \"languages\": [");
	for (size_t i = 0; i < m->languages.count; i++)
	{
		if (i)
			sh_buf_str(b, ", ");
		sb_json(b, m->languages.names[i]);
	}
	sh_buf_str(b, "], \"description\": ");
	for (size_t i = 0; i < m->description.count; i++)
	{
		const MMDB_description_s *d = m->description.descriptions[i];

		if (description == NULL || (d->language && strcmp(d->language, "en") == 0))
			description = d->description;
	}
	sb_json(b, description);
	sh_buf_str(b, "}");
}

static int
exec_ok(PGconn *conn, PGresult *res, char *err, size_t errlen)
{
	int			ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		snprintf(err, errlen, "%s", PQerrorMessage(conn));
	PQclear(res);
	return ok ? 0 : -1;
}

int
sh_enrich_db_finish(PGconn *conn, const sh_enrich *e, int32_t load_id, char *err, size_t errlen)
{
	sh_buf		asns = {0},
				orgs = {0},
				json = {0};
	char		id[16];
	const char *values[2];
	int			rc = -1;

	/* the AS names as two array literals: {15169,...} and {"Google Inc.",NULL,...} */
	sh_buf_str(&asns, "{");
	sh_buf_str(&orgs, "{");
	for (uint32_t i = 0, n = 0; i <= e->names_mask && e->names; i++)
	{
		const sh_as_name *a = &e->names[i];

		if (!a->used)
			continue;
		if (n++)
		{
			sh_buf_str(&asns, ",");
			sh_buf_str(&orgs, ",");
		}
		sh_buf_u64(&asns, a->asn);
		if (a->org == NULL)
		{
			sh_buf_str(&orgs, "NULL");
			continue;
		}
		sh_buf_put(&orgs, "\"", 1);
		for (uint32_t k = 0; k < a->org_len; k++)
		{
			if (a->org[k] == '"' || a->org[k] == '\\')
				sh_buf_put(&orgs, "\\", 1);
			sh_buf_put(&orgs, a->org + k, 1);
		}
		sh_buf_put(&orgs, "\"", 1);
	}
	sh_buf_str(&asns, "}");
	sh_buf_str(&orgs, "}");

	sh_buf_str(&json, "{");
	if (e->asn.open)
	{
		sh_buf_str(&json, "\"asn\": ");
		sb_metadata(&json, &e->asn);
		sh_buf_str(&json, ", ");
	}
	if (e->country.open)
	{
		sh_buf_str(&json, "\"country\": ");
		sb_metadata(&json, &e->country);
		sh_buf_str(&json, ", ");
	}
	sh_buf_str(&json, "\"by\": \"" SH_PROGNAME "\", \"lookups\": ");
	sh_buf_u64(&json, e->lookups);
	sh_buf_str(&json, ", \"searches\": ");
	sh_buf_u64(&json, e->searches);
	sh_buf_str(&json, ", \"ases\": ");
	sh_buf_u64(&json, e->names_n);
	sh_buf_str(&json, "}");

	if (asns.oom || orgs.oom || json.oom)
	{
		snprintf(err, errlen, "out of memory");
		goto done;
	}

	/*
	 * The names are UTF-8 whatever the database's encoding; in AS order, so
	 * that concurrent loads lock the rows of spamhints.asn in the same order.
	 */
	if (exec_ok(conn, PQexec(conn, "SET LOCAL client_encoding = 'UTF8'"), err, errlen) != 0)
		goto done;
	if (e->names_n > 0)
	{
		values[0] = sh_buf_text(&asns);
		values[1] = sh_buf_text(&orgs);
		if (exec_ok(conn, PQexecParams(conn,
									   "INSERT INTO spamhints.asn AS a (asn, org) "
									   "SELECT * FROM unnest($1::bigint[], $2::text[]) AS t(asn, org) ORDER BY asn "
									   "ON CONFLICT (asn) DO UPDATE SET org = EXCLUDED.org "
									   "WHERE EXCLUDED.org IS NOT NULL AND a.org IS DISTINCT FROM EXCLUDED.org",
									   2, NULL, values, NULL, NULL, 0), err, errlen) != 0)
			goto done;
	}
	snprintf(id, sizeof(id), "%d", load_id);
	values[0] = id;
	values[1] = sh_buf_text(&json);
	if (exec_ok(conn, PQexecParams(conn,
								   "UPDATE spamhints.load SET enrichment = $2::jsonb WHERE load_id = $1",
								   2, NULL, values, NULL, NULL, 0), err, errlen) != 0)
		goto done;
	rc = 0;

done:
	sh_buf_free(&asns);
	sh_buf_free(&orgs);
	sh_buf_free(&json);
	return rc;
}
