/*
 * extension/enrich.c: AS numbers, AS names and countries in SQL.
 *
 *   asn(inet), as_org(inet)   from the file named by spamhints.asn_db
 *   country(inet)             from the file named by spamhints.country_db
 *   enrichment_databases()    the settings and their files' metadata
 *
 * The files are MaxMind DB databases (GeoLite2-ASN and -Country, DB-IP's
 * and IPinfo's files in the same format) read with libmaxminddb; what is
 * read from a record is shared with the loader (extension/shared/mmdb_fields.h), so
 * that SQL and spamhints-load give the same answers.
 *
 * Each backend maps each file once. Whether the setting or the file has
 * changed (a new release moved into place, as geoipupdate does) is checked
 * once per statement, by one stat(): a statement sees one version of a
 * file from its start to its end, and a row costs no system call. Answers
 * are cached by address in a small direct-mapped table per file, emptied
 * when the file is reopened. The settings are PGC_SUSET: only superusers
 * choose which files the server reads.
 */
#include "postgres.h"

#include <sys/stat.h>
#include <netinet/in.h>

#include <maxminddb.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inet.h"
#include "utils/timestamp.h"

#include "spamhints.h"
#include "shared/mmdb_fields.h"

PG_FUNCTION_INFO_V1(spamhints_asn);
PG_FUNCTION_INFO_V1(spamhints_as_org);
PG_FUNCTION_INFO_V1(spamhints_country);
PG_FUNCTION_INFO_V1(spamhints_enrichment_databases);

/* 4096 slots per file: the addresses a statement keeps coming back to. */
#define ENRICH_CACHE_SLOTS 4096

/* A cached answer for one address. */
typedef struct EnrichSlot
{
	uint64		hi;				/* the address: IPv6 as two big-endian halves, IPv4 in lo */
	uint64		lo;
	uint8		family;			/* 0: empty slot, else PGSQL_AF_INET(6) */
	bool		has_asn;
	char		cc[2];			/* cc[0] == 0: no country */
	uint32		org_len;
	int64		asn;
	const char *org;			/* inside the mapped file; NULL: no name */
} EnrichSlot;

/* One setting and the file it names, as this backend has it open. */
typedef struct EnrichDb
{
	const char *setting;		/* "spamhints.asn_db" */
	int			kind;			/* SH_MMDB_ASN or SH_MMDB_COUNTRY */
	char	  **value;			/* the setting's variable */
	bool		open;
	char		path[MAXPGPATH];	/* the setting's value when the file was opened */
	dev_t		dev;			/* and the file's identity then */
	ino_t		ino;
	off_t		size;
	struct timespec mtime;
	TimestampTz checked_stmt;	/* the statement that last checked it */
	uint64		checked_generation; /* setting_generation then */
	MMDB_s		mmdb;
	EnrichSlot *cache;
} EnrichDb;

static char *asn_db_value = NULL;
static char *country_db_value = NULL;

/* Bumped whenever either setting is assigned: the next call rechecks. */
static uint64 setting_generation = 0;

static EnrichDb asn_db = {"spamhints.asn_db", SH_MMDB_ASN, &asn_db_value};
static EnrichDb country_db = {"spamhints.country_db", SH_MMDB_COUNTRY, &country_db_value};

static void
enrich_setting_assigned(const char *newval, void *extra)
{
	setting_generation++;
}

/* Called from _PG_init. */
void
enrich_define_settings(void)
{
	DefineCustomStringVariable("spamhints.asn_db",
							   "ASN database (MaxMind DB format) of spamhints.asn(), as_org() and reenrich().",
							   "The path of a GeoLite2-ASN file, or DB-IP's or IPinfo's ASN file in the same "
							   "format; relative to the data directory. Replace the file by renaming a new one "
							   "over it: each backend notices at its next statement.",
							   &asn_db_value, "", PGC_SUSET, 0, NULL, enrich_setting_assigned, NULL);
	DefineCustomStringVariable("spamhints.country_db",
							   "Country database (MaxMind DB format) of spamhints.country() and reenrich().",
							   "The path of a GeoLite2-Country or -City file, or DB-IP's or IPinfo's file in "
							   "the same format; relative to the data directory.",
							   &country_db_value, "", PGC_SUSET, 0, NULL, enrich_setting_assigned, NULL);
}

static void
enrich_close(EnrichDb *db)
{
	if (db->open)
		MMDB_close(&db->mmdb);
	db->open = false;
	db->path[0] = '\0';
}

/*
 * Make db ready for lookups: the file its setting names, open, the latest
 * version of it. Everything past the first test runs once per statement.
 */
