/*
 * extension/types_core.c: text and binary input of smtp_role and hist24,
 * without the server (see types_core.h).
 */
#include "types_core.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

/* a decimal int64 at *p; advances *p. NULL, or why it is not one. */
static const char *
parse_int64(const char **p, int64_t *v)
{
	char	   *end;
	long long	x;

	errno = 0;
	x = strtoll(*p, &end, 10);
	if (end == *p)
		return "A number was expected.";
	if (errno == ERANGE)
		return "A count is out of range for bigint.";
	*p = end;
	*v = (int64_t) x;
	return NULL;
}

static void
skip_space(const char **p)
{
	while (isspace((unsigned char) **p))
		(*p)++;
}

const char *
hist24_parse_text(const char *str, int64_t counts[HIST24_HOURS])
{
	const char *p = str;
	const char *why;
	bool		seen[HIST24_HOURS] = {false};
	int			labelled = -1;	/* unknown until the first item */
	int			items = 0;

	for (int i = 0; i < HIST24_HOURS; i++)
		counts[i] = 0;
	skip_space(&p);
	if (*p != '{')
		return "A hist24 starts with \"{\".";
	p++;
	skip_space(&p);
	if (*p == '}')
		p++;
	else
	{
		for (;;)
		{
			int64_t		first;
			int			is_labelled;

			if ((why = parse_int64(&p, &first)) != NULL)
				return why;
			skip_space(&p);
			is_labelled = (*p == ':');
			if (labelled >= 0 && labelled != is_labelled)
				return "Either every item is hour:count or none is.";
			labelled = is_labelled;
			if (labelled)
			{
				p++;
				skip_space(&p);
				if (first < 0 || first >= HIST24_HOURS)
					return "An hour is between 0 and 23.";
				if (seen[first])
					return "An hour is given twice.";
				seen[first] = true;
				if ((why = parse_int64(&p, &counts[first])) != NULL)
					return why;
			}
			else
			{
				if (items >= HIST24_HOURS)
					return "There are more than 24 counts.";
				counts[items] = first;
			}
			items++;
			skip_space(&p);
			if (*p == ',')
			{
				p++;
				skip_space(&p);
				continue;
			}
			if (*p == '}')
			{
				p++;
				break;
			}
			return "Items are separated by \",\" and the list ends with \"}\".";
		}
		if (!labelled && items != HIST24_HOURS)
			return "Plain counts must be exactly 24, one per hour.";
	}
	skip_space(&p);
	if (*p != '\0')
		return "Junk after the closing \"}\".";
	return NULL;
}

bool
hist24_parse_binary(const unsigned char *data, size_t len, int64_t counts[HIST24_HOURS])
{
	if (len != HIST24_BINARY_SIZE)
		return false;
	for (int i = 0; i < HIST24_HOURS; i++)
	{
		uint64_t	v = 0;

		for (int k = 0; k < 8; k++)
			v = (v << 8) | data[8 * i + k];
		counts[i] = (int64_t) v;
	}
	return true;
}
