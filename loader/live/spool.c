/*
 * loader/live/spool.c: pcapng blocks of the spool files (spool.h).
 *
 * Blocks are written in the machine's byte order, which the Section Header
 * Block's byte-order magic records (pcapng allows either).
 */
#include "spool.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BT_SHB		0x0A0D0D0Au
#define BT_IDB		0x00000001u
#define BT_ISB		0x00000005u
#define BT_EPB		0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du

static void
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void
put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t	v;

	memcpy(&v, p, 4);
	return v;
}

static void
be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) (v >> 8);
	p[1] = (uint8_t) v;
}

static size_t
pad4(size_t n)
{
	return (n + 3) & ~(size_t) 3;
}

/* One option (code, length, value, padding) at out + at: the new at, or 0 when it does not fit. */
static size_t
put_option(uint8_t *out, size_t outlen, size_t at, uint16_t code, const void *value, size_t len)
{
	if (len > 0xFFFF || at + 4 + pad4(len) > outlen)
		return 0;
	put16(out + at, code);
	put16(out + at + 2, (uint16_t) len);
	memset(out + at + 4, 0, pad4(len));
	if (len)
		memcpy(out + at + 4, value, len);
	return at + 4 + pad4(len);
}

/* Close the block that starts at out + start: end of options, trailing length. The new at, or 0. */
static size_t
end_block(uint8_t *out, size_t outlen, size_t start, size_t at)
{
	if ((at = put_option(out, outlen, at, 0, NULL, 0)) == 0 || at + 4 > outlen)
		return 0;
	at += 4;
	put32(out + start + 4, (uint32_t) (at - start));
	put32(out + at - 4, (uint32_t) (at - start));
	return at;
}

size_t
spool_file_header(uint8_t *out, size_t outlen, const char *comment)
{
	static const char appl[] = "spamhints-load --listen";
	static const char ifname[] = "spamhints-load --listen: UDP datagrams as received";
	uint8_t		tsresol = 9;	/* 10^-9 s */
	size_t		at;
	size_t		idb;

	if (outlen < 64)
		return 0;
	/* Section Header Block */
	put32(out, BT_SHB);
	put32(out + 8, BYTE_ORDER_MAGIC);
	put16(out + 12, 1);
	put16(out + 14, 0);
	memset(out + 16, 0xFF, 8);	/* section length: not given */
	at = 24;
	if (comment && (at = put_option(out, outlen, at, 1, comment, strlen(comment))) == 0)
		return 0;
	if ((at = put_option(out, outlen, at, 4, appl, sizeof(appl) - 1)) == 0)
		return 0;
	if ((at = end_block(out, outlen, 0, at)) == 0)
		return 0;
	/* Interface Description Block */
	idb = at;
	if (idb + 16 > outlen)
		return 0;
	put32(out + idb, BT_IDB);
	put16(out + idb + 8, SPOOL_LINKTYPE_RAW);
	put16(out + idb + 10, 0);
	put32(out + idb + 12, 262144);	/* snapshot length: more than any datagram */
	at = idb + 16;
	if ((at = put_option(out, outlen, at, 2, ifname, sizeof(ifname) - 1)) == 0 ||
		(at = put_option(out, outlen, at, 9, &tsresol, 1)) == 0)
		return 0;
	return end_block(out, outlen, idb, at);
}

uint32_t
spool_csum_add(uint32_t sum, const uint8_t *data, size_t len)
{
	size_t		i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t) (data[i] << 8 | data[i + 1]);
	if (i < len)
		sum += (uint32_t) data[i] << 8;
	/* folded: a sum of 64 kB of words fits in 32 bits */
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return sum;
}

uint16_t
spool_csum_end(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t) ~sum;
}