static void
enrich_ready(EnrichDb *db)
{
	TimestampTz stmt = GetCurrentStatementStartTimestamp();
	const char *path = *db->value;
	struct stat st;
	MMDB_s		fresh;
	int			status;
	int			kinds;

	if (db->open && db->checked_stmt == stmt && db->checked_generation == setting_generation)
		return;

	if (path == NULL || path[0] == '\0')
	{
		enrich_close(db);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s is not set", db->setting),
				 errhint("A superuser sets it to the path of %s database in MaxMind DB format, e.g. "
						 "ALTER SYSTEM SET %s = '/var/lib/GeoIP/%s'; SELECT pg_reload_conf();",
						 db->kind == SH_MMDB_ASN ? "an ASN" : "a country",
						 db->setting,
						 db->kind == SH_MMDB_ASN ? "GeoLite2-ASN.mmdb" : "GeoLite2-Country.mmdb")));
	}
	if (stat(path, &st) != 0)
	{
		int			save_errno = errno;

		enrich_close(db);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open MaxMind database \"%s\" (%s): %m", path, db->setting)));
	}
	if (!S_ISREG(st.st_mode))
	{
		enrich_close(db);
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("MaxMind database \"%s\" (%s) is not a regular file", path, db->setting)));
	}
	if (db->open && strcmp(db->path, path) == 0 && db->dev == st.st_dev && db->ino == st.st_ino &&
		db->size == st.st_size && db->mtime.tv_sec == st.st_mtim.tv_sec &&
		db->mtime.tv_nsec == st.st_mtim.tv_nsec)
	{
		db->checked_stmt = stmt;
		db->checked_generation = setting_generation;
		return;
	}

	/* a new setting or a new file: open it before letting the old one go */
	errno = 0;
	status = MMDB_open(path, MMDB_MODE_MMAP, &fresh);
	if (status != MMDB_SUCCESS)
	{
		int			save_errno = errno;

		enrich_close(db);
		if (status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR)
		{
			errno = save_errno;
			ereport(ERROR,
					(save_errno ? errcode_for_file_access() : errcode(ERRCODE_IO_ERROR),
					 errmsg("could not read MaxMind database \"%s\" (%s): %s", path, db->setting,
							save_errno ? strerror(save_errno) : MMDB_strerror(status))));
		}
		if (status == MMDB_OUT_OF_MEMORY_ERROR)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory opening MaxMind database \"%s\"", path)));
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("\"%s\" (%s) is not a valid MaxMind DB file: %s", path, db->setting,
						MMDB_strerror(status))));
	}
	kinds = sh_mmdb_kinds(fresh.metadata.database_type);
	if (kinds != 0 && !(kinds & db->kind))
	{
		char	   *type = pstrdup(fresh.metadata.database_type);

		MMDB_close(&fresh);
		enrich_close(db);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" (%s) is a %s database, not %s database", path, db->setting, type,
						db->kind == SH_MMDB_ASN ? "an ASN" : "a country"),
				 errhint("spamhints.asn_db names an ASN database such as GeoLite2-ASN, "
						 "spamhints.country_db a country or city database.")));
	}

	enrich_close(db);
	if (db->cache == NULL)
		db->cache = MemoryContextAllocZero(TopMemoryContext, ENRICH_CACHE_SLOTS * sizeof(EnrichSlot));
	else
		memset(db->cache, 0, ENRICH_CACHE_SLOTS * sizeof(EnrichSlot));
	db->mmdb = fresh;
	db->open = true;
	strlcpy(db->path, path, sizeof(db->path));
	db->dev = st.st_dev;
	db->ino = st.st_ino;
	db->size = st.st_size;
	db->mtime = st.st_mtim;
	db->checked_stmt = stmt;
	db->checked_generation = setting_generation;
}

static inline uint64
be64(const unsigned char *p)
{
	uint64		v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Look an address up in the file (a cache miss): fill the slot. */
static void
enrich_fill(EnrichDb *db, EnrichSlot *s, inet *ip)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const struct sockaddr *sa;
	MMDB_lookup_result_s r;
	int			merr = MMDB_SUCCESS;
	int			status = MMDB_SUCCESS;

	s->has_asn = false;
	s->cc[0] = s->cc[1] = '\0';
	s->org = NULL;
	s->org_len = 0;
	if (ip_family(ip) == PGSQL_AF_INET6)
	{
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, ip_addr(ip), 16);
		sa = (const struct sockaddr *) &sin6;
	}
	else
	{
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, ip_addr(ip), 4);
		sa = (const struct sockaddr *) &sin;
	}
	r = MMDB_lookup_sockaddr(&db->mmdb, sa, &merr);
	if (merr == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
		return;					/* an IPv4-only file knows no IPv6 address */
	if (merr == MMDB_SUCCESS && r.found_entry)
	{
		if (db->kind == SH_MMDB_ASN)
		{
			int64_t		asn;
			const char *org;
			uint32_t	org_len;

			status = sh_mmdb_asn(&r.entry, &asn, &org, &org_len);
			if (status == MMDB_SUCCESS && asn >= 0)
			{
				s->has_asn = true;
				s->asn = asn;
			}
			if (status == MMDB_SUCCESS)
			{
				s->org = org;
				s->org_len = org_len;
			}
		}
		else
			status = sh_mmdb_country(&r.entry, s->cc);
	}
	if (merr != MMDB_SUCCESS || status != MMDB_SUCCESS)
	{
		s->family = 0;
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("MaxMind database \"%s\" (%s) is corrupt: %s", db->path, db->setting,
						MMDB_strerror(merr != MMDB_SUCCESS ? merr : status))));
	}
}

