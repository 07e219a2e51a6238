-- tests/regress/sql/07_inputs.sql: odd but natural arguments to the SQL
-- functions: each gives the right answer, worked out by hand, or a clear
-- error with its SQLSTATE; never a wrong answer or an internal error.
CREATE EXTENSION IF NOT EXISTS spamhints;
\set VERBOSITY terse
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SELECT plan(64);

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

-- report_period_text: no text for a period no report has (documented NULL)
SELECT is(spamhints.report_period_text('(,)'), NULL, 'report_period_text: an unbounded period is NULL');
SELECT is(spamhints.report_period_text('[2007-03-14 00:00+00, 2007-03-15 00:00+00)'),
  '2007-03-14 00:00:00 UTC to 2007-03-15 00:00:00 UTC', 'report_period_text: a day');

-- src_role/dst_role/smtp_census: a port is 0..65535 (22023), not a role
SELECT throws_ok($$SELECT spamhints.src_role(70000, 25)$$, '22023',
  'a port must be from 0 to 65535, not 70000', 'src_role: port 70000 is an error');
SELECT throws_ok($$SELECT spamhints.dst_role(25, -1, '{25}')$$, '22023',
  'a port must be from 0 to 65535, not -1', 'dst_role: port -1 is an error');
SELECT throws_ok($$SELECT spamhints.smtp_census('192.0.2.1', '192.0.2.2', 25, 65536)$$, '22023',
  'a port must be from 0 to 65535, not 65536', 'smtp_census: port 65536 is an error');
SELECT is(spamhints.src_role(65535, 25)::text, 'client', 'src_role(65535, 25) = client');
SELECT is(spamhints.dst_role(0, 25)::text, 'server', 'dst_role(0, 25) = server');

-- ensure_partitions: times in order (22023)
SELECT throws_ok($$SELECT spamhints.ensure_partitions('2024-03-05', '2024-03-01')$$, '22023',
  'ensure_partitions() needs from_ts no later than to_ts, not 2024-03-05 00:00:00+00 and 2024-03-01 00:00:00+00',
  'ensure_partitions: reversed times are an error');

-- counted: a count cannot be negative
SELECT throws_ok($$SELECT spamhints.counted(-1, 'item', 'items')$$, '22023',
  'a count cannot be negative: -1', 'counted: -1 is an error');
SELECT is(spamhints.counted(0, 'item', 'items'), '0 items', 'counted(0) = 0 items');

-- rate_factor: NaN or an infinity is no rate or count: no factor (NULL,
-- documented; the estimates keep factor 1), never NaN or Infinity
SELECT is(spamhints.rate_factor('NaN', 1000, 100), NULL::float8, 'rate_factor: a NaN rate is no factor');
SELECT is(spamhints.rate_factor(1000, 'infinity', 100), NULL::float8, 'rate_factor: an infinite rate is no factor');
SELECT is(spamhints.rate_factor(1000, 2000, 'infinity'), NULL::float8, 'rate_factor: infinite samples are no factor');
SELECT is(spamhints.rate_factor(NULL, 2000, 100), 1::float8, 'rate_factor: an unknown rate is factor 1 (as before)');
-- by hand: 2000 / 1000 - 1 = 1 > greatest(1.96 / 10, 0.05): 2; 1020 / 1000: 0.02 < 0.196: 1
SELECT is(spamhints.rate_factor(1000, 2000, 100), 2::float8, 'rate_factor(1000, 2000, 100) = 2');
SELECT is(spamhints.rate_factor(1000, 1020, 100), 1::float8, 'rate_factor(1000, 1020, 100) = 1');

-- poisson_bounds: near the top of bigint, Wilson-Hilferty in float8, not an
-- overflow of 2 n: for n = 9.2e18 the bounds are n -+ 1.96 sqrt(n) (about 6e9)
SELECT ok((SELECT lower < 9223372036854775807 AND upper > 9223372036854775807
                  AND upper - lower BETWEEN 1.1e10 AND 1.3e10
           FROM spamhints.poisson_bounds(9223372036854775807)),
  'poisson_bounds(bigint max): n -+ 1.96 sqrt(n), no overflow');

-- the functions taking a period: NULL is all time, the answer of the view
-- (samples of two days, 11 and 35 hours after 2024-03-01: whole days and partial ones)
BEGIN;
INSERT INTO spamhints.load (file_name, sha256, finished_at) VALUES ('inputs.pcap', repeat('7', 64), now());
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
       src_ip, dst_ip, src_port, dst_port, tcp_flags, src_asn, dst_asn, src_cc, dst_cc)
SELECT l.load_id, n, '2024-03-01 00:00+00'::timestamptz + m * interval '1 minute', '192.0.2.250', n, 1000,
       src::inet, dst::inet, sp, dp, 2, sa, da, sc, dc
