/*
 * extension/spamhints.h: what several C files of the extension share.
 *
 * The SMTP role of an address (smtp_role.c) and the SMTP port set that the
 * role functions and the census aggregates take (smtp_role.c), used by
 * census.c.
 */
#ifndef SPAMHINTS_H
#define SPAMHINTS_H

#include "fmgr.h"

#include "shared/smtp_roles.h"

/*
 * spamhints.smtp_role: one byte, a set of two bits. 0 is "no SMTP role",
 * which no smtp_role value holds (functions return NULL for it).
 */
#define SMTP_ROLE_NONE		SH_ROLE_NONE
#define SMTP_ROLE_CLIENT	SH_ROLE_CLIENT
#define SMTP_ROLE_SERVER	SH_ROLE_SERVER
#define SMTP_ROLE_BOTH		SH_ROLE_BOTH

#define DatumGetSmtpRole(d)		((uint8) DatumGetChar(d))
#define SmtpRoleGetDatum(r)		CharGetDatum((char) (r))
#define PG_GETARG_SMTP_ROLE(n)	DatumGetSmtpRole(PG_GETARG_DATUM(n))
#define PG_RETURN_SMTP_ROLE(r)	return SmtpRoleGetDatum(r)

/* the client role becomes server and the reverse; both stays both */
static inline uint8
smtp_role_swap(uint8 role)
{
	return (uint8) sh_smtp_role_swap(role);
}

/*
 * A set of TCP ports (the SMTP ports), as a bitmap over 0..65535.
 */
typedef struct SmtpPortSet
{
	uint64		bits[65536 / 64];
} SmtpPortSet;

static inline bool
smtp_port_in_set(const SmtpPortSet *set, int32 port)
{
	if (port < 0 || port > 65535)
		return false;
	return (set->bits[port >> 6] >> (port & 63)) & 1;
}

/*
 * The port set given as an int4[] argument, cached in fn_extra: the same
 * array (usually a constant) costs one memcmp per call.
 */
extern const SmtpPortSet *smtp_port_set_from_array(FunctionCallInfo fcinfo, int argno);

/*
 * The role of a sample's source address from its two ports, by the rule of
 * shared/smtp_roles.h.  The destination's role is smtp_role_swap() of it.
 * ports == NULL is the default set, {SH_SMTP_DEFAULT_PORT}.
 */
static inline void
smtp_port_check(int32 port)
{
	if (unlikely(port < 0 || port > 65535))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a port must be from 0 to 65535, not %d", port)));
}

/* (0.2) a port outside 0..65535 is an error (22023), not a port of no role */
static inline uint8
smtp_src_role(const SmtpPortSet *ports, int32 src_port, int32 dst_port)
{
	smtp_port_check(src_port);
	smtp_port_check(dst_port);
	if (ports == NULL)
		return (uint8) sh_smtp_src_role(dst_port == SH_SMTP_DEFAULT_PORT, src_port == SH_SMTP_DEFAULT_PORT);
	return (uint8) sh_smtp_src_role(smtp_port_in_set(ports, dst_port), smtp_port_in_set(ports, src_port));
}

/* enrich.c: the settings spamhints.asn_db and spamhints.country_db (_PG_init). */
extern void enrich_define_settings(void);

#endif							/* SPAMHINTS_H */
