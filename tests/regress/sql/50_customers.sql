-- 50_customers: time-aware customers (spamhints.ip_assignment), who held an
-- address when, filling it from your own table, and customer_sender on
-- hand-built samples and mail events.
CREATE EXTENSION IF NOT EXISTS spamhints;
\set ECHO none
\pset format unaligned
\pset tuples_only true
SET TimeZone = 'UTC';
BEGIN;
SELECT plan(35);

-- 198.51.100.7 is dynamic: cust-A leases it 08:00-12:00, cust-B 12:00-18:00;
-- cust-S has the static 198.51.100.16/29; 2001:db8:7::/48 is cust-V's.
INSERT INTO spamhints.ip_assignment (customer_id, network, during) VALUES
  ('cust-A', '198.51.100.7', '[2007-03-14 08:00+00, 2007-03-14 12:00+00)'),
  ('cust-B', '198.51.100.7', '[2007-03-14 12:00+00, 2007-03-14 18:00+00)');
INSERT INTO spamhints.ip_assignment (customer_id, network) VALUES
  ('cust-S', '198.51.100.16/29'), ('cust-V', '2001:db8:7::/48');

SELECT throws_ok($$INSERT INTO spamhints.ip_assignment VALUES
                   ('cust-C', '198.51.100.7', '[2007-03-14 11:00+00, 2007-03-14 13:00+00)')$$,
                 '23P01', NULL, 'an overlapping lease of the same address is refused');
SELECT throws_ok($$INSERT INTO spamhints.ip_assignment VALUES
                   ('cust-C', '198.51.100.0/24', '[2007-03-14 09:00+00, 2007-03-14 10:00+00)')$$,
                 '23P01', NULL, 'a prefix that overlaps an assigned address at the same time is refused');
SELECT throws_ok($$INSERT INTO spamhints.ip_assignment (customer_id, network) VALUES ('cust-C', '198.51.100.20')$$,
                 '23P01', NULL, 'a static address inside a static prefix of another customer is refused');
SELECT throws_ok($$INSERT INTO spamhints.ip_assignment VALUES
                   ('cust-C', '198.51.100.8', '[2007-03-14 10:00+00, 2007-03-14 10:00+00)')$$,
                 '23514', NULL, 'an empty lease is refused');
SELECT lives_ok($$INSERT INTO spamhints.ip_assignment VALUES
                  ('cust-C', '198.51.100.7', '[2007-03-14 18:00+00, 2007-03-14 20:00+00)')$$,
                'a lease that starts when the last one ends is accepted');
SELECT lives_ok($$INSERT INTO spamhints.ip_assignment VALUES
                  ('cust-D', '198.51.100.0/28', '[2007-01-01 00:00+00, 2007-02-01 00:00+00)')$$,
                'a prefix lease before all of these is accepted');

SELECT is(spamhints.customer_at('198.51.100.7', '2007-03-14 09:00+00'), 'cust-A', 'customer_at: the holder of the lease');
SELECT is(spamhints.customer_at('198.51.100.7', '2007-03-14 12:00+00'), 'cust-B', 'customer_at: at the hand-over, the new holder');
SELECT is(spamhints.customer_at('198.51.100.7', '2007-03-14 11:59:59.999999+00'), 'cust-A', 'customer_at: a microsecond before, the old one');
SELECT is(spamhints.customer_at('198.51.100.7', '2007-03-14 07:59:59+00'), NULL, 'customer_at: before any lease, nobody');
SELECT is(spamhints.customer_at('198.51.100.7', '2007-01-15 00:00+00'), 'cust-D', 'customer_at: the prefix lease of January');
SELECT is(spamhints.customer_at('198.51.100.20', '2030-01-01 00:00+00'), 'cust-S', 'customer_at: a static prefix, at any time');
SELECT is(spamhints.customer_at('2001:db8:7:1::99', '2007-03-14 00:00+00'), 'cust-V', 'customer_at: IPv6');

-- the lookup uses the GiST index behind the exclusion constraint
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; t text := '';
BEGIN
  FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP t := t || r || E'\n'; END LOOP;
  RETURN t;
