/*
 * tests/unit/test_sflow.c: sh_decode_datagram() on sFlow v2, v4 and v5
 * datagrams built byte by byte (builder.h), NULL, against values computed by hand.
 *
 * The fixture datagrams were also written to a pcap and read back with
 * tshark 4.0.17 and with sflowtool (github.com/sflow/sflowtool), which show
 * the same fields: v5 whole with both; v2/v4 header, switch, router,
 * gateway and counter blocks with both, user/URL records, IPv4/IPv6 data and
 * VLAN counters with sflowtool only (tshark 4.0 does not size those in
 * v2/v4 datagrams and loses the rest of the datagram).
 *
 * Every decode runs on a heap copy of exactly the datagram's length, so
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

#define MAX_RECORDS 16

typedef struct collected
{
	sh_record	rec;
	uint8_t		payload[64];
	size_t		payload_len;
} collected;

static collected got[MAX_RECORDS];
static int	ngot;

/* The callback: keep a copy (the record and its bytes live only during it). */
static void
collect(const sh_record *rec, void *arg)
{
	(void) arg;
	if (ngot >= MAX_RECORDS)
	{
		ngot++;					/* only corrupted datagrams get here */
		return;
	}
	got[ngot].rec = *rec;
	got[ngot].rec.pkt.payload = NULL;
	got[ngot].payload_len = rec->pkt.payload_len;
	if (rec->pkt.payload_len)
	{
		assert_non_null(rec->pkt.payload);
		memcpy(got[ngot].payload, rec->pkt.payload,
			   rec->pkt.payload_len < 64 ? rec->pkt.payload_len : 64);
	}
	ngot++;
}

static sh_status
decode(const buf *b, size_t len, sh_counts *counts)
{
	uint8_t    *heap = malloc(len ? len : 1);
	sh_status	st;

	assert_non_null(heap);
	memcpy(heap, b->data, len);
	ngot = 0;
	st = sh_decode_datagram(heap, len, NULL, counts, collect, NULL);
	free(heap);
	return st;
}

static void
assert_counts(const sh_counts *c, uint64_t flow, uint64_t counter,
			  uint64_t other, uint64_t packets, uint64_t unknown)
{
	assert_int_equal(c->flow_samples, flow);
	assert_int_equal(c->counter_samples, counter);
	assert_int_equal(c->other_samples, other);
	assert_int_equal(c->packet_records, packets);
	assert_int_equal(c->unknown_records, unknown);
}

static void
assert_v4_addr(const sh_addr *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	const uint8_t want[4] = {b0, b1, b2, b3};

	assert_int_equal(a->family, 4);
	assert_memory_equal(a->bytes, want, 4);
}

/* The SMTP fixture frame as parsed, cut at header_len bytes. */
static void
assert_smtp_packet(const collected *c, size_t payload_len)
{
	const sh_packet *p = &c->rec.pkt;

	assert_int_equal(c->rec.parse_status, SH_PKT_OK);
	assert_int_equal(p->has_mac, 1);
	assert_memory_equal(p->dst_mac, MAC_DST, 6);
	assert_memory_equal(p->src_mac, MAC_SRC, 6);
	assert_int_equal(p->vlan, -1);
	assert_int_equal(p->ip_version, 4);
	assert_memory_equal(p->src.bytes, IP4_A, 4);
	assert_memory_equal(p->dst.bytes, IP4_B, 4);
	assert_int_equal(p->ip_proto, 6);
	assert_int_equal(p->ip_len, 46);
	assert_int_equal(p->ttl, 64);
	assert_int_equal(p->has_ports, 1);
	assert_int_equal(p->sport, 40000);
	assert_int_equal(p->dport, 25);
	assert_int_equal(p->tcp_flags, 0x18);
	assert_int_equal(c->payload_len, payload_len);
	assert_memory_equal(c->payload, "EHLO\r\n", payload_len);
}

/* ---- the fixtures, whole ------------------------------------------------- */

