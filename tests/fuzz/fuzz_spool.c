/*
 * tests/fuzz/fuzz_spool.c: libFuzzer target for the spool files of
 * spamhints-load --listen (loader/live/spool.c): the blocks it writes and
 * the two readers of files on disk, spool_recover() (a file a crashed
 * collector left open) and spool_read_stats() (the closing statistics).
 *
 * An input whose first byte is even is a file as found on disk: any bytes.
 * Both readers must neither crash nor read outside it; a recovered file is
 * whole blocks after the cut, as many Enhanced Packet Blocks as counted.
 *
 * An input whose first byte is odd describes a collector's file: datagrams
 * (address family, ports, receive time, payload length and bytes from the
 * input) framed by spool_frame() after spool_file_header(), maybe the
 * trailer, then cut at a point the input picks (a crash in mid-write). After
 * spool_recover() libpcap (independent of the loader) must read the file to
 * its end, and find exactly the datagrams written whole before the cut, each
 * with its addresses, ports, time and payload, its IPv4 header checksum and
 * its UDP checksum right; spool_read_stats() must give back what the
 * trailer was given, when the file is whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "spool.h"

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz_spool: broken promise: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

#define MAX_DGRAMS 16

typedef struct rd
{
	const uint8_t *p;
	size_t		n;
} rd;

static uint64_t
take(rd *r, int bytes)
{
	uint64_t	v = 0;

	for (int i = 0; i < bytes; i++)
	{
		v = v << 8;
		if (r->n > 0)
		{
			v |= *r->p++;
			r->n--;
		}
	}
	return v;
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t	v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t) (p[0] << 8 | p[1]);
}

/* The file's bytes after the cut: whole blocks, each with its trailing length; the EPBs among them. */
static long
whole_blocks(int fd)
{
	off_t		size = lseek(fd, 0, SEEK_END);
	uint8_t    *b;
	long		epbs = 0;
	size_t		at = 0;

	CHECK(size >= 0);
	b = malloc((size_t) size + 1);
	CHECK(b != NULL);
	CHECK(pread(fd, b, (size_t) size, 0) == size);
	while (at < (size_t) size)
	{
		uint32_t	len;

		CHECK((size_t) size - at >= 12);
		len = get32(b + at + 4);
		CHECK(len >= 12 && len % 4 == 0 && len <= (size_t) size - at);
		CHECK(get32(b + at + len - 4) == len);
		epbs += get32(b + at) == 6;
		at += len;
	}
	free(b);
	return epbs;
}

static int
memfile(const uint8_t *data, size_t size)
{
	int			fd = memfd_create("fuzz_spool", 0);

	CHECK(fd >= 0);
	CHECK(size == 0 || write(fd, data, size) == (ssize_t) size);
	return fd;
}

static void
raw_file(const uint8_t *data, size_t size)
{
	int			fd = memfile(data, size);
	uint64_t	cut = 0;
	char		err[256];
	long		n;
	spool_stats st;
	int			rc = spool_read_stats(fd, &st);

	CHECK(rc == 0 || rc == 1);
	err[0] = '\0';
	n = spool_recover(fd, &cut, err, sizeof(err));
	CHECK(n >= -2);
	if (n == -1)
		CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
	if (n >= 0)
	{
		CHECK(cut <= size);
		CHECK((uint64_t) lseek(fd, 0, SEEK_END) == size - cut);
		CHECK(whole_blocks(fd) == n);
	}
	else
		CHECK((uint64_t) lseek(fd, 0, SEEK_END) == size);
	close(fd);
}

typedef struct sent
{
	spool_dgram d;
	size_t		len;
	const uint8_t *payload;
	size_t		end;			/* the file's length once its block is written */
} sent;

static uint16_t
csum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t) (p[i] << 8 | p[i + 1]);
	if (n % 2)
		sum += (uint32_t) p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t) sum;
}

