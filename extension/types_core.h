/*
 * extension/types_core.h: the text and binary input of smtp_role and hist24
 * without the server.
 *
 * Plain C (no postgres.h): smtp_role.c and hist24.c call these and turn a
 * failure into ereport(); the fuzz targets (tests/fuzz/fuzz_types.c) and the
 * standalone tests build them alone, under the sanitizers.
 */
#ifndef SPAMHINTS_TYPES_CORE_H
#define SPAMHINTS_TYPES_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/smtp_roles.h"

/*
 * smtp_role: 1 client, 2 server, 3 both (SH_ROLE_* of shared/smtp_roles.h,
 * which also names them: sh_smtp_role_name(), sh_smtp_role_from_name()).
 */

/* a role byte as read from binary input or disk: 1, 2 or 3 */
static inline bool
smtp_role_valid(int role)
{
	return role >= 1 && role <= 3;
}

#define HIST24_HOURS 24
#define HIST24_BINARY_SIZE (HIST24_HOURS * 8)

/*
 * hist24 text: {hour:count,...} (any order, each hour at most once, missing
 * hours 0; {} is all zeros) or exactly 24 plain counts {c0,...,c23}. Fills
 * counts and returns NULL, or returns why str is not a hist24 (a sentence).
 */
const char *hist24_parse_text(const char *str, int64_t counts[HIST24_HOURS]);

/* hist24 binary: exactly 24 big-endian int64; false when len is not 192 */
bool		hist24_parse_binary(const unsigned char *data, size_t len, int64_t counts[HIST24_HOURS]);

#endif							/* SPAMHINTS_TYPES_CORE_H */
