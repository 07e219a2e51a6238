/*
 * loader/capture/enrich.c: AS numbers, AS names and countries of the sampled
 * addresses, from MaxMind DB files (see enrich.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "enrich.h"
#include "shared/mmdb_fields.h"

/*
 * 2^16 blocks of 16 bytes and 2^16 addresses of 32: 3 MB, for the distinct
 * blocks and split-block addresses of hours of sFlow.
 */
#define SH_BLOCK_BITS	16
#define SH_ADDR_BITS	16

/* ---------------------------------------------------------------------------
 * Opening the files.
 * ------------------------------------------------------------------------- */

static const char *
kind_name(int kind)
{
	return kind == SH_MMDB_ASN ? "ASN" : "country";
}

static int
open_one(sh_mmdb *db, int kind, const char *path, FILE *warn, const char *progname,
		 char *err, size_t errlen)
{
	struct stat st;
	int			status;
	int			kinds;
	const char *type;

	db->kind = kind;
	if (realpath(path, db->path) == NULL)
		snprintf(db->path, sizeof(db->path), "%s", path);
	if (stat(db->path, &st) != 0)
	{
		snprintf(err, errlen, "%s database \"%s\": cannot open: %s", kind_name(kind), path,
				 strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode))
	{
		snprintf(err, errlen, "%s database \"%s\": not a regular file", kind_name(kind), path);
		return -1;
	}
	errno = 0;
	status = MMDB_open(db->path, MMDB_MODE_MMAP, &db->mmdb);
	if (status != MMDB_SUCCESS)
	{
		if (status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR)
			snprintf(err, errlen, "%s database \"%s\": cannot read: %s", kind_name(kind), path,
					 errno ? strerror(errno) : MMDB_strerror(status));
		else
			snprintf(err, errlen, "%s database \"%s\": not a valid MaxMind DB file: %s",
					 kind_name(kind), path, MMDB_strerror(status));
		return -1;
	}
	db->open = 1;

	type = db->mmdb.metadata.database_type;
	kinds = sh_mmdb_kinds(type);
	if (kinds != 0 && !(kinds & kind))
	{
		snprintf(err, errlen, "%s database \"%s\": it is a \"%s\" database, not %s database "
				 "(--asn-db takes an ASN database such as GeoLite2-ASN, --country-db a country "
				 "or city database)", kind_name(kind), path, type,
				 kind == SH_MMDB_ASN ? "an ASN" : "a country");
		return -1;
	}
	if (kinds == 0)
		fprintf(warn, "%s: warning: %s database \"%s\": unknown database type \"%s\"; reading %s from it\n",
				progname, kind_name(kind), path, type ? type : "",
				kind == SH_MMDB_ASN ? "autonomous_system_number (or asn)" : "country.iso_code (or country_code)");
	if (db->mmdb.metadata.ip_version == 4)
		fprintf(warn, "%s: warning: %s database \"%s\" holds IPv4 networks only: IPv6 addresses get no %s\n",
				progname, kind_name(kind), path, kind == SH_MMDB_ASN ? "AS" : "country");
	return 0;
}

int
sh_enrich_open(sh_enrich *e, const char *asn_path, const char *country_path,
			   FILE *warn, const char *progname, char *err, size_t errlen)
{
	memset(e, 0, sizeof(*e));
	if (asn_path && *asn_path &&
		open_one(&e->asn, SH_MMDB_ASN, asn_path, warn, progname, err, errlen) != 0)
		goto fail;
	if (country_path && *country_path &&
		open_one(&e->country, SH_MMDB_COUNTRY, country_path, warn, progname, err, errlen) != 0)
		goto fail;
	if (!sh_enrich_enabled(e))
		return 0;
	e->blocks_mask = (1u << SH_BLOCK_BITS) - 1;
	e->blocks = calloc((size_t) e->blocks_mask + 1, sizeof(sh_block_slot));
	e->addrs_mask = (1u << SH_ADDR_BITS) - 1;
	e->addrs = calloc((size_t) e->addrs_mask + 1, sizeof(sh_addr_slot));
	e->names_mask = 1023;
	e->names = calloc((size_t) e->names_mask + 1, sizeof(sh_as_name));
	if (e->blocks == NULL || e->addrs == NULL || e->names == NULL)
	{
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return 0;

fail:
	sh_enrich_close(e);
	return -1;
}

void
sh_enrich_close(sh_enrich *e)
{
	if (e->asn.open)
		MMDB_close(&e->asn.mmdb);
	if (e->country.open)
		MMDB_close(&e->country.mmdb);
	e->asn.open = e->country.open = 0;
	free(e->blocks);
	free(e->addrs);
	free(e->names);
	e->blocks = NULL;
	e->addrs = NULL;
	e->names = NULL;
}

void
sh_enrich_begin(sh_enrich *e)
{
	/*
	 * The caches are emptied too: each network of a load is then looked up
	 * in the files at least once, so the AS names of this load are all seen.
	 */
	if (e->blocks)
		memset(e->blocks, 0, ((size_t) e->blocks_mask + 1) * sizeof(sh_block_slot));
	if (e->addrs)
		memset(e->addrs, 0, ((size_t) e->addrs_mask + 1) * sizeof(sh_addr_slot));
	if (e->names)
		memset(e->names, 0, ((size_t) e->names_mask + 1) * sizeof(sh_as_name));
	e->names_n = 0;
	e->lookups = e->searches = 0;
	e->failed = 0;
	e->error[0] = '\0';
}

/* ---------------------------------------------------------------------------
 * Lookups.
 * ------------------------------------------------------------------------- */

static void
fail(sh_enrich *e, const char *fmt, const char *a, const char *b)
{
	if (!e->failed)
		snprintf(e->error, sizeof(e->error), fmt, a, b);
	e->failed = 1;
}

static void
addr_text(const sh_addr *a, char *buf, size_t len)
{
	if (inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->bytes, buf, (socklen_t) len) == NULL)
		snprintf(buf, len, "?");
}

