/*
 * tests/unit/test_packet.c: sh_parse_packet() on sampled headers built byte
 * by byte, against values computed by hand.
 *
 * Every parse runs on a heap copy of exactly the header's length, so that
 * AddressSanitizer reports any read past it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sflow.h"
#include "builder.h"

/* The bytes last parsed, on the heap at their exact size. */
static uint8_t *heap;

static sh_packet_status
parse(uint32_t proto, const buf *b, size_t len, sh_packet *out)
{
	free(heap);
	heap = malloc(len ? len : 1);
	assert_non_null(heap);
	memcpy(heap, b->data, len);
	return sh_parse_packet(proto, heap, len, out);
}

static int
teardown(void **state)
{
	(void) state;
	free(heap);
	heap = NULL;
	return 0;
}

static void
assert_ipv4_fixture_addresses(const sh_packet *p)
{
	assert_int_equal(p->ip_version, 4);
	assert_int_equal(p->src.family, 4);
	assert_memory_equal(p->src.bytes, IP4_A, 4);
	assert_int_equal(p->dst.family, 4);
	assert_memory_equal(p->dst.bytes, IP4_B, 4);
}

static void
assert_ipv6_fixture_addresses(const sh_packet *p)
{
	assert_int_equal(p->ip_version, 6);
	assert_int_equal(p->src.family, 6);
	assert_memory_equal(p->src.bytes, IP6_A, 16);
	assert_int_equal(p->dst.family, 6);
	assert_memory_equal(p->dst.bytes, IP6_B, 16);
}

/* Ethernet, IPv4, TCP 40000 -> 25 PSH+ACK, "EHLO\r\n" */
static void
test_ethernet_ipv4_tcp(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	smtp_frame(&b);
	assert_int_equal(b.len, 60);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.has_mac, 1);
	assert_memory_equal(p.dst_mac, MAC_DST, 6);
	assert_memory_equal(p.src_mac, MAC_SRC, 6);
	assert_int_equal(p.vlan, -1);
	assert_int_equal(p.inner_vlan, -1);
	assert_ipv4_fixture_addresses(&p);
	assert_int_equal(p.ip_proto, 6);
	assert_int_equal(p.ip_len, 46);
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.fragment, 0);
	assert_int_equal(p.first_fragment, 0);
	assert_int_equal(p.has_ports, 1);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 25);
	assert_int_equal(p.tcp_flags, 0x18);
	/* 14 Ethernet + 20 IPv4 + 20 TCP */
	assert_ptr_equal(p.payload, heap + 54);
	assert_int_equal(p.payload_len, 6);
	assert_memory_equal(p.payload, "EHLO\r\n", 6);
}

/* one 802.1Q tag, VLAN 125 priority 3, IPv4 UDP 5353 -> 53 with 4 bytes */
static void
test_8021q_ipv4_udp(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	eth_macs(&b);
	vlan_tag(&b, 0x8100, 3, 125);
	put16(&b, 0x0800);
	ipv4_header(&b, 17, 32, 12, 0, 0);
	udp_header(&b, 5353, 53, 12);
	put_bytes(&b, "\x01\x02\x03\x04", 4);
	assert_int_equal(b.len, 50);

	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.vlan, 125);
	assert_int_equal(p.inner_vlan, -1);
	assert_ipv4_fixture_addresses(&p);
	assert_int_equal(p.ip_proto, 17);
	assert_int_equal(p.ip_len, 32);
	assert_int_equal(p.ttl, 12);
	assert_int_equal(p.sport, 5353);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.tcp_flags, -1);
	assert_ptr_equal(p.payload, heap + 46);		/* 18 + 20 + 8 */
	assert_int_equal(p.payload_len, 4);
}

/* QinQ: 802.1ad outer VLAN 100, 802.1Q inner VLAN 200, IPv6 TCP SYN+ACK */
static void
test_qinq_ipv6_tcp(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	qinq_v6_frame(&b);
	assert_int_equal(b.len, 82);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.vlan, 100);
	assert_int_equal(p.inner_vlan, 200);
	assert_ipv6_fixture_addresses(&p);
	assert_int_equal(p.ip_proto, 6);
	assert_int_equal(p.ip_len, 60);
	assert_int_equal(p.ttl, 57);
	assert_int_equal(p.sport, 25);
	assert_int_equal(p.dport, 51000);
	assert_int_equal(p.tcp_flags, 0x12);
	assert_null(p.payload);
	assert_int_equal(p.payload_len, 0);
}

/* three tags (0x9100, 0x88a8, 0x8100): outermost two are reported */
static void
test_three_tags(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	eth_macs(&b);
	vlan_tag(&b, 0x9100, 0, 4094);
	vlan_tag(&b, 0x88a8, 0, 7);
	vlan_tag(&b, 0x8100, 0, 8);
	put16(&b, 0x0800);
	ipv4_header(&b, 6, 40, 64, 0, 0);
	tcp_header(&b, 1, 2, 0x01, 5);

	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.vlan, 4094);
	assert_int_equal(p.inner_vlan, 7);
	assert_int_equal(p.sport, 1);
	assert_int_equal(p.dport, 2);
	assert_int_equal(p.tcp_flags, 0x01);
}

/* nine tags is more than the parser walks */
static void
test_too_many_tags(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	eth_macs(&b);
	for (int i = 0; i < 9; i++)
		vlan_tag(&b, 0x8100, 0, (uint16_t) (i + 1));
	put16(&b, 0x0800);
	ipv4_header(&b, 6, 40, 64, 0, 0);
	tcp_header(&b, 1, 2, 0x01, 5);

	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_TOO_DEEP);
	assert_int_equal(p.vlan, 1);
	assert_int_equal(p.inner_vlan, 2);
	assert_int_equal(p.ip_version, 0);
	assert_int_equal(p.has_ports, 0);
}