static void
check_frame(const struct pcap_pkthdr *h, const uint8_t *f, const sent *s)
{
	int			v6 = s->d.src.family == 6;
	size_t		iplen = v6 ? 40 : 20;
	const uint8_t *udp = f + iplen;
	uint8_t		pseudo[40] = {0};
	size_t		al = v6 ? 16 : 4;
	uint32_t	sum;

	CHECK(h->caplen == h->len);
	CHECK(h->caplen == iplen + 8 + s->len);
	CHECK((int64_t) h->ts.tv_sec * 1000000000 + h->ts.tv_usec == s->d.ts_ns);	/* nanosecond pcap */
	if (v6)
	{
		CHECK(f[0] >> 4 == 6 && f[6] == 17);
		CHECK(be16(f + 4) == 8 + s->len);
		CHECK(memcmp(f + 8, s->d.src.bytes, 16) == 0 && memcmp(f + 24, s->d.dst.bytes, 16) == 0);
	}
	else
	{
		CHECK(f[0] == 0x45 && f[9] == 17);
		CHECK(be16(f + 2) == 28 + s->len);
		CHECK(csum(f, 20, 0) == 0xFFFF);
		CHECK(memcmp(f + 12, s->d.src.bytes, 4) == 0 && memcmp(f + 16, s->d.dst.bytes, 4) == 0);
	}
	CHECK(be16(udp) == s->d.src_port && be16(udp + 2) == s->d.dst_port);
	CHECK(be16(udp + 4) == 8 + s->len);
	CHECK(be16(udp + 6) != 0);
	CHECK(memcmp(udp + 8, s->payload, s->len) == 0);
	memcpy(pseudo, s->d.src.bytes, al);
	memcpy(pseudo + al, s->d.dst.bytes, al);
	if (v6)
	{
		pseudo[34] = (uint8_t) ((8 + s->len) >> 8);
		pseudo[35] = (uint8_t) (8 + s->len);
		pseudo[39] = 17;
	}
	else
	{
		pseudo[9] = 17;
		pseudo[10] = (uint8_t) ((8 + s->len) >> 8);
		pseudo[11] = (uint8_t) (8 + s->len);
	}
	sum = csum(pseudo, v6 ? 40 : 12, 0);
	CHECK(csum(udp, 8 + s->len, sum) == 0xFFFF);
}

