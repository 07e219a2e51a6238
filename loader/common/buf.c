/*
 * loader/common/buf.c: the growable buffer (buf.h).
 */
#include "buf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
sh_buf_init(sh_buf *b, size_t cap)
{
	b->buf = malloc(cap);
	b->len = 0;
	b->cap = b->buf ? cap : 0;
	b->oom = b->buf == NULL;
	return b->buf ? 0 : -1;
}

void
sh_buf_free(sh_buf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

int
sh_buf_grow(sh_buf *b, size_t n)
{
	size_t		cap = b->cap ? b->cap : 4096;
	uint8_t    *buf;

	if (b->len + n <= b->cap)
		return 0;
	while (cap < b->len + n)
		cap *= 2;
	buf = realloc(b->buf, cap);
	if (buf == NULL)
	{
		b->oom = 1;
		return -1;
	}
	b->buf = buf;
	b->cap = cap;
	return 0;
}

void
sh_buf_put(sh_buf *b, const char *s, size_t n)
{
	if (b->oom || sh_buf_reserve(b, n + 1) != 0)
		return;
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void
sh_buf_str(sh_buf *b, const char *s)
{
	sh_buf_put(b, s, strlen(s));
}

void
sh_buf_u64(sh_buf *b, uint64_t v)
{
	char		num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	sh_buf_str(b, num);
}
