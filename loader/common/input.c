/*
 * loader/common/input.c: the bytes of an input file, plain or gzip'd (input.h).
 *
 * Decoded bytes go through one buffer (out): read() copies from it and
 * refills it, so that small reads (a pcapng block's head, four bytes) cost
 * no call into zlib each. Every decoded byte is hashed as it enters the
 * buffer; all of them are handed out, or read by sh_input_finish().
 */
#include "input.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#include "hash.h"

#define OUT_BYTES	(1u << 18)
#define RAW_BYTES	(1u << 18)

struct sh_input
{
	FILE	   *f;				/* the file, or stdin */
	int			regular;
	struct stat st;
	sh_hash    *sha;
	uint64_t	bytes;			/* decoded bytes that entered out */
	uint64_t	handed;			/* of those, handed out */
	uint64_t	raw;			/* bytes read from the file */
	int			eof;			/* nothing more to decode */
	int			failed;			/* a read error: error says why */
	char		error[256];

	/* decoded bytes waiting to be read */
	unsigned char *out;
	size_t		out_pos;
	size_t		out_len;

	/* gzip */
	int			gzip;
	int			z_init;
	int			member_start;	/* inflate is at the start of a member */
	uint64_t	member_offset;	/* where in the file the current member starts */
	z_stream	z;
	unsigned char *in;			/* compressed bytes read, not yet inflated */
	int			in_eof;			/* the file has no more bytes */
};

/* Bytes of the file taken by zlib so far. */
static uint64_t
consumed(const sh_input *in)
{
	return in->gzip ? in->raw - in->z.avail_in : in->raw;
}

