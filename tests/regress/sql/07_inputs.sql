-- tests/regress/sql/07_inputs.sql: odd but natural arguments to the SQL
-- functions: each gives the right answer, worked out by hand, or a clear
-- error with its SQLSTATE; never a wrong answer or an internal error.
CREATE EXTENSION IF NOT EXISTS spamhints;
\set VERBOSITY terse
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SELECT plan(36);

-- est_low/est_high: counts cannot be negative (22023)
SELECT throws_ok($$SELECT spamhints.est_high(5, -10)$$, '22023',
  'an estimated packet count cannot be negative: -10', 'est_high: a negative estimate is an error');
SELECT throws_ok($$SELECT spamhints.est_low(5, -10)$$, '22023',
  'an estimated packet count cannot be negative: -10', 'est_low: a negative estimate is an error');
SELECT throws_ok($$SELECT spamhints.est_high(-5, 10)$$, '22023',
  'a count of sampled packets cannot be negative: -5', 'est_high: a negative sample count is an error');
SELECT throws_ok($$SELECT spamhints.est_low(-5, 10)$$, '22023',
  'a count of sampled packets cannot be negative: -5', 'est_low: a negative sample count is an error');
-- 0 samples: the lower bound 0, no upper bound; NULLs: NULL (STRICT)
SELECT is(spamhints.est_low(0, 0), 0::bigint, 'est_low(0, 0) = 0');
SELECT is(spamhints.est_high(0, 0), NULL::bigint, 'est_high(0, 0) is NULL');
SELECT is(spamhints.est_high(NULL, 10), NULL::bigint, 'est_high(NULL, 10) is NULL');
SELECT is(spamhints.est_low(3, NULL), NULL::bigint, 'est_low(3, NULL) is NULL');
-- 3 samples at 1 in 1000: midp_low(3) = 0.7631, midp_high(3) = 8.1645 (05_bounds)
SELECT is(spamhints.est_low(3, 3000), 763::bigint, 'est_low(3, 3000) = 763');
SELECT is(spamhints.est_high(3, 3000), 8164::bigint, 'est_high(3, 3000) = 8164');
-- near the top of bigint: the upper bound is above it (22003), the lower one
-- is below: 1 sample, midp_low(1) = 0.0500 of 9e18 = about 4.5e17
SELECT throws_ok($$SELECT spamhints.est_high(1, 9000000000000000000)$$, '22003',
  'the upper bound of 9000000000000000000 packets is out of range for bigint', 'est_high: too large for bigint is 22003');
SELECT ok(spamhints.est_low(1, 9000000000000000000) BETWEEN 449000000000000000 AND 451000000000000000,
  'est_low(1, 9e18) is about 4.5e17');

-- endpoint_text: a port is 0..65535, an address one host
SELECT throws_ok($$SELECT spamhints.endpoint_text('192.0.2.7', 70000)$$, '22023',
  'a port must be from 0 to 65535, not 70000', 'endpoint_text: port 70000 is an error');
SELECT throws_ok($$SELECT spamhints.endpoint_text('192.0.2.7', -1)$$, '22023',
  'a port must be from 0 to 65535, not -1', 'endpoint_text: port -1 is an error');
SELECT throws_ok($$SELECT spamhints.endpoint_text('192.0.2.0/24', 25)$$, '22023',
  'an endpoint is one address, not the network 192.0.2.0/24', 'endpoint_text: a network is an error');
SELECT is(spamhints.endpoint_text('192.0.2.7', 65535), '192.0.2.7:65535', 'endpoint_text: port 65535');
SELECT is(spamhints.endpoint_text('2001:db8::7', 0), '[2001:db8::7]:0', 'endpoint_text: IPv6, port 0');
SELECT is(spamhints.endpoint_text('::ffff:192.0.2.7', 25), '[::ffff:192.0.2.7]:25', 'endpoint_text: IPv4-mapped IPv6');
SELECT is(spamhints.endpoint_text('192.0.2.7', NULL), '192.0.2.7', 'endpoint_text: no port');

-- sender_score: a window ends after it starts; NULL bounds are an error
SELECT throws_ok($$SELECT * FROM spamhints.sender_score('2007-03-15', '2007-03-14')$$, '22023',
  'sender_score() window ends before it starts: [2007-03-15 00:00:00+00, 2007-03-14 00:00:00+00)', 'sender_score: a reversed window is an error');