/* header_protocol 11: the header starts with the IPv4 header */
static void
test_bare_ipv4(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	ipv4_header(&b, 6, 43, 250, 0, 0);
	tcp_header(&b, 25, 33000, 0x19, 5);
	put_bytes(&b, "220", 3);

	assert_int_equal(parse(SH_HEADER_IPV4, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.has_mac, 0);
	assert_int_equal(p.vlan, -1);
	assert_ipv4_fixture_addresses(&p);
	assert_int_equal(p.ttl, 250);
	assert_int_equal(p.ip_len, 43);
	assert_int_equal(p.sport, 25);
	assert_int_equal(p.dport, 33000);
	assert_int_equal(p.tcp_flags, 0x19);
	assert_ptr_equal(p.payload, heap + 40);
	assert_int_equal(p.payload_len, 3);
}

/* header_protocol 12: the header starts with the IPv6 header */
static void
test_bare_ipv6(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	ipv6_header(&b, 17, 10, 255);
	udp_header(&b, 546, 547, 10);
	put_bytes(&b, "ab", 2);

	assert_int_equal(parse(SH_HEADER_IPV6, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.has_mac, 0);
	assert_ipv6_fixture_addresses(&p);
	assert_int_equal(p.ip_proto, 17);
	assert_int_equal(p.ip_len, 50);
	assert_int_equal(p.ttl, 255);
	assert_int_equal(p.sport, 546);
	assert_int_equal(p.dport, 547);
	assert_int_equal(p.tcp_flags, -1);
	assert_ptr_equal(p.payload, heap + 48);
	assert_int_equal(p.payload_len, 2);
}

/* IPv4 with 8 bytes of options (IHL 7): TCP starts at 28 */
static void
test_ipv4_options(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	ipv4_header(&b, 6, 28 + 24 + 5, 64, 0, 8);
	tcp_header(&b, 587, 44000, 0x10, 6);	/* 4 bytes of TCP options */
	put_bytes(&b, "QUIT\n", 5);

	assert_int_equal(parse(SH_HEADER_IPV4, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.ip_len, 57);
	assert_int_equal(p.sport, 587);
	assert_int_equal(p.dport, 44000);
	assert_int_equal(p.tcp_flags, 0x10);
	assert_ptr_equal(p.payload, heap + 52);
	assert_int_equal(p.payload_len, 5);

	/* cut inside the options: addresses known, no ports */
	assert_int_equal(parse(SH_HEADER_IPV4, &b, 24, &p), SH_PKT_TRUNCATED);
	assert_ipv4_fixture_addresses(&p);
	assert_int_equal(p.ip_proto, 6);
	assert_int_equal(p.has_ports, 0);
}

/* IPv6, hop-by-hop (8 bytes), fragment header (first fragment), TCP */
static void
test_ipv6_hopbyhop_fragment(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	ipv6_header(&b, 0, 8 + 8 + 20 + 3, 64);
	put8(&b, 44);				/* hop-by-hop: next = fragment */
	put8(&b, 0);				/* length 0: 8 bytes */
	put16(&b, 0x0102);			/* PadN, 2 bytes */
	put32(&b, 0);
	put8(&b, 6);				/* fragment: next = TCP */
	put8(&b, 0);
	put16(&b, 0x0001);			/* offset 0, M flag */
	put32(&b, 0xcafe);			/* identification */
	tcp_header(&b, 2525, 25, 0x02, 5);
	put_bytes(&b, "xyz", 3);

	assert_int_equal(parse(SH_HEADER_IPV6, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.ip_proto, 6);
	assert_int_equal(p.ip_len, 79);
	assert_int_equal(p.fragment, 0);
	assert_int_equal(p.first_fragment, 1);	/* the M flag: more to come */
	assert_int_equal(p.sport, 2525);
	assert_int_equal(p.dport, 25);
	assert_int_equal(p.tcp_flags, 0x02);
	assert_ptr_equal(p.payload, heap + 76);
	assert_int_equal(p.payload_len, 3);

	/* cut inside the fragment header */
	assert_int_equal(parse(SH_HEADER_IPV6, &b, 52, &p), SH_PKT_TRUNCATED);
	assert_int_equal(p.ip_version, 6);
	assert_int_equal(p.has_ports, 0);
}

/* IPv6 routing (24 bytes), destination options (16), AH (16), UDP */
static void
test_ipv6_routing_dstopts_ah(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	ipv6_header(&b, 43, 24 + 16 + 16 + 8, 9);
	put8(&b, 60);				/* routing: next = destination options */
	put8(&b, 2);				/* (2 + 1) * 8 = 24 bytes */
	for (int i = 0; i < 22; i++)
		put8(&b, 0);
	put8(&b, 51);				/* destination options: next = AH */
	put8(&b, 1);				/* (1 + 1) * 8 = 16 bytes */
	for (int i = 0; i < 14; i++)
		put8(&b, 0);
	put8(&b, 17);				/* AH: next = UDP */
	put8(&b, 2);				/* (2 + 2) * 4 = 16 bytes */
	for (int i = 0; i < 14; i++)
		put8(&b, 0);
	udp_header(&b, 1000, 2000, 8);

	assert_int_equal(parse(SH_HEADER_IPV6, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.ip_proto, 17);
	assert_int_equal(p.ttl, 9);
	assert_int_equal(p.sport, 1000);
	assert_int_equal(p.dport, 2000);
	assert_int_equal(p.payload_len, 0);
}

/* a chain of nine hop-by-hop headers is refused */
static void
test_ipv6_extension_chain_bound(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	ipv6_header(&b, 0, 9 * 8 + 8, 1);
	for (int i = 0; i < 9; i++)
	{
		put8(&b, i < 8 ? 0 : 17);
		put8(&b, 0);
		put16(&b, 0x0104);
		put32(&b, 0);
	}
	udp_header(&b, 1, 2, 8);
	assert_int_equal(parse(SH_HEADER_IPV6, &b, b.len, &p), SH_PKT_BAD_IP);
	assert_int_equal(p.has_ports, 0);
}

/* IPv6 non-first fragment: no L4 header, proto from the fragment header */
static void
test_ipv6_non_first_fragment(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	ipv6_header(&b, 44, 8 + 32, 64);
	put8(&b, 6);
	put8(&b, 0);
	put16(&b, (uint16_t) (185 << 3));	/* offset 185 * 8 bytes, last */
	put32(&b, 0xcafe);
	for (int i = 0; i < 32; i++)
		put8(&b, 0xee);			/* looks like nothing */

	assert_int_equal(parse(SH_HEADER_IPV6, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.fragment, 1);
	assert_int_equal(p.ip_proto, 6);
	assert_int_equal(p.has_ports, 0);
	assert_int_equal(p.tcp_flags, -1);
	assert_null(p.payload);
}

/* IPv4 non-first fragment; and a first fragment (MF set) is parsed */
static void
test_ipv4_fragments(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	eth_macs(&b);
	put16(&b, 0x0800);
	ipv4_header(&b, 6, 60, 64, 0x2000 | 185, 0);	/* MF, offset 185 */
	tcp_header(&b, 1, 2, 0xff, 5);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.fragment, 1);
	assert_int_equal(p.ip_proto, 6);
	assert_int_equal(p.ip_len, 60);
	assert_int_equal(p.has_ports, 0);
	assert_int_equal(p.tcp_flags, -1);

	b.len = 0;
	eth_macs(&b);
	put16(&b, 0x0800);
	ipv4_header(&b, 6, 40, 64, 0x2000, 0);	/* MF, offset 0 */
	tcp_header(&b, 1, 2, 0x04, 5);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.fragment, 0);
	assert_int_equal(p.first_fragment, 1);
	assert_int_equal(p.has_ports, 1);
	assert_int_equal(p.tcp_flags, 0x04);
}

/* TCP cut before the flags byte (offset 13): ports, no flags */
static void
test_tcp_cut_before_flags(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	smtp_frame(&b);
	/* 14 + 20 + 13: the flags byte is the 48th */
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, 47, &p), SH_PKT_OK);
	assert_int_equal(p.has_ports, 1);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 25);
	assert_int_equal(p.tcp_flags, -1);
	assert_null(p.payload);
	assert_int_equal(p.payload_len, 0);

	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, 48, &p), SH_PKT_OK);
	assert_int_equal(p.tcp_flags, 0x18);
	assert_null(p.payload);

	/* cut inside the ports */
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, 37, &p), SH_PKT_TRUNCATED);
	assert_int_equal(p.has_ports, 0);
	assert_int_equal(p.ip_version, 4);
}

