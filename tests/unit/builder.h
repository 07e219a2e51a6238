/*
 * tests/unit/builder.h: build sFlow datagrams and sampled packet headers
 * byte by byte, for the unit tests.
 *
 * Everything is written big-endian by hand, so the bytes under test do not
 * come from the code under test. The datagrams in the fixture functions at
 * the end (v2, v4, v5) are the ones checked against tshark, see test_sflow.c.
 */
#ifndef SPAMHINTS_TEST_BUILDER_H
#define SPAMHINTS_TEST_BUILDER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define BUF_MAX 4096

typedef struct buf
{
	uint8_t		data[BUF_MAX];
	size_t		len;
} buf;

static inline void
put8(buf *b, uint8_t v)
{
	if (b->len < BUF_MAX)
		b->data[b->len++] = v;
}

static inline void
put16(buf *b, uint16_t v)
{
	put8(b, (uint8_t) (v >> 8));
	put8(b, (uint8_t) v);
}

static inline void
put32(buf *b, uint32_t v)
{
	put16(b, (uint16_t) (v >> 16));
	put16(b, (uint16_t) v);
}

static inline void
put_bytes(buf *b, const void *p, size_t n)
{
	const uint8_t *q = p;

	for (size_t i = 0; i < n; i++)
		put8(b, q[i]);
}

static inline void
pad4(buf *b)
{
	while (b->len % 4)
		put8(b, 0);
}

/* XDR opaque/string: byte length, bytes, zero padding to 4. */
static inline void
put_opaque(buf *b, const void *p, size_t n)
{
	put32(b, (uint32_t) n);
	put_bytes(b, p, n);
	pad4(b);
}

/* Reserve a 32-bit length word; end_len() fills in the bytes written since. */
static inline size_t
begin_len(buf *b)
{
	size_t		at = b->len;

	put32(b, 0);
	return at;
}

static inline void
end_len(buf *b, size_t at)
{
	uint32_t	n = (uint32_t) (b->len - at - 4);

	b->data[at] = (uint8_t) (n >> 24);
	b->data[at + 1] = (uint8_t) (n >> 16);
	b->data[at + 2] = (uint8_t) (n >> 8);
	b->data[at + 3] = (uint8_t) n;
}

static inline void
set32(buf *b, size_t at, uint32_t v)
{
	b->data[at] = (uint8_t) (v >> 24);
	b->data[at + 1] = (uint8_t) (v >> 16);
	b->data[at + 2] = (uint8_t) (v >> 8);
	b->data[at + 3] = (uint8_t) v;
}

/* ---- sampled packets ---------------------------------------------------- */

