/*
 * loader/common/pgcopy.c: the buffer behind the binary COPY encoder (pgcopy.h).
 */
#include "pgcopy.h"

#include <stdlib.h>

int
sh_copy_init(sh_copy *c, size_t cap)
{
	c->buf = malloc(cap);
	c->len = 0;
	c->cap = c->buf ? cap : 0;
	return c->buf ? 0 : -1;
}

void
sh_copy_free(sh_copy *c)
{
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

int
sh_copy_reserve(sh_copy *c, size_t n)
{
	size_t		cap = c->cap ? c->cap : 4096;
	uint8_t    *buf;

	if (c->len + n <= c->cap)
		return 0;
	while (cap < c->len + n)
		cap *= 2;
	buf = realloc(c->buf, cap);
	if (buf == NULL)
		return -1;
	c->buf = buf;
	c->cap = cap;
	return 0;
}

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
