/*
 * tests/unit/test_spool.c: the spool files of spamhints-load --listen
 * (loader/live/spool.c): the frame built around a datagram, byte for byte
 * against headers and checksums worked out by hand (and by an independent
 * script: RFC 768/1071 over the pseudo header); the pcapng file as libpcap
 * reads it (link type, nanosecond times, lengths); the closing statistics
 * read back; a file cut by a crash closed after its last whole block.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include <pcap/pcap.h>

#include "spool.h"

static uint8_t slot[SPOOL_HEADROOM + SPOOL_MAX_PAYLOAD + SPOOL_TAILROOM];

static spool_dgram
dgram4(void)
{
	spool_dgram d;

	memset(&d, 0, sizeof(d));
	d.src.family = d.dst.family = 4;
	memcpy(d.src.bytes, (uint8_t[]) {192, 0, 2, 1}, 4);
	memcpy(d.dst.bytes, (uint8_t[]) {198, 51, 100, 2}, 4);
	d.src_port = 5000;
	d.dst_port = 6343;
	d.ts_ns = 1764633600123456789LL;	/* 2025-12-02 00:00:00.123456789 UTC */
	return d;
}

static spool_dgram
dgram6(void)
{
	spool_dgram d = dgram4();

	d.src.family = d.dst.family = 6;
	memset(d.src.bytes, 0, 16);
	memset(d.dst.bytes, 0, 16);
	memcpy(d.src.bytes, (uint8_t[]) {0x20, 0x01, 0x0d, 0xb8}, 4);
	memcpy(d.dst.bytes, (uint8_t[]) {0x20, 0x01, 0x0d, 0xb8}, 4);
	d.src.bytes[15] = 1;
	d.dst.bytes[15] = 2;
	return d;
}

static uint32_t
le32(const uint8_t *p)
{
	uint32_t	v;

	memcpy(&v, p, 4);
	return v;
}

static void
test_ipv4_frame(void **state)
{
	spool_dgram d = dgram4();
	size_t		len;
	uint8_t    *b;
	/* 20 bytes of IPv4, 8 of UDP, "sflow": checksums by hand (RFC 1071) */
	static const uint8_t want[] = {
		0x45, 0x00, 0x00, 0x21, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x4e, 0x95,
		192, 0, 2, 1, 198, 51, 100, 2,
		0x13, 0x88, 0x18, 0xc7, 0x00, 0x0d, 0x90, 0x77,
		's', 'f', 'l', 'o', 'w'
	};

	(void) state;
	memcpy(slot + SPOOL_HEADROOM, "sflow", 5);
	b = spool_frame(slot, 5, &d, &len);
	assert_non_null(b);
	assert_int_equal(le32(b), 6);	/* Enhanced Packet Block */
	assert_int_equal(len, 28 + 36 + 4);	/* 33 bytes padded to 36 */
	assert_int_equal(le32(b + 4), len);
	assert_int_equal(le32(b + len - 4), len);
	assert_int_equal(le32(b + 8), 0);	/* interface 0 */
	assert_int_equal(((uint64_t) le32(b + 12) << 32 | le32(b + 16)), 1764633600123456789ULL);
	assert_int_equal(le32(b + 20), 33);
	assert_int_equal(le32(b + 24), 33);
	assert_memory_equal(b + 28, want, sizeof(want));
	assert_memory_equal(b + 28 + 33, "\0\0\0", 3);
	/* the IPv4 header sums to all ones with its checksum */
	assert_int_equal(spool_csum_end(spool_csum_add(0, b + 28, 20)), 0);
}