/* Byte order of names, as ORDER BY org COLLATE "C" sorts them. */
static int
name_cmp(const char *a, uint32_t alen, const char *b, uint32_t blen)
{
	int			c = memcmp(a, b, alen < blen ? alen : blen);

	return c != 0 ? c : (alen > blen) - (alen < blen);
}

/*
 * Remember an AS of this load with its name. When records give one AS
 * different names (or some none), the greatest in byte order is kept, as
 * spamhints.reenrich() does: the answer does not depend on the order rows
 * come in.
 */
static void
note_name(sh_enrich *e, uint32_t asn, const char *org, uint32_t org_len)
{
	uint32_t	i;

	if ((e->names_n + 1) * 2 > e->names_mask + 1)
	{
		uint32_t	mask = e->names_mask * 2 + 1;
		sh_as_name *t = calloc((size_t) mask + 1, sizeof(sh_as_name));

		if (t == NULL)
		{
			fail(e, "out of memory%s%s", "", "");
			return;
		}
		for (uint32_t k = 0; k <= e->names_mask; k++)
		{
			if (!e->names[k].used)
				continue;
			for (i = (e->names[k].asn * 2654435761u) & mask; t[i].used; i = (i + 1) & mask)
				;
			t[i] = e->names[k];
		}
		free(e->names);
		e->names = t;
		e->names_mask = mask;
	}
	for (i = (asn * 2654435761u) & e->names_mask; e->names[i].used; i = (i + 1) & e->names_mask)
	{
		if (e->names[i].asn != asn)
			continue;
		if (org && (e->names[i].org == NULL ||
					name_cmp(org, org_len, e->names[i].org, e->names[i].org_len) > 0))
		{
			e->names[i].org = org;
			e->names[i].org_len = org_len;
		}
		return;
	}
	e->names[i].used = 1;
	e->names[i].asn = asn;
	e->names[i].org = org;
	e->names[i].org_len = org_len;
	e->names_n++;
}

/*
 * Look one address up in one file. Returns the record, or NULL when the
 * address is in no network of it (or on an error). *prefix is the length of
 * the network (or of the empty range) that holds the address, in the
 * address's own bits (0-32 for IPv4 even in an IPv6 tree).
 */
static MMDB_entry_s *
search(sh_enrich *e, sh_mmdb *db, const sh_addr *a, MMDB_entry_s *entry, int *prefix)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const struct sockaddr *sa;
	MMDB_lookup_result_s r;
	int			merr = MMDB_SUCCESS;
	char		text[64];

	*prefix = 0;
	if (a->family == 6)
	{
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, a->bytes, 16);
		sa = (const struct sockaddr *) &sin6;
	}
	else
	{
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, a->bytes, 4);
		sa = (const struct sockaddr *) &sin;
	}
	r = MMDB_lookup_sockaddr(&db->mmdb, sa, &merr);
	if (merr == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
		return NULL;			/* no IPv6 address is in it: prefix 0 */
	if (merr != MMDB_SUCCESS)
	{
		addr_text(a, text, sizeof(text));
		fail(e, "looking up %s: %s", text, MMDB_strerror(merr));
		return NULL;
	}
	*prefix = r.netmask;
	if (a->family != 6 && db->mmdb.metadata.ip_version == 6)
		*prefix = r.netmask > 96 ? r.netmask - 96 : 0;	/* the IPv4 subtree is ::/96 */
	if (!r.found_entry)
		return NULL;
	*entry = r.entry;
	return entry;
}

/*
 * Look an address up in the files. Returns whether the answer holds for
 * its whole block (the /24 or /48 around it): whether both files' networks
 * (or empty ranges) are at least that wide.
 */
