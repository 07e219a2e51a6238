/*
 * loader/capture/packet.c: parse one sampled packet header (the bytes of an sFlow
 * "raw packet header" record) down to the TCP/UDP ports and payload.
 *
 * Sampled headers are cut short by design (often at 64 or 128 bytes), so a
 * header that stops early is not an error: the parse fills what the bytes
 * hold and says where it stopped. Every read is checked against len; this
 * runs for every sampled packet, so there is no allocation and no copying
 * beyond the fields of *out.
 *
 * Encapsulations are walked down to the packet they carry, as tshark
 * dissects them: MPLS label stacks (behind any VLAN tags), PPPoE sessions,
 * 802.3 frames with an LLC/SNAP header, GRE (version 0: IPv4, IPv6, MPLS or
 * Ethernet inside) and IP in IP (IPv4 or IPv6 inside IPv4 or IPv6). The
 * inner header decides: the network-layer fields of *out (addresses,
 * protocol, length, TTL, fragment) are those of the innermost IP header,
 * the one that carries the TCP/UDP ports; the MACs and VLAN ids are the
 * outermost ones, those of the link the packet was sampled on. Every
 * length is hostile: each encapsulation is read only inside the one around
 * it (an IP or PPPoE or 802.3 length bounds what follows), label stacks and
 * VLAN tags are bounded, and so is the nesting (SH_PKT_TOO_DEEP).
 */
#include "packet.h"

#include <string.h>

#define ETHERTYPE_IPV4		0x0800
#define ETHERTYPE_IPV6		0x86DD
#define ETHERTYPE_8021Q		0x8100
#define ETHERTYPE_8021AD	0x88A8
#define ETHERTYPE_QINQ_OLD	0x9100	/* pre-802.1ad QinQ, still seen */
#define ETHERTYPE_MPLS		0x8847
#define ETHERTYPE_MPLS_MC	0x8848
#define ETHERTYPE_PPPOE		0x8864	/* PPPoE session stage */
#define ETHERTYPE_TEB		0x6558	/* Ethernet inside GRE */
#define ETHERTYPE_ERSPAN	0x88BE	/* ERSPAN type I/II inside GRE */
#define ETHER_MAX_LENGTH	1500	/* a type field this small is an 802.3 length */

#define PPP_IPV4			0x0021
#define PPP_IPV6			0x0057

#define IPPROTO_NUM_IPIP	4
#define IPPROTO_NUM_TCP		6
#define IPPROTO_NUM_UDP		17
#define IPPROTO_NUM_IPV6	41
#define IPPROTO_NUM_GRE		47

#define GRE_CHECKSUM		0x8000
#define GRE_ROUTING			0x4000
#define GRE_KEY				0x2000
#define GRE_SEQUENCE		0x1000
#define GRE_VERSION			0x0007

#define IP6_OPT_PAD1		0
#define IP6_OPT_JUMBO		0xC2

/* IPv6 extension headers walked to find the L4 protocol */
#define IP6_HOPOPTS			0
#define IP6_ROUTING			43
#define IP6_FRAGMENT		44
#define IP6_AH				51
#define IP6_DSTOPTS			60

/* Bounds on hostile chains: real traffic has 1-2 tags and 0-2 extensions. */
#define MAX_VLAN_TAGS		8
#define MAX_IP6_EXTENSIONS	8
#define MAX_MPLS_LABELS		8
/* MPLS stacks, PPPoE, LLC/SNAP, GRE and IP in IP, nested: real traffic has 1-3 */
#define MAX_ENCAPSULATIONS	8

static sh_packet_status parse_ipv4(const uint8_t *ip, size_t len, int depth, sh_packet *out);
static sh_packet_status parse_ipv6(const uint8_t *ip, size_t len, int depth, sh_packet *out);
static sh_packet_status parse_ethernet(const uint8_t *p, size_t len, int depth, sh_packet *out);
static sh_packet_status parse_ethertype(uint16_t type, const uint8_t *p, size_t len, int depth,
										sh_packet *out);

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t) ((p[0] << 8) | p[1]);
}