END $$;
SET LOCAL enable_seqscan = off;
SELECT matches(pg_temp.plan_of($$SELECT customer_id FROM spamhints.ip_assignment
                                WHERE network >>= '198.51.100.7'::inet AND during @> '2007-03-14 09:00+00'::timestamptz$$),
               'ip_assignment_no_overlap', 'who held an address when: an index scan of the GiST index');
RESET enable_seqscan;

-- samples: 198.51.100.7 sends mail at 07:30 (no lease), 09:00 and 10:00
-- (cust-A), 13:00 (cust-B), 19:00 (cust-C) and 21:00 (no lease);
-- 198.51.100.17 (cust-S) sends twice and answers once as a server;
-- 2001:db8:7::5 (cust-V) once; 192.0.2.1 is nobody's.
INSERT INTO spamhints.load (file_name, sha256, finished_at) VALUES ('customers.pcap', repeat('6', 64), now());
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
                                   src_ip, dst_ip, src_port, dst_port, tcp_flags)
SELECT l.load_id, v.frame, v.ts::timestamptz, '192.0.2.250', v.frame, v.rate, v.src::inet, v.dst::inet, v.sp, v.dp, 2
FROM spamhints.load l, (VALUES
  (1, '2007-03-14 07:30+00', '198.51.100.7',  '203.0.113.25', 40000, 25, 1000),
  (2, '2007-03-14 09:00+00', '198.51.100.7',  '203.0.113.25', 40001, 25, 1000),
  (3, '2007-03-14 10:00+00', '198.51.100.7',  '203.0.113.26', 40002, 25, 2000),
  (4, '2007-03-14 13:00+00', '198.51.100.7',  '203.0.113.25', 40003, 25, 1000),
  (5, '2007-03-14 19:00+00', '198.51.100.7',  '203.0.113.27', 40004, 25, 1000),
  (6, '2007-03-14 21:00+00', '198.51.100.7',  '203.0.113.27', 40005, 25, 1000),
  (7, '2007-03-14 03:10+00', '198.51.100.17', '203.0.113.25', 40006, 25, 512),
  (8, '2007-03-14 03:20+00', '198.51.100.17', '203.0.113.28', 40007, 25, 512),
  (9, '2007-03-14 03:30+00', '198.51.100.17', '203.0.113.29', 25, 40008, 512),
  (10, '2007-03-14 04:00+00', '2001:db8:7::5', '2001:db8:99::25', 50000, 25, 4096),
  (11, '2007-03-14 05:00+00', '192.0.2.1',     '203.0.113.25', 40009, 25, 1000))
  AS v(frame, ts, src, dst, sp, dp, rate)
WHERE l.file_name = 'customers.pcap';

SELECT results_eq(
  $$SELECT customer_id, addresses::text, first_seen, last_seen, samples, est_packets, servers
    FROM spamhints.customer_sender ORDER BY customer_id$$,
  $$VALUES ('cust-A', '{198.51.100.7}', '2007-03-14 09:00+00'::timestamptz, '2007-03-14 10:00+00'::timestamptz, 2::bigint, 3000::bigint, 2::bigint),
           ('cust-B', '{198.51.100.7}', '2007-03-14 13:00+00', '2007-03-14 13:00+00', 1, 1000, 1),
           ('cust-C', '{198.51.100.7}', '2007-03-14 19:00+00', '2007-03-14 19:00+00', 1, 1000, 1),
           ('cust-S', '{198.51.100.17}', '2007-03-14 03:10+00', '2007-03-14 03:20+00', 2, 1024, 2),
           ('cust-V', '{2001:db8:7::5}', '2007-03-14 04:00+00', '2007-03-14 04:00+00', 1, 4096, 1)$$,
  'customer_sender: each sample belongs to whoever held its address at its time; server replies and other addresses are not counted');
SELECT is((SELECT samples FROM spamhints.customer_sender WHERE customer_id = 'cust-A'), 2::bigint,
          'a customer with a dynamic address is matched only inside its lease (not at 07:30, 13:00, 19:00, 21:00)');
SELECT is((SELECT count(*) FROM spamhints.customer_sender WHERE '198.51.100.7' = ANY (addresses)), 3::bigint,
          'the same address gives three customers, one per lease');