SELECT throws_ok($$SELECT * FROM spamhints.sender_score(NULL, '2007-03-14')$$, '22004',
  'sender_score() window cannot have a NULL bound', 'sender_score: a NULL bound is an error');
SELECT is((SELECT count(*) FROM spamhints.sender_score('2007-03-14', '2007-03-14')), 0::bigint,
  'sender_score: an empty window has no rows');
SELECT is((SELECT count(*) FROM spamhints.sender_score('-infinity', 'infinity')), 0::bigint,
  'sender_score: an infinite window is all time (no samples here)');

-- parse_arf: control characters in a field leave it out, never stored
SELECT is((SELECT row(reporter, user_agent, feedback_type, original_mail_from)::text
           FROM spamhints.parse_arf(E'From: <a\x01b@isp.example>\r\nSubject: x\r\n\r\n--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: x\x1b[31mred\r\nOriginal-Mail-From: <s\x07@x.example>\r\nSource-IP: 192.0.2.7\r\n\r\n--b--\r\n')),
  '(,,abuse,)', 'parse_arf: fields with control characters are left out');
SELECT is((SELECT row(user_agent, source_ip)::text
           FROM spamhints.parse_arf(E'From: r@isp.example\n\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: ' || repeat('x', 2000) || E'\nSource-IP: 192.0.2.7\n\n--b--\n')),
  '(,192.0.2.7)', 'parse_arf: a field longer than 998 characters is left out');
-- a tab after the colon (or before the line's end) is white space, not part of the value
SELECT is((SELECT row(feedback_type, source_ip)::text
           FROM spamhints.parse_arf(E'From: r@isp.example\n\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type:\tabuse\nSource-IP:\t192.0.2.7 \t\n\n--b--\n')),
  '(abuse,192.0.2.7)', 'parse_arf: tabs around a value are trimmed');
SELECT throws_ok($$SELECT * FROM spamhints.parse_arf(E'\x01\x02\x03 junk')$$, '22P02',
  'not an ARF report: no message/feedback-report part', 'parse_arf: binary junk is 22P02');

-- activity: the same window check as sender_score
SELECT throws_ok($$SELECT * FROM spamhints.activity('2007-03-15', '2007-03-14')$$, '22023',
  'activity() window ends before it starts: [2007-03-15 00:00:00+00, 2007-03-14 00:00:00+00)', 'activity: a reversed window is an error');
SELECT throws_ok($$SELECT * FROM spamhints.activity('2007-03-14', NULL)$$, '22004',
  'activity() window cannot have a NULL bound', 'activity: a NULL bound is an error');
SELECT is((SELECT count(*) FROM spamhints.activity('2007-03-14', '2007-03-14')), 0::bigint,
  'activity: an empty window has no bins');

-- poisson_cdf: P(X <= c), by hand: mean 3, c = 2: exp(-3) (1 + 3 + 4.5) = 0.42319008
SELECT is(round(spamhints.poisson_cdf(2, 3)::numeric, 8), 0.42319008, 'poisson_cdf(2, 3) = 0.42319008');
SELECT is(spamhints.poisson_cdf(-1, 3), 0::float8, 'poisson_cdf: P(X <= -1) = 0');
SELECT is(spamhints.poisson_cdf(1000000000000, 3), 1::float8, 'poisson_cdf: a huge c is 1, at once');
SELECT throws_ok($$SELECT spamhints.poisson_cdf(3, -1)$$, '22023',
  'a Poisson mean must be zero or more, not -1', 'poisson_cdf: a negative mean is an error');
SELECT throws_ok($$SELECT spamhints.poisson_cdf(3, 'NaN')$$, '22023',
  'a Poisson mean must be zero or more, not NaN', 'poisson_cdf: NaN is an error');
SELECT throws_ok($$SELECT spamhints.poisson_cdf(3, 800)$$, '22003',
  'poisson_cdf() cannot take a mean above 700 (exp(-mean) underflows), not 800', 'poisson_cdf: a mean above 700 is 22003, not 0');

SELECT * FROM finish();
