/*
 * loader/common/buf.h: a growable byte buffer, the one every stage writes
 * into: binary COPY rows (pgcopy.h), text COPY rows (mail events), SQL
 * literals and JSON at the end of a load.
 *
 * Running out of memory is remembered (oom) rather than checked at each
 * append: a writer appends, and looks once at the end. Text appended with
 * sh_buf_put() and friends stays NUL-terminated.
 */
#ifndef SPAMHINTS_BUF_H
#define SPAMHINTS_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct sh_buf
{
	uint8_t    *buf;
	size_t		len;
	size_t		cap;
	int			oom;
} sh_buf;

/* An empty buffer of cap bytes: 0, or -1 out of memory. */
int			sh_buf_init(sh_buf *b, size_t cap);
void		sh_buf_free(sh_buf *b);

/* Grow to hold n more bytes: 0, or -1 (and oom set) out of memory. */
int			sh_buf_grow(sh_buf *b, size_t n);

/* Make room for n more bytes; cheap when there is room already. */
static inline int
sh_buf_reserve(sh_buf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return 0;
	return sh_buf_grow(b, n);
}

/* Append n bytes, or a C string, or a number, keeping a NUL after them. */
void		sh_buf_put(sh_buf *b, const char *s, size_t n);
void		sh_buf_str(sh_buf *b, const char *s);
void		sh_buf_u64(sh_buf *b, uint64_t v);

/* The text appended so far ("" when nothing was). */
static inline const char *
sh_buf_text(const sh_buf *b)
{
	return b->buf ? (const char *) b->buf : "";
}

#endif							/* SPAMHINTS_BUF_H */