/* payload cut by the sample: only the sampled bytes count */
static void
test_payload_cut_by_sample(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	smtp_frame(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, 56, &p), SH_PKT_OK);
	assert_int_equal(p.payload_len, 2);
	assert_memory_equal(p.payload, "EH", 2);
}

/* a 41-byte IPv4 packet padded to a 60-byte frame: 1 byte of payload */
static void
test_ethernet_padding_not_payload(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	eth_macs(&b);
	put16(&b, 0x0800);
	ipv4_header(&b, 6, 41, 64, 0, 0);
	tcp_header(&b, 40000, 25, 0x18, 5);
	put8(&b, '.');
	while (b.len < 60)
		put8(&b, 0);

	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.ip_len, 41);
	assert_int_equal(p.payload_len, 1);
	assert_memory_equal(p.payload, ".", 1);

	/* same for UDP: 28-byte packet, no payload at all */
	b.len = 0;
	eth_macs(&b);
	put16(&b, 0x0800);
	ipv4_header(&b, 17, 28, 64, 0, 0);
	udp_header(&b, 1, 2, 8);
	while (b.len < 60)
		put8(&b, 0);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_null(p.payload);
	assert_int_equal(p.payload_len, 0);
}

/* total length 0 (segmentation offload): payload bounded by the bytes only */
static void
test_ipv4_total_length_zero(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	ipv4_header(&b, 6, 0, 64, 0, 0);
	tcp_header(&b, 40000, 25, 0x18, 5);
	put_bytes(&b, "MAIL", 4);
	assert_int_equal(parse(SH_HEADER_IPV4, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.ip_len, 0);
	assert_int_equal(p.payload_len, 4);
}

/* TCP data offset below 5 is bogus: ports and flags, no payload */
static void
test_tcp_bogus_data_offset(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	ipv4_header(&b, 6, 44, 64, 0, 0);
	tcp_header(&b, 7, 8, 0x11, 2);
	put_bytes(&b, "ABCD", 4);
	assert_int_equal(parse(SH_HEADER_IPV4, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.sport, 7);
	assert_int_equal(p.tcp_flags, 0x11);
	assert_null(p.payload);
}

/* ICMP: nothing to find past IP */
static void
test_icmp(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	ipv4_header(&b, 1, 28, 64, 0, 0);
	put32(&b, 0x08000000);
	put32(&b, 0);
	assert_int_equal(parse(SH_HEADER_IPV4, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.ip_proto, 1);
	assert_int_equal(p.has_ports, 0);
	assert_int_equal(p.tcp_flags, -1);
	assert_null(p.payload);
}

/* ARP, and an 802.3 length field: not IP, MACs known */
static void
test_not_ip(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	eth_macs(&b);
	put16(&b, 0x0806);
	for (int i = 0; i < 28; i++)
		put8(&b, 0);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_NOT_IP);
	assert_int_equal(p.has_mac, 1);
	assert_int_equal(p.ip_version, 0);

	b.len = 12;
	put16(&b, 46);				/* 802.3 length */
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_NOT_IP);
}

/* wrong version nibble, IHL below 5: bad IP */
static void
test_bad_ip(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	eth_macs(&b);
	put16(&b, 0x0800);
	ipv6_header(&b, 6, 20, 64);	/* IPv6 bytes under an IPv4 ethertype */
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_BAD_IP);
	assert_int_equal(p.ip_version, 0);

	b.len = 0;
	ipv4_header(&b, 6, 40, 64, 0, 0);
	b.data[0] = 0x44;			/* IHL 4 */
	assert_int_equal(parse(SH_HEADER_IPV4, &b, b.len, &p), SH_PKT_BAD_IP);

	b.len = 0;
	ipv4_header(&b, 6, 40, 64, 0, 0);
	assert_int_equal(parse(SH_HEADER_IPV6, &b, b.len, &p), SH_PKT_BAD_IP);
}

