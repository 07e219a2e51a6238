/*
 * tests/unit/test_input.c: the loader's input files (loader/common/input.c):
 * plain and gzip'd files give the same bytes and the same SHA-256 (that of
 * the plain bytes, computed here with OpenSSL directly); gzip of several
 * members reads as one; a gzip cut at every byte, corrupt or followed by
 * garbage never reads as a whole file; empty files, gzip of nothing, a
 * directory and a missing file are refused with their reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "input.h"

static char dir[] = "/tmp/spamhints-test-input.XXXXXX";

/* Some bytes: compressible, but not trivially (a counter and a LCG). */
static unsigned char *
content(size_t n)
{
	unsigned char *p = malloc(n);
	uint32_t	x = 12345;

	for (size_t i = 0; i < n; i++)
	{
		x = x * 1103515245u + 12345u;
		p[i] = (i % 7 == 0) ? (unsigned char) (x >> 24) : (unsigned char) ("pcap sflow smtp "[i % 16]);
	}
	return p;
}

static void
sha_hex(const unsigned char *p, size_t n, char hex[65])
{
	unsigned char md[32];
	unsigned int len = 0;

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
}

static char *
path_of(const char *name)
{
	static char buf[8][256];
	static int	k;

	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}

static void
write_file(const char *name, const void *p, size_t n, const char *mode)
{
	FILE	   *f = fopen(path_of(name), mode);

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* One gzip member of p[0..n), appended to name (deflate with the gzip wrapper). */
static void
append_gzip(const char *name, const unsigned char *p, size_t n, int level)
{
	z_stream	z;
	size_t		cap = compressBound((uLong) n) + 64;
	unsigned char *out = malloc(cap);

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *) p;
	z.avail_in = (uInt) n;
	z.next_out = out;
	z.avail_out = (uInt) cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	write_file(name, out, cap - z.avail_out, "ab");
	deflateEnd(&z);
	free(out);
}

static unsigned char *
read_whole(const char *name, size_t *n)
{
	FILE	   *f = fopen(path_of(name), "rb");
	unsigned char *p;
	long		len;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t) len + 1);
	assert_int_equal(fread(p, 1, (size_t) len, f), (size_t) len);
	fclose(f);
	*n = (size_t) len;
	return p;
}

/*
 * Read name in pieces of chunk bytes: 0 with the bytes and hash when the
 * whole file reads, -1 when opening, a read or the finish failed (reason
 * in why).
 */
static int
read_all(const char *name, size_t chunk, unsigned char **bytes, size_t *n, char hex[65], char *why,
		 size_t whylen)
{
	char		err[512];
	sh_input   *in = sh_input_open(path_of(name), err, sizeof(err));
	size_t		cap = 1 << 16,
				have = 0;
	unsigned char *buf;
	ssize_t		got;
	int			rc = 0;

	if (in == NULL)
	{
		snprintf(why, whylen, "%s", err);
		return -1;
	}
	buf = malloc(cap);
	for (;;)
	{
		if (have + chunk > cap)
		{
			cap = 2 * (have + chunk);
			buf = realloc(buf, cap);
		}
		got = sh_input_read(in, buf + have, chunk);
		if (got <= 0)
			break;
		assert_true((size_t) got <= chunk);
		/* fewer bytes than asked only at the end or before an error */
		have += (size_t) got;
		if ((size_t) got < chunk)
		{
			got = sh_input_read(in, buf + have, chunk);
			assert_true(got <= 0);
			break;
		}
	}
	if (got < 0 || sh_input_finish(in, hex) != 0)
	{
		snprintf(why, whylen, "%s", sh_input_error(in));
		rc = -1;
	}
	else
		assert_int_equal(sh_input_bytes(in), have);
	sh_input_close(in);
	if (bytes)
		*bytes = buf;
	else
		free(buf);
	if (n)
		*n = have;
	return rc;
}

static void
check_reads_as(const char *name, const unsigned char *p, size_t n, size_t chunk)
{
	unsigned char *got;
	size_t		len;
	char		hex[65],
				want[65],
				why[512] = "";

	assert_int_equal(read_all(name, chunk, &got, &len, hex, why, sizeof(why)), 0);
	assert_int_equal(len, n);
	assert_memory_equal(got, p, n);
	sha_hex(p, n, want);
	assert_string_equal(hex, want);
	free(got);
}

static void
test_plain_and_gzip_same(void **state)
{
	size_t		n = 700000;		/* more than the decoded buffer, several times */
	unsigned char *p = content(n);

	(void) state;
	write_file("plain", p, n, "wb");
	unlink(path_of("one.gz"));
	append_gzip("one.gz", p, n, 6);
	check_reads_as("plain", p, n, 1 << 20);
	check_reads_as("one.gz", p, n, 1 << 20);
	/* small reads (a pcapng block's head) give the same bytes */
	check_reads_as("one.gz", p, n, 4);
	check_reads_as("plain", p, n, 3);
	check_reads_as("one.gz", p, n, 65537);
	free(p);
}

static void
test_members(void **state)
{
	size_t		n = 300000;
	unsigned char *p = content(n);
	size_t		cuts[] = {0, 1, 4, 24, 1000, 262144, 299999, 300000};

	(void) state;
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
	{
		unlink(path_of("two.gz"));
		append_gzip("two.gz", p, cuts[i], 1);
		append_gzip("two.gz", p + cuts[i], n - cuts[i], 9);
		check_reads_as("two.gz", p, n, 1 << 16);
	}
	/* three members, one of them empty */
	unlink(path_of("three.gz"));
	append_gzip("three.gz", p, 10, 6);
	append_gzip("three.gz", p, 0, 6);
	append_gzip("three.gz", p + 10, n - 10, 6);
	check_reads_as("three.gz", p, n, 1000);
	free(p);
}

