/*
 * loader/common/sender.h: the COPY stream goes out on a thread of its own.
 *
 * The decoder fills a buffer of rows and swaps it for an empty one; a
 * second thread writes full buffers to the server (or a file), so that
 * decoding the next megabyte overlaps with the server ingesting the last.
 * A handful of buffers circulate: memory stays constant however large the
 * capture.
 */
#ifndef SPAMHINTS_SENDER_H
#define SPAMHINTS_SENDER_H

#include <stdio.h>

#include <libpq-fe.h>

#include "pgcopy.h"

typedef struct sh_sender sh_sender;

/*
 * Start the thread: it writes to conn (which must be in COPY IN state), or
 * to file, or, with neither, nowhere (a dry run). *first becomes the first
 * empty buffer to fill. NULL when out of memory or threads.
 */
sh_sender  *sh_sender_start(PGconn *conn, FILE *file, size_t bufsize, sh_copy *first);

/*
 * Hand over the full buffer *copy and get an empty one in its place.
 * Returns -1, with *copy emptied, once writing has failed.
 */
int			sh_sender_swap(sh_sender *s, sh_copy *copy);

/*
 * Hand over the last buffer (may be empty), wait until everything is
 * written, end the thread and free the buffers. Returns 0, or -1 with the
 * reason in err. *last is no longer usable afterwards.
 */
int			sh_sender_finish(sh_sender *s, sh_copy *last, char *err, size_t errlen);

#endif							/* SPAMHINTS_SENDER_H */