/* cut inside Ethernet, inside a tag, inside the IP header */
static void
test_truncated_headers(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	qinq_v6_frame(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, 0, &p), SH_PKT_TRUNCATED);
	assert_int_equal(p.has_mac, 0);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, 11, &p), SH_PKT_TRUNCATED);
	assert_int_equal(p.has_mac, 0);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, 13, &p), SH_PKT_TRUNCATED);
	assert_int_equal(p.has_mac, 1);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, 15, &p), SH_PKT_TRUNCATED);
	assert_int_equal(p.vlan, -1);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, 19, &p), SH_PKT_TRUNCATED);
	assert_int_equal(p.vlan, 100);
	assert_int_equal(p.inner_vlan, -1);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, 20, &p), SH_PKT_TRUNCATED);
	assert_int_equal(p.inner_vlan, 200);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, 61, &p), SH_PKT_TRUNCATED);
	assert_int_equal(p.inner_vlan, 200);
	assert_int_equal(p.ip_version, 0);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, 62, &p), SH_PKT_TRUNCATED);
	assert_int_equal(p.ip_version, 6);	/* the IPv6 header is whole, TCP empty */
	assert_int_equal(p.ip_proto, 6);
	assert_int_equal(p.has_ports, 0);
	assert_int_equal(parse(SH_HEADER_IPV4, &b, 0, &p), SH_PKT_TRUNCATED);
	assert_int_equal(parse(SH_HEADER_IPV6, &b, 0, &p), SH_PKT_TRUNCATED);
}

static void
test_unsupported_protocol(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	smtp_frame(&b);
	assert_int_equal(parse(2, &b, b.len, &p), SH_PKT_UNSUPPORTED);
	assert_int_equal(p.has_mac, 0);
	assert_int_equal(p.ip_version, 0);
	assert_int_equal(p.vlan, -1);
	assert_int_equal(parse(13, &b, b.len, &p), SH_PKT_UNSUPPORTED);
}

/* every prefix of several headers: a valid status, fields in range */
static void
test_every_prefix(void **state)
{
	buf			frames[4];
	uint32_t	protos[4] = {SH_HEADER_ETHERNET, SH_HEADER_ETHERNET,
	SH_HEADER_IPV6, SH_HEADER_IPV4};
	sh_packet	p;

	(void) state;
	for (int i = 0; i < 4; i++)
		frames[i].len = 0;
	smtp_frame(&frames[0]);
	qinq_v6_frame(&frames[1]);
	ipv6_header(&frames[2], 0, 8 + 8 + 20, 64);
	put8(&frames[2], 44);
	put8(&frames[2], 0);
	put16(&frames[2], 0x0104);
	put32(&frames[2], 0);
	put8(&frames[2], 6);
	put8(&frames[2], 0);
	put16(&frames[2], 0);
	put32(&frames[2], 1);
	tcp_header(&frames[2], 1, 2, 3, 5);
	ipv4_header(&frames[3], 17, 40, 1, 0, 12);
	udp_header(&frames[3], 1, 2, 8);

	for (int i = 0; i < 4; i++)
	{
		for (size_t len = 0; len <= frames[i].len; len++)
		{
			sh_packet_status st = parse(protos[i], &frames[i], len, &p);

			assert_true(st == SH_PKT_OK || st == SH_PKT_TRUNCATED);
			if (p.payload)
			{
				assert_true(p.payload >= heap);
				assert_true(p.payload + p.payload_len <= heap + len);
			}
			if (len < frames[i].len)
				assert_true(st == SH_PKT_TRUNCATED || p.has_ports);
		}
		assert_int_equal(p.has_ports, 1);
	}
}

/* ---- encapsulations: MPLS, PPPoE, LLC/SNAP, GRE, IP in IP ---------------- */

/* Inner addresses of the tunnelled packets: 192.0.2.1 -> 192.0.2.2, 2001:db8::a -> ::b */
static const uint8_t IN4_A[4] = {192, 0, 2, 1};
static const uint8_t IN4_B[4] = {192, 0, 2, 2};
static const uint8_t IN6_A[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a};
static const uint8_t IN6_B[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b};

/* the inner packet: IPv4 192.0.2.1 -> 192.0.2.2 TTL 33, TCP 41000 -> 25, "HELO\r\n" (46 bytes) */
#define INNER4_LEN 46
static void
inner_v4_smtp(buf *b)
{
	size_t		at = b->len;

	ipv4_header(b, 6, INNER4_LEN, 33, 0, 0);
	memcpy(b->data + at + 12, IN4_A, 4);
	memcpy(b->data + at + 16, IN4_B, 4);
	tcp_header(b, 41000, 25, 0x18, 5);
	put_bytes(b, "HELO\r\n", 6);
}

