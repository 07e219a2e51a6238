-- tests/regress/sql/05_bounds.sql: the 95% bounds of sampled counts and of
-- shares (issue 16), against values computed by hand: the mid-p bounds by
-- bisection on sums of Poisson terms (not the incomplete gamma function the
-- extension uses), their defining equations in closed form, and Wilson's
-- interval by its formula.
CREATE EXTENSION IF NOT EXISTS spamhints;
\set VERBOSITY terse
SELECT plan(16);

SELECT results_eq($$SELECT c, round(spamhints.midp_low(c)::numeric, 4), round(spamhints.midp_high(c)::numeric, 4)
                    FROM unnest('{0,1,2,3,5,10,20,50,100}'::bigint[]) AS c$$,
  $$VALUES (0::bigint, 0.0000, 2.9957), (1, 0.0500, 4.9319), (2, 0.3353, 6.6080), (3, 0.7631, 8.1645),
           (5, 1.8320, 11.0824), (10, 5.0795, 17.8249), (20, 12.5597, 30.3396), (50, 37.5098, 65.3865),
           (100, 81.7918, 121.1035)$$,
  'midp_low/high: mid-p 95% bounds of a Poisson mean, 0 to 100 samples');
SELECT results_eq($$SELECT c, round(spamhints.midp_low(c)::numeric, 3), round(spamhints.midp_high(c)::numeric, 3)
                    FROM unnest('{1000,10000}'::bigint[]) AS c$$,
  $$VALUES (1000::bigint, 939.450, 1063.445), (10000, 9805.445, 10197.449)$$,
  'midp_low/high: 1,000 and 10,000 samples');
-- closed forms: 0 samples, P(X = 0) / 2 = exp(-m) / 2 = 2.5% at m = ln 20;
-- 1 sample, P(X > 1) + P(X = 1) / 2 = 1 - exp(-m) (1 + m / 2) = 2.5%;
-- 3 samples, P(X < 3) + P(X = 3) / 2 = exp(-m) (1 + m + m^2/2 + m^3/12) = 2.5%
SELECT ok(abs(spamhints.midp_high(0) - ln(20)) < 1e-9, 'midp_high(0) = ln 20');
SELECT ok(abs(1 - exp(-m) * (1 + m / 2) - 0.025) < 1e-10, 'midp_low(1) solves 1 - exp(-m) (1 + m/2) = 2.5%')
FROM spamhints.midp_low(1) AS m;
SELECT ok(abs(exp(-m) * (1 + m + m ^ 2 / 2 + m ^ 3 / 12) - 0.025) < 1e-10,
          'midp_high(3) solves exp(-m) (1 + m + m^2/2 + m^3/12) = 2.5%')
FROM spamhints.midp_high(3) AS m;
-- mid-p lies inside the exact (Garwood) interval of poisson_bounds()
SELECT ok(bool_and(b.lower <= spamhints.midp_low(c) AND spamhints.midp_high(c) <= b.upper),
          'mid-p bounds lie inside the exact ones')
FROM generate_series(0, 100) AS c, spamhints.poisson_bounds(c) AS b;
SELECT throws_ok($$SELECT spamhints.midp_low(-1)$$, '22023', NULL, 'midp_low: a negative count is an error');
SELECT throws_ok($$SELECT spamhints.midp_high(-1)$$, '22023', NULL, 'midp_high: a negative count is an error');

-- scaled by the mean sampling rate: 3 samples at 1 in 1000 (est 3000),
-- 10 samples at 5 x 100 and 5 x 1000 (est 5500: 5500 / 10 * 5.0795 = 2793.7)
SELECT results_eq($$VALUES (spamhints.est_low(3, 3000), spamhints.est_high(3, 3000)),
                           (spamhints.est_low(10, 5500), spamhints.est_high(10, 5500)),
                           (spamhints.est_low(0, 0), spamhints.est_high(0, 0))$$,
  $$VALUES (763::bigint, 8164::bigint), (2794, 9804), (0, NULL)$$,
  'est_low/high: the bounds of the count scaled by the mean rate; no upper bound without a sample');

-- Wilson: (k + 1.92 -+ 1.96 sqrt(k (n - k) / n + 0.96)) / (n + 3.84)
SELECT results_eq($$SELECT round(spamhints.wilson_low(k, n)::numeric, 4), round(spamhints.wilson_high(k, n)::numeric, 4)
                    FROM (VALUES (5::bigint, 10::bigint, 1), (0, 10, 2), (10, 10, 3), (2, 10, 4), (1, 1, 5)) AS v(k, n, o)
                    ORDER BY o$$,
  $$VALUES (0.2366, 0.7634), (0.0000, 0.2775), (0.7225, 1.0000), (0.0567, 0.5098), (0.2065, 1.0000)$$,
  'wilson_low/high: Wilson''s 95% interval of k of n');
SELECT is(spamhints.wilson_low(0, 0), NULL, 'wilson_low: no interval of nothing');
SELECT is(spamhints.wilson_high(11, 10), NULL, 'wilson_high: no interval of more than all');

-- the bounds in the views: packet_stats on 11_packet_stats' samples
BEGIN;
INSERT INTO spamhints.load (file_name, sha256, finished_at) VALUES ('t.pcap', repeat('0', 64), now());
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
                                   src_ip, dst_ip, src_port, dst_port, tcp_flags)
SELECT l.load_id, n, '2007-03-14 12:00:00+00', '192.0.2.1', n, CASE WHEN n <= 5 THEN 100 ELSE 1000 END,
       '198.51.100.1', '203.0.113.25', 40000 + n, 25, f
FROM spamhints.load l,
     unnest(ARRAY[2, 2, 18, 4, 20, 17, 17, 16, 16, NULL]) WITH ORDINALITY AS t(f, n);
-- 2 SYN of 10: 5.67% to 50.98%; 1 SYN/ACK of 10: 1.79% to 40.42%
SELECT results_eq($$SELECT est_packets, est_packets_low, est_packets_high, syn_pct_low, syn_pct_high,
                           syn_ack_pct_low, syn_ack_pct_high, rst_pct_low, rst_pct_high, fin_pct_low, fin_pct_high
                    FROM spamhints.packet_stats$$,
  $$VALUES (5500::bigint, 2794::bigint, 9804::bigint, 5.67, 50.98, 1.79, 40.42, 5.67, 50.98, 5.67, 50.98)$$,
  'packet_stats: est_packets and the shares with their 95% bounds');
SELECT results_eq($$SELECT samples, est_packets, est_packets_low, est_packets_high
                    FROM spamhints.activity('2007-03-14 11:00+00', '2007-03-14 13:00+00')$$,
  $$VALUES (0::bigint, 0::bigint, 0::bigint, NULL::bigint), (10, 5500, 2794, 9804)$$,
  'activity(): est_packets with its 95% bounds, no upper bound in an empty bin');
INSERT INTO spamhints.ip_assignment (customer_id, network, during)
VALUES ('c1', '198.51.100.0/24', tstzrange('2007-01-01', NULL));
SELECT results_eq($$SELECT samples, est_packets, est_packets_low, est_packets_high FROM spamhints.customer_sender$$,
  $$VALUES (10::bigint, 5500::bigint, 2794::bigint, 9804::bigint)$$,
  'customer_sender: est_packets with its 95% bounds');
ROLLBACK;
SELECT is(spamhints.est_high(1, 1000), 4932::bigint, 'one sample at 1 in 1000: up to 4,932 packets');

SELECT * FROM finish();
