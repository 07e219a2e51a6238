/*
 * loader/capture/known.c: datagrams known already (known.h).
 *
 * Datagrams mostly come in sequence order: a new number one past the last
 * range extends it in place, and the datagram continues the run of the one
 * before; otherwise binary searches find the range, and the few runs of the
 * sub-agent are looked through.
 */
#include "known.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

_Static_assert(SH_RUNS_MAX <= 64, "sh_known.tied holds a bit per run");

uint64_t
sh_datagram_digest(const void *bytes, size_t len)
{
	uint64_t	d = XXH3_64bits(bytes, len);

	return d ? d : 1;
}

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

const sh_seq_range *
sh_seqset_find(const sh_seqset *s, int64_t seq)
{
	size_t		i;

	if (s->n == 0 || seq > s->v[s->n - 1].hi)
		return NULL;
	i = first_not_below(s, seq);
	return i < s->n && s->v[i].lo <= seq ? &s->v[i] : NULL;
}

int
sh_seqset_has(const sh_seqset *s, int64_t seq)
{
	return sh_seqset_find(s, seq) != NULL;
}

/* Room for one more range at index i (the ranges from i on move up). 0, or -1. */
static int
make_room(sh_seqset *s, size_t i)
{
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
	s->n++;
	return 0;
}

int
sh_seqset_add_range(sh_seqset *s, int64_t lo, int64_t hi)
{
	size_t		i,
				j;

	if (lo > hi)
		return 0;
	/* the ranges that touch lo..hi (overlap or adjacent) are i..j-1 */
	i = first_not_below(s, lo > INT64_MIN ? lo - 1 : lo);
	j = i;
	while (j < s->n && s->v[j].lo <= (hi < INT64_MAX ? hi + 1 : hi))
		j++;
	if (j > i)
	{
		/* merge them into v[i]; an end that moves has no known uptime */
		sh_seq_range m = s->v[i];

		if (lo < m.lo)
		{
			m.lo = lo;
			m.up_lo = SH_UP_NONE;
			m.d_lo = 0;
		}
		m.hi = s->v[j - 1].hi;
		m.up_hi = s->v[j - 1].up_hi;
		m.d_hi = s->v[j - 1].d_hi;
		if (hi > m.hi)
		{
			m.hi = hi;
			m.up_hi = SH_UP_NONE;
			m.d_hi = 0;
		}
		s->v[i] = m;
		memmove(s->v + i + 1, s->v + j, (s->n - j) * sizeof(*s->v));
		s->n -= j - i - 1;
		return 0;
	}
	if (make_room(s, i) != 0)
		return -1;
	s->v[i] = (sh_seq_range)
	{
		lo, hi, SH_UP_NONE, SH_UP_NONE, 0, 0
	};
	return 0;
}

int
sh_seqset_add(sh_seqset *s, int64_t seq, int64_t up, uint64_t digest)
{
	size_t		i;
	sh_seq_range *r;

	/* the usual case: one past the last range */
	if (s->n > 0 && s->v[s->n - 1].hi == seq - 1)
	{
		s->v[s->n - 1].hi = seq;
		s->v[s->n - 1].up_hi = up;
		s->v[s->n - 1].d_hi = digest;
		return 0;
	}
	i = first_not_below(s, seq - 1);
	r = i < s->n ? &s->v[i] : NULL;
	if (r != NULL && r->lo <= seq && seq <= r->hi)
		return 0;				/* there already */
	if (r != NULL && r->hi == seq - 1)
	{
		r->hi = seq;
		r->up_hi = up;
		r->d_hi = digest;
		if (i + 1 < s->n && s->v[i + 1].lo == seq + 1)
		{
			/* it fills the gap to the next range */
			r->hi = s->v[i + 1].hi;
			r->up_hi = s->v[i + 1].up_hi;
			r->d_hi = s->v[i + 1].d_hi;
			memmove(s->v + i + 1, s->v + i + 2, (s->n - i - 2) * sizeof(*s->v));
			s->n--;
		}
		return 0;
	}
	if (r != NULL && r->lo == seq + 1)
	{
		r->lo = seq;
		r->up_lo = up;
		r->d_lo = digest;
		return 0;
	}
	if (make_room(s, i) != 0)
		return -1;
	s->v[i] = (sh_seq_range)
	{
		seq, seq, up, up, digest, digest
	};
	return 0;
}