/* the inner packet: IPv6 2001:db8::a -> ::b hop limit 44, TCP 25 -> 42000 (60 bytes) */
#define INNER6_LEN 60
static void
inner_v6_smtp(buf *b)
{
	size_t		at = b->len;

	ipv6_header(b, 6, 20, 44);
	memcpy(b->data + at + 8, IN6_A, 16);
	memcpy(b->data + at + 24, IN6_B, 16);
	tcp_header(b, 25, 42000, 0x12, 5);
}

static void
assert_inner_v4(const sh_packet *p)
{
	assert_int_equal(p->ip_version, 4);
	assert_memory_equal(p->src.bytes, IN4_A, 4);
	assert_memory_equal(p->dst.bytes, IN4_B, 4);
	assert_int_equal(p->ip_proto, 6);
	assert_int_equal(p->ip_len, INNER4_LEN);
	assert_int_equal(p->ttl, 33);
	assert_int_equal(p->has_ports, 1);
	assert_int_equal(p->sport, 41000);
	assert_int_equal(p->dport, 25);
	assert_int_equal(p->tcp_flags, 0x18);
	assert_int_equal(p->payload_len, 6);
	assert_memory_equal(p->payload, "HELO\r\n", 6);
}

static void
assert_inner_v6(const sh_packet *p)
{
	assert_int_equal(p->ip_version, 6);
	assert_memory_equal(p->src.bytes, IN6_A, 16);
	assert_memory_equal(p->dst.bytes, IN6_B, 16);
	assert_int_equal(p->ip_proto, 6);
	assert_int_equal(p->ip_len, INNER6_LEN);
	assert_int_equal(p->ttl, 44);
	assert_int_equal(p->sport, 25);
	assert_int_equal(p->dport, 42000);
	assert_int_equal(p->tcp_flags, 0x12);
}

/* MPLS label stack entry: 20-bit label, 3 bits TC, bottom-of-stack, TTL */
static void
mpls_label(buf *b, uint32_t label, int bottom)
{
	put32(b, (label << 12) | (bottom ? 0x100 : 0) | 64);
}

/* MPLS: one label; two labels after an 802.1Q tag; after 802.1ad + 802.1Q */
static void
test_mpls(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	eth_macs(&b);
	put16(&b, 0x8847);
	mpls_label(&b, 16, 1);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.has_mac, 1);
	assert_int_equal(p.vlan, -1);
	assert_inner_v4(&p);
	assert_ptr_equal(p.payload, heap + 14 + 4 + 40);

	b.len = 0;
	eth_macs(&b);
	vlan_tag(&b, 0x8100, 0, 300);
	put16(&b, 0x8847);
	mpls_label(&b, 1000, 0);
	mpls_label(&b, 2000, 1);
	inner_v6_smtp(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.vlan, 300);
	assert_inner_v6(&p);

	b.len = 0;
	eth_macs(&b);
	vlan_tag(&b, 0x88a8, 0, 10);
	vlan_tag(&b, 0x8100, 0, 20);
	put16(&b, 0x8848);			/* multicast MPLS */
	mpls_label(&b, 3, 1);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.vlan, 10);
	assert_int_equal(p.inner_vlan, 20);
	assert_inner_v4(&p);
}

/* MPLS that cannot be read: no bottom of stack in 9 labels, cut in a label, not IP below */
static void
test_mpls_hostile(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	eth_macs(&b);
	put16(&b, 0x8847);
	for (int i = 0; i < 9; i++)
		mpls_label(&b, (uint32_t) i + 16, 0);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_TOO_DEEP);
	assert_int_equal(p.ip_version, 0);
	assert_int_equal(p.has_ports, 0);

	/* eight labels, the last one the bottom: read */
	b.len = 0;
	eth_macs(&b);
	put16(&b, 0x8847);
	for (int i = 0; i < 8; i++)
		mpls_label(&b, (uint32_t) i + 16, i == 7);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_inner_v4(&p);

	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, 14 + 4 * 3 + 2, &p), SH_PKT_TRUNCATED);
	/* cut just after the bottom label: nothing to tell IPv4 from IPv6 by */
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, 14 + 4 * 8, &p), SH_PKT_TRUNCATED);

	/* below the labels, neither IPv4 nor IPv6 */
	b.len = 0;
	eth_macs(&b);
	put16(&b, 0x8847);
	mpls_label(&b, 16, 1);
	put32(&b, 0);
	put32(&b, 0);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_NOT_IP);
}

/* PPPoE session header: version/type 0x11, code 0, session id, length, then the PPP protocol */
static void
pppoe_header(buf *b, uint16_t length, uint16_t ppp_protocol)
{
	put8(b, 0x11);
	put8(b, 0);
	put16(b, 0x1234);
	put16(b, length);
	put16(b, ppp_protocol);
}

static void
test_pppoe(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	eth_macs(&b);
	put16(&b, 0x8864);
	pppoe_header(&b, 2 + INNER4_LEN, 0x0021);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_inner_v4(&p);

	b.len = 0;
	eth_macs(&b);
	vlan_tag(&b, 0x8100, 0, 7);
	put16(&b, 0x8864);
	pppoe_header(&b, 2 + INNER6_LEN, 0x0057);
	inner_v6_smtp(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.vlan, 7);
	assert_inner_v6(&p);

	/* LCP, not IP */
	b.len = 0;
	eth_macs(&b);
	put16(&b, 0x8864);
	pppoe_header(&b, 2 + 4, 0xc021);
	put32(&b, 0x01010004);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_NOT_IP);

	/* a PPPoE length that ends inside the IPv4 header: the rest is not the packet's */
	b.len = 0;
	eth_macs(&b);
	put16(&b, 0x8864);
	pppoe_header(&b, 2 + 10, 0x0021);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_TRUNCATED);
	assert_int_equal(p.ip_version, 0);

	/* a PPPoE length that ends inside the TCP ports */
	b.len = 0;
	eth_macs(&b);
	put16(&b, 0x8864);
	pppoe_header(&b, 2 + 20 + 2, 0x0021);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_TRUNCATED);
	assert_int_equal(p.l4_cut, 1);
	assert_int_equal(p.has_ports, 0);

	/* PPPoE lengths 0 and 1 cannot hold the PPP protocol */
	for (uint16_t len = 0; len < 2; len++)
	{
		b.len = 0;
		eth_macs(&b);
		put16(&b, 0x8864);
		pppoe_header(&b, len, 0x0021);
		inner_v4_smtp(&b);
		assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_TRUNCATED);
	}
	/* PPPoE discovery (0x8863) carries no IP */
	b.data[12] = 0x88;
	b.data[13] = 0x63;
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_NOT_IP);
}

