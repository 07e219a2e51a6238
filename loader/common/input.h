/*
 * loader/common/input.h: the bytes of an input file, whatever it is stored
 * as: a file or standard input, plain or gzip'd.
 *
 * A file whose first two bytes are gzip's magic (1f 8b) is decompressed as
 * it is read (zlib), every member of it in turn (cat a.gz b.gz makes one
 * file of two members, as zcat reads it). What the pipelines see, hash and
 * count is the decompressed bytes: a capture and its gzip are the same file
 * to a load (same SHA-256, as zcat FILE | sha256sum gives, same file_bytes).
 * Corrupt or truncated gzip data, or bytes after the last member that are
 * not another member, are a read error: a load never keeps part of a file.
 *
 * Opening says in one line why a file cannot be loaded (missing,
 * unreadable, a directory, empty) instead of leaving it to the reader's own
 * wording. The reason never names the file: the caller prints
 * "spamhints-load: error: PATH: REASON" (sh_file_error(), db.h).
 */
#ifndef SPAMHINTS_INPUT_H
#define SPAMHINTS_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

typedef struct sh_input sh_input;

/*
 * Open path ("-": standard input) and read its first bytes: NULL with the
 * reason in err when it is missing, unreadable, a directory, empty (no
 * bytes at all, or gzip of nothing) or gzip that cannot be read.
 */
sh_input   *sh_input_open(const char *path, char *err, size_t errlen);

/*
 * Up to size bytes (decompressed), as fread gives them: fewer only at the
 * end of the input, or before an error; 0 at the end, -1 on a read error
 * (sh_input_error() says what).
 */
ssize_t		sh_input_read(sh_input *in, void *buf, size_t size);

/* Why the last read failed ("" when none did). */
const char *sh_input_error(const sh_input *in);

/* Whether the file is gzip'd. */
int			sh_input_gzip(const sh_input *in);

/* Bytes handed out so far (decompressed). */
uint64_t	sh_input_bytes(const sh_input *in);

/* For progress: bytes of the file itself consumed so far, and its size (0: unknown, a pipe). */
uint64_t	sh_input_position(const sh_input *in);
uint64_t	sh_input_size(const sh_input *in);

/* The file's modification time: 1 with *t set for a regular file, else 0. */
int			sh_input_mtime(const sh_input *in, time_t *t);

/*
 * Read what is left (so that the hash covers all of it), then the hex
 * SHA-256 of every decompressed byte: 0, or -1 with the reason in
 * sh_input_error().
 */
int			sh_input_finish(sh_input *in, char hex[65]);

void		sh_input_close(sh_input *in);

#endif							/* SPAMHINTS_INPUT_H */
