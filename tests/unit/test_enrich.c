/*
 * tests/unit/test_enrich.c: the loader's enrichment stage (loader/capture/enrich.c)
 * alone, its answers encoded by the row writer (sample_rows.c) as a row's
 * four enrichment fields, on MaxMind DB files built for the test by
 * tests/lib/make_mmdb.pl:
 * answers through the block and address caches, blocks split between
 * networks (in either order of lookup), the AS name table growing past its
 * first size, the greatest of two names, addresses in no network, an
 * IPv4-only file, and the errors of sh_enrich_open().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "enrich.h"
#include "sample_rows.h"

#define N_NETS 3000				/* more ASes than the name table's first 1024 slots hold */

static char dir[] = "/tmp/spamhints-unit-enrich.XXXXXX";
static char asn_db[128],
			cc_db[128],
			asn4_db[128];

/* The networks: one /24 per AS 100000+i, and the special cases. */
static int
write_networks(const char *path, int ipv6)
{
	FILE	   *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	for (int i = 0; i < N_NETS; i++)
		fprintf(f, "20.%d.%d.0/24\t%d\tOrg %d\t%c%c\n", i / 256, i % 256, 100000 + i, i,
				'A' + i % 26, 'A' + (i / 26) % 26);
	/* a /24 split into two halves of two ASes */
	fprintf(f, "30.0.0.0/24\t1\tLower\tNL\n30.0.0.128/25\t2\tUpper\tDE\n");
	/* one AS, three networks, two names and none */
	fprintf(f, "31.0.0.0/24\t6\tAlpha\tFR\n31.0.1.0/24\t6\tBeta\tFR\n31.0.2.0/24\t6\t\tFR\n");
	if (ipv6)
		fprintf(f, "2a00:1::/32\t3\tSix\tJP\n2a00:2::/48\t4\tSixLow\tUS\n2a00:2:0:8000::/49\t5\tSixHigh\tCA\n");
	return fclose(f);
}

static int
setup_files(void **state)
{
	char		net[128],
				net4[128],
				cmd[1024];

	(void) state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(net, sizeof(net), "%s/net.tsv", dir);
	snprintf(net4, sizeof(net4), "%s/net4.tsv", dir);
	snprintf(asn_db, sizeof(asn_db), "%s/asn.mmdb", dir);
	snprintf(cc_db, sizeof(cc_db), "%s/cc.mmdb", dir);
	snprintf(asn4_db, sizeof(asn4_db), "%s/asn4.mmdb", dir);
	if (write_networks(net, 1) != 0 || write_networks(net4, 0) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd),
			 "perl ../lib/make_mmdb.pl --networks %s --asn %s --country %s && "
			 "perl ../lib/make_mmdb.pl --networks %s --asn %s --ip-version 4 --record-size 24 --asn-type GeoLite2-ASN",
			 net, asn_db, cc_db, net4, asn4_db);
	return system(cmd) == 0 ? 0 : -1;
}