static void
test_ipv6_frame(void **state)
{
	spool_dgram d = dgram6();
	size_t		len;
	uint8_t    *b;
	static const uint8_t want_udp[] = {0x13, 0x88, 0x18, 0xc7, 0x00, 0x0d, 0x21, 0x3a, 's', 'f', 'l', 'o', 'w'};

	(void) state;
	memcpy(slot + SPOOL_HEADROOM, "sflow", 5);
	b = spool_frame(slot, 5, &d, &len);
	assert_non_null(b);
	assert_int_equal(len, 28 + 56 + 4);	/* 53 bytes padded to 56 */
	assert_int_equal(le32(b + 20), 53);
	assert_int_equal(b[28], 0x60);
	assert_int_equal(b[28 + 4] << 8 | b[28 + 5], 13);	/* payload length: UDP header + 5 */
	assert_int_equal(b[28 + 6], 17);
	assert_memory_equal(b + 28 + 8, d.src.bytes, 16);
	assert_memory_equal(b + 28 + 24, d.dst.bytes, 16);
	assert_memory_equal(b + 28 + 40, want_udp, sizeof(want_udp));
}

static void
test_refused(void **state)
{
	spool_dgram d = dgram4();
	size_t		len;

	(void) state;
	assert_null(spool_frame(slot, SPOOL_MAX_PAYLOAD + 1, &d, &len));
	d.dst.family = 6;
	assert_null(spool_frame(slot, 5, &d, &len));
	d.src.family = d.dst.family = 0;
	assert_null(spool_frame(slot, 5, &d, &len));
	/* the largest IPv4 UDP datagram */
	d = dgram4();
	assert_non_null(spool_frame(slot, 65507, &d, &len));
	assert_null(spool_frame(slot, 65508, &d, &len));
	/*
	 * the largest IPv6 UDP datagram: its UDP length (and the IPv6 payload
	 * length) of 16 bits holds 65,535, the header's 8 bytes included; one
	 * byte more would wrap them (found by fuzz_spool)
	 */
	d = dgram6();
	assert_non_null(spool_frame(slot, 65527, &d, &len));
	assert_null(spool_frame(slot, 65528, &d, &len));
	assert_null(spool_frame(slot, SPOOL_MAX_PAYLOAD, &d, &len));
}

/*
 * A UDP checksum that comes out 0 is written 0xFFFF (0 means "none", RFC
 * 768): "sflow\0" and the two bytes 0x90 0x71 (the checksum of "sflow\0\0\0",
 * worked out apart) make the sum all ones.
 */
static void
test_zero_checksum(void **state)
{
	spool_dgram d = dgram4();
	size_t		len;
	uint8_t    *b;

	(void) state;
	memcpy(slot + SPOOL_HEADROOM, "sflow\0\0\0", 8);
	b = spool_frame(slot, 8, &d, &len);
	assert_non_null(b);
	assert_int_equal(b[28 + 26] << 8 | b[28 + 27], 0x9071);
	memcpy(slot + SPOOL_HEADROOM, "sflow\0\x90\x71", 8);
	b = spool_frame(slot, 8, &d, &len);
	assert_non_null(b);
	assert_int_equal(b[28 + 26] << 8 | b[28 + 27], 0xFFFF);
}

/* Write a spool file of n frames (IPv4 and IPv6 alternately): its path. */
static void
write_file(const char *path, int n, int with_trailer)
{
	uint8_t		hdr[512];
	size_t		hl = spool_file_header(hdr, sizeof(hdr), "test collector");
	FILE	   *f = fopen(path, "wb");
	spool_stats st = {.opened_ns = 1000000001LL, .closed_ns = 2000000002LL, .received = 9,
	.accepted = (uint64_t) n, .kernel_dropped = 4, .have_dropped = 1};

	assert_non_null(f);
	assert_true(hl > 0 && hl % 4 == 0);
	assert_int_equal(fwrite(hdr, 1, hl, f), hl);
	for (int i = 0; i < n; i++)
	{
		spool_dgram d = i % 2 ? dgram6() : dgram4();
		size_t		len;
		uint8_t    *b;

		d.ts_ns += i;
		memset(slot + SPOOL_HEADROOM, 'a' + i, (size_t) (10 + i));
		b = spool_frame(slot, (size_t) (10 + i), &d, &len);
		assert_non_null(b);
		assert_int_equal(fwrite(b, 1, len, f), len);
	}
	if (with_trailer)
	{
		hl = spool_file_trailer(hdr, sizeof(hdr), &st);
		assert_true(hl > 0);
		assert_int_equal(fwrite(hdr, 1, hl, f), hl);
	}
	fclose(f);
}

