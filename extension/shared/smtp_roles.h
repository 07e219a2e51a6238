/*
 * extension/shared/smtp_roles.h: what makes an address an SMTP client or
 * server, and the names of the roles.
 *
 * Shared by the loader (which keeps a sampled packet when either of its
 * ports is an SMTP port, and reads a command verb or a reply code by the
 * direction) and the extension (the smtp_role type, the census), so that
 * both apply one rule. Plain C: nothing of either program.
 *
 * The rule: a sampled packet sent TO an SMTP port makes its source address
 * a client (and its destination a server); a packet sent FROM an SMTP port
 * makes its source a server (and its destination a client). A packet with
 * both ports SMTP ports makes each address both.
 */
#ifndef SPAMHINTS_SHARED_SMTP_ROLES_H
#define SPAMHINTS_SHARED_SMTP_ROLES_H

/* The SMTP ports when none are given: the loader's --ports, the SQL's {25}. */
#define SH_SMTP_DEFAULT_PORT	25
#define SH_SMTP_DEFAULT_PORTS	"25"

/* A role is a set of two bits; 0 is no role (no smtp_role value holds it). */
#define SH_ROLE_NONE	0
#define SH_ROLE_CLIENT	1
#define SH_ROLE_SERVER	2
#define SH_ROLE_BOTH	(SH_ROLE_CLIENT | SH_ROLE_SERVER)

/* The role of a packet's source: to_smtp, its destination port is an SMTP port; from_smtp, its source port. */
static inline int
sh_smtp_src_role(int to_smtp, int from_smtp)
{
	return (to_smtp ? SH_ROLE_CLIENT : 0) | (from_smtp ? SH_ROLE_SERVER : 0);
}

/* The role of the other end: client and server trade places; both stays both. */
static inline int
sh_smtp_role_swap(int role)
{
	return ((role & SH_ROLE_CLIENT) << 1) | ((role & SH_ROLE_SERVER) >> 1);
}

/* The role's name in SQL ("client", "server", "both"); NULL for no role or a bad value. */
static inline const char *
sh_smtp_role_name(int role)
{
	switch (role)
	{
		case SH_ROLE_CLIENT:
			return "client";
		case SH_ROLE_SERVER:
			return "server";
		case SH_ROLE_BOTH:
			return "both";
	}
	return (const char *) 0;
}

/* a == b, ignoring the case of ASCII letters only, whatever the locale (as pg_strcasecmp) */
static inline int
sh_ascii_equal_nocase(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
	{
		char		x = (*a >= 'A' && *a <= 'Z') ? (char) (*a + 'a' - 'A') : *a;
		char		y = (*b >= 'A' && *b <= 'Z') ? (char) (*b + 'a' - 'A') : *b;

		if (x != y)
			return 0;
	}
	return *a == *b;
}

/* The role named by name (any case): SH_ROLE_CLIENT, _SERVER or _BOTH; SH_ROLE_NONE when it names none. */
static inline int
sh_smtp_role_from_name(const char *name)
{
	for (int role = SH_ROLE_CLIENT; role <= SH_ROLE_BOTH; role++)
		if (sh_ascii_equal_nocase(name, sh_smtp_role_name(role)))
			return role;
	return SH_ROLE_NONE;
}

#endif							/* SPAMHINTS_SHARED_SMTP_ROLES_H */