static void
fail(sh_input *in, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void
fail(sh_input *in, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(in->error, sizeof(in->error), fmt, ap);
	va_end(ap);
	in->failed = 1;
}

/* Read raw file bytes into buf: how many (0 at the end), or -1 (failed set). */
static size_t
read_raw(sh_input *in, unsigned char *buf, size_t size, int *err)
{
	size_t		n = fread(buf, 1, size, in->f);

	*err = 0;
	if (n < size && ferror(in->f))
	{
		fail(in, "cannot read: %s", strerror(errno ? errno : EIO));
		*err = 1;
	}
	in->raw += n;
	return n;
}

/* Inflate into buf[0..size): how many bytes came (fewer at the end or on an error). */
static size_t
inflate_some(sh_input *in, unsigned char *buf, size_t size)
{
	in->z.next_out = buf;
	in->z.avail_out = (uInt) size;
	while (in->z.avail_out > 0 && !in->eof && !in->failed)
	{
		int			r;

		if (in->z.avail_in == 0 && !in->in_eof)
		{
			int			err;
			size_t		n = read_raw(in, in->in, RAW_BYTES, &err);

			if (err)
				break;
			if (n == 0)
				in->in_eof = 1;
			in->z.next_in = in->in;
			in->z.avail_in = (uInt) n;
		}
		if (in->z.avail_in == 0 && in->in_eof)
		{
			if (in->member_start)
				in->eof = 1;	/* the last member ended with the file */
			else
				fail(in, "truncated gzip data: the file ends inside a compressed member "
					 "(the member at byte %" PRIu64 ", %" PRIu64 " bytes of the file)",
					 in->member_offset, in->raw);
			break;
		}
		if (in->member_start)
		{
			in->member_offset = consumed(in);
			in->member_start = 0;
		}
		r = inflate(&in->z, Z_NO_FLUSH);
		if (r == Z_STREAM_END)
		{
			/* another member may follow (cat a.gz b.gz): inflate reads its header */
			inflateReset(&in->z);
			in->member_start = 1;
		}
		else if (r == Z_DATA_ERROR && in->member_offset > 0 && in->z.total_out == 0)
			fail(in, "the bytes after the gzip member that ends at byte %" PRIu64 " are not gzip data (%s)",
				 in->member_offset, in->z.msg ? in->z.msg : "invalid data");
		else if (r == Z_DATA_ERROR)
			fail(in, "corrupt gzip data near byte %" PRIu64 " of the file: %s", consumed(in),
				 in->z.msg ? in->z.msg : "invalid data");
		else if (r == Z_MEM_ERROR)
			fail(in, "out of memory");
		else if (r != Z_OK && r != Z_BUF_ERROR)
			fail(in, "gzip error %d near byte %" PRIu64 " of the file", r, consumed(in));
	}
	return size - in->z.avail_out;
}

/* Refill out with decoded bytes (out is empty). */
static void
refill(sh_input *in)
{
	size_t		n = 0;

	in->out_pos = in->out_len = 0;
	if (in->eof || in->failed)
		return;
	if (in->gzip)
		n = inflate_some(in, in->out, OUT_BYTES);
	else
	{
		int			err;

		n = read_raw(in, in->out, OUT_BYTES, &err);
		if (n == 0 && !err)
			in->eof = 1;
	}
	if (n > 0)
	{
		sh_hash_update(in->sha, in->out, n);
		in->bytes += n;
	}
	in->out_len = n;
}

sh_input   *
sh_input_open(const char *path, char *err, size_t errlen)
{
	sh_input   *in = calloc(1, sizeof(*in));
	unsigned char magic[2];
	size_t		have;
	int			rerr;

	if (in == NULL || (in->out = malloc(OUT_BYTES)) == NULL || (in->sha = sh_hash_start()) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		sh_input_close(in);
		return NULL;
	}
	if (strcmp(path, "-") == 0)
		in->f = stdin;
	else
	{
		/* a directory opens for reading, then fails at the first read */
		if (stat(path, &in->st) == 0 && S_ISDIR(in->st.st_mode))
		{
			snprintf(err, errlen, "is a directory, not a file");
			sh_input_close(in);
			return NULL;
		}
		if ((in->f = fopen(path, "rb")) == NULL)
		{
			snprintf(err, errlen, "cannot open: %s", strerror(errno));
			sh_input_close(in);
			return NULL;
		}
	}
	if (fstat(fileno(in->f), &in->st) == 0)
	{
		if (S_ISDIR(in->st.st_mode))
		{
			snprintf(err, errlen, "is a directory, not a file");
			sh_input_close(in);
			return NULL;
		}
		in->regular = S_ISREG(in->st.st_mode);
	}
	setvbuf(in->f, NULL, _IOFBF, 1 << 16);

	/* the first two bytes say gzip or not */
	have = read_raw(in, magic, 2, &rerr);
	if (rerr)
	{
		snprintf(err, errlen, "%s", in->error);
		sh_input_close(in);
		return NULL;
	}
	if (have == 0)
	{
		snprintf(err, errlen, in->regular ? "empty file (0 bytes): nothing to load" :
				 "empty: not one byte came, nothing to load");
		sh_input_close(in);
		return NULL;
	}
	if (have == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
	{
		if ((in->in = malloc(RAW_BYTES)) == NULL ||
			inflateInit2(&in->z, 15 + 16) != Z_OK)
		{
			snprintf(err, errlen, "out of memory");
			sh_input_close(in);
			return NULL;
		}
		in->gzip = in->z_init = 1;
		in->member_start = 1;
		memcpy(in->in, magic, 2);
		in->z.next_in = in->in;
		in->z.avail_in = 2;
		refill(in);
	}
	else
	{
		memcpy(in->out, magic, have);
		sh_hash_update(in->sha, magic, have);
		in->bytes = have;
		in->out_len = have;
		if (have == 2)
		{
			size_t		n = read_raw(in, in->out + 2, OUT_BYTES - 2, &rerr);

			if (n > 0)
			{
				sh_hash_update(in->sha, in->out + 2, n);
				in->bytes += n;
				in->out_len += n;
			}
		}
	}
	if (in->out_len == 0)
	{
		if (in->failed)
			snprintf(err, errlen, "%s", in->error);
		else
			snprintf(err, errlen, "empty: gzip data of 0 bytes, nothing to load");
		sh_input_close(in);
		return NULL;
	}
	return in;
}

ssize_t
sh_input_read(sh_input *in, void *buf, size_t size)
{
	size_t		done = 0;

	while (done < size)
	{
		size_t		n;

		if (in->out_pos == in->out_len)
		{
			refill(in);
			if (in->out_len == 0)
				break;
		}
		n = in->out_len - in->out_pos;
		if (n > size - done)
			n = size - done;
		memcpy((char *) buf + done, in->out + in->out_pos, n);
		in->out_pos += n;
		done += n;
	}
	in->handed += done;
	if (done == 0 && in->failed)
		return -1;
	return (ssize_t) done;
}

const char *
sh_input_error(const sh_input *in)
{
	return in->failed ? in->error : "";
}

int
sh_input_gzip(const sh_input *in)
{
	return in->gzip;
}

uint64_t
sh_input_bytes(const sh_input *in)
{
	return in->handed;
}

uint64_t
sh_input_position(const sh_input *in)
{
	return consumed(in);
}

uint64_t
sh_input_size(const sh_input *in)
{
	return in->regular ? (uint64_t) in->st.st_size : 0;
}

int
sh_input_mtime(const sh_input *in, time_t *t)
{
	if (!in->regular)
		return 0;
	*t = in->st.st_mtime;
	return 1;
}

int
sh_input_finish(sh_input *in, char hex[65])
{
	while (!in->eof && !in->failed)
	{
		in->handed += in->out_len - in->out_pos;
		refill(in);
	}
	in->handed += in->out_len - in->out_pos;
	in->out_pos = in->out_len;
	if (in->failed)
		return -1;
	if (sh_hash_finish(in->sha, hex) != 0)
	{
		fail(in, "cannot finish SHA-256");
		return -1;
	}
	return 0;
}

void
sh_input_close(sh_input *in)
{
	if (in == NULL)
		return;
	if (in->z_init)
		inflateEnd(&in->z);
	if (in->f && in->f != stdin)
		fclose(in->f);
	sh_hash_free(in->sha);
	free(in->out);
	free(in->in);
	free(in);
}
