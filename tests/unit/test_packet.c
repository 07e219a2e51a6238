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

/* nine tags is more than the parser walks: not IP */
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

	assert_int_equal(parse(SH_HEADER_ETHERNET, &b, b.len, &p), SH_PKT_NOT_IP);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