static int
teardown_files(void **state)
{
	char		cmd[256];

	(void) state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static sh_addr
addr(const char *text)
{
	sh_addr		a;

	memset(&a, 0, sizeof(a));
	if (strchr(text, ':'))
	{
		a.family = 6;
		assert_int_equal(inet_pton(AF_INET6, text, a.bytes), 1);
	}
	else
	{
		a.family = 4;
		assert_int_equal(inet_pton(AF_INET, text, a.bytes), 1);
	}
	return a;
}

/* One row's four fields, read back from the COPY bytes. */
typedef struct row
{
	int64_t		src_asn;		/* -1: NULL */
	int64_t		dst_asn;
	char		src_cc[3];		/* "": NULL */
	char		dst_cc[3];
} row;

static const uint8_t *
read_int8(const uint8_t *p, int64_t *v)
{
	uint32_t	len = (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
	uint64_t	x = 0;

	p += 4;
	if (len == 0xFFFFFFFFu)
	{
		*v = -1;
		return p;
	}
	assert_int_equal(len, 8);
	for (int i = 0; i < 8; i++)
		x = x << 8 | p[i];
	*v = (int64_t) x;
	return p + 8;
}

static const uint8_t *
read_cc(const uint8_t *p, char cc[3])
{
	uint32_t	len = (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];

	p += 4;
	cc[0] = '\0';
	if (len == 0xFFFFFFFFu)
		return p;
	assert_int_equal(len, 2);
	memcpy(cc, p, 2);
	cc[2] = '\0';
	return p + 2;
}

static row
enrich(sh_enrich *e, const char *src, const char *dst)
{
	uint8_t		buf[64];
	sh_addr		s = addr(src),
				d = addr(dst);
	const uint8_t *p = buf;
	sh_answer	as,
				ad;
	uint8_t    *end;
	row			r;

	sh_enrich_lookup(e, &s, &d, &as, &ad);
	end = sh_sample_answers(buf, &as, &ad);
	assert_false(e->failed);
	p = read_int8(p, &r.src_asn);
	p = read_int8(p, &r.dst_asn);
	p = read_cc(p, r.src_cc);
	p = read_cc(p, r.dst_cc);
	assert_ptr_equal(p, end);
	return r;
}

/* The name the load keeps for an AS; NULL when it has none (or is not seen). */
static const char *
name_of(const sh_enrich *e, uint32_t asn, char *buf, size_t len)
{
	for (uint32_t i = 0; i <= e->names_mask; i++)
	{
		if (e->names[i].used && e->names[i].asn == asn)
		{
			if (e->names[i].org == NULL)
				return NULL;
			snprintf(buf, len, "%.*s", (int) e->names[i].org_len, e->names[i].org);
			return buf;
		}
	}
	return NULL;
}

static void
open_both(sh_enrich *e)
{
	char		err[512] = "";

	assert_int_equal(sh_enrich_open(e, asn_db, cc_db, stderr, "test", err, sizeof(err)), 0);
	assert_true(sh_enrich_enabled(e));
	sh_enrich_begin(e);
}

static void
test_every_network(void **state)
{
	sh_enrich	e;
	char		ip[32],
				ip2[32],
				name[64],
				want[64];

	(void) state;
	open_both(&e);
	for (int pass = 0; pass < 2; pass++)
	{
		for (int i = 0; i < N_NETS; i++)
		{
			row			r;

			snprintf(ip, sizeof(ip), "20.%d.%d.%d", i / 256, i % 256, 1 + pass);
			snprintf(ip2, sizeof(ip2), "20.%d.%d.200", (N_NETS - 1 - i) / 256, (N_NETS - 1 - i) % 256);
			r = enrich(&e, ip, ip2);
			assert_int_equal(r.src_asn, 100000 + i);
			assert_int_equal(r.dst_asn, 100000 + N_NETS - 1 - i);
			assert_int_equal(r.src_cc[0], 'A' + i % 26);
			assert_int_equal(r.src_cc[1], 'A' + (i / 26) % 26);
		}
	}
	/* every AS once, with its name, in a table grown past its first size */
	assert_int_equal(e.names_n, N_NETS);
	assert_true(e.names_mask + 1 > 1024);
	for (int i = 0; i < N_NETS; i += 97)
	{
		snprintf(want, sizeof(want), "Org %d", i);
		assert_non_null(name_of(&e, 100000 + i, name, sizeof(name)));
		assert_string_equal(name_of(&e, 100000 + i, name, sizeof(name)), want);
	}
	/* each /24 is one network of both files: one search per block (and a few
	 * more where two blocks share a slot of the direct-mapped cache) */
	assert_int_equal(e.lookups, 4 * N_NETS);
	assert_true(e.searches >= N_NETS && e.searches < N_NETS + N_NETS / 10);
	sh_enrich_close(&e);
}

static void
test_split_blocks(void **state)
{
	/* the two halves of a /24 and of a /48, looked up in every order */
	static const char *const order[][4] = {
		{"30.0.0.1", "30.0.0.129", "2a00:2::1", "2a00:2:0:8000::1"},
		{"30.0.0.129", "30.0.0.1", "2a00:2:0:8000::1", "2a00:2::1"},
	};
	sh_enrich	e;

	(void) state;
	open_both(&e);
	for (int o = 0; o < 2; o++)
	{
		sh_enrich_begin(&e);
		for (int rep = 0; rep < 3; rep++)
		{
			for (int k = 0; k < 4; k += 2)
			{
				row			r = enrich(&e, order[o][k], order[o][k + 1]);
				int			v4 = k == 0;
				int			low_first = o == 0;
				int64_t		low = v4 ? 1 : 4,
							high = v4 ? 2 : 5;

				assert_int_equal(r.src_asn, low_first ? low : high);
				assert_int_equal(r.dst_asn, low_first ? high : low);
				if (v4)
				{
					assert_string_equal(r.src_cc, low_first ? "NL" : "DE");
					assert_string_equal(r.dst_cc, low_first ? "DE" : "NL");
				}
			}
			/* other addresses of the split blocks, never looked up before */
			assert_int_equal(enrich(&e, "30.0.0.77", "30.0.0.200").src_asn, 1);
			assert_int_equal(enrich(&e, "30.0.0.77", "30.0.0.200").dst_asn, 2);
			assert_int_equal(enrich(&e, "2a00:2::77", "2a00:2:0:ffff::1").dst_asn, 5);
			/* a whole /32: its /48 blocks are whole */
			assert_int_equal(enrich(&e, "2a00:1:1234::1", "2a00:1:ffff::2").src_asn, 3);
		}
	}
	sh_enrich_close(&e);
}

static void
test_names_and_misses(void **state)
{
	sh_enrich	e;
	char		name[64];
	row			r;

	(void) state;
	open_both(&e);
	/* two names of AS 6, in either order: the greatest in byte order stays */
	enrich(&e, "31.0.0.1", "31.0.2.1");
	enrich(&e, "31.0.1.1", "31.0.2.2");
	assert_string_equal(name_of(&e, 6, name, sizeof(name)), "Beta");
	sh_enrich_begin(&e);
	assert_int_equal(e.names_n, 0);
	assert_int_equal(e.lookups, 0);
	enrich(&e, "31.0.2.1", "31.0.1.1");
	enrich(&e, "31.0.0.1", "31.0.0.2");
	assert_string_equal(name_of(&e, 6, name, sizeof(name)), "Beta");
	/* only the nameless network seen: the AS without a name */
	sh_enrich_begin(&e);
	enrich(&e, "31.0.2.1", "31.0.2.9");
	assert_int_equal(e.names_n, 1);
	assert_null(name_of(&e, 6, name, sizeof(name)));

	/* in no network: NULL, four times */
	r = enrich(&e, "40.0.0.1", "2001:db8::1");
	assert_int_equal(r.src_asn, -1);
	assert_int_equal(r.dst_asn, -1);
	assert_string_equal(r.src_cc, "");
	assert_string_equal(r.dst_cc, "");
	sh_enrich_close(&e);
}

static void
test_ipv4_only_file(void **state)
{
	sh_enrich	e;
	char		err[512] = "",
				warnings[1024] = "";
	FILE	   *warn = tmpfile();
	size_t		n;
	row			r;

	(void) state;
	assert_non_null(warn);
	assert_int_equal(sh_enrich_open(&e, asn4_db, NULL, warn, "test", err, sizeof(err)), 0);
	rewind(warn);
	n = fread(warnings, 1, sizeof(warnings) - 1, warn);
	warnings[n] = '\0';
	fclose(warn);
	assert_non_null(strstr(warnings, "holds IPv4 networks only: IPv6 addresses get no AS"));
	assert_null(strstr(warnings, "unknown database type"));		/* GeoLite2-ASN is known */
	sh_enrich_begin(&e);
	r = enrich(&e, "20.0.5.1", "2a00:1::1");
	assert_int_equal(r.src_asn, 100005);
	assert_int_equal(r.dst_asn, -1);
	assert_string_equal(r.src_cc, "");		/* no country file */
	sh_enrich_close(&e);
}

static void
test_open_errors(void **state)
{
	sh_enrich	e;
	char		err[512];

	(void) state;
	assert_int_equal(sh_enrich_open(&e, NULL, "", stderr, "test", err, sizeof(err)), 0);
	assert_false(sh_enrich_enabled(&e));
	sh_enrich_close(&e);

	assert_int_equal(sh_enrich_open(&e, "/nonexistent/a.mmdb", NULL, stderr, "test", err, sizeof(err)), -1);
	assert_string_equal(err, "ASN database \"/nonexistent/a.mmdb\": cannot open: No such file or directory");
	assert_int_equal(sh_enrich_open(&e, NULL, dir, stderr, "test", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(sh_enrich_open(&e, "../lib/make_mmdb.pl", NULL, stderr, "test", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a valid MaxMind DB file"));
	assert_int_equal(sh_enrich_open(&e, cc_db, NULL, stderr, "test", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is a \"Spamhints-Test-Country\" database, not an ASN database"));
	/* a good first file and a bad second one: the first is closed again */
	assert_int_equal(sh_enrich_open(&e, asn_db, asn_db, stderr, "test", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a country database"));
	assert_false(sh_enrich_enabled(&e));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_network),
		cmocka_unit_test(test_split_blocks),
		cmocka_unit_test(test_names_and_misses),
		cmocka_unit_test(test_ipv4_only_file),
		cmocka_unit_test(test_open_errors),
	};

	return cmocka_run_group_tests(tests, setup_files, teardown_files);
}