SELECT is((SELECT (hourly::bigint[])[10:11] FROM spamhints.customer_sender WHERE customer_id = 'cust-A'), '{1,1}'::bigint[],
          'hourly: cust-A at 09:00 and 10:00');
SELECT is((SELECT (hourly::bigint[])[4] FROM spamhints.customer_sender WHERE customer_id = 'cust-S'), 2::bigint,
          'hourly: cust-S twice at 03:00');
SELECT is((SELECT count(*) FROM spamhints.customer_sender WHERE caught), 0::bigint, 'no mail logs yet: nobody caught');

-- the mail logs catch 198.51.100.7 sending spam at 13:30 (cust-B's time),
-- and a virus from 198.51.100.17 (cust-S); clean mail catches nobody
INSERT INTO spamhints.maillog_load (file_name, sha256, format, timezone, finished_at)
  VALUES ('mainlog', repeat('7', 64), 'exim', 'UTC', now());
INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, client_ip, verdict, virus)
SELECT m.maillog_load_id, v.line, v.ts::timestamptz, v.ip::inet, v.verdict, v.virus
FROM spamhints.maillog_load m, (VALUES
  (1, '2007-03-14 13:30+00', '198.51.100.7', 'spam', NULL),
  (2, '2007-03-14 03:15+00', '198.51.100.17', 'virus', 'Worm.Mydoom.M'),
  (3, '2007-03-14 03:16+00', '198.51.100.17', 'virus', 'Worm.Mydoom.M'),
  (4, '2007-03-14 09:30+00', '198.51.100.7', 'clean', NULL)) AS v(line, ts, ip, verdict, virus)
WHERE m.file_name = 'mainlog';

SELECT results_eq(
  $$SELECT customer_id, caught, caught_spam, caught_virus, last_caught FROM spamhints.customer_sender ORDER BY customer_id$$,
  $$VALUES ('cust-A', false, 0::bigint, 0::bigint, NULL::timestamptz),
           ('cust-B', true, 1, 0, '2007-03-14 13:30+00'),
           ('cust-C', false, 0, 0, NULL),
           ('cust-S', true, 0, 2, '2007-03-14 03:16+00'),
           ('cust-V', false, 0, 0, NULL)$$,
  'caught: the mail logs caught the customer who held the address at the time of the event, and only for spam or viruses');
SELECT results_eq(
  $$SELECT day, customers, spam_customers, virus_customers, new_customers FROM spamhints.customers_caught_per_day$$,
  $$VALUES ('2007-03-14'::date, 2::bigint, 1::bigint, 1::bigint, 2::bigint)$$,
  'customers_caught_per_day: two customers caught on the 14th, both for the first time');

-- customer_sender(period): the samples of the period only, bounds as written
SELECT results_eq(
  $$SELECT customer_id, samples, est_packets, servers, caught FROM spamhints.customer_sender('[2007-03-14 09:00+00, 2007-03-14 13:00+00)') ORDER BY customer_id$$,
  $$VALUES ('cust-A', 2::bigint, 3000::bigint, 2::bigint, false)$$,
  'customer_sender([09:00, 13:00)): cust-A''s two samples; 13:00 (cust-B''s) left out');
SELECT results_eq(
  $$SELECT customer_id, samples, est_packets, first_seen, caught_spam FROM spamhints.customer_sender('(2007-03-14 09:00+00, 2007-03-14 13:00+00]') ORDER BY customer_id$$,
  $$VALUES ('cust-A', 1::bigint, 2000::bigint, '2007-03-14 10:00+00'::timestamptz, 0::bigint),
           ('cust-B', 1, 1000, '2007-03-14 13:00+00', 1)$$,
  'customer_sender((09:00, 13:00]): 09:00 out, 13:00 in; cust-B caught by the mail logs (all of them, not only the period''s)');
