/*
 * loader/capture/packet.c: parse one sampled packet header (the bytes of an sFlow
 * "raw packet header" record) down to the TCP/UDP ports and payload.
 *
 * Sampled headers are cut short by design (often at 64 or 128 bytes), so a
 * header that stops early is not an error: the parse fills what the bytes
 * hold and says where it stopped. Every read is checked against len; this
 * runs for every sampled packet, so there is no allocation and no copying
 * beyond the fields of *out.
 */
#include "packet.h"

#include <string.h>

#define ETHERTYPE_IPV4		0x0800
#define ETHERTYPE_IPV6		0x86DD
#define ETHERTYPE_8021Q		0x8100
#define ETHERTYPE_8021AD	0x88A8
#define ETHERTYPE_QINQ_OLD	0x9100	/* pre-802.1ad QinQ, still seen */

#define IPPROTO_NUM_TCP		6
#define IPPROTO_NUM_UDP		17

/* IPv6 extension headers walked to find the L4 protocol */
#define IP6_HOPOPTS			0
#define IP6_ROUTING			43
#define IP6_FRAGMENT		44
#define IP6_AH				51
#define IP6_DSTOPTS			60

/* Bounds on hostile chains: real traffic has 1-2 tags and 0-2 extensions. */
#define MAX_VLAN_TAGS		8
#define MAX_IP6_EXTENSIONS	8

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t) ((p[0] << 8) | p[1]);
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

static sh_packet_status
parse_ipv4(const uint8_t *ip, size_t len, sh_packet *out)
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
	if (len < header_len)
		return SH_PKT_TRUNCATED;

	/*
	 * The payload ends at the IP total length, so Ethernet padding of short
	 * frames is not counted. A total length smaller than the header (0 is
	 * what segmentation offload leaves in captured packets) bounds nothing.
	 */
	ip_left = total_len >= header_len ? total_len - header_len : SIZE_MAX;
	return parse_l4(out->ip_proto, ip + header_len, len - header_len, ip_left, out);
}

static sh_packet_status
parse_ipv6(const uint8_t *ip, size_t len, sh_packet *out)
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
	out->ip_len = (int32_t) payload_len + 40;
	out->ttl = ip[7];
	/* payload length 0 is a jumbogram: the length is not known here */
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
			ext_len = 8;
		}
		else if (next == IP6_AH)
			ext_len = ((size_t) ip[off + 1] + 2) * 4;
		else
			ext_len = ((size_t) ip[off + 1] + 1) * 8;
		next = ip[off];
		if (len - off < ext_len)
			return SH_PKT_TRUNCATED;
		off += ext_len;
	}

	out->ip_proto = next;
	return parse_l4(next, ip + off, len - off, ip_end > off ? ip_end - off : 0, out);
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
	size_t		off;
	uint16_t	ethertype;
	int			tags;

	sh_packet_clear(out);

	switch (header_protocol)
	{
		case SH_HEADER_IPV4:
			return parse_ipv4(p, len, out);
		case SH_HEADER_IPV6:
			return parse_ipv6(p, len, out);
		case SH_HEADER_ETHERNET:
			break;
		default:
			return SH_PKT_UNSUPPORTED;
	}

	if (len < 12)
		return SH_PKT_TRUNCATED;
	memcpy(out->dst_mac, p, 6);
	memcpy(out->src_mac, p + 6, 6);
	out->has_mac = 1;

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
			return SH_PKT_NOT_IP;
		if (len - off < 4)
			return SH_PKT_TRUNCATED;
		if (tags == 0)
			out->vlan = be16(p + off + 2) & 0x0fff;
		else if (tags == 1)
			out->inner_vlan = be16(p + off + 2) & 0x0fff;
		off += 4;
	}
	off += 2;

	if (ethertype == ETHERTYPE_IPV4)
		return parse_ipv4(p + off, len - off, out);
	if (ethertype == ETHERTYPE_IPV6)
		return parse_ipv6(p + off, len - off, out);
	return SH_PKT_NOT_IP;
}