static const uint8_t MAC_DST[6] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
static const uint8_t MAC_SRC[6] = {0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};
static const uint8_t IP4_A[4] = {198, 51, 100, 7};
static const uint8_t IP4_B[4] = {203, 0, 113, 9};
static const uint8_t IP6_A[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
static const uint8_t IP6_B[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};

static inline void
eth_macs(buf *b)
{
	put_bytes(b, MAC_DST, 6);
	put_bytes(b, MAC_SRC, 6);
}

/* 802.1Q/802.1ad tag: TPID then TCI (priority 3 bits, DEI, 12-bit VLAN id). */
static inline void
vlan_tag(buf *b, uint16_t tpid, uint8_t prio, uint16_t vid)
{
	put16(b, tpid);
	put16(b, (uint16_t) ((prio << 13) | (vid & 0x0fff)));
}

/* IPv4 header with opt_len bytes of options (NOPs), IHL computed. */
static inline void
ipv4_header(buf *b, uint8_t proto, uint16_t total_len, uint8_t ttl,
			uint16_t frag_field, size_t opt_len)
{
	put8(b, (uint8_t) (0x40 | ((20 + opt_len) / 4)));
	put8(b, 0);					/* TOS */
	put16(b, total_len);
	put16(b, 0x1234);			/* id */
	put16(b, frag_field);		/* flags + fragment offset */
	put8(b, ttl);
	put8(b, proto);
	put16(b, 0);				/* checksum (not checked by anyone here) */
	put_bytes(b, IP4_A, 4);
	put_bytes(b, IP4_B, 4);
	for (size_t i = 0; i < opt_len; i++)
		put8(b, 1);				/* NOP */
}

static inline void
ipv6_header(buf *b, uint8_t next, uint16_t payload_len, uint8_t hop_limit)
{
	put32(b, 0x60000000);
	put16(b, payload_len);
	put8(b, next);
	put8(b, hop_limit);
	put_bytes(b, IP6_A, 16);
	put_bytes(b, IP6_B, 16);
}

/* TCP header of data_off 32-bit words (>= 5); options are NOPs. */
static inline void
tcp_header(buf *b, uint16_t sport, uint16_t dport, uint8_t flags, uint8_t data_off)
{
	put16(b, sport);
	put16(b, dport);
	put32(b, 1000);				/* seq */
	put32(b, 2000);				/* ack */
	put8(b, (uint8_t) (data_off << 4));
	put8(b, flags);
	put16(b, 65535);			/* window */
	put16(b, 0);				/* checksum */
	put16(b, 0);				/* urgent */
	for (int i = 20; i < data_off * 4; i++)
		put8(b, 1);
}

static inline void
udp_header(buf *b, uint16_t sport, uint16_t dport, uint16_t len)
{
	put16(b, sport);
	put16(b, dport);
	put16(b, len);
	put16(b, 0);
}

/*
 * The fixture packet: Ethernet, IPv4 198.51.100.7 -> 203.0.113.9 TTL 64,
 * TCP 40000 -> 25 PSH+ACK, 6 payload bytes "EHLO\r\n". 60 bytes.
 */
#define SMTP_FRAME_LEN 60
static inline void
smtp_frame(buf *b)
{
	eth_macs(b);
	put16(b, 0x0800);
	ipv4_header(b, 6, 46, 64, 0x4000, 0);
	tcp_header(b, 40000, 25, 0x18, 5);
	put_bytes(b, "EHLO\r\n", 6);
}

/*
 * IPv6 fixture packet on a QinQ link: outer 802.1ad VLAN 100, inner 802.1Q
 * VLAN 200, IPv6 2001:db8::1 -> 2001:db8::2 hop limit 57, TCP 25 -> 51000
 * SYN+ACK, no payload. 14 + 8 + 40 + 20 = 82 bytes.
 */
#define QINQ_V6_FRAME_LEN 82
static inline void
qinq_v6_frame(buf *b)
{
	eth_macs(b);
	vlan_tag(b, 0x88a8, 0, 100);
	vlan_tag(b, 0x8100, 5, 200);
	put16(b, 0x86dd);
	ipv6_header(b, 6, 20, 57);
	tcp_header(b, 25, 51000, 0x12, 5);
}

/* ---- sFlow pieces -------------------------------------------------------- */

static inline void
sflow_v5_header(buf *b, uint32_t agent_v4, uint32_t sub_agent, uint32_t seq,
				uint32_t uptime, uint32_t num_samples)
{
	put32(b, 5);
	put32(b, 1);
	put32(b, agent_v4);
	put32(b, sub_agent);
	put32(b, seq);
	put32(b, uptime);
	put32(b, num_samples);
}

static inline void
sflow_v24_header(buf *b, uint32_t version, uint32_t agent_v4, uint32_t seq,
				 uint32_t uptime, uint32_t num_samples)
{
	put32(b, version);
	put32(b, 1);
	put32(b, agent_v4);
	put32(b, seq);
	put32(b, uptime);
	put32(b, num_samples);
}

/* v5 raw packet header record around the packet in pkt (padded to 4). */
static inline void
v5_raw_header_record(buf *b, uint32_t header_protocol, const buf *pkt,
					 uint32_t frame_length, uint32_t stripped)
{
	size_t		len;

	put32(b, 1);
	len = begin_len(b);
	put32(b, header_protocol);
	put32(b, frame_length);
	put32(b, stripped);
	put_opaque(b, pkt->data, pkt->len);
	end_len(b, len);
}

static inline void
v5_switch_record(buf *b, uint32_t src_vlan, uint32_t dst_vlan)
{
	put32(b, 1001);
	put32(b, 16);
	put32(b, src_vlan);
	put32(b, 1);				/* src priority */
	put32(b, dst_vlan);
	put32(b, 2);				/* dst priority */
}

/*
 * Gateway body, v4/v5 layout: as 65001, src_as, src_peer_as 64999, two
 * segments (AS_SEQUENCE 64999 3356, AS_SET 15169 last_as), two communities,
 * localpref 100.
 */
static inline void
gateway_segments(buf *b, uint32_t src_as, uint32_t last_as)
{
	put32(b, 65001);
	put32(b, src_as);
	put32(b, 64999);
	put32(b, 2);				/* segments */
	put32(b, 2);				/* AS_SEQUENCE */
	put32(b, 2);
	put32(b, 64999);
	put32(b, 3356);
	put32(b, 1);				/* AS_SET */
	put32(b, 2);
	put32(b, 15169);
	put32(b, last_as);
	put32(b, 2);				/* communities */
	put32(b, 0xfde90001);
	put32(b, 0xfde90002);
	put32(b, 100);				/* localpref */
}

static inline void
v5_gateway_record(buf *b, uint32_t src_as, uint32_t last_as)
{
	size_t		len;

	put32(b, 1003);
	len = begin_len(b);
	put32(b, 1);				/* next hop: IPv4 192.0.2.254 */
	put32(b, 0xc00002fe);
	gateway_segments(b, src_as, last_as);
	end_len(b, len);
}

/* IPv4 data record body (v5 format 3, v2/v4 packet type 2): 32 bytes. */
static inline void
ipv4_data(buf *b, uint32_t length, uint32_t proto, uint32_t sport,
		  uint32_t dport, uint32_t tcp_flags)
{
	put32(b, length);
	put32(b, proto);
	put_bytes(b, IP4_A, 4);
	put_bytes(b, IP4_B, 4);
	put32(b, sport);
	put32(b, dport);
	put32(b, tcp_flags);
	put32(b, 0x10);				/* tos */
}

/* IPv6 data record body (v5 format 4, v2/v4 packet type 3): 56 bytes. */
static inline void
ipv6_data(buf *b, uint32_t length, uint32_t proto, uint32_t sport,
		  uint32_t dport, uint32_t tcp_flags)
{
	put32(b, length);
	put32(b, proto);
	put_bytes(b, IP6_A, 16);
	put_bytes(b, IP6_B, 16);
	put32(b, sport);
	put32(b, dport);
	put32(b, tcp_flags);
	put32(b, 0);				/* priority */
}

/* v2/v4 generic interface counters block (88 bytes). */
static inline void
v24_generic_counters(buf *b, uint32_t if_index)
{
	put32(b, if_index);
	put32(b, 6);				/* ifType ethernetCsmacd */
	put32(b, 0);				/* ifSpeed, 64-bit: 1 Gbit/s */
	put32(b, 1000000000);
	put32(b, 1);				/* ifDirection full duplex */
	put32(b, 3);				/* ifStatus up/up */
	for (int i = 0; i < 16; i++)	/* in/out octets (2 x 64 bits) and 12 counters */
		put32(b, (uint32_t) (i + 1));
}

/* ---- fixture datagrams ---------------------------------------------------- */

/*
 * v5: agent 192.0.2.1, sub-agent 7, sequence 42, uptime 123456, 6 samples:
 *  1 flow sample, seq 1, source 0:5, rate 512, pool 1024, drops 3,
 *    input ifIndex 5, output "multiple" (format 2) 7; records: extended
 *    switch (10 -> 20) BEFORE the raw header (the SMTP fixture frame), then
 *    extended gateway (src_as 64500, dst AS path ending in 64511) AFTER it.
 *  2 counter sample (format 2), skipped by length.
 *  3 drop sample (format 5), skipped by length.
 *  4 expanded flow sample, seq 2, source type 0 index 70000, rate 4096,
 *    input format 0 value 100000, output format 0 value 200000; records:
 *    extended router (1002, unknown here), an IPv4 data record (not a packet
 *    record because a raw header follows), raw header QinQ/IPv6 fixture.
 *  5 flow sample, seq 3, no raw header: an IPv4 data record (TCP, flags
 *    word 0x00000112: low byte 0x12) and an IPv6 data record (UDP).
 *  6 sample of enterprise 4413 format 1, skipped by length.
 */
static inline void
fixture_v5(buf *b)
{
	buf			pkt;
	size_t		sample;
	size_t		rec;

	b->len = 0;
	sflow_v5_header(b, 0xc0000201, 7, 42, 123456, 6);

	/* 1 */
	put32(b, 1);
	sample = begin_len(b);
	put32(b, 1);				/* sequence */
	put32(b, 5);				/* source id: type 0, index 5 */
	put32(b, 512);
	put32(b, 1024);
	put32(b, 3);
	put32(b, 5);				/* input: format 0, ifIndex 5 */
	put32(b, 0x80000007);		/* output: format 2, 7 interfaces */
	put32(b, 3);				/* records */
	v5_switch_record(b, 10, 20);
	pkt.len = 0;
	smtp_frame(&pkt);
	v5_raw_header_record(b, 1, &pkt, SMTP_FRAME_LEN + 4, 4);
	v5_gateway_record(b, 64500, 64511);
	end_len(b, sample);

	/* 2: counter sample with one generic interface record */
	put32(b, 2);
	sample = begin_len(b);
	put32(b, 9);
	put32(b, 5);
	put32(b, 1);
	put32(b, 1);
	rec = begin_len(b);
	v24_generic_counters(b, 5);
	end_len(b, rec);
	end_len(b, sample);

	/* 3: drop sample (sflow_drops.txt): skipped whole */
	put32(b, 5);
	sample = begin_len(b);
	put32(b, 1);				/* sequence */
	put32(b, 0);				/* source id, expanded: type */
	put32(b, 5);				/* and index */
	put32(b, 0);				/* drops */
	put32(b, 5);				/* input */
	put32(b, 0);				/* output */
	put32(b, 1);				/* reason */
	put32(b, 0);				/* records */
	end_len(b, sample);

	/* 4: expanded flow sample */
	put32(b, 3);
	sample = begin_len(b);
	put32(b, 2);
	put32(b, 0);
	put32(b, 70000);
	put32(b, 4096);
	put32(b, 8192);
	put32(b, 0);
	put32(b, 0);
	put32(b, 100000);
	put32(b, 0);
	put32(b, 200000);
	put32(b, 3);
	put32(b, 1002);				/* extended router: next hop, masks */
	rec = begin_len(b);
	put32(b, 1);
	put32(b, 0xc00002fe);
	put32(b, 24);
	put32(b, 16);
	end_len(b, rec);
	put32(b, 3);
	rec = begin_len(b);
	ipv4_data(b, 1500, 17, 53, 53, 0);
	end_len(b, rec);
	pkt.len = 0;
	qinq_v6_frame(&pkt);
	v5_raw_header_record(b, 1, &pkt, QINQ_V6_FRAME_LEN + 4, 4);
	end_len(b, sample);

	/* 5: IP data records only */
	put32(b, 1);
	sample = begin_len(b);
	put32(b, 3);
	put32(b, 0x01000006);		/* source id: type 1 (VLAN), index 6 */
	put32(b, 256);
	put32(b, 768);
	put32(b, 0);
	put32(b, 0x40000000);		/* input: format 1 (discarded), 0 */
	put32(b, 9);
	put32(b, 2);
	put32(b, 3);
	rec = begin_len(b);
	ipv4_data(b, 40, 6, 51000, 25, 0x112);
	end_len(b, rec);
	put32(b, 4);
	rec = begin_len(b);
	ipv6_data(b, 1280, 17, 5353, 53, 0xff);
	end_len(b, rec);
	end_len(b, sample);

	/* 6: enterprise 4413, format 1 */
	put32(b, (4413u << 12) | 1);
	sample = begin_len(b);
	put32(b, 0xdeadbeef);
	put32(b, 0xdeadbeef);
	end_len(b, sample);
}

/*
 * v2 or v4: agent 192.0.2.2, sequence 77, uptime 9999, 5 samples:
 *  1 flow sample, seq 11, source 0:3, rate 400, pool 4000, drops 1,
 *    input 3, output 0x80000002 (2 interfaces); packet type 1 (header) with
 *    the SMTP fixture frame cut at 58 bytes (padded to 60, so the padding is
 *    exercised); extended: switch (30 -> 40), router (IPv4 next hop),
 *    gateway (v2 flat path 64999 3356 64520 / v4 the segments of
 *    gateway_segments() ending in 64520, src_as 64510), and with_user_url
 *    user ("alice", "bob!") and url (direction 1, "http://x/"): tshark
 *    4.0 does not skip those two, so the variant without them is the one
 *    whose later samples tshark can check.
 *  2 counter sample, ethernet counters (type 2).
 *  3 flow sample, seq 12, packet type 2 (IPv4 data, TCP 51000 -> 25,
 *    flags 0x02), no extended records.
 *  4 counter sample, VLAN counters (type 7).
 *  5 flow sample, seq 13, packet type 3 (IPv6 data, UDP), one switch record.
 */
static inline void
fixture_v24(buf *b, uint32_t version, int with_user_url)
{
	buf			pkt;

	b->len = 0;
	sflow_v24_header(b, version, 0xc0000202, 77, 9999, 5);

	/* 1 */
	put32(b, 1);
	put32(b, 11);
	put32(b, 3);
	put32(b, 400);
	put32(b, 4000);
	put32(b, 1);
	put32(b, 3);
	put32(b, 0x80000002);
	put32(b, 1);				/* packet type: header */
	put32(b, 1);				/* Ethernet */
	put32(b, SMTP_FRAME_LEN + 4);	/* frame length */
	pkt.len = 0;
	smtp_frame(&pkt);
	put_opaque(b, pkt.data, SMTP_FRAME_LEN - 2);
	put32(b, with_user_url ? 5 : 3);	/* extended records */
	put32(b, 1);				/* switch */
	put32(b, 30);
	put32(b, 0);
	put32(b, 40);
	put32(b, 0);
	put32(b, 2);				/* router */
	put32(b, 1);
	put32(b, 0xc00002fe);
	put32(b, 24);
	put32(b, 24);
	put32(b, 3);				/* gateway */
	if (version == 2)
	{
		put32(b, 65001);
		put32(b, 64510);
		put32(b, 64999);
		put32(b, 3);
		put32(b, 64999);
		put32(b, 3356);
		put32(b, 64520);
	}
	else
		gateway_segments(b, 64510, 64520);
	if (with_user_url)
	{
		put32(b, 4);			/* user */
		put_opaque(b, "alice", 5);
		put_opaque(b, "bob!", 4);
		put32(b, 5);			/* url */
		put32(b, 1);
		put_opaque(b, "http://x/", 9);
	}

	/* 2 */
	put32(b, 2);
	put32(b, 21);
	put32(b, 3);
	put32(b, 30);
	put32(b, 2);				/* ethernet: generic + 13 words */
	v24_generic_counters(b, 3);
	for (int i = 0; i < 13; i++)
		put32(b, 0);

	/* 3 */
	put32(b, 1);
	put32(b, 12);
	put32(b, 3);
	put32(b, 400);
	put32(b, 4400);
	put32(b, 0);
	put32(b, 3);
	put32(b, 4);
	put32(b, 2);				/* packet type: IPv4 data */
	ipv4_data(b, 60, 6, 51000, 25, 0x02);
	put32(b, 0);

	/* 4 */
	put32(b, 2);
	put32(b, 22);
	put32(b, 0x01000064);		/* source: VLAN 100 */
	put32(b, 30);
	put32(b, 7);				/* VLAN counters */
	put32(b, 100);
	put32(b, 0);				/* octets, 64-bit */
	put32(b, 123456);
	put32(b, 1);
	put32(b, 2);
	put32(b, 3);
	put32(b, 4);

	/* 5 */
	put32(b, 1);
	put32(b, 13);
	put32(b, 3);
	put32(b, 400);
	put32(b, 4800);
	put32(b, 0);
	put32(b, 3);
	put32(b, 4);
	put32(b, 3);				/* packet type: IPv6 data */
	ipv6_data(b, 200, 17, 5353, 53, 0);
	put32(b, 1);
	put32(b, 1);				/* switch */
	put32(b, 50);
	put32(b, 0);
	put32(b, 60);
	put32(b, 0);
}

#endif							/* SPAMHINTS_TEST_BUILDER_H */
