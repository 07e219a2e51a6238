/*
 * loader/capture/sflow.h: decoding sFlow datagrams (versions 2, 4 and 5) and the
 * packet headers sampled inside them.
 *
 * Two stages, each usable alone:
 *   sh_parse_packet()   one sampled packet header (Ethernet with 802.1Q/QinQ
 *                       tags, or bare IPv4/IPv6) down to TCP/UDP ports,
 *                       through MPLS, PPPoE, LLC/SNAP, GRE and IP in IP;
 *   sh_decode_datagram() one sFlow datagram (a UDP payload), calling back once
 *                       per sampled packet record of its flow samples.
 *
 * Every read is bounds-checked: a hostile length can only end the datagram
 * being decoded, with a reason, never read past it.
 */
#ifndef SPAMHINTS_SFLOW_H
#define SPAMHINTS_SFLOW_H

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

/*
 * Not a format on the wire: what input_format/output_format say when the
 * interface is the device itself, no ifIndex (the maximum value of a single
 * interface: 0x3FFFFFFF compact, 0xFFFFFFFF expanded; sFlow v5 section 5.1).
 */
#define SH_IF_INTERNAL		0xFFFFFFFFu

/* One sampled packet record, with the context of its datagram and sample. */
typedef struct sh_record
{
	/* datagram */
	uint32_t	version;		/* 2, 4 or 5 */
	sh_addr		agent;
	uint32_t	sub_agent;		/* 0 for v2/v4 */
	uint32_t	dgram_seq;
	uint32_t	uptime_ms;

	/* flow sample */
	uint32_t	sample_type;	/* 1 flow sample, 3 expanded flow sample (v5); 1 for v2/v4 */
	uint32_t	sample_seq;
	uint32_t	source_id_type;
	uint32_t	source_id_index;
	uint32_t	sampling_rate;
	uint32_t	sample_pool;
	uint32_t	drops;
	uint32_t	input_format;	/* 0: input_if is a single ifIndex; SH_IF_INTERNAL:
								 * the device itself; else discarded/multiple */
	uint32_t	input_if;		/* the 30-bit (compact) or 32-bit (expanded) value */
	uint32_t	output_format;
	uint32_t	output_if;

	/* extended records of the same sample (wherever they stand in it) */
	uint8_t		has_switch;
	uint32_t	switch_src_vlan;
	uint32_t	switch_dst_vlan;
	uint8_t		has_gateway;
	uint32_t	gw_src_as;
	uint32_t	gw_dst_as;		/* last AS of the destination path (origin AS); 0 if empty */

	/* the packet record itself */
	uint32_t	record_format;	/* v5: 1 raw header, 3 IPv4 data, 4 IPv6 data; v2/v4: 1, 2, 3 */
	uint32_t	header_protocol;	/* raw header only, else 0 */
	uint32_t	frame_length;	/* original length of the packet (raw header; IP data: length) */
	uint32_t	stripped;
	uint32_t	header_len;		/* sampled header bytes (raw header), else 0 */
	const uint8_t *header;		/* those bytes (raw header), else NULL */
	sh_packet_status parse_status;	/* of the raw header; SH_PKT_OK for IP data records */
	sh_packet	pkt;			/* for IP data records: addresses, proto, ports, flags, ip_len */
} sh_record;

/* Counts of what one datagram held; filled only when it decodes whole. */
typedef struct sh_counts
{
	uint64_t	flow_samples;		/* flow + expanded flow samples */
	uint64_t	counter_samples;	/* counter + expanded counter samples */
	uint64_t	other_samples;		/* drop samples (v5 type 5) and unknown types, skipped */
	uint64_t	packet_records;		/* records handed to the callback */
	uint64_t	unknown_records;	/* flow records skipped by their length */
} sh_counts;

/* Why a datagram was rejected. Nothing of a rejected datagram is kept. */
typedef enum sh_status
{
	SH_OK = 0,
	SH_ERR_NOT_SFLOW,			/* version is not 2, 4 or 5 (e.g. NetFlow sent to 6343) */
	SH_ERR_TRUNCATED,			/* ends inside a field, a sample or a record */
	SH_ERR_BAD_ADDRESS,			/* agent address type not 1 (IPv4) or 2 (IPv6) */
	SH_ERR_SAMPLE_COUNT,		/* more samples announced than the bytes could hold */
	SH_ERR_BAD_LENGTH,			/* a sample/record/header length past its container */
	SH_ERR_UNKNOWN_V2V4,		/* v2/v4 sample or record type without a length to skip */
	SH_ERR_COUNT_				/* number of values */
} sh_status;

/* The datagram header: who sent it and its sequence number. */
typedef struct sh_dgram
{
	uint32_t	version;
	sh_addr		agent;
	uint32_t	sub_agent;		/* 0 for v2/v4 */
	uint32_t	seq;
	uint32_t	uptime_ms;
	uint32_t	num_samples;
} sh_dgram;

/*
 * Read only the datagram header (version 2, 4 or 5, agent address, sub-agent,
 * sequence number, uptime, sample count). Returns SH_OK, or why it cannot be
 * read. The same reader fills sh_decode_datagram()'s header.
 */
sh_status	sh_datagram_header(const uint8_t *buf, size_t len, sh_dgram *out);

/* Short machine-readable name of a status ("truncated", "not_sflow", ...). */
const char *sh_status_name(sh_status status);

/*
 * Called once per sampled packet record (raw packet header, or an IPv4/IPv6
 * data record in a flow sample that has no raw header). The record and the
 * bytes it points into are valid only during the call. Records of a
 * datagram that later turns out malformed have already been handed over:
 * the caller must be able to drop them (sh_decode_datagram's result says).
 */
typedef void (*sh_record_fn) (const sh_record *rec, void *arg);

/*
 * Decode one sFlow datagram of len bytes. Returns SH_OK and adds to *counts,
 * or the reason it was rejected (and leaves *counts alone). When header is
 * not NULL it gets the datagram header as soon as that reads whole, even if
 * the samples after it are malformed; its version is 0 when it did not.
 */
sh_status	sh_decode_datagram(const uint8_t *buf, size_t len, sh_dgram *header,
							   sh_counts *counts, sh_record_fn fn, void *arg);

#endif							/* SPAMHINTS_SFLOW_H */