/* libpcap reads the file: raw IP, nanosecond times, each frame whole */
static void
test_libpcap_reads_it(void **state)
{
	char		path[] = "/tmp/test_spool_XXXXXX";
	char		err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t	   *p;
	int			fd = mkstemp(path),
				n = 0;

	(void) state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, 5, 1);
	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_RAW);
	while (pcap_next_ex(p, &h, &data) == 1)
	{
		size_t		ip = n % 2 ? 40 : 20;

		assert_int_equal(h->caplen, ip + 8 + 10 + (unsigned) n);
		assert_int_equal(h->len, h->caplen);
		assert_int_equal(h->ts.tv_sec, 1764633600);
		assert_int_equal(h->ts.tv_usec, 123456789 + n);	/* nanoseconds, in this precision */
		assert_int_equal(data[0] >> 4, n % 2 ? 6 : 4);
		assert_int_equal(data[ip + 8], 'a' + n);
		n++;
	}
	assert_int_equal(n, 5);
	pcap_close(p);
	unlink(path);
}

static void
test_stats_round_trip(void **state)
{
	char		path[] = "/tmp/test_spool_XXXXXX";
	int			fd = mkstemp(path);
	spool_stats st;

	(void) state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, 3, 1);
	fd = open(path, O_RDONLY);
	assert_int_equal(spool_read_stats(fd, &st), 1);
	assert_int_equal(st.opened_ns, 1000000001LL);
	assert_int_equal(st.closed_ns, 2000000002LL);
	assert_int_equal(st.received, 9);
	assert_int_equal(st.accepted, 3);
	assert_int_equal(st.kernel_dropped, 4);
	assert_int_equal(st.have_dropped, 1);
	close(fd);
	/* without the closing block: none */
	write_file(path, 3, 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(spool_read_stats(fd, &st), 0);
	close(fd);
	unlink(path);
}

/* a crash: the file ends inside a block; recovering cuts it after the last whole one */
static void
test_recover(void **state)
{
	char		path[] = "/tmp/test_spool_XXXXXX";
	char		err[256];
	uint64_t	cut;
	int			fd = mkstemp(path);
	FILE	   *f;
	off_t		whole;

	(void) state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, 4, 0);
	f = fopen(path, "ab");
	fseek(f, 0, SEEK_END);
	whole = ftell(f);
	fwrite("\x06\0\0\0\x40\0\0\0half", 1, 12, f);	/* an EPB of 64 bytes, 12 written */
	fclose(f);
	fd = open(path, O_RDWR);
	assert_int_equal(spool_recover(fd, &cut, err, sizeof(err)), 4);
	assert_int_equal(cut, 12);
	assert_int_equal(lseek(fd, 0, SEEK_END), whole);
	/* recovering again changes nothing */
	assert_int_equal(spool_recover(fd, &cut, err, sizeof(err)), 4);
	assert_int_equal(cut, 0);
	close(fd);
	/* cut inside the section header: nothing was received */
	fd = open(path, O_RDWR | O_TRUNC);
	assert_int_equal(write(fd, "\x0a\x0d\x0d\x0a", 4), 4);
	assert_int_equal(spool_recover(fd, &cut, err, sizeof(err)), -2);
	close(fd);
	/* not a spool file */
	fd = open(path, O_RDWR | O_TRUNC);
	assert_int_equal(write(fd, "\xd4\xc3\xb2\xa1\x02\0\x04\0\0\0\0\0", 12), 12);
	assert_int_equal(spool_recover(fd, &cut, err, sizeof(err)), -1);
	close(fd);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_frame),
		cmocka_unit_test(test_ipv6_frame),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_zero_checksum),
		cmocka_unit_test(test_libpcap_reads_it),
		cmocka_unit_test(test_stats_round_trip),
		cmocka_unit_test(test_recover),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