/* 802.3 with an LLC/SNAP header (AA AA 03, OUI 0, then the ethertype) */
static void
test_llc_snap(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	eth_macs(&b);
	put16(&b, 8 + INNER4_LEN);
	put_bytes(&b, "\xaa\xaa\x03\x00\x00\x00\x08\x00", 8);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.has_mac, 1);
	assert_inner_v4(&p);

	/* behind an 802.1Q tag, IPv6 */
	b.len = 0;
	eth_macs(&b);
	vlan_tag(&b, 0x8100, 0, 42);
	put16(&b, 8 + INNER6_LEN);
	put_bytes(&b, "\xaa\xaa\x03\x00\x00\x00\x86\xdd", 8);
	inner_v6_smtp(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.vlan, 42);
	assert_inner_v6(&p);

	/* the 802.3 length bounds the packet: ends inside the TCP ports */
	b.len = 0;
	eth_macs(&b);
	put16(&b, 8 + 20 + 3);
	put_bytes(&b, "\xaa\xaa\x03\x00\x00\x00\x08\x00", 8);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_TRUNCATED);
	assert_int_equal(p.l4_cut, 1);

	/* spanning tree (LLC 42 42 03): not IP; SNAP of another OUI: not IP */
	b.len = 0;
	eth_macs(&b);
	put16(&b, 39);
	put_bytes(&b, "\x42\x42\x03\x00\x00\x00\x00\x00", 8);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_NOT_IP);
	b.len = 0;
	eth_macs(&b);
	put16(&b, 8 + INNER4_LEN);
	put_bytes(&b, "\xaa\xaa\x03\x00\x00\x0c\x08\x00", 8);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_NOT_IP);
}

/* an outer IPv4 header (198.51.100.7 -> 203.0.113.9) of protocol proto around inner_len bytes */
static void
outer_v4(buf *b, uint8_t proto, size_t inner_len)
{
	ipv4_header(b, proto, (uint16_t) (20 + inner_len), 200, 0, 0);
}

/* GRE: plain, with checksum + key + sequence, IPv6 inside, Ethernet inside, MPLS inside */
static void
test_gre(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	eth_macs(&b);
	put16(&b, 0x0800);
	outer_v4(&b, 47, 4 + INNER4_LEN);
	put16(&b, 0);				/* no flags, version 0 */
	put16(&b, 0x0800);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_inner_v4(&p);
	assert_ptr_equal(p.payload, heap + 14 + 20 + 4 + 40);

	b.len = 0;
	outer_v4(&b, 47, 16 + INNER6_LEN);
	put16(&b, 0xb000);			/* checksum, key, sequence number */
	put16(&b, 0x86dd);
	put32(&b, 0);				/* checksum, reserved */
	put32(&b, 0xdeadbeef);		/* key */
	put32(&b, 7);				/* sequence number */
	inner_v6_smtp(&b);
	assert_int_equal(parse(SH_HEADER_IPV4, &b, b.len, &p), SH_PKT_OK);
	assert_inner_v6(&p);
	/* cut inside the optional fields */
	assert_int_equal(parse(SH_HEADER_IPV4, &b, 20 + 14, &p), SH_PKT_TRUNCATED);

	/* transparent Ethernet bridging: the outer MACs and tags stay those reported */
	b.len = 0;
	eth_macs(&b);
	vlan_tag(&b, 0x8100, 0, 99);
	put16(&b, 0x0800);
	outer_v4(&b, 47, 8 + 18 + INNER4_LEN);
	put16(&b, 0x2000);			/* key */
	put16(&b, 0x6558);
	put32(&b, 1);
	put_bytes(&b, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	vlan_tag(&b, 0x8100, 0, 555);
	put16(&b, 0x0800);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_memory_equal(p.dst_mac, MAC_DST, 6);
	assert_int_equal(p.vlan, 99);
	assert_int_equal(p.inner_vlan, -1);
	assert_inner_v4(&p);

	/* MPLS over GRE */
	b.len = 0;
	outer_v4(&b, 47, 4 + 4 + INNER4_LEN);
	put16(&b, 0);
	put16(&b, 0x8847);
	mpls_label(&b, 77, 1);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_IPV4, &b, b.len, &p), SH_PKT_OK);
	assert_inner_v4(&p);

	/* GRE over IPv6 */
	b.len = 0;
	ipv6_header(&b, 47, 4 + INNER4_LEN, 64);
	put16(&b, 0);
	put16(&b, 0x0800);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_IPV6, &b, b.len, &p), SH_PKT_OK);
	assert_inner_v4(&p);
}

