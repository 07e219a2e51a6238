/*
 * loader/capture/sample_rows.c: rows of spamhints.smtp_sample (sample_rows.h).
 */
#include "sample_rows.h"

/* The columns every row fills, in the order they are written. */
#define SH_SAMPLE_COLUMNS \
	"load_id, frame, ts, agent, sample_seq, sampling_rate, input_if, output_if, " \
	"src_mac, dst_mac, vlan, src_ip, dst_ip, src_port, dst_port, tcp_flags, " \
	"ip_len, ttl, smtp, gw_src_as, gw_dst_as"
#define SH_SAMPLE_NFIELDS 21

/* Then, with enrichment: */
#define SH_ANSWER_COLUMNS "src_asn, dst_asn, src_cc, dst_cc"
#define SH_ANSWER_NFIELDS 4

const char *
sh_sample_copy_sql(int enriched)
{
	return enriched ?
		"COPY spamhints.smtp_sample (" SH_SAMPLE_COLUMNS ", " SH_ANSWER_COLUMNS ") FROM STDIN (FORMAT binary)" :
		"COPY spamhints.smtp_sample (" SH_SAMPLE_COLUMNS ") FROM STDIN (FORMAT binary)";
}

uint8_t *
sh_sample_answers(uint8_t *p, const sh_answer *src, const sh_answer *dst)
{
	p = src->has_asn ? sh_field_int8(p, src->asn) : sh_field_null(p);
	p = dst->has_asn ? sh_field_int8(p, dst->asn) : sh_field_null(p);
	p = src->cc[0] ? sh_field_text(p, src->cc, 2) : sh_field_null(p);
	p = dst->cc[0] ? sh_field_text(p, dst->cc, 2) : sh_field_null(p);
	return p;
}

int
sh_sample_row(sh_copy *copy, int32_t load_id, const sh_frame *frame, const sh_record *rec,
			  const sh_smtp_sample *smtp, const sh_answer *src, const sh_answer *dst)
{
	const sh_packet *pkt = &rec->pkt;
	uint8_t    *p;

	if (sh_copy_reserve(copy, SH_COPY_ROW_MAX) != 0)
		return -1;
	p = sh_copy_row(copy, src ? SH_SAMPLE_NFIELDS + SH_ANSWER_NFIELDS : SH_SAMPLE_NFIELDS);
	p = sh_field_int4(p, load_id);
	p = sh_field_int8(p, (int64_t) frame->number);
	p = sh_field_timestamptz(p, frame->ts_sec, frame->ts_usec);
	p = sh_field_inet(p, &rec->agent);
	p = sh_field_int8(p, rec->sample_seq);
	p = sh_field_int4(p, (int32_t) rec->sampling_rate);
	p = rec->input_format == 0 ? sh_field_int8(p, rec->input_if) : sh_field_null(p);
	p = rec->output_format == 0 ? sh_field_int8(p, rec->output_if) : sh_field_null(p);
	if (pkt->has_mac)
	{
		p = sh_field_macaddr(p, pkt->src_mac);
		p = sh_field_macaddr(p, pkt->dst_mac);
	}
	else
	{
		p = sh_field_null(p);
		p = sh_field_null(p);
	}
	p = pkt->vlan >= 0 ? sh_field_int4(p, pkt->vlan) : sh_field_null(p);
	p = sh_field_inet(p, &pkt->src);
	p = sh_field_inet(p, &pkt->dst);
	p = sh_field_int4(p, pkt->sport);
	p = sh_field_int4(p, pkt->dport);
	p = pkt->tcp_flags >= 0 ? sh_field_int4(p, pkt->tcp_flags) : sh_field_null(p);
	p = pkt->ip_len >= 0 ? sh_field_int4(p, pkt->ip_len) : sh_field_null(p);
	p = pkt->ttl >= 0 ? sh_field_int4(p, pkt->ttl) : sh_field_null(p);
	p = smtp->ntoken ? sh_field_text(p, smtp->token, smtp->ntoken) : sh_field_null(p);
	if (rec->has_gateway)
	{
		p = sh_field_int8(p, rec->gw_src_as);
		p = sh_field_int8(p, rec->gw_dst_as);
	}
	else
	{
		p = sh_field_null(p);
		p = sh_field_null(p);
	}
	if (src)
		p = sh_sample_answers(p, src, dst);
	sh_copy_end(copy, p);
	return 0;
}