static void
test_v5_fixture(void **state)
{
	static buf	b;
	sh_counts	c = {0};
	const sh_record *r;

	(void) state;
	fixture_v5(&b);
	assert_int_equal(decode(&b, b.len, &c), SH_OK);
	/* flow: samples 1, 4, 5; counter: 2; other: drop 3, enterprise 6 */
	assert_counts(&c, 3, 1, 2, 4, 1);
	assert_int_equal(ngot, 4);

	/* sample 1: raw header between a switch and a gateway record */
	r = &got[0].rec;
	assert_int_equal(r->version, 5);
	assert_v4_addr(&r->agent, 192, 0, 2, 1);
	assert_int_equal(r->sub_agent, 7);
	assert_int_equal(r->dgram_seq, 42);
	assert_int_equal(r->uptime_ms, 123456);
	assert_int_equal(r->sample_type, 1);
	assert_int_equal(r->sample_seq, 1);
	assert_int_equal(r->source_id_type, 0);
	assert_int_equal(r->source_id_index, 5);
	assert_int_equal(r->sampling_rate, 512);
	assert_int_equal(r->sample_pool, 1024);
	assert_int_equal(r->drops, 3);
	assert_int_equal(r->input_format, 0);
	assert_int_equal(r->input_if, 5);
	assert_int_equal(r->output_format, 2);
	assert_int_equal(r->output_if, 7);
	assert_int_equal(r->has_switch, 1);
	assert_int_equal(r->switch_src_vlan, 10);
	assert_int_equal(r->switch_dst_vlan, 20);
	assert_int_equal(r->has_gateway, 1);
	assert_int_equal(r->gw_src_as, 64500);
	assert_int_equal(r->gw_dst_as, 64511);
	assert_int_equal(r->record_format, 1);
	assert_int_equal(r->header_protocol, 1);
	assert_int_equal(r->frame_length, 64);
	assert_int_equal(r->stripped, 4);
	assert_int_equal(r->header_len, 60);
	assert_smtp_packet(&got[0], 6);

	/* sample 4: expanded; the IPv4 data record yields to the raw header */
	r = &got[1].rec;
	assert_int_equal(r->sample_type, 3);
	assert_int_equal(r->sample_seq, 2);
	assert_int_equal(r->source_id_type, 0);
	assert_int_equal(r->source_id_index, 70000);
	assert_int_equal(r->sampling_rate, 4096);
	assert_int_equal(r->sample_pool, 8192);
	assert_int_equal(r->input_format, 0);
	assert_int_equal(r->input_if, 100000);
	assert_int_equal(r->output_format, 0);
	assert_int_equal(r->output_if, 200000);
	assert_int_equal(r->has_switch, 0);	/* not carried over from sample 1 */
	assert_int_equal(r->has_gateway, 0);
	assert_int_equal(r->record_format, 1);
	assert_int_equal(r->frame_length, 86);
	assert_int_equal(r->header_len, 82);
	assert_int_equal(r->parse_status, SH_PKT_OK);
	assert_int_equal(r->pkt.vlan, 100);
	assert_int_equal(r->pkt.inner_vlan, 200);
	assert_int_equal(r->pkt.ip_version, 6);
	assert_memory_equal(r->pkt.src.bytes, IP6_A, 16);
	assert_memory_equal(r->pkt.dst.bytes, IP6_B, 16);
	assert_int_equal(r->pkt.ttl, 57);
	assert_int_equal(r->pkt.sport, 25);
	assert_int_equal(r->pkt.dport, 51000);
	assert_int_equal(r->pkt.tcp_flags, 0x12);

	/* sample 5: no raw header, so its IPv4 and IPv6 data records */
	r = &got[2].rec;
	assert_int_equal(r->sample_type, 1);
	assert_int_equal(r->sample_seq, 3);
	assert_int_equal(r->source_id_type, 1);
	assert_int_equal(r->source_id_index, 6);
	assert_int_equal(r->input_format, 1);
	assert_int_equal(r->input_if, 0);
	assert_int_equal(r->output_format, 0);
	assert_int_equal(r->output_if, 9);
	assert_int_equal(r->record_format, 3);
	assert_int_equal(r->header_protocol, 0);
	assert_int_equal(r->header_len, 0);
	assert_int_equal(r->frame_length, 40);
	assert_int_equal(r->parse_status, SH_PKT_OK);
	assert_int_equal(r->pkt.has_mac, 0);
	assert_int_equal(r->pkt.vlan, -1);
	assert_int_equal(r->pkt.ip_version, 4);
	assert_memory_equal(r->pkt.src.bytes, IP4_A, 4);
	assert_memory_equal(r->pkt.dst.bytes, IP4_B, 4);
	assert_int_equal(r->pkt.ip_proto, 6);
	assert_int_equal(r->pkt.ip_len, 40);
	assert_int_equal(r->pkt.ttl, -1);
	assert_int_equal(r->pkt.has_ports, 1);
	assert_int_equal(r->pkt.sport, 51000);
	assert_int_equal(r->pkt.dport, 25);
	assert_int_equal(r->pkt.tcp_flags, 0x12);	/* low 8 bits of 0x112 */
	assert_int_equal(got[2].payload_len, 0);

	r = &got[3].rec;
	assert_int_equal(r->record_format, 4);
	assert_int_equal(r->frame_length, 1280);
	assert_int_equal(r->pkt.ip_version, 6);
	assert_memory_equal(r->pkt.src.bytes, IP6_A, 16);
	assert_memory_equal(r->pkt.dst.bytes, IP6_B, 16);
	assert_int_equal(r->pkt.ip_proto, 17);
	assert_int_equal(r->pkt.ip_len, 1280);
	assert_int_equal(r->pkt.sport, 5353);
	assert_int_equal(r->pkt.dport, 53);
	assert_int_equal(r->pkt.tcp_flags, -1);
}

