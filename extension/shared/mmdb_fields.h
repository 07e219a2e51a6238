/*
 * extension/shared/mmdb_fields.h: what enrichment reads from a MaxMind DB record.
 *
 * Shared by the loader (loader/capture/enrich.c) and the extension
 * (extension/enrich.c), so that spamhints-load and the SQL functions give
 * the same answer for the same address and file. Header-only, C99 and
 * libmaxminddb: nothing of either program.
 *
 * The field names of the three common layouts are understood:
 *   MaxMind GeoLite2/GeoIP2 and DB-IP's compatible files
 *       autonomous_system_number (uint), autonomous_system_organization,
 *       country.iso_code;
 *   GeoIP2 Enterprise  traits.autonomous_system_number and _organization;
 *   IPinfo  asn ("AS15169"), as_name, country_code (or a two-letter country).
 * The first present wins, in that order.
 */
#ifndef SPAMHINTS_MMDB_FIELDS_H
#define SPAMHINTS_MMDB_FIELDS_H

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <maxminddb.h>

/* What a database holds, as its metadata's database_type names it. */
#define SH_MMDB_ASN		1
#define SH_MMDB_COUNTRY	2

/*
 * The kinds of data a database_type says the file holds: SH_MMDB_ASN for
 * "GeoLite2-ASN", "GeoIP2-ISP", "DBIP-ASN-Lite", SH_MMDB_COUNTRY for
 * "GeoLite2-Country", "GeoIP2-City", "DBIP-Country-Lite", both for
 * "GeoIP2-Enterprise" or IPinfo's "country_asn"; 0 when the name says
 * nothing we know (the file is then tried as it is).
 */
static inline int
sh_mmdb_kinds(const char *database_type)
{
	char		low[128];
	size_t		i;
	int			kinds = 0;

	if (database_type == NULL)
		return 0;
	for (i = 0; database_type[i] && i < sizeof(low) - 1; i++)
		low[i] = (char) tolower((unsigned char) database_type[i]);
	low[i] = '\0';
	if (strstr(low, "asn") || strstr(low, "isp") || strstr(low, "enterprise"))
		kinds |= SH_MMDB_ASN;
	if (strstr(low, "country") || strstr(low, "city") || strstr(low, "enterprise"))
		kinds |= SH_MMDB_COUNTRY;
	return kinds;
}

/* A lookup path that is absent from a record is not an error: no data. */
static inline int
sh_mmdb_absent(int status, const MMDB_entry_data_s *d)
{
	return status == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ||
		(status == MMDB_SUCCESS && !d->has_data);
}

/*
 * The AS number and organisation of a record. *asn is -1 when the record
 * has none; *org is NULL when it has no name (else org_len bytes of UTF-8
 * inside the mapped file, not terminated). Returns MMDB_SUCCESS, or the
 * libmaxminddb error of a corrupt record.
 */
static inline int
sh_mmdb_asn(MMDB_entry_s *entry, int64_t *asn, const char **org, uint32_t *org_len)
{
	MMDB_entry_data_s d;
	int			status;

	*asn = -1;
	*org = NULL;
	*org_len = 0;

	status = MMDB_get_value(entry, &d, "autonomous_system_number", NULL);
	if (sh_mmdb_absent(status, &d))
		status = MMDB_get_value(entry, &d, "traits", "autonomous_system_number", NULL);
	if (sh_mmdb_absent(status, &d))
		status = MMDB_get_value(entry, &d, "asn", NULL);
	if (sh_mmdb_absent(status, &d))
		;
	else if (status != MMDB_SUCCESS)
		return status;
	else if (d.type == MMDB_DATA_TYPE_UINT32)
		*asn = d.uint32;
	else if (d.type == MMDB_DATA_TYPE_UINT16)
		*asn = d.uint16;
	else if (d.type == MMDB_DATA_TYPE_UINT64 && d.uint64 <= UINT32_MAX)
		*asn = (int64_t) d.uint64;
	else if (d.type == MMDB_DATA_TYPE_INT32 && d.int32 >= 0)
		*asn = d.int32;
	else if (d.type == MMDB_DATA_TYPE_UTF8_STRING)
	{
		/* "AS15169" or "15169" */
		const char *s = d.utf8_string;
		uint32_t	n = d.data_size,
					i = 0;
		int64_t		v = 0;

		if (n >= 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's'))
			i = 2;
		if (i < n && n - i <= 10)
		{
			for (; i < n && isdigit((unsigned char) s[i]); i++)
				v = v * 10 + (s[i] - '0');
			if (i == n && v <= UINT32_MAX)
				*asn = v;
		}
	}

	status = MMDB_get_value(entry, &d, "autonomous_system_organization", NULL);
	if (sh_mmdb_absent(status, &d))
		status = MMDB_get_value(entry, &d, "traits", "autonomous_system_organization", NULL);
	if (sh_mmdb_absent(status, &d))
		status = MMDB_get_value(entry, &d, "as_name", NULL);
	if (sh_mmdb_absent(status, &d))
		return MMDB_SUCCESS;
	if (status != MMDB_SUCCESS)
		return status;
	if (d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size > 0)
	{
		*org = d.utf8_string;
		*org_len = d.data_size;
	}
	return MMDB_SUCCESS;
}

/* A two-letter code, upper case: the only country values kept. */
static inline int
sh_mmdb_cc_ok(const MMDB_entry_data_s *d)
{
	return d->type == MMDB_DATA_TYPE_UTF8_STRING && d->data_size == 2 &&
		isupper((unsigned char) d->utf8_string[0]) && isupper((unsigned char) d->utf8_string[1]);
}

/*
 * The ISO 3166 country code of a record: country.iso_code (MaxMind, DB-IP),
 * else country_code or a two-letter country (IPinfo). cc[0] is 0 when the
 * record has none. Only the country where the address is, never
 * registered_country: the same answer as "mmdblookup ... country iso_code".
 */
static inline int
sh_mmdb_country(MMDB_entry_s *entry, char cc[2])
{
	MMDB_entry_data_s d;
	int			status;

	cc[0] = cc[1] = '\0';
	status = MMDB_get_value(entry, &d, "country", "iso_code", NULL);
	if (sh_mmdb_absent(status, &d))
		status = MMDB_get_value(entry, &d, "country_code", NULL);
	if (sh_mmdb_absent(status, &d))
		status = MMDB_get_value(entry, &d, "country", NULL);
	if (sh_mmdb_absent(status, &d))
		return MMDB_SUCCESS;
	if (status != MMDB_SUCCESS)
		return status;
	if (sh_mmdb_cc_ok(&d))
	{
		cc[0] = d.utf8_string[0];
		cc[1] = d.utf8_string[1];
	}
	return MMDB_SUCCESS;
}

#endif							/* SPAMHINTS_MMDB_FIELDS_H */
