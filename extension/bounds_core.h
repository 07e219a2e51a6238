/*
 * extension/bounds_core.h: confidence bounds without the server.
 *
 * The 95% bounds of the mean of a Poisson count (n sampled packets at 1 in
 * N stand for a Poisson count of mean T / N for T real packets, as long as
 * N is much smaller than T), exact (Garwood: each tail at most 2.5%) or
 * mid-p (each tail, with half the probability of the observed count, equal
 * to 2.5%), from the regularized incomplete gamma function. Plain C: the
 * extension (bounds.c) and bench/coverage.c build the same code.
 */
#ifndef SPAMHINTS_BOUNDS_CORE_H
#define SPAMHINTS_BOUNDS_CORE_H

#include <stdbool.h>
#include <stdint.h>

/* P(a, x), the regularized lower incomplete gamma function, a > 0, x >= 0:
 * for a whole a = k, P(X >= k) of a Poisson count X of mean x */
double bounds_gamma_p(double a, double x);

/* P(X = k) of a Poisson count of mean x */
double bounds_poisson_pmf(int64_t k, double x);

/* the lower or upper 95% bound of the mean of a Poisson count n >= 0:
 * midp true for mid-p bounds, false for exact (Garwood) ones; the lower
 * bound of 0 is 0 */
double bounds_poisson(int64_t n, bool upper, bool midp);

#endif