uint8_t *
spool_frame(uint8_t *buf, size_t len, const spool_dgram *d, size_t *blocklen)
{
	int			v6 = d->src.family == 6;
	size_t		iplen = v6 ? 40 : 20;
	uint8_t    *udp = buf + SPOOL_HEADROOM - 8;
	uint8_t    *ip = udp - iplen;
	uint8_t    *blk = ip - 28;
	size_t		addrlen = v6 ? 16 : 4;
	size_t		udplen = len + 8;
	size_t		caplen = iplen + udplen;
	size_t		total = 28 + pad4(caplen) + 4;
	uint64_t	ts = (uint64_t) d->ts_ns;
	uint32_t	sum;
	uint8_t		pseudo[40];
	uint16_t	csum;

	if (len > SPOOL_MAX_PAYLOAD || (d->src.family != 4 && d->src.family != 6) ||
		d->dst.family != d->src.family || (v6 ? udplen : iplen + udplen) > 0xFFFF)
		return NULL;

	/* UDP header and checksum, over the pseudo header, the UDP header and the payload */
	be16(udp, d->src_port);
	be16(udp + 2, d->dst_port);
	be16(udp + 4, (uint16_t) udplen);
	be16(udp + 6, 0);
	memcpy(pseudo, d->src.bytes, addrlen);
	memcpy(pseudo + addrlen, d->dst.bytes, addrlen);
	if (v6)
	{
		pseudo[32] = (uint8_t) (udplen >> 24);
		pseudo[33] = (uint8_t) (udplen >> 16);
		pseudo[34] = (uint8_t) (udplen >> 8);
		pseudo[35] = (uint8_t) udplen;
		pseudo[36] = pseudo[37] = pseudo[38] = 0;
		pseudo[39] = 17;
	}
	else
	{
		pseudo[8] = 0;
		pseudo[9] = 17;
		be16(pseudo + 10, (uint16_t) udplen);
	}
	sum = spool_csum_add(0, pseudo, v6 ? 40 : 12);
	sum = spool_csum_add(sum, udp, udplen);
	csum = spool_csum_end(sum);
	be16(udp + 6, csum == 0 ? 0xFFFF : csum);	/* 0 means "no checksum" */

	/* the IP header */
	if (v6)
	{
		ip[0] = 0x60;
		ip[1] = ip[2] = ip[3] = 0;
		be16(ip + 4, (uint16_t) udplen);
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, d->src.bytes, 16);
		memcpy(ip + 24, d->dst.bytes, 16);
	}
	else
	{
		ip[0] = 0x45;
		ip[1] = 0;
		be16(ip + 2, (uint16_t) (iplen + udplen));
		be16(ip + 4, 0);
		be16(ip + 6, 0x4000);	/* don't fragment: it arrived whole */
		ip[8] = 64;
		ip[9] = 17;
		be16(ip + 10, 0);
		memcpy(ip + 12, d->src.bytes, 4);
		memcpy(ip + 16, d->dst.bytes, 4);
		be16(ip + 10, spool_csum_end(spool_csum_add(0, ip, 20)));
	}

	/* the Enhanced Packet Block around it */
	put32(blk, BT_EPB);
	put32(blk + 4, (uint32_t) total);
	put32(blk + 8, 0);
	put32(blk + 12, (uint32_t) (ts >> 32));
	put32(blk + 16, (uint32_t) ts);
	put32(blk + 20, (uint32_t) caplen);
	put32(blk + 24, (uint32_t) caplen);
	memset(blk + 28 + caplen, 0, pad4(caplen) - caplen);
	put32(blk + total - 4, (uint32_t) total);
	*blocklen = total;
	return blk;
}

static size_t
put_ts_option(uint8_t *out, size_t outlen, size_t at, uint16_t code, int64_t ns)
{
	uint8_t		v[8];

	put32(v, (uint32_t) ((uint64_t) ns >> 32));
	put32(v + 4, (uint32_t) (uint64_t) ns);
	return put_option(out, outlen, at, code, v, 8);
}