FROM spamhints.load l, (VALUES
  (1,  660, '10.1.0.1',  '10.2.0.25', 40000, 25, 100, 200, 'NL', 'DE'),
  (2, 2100, '10.1.0.2',  '10.2.0.25', 40001, 25, 100, 200, 'NL', 'DE'),
  (3, 2110, '10.2.0.25', '10.1.0.1',  25, 40000, 200, 100, 'DE', 'NL'))
  AS v(n, m, src, dst, sp, dp, sa, da, sc, dc)
WHERE l.file_name = 'inputs.pcap';
-- report_candidates(NULL) and report_items(NULL): all time too (a spam
-- verdict from 10.1.0.1, of an agreed ISP, on 2024-03-02)
INSERT INTO spamhints.agreement (isp, abuse_address, networks, agreed_at) VALUES
  ('Inputs ISP', 'abuse@inputs.example', '{10.1.0.0/16}', '2024-01-01 00:00+00');
INSERT INTO spamhints.maillog_load (file_name, sha256, format, timezone, finished_at)
  VALUES ('inputs.log', repeat('6', 64), 'exim', 'UTC', now());
INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, client_ip, client_port, verdict, reason)
SELECT m.maillog_load_id, 1, '2024-03-02 10:00+00', '10.1.0.1', 40000, 'spam', 'spam'
FROM spamhints.maillog_load m WHERE m.file_name = 'inputs.log';
INSERT INTO spamhints.ip_assignment (customer_id, network, during)
  VALUES ('c1', '10.1.0.0/24', tstzrange('2024-01-01 00:00+00', NULL));
-- (the answers kept in psql variables: the tests run after the ROLLBACK,
-- which would take pgTAP's results with it)
SELECT (SELECT array_agg(t::text) FROM spamhints.ip_census(NULL) t) AS census_null,
       (SELECT array_agg(t::text) FROM spamhints.ip_census t) AS census_view,
       (SELECT array_agg(t::text ORDER BY t::text) FROM spamhints.client_as_top(NULL) t) AS as_null,
       (SELECT array_agg(t::text ORDER BY t::text) FROM spamhints.client_as_top t) AS as_view,
       (SELECT array_agg(t::text ORDER BY t::text) FROM spamhints.client_cc_top(NULL) t) AS cc_null,
       (SELECT array_agg(t::text ORDER BY t::text) FROM spamhints.client_cc_top t) AS cc_view,
       (SELECT row(smtp_packets, est_packets)::text FROM spamhints.packet_stats(NULL)) AS stats_null,
       (SELECT row(samples, as_source, as_destination)::text FROM spamhints.address('10.1.0.1', NULL)) AS address_null,
       coalesce((SELECT array_agg(t::text) FROM spamhints.customer_sender(NULL) t)::text, 'no rows') AS sender_null,
       coalesce((SELECT array_agg(t::text) FROM spamhints.customer_sender t)::text, 'no rows') AS sender_view,
       (SELECT array_agg(row(customer_id, samples, est_packets)::text) FROM spamhints.customer_sender(NULL))::text AS sender_hand,
       coalesce((SELECT array_agg(row(isp, source_ip, events)::text) FROM spamhints.report_candidates(NULL, '2024-03-10'))::text, 'no rows') AS cand_null,
       coalesce((SELECT array_agg(row(isp, source_ip)::text) FROM spamhints.report_items(NULL, NULL, '2024-03-10'))::text, 'no rows') AS items_null
\gset
ROLLBACK;
SELECT is(:'census_null'::text, :'census_view'::text, 'ip_census(NULL) = the view ip_census');
SELECT is(:'census_null'::text, '{"(3,2,1,0)"}'::text, 'ip_census(NULL): 3 addresses, 2 clients, 1 server (by hand)');
SELECT ok(:'as_null'::text = :'as_view'::text, 'client_as_top(NULL) = the view (not NULL)');
SELECT is(:'cc_null'::text, :'cc_view'::text, 'client_cc_top(NULL) = the view');
SELECT is(:'cc_null'::text, '{"(1,NL,2,0,0,2)","(2,DE,0,1,0,1)"}'::text, 'client_cc_top(NULL): NL 2 clients, DE 1 server (by hand)');
SELECT is(:'stats_null'::text, '(3,3000)'::text, 'packet_stats(NULL): all 3 samples');
SELECT is(:'address_null'::text, '(2,1,1)'::text, 'address(ip, NULL): all time');
SELECT is(:'sender_null'::text, :'sender_view'::text, 'customer_sender(NULL) = the view');
SELECT is(:'sender_hand'::text, '{"(c1,2,2000)"}'::text, 'customer_sender(NULL): c1 sent 2 samples to port 25 (by hand)');
SELECT is(:'cand_null'::text, '{"(\"Inputs ISP\",10.1.0.1,1)"}'::text, 'report_candidates(NULL): all time (was no rows)');
SELECT is(:'items_null'::text, '{"(\"Inputs ISP\",10.1.0.1)"}'::text, 'report_items(NULL): all time (was no rows)');

SELECT * FROM finish();
