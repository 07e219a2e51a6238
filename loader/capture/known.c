/*
 * loader/capture/known.c: datagrams known already (known.h).
 *
 * Datagrams mostly come in sequence order: a new number one past the last
 * range extends it in place; otherwise a binary search finds where it goes.
 */
#include "known.h"

#include <stdlib.h>
#include <string.h>

/* The index of the first range with hi >= seq (n when none). */
static size_t
first_not_below(const sh_seqset *s, int64_t seq)
{
	size_t		lo = 0,
				hi = s->n;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (s->v[mid].hi < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
sh_seqset_has(const sh_seqset *s, int64_t seq)
{
	size_t		i;

	if (s->n == 0)
		return 0;
	if (seq > s->v[s->n - 1].hi)
		return 0;
	i = first_not_below(s, seq);
	return i < s->n && s->v[i].lo <= seq;
}

int
sh_seqset_add_range(sh_seqset *s, int64_t lo, int64_t hi)
{
	size_t		i,
				j;

	if (lo > hi)
		return 0;
	/* the usual case: at or past the end of the last range */
	if (s->n > 0 && lo >= s->v[s->n - 1].lo && lo <= s->v[s->n - 1].hi + 1)
	{
		if (hi > s->v[s->n - 1].hi)
			s->v[s->n - 1].hi = hi;
		return 0;
	}
	/* the ranges that touch lo..hi (overlap or adjacent) are i..j-1 */
	i = first_not_below(s, lo > INT64_MIN ? lo - 1 : lo);
	j = i;
	while (j < s->n && s->v[j].lo <= (hi < INT64_MAX ? hi + 1 : hi))
		j++;
	if (j > i)
	{
		/* merge them into v[i] */
		if (s->v[i].lo < lo)
			lo = s->v[i].lo;
		if (s->v[j - 1].hi > hi)
			hi = s->v[j - 1].hi;
		s->v[i].lo = lo;
		s->v[i].hi = hi;
		memmove(s->v + i + 1, s->v + j, (s->n - j) * sizeof(*s->v));
		s->n -= j - i - 1;
		return 0;
	}
	if (s->n == s->cap)
	{
		size_t		cap = s->cap ? s->cap * 2 : 4;
		sh_seq_range *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof(*s->v));
	s->v[i].lo = lo;
	s->v[i].hi = hi;
	s->n++;
	return 0;
}

void
sh_seqset_free(sh_seqset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* The boot that boot_lo..boot_hi is within the slack of, or a new one (NULL: out of memory). */
static sh_boot *
boot_of(sh_known *k, int64_t boot_lo, int64_t boot_hi)
{
	sh_boot    *b;

	for (size_t i = 0; i < k->n; i++)
	{
		b = &k->boots[i];
		if (boot_hi >= b->lo_ms - SH_BOOT_SLACK_MS && boot_lo <= b->hi_ms + SH_BOOT_SLACK_MS)
		{
			if (boot_lo < b->lo_ms)
				b->lo_ms = boot_lo;
			if (boot_hi > b->hi_ms)
				b->hi_ms = boot_hi;
			return b;
		}
	}
	if (k->n == k->cap)
	{
		size_t		cap = k->cap ? k->cap * 2 : 2;
		sh_boot    *v = realloc(k->boots, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		k->boots = v;
		k->cap = cap;
	}
	b = &k->boots[k->n++];
	memset(b, 0, sizeof(*b));
	b->lo_ms = boot_lo;
	b->hi_ms = boot_hi;
	return b;
}

int
sh_known_add(sh_known *k, int64_t boot_lo_ms, int64_t boot_hi_ms, int64_t seq_lo, int64_t seq_hi)
{
	sh_boot    *b;

	if (boot_lo_ms > boot_hi_ms)
	{
		int64_t		t = boot_lo_ms;

		boot_lo_ms = boot_hi_ms;
		boot_hi_ms = t;
	}
	if ((b = boot_of(k, boot_lo_ms, boot_hi_ms)) == NULL)
		return -1;
	return sh_seqset_add_range(&b->known, seq_lo, seq_hi);
}

int
sh_known_take(sh_known *k, int64_t boot_ms, int64_t seq)
{
	sh_boot    *b = boot_of(k, boot_ms, boot_ms);
	int			first;

	if (b == NULL)
		return -1;
	if (sh_seqset_has(&b->known, seq) || sh_seqset_has(&b->taken, seq))
		return 1;
	first = b->taken.n == 0;
	if (sh_seqset_add_range(&b->taken, seq, seq) != 0)
		return -1;
	if (first)
		b->own_lo_ms = b->own_hi_ms = boot_ms;
	else
	{
		if (boot_ms < b->own_lo_ms)
			b->own_lo_ms = boot_ms;
		if (boot_ms > b->own_hi_ms)
			b->own_hi_ms = boot_ms;
	}
	return 0;
}

void
sh_known_free(sh_known *k)
{
	for (size_t i = 0; i < k->n; i++)
	{
		sh_seqset_free(&k->boots[i].known);
		sh_seqset_free(&k->boots[i].taken);
	}
	free(k->boots);
	memset(k, 0, sizeof(*k));
}
