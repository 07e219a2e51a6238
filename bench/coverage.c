/*
 * bench/coverage.c: how often the 95% bounds of a sampled count hold the
 * true count (the target: between 94% and 96% over at least 1,000
 * re-samplings, for counts from 5 to 10,000).
 *
 * A stream of T packets of one address is sampled at 1 in N, each packet
 * independently with probability 1/N (what an agent's random skips do to
 * the packets of one address among much other traffic); n packets are
 * sampled, and the bounds say the address sent between N * lower(n) and
 * N * upper(n) packets. Each re-sampling draws the gaps between sampled
 * packets (geometric, mean N), so a stream costs its n, not its T.
 *
 * Per bucket of the expected sampled count T / N (5-10, 10-30, ..., 3,000-
 * 10,000), R re-samplings (default 2,000), each of a new stream: T / N
 * log-uniform in the bucket, N one of the generator's sampling rates.
 * Prints, per bucket and for the exact (Garwood) and mid-p bounds, the
 * share of re-samplings whose bounds hold T, with its Wilson 95% interval.
 *
 *   cc -O2 -Iextension bench/coverage.c extension/bounds_core.c -lm
 *   ./coverage [R] [seed]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bounds_core.h"

static uint64_t rng_state;

/* splitmix64: a fixed seed gives the same figures */
static uint64_t
rng_next(void)
{
	uint64_t	z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in (0, 1) */
static double
rng_unit(void)
{
	return ((rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

/* packets sampled of t at 1 in rate: the sum of geometric gaps */
static int64_t
sample_count(int64_t t, double rate)
{
	double		log_keep = log1p(-1.0 / rate);
	int64_t		pos = 0;
	int64_t		n = 0;

	for (;;)
	{
		/* packets skipped before the next sampled one */
		pos += (int64_t) floor(log(rng_unit()) / log_keep) + 1;
		if (pos > t)
			return n;
		n++;
	}
}

static void
wilson(double k, double n, double *lo, double *hi)
{
	const double z = 1.959963984540054;
	double		p = k / n;
	double		c = p + z * z / (2 * n);
	double		h = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n));

	*lo = (c - h) / (1 + z * z / n);
	*hi = (c + h) / (1 + z * z / n);
}

int
main(int argc, char **argv)
{
	static const double rates[] = {2048, 1024, 4096, 512, 8192, 16384, 256, 2000};
	static const double edges[] = {5, 10, 30, 100, 300, 1000, 3000, 10000};
	const int	nbuckets = (int) (sizeof(edges) / sizeof(edges[0])) - 1;
	long		r = argc > 1 ? atol(argv[1]) : 2000;
	long		all_in[2] = {0, 0};
	long		all = 0;
	int			bad = 0;

	rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) : 16;
	if (r < 1)
	{
		fprintf(stderr, "coverage: R must be at least 1\n");
		return 2;
	}
	printf("%-13s %8s %26s %26s\n", "T/N", "streams", "exact (Garwood) 95%", "mid-p 95% (the columns')");
	for (int b = 0; b < nbuckets; b++)
	{
		long		in[2] = {0, 0};
		double		lo,
					hi;

		for (long i = 0; i < r; i++)
		{
			double		rate = rates[rng_next() % 8];
			double		lambda = edges[b] * exp(rng_unit() * log(edges[b + 1] / edges[b]));
			int64_t		t = (int64_t) llround(lambda * rate);
			int64_t		n = sample_count(t, rate);

			for (int m = 0; m < 2; m++)
				if (rate * bounds_poisson(n, false, m) <= t && t <= rate * bounds_poisson(n, true, m))
					in[m]++;
		}
		printf("%5.0f-%-7.0f %8ld", edges[b], edges[b + 1], r);
		for (int m = 0; m < 2; m++)
		{
			wilson(in[m], r, &lo, &hi);
			printf("   %6.2f%% (%6.2f-%6.2f%%)", 100.0 * in[m] / r, 100 * lo, 100 * hi);
			all_in[m] += in[m];
		}
		printf("\n");
		if (100.0 * in[1] / r < 94 || 100.0 * in[1] / r > 96)
			bad++;
		all += r;
	}
	printf("%-13s %8ld", "all", all);
	for (int m = 0; m < 2; m++)
	{
		double		lo,
					hi;

		wilson(all_in[m], all, &lo, &hi);
		printf("   %6.2f%% (%6.2f-%6.2f%%)", 100.0 * all_in[m] / all, 100 * lo, 100 * hi);
	}
	printf("\nmid-p buckets outside 94-96%%: %d\n", bad);
	return 0;
}
