-- 71_scheduled: the daily figures and the report queue (materialized views),
-- spamhints.refresh(), and the pg_cron schedule of spamhints.cron_jobs().
-- (tests/e2e/workflow_cron.sh runs the schedule in a cluster with pg_cron.)
CREATE EXTENSION IF NOT EXISTS spamhints;
\set ECHO none
\pset format unaligned
\pset tuples_only true
SET TimeZone = 'UTC';
BEGIN;
SELECT plan(20);

SELECT has_materialized_view('spamhints', 'daily_figures', 'materialized view daily_figures');
SELECT has_materialized_view('spamhints', 'report_queue', 'materialized view report_queue');
SELECT is((SELECT count(*) FROM spamhints.daily_figures), 0::bigint, 'populated, empty, at CREATE EXTENSION');

-- two days of samples, mail events, reports received; a customer
INSERT INTO spamhints.ip_assignment (customer_id, network) VALUES ('cust-S', '198.51.100.16/29');
INSERT INTO spamhints.load (file_name, sha256, finished_at) VALUES ('days.pcap', repeat('e', 64), now());
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port)
SELECT l.load_id, v.frame, v.ts::timestamptz, '192.0.2.250', v.frame, 1000, v.src::inet, v.dst::inet, v.sp, v.dp
FROM spamhints.load l, (VALUES
  (1, '2007-03-14 01:00+00', '198.51.100.17', '203.0.113.25', 40000, 25),
  (2, '2007-03-14 02:00+00', '198.51.100.18', '203.0.113.25', 40000, 25),
  (3, '2007-03-14 03:00+00', '203.0.113.25', '198.51.100.17', 25, 40000),
  (4, '2007-03-15 01:00+00', '192.0.2.7', '203.0.113.25', 40000, 25)) AS v(frame, ts, src, dst, sp, dp)
WHERE l.file_name = 'days.pcap';
INSERT INTO spamhints.maillog_load (file_name, sha256, format, timezone, finished_at) VALUES ('days.log', repeat('f', 64), 'exim', 'UTC', now());
INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, client_ip, verdict)
SELECT m.maillog_load_id, v.line, v.ts::timestamptz, v.ip::inet, v.verdict
FROM spamhints.maillog_load m, (VALUES
  (1, '2007-03-14 05:00+00', '198.51.100.17', 'spam'), (2, '2007-03-14 06:00+00', '192.0.2.7', 'virus'),
  (3, '2007-03-15 05:00+00', '198.51.100.17', 'rejected')) AS v(line, ts, ip, verdict);
INSERT INTO spamhints.incoming_report (received_at, source_ip) VALUES ('2007-03-16 09:00+00', '198.51.100.17');

SELECT is((SELECT count(*) FROM spamhints.daily_figures), 0::bigint, 'a materialized view: nothing new before refresh()');
SELECT lives_ok('SELECT spamhints.refresh()', 'refresh() refreshes both');
SELECT results_eq($$SELECT * FROM spamhints.daily_figures ORDER BY day$$,
  $$VALUES ('2007-03-14'::date, 3::bigint, 3000::bigint, 2::bigint, 1::bigint, 1::bigint, 1::bigint, 0::bigint, 1::bigint, 1::bigint, 0::bigint, 0::bigint, 0::bigint, 763::bigint, 8164::bigint),
           ('2007-03-15', 1, 1000, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 50, 4932),
           ('2007-03-16', 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, NULL)$$,
  'daily_figures: per UTC day, samples, estimate, client addresses, customer senders, spam, virus, rejected, customers caught (new), reports in, produced and sent, the estimate''s 95% bounds (3 at 1 in 1000: 1000 x 0.7631 to 1000 x 8.1645; 1: 1000 x 0.0500 to 1000 x 4.9319; none: 0, no upper bound)');
SELECT lives_ok('SELECT spamhints.refresh()', 'refresh() again (concurrently: readers are not blocked)');
SELECT is((SELECT count(*) FROM spamhints.daily_figures), 3::bigint, 'the same figures');

