-- tests/regress/sql/30_views.sql: endpoint, ip_census, client_as_top,
-- client_cc_top and activity() on hand-counted samples.
SET search_path = spamhints, public;
SET TimeZone = 'UTC';
BEGIN;
INSERT INTO spamhints.load (file_name, sha256, finished_at) VALUES ('views.pcap', repeat('4', 64), now());
-- AS 100 (NL): 10.1.0.1-3 clients, 10.1.0.25 server and client (both)
-- AS 200 (DE, one address seen in FR): 10.2.0.25 server, 10.2.0.1-2 clients
-- AS 300 (US): 2001:db8:3::1 client, 2001:db8:3::25 server
-- no AS: 192.0.2.1 client; sample 10 has no SMTP port
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
       src_ip, dst_ip, src_port, dst_port, tcp_flags, src_asn, dst_asn, src_cc, dst_cc)
SELECT l.load_id, n, '2024-03-01 00:00+00'::timestamptz + m * interval '1 minute', '192.0.2.250', n, 1000,
       src::inet, dst::inet, sp, dp, fl, sa, da, sc, dc
FROM spamhints.load l, (VALUES
  ( 1,  10, '10.1.0.1',      '10.2.0.25',      40000, 25,  2, 100, 200, 'NL', 'DE'),
  ( 2,  20, '10.1.0.2',      '10.2.0.25',      40001, 25,  2, 100, 200, 'NL', 'DE'),
  ( 3,  30, '10.2.0.25',     '10.1.0.1',       25, 40000, 18, 200, 100, 'DE', 'NL'),
  ( 4,  65, '10.1.0.3',      '10.1.0.25',      40002, 25,  2, 100, 100, 'NL', 'NL'),
  ( 5,  70, '10.1.0.25',     '10.2.0.25',      40003, 25, 16, 100, 200, 'NL', 'DE'),
  ( 6, 120, '10.2.0.1',      '10.1.0.25',      40004, 25, 16, 200, 100, 'DE', 'NL'),
  ( 7, 150, '10.2.0.2',      '10.1.0.25',      40005, 25,  1, 200, 100, 'FR', 'NL'),
  ( 8, 180, '2001:db8:3::1', '2001:db8:3::25', 50000, 25,  2, 300, 300, 'US', 'US'),
  ( 9, 210, '192.0.2.1',     '10.2.0.25',      40006, 25,  2, NULL, 200, NULL, 'DE'),
  (10, 240, '10.1.0.1',      '10.2.0.1',       80, 8080,  2, 100, 200, 'NL', 'DE'))
  AS v(n, m, src, dst, sp, dp, fl, sa, da, sc, dc);
INSERT INTO spamhints.asn VALUES (100, 'Alpha'), (300, 'Gamma');

-- every sample from each of its addresses; sample 10 plays no SMTP role
SELECT ip, peer, role, side, port, peer_port, asn, cc, to_char(ts, 'HH24:MI') AS ts, frame
FROM endpoint ORDER BY frame, side DESC;
SELECT count(*) AS rows_25_8080 FROM endpoints('{25,8080}');
-- per-address questions are plain SQL
SELECT ip, role_or(role) AS role, count(*) AS samples FROM endpoint GROUP BY ip ORDER BY ip;

-- the census: 10 addresses, 7 client only, 2 server only, 1 both
SELECT * FROM ip_census;
-- the plain SQL it replaces
SELECT count(*) AS ips,
       count(*) FILTER (WHERE r = 'client') AS client_only,
       count(*) FILTER (WHERE r = 'server') AS server_only,
       count(*) FILTER (WHERE r = 'both') AS both
FROM (SELECT ip, role_or(role) AS r FROM endpoint GROUP BY ip) AS t;

-- AS and country rollups
SELECT * FROM client_as_top;
SELECT * FROM client_cc_top;
SELECT asn, clients FROM client_as_top WHERE rank = 2;
SELECT asn, clients FROM client_as_top ORDER BY rank OFFSET 1 LIMIT 1;

-- hour of day of the servers' traffic
SELECT chart(hourly(ts), 4) FROM endpoint WHERE role >= 'server';

-- activity over the capture: every bin, empty ones too
SELECT * FROM activity('2024-03-01 00:00+00', '2024-03-01 06:00+00');
SELECT * FROM activity('2024-03-01 00:00+00', '2024-03-01 02:00+00', '30 minutes');
SELECT * FROM activity('2024-03-01 04:00+00', '2024-03-01 05:00+00', '1 hour', '{8080}');

-- spamhints.asn is dumped with the data
SELECT 'spamhints.asn'::regclass = ANY (extconfig) AS asn_dumped FROM pg_extension WHERE extname = 'spamhints';

SELECT plan(21);
-- activity() bins are fixed spans (a day is 24 hours, as date_bin counts it),
-- also across a daylight saving change of the session's time zone: the bin
-- of 2024-03-01 starts at 00:00 UTC in Berlin too, 126 days after 2023-10-28
SET TimeZone = 'Europe/Berlin';
SELECT results_eq($$SELECT bin_start, samples FROM spamhints.activity('2023-10-28 00:00+00', '2024-03-02 00:00+00', '1 day') WHERE samples > 0$$,
                  $$VALUES ('2024-03-01 00:00+00'::timestamptz, 10::bigint)$$,
                  'activity(1 day) across the end of summer time: the samples fall in their UTC day');
