/*
 * extension/bounds_core.c: Poisson confidence bounds (bounds_core.h).
 *
 * The incomplete gamma function by its power series below x < a + 1 and by
 * its continued fraction (modified Lentz) above, in logarithms, so that
 * counts of millions neither overflow nor underflow; the bounds by bisection
 * on the tail probabilities, which are monotone in the mean.
 */
#include "bounds_core.h"

#include <math.h>

#define BOUNDS_TAIL		0.025		/* each side of a two-sided 95% interval */
#define BOUNDS_EPS		1e-15
#define BOUNDS_ITER		100000

/* log of x^a e^-x / Gamma(a), the factor in front of both expansions */
static double
log_front(double a, double x)
{
	return a * log(x) - x - lgamma(a);
}

/* P(a, x) by the series sum x^k / (a (a+1) ... (a+k)), for x < a + 1 */
static double
gamma_p_series(double a, double x)
{
	double		term = 1.0 / a;
	double		sum = term;

	for (int k = 1; k < BOUNDS_ITER; k++)
	{
		term *= x / (a + k);
		sum += term;
		if (term < sum * BOUNDS_EPS)
			break;
	}
	return sum * exp(log_front(a, x));
}

/* Q(a, x) = 1 - P(a, x) by its continued fraction, for x >= a + 1 */
static double
gamma_q_fraction(double a, double x)
{
	const double tiny = 1e-300;
	double		b = x + 1.0 - a;
	double		c = 1.0 / tiny;
	double		d = 1.0 / b;
	double		h = d;

	for (int i = 1; i < BOUNDS_ITER; i++)
	{
		double		an = -i * (i - a);
		double		delta;

		b += 2.0;
		d = an * d + b;
		if (fabs(d) < tiny)
			d = tiny;
		c = b + an / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		delta = d * c;
		h *= delta;
		if (fabs(delta - 1.0) < BOUNDS_EPS)
			break;
	}
	return h * exp(log_front(a, x));
}

double
bounds_gamma_p(double a, double x)
{
	if (x <= 0)
		return 0.0;
	if (x < a + 1.0)
		return gamma_p_series(a, x);
	return 1.0 - gamma_q_fraction(a, x);
}

/* Q(a, x), computed on the side where it does not cancel */
static double
gamma_q(double a, double x)
{
	if (x <= 0)
		return 1.0;
	if (x < a + 1.0)
		return 1.0 - gamma_p_series(a, x);
	return gamma_q_fraction(a, x);
}

double
bounds_poisson_pmf(int64_t k, double x)
{
	if (x <= 0)
		return k == 0 ? 1.0 : 0.0;
	return exp(k * log(x) - x - lgamma((double) k + 1.0));
}

/*
 * The tail whose root is the bound, minus 2.5%: increasing in the mean for
 * the lower bound (P(X >= n), or mid-p P(X > n) + P(X = n) / 2), decreasing
 * for the upper one (P(X <= n), or mid-p P(X < n) + P(X = n) / 2).
 */
static double
tail(int64_t n, double mean, bool upper, bool midp)
{
	double		dn = (double) n;

	if (!upper)
	{
		if (midp)
			return bounds_gamma_p(dn + 1.0, mean) + bounds_poisson_pmf(n, mean) / 2 - BOUNDS_TAIL;
		return bounds_gamma_p(dn, mean) - BOUNDS_TAIL;
	}
	if (midp)
		return (n > 0 ? gamma_q(dn, mean) : 0.0) + bounds_poisson_pmf(n, mean) / 2 - BOUNDS_TAIL;
	return gamma_q(dn + 1.0, mean) - BOUNDS_TAIL;
}

double
bounds_poisson(int64_t n, bool upper, bool midp)
{
	double		dn = (double) n;
	double		lo,
				hi;

	if (n < 0)
		return NAN;
	if (n == 0 && !upper)
		return 0.0;
	/* the bound lies within 6 standard deviations (and a few units) of n */
	if (upper)
	{
		lo = dn;
		hi = dn + 6.0 * sqrt(dn) + 10.0;
	}
	else
	{
		lo = fmax(0.0, dn - 6.0 * sqrt(dn) - 10.0);
		hi = dn;
	}
	for (int i = 0; i < 200 && hi - lo > 1e-12 * fmax(1.0, hi); i++)
	{
		double		mid = (lo + hi) / 2;
		double		t = tail(n, mid, upper, midp);

		/* lower: the tail grows with the mean; upper: it falls */
		if ((t < 0) != upper)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}