size_t
spool_file_trailer(uint8_t *out, size_t outlen, const spool_stats *st)
{
	size_t		at = 20;

	if (outlen < 20)
		return 0;
	put32(out, BT_ISB);
	put32(out + 8, 0);
	put32(out + 12, (uint32_t) ((uint64_t) st->closed_ns >> 32));
	put32(out + 16, (uint32_t) (uint64_t) st->closed_ns);
	if ((at = put_ts_option(out, outlen, at, 2, st->opened_ns)) == 0 ||
		(at = put_ts_option(out, outlen, at, 3, st->closed_ns)) == 0 ||
		(at = put_option(out, outlen, at, 4, &st->received, 8)) == 0 ||
		(at = put_option(out, outlen, at, 6, &st->accepted, 8)) == 0 ||
		(st->have_dropped && (at = put_option(out, outlen, at, 7, &st->kernel_dropped, 8)) == 0) ||
		(at = put_option(out, outlen, at, 8, &st->accepted, 8)) == 0)
		return 0;
	return end_block(out, outlen, 0, at);
}

long
spool_recover(int fd, uint64_t *cut, char *err, size_t errlen)
{
	struct stat st;
	uint64_t	at = 0,
				size;
	long		packets = 0;
	int			interfaces = 0;

	*cut = 0;
	if (fstat(fd, &st) != 0)
	{
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	size = (uint64_t) st.st_size;
	for (;;)
	{
		uint8_t		h[12];
		uint32_t	type,
					len;

		if (at + 12 > size || pread(fd, h, 12, (off_t) at) != 12)
			break;
		type = get32(h);
		len = get32(h + 4);
		if (at == 0 && (type != BT_SHB || get32(h + 8) != BYTE_ORDER_MAGIC))
		{
			snprintf(err, errlen, "not a spool file: no pcapng section header of this machine's byte order");
			return -1;
		}
		if (len < 12 || len % 4 != 0 || at + len > size)
			break;
		if (pread(fd, h, 4, (off_t) (at + len - 4)) != 4 || get32(h) != len)
			break;
		if (type == BT_IDB)
			interfaces++;
		else if (type == BT_EPB)
			packets++;
		at += len;
	}
	if (interfaces == 0)
		return -2;
	if (at < size)
	{
		if (ftruncate(fd, (off_t) at) != 0)
		{
			snprintf(err, errlen, "cannot cut it after its last whole block: %s", strerror(errno));
			return -1;
		}
		*cut = size - at;
	}
	return packets;
}

int
spool_read_stats(int fd, spool_stats *st)
{
	struct stat sb;
	uint8_t		b[256];
	uint32_t	len;
	uint64_t	size;
	size_t		at;

	memset(st, 0, sizeof(*st));
	if (fstat(fd, &sb) != 0)
		return -1;
	size = (uint64_t) sb.st_size;
	if (size < 32 || pread(fd, b, 4, (off_t) (size - 4)) != 4)
		return size < 32 ? 0 : -1;
	len = get32(b);
	if (len < 24 || len > sizeof(b) || len % 4 != 0 || len > size)
		return 0;
	if (pread(fd, b, len, (off_t) (size - len)) != (ssize_t) len)
		return -1;
	if (get32(b) != BT_ISB || get32(b + 4) != len)
		return 0;
	for (at = 20; at + 4 <= len - 4;)
	{
		uint16_t	code,
					olen;
		uint64_t	v = 0;

		memcpy(&code, b + at, 2);
		memcpy(&olen, b + at + 2, 2);
		if (code == 0 || at + 4 + pad4(olen) > len - 4)
			break;
		if (olen == 8)
		{
			if (code == 2 || code == 3)
				v = (uint64_t) get32(b + at + 4) << 32 | get32(b + at + 8);
			else
				memcpy(&v, b + at + 4, 8);
		}
		switch (code)
		{
			case 2:
				st->opened_ns = (int64_t) v;
				break;
			case 3:
				st->closed_ns = (int64_t) v;
				break;
			case 4:
				st->received = v;
				break;
			case 6:
				st->accepted = v;
				break;
			case 7:
				st->kernel_dropped = v;
				st->have_dropped = 1;
				break;
		}
		at += 4 + pad4(olen);
	}
	return 1;
}
