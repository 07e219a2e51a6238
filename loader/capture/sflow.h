/*
 * loader/capture/sflow.h: decoding sFlow datagrams (versions 2, 4 and 5).
 *
 * sh_decode_datagram() takes one sFlow datagram (a UDP payload) and calls
 * back once per sampled packet record of its flow samples, the record's
 * packet header already parsed by the next stage (packet.h).
 *
 * Every read is bounds-checked: a hostile length can only end the datagram
 * being decoded, with a reason, never read past it.
 */
#ifndef SPAMHINTS_SFLOW_H
#define SPAMHINTS_SFLOW_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "packet.h"

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