/* What the v2 and v4 fixtures give, but for the gateway's layout. */
static void
check_v24_fixture(uint32_t version, int with_user_url)
{
	static buf	b;
	sh_counts	c = {0};
	const sh_record *r;

	fixture_v24(&b, version, with_user_url);
	assert_int_equal(decode(&b, b.len, &c), SH_OK);
	assert_counts(&c, 3, 2, 0, 3, 0);
	assert_int_equal(ngot, 3);

	r = &got[0].rec;
	assert_int_equal(r->version, version);
	assert_v4_addr(&r->agent, 192, 0, 2, 2);
	assert_int_equal(r->sub_agent, 0);
	assert_int_equal(r->dgram_seq, 77);
	assert_int_equal(r->uptime_ms, 9999);
	assert_int_equal(r->sample_type, 1);
	assert_int_equal(r->sample_seq, 11);
	assert_int_equal(r->source_id_type, 0);
	assert_int_equal(r->source_id_index, 3);
	assert_int_equal(r->sampling_rate, 400);
	assert_int_equal(r->sample_pool, 4000);
	assert_int_equal(r->drops, 1);
	assert_int_equal(r->input_format, 0);
	assert_int_equal(r->input_if, 3);
	assert_int_equal(r->output_format, 2);	/* top bit: 2 interfaces */
	assert_int_equal(r->output_if, 2);
	assert_int_equal(r->has_switch, 1);
	assert_int_equal(r->switch_src_vlan, 30);
	assert_int_equal(r->switch_dst_vlan, 40);
	assert_int_equal(r->has_gateway, 1);
	assert_int_equal(r->gw_src_as, 64510);
	assert_int_equal(r->gw_dst_as, 64520);
	assert_int_equal(r->record_format, 1);
	assert_int_equal(r->header_protocol, 1);
	assert_int_equal(r->frame_length, 64);
	assert_int_equal(r->stripped, 0);
	assert_int_equal(r->header_len, 58);
	assert_smtp_packet(&got[0], 4);		/* cut at 58: "EHLO" */

	r = &got[1].rec;
	assert_int_equal(r->sample_seq, 12);
	assert_int_equal(r->sample_pool, 4400);
	assert_int_equal(r->output_format, 0);
	assert_int_equal(r->output_if, 4);
	assert_int_equal(r->has_switch, 0);
	assert_int_equal(r->has_gateway, 0);
	assert_int_equal(r->record_format, 2);
	assert_int_equal(r->frame_length, 60);
	assert_int_equal(r->pkt.ip_version, 4);
	assert_memory_equal(r->pkt.src.bytes, IP4_A, 4);
	assert_int_equal(r->pkt.ip_proto, 6);
	assert_int_equal(r->pkt.ip_len, 60);
	assert_int_equal(r->pkt.sport, 51000);
	assert_int_equal(r->pkt.dport, 25);
	assert_int_equal(r->pkt.tcp_flags, 0x02);

	r = &got[2].rec;
	assert_int_equal(r->sample_seq, 13);
	assert_int_equal(r->record_format, 3);
	assert_int_equal(r->has_switch, 1);
	assert_int_equal(r->switch_src_vlan, 50);
	assert_int_equal(r->switch_dst_vlan, 60);
	assert_int_equal(r->pkt.ip_version, 6);
	assert_memory_equal(r->pkt.dst.bytes, IP6_B, 16);
	assert_int_equal(r->pkt.ip_proto, 17);
	assert_int_equal(r->pkt.ip_len, 200);
	assert_int_equal(r->pkt.sport, 5353);
	assert_int_equal(r->pkt.dport, 53);
	assert_int_equal(r->pkt.tcp_flags, -1);
}

static void
test_v4_fixture(void **state)
{
	(void) state;
	check_v24_fixture(4, 1);
	check_v24_fixture(4, 0);
}

static void
test_v2_fixture(void **state)
{
	(void) state;
	check_v24_fixture(2, 1);
	check_v24_fixture(2, 0);
}

/* The v4 gateway layout in a v2 datagram (or back) must not decode alike. */
static void
test_v2_v4_gateway_layouts_differ(void **state)
{
	static buf	b;
	sh_counts	c = {0};

	(void) state;
	fixture_v24(&b, 4, 1);
	set32(&b, 0, 2);
	assert_int_not_equal(decode(&b, b.len, &c), SH_OK);
	fixture_v24(&b, 2, 1);
	set32(&b, 0, 4);
	assert_int_not_equal(decode(&b, b.len, &c), SH_OK);
	assert_counts(&c, 0, 0, 0, 0, 0);
}

/* ---- counts ---------------------------------------------------------------- */

static void
test_counts_add_up_and_stay_on_error(void **state)
{
	static buf	b;
	sh_counts	c = {100, 200, 300, 400, 500};

	(void) state;
	fixture_v5(&b);
	assert_int_equal(decode(&b, b.len, &c), SH_OK);
	assert_counts(&c, 103, 201, 302, 404, 501);
	assert_int_equal(decode(&b, b.len - 1, &c), SH_ERR_BAD_LENGTH);
	assert_counts(&c, 103, 201, 302, 404, 501);
}

/* Records before the bad spot are handed over; the counts are not kept. */
static void
test_records_before_error_handed_over(void **state)
{
	static buf	b;
	sh_counts	c = {0};

	(void) state;
	fixture_v5(&b);
	b.len -= 4;					/* the last sample (enterprise 4413) is cut */
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_BAD_LENGTH);
	assert_int_equal(ngot, 4);
	assert_counts(&c, 0, 0, 0, 0, 0);
}

static void
test_null_callback(void **state)
{
	static buf	b;
	sh_counts	c = {0};

	(void) state;
	fixture_v5(&b);
	assert_int_equal(sh_decode_datagram(b.data, b.len, NULL, &c, NULL, NULL), SH_OK);
	assert_counts(&c, 3, 1, 2, 4, 1);
}

/* ---- malformed datagrams ------------------------------------------------- */

/* Every strict prefix of every fixture is rejected, and nothing is counted. */
static void
test_every_prefix_rejected(void **state)
{
	static buf	b;

	(void) state;
	for (int f = 0; f < 5; f++)
	{
		if (f == 0)
			fixture_v5(&b);
		else
			fixture_v24(&b, f <= 2 ? 4 : 2, f % 2);
		for (size_t len = 0; len < b.len; len++)
		{
			sh_counts	c = {0};
			sh_status	st = decode(&b, len, &c);

			assert_true(st > SH_OK && st < SH_ERR_COUNT_);
			assert_counts(&c, 0, 0, 0, 0, 0);
		}
	}
}

static void
test_absurd_sample_count(void **state)
{
	static buf	b;
	sh_counts	c = {0};

	(void) state;
	fixture_v5(&b);
	set32(&b, 24, 0xffffffff);
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_SAMPLE_COUNT);
	assert_int_equal(ngot, 0);
	/* one more than the bytes after the header could hold (8 each) */
	set32(&b, 24, (uint32_t) ((b.len - 28) / 8 + 1));
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_SAMPLE_COUNT);

	fixture_v24(&b, 4, 1);
	set32(&b, 20, 0x7fffffff);
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_SAMPLE_COUNT);
	assert_counts(&c, 0, 0, 0, 0, 0);
}

