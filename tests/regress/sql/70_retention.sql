-- 70_retention: personal data is kept only as long as the retention
-- setting says; spamhints.purge() deletes what is older.
CREATE EXTENSION IF NOT EXISTS spamhints;
\set ECHO none
\pset format unaligned
\pset tuples_only true
SET TimeZone = 'UTC';
BEGIN;
SELECT plan(14);

INSERT INTO spamhints.load (file_name, sha256, finished_at) VALUES ('old.pcap', repeat('c', 64), now());
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port)
SELECT l.load_id, n, '2007-01-01 00:00+00'::timestamptz + n * interval '10 days', '192.0.2.250', n, 1000,
       '192.0.2.7', '198.51.100.25', 40000 + n, 25
FROM spamhints.load l, generate_series(1, 10) AS n
WHERE l.file_name = 'old.pcap';          -- 2007-01-11 ... 2007-04-11
INSERT INTO spamhints.maillog_load (file_name, sha256, format, timezone, finished_at)
  VALUES ('old.log', repeat('d', 64), 'postfix', 'UTC', now());
INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, client_ip, verdict, sender, recipients)
SELECT m.maillog_load_id, n, '2007-01-01 00:00+00'::timestamptz + n * interval '10 days', '192.0.2.7', 'spam',
       'someone@example.org', '{user@example.net}'
FROM spamhints.maillog_load m, generate_series(1, 10) AS n;
INSERT INTO spamhints.agreement (isp, abuse_address, networks, agreed_at) VALUES ('Agreed ISP', 'abuse@agreed.example', '{192.0.2.0/24}', '2007-01-01 00:00+00');
INSERT INTO spamhints.report_log (report_id, agreement_id, abuse_address, source_ip, period, evidence, new_evidence,
                                  diagnosis, items, reported_at, message_id, message)
SELECT n, a.agreement_id, a.abuse_address, '192.0.2.7', tstzrange('2007-01-01', '2007-01-02'), '{spam}', '{spam}',
       '{"spam sender"}', 1, '2007-01-01 00:00+00'::timestamptz + n * interval '10 days', '<r' || n || '>', 'report'
FROM spamhints.agreement a, generate_series(1, 10) AS n;
INSERT INTO spamhints.incoming_report (received_at, source_ip)
SELECT '2007-01-01 00:00+00'::timestamptz + n * interval '10 days', '198.51.100.7' FROM generate_series(1, 10) AS n;
INSERT INTO spamhints.ip_assignment (customer_id, network, during) VALUES
  ('cust-old', '198.51.100.7', '[2007-01-01 00:00+00, 2007-02-01 00:00+00)'),   -- ended long ago
  ('cust-new', '198.51.100.7', '[2007-03-01 00:00+00, 2007-04-01 00:00+00)'),   -- ended after the cutoff
  ('cust-now', '198.51.100.7', '[2007-04-01 00:00+00,)');                       -- still running
INSERT INTO spamhints.ip_assignment (customer_id, network) VALUES ('cust-static', '198.51.100.16/29');

-- 2007-04-15, keeping 60 days: the cutoff is 2007-02-14
SELECT results_eq($$SELECT table_name, deleted, cutoff FROM spamhints.purge('60 days', '2007-04-15 00:00+00')$$,
  $$VALUES ('smtp_sample', 4::bigint, '2007-02-14 00:00+00'::timestamptz),
           ('mail_event', 4, '2007-02-14 00:00+00'), ('report_log', 4, '2007-02-14 00:00+00'),
           ('incoming_report', 4, '2007-02-14 00:00+00'), ('ip_assignment', 1, '2007-02-14 00:00+00')$$,
  'purge: the rows older than the retention, table by table');
SELECT is((SELECT min(ts) FROM spamhints.smtp_sample), '2007-02-20 00:00+00'::timestamptz, 'samples: the oldest left is after the cutoff');
SELECT is((SELECT min(ts) FROM spamhints.mail_event), '2007-02-20 00:00+00'::timestamptz, 'mail events (senders, recipients) too');
SELECT is((SELECT min(reported_at) FROM spamhints.report_log), '2007-02-20 00:00+00'::timestamptz, 'reports sent too');
SELECT is((SELECT min(received_at) FROM spamhints.incoming_report), '2007-02-20 00:00+00'::timestamptz, 'reports received too');
SELECT is((SELECT array_agg(customer_id ORDER BY customer_id) FROM spamhints.ip_assignment), '{cust-new,cust-now,cust-static}'::text[],
          'assignments that ended before the cutoff; running and static ones stay');
SELECT is((SELECT count(*) FROM spamhints.load) + (SELECT count(*) FROM spamhints.maillog_load), 2::bigint,
          'the load records stay, so a purged file is not loaded again');

-- the setting
SET LOCAL spamhints.retention = '30 days';
SELECT results_eq($$SELECT table_name, deleted FROM spamhints.purge(at => '2007-04-15 00:00+00')$$,
  $$VALUES ('smtp_sample', 3::bigint), ('mail_event', 3), ('report_log', 3), ('incoming_report', 3), ('ip_assignment', 0)$$,
  'purge() without a retention takes the setting spamhints.retention (30 days: cutoff 2007-03-16)');
RESET spamhints.retention;
SELECT is((SELECT count(*) FROM spamhints.purge(at => '2007-04-15 00:00+00') WHERE deleted > 0), 0::bigint,
          'the default, 90 days, deletes nothing more');
SELECT is((SELECT sum(deleted) FROM spamhints.purge('0 seconds', '2030-01-01 00:00+00') WHERE table_name <> 'ip_assignment')::bigint, 12::bigint,
          'keeping nothing deletes the rest');
SELECT is((SELECT count(*) FROM spamhints.ip_assignment), 2::bigint, 'except running and static assignments');
SELECT throws_ok($$SELECT * FROM spamhints.purge('forever')$$, '22007', NULL, 'a retention that is not an interval is an error');
SET IntervalStyle = 'postgres';
SELECT throws_ok($$SELECT * FROM spamhints.purge('-1 day', '2007-04-15 00:00+00')$$, '22023',
                 'purge() retention must not be negative, not -1 days', 'a negative retention is an error (it would delete the future)');
SELECT throws_ok($$SELECT * FROM spamhints.purge('1 day', 'infinity')$$, '22023',
                 'purge() at must be finite', 'an infinite time is an error (it would delete everything)');

SELECT * FROM finish();
ROLLBACK;
