/*
 * loader/capture/sflow.c: decode one sFlow datagram, version 5 (sflow.org, "sFlow
 * Version 5"), version 4 (RFC 3176) or version 2, and hand every sampled
 * packet record of its flow samples to a callback.
 *
 * All reads go through a reader (a [p, end) window) with one bounds check
 * per field or per fixed-size group of fields. A v5 sample or record is a
 * window of its own, so a record can only be read inside its sample and a
 * sample inside its datagram. The first failed check ends the datagram with
 * its reason: a fixed field that runs past its window is SH_ERR_TRUNCATED, a
 * length (or count of 32-bit items) that runs past its window is
 * SH_ERR_BAD_LENGTH.
 *
 * Versions 2 and 4 have no lengths to skip by: every sample, packet data
 * and extended record must be sized from its type, and a type this decoder
 * cannot size ends the datagram (SH_ERR_UNKNOWN_V2V4). They differ in one
 * place, the extended gateway record: v2 carries a flat destination AS path,
 * v4 a list of typed segments followed by communities and localpref.
 */
#include "sflow.h"

#include <string.h>

/* v5 sample and flow record formats (enterprise 0) */
#define V5_FLOW_SAMPLE				1
#define V5_COUNTER_SAMPLE			2
#define V5_FLOW_SAMPLE_EXPANDED		3
#define V5_COUNTER_SAMPLE_EXPANDED	4

#define V5_RECORD_RAW_HEADER		1
#define V5_RECORD_IPV4				3
#define V5_RECORD_IPV6				4
#define V5_RECORD_SWITCH			1001
#define V5_RECORD_GATEWAY			1003

/* v2/v4 sample types, packet data types, extended data types */
#define V24_FLOW_SAMPLE				1
#define V24_COUNTER_SAMPLE			2

#define V24_PACKET_HEADER			1
#define V24_PACKET_IPV4				2
#define V24_PACKET_IPV6				3

#define V24_EXT_SWITCH				1
#define V24_EXT_ROUTER				2
#define V24_EXT_GATEWAY				3
#define V24_EXT_USER				4
#define V24_EXT_URL					5

/* fixed sizes, in bytes */
#define IPV4_DATA_SIZE				32	/* length .. tos */
#define IPV6_DATA_SIZE				56	/* length .. priority */
#define SWITCH_SIZE					16
#define V24_GENERIC_COUNTERS_SIZE	88
#define V24_ETHERNET_COUNTERS_SIZE	52
#define V24_TOKENRING_COUNTERS_SIZE	72
#define V24_VG_COUNTERS_SIZE		80
#define V24_VLAN_COUNTERS_SIZE		28

/* Every v5 sample and flow record starts with two words (format, length). */
#define MIN_SAMPLE_SIZE				8

typedef struct reader
{
	const uint8_t *p;
	const uint8_t *end;
} reader;

#define NEED(r, n) \
	do { \
		if ((size_t) ((r)->end - (r)->p) < (size_t) (n)) \
			return SH_ERR_TRUNCATED; \
	} while (0)

#define TRY(expr) \
	do { \
		sh_status	try_status_ = (expr); \
		if (try_status_ != SH_OK) \
			return try_status_; \
	} while (0)

static inline size_t
remaining(const reader *r)
{
	return (size_t) (r->end - r->p);
}

