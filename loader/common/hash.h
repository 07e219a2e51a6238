/*
 * loader/common/hash.h: the content hash of a loaded file, SHA-256 computed
 * as its bytes stream past (no second pass), as hex for spamhints.load and
 * spamhints.maillog_load (whose sha256 is unique, with the format for mail
 * logs: a file loaded before adds nothing).
 */
#ifndef SPAMHINTS_HASH_H
#define SPAMHINTS_HASH_H

#include <stddef.h>

typedef struct sh_hash sh_hash;

/* A new hash; NULL when out of memory (or the digest cannot start). */
sh_hash    *sh_hash_start(void);
void		sh_hash_update(sh_hash *h, const void *data, size_t len);
/* The 64 hex digits and a NUL: 0, or -1 when the digest cannot finish. */
int			sh_hash_finish(sh_hash *h, char hex[65]);
void		sh_hash_free(sh_hash *h);

#endif							/* SPAMHINTS_HASH_H */
