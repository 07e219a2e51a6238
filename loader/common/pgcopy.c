/*
 * loader/common/pgcopy.c: the header and trailer of a binary COPY stream (pgcopy.h).
 */
#include "pgcopy.h"

void
sh_copy_header(sh_copy *c)
{
	static const uint8_t signature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xFF, '\r', '\n', 0};
	uint8_t    *p;

	if (sh_copy_reserve(c, 19) != 0)
		return;
	p = c->buf + c->len;
	memcpy(p, signature, sizeof(signature));
	p = sh_copy_put32(p + sizeof(signature), 0);	/* flags: no OIDs */
	p = sh_copy_put32(p, 0);	/* header extension length */
	c->len = (size_t) (p - c->buf);
}

void
sh_copy_trailer(sh_copy *c)
{
	if (sh_copy_reserve(c, 2) != 0)
		return;
	sh_copy_put16(c->buf + c->len, 0xFFFF);
	c->len += 2;
}