static void
test_sample_length_past_end(void **state)
{
	static buf	b;
	sh_counts	c = {0};

	(void) state;
	fixture_v5(&b);
	set32(&b, 32, (uint32_t) (b.len - 36 + 1));	/* one byte more than there is */
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_BAD_LENGTH);
	set32(&b, 32, 0xfffffff0);
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_BAD_LENGTH);
	assert_int_equal(ngot, 0);
}

/* A small v5 datagram: one flow sample, records supplied by the caller. */
static size_t
v5_one_flow_sample(buf *b, uint32_t num_records)
{
	size_t		sample;

	b->len = 0;
	sflow_v5_header(b, 0x0a000001, 0, 1, 1, 1);
	put32(b, 1);
	sample = begin_len(b);
	put32(b, 1);
	put32(b, 1);
	put32(b, 100);
	put32(b, 100);
	put32(b, 0);
	put32(b, 1);
	put32(b, 2);
	put32(b, num_records);
	return sample;
}

static void
test_record_length_past_sample(void **state)
{
	static buf	b;
	buf			pkt = {.len = 0};
	sh_counts	c = {0};
	size_t		sample = v5_one_flow_sample(&b, 2);

	(void) state;
	smtp_frame(&pkt);
	v5_raw_header_record(&b, 1, &pkt, 64, 4);
	v5_switch_record(&b, 1, 2);
	end_len(&b, sample);
	assert_int_equal(decode(&b, b.len, &c), SH_OK);
	assert_int_equal(ngot, 1);

	/* the switch record claims 4 bytes more than its sample holds */
	set32(&b, b.len - 16 - 4, 20);
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_BAD_LENGTH);
	/* raw header records are checked in the first pass: no callback */
	assert_int_equal(ngot, 0);
	/* and more records announced than there are */
	set32(&b, b.len - 16 - 4, 16);
	set32(&b, 64, 3);
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_TRUNCATED);
	assert_int_equal(ngot, 0);
	assert_counts(&c, 1, 0, 0, 1, 0);
}

static void
test_header_length_past_record(void **state)
{
	static buf	b;
	buf			pkt = {.len = 0};
	sh_counts	c = {0};
	size_t		sample = v5_one_flow_sample(&b, 1);
	size_t		record = b.len;

	(void) state;
	smtp_frame(&pkt);
	v5_raw_header_record(&b, 1, &pkt, 64, 4);
	end_len(&b, sample);
	/* record: format, length, protocol, frame length, stripped, header length */
	assert_int_equal(decode(&b, b.len, &c), SH_OK);
	set32(&b, record + 20, 61);
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_BAD_LENGTH);
	set32(&b, record + 20, 0xffffffff);
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_BAD_LENGTH);
	/* a record too short for its own fields */
	set32(&b, record + 4, 12);
	set32(&b, record + 20, 0);
	assert_int_not_equal(decode(&b, b.len, &c), SH_OK);
	assert_int_equal(ngot, 0);
}

static void
test_bad_agent_address(void **state)
{
	static buf	b;
	sh_counts	c = {0};

	(void) state;
	fixture_v5(&b);
	set32(&b, 4, 3);
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_BAD_ADDRESS);
	set32(&b, 4, 0);
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_BAD_ADDRESS);
	fixture_v24(&b, 2, 1);
	set32(&b, 4, 0x01000000);
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_BAD_ADDRESS);
	/* IPv6 type but the datagram ends inside the address */
	b.len = 0;
	put32(&b, 5);
	put32(&b, 2);
	put32(&b, 0x20010db8);
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_TRUNCATED);
	assert_counts(&c, 0, 0, 0, 0, 0);
}

static void
test_ipv6_agent(void **state)
{
	static buf	b;
	sh_counts	c = {0};

	(void) state;
	b.len = 0;
	put32(&b, 5);
	put32(&b, 2);
	put_bytes(&b, IP6_B, 16);
	put32(&b, 3);				/* sub-agent */
	put32(&b, 99);
	put32(&b, 1000);
	put32(&b, 1);
	put32(&b, 1);
	put32(&b, 72);				/* 8 words, then a 40-byte record */
	put32(&b, 5);
	put32(&b, 7);
	put32(&b, 1);
	put32(&b, 1);
	put32(&b, 0);
	put32(&b, 1);
	put32(&b, 2);
	put32(&b, 1);
	put32(&b, 3);				/* IPv4 data record */
	put32(&b, 32);
	ipv4_data(&b, 52, 6, 25, 40001, 0x11);
	assert_int_equal(decode(&b, b.len, &c), SH_OK);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].rec.agent.family, 6);
	assert_memory_equal(got[0].rec.agent.bytes, IP6_B, 16);
	assert_int_equal(got[0].rec.sub_agent, 3);
	assert_int_equal(got[0].rec.dgram_seq, 99);
	assert_int_equal(got[0].rec.sample_seq, 5);
	assert_int_equal(got[0].rec.source_id_index, 7);
	assert_int_equal(got[0].rec.pkt.tcp_flags, 0x11);
}