static int
fill(sh_enrich *e, sh_answer *ans, const sh_addr *a)
{
	MMDB_entry_s entry;
	int			status;
	int			prefix;
	int			block_bits = a->family == 6 ? 48 : 24;
	int			whole = 1;
	char		text[64];

	ans->has_asn = 0;
	ans->asn = 0;
	ans->cc[0] = ans->cc[1] = '\0';
	e->searches++;
	if (e->asn.open)
	{
		if (search(e, &e->asn, a, &entry, &prefix))
		{
			int64_t		asn;
			const char *org;
			uint32_t	org_len;

			status = sh_mmdb_asn(&entry, &asn, &org, &org_len);
			if (status != MMDB_SUCCESS)
			{
				addr_text(a, text, sizeof(text));
				fail(e, "ASN database: the record of %s is corrupt: %s", text, MMDB_strerror(status));
			}
			else if (asn >= 0)
			{
				ans->has_asn = 1;
				ans->asn = (uint32_t) asn;
				note_name(e, ans->asn, org, org_len);
			}
		}
		whole &= prefix <= block_bits;
	}
	if (e->country.open)
	{
		if (search(e, &e->country, a, &entry, &prefix))
		{
			status = sh_mmdb_country(&entry, ans->cc);
			if (status != MMDB_SUCCESS)
			{
				addr_text(a, text, sizeof(text));
				fail(e, "country database: the record of %s is corrupt: %s", text, MMDB_strerror(status));
			}
		}
		whole &= prefix <= block_bits;
	}
	return whole;
}

static inline uint64_t
be64(const uint8_t *p)
{
	uint64_t	v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static inline uint64_t
mix(uint64_t hi, uint64_t lo)
{
	uint64_t	h = (lo ^ (hi * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull;

	return h ^ (h >> 31);
}

/* An address as cache keys, and the slots it maps to. */
typedef struct sh_key
{
	uint64_t	hi;
	uint64_t	lo;
	uint64_t	block;			/* the /24 or /48, tagged with the family */
	sh_block_slot *bslot;
	sh_addr_slot *aslot;
} sh_key;

static inline void
key_of(const sh_enrich *e, const sh_addr *a, sh_key *k)
{
	if (a->family == 6)
	{
		k->hi = be64(a->bytes);
		k->lo = be64(a->bytes + 8);
		k->block = (k->hi >> 16) | 2ull << 62;
	}
	else
	{
		k->hi = 0;
		k->lo = (uint64_t) a->bytes[0] << 24 | (uint32_t) a->bytes[1] << 16 |
			(uint32_t) a->bytes[2] << 8 | a->bytes[3];
		k->block = (k->lo >> 8) | 1ull << 62;
	}
	k->bslot = &e->blocks[mix(0, k->block) & e->blocks_mask];
	k->aslot = &e->addrs[mix(k->hi, k->lo) & e->addrs_mask];
}

/*
 * The answer for an address: from its block's slot when the whole block
 * has one answer, else from its own slot, else from the files.
 */
static inline void
answer(sh_enrich *e, const sh_addr *a, const sh_key *k, sh_answer *ans)
{
	sh_block_slot *b = k->bslot;
	sh_addr_slot *s = k->aslot;
	int			whole;

	e->lookups++;
	if (b->key == k->block && b->whole)
	{
		*ans = b->ans;
		return;
	}
	if (s->family == a->family && s->lo == k->lo && s->hi == k->hi)
	{
		*ans = s->ans;
		return;
	}
	whole = fill(e, ans, a);
	if (whole)
	{
		b->key = k->block;
		b->whole = 1;
		b->ans = *ans;
	}
	else
	{
		/* a block of several networks: its addresses go to their own slots */
		if (b->key != k->block)
		{
			b->key = k->block;
			b->whole = 0;
		}
		s->family = a->family;
		s->hi = k->hi;
		s->lo = k->lo;
		s->ans = *ans;
	}
}

void
sh_enrich_lookup(sh_enrich *e, const sh_addr *src, const sh_addr *dst, sh_answer *s, sh_answer *d)
{
	sh_key		ks,
				kd;

	key_of(e, src, &ks);
	key_of(e, dst, &kd);
	__builtin_prefetch(ks.bslot);
	__builtin_prefetch(kd.bslot);
	answer(e, src, &ks, s);
	answer(e, dst, &kd, d);
}

/* "GeoLite2-ASN built 2026-02-04" */
static void
describe(const sh_mmdb *db, char *buf, size_t len)
{
	time_t		built = (time_t) db->mmdb.metadata.build_epoch;
	struct tm	tm;
	char		day[16];

	gmtime_r(&built, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	snprintf(buf, len, "%s built %s", db->mmdb.metadata.database_type, day);
}

void
sh_enrich_summary(const sh_enrich *e, FILE *f)
{
	char		asn[160] = "",
				country[160] = "";

	if (e->asn.open)
		describe(&e->asn, asn, sizeof(asn));
	if (e->country.open)
		describe(&e->country, country, sizeof(country));
	fprintf(f, "enriched from %s%s%s: %" PRIu64 " addresses, %.1f%% from the cache, %u ASes",
			asn, *asn && *country ? " and " : "", country, e->lookups,
			e->lookups ? 100.0 * (double) (e->lookups - e->searches) / (double) e->lookups : 0.0,
			e->names_n);
}