SELECT is((SELECT count(*) FROM spamhints.activity('2023-10-28 00:00+00', '2024-03-02 00:00+00', '1 day')), 126::bigint,
          'activity(1 day) across the end of summer time: one bin a day');
SELECT results_eq($$SELECT bin_start - lag(bin_start) OVER (ORDER BY bin_start) FROM spamhints.activity('2024-03-30 00:00+00', '2024-04-02 00:00+00', '1 day') OFFSET 1$$,
                  $$VALUES (interval '24 hours'), (interval '24 hours')$$,
                  'activity(1 day) across the start of summer time: bins of 24 hours');
SET TimeZone = 'UTC';
-- activity() returns at most 1,000,000 bins; more is an error before any work
SET LOCAL statement_timeout = '20s';
SET LOCAL IntervalStyle = 'postgres';
SELECT is((SELECT count(*) FROM spamhints.activity('2024-01-01 00:00+00', '2024-01-01 00:00+00'::timestamptz + interval '1000000 minutes', '1 minute')),
          1000000::bigint, 'activity(): 1,000,000 bins are allowed');
SELECT is((SELECT count(*) FROM spamhints.activity('2024-01-01 00:00+00', '2024-01-01 00:00:01+00', '1 hour')), 1::bigint,
          'activity(): a window shorter than the bin is one bin');
SELECT is((SELECT count(*) FROM spamhints.activity('2024-01-01 00:00+00', '2024-01-01 00:00+00', '1 hour')), 0::bigint,
          'activity(): an empty window has no bin');
SELECT throws_ok($$SELECT count(*) FROM spamhints.activity('2024-01-02', '2024-01-01', '1 hour')$$, '22023', NULL,
          'activity(): a window that ends before it starts is an error (22023; 07_inputs checks the message)');
SELECT is((SELECT count(*) FROM spamhints.activity('2024-01-01', '2024-01-02', NULL)), 0::bigint,
          'activity(): a NULL bin gives no rows');
SELECT throws_ok($$SELECT count(*) FROM spamhints.activity('2024-01-01 00:00+00', '2024-01-01 00:00+00'::timestamptz + interval '1000000 minutes 1 microsecond', '1 minute')$$,
                 '54000', 'activity() would return 1000001 bins, more than 1000000',
                 'activity(): 1,000,001 bins are an error (54000)');
SELECT throws_ok($$SELECT count(*) FROM spamhints.activity('1925-01-01', '2025-01-01', '1 second')$$,
                 '54000', 'activity() would return 3155760000 bins, more than 1000000',
                 'activity(): a century of 1-second bins is refused at once, before any work');
SELECT throws_ok($$SELECT count(*) FROM (VALUES ('1925-01-01'::timestamptz, '1 second'::interval)) AS v(s, b), LATERAL spamhints.activity(v.s, '2025-01-01', v.b) AS a$$,
                 '54000', NULL, 'activity(): the same with the window and bin taken from a query');
SET LOCAL statement_timeout = 0;
SELECT throws_ok($$SELECT * FROM spamhints.activity('2024-01-01', '2024-01-02', '0 seconds')$$,
                 '22023', 'activity() bin must be longer than zero, not 00:00:00', 'activity(): a bin of zero is an error (22023)');
SELECT throws_ok($$SELECT * FROM spamhints.activity('2024-01-01', '2024-01-02', '-1 hour')$$,
                 '22023', 'activity() bin must be longer than zero, not -01:00:00', 'activity(): a negative bin is an error (22023)');
SELECT throws_ok($$SELECT * FROM spamhints.activity('2024-01-01', '2025-01-02', '1 month')$$,
                 '22023', 'activity() bin cannot contain months or years, not 1 mon', 'activity(): a bin of months is an error (22023)');
SELECT throws_ok($$SELECT * FROM spamhints.activity('2024-01-01', 'infinity', '1 day')$$,
                 '22023', 'activity() window must be finite', 'activity(): an infinite window is an error (22023)');
SELECT has_view('spamhints', 'endpoint', 'view endpoint');
SELECT has_view('spamhints', 'ip_census', 'view ip_census');
SELECT has_view('spamhints', 'client_as_top', 'view client_as_top');
SELECT has_view('spamhints', 'client_cc_top', 'view client_cc_top');
SELECT results_eq($$SELECT c.ips, c.client_only, c.server_only, c.both FROM spamhints.ip_census c$$,
                  $$SELECT (spamhints.smtp_census(ip, role)).* FROM spamhints.endpoint$$,
                  'ip_census = smtp_census over endpoint');
SELECT results_eq($$SELECT clients + servers + "both" FROM spamhints.client_as_top ORDER BY asn$$,
                  $$SELECT ips FROM spamhints.client_as_top ORDER BY asn$$,
                  'ips = clients + servers + both');
SELECT * FROM finish();
ROLLBACK;
