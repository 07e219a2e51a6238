/*
 * tests/fuzz/fuzz_known.c: libFuzzer target for the datagrams known
 * already (loader/capture/known.c): runs of an agent's datagrams split by
 * their sequence numbers and uptimes, which an outsider sends (a device
 * restarting, wrapping past 2^32, replaying, or sending random numbers), and
 * the history of earlier loads.
 *
 * An input is a list of operations on one sub-agent, as
 * capture_pipeline.c makes them: a datagram (its capture time, sequence
 * number, uptime and digest; the history's hours asked for first, as
 * sh_known_lacks() tells, answered with the ranges the input gave), a range
 * of the history (as spamhints.known_datagrams() answers: lo <= hi within
 * 32 bits, uptimes of 32 bits or unknown), the same datagram again, or one
 * close to the last.
 *
 * Checks, beyond ASan and UBSan: sh_known_take() answers 0, 1 or 2; at
 * most SH_RUNS_MAX runs; each run's sequence numbers sorted, disjoint and
 * not adjacent; a datagram taken is known when it comes again (each
 * datagram once); a datagram is never called known unless its sequence
 * number was taken or is in the history (nothing new silently dropped); a
 * datagram refused (2) comes when every run is used; the hours asked for
 * always end the asking (sh_known_lacks() returns -1 after them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "known.h"

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz_known: broken promise: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

#define MAX_SEEN 4096

typedef struct rd
{
	const uint8_t *p;
	size_t		n;
} rd;

static uint64_t
take(rd *r, int bytes)
{
	uint64_t	v = 0;

	for (int i = 0; i < bytes; i++)
	{
		v <<= 8;
		if (r->n > 0)
		{
			v |= *r->p++;
			r->n--;
		}
	}
	return v;
}

typedef struct hist
{
	int64_t		boot_lo,
				boot_hi,
				lo,
				hi,
				up_lo,
				up_hi;
	uint64_t	d_lo,
				d_hi;
} hist;

static void
check_runs(const sh_known *k)
{
	CHECK(k->nruns <= SH_RUNS_MAX);
	CHECK(k->nruns <= k->capruns);
	for (size_t i = 0; i < k->nruns; i++)
	{
		const sh_seqset *s = &k->runs[i].taken;

		CHECK(s->n <= s->cap);
		CHECK(k->runs[i].boot_lo <= k->runs[i].boot_hi);
		for (size_t j = 0; j < s->n; j++)
		{
			CHECK(s->v[j].lo <= s->v[j].hi);
			CHECK(s->v[j].lo >= 0 && s->v[j].hi <= UINT32_MAX);
			if (j > 0)
				CHECK(s->v[j - 1].hi + 1 < s->v[j].lo);
		}
	}
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static hist h[256];
	static uint32_t seen[MAX_SEEN];
	static uint8_t seen_any[1 << 13];	/* a bit per sequence number hash: a filter, checked exactly below */
	sh_known	k;
	rd			r = {data, size};
	size_t		nh = 0,
				nseen = 0;
	int64_t		t_ms = 1500000000000;	/* the capture time, ms */
	uint32_t	seq = 0,
				up = 0;
	uint64_t	digest = 1;
	int			lazy;

	memset(&k, 0, sizeof(k));
	memset(seen_any, 0, sizeof(seen_any));
	if (size < 1)
		return 0;
	lazy = (int) (take(&r, 1) & 1);		/* 1: the history by hours, as asked; 0: all of it first */
	while (r.n > 0)
	{
		uint8_t		op = (uint8_t) take(&r, 1);
		int			rc;

		switch (op % 8)
		{
			case 0:				/* a range of the history */
				if (nh < sizeof(h) / sizeof(h[0]))
				{
					hist	   *x = &h[nh];
					int64_t		b = (int64_t) (take(&r, 5)) - (INT64_C(1) << 38);

					x->boot_lo = 1500000000000 + b;
					x->boot_hi = x->boot_lo + (int64_t) take(&r, 2);
					x->lo = (int64_t) take(&r, 4);
					x->hi = x->lo + (int64_t) take(&r, 2);
					if (x->hi > UINT32_MAX)
						x->hi = UINT32_MAX;
					x->up_lo = op & 8 ? SH_UP_NONE : (int64_t) take(&r, 4);
					x->up_hi = op & 8 ? SH_UP_NONE : (int64_t) (uint32_t) (x->up_lo + (int64_t) take(&r, 3));
					x->d_lo = op & 16 ? take(&r, 1) : 0;
					x->d_hi = op & 16 ? take(&r, 1) : 0;
					if (!lazy)
						CHECK(sh_known_add(&k, x->boot_lo, x->boot_hi, x->lo, x->hi, x->up_lo, x->up_hi,
										   x->d_lo, x->d_hi) == 0);
					nh++;
				}
				continue;
			case 1:				/* any datagram */
				t_ms += (int64_t) take(&r, 3) - (1 << 20);
				seq = (uint32_t) take(&r, 4);
				up = (uint32_t) take(&r, 4);
				digest = take(&r, 1) + 1;
				break;
			case 2:				/* the next one, a little later */
			case 3:
				seq += (uint32_t) (op >> 3);
				up += (uint32_t) take(&r, 1) * 50;
				t_ms += (int64_t) (up & 255);
				digest = digest * 31 + 7;
				break;
			case 4:				/* out of order, or an uptime a little back */
				seq -= (uint32_t) take(&r, 2);
				up -= (uint32_t) take(&r, 2);
				digest = digest * 31 + 7;
				break;
			case 5:				/* the agent restarts */
				seq = (uint32_t) take(&r, 1);
				up = (uint32_t) take(&r, 2);
				t_ms += (int64_t) take(&r, 4);
				digest = digest * 31 + 7;
				break;
			case 6:				/* wraps: sequence number or uptime near 2^32 */
				seq = op & 8 ? UINT32_MAX - (uint32_t) take(&r, 1) : seq;
				up = op & 16 ? UINT32_MAX - (uint32_t) take(&r, 2) : up;
				digest = digest * 31 + 7;
				break;
			default:			/* the same datagram again (received again later) */
				t_ms += (int64_t) take(&r, 3);
				break;
		}
		if (digest == 0)
			digest = 1;
		if (lazy)
		{
			/* the hours of uptime it lacks, answered as the database does: the ranges of those hours */
			int			guard = 0;

			for (int b; (b = sh_known_lacks(&k, up)) >= 0;)
			{
				int			lo = b > 0 ? b - 1 : 0,
							hi = b + 2 < SH_UPTIME_BUCKETS ? b + 2 : SH_UPTIME_BUCKETS - 1;

				CHECK(b < SH_UPTIME_BUCKETS);
				CHECK(++guard <= 3);
				for (size_t i = 0; i < nh; i++)
				{
					const hist *x = &h[i];

					if (x->up_lo >= 0 && x->up_hi >= 0 && x->up_lo <= x->up_hi &&
						(x->up_hi < (int64_t) lo * SH_UPTIME_BUCKET_MS ||
						 x->up_lo >= (int64_t) (hi + 1) * SH_UPTIME_BUCKET_MS))
						continue;
					if (sh_known_had(&k, x->up_lo, x->up_hi))
						continue;
					CHECK(sh_known_add(&k, x->boot_lo, x->boot_hi, x->lo, x->hi, x->up_lo, x->up_hi,
									   x->d_lo, x->d_hi) == 0);
				}
				sh_known_asked(&k, lo, hi);
			}
		}
		rc = sh_known_take(&k, t_ms - (int64_t) up, seq, up, digest);
		CHECK(rc == 0 || rc == 1 || rc == 2);
		if (rc == 2)
			CHECK(k.nruns == SH_RUNS_MAX);
		if (rc == 1)
		{
			/* known: taken before, or in the history */
			int			found = 0;

			if (seen_any[(seq * 2654435761u) >> 19 & 8191] & (1 << (seq & 7)))
				for (size_t i = 0; i < nseen && !found; i++)
					found = seen[i] == seq;
			if (nseen == MAX_SEEN)
				found = 1;		/* no longer followed */
			for (size_t i = 0; i < nh && !found; i++)
				found = h[i].lo <= seq && seq <= h[i].hi;
			CHECK(found);
		}
		if (rc == 0)
		{
			/* taken: the same datagram again is known */
			if (nseen < MAX_SEEN)
			{
				seen[nseen++] = seq;
				seen_any[(seq * 2654435761u) >> 19 & 8191] |= (uint8_t) (1 << (seq & 7));
			}
			CHECK(sh_known_take(&k, t_ms - (int64_t) up, seq, up, digest) == 1);
		}
		check_runs(&k);
	}
	sh_known_free(&k);
	return 0;
}
