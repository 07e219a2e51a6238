/*
 * tests/fuzz/fuzz_packet.c: libFuzzer target for the sampled packet header
 * parser and the SMTP token reader. The first byte chooses the sFlow
 * header_protocol (Ethernet, IPv4, IPv6, or that byte itself, mostly
 * unsupported); the rest is the sampled header.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sflow.h"
#include "smtp.h"

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz_packet: broken promise: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t protocols[3] = {SH_HEADER_ETHERNET, SH_HEADER_IPV4, SH_HEADER_IPV6};
	const uint8_t *p;
	size_t		len;
	uint32_t	protocol;
	sh_packet	pkt;
	sh_packet_status status;
	char		token[16];

	if (size < 1)
		return 0;
	protocol = data[0] % 4 < 3 ? protocols[data[0] % 4] : data[0];
	p = data + 1;
	len = size - 1;
	status = sh_parse_packet(protocol, p, len, &pkt);

	CHECK(status <= SH_PKT_TOO_DEEP);
	CHECK(pkt.ip_version == 0 || pkt.ip_version == 4 || pkt.ip_version == 6);
	CHECK(pkt.vlan >= -1 && pkt.vlan <= 4095 && pkt.inner_vlan >= -1 && pkt.inner_vlan <= 4095);
	CHECK(pkt.tcp_flags >= -1 && pkt.tcp_flags <= 255);
	CHECK(pkt.inner_vlan == -1 || pkt.vlan != -1);
	if (pkt.payload != NULL)
	{
		CHECK(pkt.payload > p && pkt.payload_len > 0);
		CHECK((size_t) (pkt.payload - p) + pkt.payload_len <= len);
		CHECK(pkt.has_ports);
	}
	else
		CHECK(pkt.payload_len == 0);
	if (pkt.has_ports)
		CHECK(pkt.ip_version != 0 && (pkt.ip_proto == 6 || pkt.ip_proto == 17) && !pkt.fragment);
	if (pkt.fragment)
		CHECK(!pkt.has_ports && status == SH_PKT_OK);
	if (status == SH_PKT_UNSUPPORTED)
		CHECK(protocol != SH_HEADER_ETHERNET && protocol != SH_HEADER_IPV4 && protocol != SH_HEADER_IPV6);

	for (int dir = 0; dir < 3; dir++)
	{
		size_t		n;

		token[0] = '\0';
		n = sh_smtp_token(pkt.payload, pkt.payload_len, dir != 1, dir != 0, token);
		CHECK(n < sizeof(token) && strlen(token) == n);
		for (size_t i = 0; i < n; i++)
			CHECK((token[i] >= 'A' && token[i] <= 'Z') || (token[i] >= '0' && token[i] <= '9'));
	}
	/* and any bytes at all, as a payload */
	(void) sh_smtp_token(p, len, 1, 1, token);
	return 0;
}