/* The answer for an address, from the cache or the file. */
static const EnrichSlot *
enrich_lookup(EnrichDb *db, inet *ip)
{
	const unsigned char *a = ip_addr(ip);
	uint8		family = ip_family(ip);
	uint64		hi,
				lo,
				h;
	EnrichSlot *s;

	enrich_ready(db);
	if (family == PGSQL_AF_INET6)
	{
		hi = be64(a);
		lo = be64(a + 8);
	}
	else
	{
		hi = 0;
		lo = (uint64) a[0] << 24 | (uint32) a[1] << 16 | (uint32) a[2] << 8 | a[3];
	}
	h = (lo ^ (hi * UINT64CONST(0x9E3779B97F4A7C15))) * UINT64CONST(0xBF58476D1CE4E5B9);
	s = &db->cache[(h >> 32) % ENRICH_CACHE_SLOTS];
	if (s->family == family && s->hi == hi && s->lo == lo)
		return s;
	s->family = family;
	s->hi = hi;
	s->lo = lo;
	enrich_fill(db, s, ip);
	return s;
}

/*
 * A string of the file as text: the file's strings are UTF-8, checked here
 * and converted to the database's encoding.
 */
static text *
utf8_text_with_len(const char *s, uint32 len)
{
	char	   *conv = pg_any_to_server(s, (int) len, PG_UTF8);

	if (conv == s)				/* no conversion: not terminated */
		return cstring_to_text_with_len(s, (int) len);
	return cstring_to_text(conv);
}

static text *
utf8_text(const char *s)
{
	return utf8_text_with_len(s, (uint32) strlen(s));
}

/*
 * asn(inet) -> bigint: the AS number of an address, NULL when it is in no
 * network of the file (or its network has no number).
 */
Datum
spamhints_asn(PG_FUNCTION_ARGS)
{
	const EnrichSlot *s = enrich_lookup(&asn_db, PG_GETARG_INET_PP(0));

	if (!s->has_asn)
		PG_RETURN_NULL();
	PG_RETURN_INT64(s->asn);
}

/* as_org(inet) -> text: the name of the AS of an address, NULL when none. */
Datum
spamhints_as_org(PG_FUNCTION_ARGS)
{
	const EnrichSlot *s = enrich_lookup(&asn_db, PG_GETARG_INET_PP(0));

	if (s->org == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(utf8_text_with_len(s->org, s->org_len));
}

/* country(inet) -> text: the ISO 3166 country code of an address, NULL when unknown. */
Datum
spamhints_country(PG_FUNCTION_ARGS)
{
	const EnrichSlot *s = enrich_lookup(&country_db, PG_GETARG_INET_PP(0));

	if (s->cc[0] == '\0')
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(s->cc, 2));
}

/* The description in English, else the first one; NULL when there is none. */
static const char *
metadata_description(const MMDB_metadata_s *m)
{
	const char *description = NULL;

	for (size_t i = 0; i < m->description.count; i++)
	{
		const MMDB_description_s *d = m->description.descriptions[i];

		if (description == NULL || (d->language && strcmp(d->language, "en") == 0))
			description = d->description;
	}
	return description;
}

/*
 * enrichment_databases(): one row per setting, with the metadata of the
 * file it names (NULLs when the setting is empty).
 */
Datum
spamhints_enrichment_databases(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	EnrichDb   *dbs[2] = {&asn_db, &country_db};

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < 2; i++)
	{
		EnrichDb   *db = dbs[i];
		Datum		values[11];
		bool		nulls[11];
		const MMDB_metadata_s *m;
		const char *description;
		Datum	   *langs;

		memset(nulls, true, sizeof(nulls));
		values[0] = CStringGetTextDatum(db->setting);
		nulls[0] = false;
		if (*db->value == NULL || (*db->value)[0] == '\0')
		{
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			continue;
		}
		enrich_ready(db);
		m = &db->mmdb.metadata;
		memset(nulls, false, sizeof(nulls));
		values[1] = CStringGetTextDatum(db->path);
		if (m->database_type)
			values[2] = PointerGetDatum(utf8_text(m->database_type));
		else
			nulls[2] = true;
		values[3] = Int32GetDatum(m->ip_version);
		values[4] = Int32GetDatum(m->record_size);
		values[5] = Int64GetDatum(m->node_count);
		values[6] = CStringGetTextDatum(psprintf("%u.%u", m->binary_format_major_version,
												 m->binary_format_minor_version));
		values[7] = Int64GetDatum((int64) m->build_epoch);
		values[8] = TimestampTzGetDatum(time_t_to_timestamptz((pg_time_t) m->build_epoch));
		langs = palloc(sizeof(Datum) * (m->languages.count + 1));
		for (size_t k = 0; k < m->languages.count; k++)
			langs[k] = PointerGetDatum(utf8_text(m->languages.names[k]));
		values[9] = PointerGetDatum(construct_array(langs, (int) m->languages.count, TEXTOID, -1, false,
													TYPALIGN_INT));
		description = metadata_description(m);
		if (description)
			values[10] = PointerGetDatum(utf8_text(description));
		else
			nulls[10] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
