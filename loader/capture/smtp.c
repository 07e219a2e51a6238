/*
 * loader/capture/smtp.c: the SMTP stage (see smtp.h): which records are SMTP
 * samples, which way they went, their token.
 */
#include "smtp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/smtp_roles.h"

int
sh_ports_parse(sh_ports *ports, const char *spec, char *err, size_t errlen)
{
	const char *p = spec;

	memset(ports, 0, sizeof(*ports));
	while (*p)
	{
		char	   *end;
		long		v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno != 0 || v < 1 || v > 65535 || (*end != ',' && *end != '\0'))
		{
			snprintf(err, errlen, "bad port list \"%s\": ports are numbers from 1 to 65535, separated by commas", spec);
			return -1;
		}
		if (!sh_ports_has(ports, (uint16_t) v))
		{
			if (ports->n == SH_SMTP_MAX_PORTS)
			{
				snprintf(err, errlen, "bad port list \"%s\": at most %d ports", spec, SH_SMTP_MAX_PORTS);
				return -1;
			}
			ports->bits[v >> 3] |= (uint8_t) (1u << (v & 7));
			ports->list[ports->n++] = (uint16_t) v;
		}
		p = *end == ',' ? end + 1 : end;
		if (*end == ',' && *p == '\0')
		{
			snprintf(err, errlen, "bad port list \"%s\": ends with a comma", spec);
			return -1;
		}
	}
	if (ports->n == 0)
	{
		snprintf(err, errlen, "bad port list \"%s\": no port", spec);
		return -1;
	}
	return 0;
}

/* RFC 5321 commands and the common extensions (RFC 3207 STARTTLS, 4954 AUTH, 3030 BDAT). */
static const char *const verbs[] = {
	"EHLO", "HELO", "MAIL", "RCPT", "DATA", "QUIT", "RSET", "NOOP", "VRFY", "EXPN",
	"HELP", "STARTTLS", "AUTH", "BDAT", "ETRN", "TURN", "ATRN", "LHLO", NULL
};

static int
ends_token(uint8_t c)
{
	return c == ' ' || c == '\r' || c == '\n' || c == '\t';
}

size_t
sh_smtp_token(const uint8_t *payload, size_t len, int to_server, int from_server, char out[16])
{
	if (payload == NULL)
		return 0;

	/* a reply: three digits, first 2-5, then space, '-' (continued) or end of line */
	if (from_server && len >= 4 &&
		payload[0] >= '2' && payload[0] <= '5' &&
		payload[1] >= '0' && payload[1] <= '9' &&
		payload[2] >= '0' && payload[2] <= '9' &&
		(payload[3] == ' ' || payload[3] == '-' || payload[3] == '\r' || payload[3] == '\n'))
	{
		memcpy(out, payload, 3);
		out[3] = '\0';
		return 3;
	}

	/* a command: a known verb in any case, then a separator */
	if (to_server)
	{
		for (int i = 0; verbs[i] != NULL; i++)
		{
			size_t		n = strlen(verbs[i]);
			size_t		k;

			if (len <= n || !ends_token(payload[n]))
				continue;
			for (k = 0; k < n; k++)
				if ((payload[k] & ~0x20) != verbs[i][k])
					break;
			if (k == n)
			{
				memcpy(out, verbs[i], n + 1);
				return n;
			}
		}
	}
	return 0;
}

sh_smtp_verdict
sh_smtp_classify(const sh_ports *ports, const sh_record *rec, sh_smtp_sample *out)
{
	const sh_packet *pkt = &rec->pkt;
	int			role;

	switch (rec->parse_status)
	{
		case SH_PKT_OK:
			break;
		case SH_PKT_NOT_IP:
			return SH_SMTP_PACKET_NOT_IP;
		case SH_PKT_TRUNCATED:
			return pkt->l4_cut && pkt->ip_proto == 6 ? SH_SMTP_TCP_CUT : SH_SMTP_PACKET_TRUNCATED;
		case SH_PKT_BAD_IP:
			return SH_SMTP_PACKET_BAD_IP;
		case SH_PKT_UNSUPPORTED:
			return SH_SMTP_PACKET_UNSUPPORTED;
		case SH_PKT_TOO_DEEP:
			return SH_SMTP_PACKET_TOO_DEEP;
	}
	if (pkt->ip_version == 0)
		return SH_SMTP_PACKET_NOT_IP;
	if (pkt->fragment)
		return SH_SMTP_PACKET_FRAGMENT;
	if (pkt->ip_proto != 6)
		return SH_SMTP_NOT_SMTP;
	if (!pkt->has_ports)
		return SH_SMTP_TCP_CUT;
	/* the role of the source, by the rule the extension applies too */
	role = sh_smtp_src_role(sh_ports_has(ports, pkt->dport), sh_ports_has(ports, pkt->sport));
	if (role == SH_ROLE_NONE)
		return SH_SMTP_NOT_SMTP;
	out->to_server = (role & SH_ROLE_CLIENT) != 0;
	out->from_server = (role & SH_ROLE_SERVER) != 0;
	/* 0 is no sampling rate (1 in 0), and no integer column holds one past 2^31-1 */
	if (rec->sampling_rate == 0 || rec->sampling_rate > INT32_MAX)
		return SH_SMTP_RATE_RANGE;
	out->ntoken = sh_smtp_token(pkt->payload, pkt->payload_len, out->to_server, out->from_server,
								out->token);
	return SH_SMTP_SAMPLE;
}

const char *
sh_smtp_skip_name(sh_smtp_verdict v)
{
	switch (v)
	{
		case SH_SMTP_NOT_SMTP:
			return "packet_not_smtp";
		case SH_SMTP_PACKET_NOT_IP:
			return "packet_not_ip";
		case SH_SMTP_PACKET_TOO_DEEP:
			return "packet_encapsulation_too_deep";
		case SH_SMTP_PACKET_TRUNCATED:
			return "packet_header_truncated";
		case SH_SMTP_PACKET_BAD_IP:
			return "packet_bad_ip_header";
		case SH_SMTP_PACKET_UNSUPPORTED:
			return "packet_header_protocol_unknown";
		case SH_SMTP_PACKET_FRAGMENT:
			return "packet_ip_fragment";
		case SH_SMTP_TCP_CUT:
			return "packet_tcp_ports_cut";
		case SH_SMTP_RATE_RANGE:
			return "sampling_rate_out_of_range";
		default:
			return "unknown";
	}
}
