/*
 * loader/capture/enrich.h: enrichment, the stage between the SMTP stage and the
 * row writer: answers (AS number, country) for each sample's two addresses,
 * from MaxMind DB files (GeoLite2-ASN and -Country, or DB-IP's and IPinfo's
 * files in the same format), read with libmaxminddb.
 *
 * Addresses repeat heavily in sampled traffic, so lookups go through
 * direct-mapped caches, one keyed by address block (the /24 or /48 around
 * an address, when one network holds all of it, as for most) and one by
 * address: a row costs two hashes and compares, and nothing is allocated
 * per row. The AS names seen in a load are kept (pointing into the mapped
 * file); enrich_db.h writes them to spamhints.asn at its end, with the
 * files' metadata in spamhints.load.enrichment. The row writer
 * (sample_rows.h) encodes the answers.
 */
#ifndef SPAMHINTS_ENRICH_H
#define SPAMHINTS_ENRICH_H

#include <stdint.h>
#include <stdio.h>

#include <maxminddb.h>

#include "addr.h"

/* One database file. */
typedef struct sh_mmdb
{
	int			kind;			/* SH_MMDB_ASN or SH_MMDB_COUNTRY: what it is used for */
	int			open;
	char		path[4096];		/* the absolute path, when it can be resolved */
	MMDB_s		mmdb;
} sh_mmdb;

/* What enrichment says of one address. */
typedef struct sh_answer
{
	uint32_t	asn;
	uint8_t		has_asn;
	char		cc[2];			/* cc[0] == 0: no country */
} sh_answer;

/*
 * A cached answer for a block of addresses, the /24 (IPv4) or /48 (IPv6)
 * around one: when both files have the whole block in one network (as for
 * most), its addresses need no slot of their own.
 */
typedef struct sh_block_slot
{
	uint64_t	key;			/* the block's bits, tagged 1 (IPv4) or 2 (IPv6) in the top two; 0 empty */
	uint8_t		whole;			/* 1: ans holds for every address of the block */
	sh_answer	ans;
} sh_block_slot;

/* A cached answer for one address of a block that is split between networks. */
typedef struct sh_addr_slot
{
	uint64_t	hi;				/* the address: IPv6 as two big-endian halves, IPv4 in lo */
	uint64_t	lo;
	uint8_t		family;			/* 0: empty slot, else 4 or 6 */
	sh_answer	ans;
} sh_addr_slot;

/* An AS seen in the current load, with the name the database gives it. */
typedef struct sh_as_name
{
	uint32_t	asn;
	uint32_t	org_len;
	const char *org;			/* inside the mapped file; NULL when it has no name */
	uint8_t		used;
} sh_as_name;

typedef struct sh_enrich
{
	sh_mmdb		asn;
	sh_mmdb		country;
	sh_block_slot *blocks;		/* direct-mapped caches */
	uint32_t	blocks_mask;
	sh_addr_slot *addrs;
	uint32_t	addrs_mask;
	sh_as_name *names;			/* open addressing on asn, for this load */
	uint32_t	names_mask;
	uint32_t	names_n;
	uint64_t	lookups;		/* addresses asked for in this load */
	uint64_t	searches;		/* of those, looked up in the files (cache misses) */
	int			failed;			/* a corrupt record or out of memory: the load stops */
	char		error[512];
} sh_enrich;

/*
 * Open the databases (either path may be NULL or empty: not used), check
 * their metadata: a file that cannot be read, is not a MaxMind DB or is the
 * wrong kind (a country database given as the ASN one) is an error, with
 * the reason in err; an IPv4-only file or an unknown database type is a
 * warning, printed to warn. Returns 0 or -1.
 */
int			sh_enrich_open(sh_enrich *e, const char *asn_path, const char *country_path,
						   FILE *warn, const char *progname, char *err, size_t errlen);

/* Whether any database is open (whether rows get the four columns). */
static inline int
sh_enrich_enabled(const sh_enrich *e)
{
	return e != NULL && (e->asn.open || e->country.open);
}

/* Start a load: forget the AS names, counters and cache of the last one. */
void		sh_enrich_begin(sh_enrich *e);

/*
 * The answers for a sample's two addresses: AS number and country, each
 * unknown (has_asn 0, cc[0] 0) for an address in no database. On a corrupt
 * record or out of memory, answers unknown and sets e->failed. The AS
 * names seen are kept for the end of the load (enrich_db.h).
 */
void		sh_enrich_lookup(sh_enrich *e, const sh_addr *src, const sh_addr *dst,
							 sh_answer *s, sh_answer *d);

/*
 * For the load's summary line, without a newline: the databases, lookups,
 * cache hits and ASes seen.
 */
void		sh_enrich_summary(const sh_enrich *e, FILE *f);

void		sh_enrich_close(sh_enrich *e);

#endif							/* SPAMHINTS_ENRICH_H */