static inline uint32_t
be32(const uint8_t *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

/* The next word; the caller has checked that it is there. */
static inline uint32_t
next32(reader *r)
{
	uint32_t	v = be32(r->p);

	r->p += 4;
	return v;
}

/* Skip count 32-bit items (AS numbers, communities) announced by a count. */
static inline sh_status
skip_words(reader *r, uint32_t count)
{
	if ((uint64_t) count * 4 > remaining(r))
		return SH_ERR_BAD_LENGTH;
	r->p += (size_t) count * 4;
	return SH_OK;
}

/* Skip an XDR opaque/string: a byte length, then the bytes padded to 4. */
static inline sh_status
skip_opaque(reader *r)
{
	uint64_t	padded;

	NEED(r, 4);
	padded = ((uint64_t) next32(r) + 3) & ~(uint64_t) 3;
	if (padded > remaining(r))
		return SH_ERR_BAD_LENGTH;
	r->p += padded;
	return SH_OK;
}

/*
 * A typed address: 1 IPv4, 2 IPv6, and where allow_unknown, 0 (no address,
 * as v5 allows for next hops). a may be NULL to skip it.
 */
static sh_status
read_address(reader *r, sh_addr *a, int allow_unknown)
{
	uint32_t	type;

	NEED(r, 4);
	type = be32(r->p);
	if (type == 1)
	{
		NEED(r, 8);
		if (a)
		{
			a->family = 4;
			memcpy(a->bytes, r->p + 4, 4);
			memset(a->bytes + 4, 0, 12);
		}
		r->p += 8;
	}
	else if (type == 2)
	{
		NEED(r, 20);
		if (a)
		{
			a->family = 6;
			memcpy(a->bytes, r->p + 4, 16);
		}
		r->p += 20;
	}
	else if (type == 0 && allow_unknown)
	{
		if (a)
			a->family = 0;
		r->p += 4;
	}
	else
		return SH_ERR_BAD_ADDRESS;
	return SH_OK;
}

/*
 * Extended gateway, v4 and v5 layout (v5 adds the BGP next hop in front):
 * as, src_as, src_peer_as, AS path segments (type, count, ASes),
 * communities (count, list), localpref. The destination (origin) AS is the
 * last AS of the last segment, as sflowtool reports it.
 */
static sh_status
read_gateway_segments(reader *r, sh_record *rec)
{
	uint32_t	src_as;
	uint32_t	segments;
	uint32_t	dst_as = 0;
	uint32_t	i;

	NEED(r, 16);
	r->p += 4;					/* as: the reporting router's own AS */
	src_as = next32(r);
	r->p += 4;					/* src_peer_as */
	segments = next32(r);
	for (i = 0; i < segments; i++)
	{
		uint32_t	count;

		NEED(r, 8);
		r->p += 4;				/* AS_SET or AS_SEQUENCE */
		count = next32(r);
		TRY(skip_words(r, count));
		/* the last AS of this segment, or 0 when it is empty */
		dst_as = count ? be32(r->p - 4) : 0;
	}
	NEED(r, 4);
	TRY(skip_words(r, next32(r)));	/* communities */
	NEED(r, 4);
	r->p += 4;					/* localpref */

	rec->has_gateway = 1;
	rec->gw_src_as = src_as;
	rec->gw_dst_as = dst_as;
	return SH_OK;
}

/* Extended gateway, v2 layout: as, src_as, src_peer_as, flat AS path. */
static sh_status
read_gateway_v2(reader *r, sh_record *rec)
{
	uint32_t	src_as;
	uint32_t	count;

	NEED(r, 16);
	r->p += 4;
	src_as = next32(r);
	r->p += 4;
	count = next32(r);
	TRY(skip_words(r, count));

	rec->has_gateway = 1;
	rec->gw_src_as = src_as;
	rec->gw_dst_as = count ? be32(r->p - 4) : 0;
	return SH_OK;
}

/*
 * Fill rec from an "IPv4 data" (b holds IPV4_DATA_SIZE bytes) or "IPv6
 * data" record (IPV6_DATA_SIZE bytes): the same layout in v2, v4 and v5.
 */
static void
fill_ip_data(sh_record *rec, const uint8_t *b, int ipv6, uint32_t record_format)
{
	sh_packet  *pkt = &rec->pkt;
	uint32_t	length = be32(b);
	uint32_t	proto = be32(b + 4);
	const uint8_t *ports;

	sh_packet_clear(pkt);
	if (ipv6)
	{
		pkt->ip_version = 6;
		pkt->src.family = 6;
		memcpy(pkt->src.bytes, b + 8, 16);
		pkt->dst.family = 6;
		memcpy(pkt->dst.bytes, b + 24, 16);
		ports = b + 40;
	}
	else
	{
		pkt->ip_version = 4;
		pkt->src.family = 4;
		memcpy(pkt->src.bytes, b + 8, 4);
		memset(pkt->src.bytes + 4, 0, 12);
		pkt->dst.family = 4;
		memcpy(pkt->dst.bytes, b + 12, 4);
		memset(pkt->dst.bytes + 4, 0, 12);
		ports = b + 16;
	}
	pkt->ip_proto = (uint8_t) proto;
	pkt->ip_len = length <= INT32_MAX ? (int32_t) length : -1;
	if (proto == 6 || proto == 17)
	{
		pkt->has_ports = 1;
		pkt->sport = (uint16_t) be32(ports);
		pkt->dport = (uint16_t) be32(ports + 4);
	}
	if (proto == 6)
		pkt->tcp_flags = (int16_t) (be32(ports + 8) & 0xff);

	rec->record_format = record_format;
	rec->header_protocol = 0;
	rec->frame_length = length;
	rec->stripped = 0;
	rec->header_len = 0;
	rec->header = NULL;
	rec->parse_status = SH_PKT_OK;
}

/* Fill rec from a sampled header's fields and parse its bytes. */
static void
fill_raw_header(sh_record *rec, uint32_t header_protocol, uint32_t frame_length,
				uint32_t stripped, const uint8_t *bytes, uint32_t header_len)
{
	rec->record_format = 1;
	rec->header_protocol = header_protocol;
	rec->frame_length = frame_length;
	rec->stripped = stripped;
	rec->header_len = header_len;
	rec->header = bytes;
	rec->parse_status = sh_parse_packet(header_protocol, bytes, header_len, &rec->pkt);
}

static void
reset_extended(sh_record *rec)
{
	rec->has_switch = 0;
	rec->switch_src_vlan = 0;
	rec->switch_dst_vlan = 0;
	rec->has_gateway = 0;
	rec->gw_src_as = 0;
	rec->gw_dst_as = 0;
}

static inline void
emit(const sh_record *rec, sh_counts *counts, sh_record_fn fn, void *arg)
{
	counts->packet_records++;
	if (fn)
		fn(rec, arg);
}

/* A single interface of the maximum value is the device itself, no ifIndex. */
static inline void
mark_internal(uint32_t *format, uint32_t value, int expanded)
{
	if (*format == 0 && value == (expanded ? 0xFFFFFFFFu : 0x3FFFFFFFu))
		*format = SH_IF_INTERNAL;
}

/*
 * v5 flow sample or expanded flow sample, s being the sample's window.
 *
 * Pass 1 checks every record against the sample and collects the extended
 * records, which may stand before or after the packet record; pass 2 hands
 * over the packet records: the raw headers, or when there is none, the
 * IPv4/IPv6 data records.
 */
static sh_status
decode_v5_flow_sample(reader *s, int expanded, sh_record *rec,
					  sh_counts *counts, sh_record_fn fn, void *arg)
{
	uint32_t	num_records;
	uint32_t	i;
	uint32_t	raw_headers = 0;
	uint32_t	ip_data = 0;
	const uint8_t *records;

	NEED(s, expanded ? 44 : 32);
	rec->sample_type = expanded ? V5_FLOW_SAMPLE_EXPANDED : V5_FLOW_SAMPLE;
	rec->sample_seq = next32(s);
	if (expanded)
	{
		rec->source_id_type = next32(s);
		rec->source_id_index = next32(s);
	}
	else
	{
		uint32_t	source_id = next32(s);

		rec->source_id_type = source_id >> 24;
		rec->source_id_index = source_id & 0x00ffffff;
	}
	rec->sampling_rate = next32(s);
	rec->sample_pool = next32(s);
	rec->drops = next32(s);
	if (expanded)
	{
		rec->input_format = next32(s);
		rec->input_if = next32(s);
		rec->output_format = next32(s);
		rec->output_if = next32(s);
	}
	else
	{
		uint32_t	input = next32(s);
		uint32_t	output = next32(s);

		rec->input_format = input >> 30;
		rec->input_if = input & 0x3fffffff;
		rec->output_format = output >> 30;
		rec->output_if = output & 0x3fffffff;
	}
	num_records = next32(s);
	reset_extended(rec);
	mark_internal(&rec->input_format, rec->input_if, expanded);
	mark_internal(&rec->output_format, rec->output_if, expanded);

	records = s->p;
	for (i = 0; i < num_records; i++)
	{
		uint32_t	format;
		uint32_t	length;
		reader		body;

		NEED(s, 8);
		format = next32(s);
		length = next32(s);
		if (length > remaining(s))
			return SH_ERR_BAD_LENGTH;
		body.p = s->p;
		body.end = s->p + length;
		s->p += length;

		switch (format)
		{
			case V5_RECORD_RAW_HEADER:
				NEED(&body, 16);
				if (be32(body.p + 12) > length - 16)
					return SH_ERR_BAD_LENGTH;
				raw_headers++;
				break;
			case V5_RECORD_IPV4:
				NEED(&body, IPV4_DATA_SIZE);
				ip_data++;
				break;
			case V5_RECORD_IPV6:
				NEED(&body, IPV6_DATA_SIZE);
				ip_data++;
				break;
			case V5_RECORD_SWITCH:
				NEED(&body, SWITCH_SIZE);
				rec->has_switch = 1;
				rec->switch_src_vlan = be32(body.p);
				rec->switch_dst_vlan = be32(body.p + 8);
				break;
			case V5_RECORD_GATEWAY:
				TRY(read_address(&body, NULL, 1));	/* BGP next hop */
				TRY(read_gateway_segments(&body, rec));
				break;
			default:
				/* other enterprises' records too: skipped by length */
				counts->unknown_records++;
				break;
		}
	}

	if (raw_headers == 0 && ip_data == 0)
		return SH_OK;

	/* pass 2: the records were all checked above */
	s->p = records;
	for (i = 0; i < num_records; i++)
	{
		uint32_t	format = next32(s);
		uint32_t	length = next32(s);
		const uint8_t *b = s->p;

		s->p += length;
		if (format == V5_RECORD_RAW_HEADER)
			fill_raw_header(rec, be32(b), be32(b + 4), be32(b + 8), b + 16, be32(b + 12));
		else if (raw_headers == 0 && format == V5_RECORD_IPV4)
			fill_ip_data(rec, b, 0, V5_RECORD_IPV4);
		else if (raw_headers == 0 && format == V5_RECORD_IPV6)
			fill_ip_data(rec, b, 1, V5_RECORD_IPV6);
		else
			continue;
		emit(rec, counts, fn, arg);
	}
	return SH_OK;
}

static sh_status
decode_v5_samples(reader *r, uint32_t num_samples, sh_record *rec,
				  sh_counts *counts, sh_record_fn fn, void *arg)
{
	uint32_t	i;

	for (i = 0; i < num_samples; i++)
	{
		uint32_t	format;
		uint32_t	length;
		reader		sample;

		NEED(r, 8);
		format = next32(r);
		length = next32(r);
		if (length > remaining(r))
			return SH_ERR_BAD_LENGTH;
		sample.p = r->p;
		sample.end = r->p + length;
		r->p += length;

		switch (format)
		{
			case V5_FLOW_SAMPLE:
			case V5_FLOW_SAMPLE_EXPANDED:
				counts->flow_samples++;
				TRY(decode_v5_flow_sample(&sample, format == V5_FLOW_SAMPLE_EXPANDED,
										  rec, counts, fn, arg));
				break;
			case V5_COUNTER_SAMPLE:
			case V5_COUNTER_SAMPLE_EXPANDED:
				counts->counter_samples++;
				break;
			default:
				/* drop samples (5), other enterprises: skipped by length */
				counts->other_samples++;
				break;
		}
	}
	return SH_OK;
}

/*
 * v2/v4 flow sample: the header, one packet data item, then the extended
 * records; all without lengths.
 */
static sh_status
decode_v24_flow_sample(reader *r, uint32_t version, sh_record *rec,
					   sh_counts *counts, sh_record_fn fn, void *arg)
{
	uint32_t	source_id;
	uint32_t	output;
	uint32_t	packet_type;
	uint32_t	num_extended;
	uint32_t	i;
	const uint8_t *data;
	uint32_t	header_protocol = 0;
	uint32_t	frame_length = 0;
	uint32_t	header_len = 0;

	NEED(r, 32);
	rec->sample_type = 1;
	rec->sample_seq = next32(r);
	source_id = next32(r);
	rec->source_id_type = source_id >> 24;
	rec->source_id_index = source_id & 0x00ffffff;
	rec->sampling_rate = next32(r);
	rec->sample_pool = next32(r);
	rec->drops = next32(r);
	rec->input_format = 0;
	rec->input_if = next32(r);
	/* top bit: sent to several interfaces, the rest is how many (v5 format 2) */
	output = next32(r);
	rec->output_format = output >> 31 ? 2 : 0;
	rec->output_if = output & 0x7fffffff;
	packet_type = next32(r);
	reset_extended(rec);

	switch (packet_type)
	{
		case V24_PACKET_HEADER:
			{
				uint64_t	padded;

				NEED(r, 12);
				header_protocol = next32(r);
				frame_length = next32(r);
				header_len = next32(r);
				padded = ((uint64_t) header_len + 3) & ~(uint64_t) 3;
				if (padded > remaining(r))
					return SH_ERR_BAD_LENGTH;
				data = r->p;
				r->p += padded;
				break;
			}
		case V24_PACKET_IPV4:
			NEED(r, IPV4_DATA_SIZE);
			data = r->p;
			r->p += IPV4_DATA_SIZE;
			break;
		case V24_PACKET_IPV6:
			NEED(r, IPV6_DATA_SIZE);
			data = r->p;
			r->p += IPV6_DATA_SIZE;
			break;
		default:
			return SH_ERR_UNKNOWN_V2V4;
	}

	NEED(r, 4);
	num_extended = next32(r);
	for (i = 0; i < num_extended; i++)
	{
		NEED(r, 4);
		switch (next32(r))
		{
			case V24_EXT_SWITCH:
				NEED(r, SWITCH_SIZE);
				rec->has_switch = 1;
				rec->switch_src_vlan = be32(r->p);
				rec->switch_dst_vlan = be32(r->p + 8);
				r->p += SWITCH_SIZE;
				break;
			case V24_EXT_ROUTER:
				TRY(read_address(r, NULL, 1));	/* next hop */
				NEED(r, 8);
				r->p += 8;		/* source and destination mask lengths */
				break;
			case V24_EXT_GATEWAY:
				if (version == 2)
					TRY(read_gateway_v2(r, rec));
				else
					TRY(read_gateway_segments(r, rec));
				break;
			case V24_EXT_USER:
				TRY(skip_opaque(r));	/* source user */
				TRY(skip_opaque(r));	/* destination user */
				break;
			case V24_EXT_URL:
				NEED(r, 4);
				r->p += 4;		/* direction */
				TRY(skip_opaque(r));
				break;
			default:
				return SH_ERR_UNKNOWN_V2V4;
		}
	}

	if (packet_type == V24_PACKET_HEADER)
		fill_raw_header(rec, header_protocol, frame_length, 0, data, header_len);
	else
		fill_ip_data(rec, data, packet_type == V24_PACKET_IPV6, packet_type);
	emit(rec, counts, fn, arg);
	return SH_OK;
}

/* v2/v4 counter sample: a header, then a block whose size its type gives. */
static sh_status
skip_v24_counter_sample(reader *r)
{
	size_t		size;

	NEED(r, 16);
	r->p += 12;					/* sequence, source id, sampling interval */
	switch (next32(r))
	{
		case 1:					/* generic */
		case 4:					/* FDDI */
		case 6:					/* WAN */
			size = V24_GENERIC_COUNTERS_SIZE;
			break;
		case 2:
			size = V24_GENERIC_COUNTERS_SIZE + V24_ETHERNET_COUNTERS_SIZE;
			break;
		case 3:
			size = V24_GENERIC_COUNTERS_SIZE + V24_TOKENRING_COUNTERS_SIZE;
			break;
		case 5:					/* 100BaseVG */
			size = V24_GENERIC_COUNTERS_SIZE + V24_VG_COUNTERS_SIZE;
			break;
		case 7:					/* VLAN: no generic block */
			size = V24_VLAN_COUNTERS_SIZE;
			break;
		default:
			return SH_ERR_UNKNOWN_V2V4;
	}
	NEED(r, size);
	r->p += size;
	return SH_OK;
}

static sh_status
decode_v24_samples(reader *r, uint32_t version, uint32_t num_samples,
				   sh_record *rec, sh_counts *counts, sh_record_fn fn, void *arg)
{
	uint32_t	i;

	for (i = 0; i < num_samples; i++)
	{
		NEED(r, 4);
		switch (next32(r))
		{
			case V24_FLOW_SAMPLE:
				counts->flow_samples++;
				TRY(decode_v24_flow_sample(r, version, rec, counts, fn, arg));
				break;
			case V24_COUNTER_SAMPLE:
				counts->counter_samples++;
				TRY(skip_v24_counter_sample(r));
				break;
			default:
				return SH_ERR_UNKNOWN_V2V4;
		}
	}
	return SH_OK;
}

/*
 * The datagram header, shared by sh_datagram_header() and
 * sh_decode_datagram(); leaves r at the first sample.
 */
static sh_status
read_datagram_header(reader *r, sh_dgram *dg)
{
	NEED(r, 4);
	dg->version = next32(r);
	if (dg->version != 2 && dg->version != 4 && dg->version != 5)
		return SH_ERR_NOT_SFLOW;
	TRY(read_address(r, &dg->agent, 0));
	if (dg->version == 5)
	{
		NEED(r, 16);
		dg->sub_agent = next32(r);
	}
	else
	{
		NEED(r, 12);
		dg->sub_agent = 0;
	}
	dg->seq = next32(r);
	dg->uptime_ms = next32(r);
	dg->num_samples = next32(r);
	return SH_OK;
}

sh_status
sh_datagram_header(const uint8_t *buf, size_t len, sh_dgram *out)
{
	reader		r;

	if (len < 4)
		return SH_ERR_TRUNCATED;
	r.p = buf;
	r.end = buf + len;
	return read_datagram_header(&r, out);
}

sh_status
sh_decode_datagram(const uint8_t *buf, size_t len, sh_dgram *header, sh_counts *counts,
				   sh_record_fn fn, void *arg)
{
	reader		r;
	sh_dgram	dg;
	sh_record	rec;
	sh_counts	local = {0};
	sh_status	status;

	if (header)
		header->version = 0;
	if (len < 4)
		return SH_ERR_TRUNCATED;
	r.p = buf;
	r.end = buf + len;
	TRY(read_datagram_header(&r, &dg));
	if (header)
		*header = dg;

	/* no sample is smaller than 8 bytes in any version */
	if (dg.num_samples > remaining(&r) / MIN_SAMPLE_SIZE)
		return SH_ERR_SAMPLE_COUNT;

	rec.version = dg.version;
	rec.agent = dg.agent;
	rec.sub_agent = dg.sub_agent;
	rec.dgram_seq = dg.seq;
	rec.uptime_ms = dg.uptime_ms;
	if (dg.version == 5)
		status = decode_v5_samples(&r, dg.num_samples, &rec, &local, fn, arg);
	else
		status = decode_v24_samples(&r, dg.version, dg.num_samples, &rec, &local,
									fn, arg);
	if (status != SH_OK)
		return status;

	counts->flow_samples += local.flow_samples;
	counts->counter_samples += local.counter_samples;
	counts->other_samples += local.other_samples;
	counts->packet_records += local.packet_records;
	counts->unknown_records += local.unknown_records;
	return SH_OK;
}

const char *
sh_status_name(sh_status status)
{
	switch (status)
	{
		case SH_OK:
			return "ok";
		case SH_ERR_NOT_SFLOW:
			return "not_sflow";
		case SH_ERR_TRUNCATED:
			return "truncated";
		case SH_ERR_BAD_ADDRESS:
			return "bad_address";
		case SH_ERR_SAMPLE_COUNT:
			return "sample_count";
		case SH_ERR_BAD_LENGTH:
			return "bad_length";
		case SH_ERR_UNKNOWN_V2V4:
			return "unknown_v2v4";
		case SH_ERR_COUNT_:
			break;
	}
	return "unknown";
}