static void
test_not_sflow(void **state)
{
	static buf	b;
	sh_counts	c = {0};

	(void) state;
	/* NetFlow v5 header: version 5 in 16 bits, then the record count */
	b.len = 0;
	put16(&b, 5);
	put16(&b, 1);
	put32(&b, 123456);
	put32(&b, 1700000000);
	put32(&b, 0);
	put32(&b, 1);
	put32(&b, 0);
	for (int i = 0; i < 12; i++)
		put32(&b, 0);
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_NOT_SFLOW);
	/* NetFlow v9, IPFIX, sFlow versions that do not exist */
	for (uint32_t v = 0; v < 12; v++)
	{
		if (v == 2 || v == 4 || v == 5)
			continue;
		fixture_v5(&b);
		set32(&b, 0, v);
		assert_int_equal(decode(&b, b.len, &c), SH_ERR_NOT_SFLOW);
	}
	b.len = 0;
	put16(&b, 10);				/* IPFIX */
	put16(&b, 16);
	put32(&b, 0);
	put32(&b, 0);
	put32(&b, 0);
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_NOT_SFLOW);
	assert_counts(&c, 0, 0, 0, 0, 0);
}

static void
test_empty_and_tiny(void **state)
{
	static buf	b;
	sh_counts	c = {0};

	(void) state;
	assert_int_equal(sh_decode_datagram(NULL, 0, NULL, &c, collect, NULL), SH_ERR_TRUNCATED);
	b.len = 0;
	put8(&b, 0);
	put8(&b, 0);
	put8(&b, 0);
	assert_int_equal(decode(&b, 3, &c), SH_ERR_TRUNCATED);
	put8(&b, 5);
	assert_int_equal(decode(&b, 4, &c), SH_ERR_TRUNCATED);
	assert_counts(&c, 0, 0, 0, 0, 0);
}

static void
test_zero_samples(void **state)
{
	static buf	b;
	sh_counts	c = {0};

	(void) state;
	b.len = 0;
	sflow_v5_header(&b, 0x0a000001, 0, 1, 1, 0);
	assert_int_equal(decode(&b, b.len, &c), SH_OK);
	b.len = 0;
	sflow_v24_header(&b, 4, 0x0a000001, 1, 1, 0);
	assert_int_equal(decode(&b, b.len, &c), SH_OK);
	assert_counts(&c, 0, 0, 0, 0, 0);
	assert_int_equal(ngot, 0);
}

/* v2/v4: every type the decoder cannot size ends the datagram */
static void
test_v24_unknown_types(void **state)
{
	static buf	b;
	sh_counts	c = {0};
	size_t		packet_type = 24 + 4 + 28;	/* header, sample type, 7 words */
	size_t		ext_type = packet_type + 4 + 12 + 60 + 4;

	(void) state;
	fixture_v24(&b, 4, 1);
	set32(&b, 24, 3);			/* sample type 3 */
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_UNKNOWN_V2V4);

	fixture_v24(&b, 4, 1);
	assert_int_equal(b.data[packet_type + 3], 1);
	set32(&b, packet_type, 4);	/* packet information type 4 */
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_UNKNOWN_V2V4);

	fixture_v24(&b, 2, 1);
	assert_int_equal(b.data[ext_type + 3], 1);	/* the switch record */
	set32(&b, ext_type, 6);
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_UNKNOWN_V2V4);
	assert_int_equal(ngot, 0);

	/* counters type 8, in a datagram of one counter sample */
	b.len = 0;
	sflow_v24_header(&b, 4, 0x0a000001, 1, 1, 1);
	put32(&b, 2);
	put32(&b, 1);
	put32(&b, 1);
	put32(&b, 30);
	put32(&b, 8);
	v24_generic_counters(&b, 1);
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_UNKNOWN_V2V4);
	/* each known counters type with its exact size */
	{
		const uint32_t sizes[8] = {0, 88, 140, 160, 88, 168, 88, 28};

		for (uint32_t t = 1; t <= 7; t++)
		{
			b.len = 0;
			sflow_v24_header(&b, 2, 0x0a000001, 1, 1, 1);
			put32(&b, 2);
			put32(&b, 1);
			put32(&b, 1);
			put32(&b, 30);
			put32(&b, t);
			for (uint32_t i = 0; i < sizes[t] / 4; i++)
				put32(&b, 0);
			assert_int_equal(decode(&b, b.len, &c), SH_OK);
			assert_int_equal(decode(&b, b.len - 4, &c), SH_ERR_TRUNCATED);
			put32(&b, 0);		/* one word too many: ignored at the end */
			assert_int_equal(decode(&b, b.len, &c), SH_OK);
		}
	}
	assert_counts(&c, 0, 14, 0, 0, 0);
}

/* v2/v4 router next hop of an unknown type cannot be sized */
static void
test_v24_bad_next_hop(void **state)
{
	static buf	b;
	sh_counts	c = {0};
	size_t		router = 24 + 4 + 28 + 4 + 12 + 60 + 4 + 20;

	(void) state;
	fixture_v24(&b, 4, 1);
	assert_int_equal(b.data[router + 3], 2);
	set32(&b, router + 4, 9);
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_BAD_ADDRESS);
	set32(&b, router + 4, 2);	/* IPv6: 12 more bytes, so the rest is off */
	assert_int_not_equal(decode(&b, b.len, &c), SH_OK);
}

static void
test_v24_lengths_past_end(void **state)
{
	static buf	b;
	sh_counts	c = {0};
	size_t		header_len = 24 + 4 + 28 + 4 + 8;

	(void) state;
	fixture_v24(&b, 4, 1);
	assert_int_equal(b.data[header_len + 3], 58);
	set32(&b, header_len, 0xfffffffd);
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_BAD_LENGTH);
	set32(&b, header_len, (uint32_t) (b.len - header_len - 4 + 1));
	assert_int_equal(decode(&b, b.len, &c), SH_ERR_BAD_LENGTH);
	assert_int_equal(ngot, 0);
}

/* ---- v5 records in any order ------------------------------------------- */

