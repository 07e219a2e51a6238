/*
 * tests/unit/test_types_core.c: the text and binary input of smtp_role and
 * hist24 (extension/types_core.c) outside the server, under AddressSanitizer
 * and UBSan: the values and the errors of the regression tests
 * (tests/regress/sql/20_smtp_role.sql, 22_hist24.sql), each on a heap copy
 * of exactly its length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "types_core.h"

static char *text;

static const char *
hist24(const char *s, int64_t counts[HIST24_HOURS])
{
	free(text);
	text = strdup(s);
	assert_non_null(text);
	return hist24_parse_text(text, counts);
}

static int
teardown(void **state)
{
	(void) state;
	free(text);
	text = NULL;
	return 0;
}

static void
test_smtp_role(void **state)
{
	(void) state;
	assert_int_equal(sh_smtp_role_from_name("client"), 1);
	assert_int_equal(sh_smtp_role_from_name("SERVER"), 2);
	assert_int_equal(sh_smtp_role_from_name("Both"), 3);
	assert_int_equal(sh_smtp_role_from_name(""), 0);
	assert_int_equal(sh_smtp_role_from_name("clients"), 0);
	assert_int_equal(sh_smtp_role_from_name("clien"), 0);
	assert_int_equal(sh_smtp_role_from_name(" client"), 0);
	/* the names and the port rule the loader shares (extension/shared/smtp_roles.h) */
	assert_string_equal(sh_smtp_role_name(SH_ROLE_CLIENT), "client");
	assert_string_equal(sh_smtp_role_name(SH_ROLE_SERVER), "server");
	assert_string_equal(sh_smtp_role_name(SH_ROLE_BOTH), "both");
	assert_null(sh_smtp_role_name(SH_ROLE_NONE));
	assert_null(sh_smtp_role_name(4));
	assert_int_equal(sh_smtp_src_role(1, 0), SH_ROLE_CLIENT);
	assert_int_equal(sh_smtp_src_role(0, 1), SH_ROLE_SERVER);
	assert_int_equal(sh_smtp_src_role(1, 1), SH_ROLE_BOTH);
	assert_int_equal(sh_smtp_src_role(0, 0), SH_ROLE_NONE);
	assert_int_equal(sh_smtp_role_swap(SH_ROLE_CLIENT), SH_ROLE_SERVER);
	assert_int_equal(sh_smtp_role_swap(SH_ROLE_SERVER), SH_ROLE_CLIENT);
	assert_int_equal(sh_smtp_role_swap(SH_ROLE_BOTH), SH_ROLE_BOTH);
	assert_false(smtp_role_valid(0));
	assert_true(smtp_role_valid(1) && smtp_role_valid(3));
	assert_false(smtp_role_valid(4));
}

static void
test_hist24_text(void **state)
{
	int64_t		c[HIST24_HOURS];

	(void) state;
	assert_null(hist24("{}", c));
	for (int i = 0; i < HIST24_HOURS; i++)
		assert_int_equal(c[i], 0);
	assert_null(hist24("{ 23:5 , 0:12 }", c));
	assert_int_equal(c[0], 12);
	assert_int_equal(c[23], 5);
	assert_int_equal(c[1], 0);
	assert_null(hist24("{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24}", c));
	assert_int_equal(c[0], 1);
	assert_int_equal(c[23], 24);
	assert_null(hist24("{0:-1,1:9223372036854775807}", c));
	assert_int_equal(c[0], -1);
	assert_int_equal(c[1], INT64_MAX);

	assert_string_equal(hist24("{24:1}", c), "An hour is between 0 and 23.");
	assert_string_equal(hist24("{-1:1}", c), "An hour is between 0 and 23.");
	assert_string_equal(hist24("{1:1,1:2}", c), "An hour is given twice.");
	assert_string_equal(hist24("{1:1,2}", c), "Either every item is hour:count or none is.");
	assert_string_equal(hist24("{1,2,3}", c), "Plain counts must be exactly 24, one per hour.");
	assert_string_equal(hist24("{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25}", c),
						"There are more than 24 counts.");
	assert_string_equal(hist24("{1:99999999999999999999}", c), "A count is out of range for bigint.");
	assert_string_equal(hist24("0:1", c), "A hist24 starts with \"{\".");
	assert_string_equal(hist24("{0:1}}", c), "Junk after the closing \"}\".");
	assert_string_equal(hist24("{0:x}", c), "A number was expected.");
	assert_string_equal(hist24("{0:1", c), "Items are separated by \",\" and the list ends with \"}\".");
	assert_string_equal(hist24("{", c), "A number was expected.");
	assert_string_equal(hist24("", c), "A hist24 starts with \"{\".");
}

static void
test_hist24_binary(void **state)
{
	unsigned char b[HIST24_BINARY_SIZE + 1];
	int64_t		c[HIST24_HOURS];
	unsigned char *heap;

	(void) state;
	memset(b, 0, sizeof(b));
	b[7] = 1;					/* hour 0: 1 */
	memset(b + 8 * 23, 0xff, 8);
	b[8 * 23 + 7] = 0xfe;		/* hour 23: -2 */
	heap = malloc(HIST24_BINARY_SIZE);
	memcpy(heap, b, HIST24_BINARY_SIZE);
	assert_true(hist24_parse_binary(heap, HIST24_BINARY_SIZE, c));
	assert_int_equal(c[0], 1);
	assert_int_equal(c[23], -2);
	assert_false(hist24_parse_binary(heap, 8, c));
	assert_false(hist24_parse_binary(heap, 0, c));
	free(heap);
	heap = malloc(HIST24_BINARY_SIZE + 1);
	memcpy(heap, b, HIST24_BINARY_SIZE + 1);
	assert_false(hist24_parse_binary(heap, HIST24_BINARY_SIZE + 1, c));
	free(heap);
}

/* every prefix of valid texts: no read past the end, never a crash */
static void
test_hist24_prefixes(void **state)
{
	const char *const texts[] = {
		"{ 23:5 , 0:12 }", "{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24}",
		"{0:-1,1:9223372036854775807}", NULL
	};
	int64_t		c[HIST24_HOURS];

	(void) state;
	for (int t = 0; texts[t]; t++)
	{
		size_t		n = strlen(texts[t]);

		for (size_t len = 0; len < n; len++)
		{
			char	   *s = malloc(len + 1);

			memcpy(s, texts[t], len);
			s[len] = '\0';
			assert_non_null(hist24_parse_text(s, c));
			free(s);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_role),
		cmocka_unit_test_teardown(test_hist24_text, teardown),
		cmocka_unit_test(test_hist24_binary),
		cmocka_unit_test(test_hist24_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
