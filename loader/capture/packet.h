/*
 * loader/capture/packet.h: one sampled packet header (the bytes of an sFlow
 * "raw packet header" record: Ethernet with 802.1Q/QinQ tags, or bare
 * IPv4/IPv6, through MPLS, PPPoE, LLC/SNAP, GRE and IP in IP) parsed down to
 * the TCP/UDP ports and payload of the innermost IP packet, the stage after
 * the sFlow decoder (sflow.h), usable alone.
 *
 * Every read is bounds-checked: a hostile length can only end the parse,
 * with a reason, never read past the header.
 */
#ifndef SPAMHINTS_PACKET_H
#define SPAMHINTS_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* sFlow header_protocol values the packet parser understands. */
#define SH_HEADER_ETHERNET	1
#define SH_HEADER_IPV4		11
#define SH_HEADER_IPV6		12

/* What the packet parser found in one sampled packet header. */
typedef struct sh_packet
{
	/* link layer, when the header started with Ethernet */
	uint8_t		has_mac;
	uint8_t		dst_mac[6];
	uint8_t		src_mac[6];
	int32_t		vlan;			/* outermost 802.1Q/802.1ad VLAN id, -1 if untagged */
	int32_t		inner_vlan;		/* second tag (QinQ), -1 if none */

	/*
	 * network layer: the innermost IP header, the one that carries the
	 * TCP/UDP header (for a tunnel, the tunnelled packet's, not the
	 * tunnel's); the link layer above is the outermost one
	 */
	uint8_t		ip_version;		/* 0 when no IP header was found, else 4 or 6 */
	sh_addr		src;
	sh_addr		dst;
	uint8_t		ip_proto;		/* L4 protocol after any IPv6 extension headers */
	int32_t		ip_len;			/* IPv4 total length, IPv6 payload length + 40 (a
								 * jumbogram's Jumbo Payload length + 40); -1 unknown */
	int16_t		ttl;			/* TTL or hop limit, -1 unknown */
	uint8_t		fragment;		/* 1: a non-first fragment (no L4 header follows) */
	uint8_t		first_fragment;	/* 1: the first fragment of several (offset 0, more to come) */
	uint8_t		l4_cut;			/* 1: the IP header was whole, the header stopped inside the TCP/UDP ports */

	/* transport layer (TCP or UDP) */
	uint8_t		has_ports;		/* 1 when both ports were inside the header */
	uint16_t	sport;
	uint16_t	dport;
	int16_t		tcp_flags;		/* TCP flags byte, -1 if not TCP or cut before it */
	const uint8_t *payload;		/* TCP/UDP payload inside the sampled header (may be NULL) */
	size_t		payload_len;	/* bounded by both the sampled bytes and the IP length */
} sh_packet;

/* Why a packet header parse stopped early (not an error: samples are cut). */
typedef enum sh_packet_status
{
	SH_PKT_OK = 0,				/* reached the L4 ports (or a non-first fragment) */
	SH_PKT_NOT_IP,				/* not IPv4/IPv6 (ARP, unknown ethertype, LLC without
								 * SNAP, PPP control, ...), also inside a tunnel */
	SH_PKT_TRUNCATED,			/* cut inside Ethernet/VLAN/IP/extension headers */
	SH_PKT_BAD_IP,				/* IP version nibble or header length wrong */
	SH_PKT_UNSUPPORTED,			/* header_protocol the parser does not know */
	SH_PKT_TOO_DEEP				/* more VLAN tags, MPLS labels or nested
								 * encapsulations than the parser walks */
} sh_packet_status;

/* Set every field of *pkt to "unknown" (-1, 0, NULL). */
void		sh_packet_clear(sh_packet *pkt);

/*
 * Parse one sampled packet header of the given sFlow header_protocol
 * (1 Ethernet, 11 IPv4, 12 IPv6). Fills *out as far as the bytes go; fields
 * not reached keep their "unknown" value (-1, 0). Never reads outside
 * p[0..len).
 */
sh_packet_status sh_parse_packet(uint32_t header_protocol, const uint8_t *p, size_t len,
								 sh_packet *out);

#endif							/* SPAMHINTS_PACKET_H */