static void
test_extended_before_and_after(void **state)
{
	static buf	b;
	buf			pkt = {.len = 0};
	sh_counts	c = {0};
	size_t		sample;

	(void) state;
	b.len = 0;
	sflow_v5_header(&b, 0x0a000001, 0, 1, 1, 3);

	/* an expanded counter sample first: skipped */
	put32(&b, 4);
	sample = begin_len(&b);
	put32(&b, 1);
	put32(&b, 0);
	put32(&b, 1);
	put32(&b, 0);
	end_len(&b, sample);

	/* gateway, header cut at 58 (2 pad bytes), switch, second header */
	put32(&b, 1);
	sample = begin_len(&b);
	put32(&b, 1);
	put32(&b, 1);
	put32(&b, 100);
	put32(&b, 100);
	put32(&b, 0);
	put32(&b, 1);
	put32(&b, 2);
	put32(&b, 4);
	v5_gateway_record(&b, 7, 8);
	smtp_frame(&pkt);
	pkt.len = 58;
	v5_raw_header_record(&b, 1, &pkt, 64, 4);
	v5_switch_record(&b, 300, 400);
	pkt.len = 0;
	qinq_v6_frame(&pkt);
	v5_raw_header_record(&b, 1, &pkt, 86, 4);
	end_len(&b, sample);

	/* a sample with only a header: nothing inherited */
	put32(&b, 1);
	sample = begin_len(&b);
	for (int i = 0; i < 7; i++)
		put32(&b, 2);
	put32(&b, 1);
	pkt.len = 0;
	smtp_frame(&pkt);
	v5_raw_header_record(&b, 1, &pkt, 64, 4);
	end_len(&b, sample);

	assert_int_equal(decode(&b, b.len, &c), SH_OK);
	assert_counts(&c, 2, 1, 0, 3, 0);
	assert_int_equal(ngot, 3);
	for (int i = 0; i < 2; i++)
	{
		assert_int_equal(got[i].rec.has_gateway, 1);
		assert_int_equal(got[i].rec.gw_src_as, 7);
		assert_int_equal(got[i].rec.gw_dst_as, 8);
		assert_int_equal(got[i].rec.has_switch, 1);
		assert_int_equal(got[i].rec.switch_src_vlan, 300);
		assert_int_equal(got[i].rec.switch_dst_vlan, 400);
	}
	assert_int_equal(got[0].rec.header_len, 58);
	assert_smtp_packet(&got[0], 4);
	assert_int_equal(got[1].rec.pkt.inner_vlan, 200);
	assert_int_equal(got[2].rec.has_gateway, 0);
	assert_int_equal(got[2].rec.has_switch, 0);
	assert_int_equal(got[2].rec.sample_seq, 2);
	assert_smtp_packet(&got[2], 6);
}

/* Gateways: IPv6 or no next hop, empty paths, a last segment left empty. */
static void
test_gateway_paths(void **state)
{
	static buf	b;
	buf			pkt = {.len = 0};
	sh_counts	c = {0};
	size_t		sample;
	size_t		rec;

	(void) state;
	smtp_frame(&pkt);
	for (int variant = 0; variant < 3; variant++)
	{
		sample = v5_one_flow_sample(&b, 2);
		v5_raw_header_record(&b, 1, &pkt, 64, 4);
		put32(&b, 1003);
		rec = begin_len(&b);
		if (variant == 0)
		{
			put32(&b, 2);		/* IPv6 next hop */
			put_bytes(&b, IP6_A, 16);
		}
		else
			put32(&b, 0);		/* no next hop */
		put32(&b, 1);
		put32(&b, 65000 + (uint32_t) variant);
		put32(&b, 2);
		if (variant == 0)
			put32(&b, 0);		/* no path */
		else
		{
			put32(&b, 2);
			put32(&b, 2);
			put32(&b, 1);
			put32(&b, 64496);
			put32(&b, 2);
			put32(&b, variant == 1 ? 0 : 1);
			if (variant == 2)
				put32(&b, 64497);
		}
		put32(&b, 0);			/* no communities */
		put32(&b, 0);			/* localpref */
		end_len(&b, rec);
		end_len(&b, sample);

		assert_int_equal(decode(&b, b.len, &c), SH_OK);
		assert_int_equal(ngot, 1);
		assert_int_equal(got[0].rec.has_gateway, 1);
		assert_int_equal(got[0].rec.gw_src_as, 65000 + variant);
		assert_int_equal(got[0].rec.gw_dst_as, variant == 2 ? 64497 : 0);
	}

	/* the record is 4 bytes short of its localpref */
	set32(&b, rec, (uint32_t) (b.len - rec - 4 - 4));
	set32(&b, sample, (uint32_t) (b.len - sample - 4 - 4));
	assert_int_equal(decode(&b, b.len - 4, &c), SH_ERR_TRUNCATED);
	/* the first segment's AS count running past the record */
	assert_int_equal(b.data[rec + 31], 1);
	b.data[rec + 31] = 200;
	assert_int_equal(decode(&b, b.len - 4, &c), SH_ERR_BAD_LENGTH);
	/* a next hop of unknown type */
	set32(&b, rec + 4, 7);
	assert_int_equal(decode(&b, b.len - 4, &c), SH_ERR_BAD_ADDRESS);
}

/* IPv4/IPv6 data records count only in a sample without a raw header. */
static void
test_ip_data_only_without_raw_header(void **state)
{
	static buf	b;
	buf			pkt = {.len = 0};
	sh_counts	c = {0};
	size_t		sample = v5_one_flow_sample(&b, 3);

	(void) state;
	smtp_frame(&pkt);
	v5_raw_header_record(&b, 1, &pkt, 64, 4);
	put32(&b, 3);
	put32(&b, 32);
	ipv4_data(&b, 52, 6, 25, 40001, 0x11);
	put32(&b, 4);
	put32(&b, 56);
	ipv6_data(&b, 52, 6, 25, 40001, 0x11);
	end_len(&b, sample);
	assert_int_equal(decode(&b, b.len, &c), SH_OK);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].rec.record_format, 1);
	assert_counts(&c, 1, 0, 0, 1, 0);

	/* a data record too short for its fields */
	set32(&b, b.len - 56 - 4, 52);
	assert_int_not_equal(decode(&b, b.len, &c), SH_OK);
}