/* GRE the parser does not walk: the outer packet is what is known */
static void
test_gre_not_walked(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	/* version 1 (PPTP) */
	outer_v4(&b, 47, 8 + INNER4_LEN);
	put16(&b, 0x2001);
	put16(&b, 0x880b);
	put32(&b, 0x00300001);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_IPV4, &b, b.len, &p), SH_PKT_OK);
	assert_ipv4_fixture_addresses(&p);
	assert_int_equal(p.ip_proto, 47);
	assert_int_equal(p.has_ports, 0);

	/* the routing bit (RFC 1701 source routes) */
	b.len = 0;
	outer_v4(&b, 47, 8 + INNER4_LEN);
	put16(&b, 0x4000);
	put16(&b, 0x0800);
	put32(&b, 0);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_IPV4, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.ip_proto, 47);
	assert_int_equal(p.has_ports, 0);

	/* a protocol that is not IP (ARP over TEB is NOT_IP, but 0x0806 bare too) */
	b.len = 0;
	outer_v4(&b, 47, 4 + 28);
	put16(&b, 0);
	put16(&b, 0x0806);
	for (int i = 0; i < 28; i++)
		put8(&b, 0);
	assert_int_equal(parse(SH_HEADER_IPV4, &b, b.len, &p), SH_PKT_NOT_IP);
}

/* IPv4 in IPv4, IPv6 in IPv4 (6in4), IPv4 in IPv6, IPv6 in IPv6 */
static void
test_ip_in_ip(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	eth_macs(&b);
	put16(&b, 0x0800);
	outer_v4(&b, 4, INNER4_LEN);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_OK);
	assert_inner_v4(&p);

	b.len = 0;
	outer_v4(&b, 41, INNER6_LEN);
	inner_v6_smtp(&b);
	assert_int_equal(parse(SH_HEADER_IPV4, &b, b.len, &p), SH_PKT_OK);
	assert_inner_v6(&p);

	b.len = 0;
	ipv6_header(&b, 4, INNER4_LEN, 64);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_IPV6, &b, b.len, &p), SH_PKT_OK);
	assert_inner_v4(&p);

	/* IPv6 in IPv6 behind a destination options header */
	b.len = 0;
	ipv6_header(&b, 60, 8 + INNER6_LEN, 64);
	put8(&b, 41);
	put8(&b, 0);
	put16(&b, 0x0104);
	put32(&b, 0);
	inner_v6_smtp(&b);
	assert_int_equal(parse(SH_HEADER_IPV6, &b, b.len, &p), SH_PKT_OK);
	assert_inner_v6(&p);

	/* the inner packet is bounded by the outer one's length */
	b.len = 0;
	outer_v4(&b, 4, 20 + 2);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_IPV4, &b, b.len, &p), SH_PKT_TRUNCATED);
	assert_int_equal(p.l4_cut, 1);

	/* protocol 4 with IPv6 inside: a bad inner header */
	b.len = 0;
	outer_v4(&b, 4, INNER6_LEN);
	inner_v6_smtp(&b);
	assert_int_equal(parse(SH_HEADER_IPV4, &b, b.len, &p), SH_PKT_BAD_IP);

	/* a later fragment of the outer packet: the tunnel is not entered */
	b.len = 0;
	ipv4_header(&b, 4, 20 + INNER4_LEN, 64, 0x0010, 0);
	inner_v4_smtp(&b);
	assert_int_equal(parse(SH_HEADER_IPV4, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.fragment, 1);
	assert_ipv4_fixture_addresses(&p);
}

/* tunnels nested deeper than the bound (8 encapsulations) */
static void
test_tunnel_depth(void **state)
{
	buf			b;
	sh_packet	p;

	(void) state;
	for (int depth = 1; depth <= 12; depth++)
	{
		b.len = 0;
		for (int i = 0; i < depth; i++)
		{
			/* total length 0 bounds nothing (segmentation offload) */
			ipv4_header(&b, i % 2 ? 47 : 4, 0, 64, 0, 0);
			if (i % 2)
			{
				put16(&b, 0);
				put16(&b, 0x0800);
			}
		}
		inner_v4_smtp(&b);
		if (depth <= 8)
		{
			assert_int_equal(parse(SH_HEADER_IPV4, &b, b.len, &p), SH_PKT_OK);
			assert_inner_v4(&p);
		}
		else
		{
			assert_int_equal(parse(SH_HEADER_IPV4, &b, b.len, &p), SH_PKT_TOO_DEEP);
			assert_int_equal(p.has_ports, 0);
		}
	}
}

