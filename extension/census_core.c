/*
 * extension/census_core.c: the census without the server (see census_core.h).
 */
#include "census_core.h"

#include <ctype.h>
#include <stdlib.h>

/* the largest flat value the server can hold: MaxAllocSize */
#define CENSUS_MAX_FLAT_SIZE	((uint64_t) 0x3fffffff)

/* fixed until census_set_hash_key() is called: standalone tests and fuzzers */
uint64_t	census_hash_key[2] = {UINT64_C(0x243f6a8885a308d3), UINT64_C(0x13198a2e03707344)};

void
census_set_hash_key(uint64_t k0, uint64_t k1)
{
	census_hash_key[0] = k0;
	census_hash_key[1] = k1;
}

CensusTable *
census_table_create(void *cxt)
{
	CensusTable *t = census_alloc(cxt, sizeof(CensusTable));

	t->cxt = cxt;
	return t;
}

/* size for n addresses: half full */
static int
census_log2_size(uint64_t n)
{
	int			bits = 8;

	while (((uint64_t) 1 << bits) < n * 2)
		bits++;
	return bits;
}

void
census_grow_v4(CensusTable *t, uint64_t want)
{
	uint64_t   *old = t->v4;
	uint64_t	old_size = t->v4_size;
	int			bits;
	uint64_t	i;

	if (want > CENSUS_MAX_ADDRESSES)
		census_too_many();
	bits = census_log2_size(want);
	t->v4_size = (uint64_t) 1 << bits;
	t->v4_shift = 64 - bits;
	t->v4 = census_alloc(t->cxt, (size_t) t->v4_size * sizeof(uint64_t));
	t->v4_count = 0;
	for (i = 0; i < old_size; i++)
		if (old[i] != 0)
			census_add_v4(t, (uint32_t) (old[i] >> 2), (uint8_t) (old[i] & 3));
	if (old)
		census_free(old);
}

void
census_grow_v6(CensusTable *t, uint64_t want)
{
	CensusV6Slot *old = t->v6;
	uint64_t	old_size = t->v6_size;
	int			bits;
	uint64_t	i;

	if (want > CENSUS_MAX_ADDRESSES)
		census_too_many();
	bits = census_log2_size(want);
	t->v6_size = (uint64_t) 1 << bits;
	t->v6_shift = 64 - bits;
	t->v6 = census_alloc(t->cxt, (size_t) t->v6_size * sizeof(CensusV6Slot));
	t->v6_count = 0;
	for (i = 0; i < old_size; i++)
		if (old[i].role != 0)
			census_add_v6(t, old[i].hi, old[i].lo, old[i].role);
	if (old)
		census_free(old);
}

/* copy of a table in another context, same size */
CensusTable *
census_table_copy(const CensusTable *src, void *cxt)
{
	CensusTable *t = census_table_create(cxt);

	*t = *src;
	t->cxt = cxt;
	if (src->v4_size > 0)
	{
		t->v4 = census_alloc(cxt, (size_t) src->v4_size * sizeof(uint64_t));
		memcpy(t->v4, src->v4, (size_t) src->v4_size * sizeof(uint64_t));
	}
	if (src->v6_size > 0)
	{
		t->v6 = census_alloc(cxt, (size_t) src->v6_size * sizeof(CensusV6Slot));
		memcpy(t->v6, src->v6, (size_t) src->v6_size * sizeof(CensusV6Slot));
	}
	return t;
}

void
census_add_list(CensusTable *t, int family, const unsigned char *p, uint32_t n, uint8_t role)
{
	uint32_t	i;

	if (family == CENSUS_V4)
	{
		if (CENSUS_FULL(t->v4_count + n, t->v4_size))
			census_grow_v4(t, t->v4_count + n);
		for (i = 0; i < n; i++, p += 4)
			census_add_v4(t, census_read_be32(p), role);
	}
	else
	{
		if (CENSUS_FULL(t->v6_count + n, t->v6_size))
			census_grow_v6(t, t->v6_count + n);
		for (i = 0; i < n; i++, p += 16)
			census_add_v6(t, census_read_be64(p), census_read_be64(p + 8), role);
	}
}