static void
collector_file(const uint8_t *data, size_t size)
{
	static uint8_t file[MAX_DGRAMS * (SPOOL_HEADROOM + SPOOL_MAX_PAYLOAD + SPOOL_TAILROOM) + 4096];
	static uint8_t frame[SPOOL_HEADROOM + SPOOL_MAX_PAYLOAD + SPOOL_TAILROOM];
	sent		s[MAX_DGRAMS];
	rd			r = {data, size};
	size_t		at,
				n = 0,
				cutat,
				whole,
				hdr;
	int			with_trailer,
				fd,
				found = 0;
	spool_stats st = {0},
				back;
	uint64_t	cut;
	char		err[256],
				path[64],
				perr[PCAP_ERRBUF_SIZE];
	long		packets;
	pcap_t	   *pc;
	struct pcap_pkthdr *h;
	const u_char *bytes;
	int			rc;
	uint8_t		flags = (uint8_t) take(&r, 1);

	with_trailer = flags & 1;
	at = hdr = spool_file_header(file, sizeof(file), flags & 2 ? "collector fuzz, pid 1" : NULL);
	CHECK(at > 0);
	while (n < MAX_DGRAMS && r.n > 0)
	{
		sent	   *d = &s[n];
		uint8_t		fam = (uint8_t) take(&r, 1);
		size_t		blocklen;
		uint8_t    *blk;

		memset(d, 0, sizeof(*d));
		d->d.src.family = d->d.dst.family = fam & 1 ? 6 : 4;
		for (int i = 0; i < (fam & 1 ? 16 : 4); i++)
			d->d.src.bytes[i] = (uint8_t) take(&r, 1);
		d->d.dst.bytes[0] = 192;
		d->d.dst.bytes[3] = 7;
		d->d.src_port = (uint16_t) take(&r, 2);
		d->d.dst_port = 6343;
		d->d.ts_ns = (int64_t) (take(&r, 6) * 1000 + take(&r, 1));
		d->len = (size_t) take(&r, 2);
		if (fam & 4)
			d->len = SPOOL_MAX_PAYLOAD - (d->len & 63);	/* near the largest the collector hands over */
		else if (fam & 2)
			d->len = fam & 1 ? 65527 - (d->len & 63) : 65507 - (d->len & 63);	/* near the largest */
		else
			d->len %= 1500;
		if (d->len > r.n)
		{
			/* the payload: the input's bytes, repeated */
			static uint8_t big[SPOOL_MAX_PAYLOAD];

			for (size_t i = 0; i < d->len; i++)
				big[i] = r.n ? r.p[i % r.n] : (uint8_t) i;
			memcpy(frame + SPOOL_HEADROOM, big, d->len);
		}
		else
		{
			memcpy(frame + SPOOL_HEADROOM, r.p, d->len);
			r.p += d->len;
			r.n -= d->len;
		}
		blk = spool_frame(frame, d->len, &d->d, &blocklen);
		CHECK(blk != NULL || d->len > (fam & 1 ? 65527u : 65507u));
		if (blk == NULL)
		{
			/* the only datagrams refused: too long for one UDP datagram */
			CHECK(d->len > (fam & 1 ? 65527u : 65507u));
			continue;
		}
		CHECK(blocklen % 4 == 0 && at + blocklen <= sizeof(file));
		memcpy(file + at, blk, blocklen);
		d->payload = file + at + 28 + (fam & 1 ? 40 : 20) + 8;
		at += blocklen;
		d->end = at;
		n++;
	}
	whole = at;
	if (with_trailer)
	{
		size_t		tl;

		st.opened_ns = s[0].d.ts_ns;
		st.closed_ns = (int64_t) (take(&r, 6) * 1000);
		st.received = take(&r, 8);
		st.accepted = take(&r, 4);
		st.kernel_dropped = take(&r, 2);
		st.have_dropped = 1;
		tl = spool_file_trailer(file + at, sizeof(file) - at, &st);
		CHECK(tl > 0);
		at += tl;
		whole = at;
	}
	/* the crash: the file cut at some point of its bytes (the input's last two bytes say where) */
	cutat = flags & 4 ? at - (size_t) take(&r, 2) % (at + 1) : at;
	fd = memfile(file, cutat);
	if (cutat == whole && with_trailer)
	{
		CHECK(spool_read_stats(fd, &back) == 1);
		CHECK(back.opened_ns == st.opened_ns && back.closed_ns == st.closed_ns &&
			  back.received == st.received && back.accepted == st.accepted &&
			  back.kernel_dropped == st.kernel_dropped && back.have_dropped == 1);
	}
	else
		CHECK(spool_read_stats(fd, &back) >= 0);
	packets = spool_recover(fd, &cut, err, sizeof(err));
	if (packets == -1)
	{
		/* only a file cut inside its section header block */
		CHECK(cutat < 12);
		close(fd);
		return;
	}
	if (packets == -2)
	{
		/* no interface: cut before the end of the interface block */
		CHECK(cutat < hdr);
		close(fd);
		return;
	}
	for (size_t i = 0; i < n; i++)
		found += s[i].end <= cutat;
	CHECK(packets == found);
	CHECK(cut == cutat - (size_t) lseek(fd, 0, SEEK_END));
	CHECK(whole_blocks(fd) == packets);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	lseek(fd, 0, SEEK_SET);
	pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
	CHECK(pc != NULL);
	CHECK(pcap_datalink(pc) == DLT_RAW || pcap_datalink(pc) == 12 || pcap_datalink(pc) == 14);
	for (long i = 0; (rc = pcap_next_ex(pc, &h, &bytes)) == 1; i++)
	{
		CHECK(i < packets);
		check_frame(h, bytes, &s[i]);
		found--;
	}
	CHECK(rc == PCAP_ERROR_BREAK);	/* the end, not an error */
	CHECK(found == 0);
	pcap_close(pc);
	close(fd);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		collector_file(data + 1, size - 1);
	else
		raw_file(data + 1, size - 1);
	return 0;
}
