/*
 * tests/fuzz/fuzz_sflow.c: libFuzzer target for the sFlow decoder (v2, v4
 * and v5): one input is one UDP payload, as the capture stage hands it over.
 *
 * Besides ASan and UBSan, the target checks what the decoder promises:
 * every pointer it hands out stays inside the datagram, a datagram that
 * decodes whole has a readable header and as many records as it counted,
 * a rejected one leaves the counts alone, and the same bytes decode the
 * same way twice. A broken promise aborts, which libFuzzer reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sflow.h"
#include "smtp.h"

typedef struct walk
{
	const uint8_t *buf;
	size_t		len;
	uint64_t	records;
	uint64_t	digest;			/* of every record's fields: the same input, the same digest */
} walk;

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz_sflow: broken promise: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

static int
inside(const walk *w, const uint8_t *p, size_t n)
{
	return p >= w->buf && n <= w->len && (size_t) (p - w->buf) <= w->len - n;
}

static void
mix(walk *w, uint64_t v)
{
	w->digest = (w->digest ^ v) * 0x100000001b3ULL;
}

static void
on_record(const sh_record *rec, void *arg)
{
	walk	   *w = arg;
	const sh_packet *pkt = &rec->pkt;
	char		token[16];
	size_t		n;

	w->records++;
	CHECK(rec->version == 2 || rec->version == 4 || rec->version == 5);
	CHECK(rec->agent.family == 4 || rec->agent.family == 6);
	if (rec->header != NULL)
	{
		sh_packet	again;

		CHECK(inside(w, rec->header, rec->header_len));
		CHECK(sh_parse_packet(rec->header_protocol, rec->header, rec->header_len, &again) == rec->parse_status);
		CHECK(again.has_ports == pkt->has_ports && again.sport == pkt->sport && again.dport == pkt->dport);
		if (pkt->payload != NULL)
			CHECK(pkt->payload >= rec->header &&
				  (size_t) (pkt->payload - rec->header) + pkt->payload_len <= rec->header_len);
	}
	else
		CHECK(pkt->payload == NULL);
	if (pkt->payload != NULL)
		CHECK(pkt->payload_len > 0 && inside(w, pkt->payload, pkt->payload_len));
	CHECK(pkt->ip_version == 0 || pkt->ip_version == 4 || pkt->ip_version == 6);
	CHECK(pkt->vlan >= -1 && pkt->vlan <= 4095 && pkt->inner_vlan >= -1 && pkt->inner_vlan <= 4095);
	CHECK(pkt->tcp_flags >= -1 && pkt->tcp_flags <= 255);

	/* what the loader does with a TCP packet: the SMTP token, either direction */
	for (int dir = 0; dir < 3; dir++)
	{
		token[0] = '\0';
		n = sh_smtp_token(pkt->payload, pkt->payload_len, dir != 1, dir != 0, token);
		CHECK(n < sizeof(token) && strlen(token) == n);
		mix(w, n);
	}
	mix(w, rec->sample_seq);
	mix(w, rec->sampling_rate);
	mix(w, rec->input_if);
	mix(w, rec->output_if);
	mix(w, rec->gw_src_as);
	mix(w, rec->gw_dst_as);
	mix(w, pkt->sport);
	mix(w, pkt->dport);
	mix(w, (uint64_t) pkt->tcp_flags);
	mix(w, (uint64_t) rec->parse_status);
}

static sh_status
decode(const uint8_t *data, size_t size, sh_counts *counts, walk *w)
{
	memset(w, 0, sizeof(*w));
	w->buf = data;
	w->len = size;
	w->digest = 0xcbf29ce484222325ULL;
	sh_dgram	header;
	sh_dgram	alone;
	sh_status	status = sh_decode_datagram(data, size, &header, counts, on_record, w);

	/* the decoder's header is the header reader's, whenever that reads whole */
	if (sh_datagram_header(data, size, &alone) == SH_OK)
	{
		CHECK(header.version == alone.version && header.seq == alone.seq &&
			  header.sub_agent == alone.sub_agent && header.num_samples == alone.num_samples &&
			  header.agent.family == alone.agent.family &&
			  memcmp(header.agent.bytes, alone.agent.bytes, sizeof(alone.agent.bytes)) == 0);
	}
	else
		CHECK(header.version == 0);
	return status;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sh_dgram	dg;
	sh_status	header_status = sh_datagram_header(data, size, &dg);
	sh_counts	counts = {0},
				again = {0};
	walk		w1,
				w2;
	sh_status	status = decode(data, size, &counts, &w1);

	CHECK(status >= SH_OK && status < SH_ERR_COUNT_);
	CHECK(strcmp(sh_status_name(status), "unknown") != 0);
	if (status == SH_OK)
	{
		CHECK(header_status == SH_OK);
		CHECK(counts.packet_records == w1.records);
		/* every sample takes at least 8 bytes, every record too */
		CHECK(counts.flow_samples + counts.counter_samples + counts.other_samples <= size / 8);
		CHECK(counts.packet_records <= size / 8);
	}
	else
	{
		sh_counts	zero = {0};

		CHECK(memcmp(&counts, &zero, sizeof(counts)) == 0);
	}
	CHECK(decode(data, size, &again, &w2) == status);
	CHECK(w1.records == w2.records && w1.digest == w2.digest);
	return 0;
}