void
census_table_merge(CensusTable *a, const CensusTable *b)
{
	uint64_t	i;

	if (CENSUS_FULL(a->v4_count + b->v4_count, a->v4_size))
		census_grow_v4(a, a->v4_count + b->v4_count);
	for (i = 0; i < b->v4_size; i++)
		if (b->v4[i] != 0)
			census_add_v4(a, (uint32_t) (b->v4[i] >> 2), (uint8_t) (b->v4[i] & 3));
	if (b->v6_count > 0 && CENSUS_FULL(a->v6_count + b->v6_count, a->v6_size))
		census_grow_v6(a, a->v6_count + b->v6_count);
	for (i = 0; i < b->v6_size; i++)
		if (b->v6[i].role != 0)
			census_add_v6(a, b->v6[i].hi, b->v6[i].lo, b->v6[i].role);
}

void
census_table_counts(const CensusTable *t, uint64_t n[2][3])
{
	uint64_t	i;

	memset(n, 0, sizeof(uint64_t) * 6);
	for (i = 0; i < t->v4_size; i++)
		if (t->v4[i] != 0)
			n[CENSUS_V4][(t->v4[i] & 3) - 1]++;
	for (i = 0; i < t->v6_size; i++)
		if (t->v6[i].role != 0)
			n[CENSUS_V6][t->v6[i].role - 1]++;
}

CensusLayoutStatus
census_layout_parse(const unsigned char *data, size_t len, CensusLists *lists, uint64_t *detail)
{
	uint64_t	need = CENSUS_HEADER_SIZE;
	const unsigned char *p;
	int			f,
				r;

	*detail = 0;
	if (len < CENSUS_HEADER_SIZE)
		return CENSUS_LAYOUT_CUT_SHORT;
	if (data[0] != CENSUS_VERSION)
	{
		*detail = data[0];
		return CENSUS_LAYOUT_BAD_VERSION;
	}
	for (f = 0; f < 2; f++)
		for (r = 0; r < 3; r++)
		{
			uint32_t	n = census_read_be32(data + 1 + 4 * (3 * f + r));

			if (n > CENSUS_MAX_ADDRESSES)
			{
				*detail = n;
				return CENSUS_LAYOUT_BAD_COUNT;
			}
			lists->n[f][r] = n;
			need += (uint64_t) n * census_family_width(f);
		}
	if (need != len)
	{
		*detail = need;
		return CENSUS_LAYOUT_BAD_LENGTH;
	}
	p = data + CENSUS_HEADER_SIZE;
	for (f = 0; f < 2; f++)
		for (r = 0; r < 3; r++)
		{
			lists->list[f][r] = p;
			p += (size_t) lists->n[f][r] * census_family_width(f);
		}
	return CENSUS_LAYOUT_OK;
}

uint64_t
census_layout_size(const uint64_t n[2][3])
{
	uint64_t	size = CENSUS_HEADER_SIZE;
	int			f,
				r;

	for (f = 0; f < 2; f++)
		for (r = 0; r < 3; r++)
			size += n[f][r] * census_family_width(f);
	return size;
}

void
census_write_header(unsigned char *p, const uint64_t n[2][3])
{
	int			f,
				r;

	p[0] = CENSUS_VERSION;
	for (f = 0; f < 2; f++)
		for (r = 0; r < 3; r++)
			census_write_be32(p + 1 + 4 * (3 * f + r), (uint32_t) n[f][r]);
}

CensusTable *
census_table_from_lists(const CensusLists *lists, void *cxt)
{
	CensusTable *t = census_table_create(cxt);
	int			f,
				r;

	for (f = 0; f < 2; f++)
		for (r = 0; r < 3; r++)
			census_add_list(t, f, lists->list[f][r], lists->n[f][r], (uint8_t) (r + 1));
	return t;
}

typedef struct V6Key
{
	uint64_t	hi;
	uint64_t	lo;
} V6Key;