/* Records of unknown formats or other enterprises: skipped and counted. */
static void
test_unknown_records_skipped(void **state)
{
	static buf	b;
	buf			pkt = {.len = 0};
	sh_counts	c = {0};
	size_t		sample = v5_one_flow_sample(&b, 4);

	(void) state;
	put32(&b, (9u << 12) | 1);	/* enterprise 9, format 1: not a raw header */
	put32(&b, 8);
	put32(&b, 0xffffffff);
	put32(&b, 0xffffffff);
	put32(&b, 1023);			/* tunnel egress */
	put32(&b, 0);
	put32(&b, 2);				/* Ethernet frame data */
	put32(&b, 24);
	for (int i = 0; i < 6; i++)
		put32(&b, 0);
	smtp_frame(&pkt);
	v5_raw_header_record(&b, 1, &pkt, 64, 4);
	end_len(&b, sample);
	assert_int_equal(decode(&b, b.len, &c), SH_OK);
	assert_counts(&c, 1, 0, 0, 1, 3);
	assert_int_equal(ngot, 1);
	assert_smtp_packet(&got[0], 6);
}

/* A raw header the packet parser stops early on is still a record. */
static void
test_raw_header_parse_status_kept(void **state)
{
	static buf	b;
	buf			pkt = {.len = 0};
	sh_counts	c = {0};
	size_t		sample = v5_one_flow_sample(&b, 2);

	(void) state;
	smtp_frame(&pkt);
	v5_raw_header_record(&b, 2, &pkt, 64, 4);	/* token bus */
	pkt.len = 20;
	v5_raw_header_record(&b, 1, &pkt, 64, 44);
	end_len(&b, sample);
	assert_int_equal(decode(&b, b.len, &c), SH_OK);
	assert_int_equal(ngot, 2);
	assert_int_equal(got[0].rec.header_protocol, 2);
	assert_int_equal(got[0].rec.parse_status, SH_PKT_UNSUPPORTED);
	assert_int_equal(got[1].rec.parse_status, SH_PKT_TRUNCATED);
	assert_int_equal(got[1].rec.header_len, 20);
	assert_int_equal(got[1].rec.stripped, 44);
	assert_int_equal(got[1].rec.pkt.has_mac, 1);
	assert_int_equal(got[1].rec.pkt.ip_version, 0);
}

/* ---- hostile bytes ------------------------------------------------------- */

static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Random changes to the fixtures: a valid status every time, counts only on
 * success, and (under ASan) no read outside the datagram.
 */
static void
test_random_corruption(void **state)
{
	static buf	orig;
	static buf	b;
	uint32_t	seed = 12345;

	(void) state;
	for (int round = 0; round < 30000; round++)
	{
		int			f = round % 5;
		sh_counts	c = {0};
		sh_status	st;
		int			changes = 1 + (int) (xorshift(&seed) % 4);

		if (f == 0)
			fixture_v5(&orig);
		else
			fixture_v24(&orig, f <= 2 ? 4 : 2, f % 2);
		b = orig;
		for (int i = 0; i < changes; i++)
		{
			size_t		at = xorshift(&seed) % b.len;
			uint32_t	what = xorshift(&seed);

			if (what % 3 == 0)
				b.data[at] = (uint8_t) (what >> 8);
			else if (what % 3 == 1 && at + 4 <= b.len)
				set32(&b, at & ~(size_t) 3, what >> 8);
			else
				b.data[at] ^= (uint8_t) (1 << ((what >> 8) % 8));
		}
		st = decode(&b, b.len - (xorshift(&seed) % 8 == 0 ? xorshift(&seed) % b.len : 0), &c);
		assert_true(st >= SH_OK && st < SH_ERR_COUNT_);
		if (st != SH_OK)
			assert_counts(&c, 0, 0, 0, 0, 0);
		else
			assert_int_equal(c.packet_records, (uint64_t) ngot);
	}
}

/* The header alone: read even when the samples after it are malformed. */
static void
test_datagram_header(void **state)
{
	static buf	b;
	sh_dgram	dg;

	(void) state;
	fixture_v5(&b);
	set32(&b, 32, 0xfffffff0);	/* the first sample's length: past the end */
	assert_int_equal(sh_datagram_header(b.data, b.len, &dg), SH_OK);
	assert_int_equal(dg.version, 5);
	assert_v4_addr(&dg.agent, 192, 0, 2, 1);
	assert_int_equal(dg.sub_agent, 7);
	assert_int_equal(dg.seq, 42);
	assert_int_equal(dg.uptime_ms, 123456);
	assert_int_equal(dg.num_samples, 6);
	for (size_t len = 0; len <= 28; len++)
	{
		uint8_t    *heap = malloc(len ? len : 1);

		assert_non_null(heap);
		memcpy(heap, b.data, len);
		assert_int_equal(sh_datagram_header(heap, len, &dg),
						 len < 28 ? SH_ERR_TRUNCATED : SH_OK);
		free(heap);
	}

	fixture_v24(&b, 2, 1);
	assert_int_equal(sh_datagram_header(b.data, 24, &dg), SH_OK);
	assert_int_equal(dg.version, 2);
	assert_v4_addr(&dg.agent, 192, 0, 2, 2);
	assert_int_equal(dg.sub_agent, 0);
	assert_int_equal(dg.seq, 77);
	assert_int_equal(dg.uptime_ms, 9999);
	assert_int_equal(dg.num_samples, 5);
	assert_int_equal(sh_datagram_header(b.data, 23, &dg), SH_ERR_TRUNCATED);

	set32(&b, 4, 2);			/* IPv6 agent: 12 more bytes */
	assert_int_equal(sh_datagram_header(b.data, 36, &dg), SH_OK);
	assert_int_equal(dg.agent.family, 6);
	assert_int_equal(sh_datagram_header(b.data, 35, &dg), SH_ERR_TRUNCATED);
	set32(&b, 4, 5);
	assert_int_equal(sh_datagram_header(b.data, b.len, &dg), SH_ERR_BAD_ADDRESS);
	set32(&b, 0, 0x00050001);	/* NetFlow v5 */
	assert_int_equal(sh_datagram_header(b.data, b.len, &dg), SH_ERR_NOT_SFLOW);
	assert_int_equal(sh_datagram_header(NULL, 0, &dg), SH_ERR_TRUNCATED);
}

