/*
 * loader/capture/smtp.h: which sampled packets are SMTP, and what little of their
 * payload we keep.
 *
 * A packet is SMTP when it is TCP and either port is in the configured set.
 * Of the payload only the SMTP command verb (EHLO, MAIL, ...) or the reply
 * code (220, 550, ...) at its very start is kept: never an address, a host
 * name or anything else a person wrote.
 */
#ifndef SPAMHINTS_SMTP_H
#define SPAMHINTS_SMTP_H

#include <stddef.h>
#include <stdint.h>

#include "sflow.h"

#define SH_SMTP_MAX_PORTS 64

typedef struct sh_ports
{
	uint8_t		bits[65536 / 8];
	int			n;
	uint16_t	list[SH_SMTP_MAX_PORTS];
} sh_ports;

/* Parse "25,465,587" into *ports. Returns 0, or -1 with the reason in err. */
int			sh_ports_parse(sh_ports *ports, const char *spec, char *err, size_t errlen);

static inline int
sh_ports_has(const sh_ports *ports, uint16_t port)
{
	return (ports->bits[port >> 3] >> (port & 7)) & 1;
}

/*
 * The SMTP token at the start of a TCP payload: a command verb when the
 * packet goes to an SMTP port, a reply code when it comes from one. Writes
 * the token (upper case, NUL-terminated) into out and returns its length,
 * or 0 when the payload starts with neither.
 */
size_t		sh_smtp_token(const uint8_t *payload, size_t len, int to_server, int from_server,
						  char out[16]);

/*
 * What the SMTP stage makes of one sampled packet record: a sample to keep,
 * or the reason it is not kept (counted as skipped: SMTP rows plus these
 * counts add up to the sampled packet records).
 */
typedef enum sh_smtp_verdict
{
	SH_SMTP_SAMPLE = 0,
	SH_SMTP_NOT_SMTP,			/* IP, but not TCP or no SMTP port: not ours */
	SH_SMTP_PACKET_NOT_IP,		/* no IPv4/IPv6 header (ARP, other ethertypes, ...) */
	SH_SMTP_PACKET_TOO_DEEP,	/* more tags, labels or tunnels than the parser walks */
	SH_SMTP_PACKET_TRUNCATED,	/* the header stopped before the ports */
	SH_SMTP_PACKET_BAD_IP,
	SH_SMTP_PACKET_UNSUPPORTED,
	SH_SMTP_PACKET_FRAGMENT,	/* a non-first IP fragment: no ports */
	SH_SMTP_TCP_CUT,			/* TCP, cut inside its ports */
	SH_SMTP_RATE_RANGE,			/* a sampling rate past what the table holds */
	SH_SMTP_COUNT_
} sh_smtp_verdict;

#define SH_SMTP_FIRST_SKIP SH_SMTP_NOT_SMTP

/* An SMTP sample: which way it went, and its token ("" when none). */
typedef struct sh_smtp_sample
{
	int			to_server;
	int			from_server;
	size_t		ntoken;
	char		token[16];
} sh_smtp_sample;

/* Decide on one record; fills *out for SH_SMTP_SAMPLE. */
sh_smtp_verdict sh_smtp_classify(const sh_ports *ports, const sh_record *rec, sh_smtp_sample *out);

/* The skip reason's name, as spamhints.load.skipped counts it. */
const char *sh_smtp_skip_name(sh_smtp_verdict v);

#endif							/* SPAMHINTS_SMTP_H */