SELECT results_eq(
  $$SELECT customer_id, samples, servers FROM spamhints.customer_sender(tstzrange('2007-03-14 03:15+00', NULL)) ORDER BY customer_id$$,
  $$VALUES ('cust-A', 2::bigint, 2::bigint), ('cust-B', 1, 1), ('cust-C', 1, 1), ('cust-S', 1, 1), ('cust-V', 1, 1)$$,
  'customer_sender from 03:15 on, unbounded: cust-S''s 03:20 only (its 03:30 is a server reply)');
SELECT is((SELECT count(*) FROM spamhints.customer_sender('empty')), 0::bigint, 'customer_sender(empty): nobody');
SET LOCAL TimeZone = 'Asia/Kolkata';
SELECT is((SELECT (hourly::bigint[])[15:16] FROM spamhints.customer_sender('[2007-03-14 09:00+00, 2007-03-14 13:00+00)')),
          '{1,1}'::bigint[], 'customer_sender(period).hourly in the session''s TimeZone: 09:00 and 10:00 UTC are 14:30 and 15:30 in Kolkata');
SET LOCAL TimeZone = 'UTC';
SELECT results_eq(
  $$SELECT smtp_packets, syn, est_packets FROM spamhints.packet_stats('[2007-03-14 03:00+00, 2007-03-14 05:00+00]')$$,
  $$VALUES (5::bigint, 5::bigint, 6632::bigint)$$,
  'packet_stats([03:00, 05:00]): frames 7 to 11, 3 x 512 + 4096 + 1000 estimated');
SELECT results_eq(
  $$SELECT smtp_packets, est_packets, est_packets_high FROM spamhints.packet_stats('empty')$$,
  $$VALUES (0::bigint, 0::bigint, NULL::bigint)$$,
  'packet_stats(empty): zeros');

-- filling it from your own table, through a view (or a foreign table)
CREATE SCHEMA crm;
CREATE TABLE crm.lease (account integer, ip inet, started timestamptz, stopped timestamptz);
INSERT INTO crm.lease VALUES
  (1001, '198.51.100.7', '2007-03-14 08:00+00', '2007-03-14 12:00+00'),
  (1002, '198.51.100.7', '2007-03-14 12:00+00', NULL),
  (1003, '198.51.100.16', NULL, NULL);
CREATE VIEW crm.lease_view AS
  SELECT 'acct-' || account AS customer_id, ip AS network, tstzrange(started, stopped) AS during FROM crm.lease;
SELECT is(spamhints.replace_assignments('crm.lease_view'), 3::bigint, 'replace_assignments: three rows from a view over your own table');
SELECT results_eq(
  $$SELECT customer_id, network, during FROM spamhints.ip_assignment ORDER BY customer_id$$,
  $$VALUES ('acct-1001', '198.51.100.7/32'::cidr, tstzrange('2007-03-14 08:00+00', '2007-03-14 12:00+00')),
           ('acct-1002', '198.51.100.7/32', tstzrange('2007-03-14 12:00+00', NULL)),
           ('acct-1003', '198.51.100.16/32', tstzrange(NULL, NULL))$$,
  'and they replace every earlier assignment; an open end stays open');
INSERT INTO crm.lease VALUES (1004, '198.51.100.7', '2007-03-15 00:00+00', NULL);
SELECT throws_ok($$SELECT spamhints.replace_assignments('crm.lease_view')$$, '23P01', NULL,
                 'overlapping leases in your table are refused');
SELECT is((SELECT count(*) FROM spamhints.ip_assignment), 3::bigint, 'and the assignments before stay as they were');
SELECT throws_ok($$SELECT spamhints.replace_assignments('crm.nothing_here')$$, '42P01', NULL,
                 'a source that does not exist is an error');

-- a hostile search_path changes nothing
CREATE SCHEMA evil;
CREATE FUNCTION evil.tstzrange(timestamptz, timestamptz) RETURNS tstzrange LANGUAGE sql
  AS $$ SELECT pg_catalog.tstzrange(NULL::timestamptz, NULL::timestamptz) $$;
SET LOCAL search_path = evil, crm, pg_catalog, public;
SELECT is(spamhints.customer_at('198.51.100.7', '2007-03-14 09:00+00'), 'acct-1001', 'customer_at under a hostile search_path');
RESET search_path;

SELECT * FROM finish();
ROLLBACK;