/* IPv6 jumbogram: the length is in the hop-by-hop Jumbo Payload option */
static void
test_ipv6_jumbogram(void **state)
{
	buf			b = {.len = 0};
	sh_packet	p;

	(void) state;
	ipv6_header(&b, 0, 0, 64);
	put8(&b, 6);				/* hop-by-hop: next = TCP */
	put8(&b, 0);
	put8(&b, 0xc2);				/* Jumbo Payload, 4 bytes */
	put8(&b, 4);
	put32(&b, 100000);
	tcp_header(&b, 40000, 25, 0x10, 5);
	put_bytes(&b, "DATA\r\n", 6);
	assert_int_equal(parse(SH_HEADER_IPV6, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.ip_len, 100000 + 40);
	assert_int_equal(p.dport, 25);
	assert_int_equal(p.payload_len, 6);

	/* after a PadN option */
	b.len = 0;
	ipv6_header(&b, 0, 0, 64);
	put8(&b, 6);
	put8(&b, 1);				/* 16 bytes */
	put8(&b, 1);				/* PadN, 4 bytes */
	put8(&b, 4);
	put32(&b, 0);
	put8(&b, 0xc2);
	put8(&b, 4);
	put32(&b, 70000);
	put16(&b, 0x0100);			/* Pad1, Pad1 */
	tcp_header(&b, 40000, 25, 0x10, 5);
	assert_int_equal(parse(SH_HEADER_IPV6, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.ip_len, 70000 + 40);

	/* payload length 0 without the option: unknown */
	b.len = 0;
	ipv6_header(&b, 6, 0, 64);
	tcp_header(&b, 40000, 25, 0x10, 5);
	assert_int_equal(parse(SH_HEADER_IPV6, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.ip_len, -1);
	assert_int_equal(p.dport, 25);

	/* an option length running past its header: not read, length unknown */
	b.len = 0;
	ipv6_header(&b, 0, 0, 64);
	put8(&b, 6);
	put8(&b, 0);
	put8(&b, 0xc2);
	put8(&b, 40);
	put32(&b, 100000);
	tcp_header(&b, 40000, 25, 0x10, 5);
	assert_int_equal(parse(SH_HEADER_IPV6, &b, b.len, &p), SH_PKT_OK);
	assert_int_equal(p.ip_len, -1);
}

/* every prefix of the tunnelled headers: a valid status, the payload inside the bytes */
static void
test_every_prefix_tunnels(void **state)
{
	buf			frames[4];
	sh_packet	p;

	(void) state;
	for (int i = 0; i < 4; i++)
		frames[i].len = 0;
	eth_macs(&frames[0]);
	vlan_tag(&frames[0], 0x8100, 0, 1);
	put16(&frames[0], 0x8847);
	mpls_label(&frames[0], 5, 1);
	outer_v4(&frames[0], 47, 16 + INNER6_LEN);
	put16(&frames[0], 0xb000);
	put16(&frames[0], 0x86dd);
	put32(&frames[0], 0);
	put32(&frames[0], 1);
	put32(&frames[0], 2);
	inner_v6_smtp(&frames[0]);
	eth_macs(&frames[1]);
	put16(&frames[1], 0x8864);
	pppoe_header(&frames[1], 2 + 20 + INNER4_LEN, 0x0021);
	outer_v4(&frames[1], 4, INNER4_LEN);
	inner_v4_smtp(&frames[1]);
	eth_macs(&frames[2]);
	put16(&frames[2], 8 + 40 + INNER4_LEN);
	put_bytes(&frames[2], "\xaa\xaa\x03\x00\x00\x00\x86\xdd", 8);
	ipv6_header(&frames[2], 4, INNER4_LEN, 64);
	inner_v4_smtp(&frames[2]);
	eth_macs(&frames[3]);
	put16(&frames[3], 0x0800);
	outer_v4(&frames[3], 47, 4 + 14 + INNER4_LEN);
	put16(&frames[3], 0);
	put16(&frames[3], 0x6558);
	eth_macs(&frames[3]);
	put16(&frames[3], 0x0800);
	inner_v4_smtp(&frames[3]);

	for (int i = 0; i < 4; i++)
	{
		for (size_t len = 0; len <= frames[i].len; len++)
		{
			sh_packet_status st = parse(SH_HEADER_ETHERNET, &frames[i], len, &p);

			/* an LLC header that is not whole does not say IP */
			if (i == 2 && len >= 14 && len < 14 + 8)
				assert_int_equal(st, SH_PKT_NOT_IP);
			else
				assert_true(st == SH_PKT_OK || st == SH_PKT_TRUNCATED);
			if (p.payload)
			{
				assert_true(p.payload >= heap);
				assert_true(p.payload + p.payload_len <= heap + len);
			}
			if (len < frames[i].len && st != SH_PKT_NOT_IP)
				assert_true(st == SH_PKT_TRUNCATED || p.has_ports);
		}
		assert_int_equal(p.has_ports, 1);
		assert_int_equal(p.dport == 25 || p.sport == 25, 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_ethernet_ipv4_tcp, teardown),
		cmocka_unit_test_teardown(test_8021q_ipv4_udp, teardown),
		cmocka_unit_test_teardown(test_qinq_ipv6_tcp, teardown),
		cmocka_unit_test_teardown(test_three_tags, teardown),
		cmocka_unit_test_teardown(test_too_many_tags, teardown),
		cmocka_unit_test_teardown(test_bare_ipv4, teardown),
		cmocka_unit_test_teardown(test_bare_ipv6, teardown),
		cmocka_unit_test_teardown(test_ipv4_options, teardown),
		cmocka_unit_test_teardown(test_ipv6_hopbyhop_fragment, teardown),
		cmocka_unit_test_teardown(test_ipv6_routing_dstopts_ah, teardown),
		cmocka_unit_test_teardown(test_ipv6_extension_chain_bound, teardown),
		cmocka_unit_test_teardown(test_ipv6_non_first_fragment, teardown),
		cmocka_unit_test_teardown(test_ipv4_fragments, teardown),
		cmocka_unit_test_teardown(test_tcp_cut_before_flags, teardown),
		cmocka_unit_test_teardown(test_payload_cut_by_sample, teardown),
		cmocka_unit_test_teardown(test_ethernet_padding_not_payload, teardown),
		cmocka_unit_test_teardown(test_ipv4_total_length_zero, teardown),
		cmocka_unit_test_teardown(test_tcp_bogus_data_offset, teardown),
		cmocka_unit_test_teardown(test_icmp, teardown),
		cmocka_unit_test_teardown(test_not_ip, teardown),
		cmocka_unit_test_teardown(test_bad_ip, teardown),
		cmocka_unit_test_teardown(test_truncated_headers, teardown),
		cmocka_unit_test_teardown(test_unsupported_protocol, teardown),
		cmocka_unit_test_teardown(test_every_prefix, teardown),
		cmocka_unit_test_teardown(test_mpls, teardown),
		cmocka_unit_test_teardown(test_mpls_hostile, teardown),
		cmocka_unit_test_teardown(test_pppoe, teardown),
		cmocka_unit_test_teardown(test_llc_snap, teardown),
		cmocka_unit_test_teardown(test_gre, teardown),
		cmocka_unit_test_teardown(test_gre_not_walked, teardown),
		cmocka_unit_test_teardown(test_ip_in_ip, teardown),
		cmocka_unit_test_teardown(test_tunnel_depth, teardown),
		cmocka_unit_test_teardown(test_ipv6_jumbogram, teardown),
		cmocka_unit_test_teardown(test_every_prefix_tunnels, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