-- the report queue: yesterday's candidates, as of the refresh (one sampled
-- packet is enough here)
SET LOCAL spamhints.report_min_samples = 1;
SET LOCAL spamhints.report_min_minutes = 1;
SET LOCAL spamhints.report_from = 'abuse@isp.example';
SET LOCAL spamhints.reporting_mta = 'mx.isp.example';
INSERT INTO spamhints.agreement (isp, abuse_address, networks, agreed_at) VALUES ('Agreed ISP', 'abuse@agreed.example', '{192.0.2.0/24}', '2007-01-01 00:00+00');
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port)
SELECT l.load_id, 5, lower(spamhints.yesterday()) + interval '10 hours', '192.0.2.250', 5, 1000, '192.0.2.9', '203.0.113.25', 40000, 25
FROM spamhints.load l WHERE l.file_name = 'days.pcap';
SELECT lives_ok('SELECT spamhints.refresh()', 'refresh() with yesterday''s evidence');
SELECT results_eq($$SELECT period, isp, source_ip, evidence, suppressed FROM spamhints.report_queue$$,
  $$SELECT spamhints.yesterday(), 'Agreed ISP'::text, '192.0.2.9'::inet, '{traffic}'::text[], false$$,
  'report_queue: yesterday''s (UTC) addresses of agreed ISPs with evidence');
SELECT results_eq($$SELECT samples, est_packets, est_packets_low, est_packets_high FROM spamhints.report_queue$$,
  $$VALUES (1::bigint, 1000::bigint, 50::bigint, 4932::bigint)$$,
  'report_queue: the estimate with its 95% bounds (one sample at 1 in 1000: 1000 x 0.0500 to 1000 x 4.9319)');
SELECT results_eq($$SELECT est_packets_low, est_packets_high FROM spamhints.report_candidates(spamhints.yesterday())$$,
  $$VALUES (50::bigint, 4932::bigint)$$,
  'report_candidates(): est_packets_low and est_packets_high');
SELECT is((SELECT count(*) FROM spamhints.report()), 1::bigint, 'report() with no arguments reports yesterday');
SELECT lives_ok('SELECT spamhints.refresh()', 'refresh() after the report');
SELECT is((SELECT suppressed FROM spamhints.report_queue), true, 'after it, the queue shows the address as reported');
-- produced is not sent: sent is what the mailer marks
SELECT results_eq($$SELECT day, reports_produced, reports_sent FROM spamhints.daily_figures WHERE reports_produced + reports_sent > 0$$,
  $$VALUES ((now() AT TIME ZONE 'UTC')::date, 1::bigint, 0::bigint)$$,
  'daily_figures: a report produced, none sent');
UPDATE spamhints.report_log SET sent_at = now() + interval '1 day';
DO $$ BEGIN PERFORM spamhints.refresh(); END $$;
SELECT results_eq($$SELECT day, reports_produced, reports_sent FROM spamhints.daily_figures WHERE reports_produced + reports_sent > 0 ORDER BY day$$,
  $$VALUES ((now() AT TIME ZONE 'UTC')::date, 1::bigint, 0::bigint), ((now() AT TIME ZONE 'UTC')::date + 1, 0, 1)$$,
  'daily_figures: sent on the day the mailer sent it');

-- the schedule
SELECT results_eq($$SELECT jobname, schedule, command FROM spamhints.cron_jobs()$$,
  $$VALUES ('spamhints-refresh', '5 * * * *', 'SELECT spamhints.refresh()'),
           ('spamhints-report', '30 0 * * *', 'SELECT count(*) FROM spamhints.report()'),
           ('spamhints-purge', '0 3 * * *', 'SELECT * FROM spamhints.purge()'),
           ('spamhints-fold', '45 * * * *', 'SELECT spamhints.rollup_fold()')$$,
  'cron_jobs: refresh hourly, report yesterday at 00:30, purge at 03:00, fold the rollups hourly at :45');
SELECT is((SELECT count(*) FROM spamhints.cron_jobs() WHERE array_length(regexp_split_to_array(schedule, ' '), 1) = 5), 4::bigint,
          'each schedule has the five fields of cron');

-- the human-readable part gives the bounds of the estimate from port 25 too:
-- one sampled packet from 192.0.2.9:25 at 1 in 1000 (new evidence: server)
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port)
SELECT l.load_id, 6, lower(spamhints.yesterday()) + interval '11 hours', '192.0.2.250', 6, 1000, '192.0.2.9', '198.51.100.40', 25, 40000
FROM spamhints.load l WHERE l.file_name = 'days.pcap';
SELECT matches(spamhints.report_human(i, spamhints.yesterday(), '<m@isp.example>'),
               E'In all: 1 sampled \\(about 1,000 packets, 95% bounds 50 to 4,932\\) to 1 client\n  in 1 network',
               'report_human: packets from port 25 with the 95% bounds of their estimate (1000 x 0.0500 to 1000 x 4.9319)')
FROM spamhints.report_items(spamhints.yesterday()) AS i;

SELECT * FROM finish();
ROLLBACK;