/* Every prefix of a gzip file (but the whole): never read whole. */
static void
test_cut_at_every_byte(void **state)
{
	size_t		n = 5000;
	unsigned char *p = content(n);
	unsigned char *gz;
	size_t		gzlen;
	char		hex[65],
				why[512];
	size_t		first;

	(void) state;

	unlink(path_of("cut-src.gz"));
	append_gzip("cut-src.gz", p, n / 2, 6);
	free(read_whole("cut-src.gz", &first));
	append_gzip("cut-src.gz", p + n / 2, n - n / 2, 6);
	gz = read_whole("cut-src.gz", &gzlen);
	/* from the two bytes of the magic on (one byte alone is not gzip: plain) */
	for (size_t len = 2; len < gzlen; len++)
	{
		if (len == first)
		{
			/* the end of the first member: a whole gzip file of its own */
			write_file("cut.gz", gz, len, "wb");
			check_reads_as("cut.gz", p, n / 2, 4096);
			continue;
		}
		write_file("cut.gz", gz, len, "wb");
		why[0] = '\0';
		if (read_all("cut.gz", 4096, NULL, NULL, hex, why, sizeof(why)) == 0)
			fail_msg("a gzip cut to %zu of %zu bytes read as a whole file", len, gzlen);
		assert_true(why[0] != '\0');
	}
	free(gz);
	free(p);
}

static void
test_corrupt_and_garbage(void **state)
{
	size_t		n = 50000;
	unsigned char *p = content(n);
	unsigned char *gz;
	size_t		gzlen;
	char		hex[65],
				why[512];

	(void) state;
	unlink(path_of("src.gz"));
	append_gzip("src.gz", p, n, 6);
	gz = read_whole("src.gz", &gzlen);

	/* a byte changed anywhere after the header: the data or its check fails */
	for (size_t at = 10; at < gzlen; at += 97)
	{
		gz[at] ^= 0x41;
		write_file("bad.gz", gz, gzlen, "wb");
		gz[at] ^= 0x41;
		assert_int_equal(read_all("bad.gz", 1 << 16, NULL, NULL, hex, why, sizeof(why)), -1);
		assert_non_null(strstr(why, "gzip"));
	}

	/* bytes after the last member that are not gzip */
	write_file("garbage.gz", gz, gzlen, "wb");
	write_file("garbage.gz", "trailing", 8, "ab");
	assert_int_equal(read_all("garbage.gz", 1 << 16, NULL, NULL, hex, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "are not gzip data"));
	write_file("zeros.gz", gz, gzlen, "wb");
	write_file("zeros.gz", "\0\0\0\0", 4, "ab");
	assert_int_equal(read_all("zeros.gz", 1 << 16, NULL, NULL, hex, why, sizeof(why)), -1);
	free(gz);
	free(p);
}

static void
test_refused(void **state)
{
	char		err[512];
	char		sub[300];

	(void) state;
	write_file("empty", "", 0, "wb");
	assert_null(sh_input_open(path_of("empty"), err, sizeof(err)));
	assert_string_equal(err, "empty file (0 bytes): nothing to load");

	unlink(path_of("empty.gz"));
	append_gzip("empty.gz", (const unsigned char *) "", 0, 6);
	assert_null(sh_input_open(path_of("empty.gz"), err, sizeof(err)));
	assert_string_equal(err, "empty: gzip data of 0 bytes, nothing to load");

	snprintf(sub, sizeof(sub), "%s", path_of("adir"));
	mkdir(sub, 0755);
	assert_null(sh_input_open(sub, err, sizeof(err)));
	assert_string_equal(err, "is a directory, not a file");

	assert_null(sh_input_open(path_of("missing"), err, sizeof(err)));
	assert_string_equal(err, "cannot open: No such file or directory");

	/* one byte, or one gzip magic byte alone: plain bytes */
	write_file("one", "\x1f", 1, "wb");
	{
		char		hex[65],
					why[512];
		unsigned char *got;
		size_t		len;

		assert_int_equal(read_all("one", 10, &got, &len, hex, why, sizeof(why)), 0);
		assert_int_equal(len, 1);
		free(got);
	}
}

static void
test_position(void **state)
{
	size_t		n = 400000;
	unsigned char *p = content(n);
	char		err[512],
				hex[65];
	unsigned char buf[1000];
	sh_input   *in;
	struct stat st;

	(void) state;
	unlink(path_of("pos.gz"));
	append_gzip("pos.gz", p, n, 6);
	stat(path_of("pos.gz"), &st);
	in = sh_input_open(path_of("pos.gz"), err, sizeof(err));
	assert_non_null(in);
	assert_true(sh_input_gzip(in));
	assert_int_equal(sh_input_size(in), (uint64_t) st.st_size);
	assert_int_equal(sh_input_read(in, buf, sizeof(buf)), sizeof(buf));
	assert_true(sh_input_position(in) <= sh_input_size(in));
	assert_int_equal(sh_input_bytes(in), sizeof(buf));
	assert_int_equal(sh_input_finish(in, hex), 0);
	assert_int_equal(sh_input_position(in), (uint64_t) st.st_size);
	assert_int_equal(sh_input_bytes(in), n);
	sh_input_close(in);
	free(p);
}

static int
setup(void **state)
{
	(void) state;
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char		cmd[300];

	(void) state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_gzip_same),
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_cut_at_every_byte),
		cmocka_unit_test(test_corrupt_and_garbage),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_position),
	};

	return cmocka_run_group_tests_name("input", tests, setup, teardown);
}