void
sh_seqset_free(sh_seqset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/*
 * Does uptime up fit the range's datagrams: from the uptime of its first
 * datagram to that of its last, within the slack, counted modulo 2^32 (an
 * uptime wraps past 2^32 - 1 ms, 49.7 days, and goes on)? Unknown uptimes fit
 * anything.
 */
static int
fits(const sh_seq_range *r, int64_t up)
{
	int64_t		d;
	uint32_t	from;

	if (r->up_lo < 0 || r->up_hi < 0)
		return 1;
	d = (int32_t) (uint32_t) (r->up_hi - r->up_lo);
	if (d < -SH_BOOT_SLACK_MS)
		d += INT64_C(1) << 32;	/* it wrapped */
	if (d + 2 * SH_BOOT_SLACK_MS >= INT64_C(1) << 32)
		return 1;
	from = (uint32_t) (r->up_lo - SH_BOOT_SLACK_MS);
	return (uint32_t) ((uint32_t) up - from) <= (uint32_t) (d + 2 * SH_BOOT_SLACK_MS);
}

/* Is the datagram exactly the range's first or last: sequence number, uptime and digest (when known)? */
static int
is_end(const sh_seq_range *r, int64_t seq, int64_t up, uint64_t digest)
{
	return (seq == r->lo && up == r->up_lo && (r->d_lo == 0 || r->d_lo == digest)) ||
		(seq == r->hi && up == r->up_hi && (r->d_hi == 0 || r->d_hi == digest));
}

static int
boots_near(int64_t alo, int64_t ahi, int64_t blo, int64_t bhi)
{
	return ahi >= blo - SH_BOOT_SLACK_MS && alo <= bhi + SH_BOOT_SLACK_MS;
}

int
sh_known_add(sh_known *k, int64_t boot_lo_ms, int64_t boot_hi_ms, int64_t seq_lo, int64_t seq_hi,
			 int64_t up_lo, int64_t up_hi, uint64_t d_lo, uint64_t d_hi)
{
	sh_past    *p;

	if (boot_lo_ms > boot_hi_ms)
	{
		int64_t		t = boot_lo_ms;

		boot_lo_ms = boot_hi_ms;
		boot_hi_ms = t;
	}
	if (seq_lo > seq_hi)
		return 0;
	if (k->npast == k->cappast)
	{
		size_t		cap = k->cappast ? k->cappast * 2 : 4;
		sh_past    *v = realloc(k->past, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		k->past = v;
		k->cappast = cap;
	}
	/* a boot of its own unless it is the previous range's */
	if (k->nboots == 0 || k->last_boot_lo != boot_lo_ms || k->last_boot_hi != boot_hi_ms)
	{
		k->nboots++;
		k->last_boot_lo = boot_lo_ms;
		k->last_boot_hi = boot_hi_ms;
	}
	p = &k->past[k->npast++];
	p->r = (sh_seq_range)
	{
		seq_lo, seq_hi, up_lo, up_hi, d_lo, d_hi
	};
	p->boot_lo = boot_lo_ms;
	p->boot_hi = boot_hi_ms;
	p->boot_no = (uint32_t) (k->nboots - 1);
	k->ready = 0;
	return 0;
}

static int
by_lo(const void *a, const void *b)
{
	const sh_past *x = a,
			   *y = b;

	return x->r.lo < y->r.lo ? -1 : x->r.lo > y->r.lo;
}

/* Sort the history, and the running highest ends its search needs; ties kept. 0, or -1. */
static int
make_ready(sh_known *k)
{
	int64_t    *mx;

	if (k->npast > 0)
	{
		qsort(k->past, k->npast, sizeof(*k->past), by_lo);
		if ((mx = realloc(k->past_max_hi, k->npast * sizeof(*mx))) == NULL)
			return -1;
		k->past_max_hi = mx;
		for (size_t i = 0; i < k->npast; i++)
			mx[i] = i == 0 || k->past[i].r.hi > mx[i - 1] ? k->past[i].r.hi : mx[i - 1];
	}
	if (k->nboots > k->ntied)
	{
		uint64_t   *tied = realloc(k->tied, k->nboots * sizeof(*tied));

		if (tied == NULL)
			return -1;
		memset(tied + k->ntied, 0, (k->nboots - k->ntied) * sizeof(*tied));
		k->tied = tied;
		k->ntied = k->nboots;
	}
	k->ready = 1;
	return 0;
}

static int
bucket_of(uint32_t up)
{
	return (int) (up / SH_UPTIME_BUCKET_MS);
}

static int
was_asked(const sh_known *k, int b)
{
	return k->asked_all || (k->asked[b / 64] >> (b % 64) & 1);
}

int
sh_known_lacks(const sh_known *k, uint32_t up)
{
	int			b[3] = {bucket_of(up), bucket_of(up - SH_BOOT_SLACK_MS), bucket_of(up + SH_BOOT_SLACK_MS)};

	for (int i = 0; i < 3; i++)
		if (!was_asked(k, b[i]))
			return b[i];
	return -1;
}

int
sh_known_had(const sh_known *k, int64_t span_lo, int64_t span_hi)
{
	int			lo,
				hi;

	if (k->asked_all)
		return 1;
	if (span_lo < 0 || span_hi < 0 || span_lo > span_hi)
	{
		lo = 0;
		hi = SH_UPTIME_BUCKETS - 1;
	}
	else
	{
		lo = bucket_of((uint32_t) (span_lo > UINT32_MAX ? UINT32_MAX : span_lo));
		hi = bucket_of((uint32_t) (span_hi > UINT32_MAX ? UINT32_MAX : span_hi));
	}
	for (int b = lo; b <= hi; b++)
		if (k->asked[b / 64] >> (b % 64) & 1)
			return 1;
	return 0;
}

void
sh_known_asked(sh_known *k, int lo, int hi)
{
	if (lo < 0)
		k->asked_all = 1;
	for (int b = lo < 0 ? 0 : lo; lo >= 0 && b <= hi && b < SH_UPTIME_BUCKETS; b++)
		k->asked[b / 64] |= UINT64_C(1) << (b % 64);
}

/*
 * Is the datagram known from the history, for run ri? A range with its
 * sequence number and a fitting uptime, of the run's boot or of a boot tied
 * to the run; a range's first or last datagram exactly (its digest too)
 * ties its boot.
 */
static int
known_before(sh_known *k, size_t ri, int64_t seq, int64_t up, uint64_t digest)
{
	const sh_run *run = &k->runs[ri];
	size_t		lo = 0,
				hi = k->npast;

	/* the last range with r.lo <= seq is lo - 1 */
	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (k->past[mid].r.lo <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0 && k->past_max_hi[i] >= seq;)
	{
		const sh_past *p = &k->past[i];

		if (p->r.hi < seq || !fits(&p->r, up))
			continue;
		if ((k->tied[p->boot_no] >> ri & 1) || boots_near(p->boot_lo, p->boot_hi, run->boot_lo, run->boot_hi))
			return 1;
		if (is_end(&p->r, seq, up, digest))
		{
			k->tied[p->boot_no] |= UINT64_C(1) << ri;
			return 1;
		}
	}
	return 0;
}

/*
 * Did another run of this load take the datagram? Its sequence number with a
 * fitting uptime, in a run of the same boot or tied to this one: exactly a
 * range end ties them (the same datagrams twice in a file, received at other
 * times).
 */
static int
known_here(sh_known *k, size_t ri, int64_t seq, int64_t up, uint64_t digest)
{
	sh_run	   *run = &k->runs[ri];

	for (size_t j = 0; j < k->nruns; j++)
	{
		sh_run	   *other = &k->runs[j];
		const sh_seq_range *g;

		if (j == ri || (g = sh_seqset_find(&other->taken, seq)) == NULL || !fits(g, up))
			continue;
		if ((run->tied >> j & 1) || boots_near(other->boot_lo, other->boot_hi, run->boot_lo, run->boot_hi))
			return 1;
		if (is_end(g, seq, up, digest))
		{
			run->tied |= UINT64_C(1) << j;
			other->tied |= UINT64_C(1) << ri;
			return 1;
		}
	}
	return 0;
}

/* Does the datagram go on from the run's last one (modulo 2^32, out of order a little, at most a day on)? */
static int
continues(const sh_run *r, uint32_t seq, uint32_t up)
{
	int32_t		ds = (int32_t) (seq - r->last_seq),
				du = (int32_t) (up - r->last_up);

	return ds >= -SH_REORDER_SEQS && du >= -SH_BOOT_SLACK_MS && du <= SH_RUN_GAP_MS;
}

/* Has the run taken this sequence number with an uptime that does not fit (another run's datagram)? */
static int
conflicts(const sh_run *r, uint32_t seq, uint32_t up)
{
	const sh_seq_range *g = sh_seqset_find(&r->taken, seq);

	return g != NULL && !fits(g, up);
}

/*
 * Would the datagram, a sequence number the run has not taken, keep the
 * uptimes of the run's ranges in the order of their sequence numbers? The
 * range it extends or joins must end before it (lower numbers) with an
 * uptime not after its own, and begin after it with one not before: else
 * the merged range's end uptimes would not bound its datagrams' (a sender
 * whose lower numbers carry later uptimes), fits() would not find a
 * datagram of it again, and the same datagram would be taken twice. An
 * agent's sub-agent numbers its datagrams and stamps their uptimes
 * together, so this holds for its datagrams, however reordered in transit.
 */
static int
keeps_order(const sh_run *r, uint32_t seq, uint32_t up)
{
	const sh_seqset *s = &r->taken;
	size_t		i = first_not_below(s, (int64_t) seq - 1);

	if (i < s->n && s->v[i].hi == (int64_t) seq - 1)
	{
		if ((int32_t) (up - (uint32_t) s->v[i].up_hi) < 0)
			return 0;
		i++;
	}
	if (i < s->n && s->v[i].lo == (int64_t) seq + 1 && (int32_t) ((uint32_t) s->v[i].up_lo - up) < 0)
		return 0;
	return 1;
}

/* May the datagram join run r: it continues it, and neither conflicts with it nor breaks its order? */
static int
joins(const sh_run *r, uint32_t seq, uint32_t up)
{
	if (!continues(r, seq, up))
		return 0;
	if (sh_seqset_has(&r->taken, seq))
		return !conflicts(r, seq, up);
	return keeps_order(r, seq, up);
}

/*
 * The run of the datagram: the first that it joins, else a new one (its
 * index), SH_RUNS_MAX when a new one would be too many, or -1. Only datagrams
 * that continue a run and keep its order join it, so the uptimes in each
 * range of a run lie between those of its ends: what fits() relies on.
 */
static long
run_of(sh_known *k, int64_t boot, uint32_t seq, uint32_t up)
{
	sh_run	   *r;
	size_t		i;

	if (k->nruns > 0 && joins(&k->runs[k->cur], seq, up))
		i = k->cur;
	else
	{
		for (i = 0; i < k->nruns; i++)
			if (joins(&k->runs[i], seq, up))
				break;
	}
	if (i == k->nruns)
	{
		if (k->nruns == SH_RUNS_MAX)
			return SH_RUNS_MAX;
		if (k->nruns == k->capruns)
		{
			size_t		cap = k->capruns ? k->capruns * 2 : 1;
			sh_run	   *v = realloc(k->runs, cap * sizeof(*v));

			if (v == NULL)
				return -1;
			k->runs = v;
			k->capruns = cap;
		}
		r = &k->runs[k->nruns++];
		memset(r, 0, sizeof(*r));
		r->boot_lo = r->boot_hi = boot;
		r->last_seq = seq;
		r->last_up = up;
	}
	r = &k->runs[i];
	if ((int32_t) (seq - r->last_seq) > 0)
		r->last_seq = seq;
	if ((int32_t) (up - r->last_up) > 0)
		r->last_up = up;
	/*
	 * every estimate widens it (a replay that squeezes hours spreads them
	 * over hours: datagrams of it received again later are of the same boot)
	 */
	if (boot < r->boot_lo)
		r->boot_lo = boot;
	if (boot > r->boot_hi)
		r->boot_hi = boot;
	k->cur = i;
	return (long) i;
}

int
sh_known_take(sh_known *k, int64_t boot_ms, uint32_t seq, uint32_t uptime_ms, uint64_t digest)
{
	long		ri;

	if (!k->ready && make_ready(k) != 0)
		return -1;
	ri = run_of(k, boot_ms, seq, uptime_ms);
	if (ri < 0)
		return -1;
	if (ri == SH_RUNS_MAX)
		return 2;
	if (sh_seqset_has(&k->runs[ri].taken, seq) || known_here(k, (size_t) ri, seq, uptime_ms, digest) ||
		known_before(k, (size_t) ri, seq, uptime_ms, digest))
		return 1;
	return sh_seqset_add(&k->runs[ri].taken, seq, uptime_ms, digest) != 0 ? -1 : 0;
}

void
sh_known_free(sh_known *k)
{
	for (size_t i = 0; i < k->nruns; i++)
		sh_seqset_free(&k->runs[i].taken);
	free(k->runs);
	free(k->past);
	free(k->past_max_hi);
	free(k->tied);
	memset(k, 0, sizeof(*k));
}
