/*
 * tests/fuzz/fuzz_types.c: libFuzzer target for the text and binary input
 * of smtp_role and hist24, through extension/types_core.c, the code that
 * smtp_role_in/recv and hist24_in/recv run in the server.
 *
 * The first byte chooses: 0 smtp_role text, 1 smtp_role binary, 2 hist24
 * text, 3 hist24 binary. What parses must print back (in both of hist24's
 * text forms) and read back the same; binary input must be exactly the
 * value's bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types_core.h"

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz_types: broken promise: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

static char *
cstring(const uint8_t *data, size_t len)
{
	char	   *s = malloc(len + 1);

	CHECK(s != NULL);
	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

static void
role_text(const uint8_t *data, size_t len)
{
	char	   *s = cstring(data, len);
	int			role = sh_smtp_role_from_name(s);

	CHECK(role >= 0 && role <= 3);
	if (role != 0)
	{
		CHECK(smtp_role_valid(role));
		CHECK(strlen(s) == strlen(sh_smtp_role_name(role)));
		CHECK(sh_smtp_role_from_name(sh_smtp_role_name(role)) == role);
	}
	free(s);
}

static void
role_binary(const uint8_t *data, size_t len)
{
	/* smtp_role_recv: one byte, 1 to 3; then the cursor must be at the end */
	if (len == 1 && smtp_role_valid(data[0]))
		CHECK(sh_smtp_role_from_name(sh_smtp_role_name(data[0])) == data[0]);
}

static void
hist24_text(const uint8_t *data, size_t len)
{
	char	   *s = cstring(data, len);
	int64_t		counts[HIST24_HOURS];
	int64_t		again[HIST24_HOURS];
	const char *why = hist24_parse_text(s, counts);

	if (why == NULL)
	{
		char		out[HIST24_HOURS * 28 + 8];
		size_t		at = 0;

		/* as hist24_out writes it */
		at += (size_t) snprintf(out + at, sizeof(out) - at, "{");
		for (int i = 0; i < HIST24_HOURS; i++)
			at += (size_t) snprintf(out + at, sizeof(out) - at, "%s%d:%" PRId64, i ? "," : "", i, counts[i]);
		snprintf(out + at, sizeof(out) - at, "}");
		CHECK(hist24_parse_text(out, again) == NULL && memcmp(counts, again, sizeof(counts)) == 0);

		/* the plain form */
		at = 0;
		at += (size_t) snprintf(out + at, sizeof(out) - at, "{");
		for (int i = 0; i < HIST24_HOURS; i++)
			at += (size_t) snprintf(out + at, sizeof(out) - at, "%s%" PRId64, i ? "," : "", counts[i]);
		snprintf(out + at, sizeof(out) - at, "}");
		CHECK(hist24_parse_text(out, again) == NULL && memcmp(counts, again, sizeof(counts)) == 0);
	}
	else
		CHECK(strlen(why) > 0);
	free(s);
}

static void
hist24_binary(const uint8_t *data, size_t len)
{
	int64_t		counts[HIST24_HOURS];
	unsigned char back[HIST24_BINARY_SIZE];

	if (!hist24_parse_binary(data, len, counts))
	{
		CHECK(len != HIST24_BINARY_SIZE);
		return;
	}
	for (int i = 0; i < HIST24_HOURS; i++)
		for (int k = 0; k < 8; k++)
			back[8 * i + k] = (unsigned char) ((uint64_t) counts[i] >> (56 - 8 * k));
	CHECK(memcmp(back, data, HIST24_BINARY_SIZE) == 0);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 4)
	{
		case 0:
			role_text(data + 1, size - 1);
			break;
		case 1:
			role_binary(data + 1, size - 1);
			break;
		case 2:
			hist24_text(data + 1, size - 1);
			break;
		case 3:
			hist24_binary(data + 1, size - 1);
			break;
	}
	return 0;
}
