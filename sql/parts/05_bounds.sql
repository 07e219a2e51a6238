-- sql/parts/05_bounds.sql: the 95% bounds beside every sampling-scaled
-- estimate and every share.
--
-- n sampled packets at 1 in N stand for about n * N real packets; n is a
-- Poisson count (each packet of an address is sampled alone with chance
-- 1/N), so the real count lies, with 95% confidence, between N * low(n) and
-- N * high(n). Mid-p bounds, not the exact (Garwood) ones of
-- poisson_bounds(): re-sampling at 1 in N (bench/coverage.c) shows the exact
-- ones hold the true count 96.8% of the time at 5 to 10 samples (they are
-- conservative: each tail at most 2.5%), the mid-p ones 94.8-95.2% from 5 to
-- 10,000 samples. A share k of n (the SYN share) has Wilson's interval.

CREATE FUNCTION spamhints.midp_low(n bigint) RETURNS float8
AS 'MODULE_PATHNAME', 'spamhints_midp_low'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.midp_low(bigint) IS
'The lower mid-p 95% bound of the mean of a Poisson count n: the mean at which P(X > n) + P(X = n) / 2 = 2.5% (0 for n = 0). n sampled packets at 1 in N: at least N * midp_low(n) real packets. E.g. midp_low(3) = 0.763. Error 22023 for a negative n.';

CREATE FUNCTION spamhints.midp_high(n bigint) RETURNS float8
AS 'MODULE_PATHNAME', 'spamhints_midp_high'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.midp_high(bigint) IS
'The upper mid-p 95% bound of the mean of a Poisson count n: the mean at which P(X < n) + P(X = n) / 2 = 2.5% (ln 20 = 2.996 for n = 0). n sampled packets at 1 in N: at most N * midp_high(n) real packets. E.g. midp_high(3) = 8.164. Error 22023 for a negative n.';

-- est is the sum of the sampling rates of n samples: the bound of the count
-- scaled by their mean rate, est / n.
CREATE FUNCTION spamhints.est_low(samples bigint, est bigint) RETURNS bigint
AS 'MODULE_PATHNAME', 'spamhints_est_low'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.est_low(bigint, bigint) IS
'The lower 95% bound of an estimated real packet count est (the sum of the sampling rates of samples sampled packets): est / samples * midp_low(samples), rounded; 0 for no samples. A negative samples or est is an error (22023); a bound beyond bigint too (22003). E.g. est_low(3, 3000) = 763.';

CREATE FUNCTION spamhints.est_high(samples bigint, est bigint) RETURNS bigint
AS 'MODULE_PATHNAME', 'spamhints_est_high'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.est_high(bigint, bigint) IS
'The upper 95% bound of an estimated real packet count est (the sum of the sampling rates of samples sampled packets): est / samples * midp_high(samples), rounded; NULL for no samples (with no sample, no sampling rate says how many packets could have been missed). A negative samples or est is an error (22023); a bound beyond bigint too (22003). E.g. est_high(3, 3000) = 8164.';

CREATE FUNCTION spamhints.wilson_low(k bigint, n bigint) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN n > 0 AND k >= 0 AND k <= n THEN
    greatest(0, (k + 1.920729410347062 - 1.959963984540054
                 * sqrt(k::float8 * (n - k) / n + 0.960364705173531)) / (n + 3.841458820694124)) END;

COMMENT ON FUNCTION spamhints.wilson_low(bigint, bigint) IS
'The lower bound of Wilson''s 95% interval of a share, k of n: (k + z²/2 - z sqrt(k (n - k) / n + z²/4)) / (n + z²), z = 1.96; NULL for n = 0 or k outside 0..n. E.g. wilson_low(5, 10) = 0.2366.';

CREATE FUNCTION spamhints.wilson_high(k bigint, n bigint) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN n > 0 AND k >= 0 AND k <= n THEN
    least(1, (k + 1.920729410347062 + 1.959963984540054
              * sqrt(k::float8 * (n - k) / n + 0.960364705173531)) / (n + 3.841458820694124)) END;

COMMENT ON FUNCTION spamhints.wilson_high(bigint, bigint) IS
'The upper bound of Wilson''s 95% interval of a share, k of n: (k + z²/2 + z sqrt(k (n - k) / n + z²/4)) / (n + z²), z = 1.96; NULL for n = 0 or k outside 0..n. E.g. wilson_high(0, 10) = 0.2775.';