static int
cmp_uint32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *) a;
	uint32_t	y = *(const uint32_t *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

static int
cmp_v6key(const void *a, const void *b)
{
	const V6Key *x = a;
	const V6Key *y = b;

	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return 0;
}

void
census_write_canonical(const CensusTable *t, const uint64_t n[2][3], unsigned char *out)
{
	uint64_t	at[2][3];
	uint32_t   *v4[3];
	V6Key	   *v6[3];
	unsigned char *p = out;
	uint64_t	i;
	int			r;

	for (r = 0; r < 3; r++)
	{
		v4[r] = census_alloc(t->cxt, (size_t) (n[CENSUS_V4][r] ? n[CENSUS_V4][r] : 1) * sizeof(uint32_t));
		v6[r] = census_alloc(t->cxt, (size_t) (n[CENSUS_V6][r] ? n[CENSUS_V6][r] : 1) * sizeof(V6Key));
		at[CENSUS_V4][r] = at[CENSUS_V6][r] = 0;
	}
	for (i = 0; i < t->v4_size; i++)
	{
		uint64_t	slot = t->v4[i];

		if (slot != 0)
		{
			r = (int) (slot & 3) - 1;
			v4[r][at[CENSUS_V4][r]++] = (uint32_t) (slot >> 2);
		}
	}
	for (i = 0; i < t->v6_size; i++)
	{
		if (t->v6[i].role != 0)
		{
			r = t->v6[i].role - 1;
			v6[r][at[CENSUS_V6][r]].hi = t->v6[i].hi;
			v6[r][at[CENSUS_V6][r]].lo = t->v6[i].lo;
			at[CENSUS_V6][r]++;
		}
	}

	census_write_header(p, n);
	p += CENSUS_HEADER_SIZE;
	for (r = 0; r < 3; r++)
	{
		qsort(v4[r], (size_t) n[CENSUS_V4][r], sizeof(uint32_t), cmp_uint32);
		for (i = 0; i < n[CENSUS_V4][r]; i++, p += 4)
			census_write_be32(p, v4[r][i]);
		census_free(v4[r]);
	}
	for (r = 0; r < 3; r++)
	{
		qsort(v6[r], (size_t) n[CENSUS_V6][r], sizeof(V6Key), cmp_v6key);
		for (i = 0; i < n[CENSUS_V6][r]; i++, p += 16)
		{
			census_write_be64(p, v6[r][i].hi);
			census_write_be64(p + 8, v6[r][i].lo);
		}
		census_free(v6[r]);
	}
}

void
census_write_unsorted(const CensusTable *t, const uint64_t n[2][3], unsigned char *out)
{
	unsigned char *p = out + CENSUS_HEADER_SIZE;
	uint64_t	i;
	int			r;

	census_write_header(out, n);
	for (r = 1; r <= 3; r++)
		for (i = 0; i < t->v4_size; i++)
			if (t->v4[i] != 0 && (int) (t->v4[i] & 3) == r)
			{
				census_write_be32(p, (uint32_t) (t->v4[i] >> 2));
				p += 4;
			}
	for (r = 1; r <= 3; r++)
		for (i = 0; i < t->v6_size; i++)
			if (t->v6[i].role == r)
			{
				census_write_be64(p, t->v6[i].hi);
				census_write_be64(p + 8, t->v6[i].lo);
				p += 16;
			}
}

void
census_cursor_init(CensusCursor *c, const CensusLists *lists, int family)
{
	int			r;

	for (r = 0; r < 3; r++)
	{
		c->p[r] = lists->list[family][r];
		c->left[r] = lists->n[family][r];
	}
	c->width = census_family_width(family);
}

bool
census_cursor_next(CensusCursor *c, const unsigned char **addr, uint8_t *role)
{
	int			best = -1;
	int			r;

	for (r = 0; r < 3; r++)
		if (c->left[r] > 0 &&
			(best < 0 || memcmp(c->p[r], c->p[best], c->width) < 0))
			best = r;
	if (best < 0)
		return false;
	*addr = c->p[best];
	*role = 0;
	for (r = 0; r < 3; r++)
		if (c->left[r] > 0 && (r == best || memcmp(c->p[r], *addr, c->width) == 0))
		{
			*role |= (uint8_t) (r + 1);
			if (r != best)
			{
				c->p[r] += c->width;
				c->left[r]--;
			}
		}
	c->p[best] += c->width;
	c->left[best]--;
	return true;
}

unsigned char *
census_merge_lists(const CensusLists *a, const CensusLists *b, void *cxt,
				   size_t out_offset, uint64_t n[2][3])
{
	unsigned char *out[2][3];
	unsigned char *result;
	unsigned char *p;
	uint64_t	size;
	int			f,
				r;

	for (f = 0; f < 2; f++)
	{
		CensusCursor ca,
					cb;
		const unsigned char *xa = NULL,
				   *xb = NULL;
		uint8_t		ra = 0,
					rb = 0;
		bool		has_a,
					has_b;
		int			w = census_family_width(f);
		uint64_t	most = 0;

		for (r = 0; r < 3; r++)
			most += (uint64_t) a->n[f][r] + b->n[f][r];
		for (r = 0; r < 3; r++)
		{
			out[f][r] = census_alloc(cxt, (size_t) (most ? most : 1) * w);
			n[f][r] = 0;
		}
		census_cursor_init(&ca, a, f);
		census_cursor_init(&cb, b, f);
		has_a = census_cursor_next(&ca, &xa, &ra);
		has_b = census_cursor_next(&cb, &xb, &rb);
		while (has_a || has_b)
		{
			int			cmp;
			const unsigned char *x;
			uint8_t		role;

			if (!has_b)
				cmp = -1;
			else if (!has_a)
				cmp = 1;
			else
				cmp = memcmp(xa, xb, w);
			x = cmp <= 0 ? xa : xb;
			role = (uint8_t) ((cmp <= 0 ? ra : 0) | (cmp >= 0 ? rb : 0));
			memcpy(out[f][role - 1] + n[f][role - 1] * w, x, w);
			n[f][role - 1]++;
			if (cmp <= 0)
				has_a = census_cursor_next(&ca, &xa, &ra);
			if (cmp >= 0)
				has_b = census_cursor_next(&cb, &xb, &rb);
		}
	}

	size = census_layout_size(n);
	if (out_offset + size > CENSUS_MAX_FLAT_SIZE)
		census_too_many();
	result = census_alloc(cxt, out_offset + (size_t) size);
	p = result + out_offset;
	census_write_header(p, n);
	p += CENSUS_HEADER_SIZE;
	for (f = 0; f < 2; f++)
		for (r = 0; r < 3; r++)
		{
			size_t		bytes = (size_t) n[f][r] * census_family_width(f);

			memcpy(p, out[f][r], bytes);
			p += bytes;
			census_free(out[f][r]);
		}
	return result;
}

const char *
census_text_parse(char *str, census_entry_fn fn, void *arg)
{
	char	   *p = str;

	while (isspace((unsigned char) *p))
		p++;
	if (*p != '{')
		return "A census starts with \"{\".";
	p++;
	while (isspace((unsigned char) *p))
		p++;
	if (*p == '}')
		p++;
	else
	{
		for (;;)
		{
			char	   *addr;
			char	   *eq;
			char	   *role;
			char	   *end;
			char		save;
			int			r;

			while (isspace((unsigned char) *p))
				p++;
			addr = p;
			while (*p && *p != '=' && *p != ',' && *p != '}')
				p++;
			if (*p != '=')
				return "Each address is followed by \"=\" and its role.";
			eq = p;
			while (eq > addr && isspace((unsigned char) eq[-1]))
				eq--;
			*eq = '\0';
			p++;
			while (isspace((unsigned char) *p))
				p++;
			role = p;
			while (isalpha((unsigned char) *p))
				p++;
			end = p;
			while (isspace((unsigned char) *p))
				p++;
			save = *p;
			*end = '\0';
			r = sh_smtp_role_from_name(role);
			if (r == SH_ROLE_NONE)
				return "A role is client, server or both.";
			fn(addr, (uint8_t) r, arg);
			if (save == ',')
			{
				p++;
				continue;
			}
			if (save == '}')
			{
				p++;
				break;
			}
			return "Entries are separated by \",\" and the census ends with \"}\".";
		}
	}
	while (isspace((unsigned char) *p))
		p++;
	if (*p != '\0')
		return "Junk after the closing \"}\".";
	return NULL;
}