/* The header the decoder hands out: there when the samples are malformed, not when it is. */
static void
test_decode_hands_out_header(void **state)
{
	static buf	b;
	sh_dgram	dg;
	sh_counts	c = {0};

	(void) state;
	fixture_v5(&b);
	memset(&dg, 0xAA, sizeof(dg));
	assert_int_equal(sh_decode_datagram(b.data, b.len, &dg, &c, NULL, NULL), SH_OK);
	assert_int_equal(dg.version, 5);
	assert_int_equal(dg.seq, 42);

	set32(&b, 32, 0xfffffff0);	/* the first sample's length: past the end */
	memset(&dg, 0xAA, sizeof(dg));
	assert_int_not_equal(sh_decode_datagram(b.data, b.len, &dg, &c, NULL, NULL), SH_OK);
	assert_int_equal(dg.version, 5);
	assert_v4_addr(&dg.agent, 192, 0, 2, 1);
	assert_int_equal(dg.sub_agent, 7);
	assert_int_equal(dg.seq, 42);

	set32(&b, 0, 0x00050001);	/* NetFlow v5: no header to hand out */
	memset(&dg, 0xAA, sizeof(dg));
	assert_int_equal(sh_decode_datagram(b.data, b.len, &dg, &c, NULL, NULL), SH_ERR_NOT_SFLOW);
	assert_int_equal(dg.version, 0);
	fixture_v5(&b);
	set32(&b, 4, 5);			/* agent address type 5: the header does not read whole */
	memset(&dg, 0xAA, sizeof(dg));
	assert_int_equal(sh_decode_datagram(b.data, b.len, &dg, &c, NULL, NULL), SH_ERR_BAD_ADDRESS);
	assert_int_equal(dg.version, 0);
	memset(&dg, 0xAA, sizeof(dg));
	assert_int_equal(sh_decode_datagram(NULL, 0, &dg, &c, NULL, NULL), SH_ERR_TRUNCATED);
	assert_int_equal(dg.version, 0);
}

static void
test_status_names(void **state)
{
	(void) state;
	assert_string_equal(sh_status_name(SH_OK), "ok");
	assert_string_equal(sh_status_name(SH_ERR_NOT_SFLOW), "not_sflow");
	assert_string_equal(sh_status_name(SH_ERR_TRUNCATED), "truncated");
	assert_string_equal(sh_status_name(SH_ERR_BAD_ADDRESS), "bad_address");
	assert_string_equal(sh_status_name(SH_ERR_SAMPLE_COUNT), "sample_count");
	assert_string_equal(sh_status_name(SH_ERR_BAD_LENGTH), "bad_length");
	assert_string_equal(sh_status_name(SH_ERR_UNKNOWN_V2V4), "unknown_v2v4");
	assert_string_equal(sh_status_name(SH_ERR_COUNT_), "unknown");
	assert_string_equal(sh_status_name((sh_status) 1000), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v5_fixture),
		cmocka_unit_test(test_v4_fixture),
		cmocka_unit_test(test_v2_fixture),
		cmocka_unit_test(test_v2_v4_gateway_layouts_differ),
		cmocka_unit_test(test_counts_add_up_and_stay_on_error),
		cmocka_unit_test(test_records_before_error_handed_over),
		cmocka_unit_test(test_null_callback),
		cmocka_unit_test(test_every_prefix_rejected),
		cmocka_unit_test(test_absurd_sample_count),
		cmocka_unit_test(test_sample_length_past_end),
		cmocka_unit_test(test_record_length_past_sample),
		cmocka_unit_test(test_header_length_past_record),
		cmocka_unit_test(test_bad_agent_address),
		cmocka_unit_test(test_ipv6_agent),
		cmocka_unit_test(test_not_sflow),
		cmocka_unit_test(test_empty_and_tiny),
		cmocka_unit_test(test_zero_samples),
		cmocka_unit_test(test_v24_unknown_types),
		cmocka_unit_test(test_v24_bad_next_hop),
		cmocka_unit_test(test_v24_lengths_past_end),
		cmocka_unit_test(test_extended_before_and_after),
		cmocka_unit_test(test_gateway_paths),
		cmocka_unit_test(test_ip_data_only_without_raw_header),
		cmocka_unit_test(test_unknown_records_skipped),
		cmocka_unit_test(test_raw_header_parse_status_kept),
		cmocka_unit_test(test_random_corruption),
		cmocka_unit_test(test_datagram_header),
		cmocka_unit_test(test_decode_hands_out_header),
		cmocka_unit_test(test_status_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
