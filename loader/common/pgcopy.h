/*
 * loader/common/pgcopy.h: PostgreSQL's binary COPY format, written into one growing
 * buffer (buf.h; the last stage before libpq).
 *
 * A row is reserved once (sh_copy_row) and its fields written without
 * further checks: no allocation per row, no formatting of numbers as text.
 * The layout is the one of "COPY ... FROM STDIN (FORMAT binary)": a
 * signature and header, then per row an int16 field count and per field an
 * int32 length (-1 for NULL) and the value in the type's binary (send) form,
 * all big-endian.
 */
#ifndef SPAMHINTS_PGCOPY_H
#define SPAMHINTS_PGCOPY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "buf.h"

/* The most one row may take: checked by sh_copy_row's caller's field count. */
#define SH_COPY_ROW_MAX 1024

/* The rows, in the buffer every stage writes into. */
typedef sh_buf sh_copy;

/* Seconds from the Unix epoch to PostgreSQL's (2000-01-01). */
#define SH_PG_EPOCH_OFFSET 946684800LL

static inline int
sh_copy_init(sh_copy *c, size_t cap)
{
	return sh_buf_init(c, cap);
}

static inline void
sh_copy_free(sh_copy *c)
{
	sh_buf_free(c);
}

/* The file header (signature, flags, extension length) and the trailer. */
void		sh_copy_header(sh_copy *c);
void		sh_copy_trailer(sh_copy *c);

static inline uint8_t *
sh_copy_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) (v >> 8);
	p[1] = (uint8_t) v;
	return p + 2;
}

static inline uint8_t *
sh_copy_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
	return p + 4;
}

static inline uint8_t *
sh_copy_put64(uint8_t *p, uint64_t v)
{
	p = sh_copy_put32(p, (uint32_t) (v >> 32));
	return sh_copy_put32(p, (uint32_t) v);
}

/*
 * Start a row of nfields fields; returns where to write them. The caller
 * must have made room with sh_copy_reserve(c, SH_COPY_ROW_MAX) and must end
 * the row with sh_copy_end(c, p).
 */
static inline uint8_t *
sh_copy_row(sh_copy *c, uint16_t nfields)
{
	return sh_copy_put16(c->buf + c->len, nfields);
}

static inline void
sh_copy_end(sh_copy *c, uint8_t *p)
{
	c->len = (size_t) (p - c->buf);
}

/* Make room for n more bytes; 0 on success, -1 out of memory. */
static inline int
sh_copy_reserve(sh_copy *c, size_t n)
{
	return sh_buf_reserve(c, n);
}

static inline uint8_t *
sh_field_null(uint8_t *p)
{
	return sh_copy_put32(p, 0xFFFFFFFFu);
}

static inline uint8_t *
sh_field_int4(uint8_t *p, int32_t v)
{
	p = sh_copy_put32(p, 4);
	return sh_copy_put32(p, (uint32_t) v);
}

static inline uint8_t *
sh_field_int8(uint8_t *p, int64_t v)
{
	p = sh_copy_put32(p, 8);
	return sh_copy_put64(p, (uint64_t) v);
}

/* timestamptz: microseconds since 2000-01-01 00:00:00 UTC */
static inline uint8_t *
sh_field_timestamptz(uint8_t *p, int64_t unix_sec, int32_t usec)
{
	return sh_field_int8(p, (unix_sec - SH_PG_EPOCH_OFFSET) * 1000000LL + usec);
}

/* inet: family (2 = IPv4, 3 = IPv6), bits, is_cidr, address length, address */
static inline uint8_t *
sh_field_inet(uint8_t *p, const sh_addr *a)
{
	uint8_t		nb = a->family == 6 ? 16 : 4;

	p = sh_copy_put32(p, 4u + nb);
	p[0] = a->family == 6 ? 3 : 2;
	p[1] = (uint8_t) (nb * 8);
	p[2] = 0;
	p[3] = nb;
	memcpy(p + 4, a->bytes, nb);
	return p + 4 + nb;
}

static inline uint8_t *
sh_field_macaddr(uint8_t *p, const uint8_t mac[6])
{
	p = sh_copy_put32(p, 6);
	memcpy(p, mac, 6);
	return p + 6;
}

static inline uint8_t *
sh_field_text(uint8_t *p, const char *s, size_t n)
{
	p = sh_copy_put32(p, (uint32_t) n);
	memcpy(p, s, n);
	return p + n;
}

#endif							/* SPAMHINTS_PGCOPY_H */