static inline uint32_t
be32(const uint8_t *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

static inline size_t
min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/*
 * TCP or UDP header at l4 with avail sampled bytes, of which ip_left are
 * still inside the IP packet (the rest is link-layer padding, or garbage).
 * Anything but TCP/UDP has nothing more to find: OK.
 */
static sh_packet_status
parse_l4(uint8_t proto, const uint8_t *l4, size_t avail, size_t ip_left,
		 sh_packet *out)
{
	size_t		header_len;
	size_t		bytes;

	if (proto != IPPROTO_NUM_TCP && proto != IPPROTO_NUM_UDP)
		return SH_PKT_OK;
	if (avail < 4)
	{
		out->l4_cut = 1;
		return SH_PKT_TRUNCATED;
	}
	out->sport = be16(l4);
	out->dport = be16(l4 + 2);
	out->has_ports = 1;

	if (proto == IPPROTO_NUM_TCP)
	{
		if (avail < 14)
			return SH_PKT_OK;	/* ports, but cut before the flags */
		out->tcp_flags = l4[13];
		header_len = (size_t) (l4[12] >> 4) * 4;
		if (header_len < 20)
			return SH_PKT_OK;	/* bogus data offset: no payload to point at */
	}
	else
		header_len = 8;

	bytes = avail < ip_left ? avail : ip_left;
	if (bytes > header_len)
	{
		out->payload = l4 + header_len;
		out->payload_len = bytes - header_len;
	}
	return SH_PKT_OK;
}

/*
 * GRE (RFC 2784, 2890, 1701) at p, len bytes of the IP packet carrying it.
 * Version 0 without source routes is walked to what it carries; anything
 * else (PPTP's version 1, RFC 1701 routing) is not: the outer packet is all
 * that is known, as for any protocol without ports.
 */
static sh_packet_status
parse_gre(const uint8_t *p, size_t len, int depth, sh_packet *out)
{
	uint16_t	flags;
	uint16_t	proto;
	size_t		header_len = 4;

	if (len < 4)
		return SH_PKT_TRUNCATED;
	flags = be16(p);
	proto = be16(p + 2);
	if ((flags & GRE_VERSION) != 0 || (flags & GRE_ROUTING) != 0)
		return SH_PKT_OK;
	if (flags & GRE_CHECKSUM)
		header_len += 4;		/* checksum and reserved */
	if (flags & GRE_KEY)
		header_len += 4;
	if (flags & GRE_SEQUENCE)
		header_len += 4;
	if (len < header_len)
		return SH_PKT_TRUNCATED;
	p += header_len;
	len -= header_len;

	if (proto == ETHERTYPE_TEB)
		return parse_ethernet(p, len, depth, out);
	if (proto == ETHERTYPE_ERSPAN)
	{
		/* type II has an 8-byte header, announced by the sequence number; type I none */
		if (flags & GRE_SEQUENCE)
		{
			if (len < 8)
				return SH_PKT_TRUNCATED;
			p += 8;
			len -= 8;
		}
		return parse_ethernet(p, len, depth, out);
	}
	return parse_ethertype(proto, p, len, depth, out);
}

/*
 * What an IP header of protocol proto carries, at l4: avail sampled bytes,
 * ip_left of them inside the IP packet. A tunnel (IP in IP, GRE) is
 * entered; anything else is the transport layer.
 */
static sh_packet_status
parse_ip_payload(uint8_t proto, const uint8_t *l4, size_t avail, size_t ip_left,
				 int depth, sh_packet *out)
{
	if (proto != IPPROTO_NUM_IPIP && proto != IPPROTO_NUM_IPV6 && proto != IPPROTO_NUM_GRE)
		return parse_l4(proto, l4, avail, ip_left, out);
	if (depth >= MAX_ENCAPSULATIONS)
		return SH_PKT_TOO_DEEP;
	avail = min_size(avail, ip_left);
	if (proto == IPPROTO_NUM_IPIP)
		return parse_ipv4(l4, avail, depth + 1, out);
	if (proto == IPPROTO_NUM_IPV6)
		return parse_ipv6(l4, avail, depth + 1, out);
	return parse_gre(l4, avail, depth + 1, out);
}

static sh_packet_status
parse_ipv4(const uint8_t *ip, size_t len, int depth, sh_packet *out)
{
	size_t		header_len;
	size_t		total_len;
	size_t		ip_left;

	if (len < 1)
		return SH_PKT_TRUNCATED;
	if ((ip[0] >> 4) != 4)
		return SH_PKT_BAD_IP;
	header_len = (size_t) (ip[0] & 0x0f) * 4;
	if (header_len < 20)
		return SH_PKT_BAD_IP;
	if (len < 20)
		return SH_PKT_TRUNCATED;

	out->ip_version = 4;
	out->src.family = 4;
	memcpy(out->src.bytes, ip + 12, 4);
	memset(out->src.bytes + 4, 0, 12);
	out->dst.family = 4;
	memcpy(out->dst.bytes, ip + 16, 4);
	memset(out->dst.bytes + 4, 0, 12);
	total_len = be16(ip + 2);
	out->ip_len = (int32_t) total_len;
	out->ttl = ip[8];
	out->ip_proto = ip[9];

	if ((be16(ip + 6) & 0x1fff) != 0)
	{
		/* a later piece of a fragmented packet: no L4 header in it */
		out->fragment = 1;
		return SH_PKT_OK;
	}
	out->first_fragment = (be16(ip + 6) & 0x2000) != 0;
	if (len < header_len)
		return SH_PKT_TRUNCATED;

	/*
	 * The payload ends at the IP total length, so Ethernet padding of short
	 * frames is not counted. A total length smaller than the header (0 is
	 * what segmentation offload leaves in captured packets) bounds nothing.
	 */
	ip_left = total_len >= header_len ? total_len - header_len : SIZE_MAX;
	return parse_ip_payload(out->ip_proto, ip + header_len, len - header_len, ip_left,
							depth, out);
}

/*
 * The Jumbo Payload option (RFC 2675) among the options of a hop-by-hop
 * header of ext_len bytes at h: the jumbo length, or 0 when there is none
 * (or an option runs past the header).
 */
static uint32_t
jumbo_length(const uint8_t *h, size_t ext_len)
{
	size_t		at = 2;

	while (at < ext_len)
	{
		size_t		opt_len;

		if (h[at] == IP6_OPT_PAD1)
		{
			at++;
			continue;
		}
		if (ext_len - at < 2)
			return 0;
		opt_len = h[at + 1];
		if (ext_len - at - 2 < opt_len)
			return 0;
		if (h[at] == IP6_OPT_JUMBO && opt_len == 4)
			return be32(h + at + 2);
		at += 2 + opt_len;
	}
	return 0;
}

static sh_packet_status
parse_ipv6(const uint8_t *ip, size_t len, int depth, sh_packet *out)
{
	size_t		payload_len;
	size_t		ip_end;
	size_t		off = 40;
	uint8_t		next;
	int			n;

	if (len < 1)
		return SH_PKT_TRUNCATED;
	if ((ip[0] >> 4) != 6)
		return SH_PKT_BAD_IP;
	if (len < 40)
		return SH_PKT_TRUNCATED;

	out->ip_version = 6;
	out->src.family = 6;
	memcpy(out->src.bytes, ip + 8, 16);
	out->dst.family = 6;
	memcpy(out->dst.bytes, ip + 24, 16);
	payload_len = be16(ip + 4);
	out->ttl = ip[7];

	/*
	 * Payload length 0 is a jumbogram: the length is in the hop-by-hop
	 * header's Jumbo Payload option, or not known.
	 */
	out->ip_len = payload_len != 0 ? (int32_t) payload_len + 40 : -1;
	ip_end = payload_len != 0 ? payload_len + 40 : SIZE_MAX;

	next = ip[6];
	for (n = 0;; n++)
	{
		size_t		ext_len;

		if (next != IP6_HOPOPTS && next != IP6_ROUTING && next != IP6_DSTOPTS &&
			next != IP6_FRAGMENT && next != IP6_AH)
			break;
		if (n == MAX_IP6_EXTENSIONS)
			return SH_PKT_BAD_IP;
		if (len - off < 8)		/* every extension header is >= 8 bytes */
			return SH_PKT_TRUNCATED;
		if (next == IP6_FRAGMENT)
		{
			if ((be16(ip + off + 2) >> 3) != 0)
			{
				out->ip_proto = ip[off];
				out->fragment = 1;
				return SH_PKT_OK;
			}
			out->first_fragment = (be16(ip + off + 2) & 1) != 0;
			ext_len = 8;
		}
		else if (next == IP6_AH)
			ext_len = ((size_t) ip[off + 1] + 2) * 4;
		else
			ext_len = ((size_t) ip[off + 1] + 1) * 8;
		if (len - off < ext_len)
			return SH_PKT_TRUNCATED;
		if (next == IP6_HOPOPTS && n == 0 && payload_len == 0)
		{
			uint32_t	jumbo = jumbo_length(ip + off, ext_len);

			if (jumbo != 0 && jumbo <= INT32_MAX - 40)
			{
				out->ip_len = (int32_t) jumbo + 40;
				ip_end = (size_t) jumbo + 40;
			}
		}
		next = ip[off];
		off += ext_len;
	}

	out->ip_proto = next;
	return parse_ip_payload(next, ip + off, len - off, ip_end > off ? ip_end - off : 0,
							depth, out);
}

/* An MPLS label stack, then IPv4 or IPv6 (told by the version nibble, as tshark does). */
static sh_packet_status
parse_mpls(const uint8_t *p, size_t len, int depth, sh_packet *out)
{
	size_t		off = 0;

	for (int labels = 0;; labels++)
	{
		uint32_t	entry;

		if (labels == MAX_MPLS_LABELS)
			return SH_PKT_TOO_DEEP;
		if (len - off < 4)
			return SH_PKT_TRUNCATED;
		entry = be32(p + off);
		off += 4;
		if (entry & 0x100)		/* bottom of stack */
			break;
	}
	if (len - off < 1)
		return SH_PKT_TRUNCATED;
	if ((p[off] >> 4) == 4)
		return parse_ipv4(p + off, len - off, depth, out);
	if ((p[off] >> 4) == 6)
		return parse_ipv6(p + off, len - off, depth, out);
	return SH_PKT_NOT_IP;
}

/* A PPPoE session header (RFC 2516), its length bounding the PPP frame. */
static sh_packet_status
parse_pppoe(const uint8_t *p, size_t len, int depth, sh_packet *out)
{
	size_t		ppp_len;
	uint16_t	proto;

	if (len < 8)
		return SH_PKT_TRUNCATED;
	if (p[0] != 0x11 || p[1] != 0)	/* version 1, type 1; session data */
		return SH_PKT_NOT_IP;
	ppp_len = be16(p + 4);
	if (ppp_len < 2)
		return SH_PKT_TRUNCATED;	/* no room for the PPP protocol it holds */
	proto = be16(p + 6);
	len = min_size(len - 8, ppp_len - 2);
	if (proto == PPP_IPV4)
		return parse_ipv4(p + 8, len, depth, out);
	if (proto == PPP_IPV6)
		return parse_ipv6(p + 8, len, depth, out);
	return SH_PKT_NOT_IP;
}

/*
 * An 802.3 frame's LLC header: IP only behind SNAP (AA AA 03) with an OUI
 * of 0 (RFC 1042) or 00-00-F8 (802.1H), whose type is an ethertype.
 */
static sh_packet_status
parse_llc(const uint8_t *p, size_t len, int depth, sh_packet *out)
{
	if (len < 8 || p[0] != 0xAA || p[1] != 0xAA || p[2] != 0x03 ||
		p[3] != 0 || p[4] != 0 || (p[5] != 0 && p[5] != 0xF8))
		return SH_PKT_NOT_IP;
	if (depth >= MAX_ENCAPSULATIONS)
		return SH_PKT_TOO_DEEP;
	return parse_ethertype(be16(p + 6), p + 8, len - 8, depth + 1, out);
}

/* What an ethertype announces (after the tags, in SNAP, in GRE). */
static sh_packet_status
parse_ethertype(uint16_t type, const uint8_t *p, size_t len, int depth, sh_packet *out)
{
	switch (type)
	{
		case ETHERTYPE_IPV4:
			return parse_ipv4(p, len, depth, out);
		case ETHERTYPE_IPV6:
			return parse_ipv6(p, len, depth, out);
		case ETHERTYPE_MPLS:
		case ETHERTYPE_MPLS_MC:
			if (depth >= MAX_ENCAPSULATIONS)
				return SH_PKT_TOO_DEEP;
			return parse_mpls(p, len, depth + 1, out);
		case ETHERTYPE_PPPOE:
			if (depth >= MAX_ENCAPSULATIONS)
				return SH_PKT_TOO_DEEP;
			return parse_pppoe(p, len, depth + 1, out);
		default:
			return SH_PKT_NOT_IP;
	}
}

/*
 * An Ethernet header and its VLAN tags. Only the outermost one (depth 0)
 * reports its MACs and VLAN ids; one inside a tunnel is walked through.
 */
static sh_packet_status
parse_ethernet(const uint8_t *p, size_t len, int depth, sh_packet *out)
{
	size_t		off;
	uint16_t	ethertype;
	int			tags;

	if (len < 12)
		return SH_PKT_TRUNCATED;
	if (depth == 0)
	{
		memcpy(out->dst_mac, p, 6);
		memcpy(out->src_mac, p + 6, 6);
		out->has_mac = 1;
	}

	off = 12;
	for (tags = 0;; tags++)
	{
		if (len - off < 2)
			return SH_PKT_TRUNCATED;
		ethertype = be16(p + off);
		if (ethertype != ETHERTYPE_8021Q && ethertype != ETHERTYPE_8021AD &&
			ethertype != ETHERTYPE_QINQ_OLD)
			break;
		if (tags == MAX_VLAN_TAGS)
			return SH_PKT_TOO_DEEP;
		if (len - off < 4)
			return SH_PKT_TRUNCATED;
		if (depth == 0 && tags == 0)
			out->vlan = be16(p + off + 2) & 0x0fff;
		else if (depth == 0 && tags == 1)
			out->inner_vlan = be16(p + off + 2) & 0x0fff;
		off += 4;
	}
	off += 2;

	if (ethertype <= ETHER_MAX_LENGTH)
		return parse_llc(p + off, min_size(len - off, ethertype), depth, out);
	return parse_ethertype(ethertype, p + off, len - off, depth, out);
}

/* Every field "unknown": what a parse that reaches nothing leaves. */
void
sh_packet_clear(sh_packet *pkt)
{
	pkt->has_mac = 0;
	pkt->vlan = -1;
	pkt->inner_vlan = -1;
	pkt->ip_version = 0;
	pkt->src.family = 0;
	pkt->dst.family = 0;
	pkt->ip_proto = 0;
	pkt->ip_len = -1;
	pkt->ttl = -1;
	pkt->fragment = 0;
	pkt->first_fragment = 0;
	pkt->l4_cut = 0;
	pkt->has_ports = 0;
	pkt->sport = 0;
	pkt->dport = 0;
	pkt->tcp_flags = -1;
	pkt->payload = NULL;
	pkt->payload_len = 0;
}

sh_packet_status
sh_parse_packet(uint32_t header_protocol, const uint8_t *p, size_t len,
				sh_packet *out)
{
	sh_packet_clear(out);

	switch (header_protocol)
	{
		case SH_HEADER_IPV4:
			return parse_ipv4(p, len, 0, out);
		case SH_HEADER_IPV6:
			return parse_ipv6(p, len, 0, out);
		case SH_HEADER_ETHERNET:
			return parse_ethernet(p, len, 0, out);
		default:
			return SH_PKT_UNSUPPORTED;
	}
}
