-- 51_maillog: the mail log tables, the slides' per-day views, and incoming
-- ARF reports read by parse_arf() and receive_arf().
CREATE EXTENSION IF NOT EXISTS spamhints;
\set ECHO none
\pset format unaligned
\pset tuples_only true
SET TimeZone = 'UTC';
BEGIN;
SELECT plan(27);

SELECT has_table('spamhints', 'maillog_load', 'table maillog_load');
SELECT has_table('spamhints', 'mail_event', 'table mail_event');
SELECT has_table('spamhints', 'incoming_report', 'table incoming_report');
SELECT col_type_is('spamhints', 'mail_event', 'client_ip', 'inet', 'client_ip is inet');
SELECT col_type_is('spamhints', 'mail_event', 'recipients', 'text[]', 'recipients is text[]');

-- a mail log is loaded once as each format: its hash is unique with its
-- format; a finished load has one
INSERT INTO spamhints.maillog_load (file_name, sha256, format, timezone, finished_at)
  VALUES ('mainlog', repeat('a', 64), 'exim', 'Europe/London', now());
SELECT throws_ok($$INSERT INTO spamhints.maillog_load (file_name, sha256, format, timezone)
                   VALUES ('mainlog.1', repeat('a', 64), 'exim', 'UTC')$$,
                 '23505', NULL, 'the same log cannot be loaded twice');
SELECT lives_ok($$INSERT INTO spamhints.maillog_load (file_name, sha256, format, timezone, finished_at)
                  VALUES ('mainlog', repeat('a', 64), 'postfix', 'UTC', now())$$,
                'the same log as another format is another load: the format is part of the key');
DELETE FROM spamhints.maillog_load WHERE format = 'postfix';
SELECT throws_ok($$INSERT INTO spamhints.maillog_load (file_name, format, timezone, finished_at)
                   VALUES ('x', 'exim', 'UTC', now())$$,
                 '23514', NULL, 'a finished load without a hash is refused');
SELECT throws_ok($$INSERT INTO spamhints.maillog_load (file_name, format, timezone) VALUES ('x', 'sendmail', 'UTC')$$,
                 '23514', NULL, 'only exim and postfix logs');
SELECT throws_ok($$INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, client_ip, verdict)
                   SELECT maillog_load_id, 1, now(), '192.0.2.1', 'suspicious' FROM spamhints.maillog_load$$,
                 '23514', NULL, 'a verdict is clean, spam, virus or rejected');
SELECT throws_ok($$INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, client_ip, verdict)
                   VALUES (-1, 1, now(), '192.0.2.1', 'spam')$$,
                 '23503', NULL, 'an event of no load is refused');

-- three days of events: detections per day, in UTC days
INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, client_ip, verdict, virus)
SELECT m.maillog_load_id, v.line, v.ts::timestamptz, v.ip::inet, v.verdict, v.virus
FROM spamhints.maillog_load m, (VALUES
  (1, '2007-03-13 23:59:59+00', '192.0.2.1', 'spam', NULL),
  (2, '2007-03-14 00:00:00+00', '192.0.2.1', 'spam', NULL),
  (3, '2007-03-14 00:30:00+01', '192.0.2.2', 'spam', NULL),
  (4, '2007-03-14 10:00:00+00', '192.0.2.3', 'virus', 'Worm.Mydoom.M'),
  (5, '2007-03-14 11:00:00+00', '192.0.2.3', 'virus', 'Worm.Mydoom.M'),
  (6, '2007-03-14 12:00:00+00', '192.0.2.4', 'virus', 'W32.Netsky'),
  (7, '2007-03-14 13:00:00+00', '192.0.2.5', 'rejected', NULL),
  (8, '2007-03-14 14:00:00+00', '192.0.2.6', 'clean', NULL),
  (9, '2007-03-16 14:00:00+00', '192.0.2.6', 'spam', NULL)) AS v(line, ts, ip, verdict, virus);

SELECT results_eq(
  $$SELECT day, spam, virus, rejected, clean, spam_sources, virus_sources FROM spamhints.detections_per_day$$,
  $$VALUES ('2007-03-13'::date, 2::bigint, 0::bigint, 0::bigint, 0::bigint, 2::bigint, 0::bigint),
           ('2007-03-14', 1, 3, 1, 1, 1, 2),
           ('2007-03-16', 1, 0, 0, 0, 1, 0)$$,
  'detections_per_day: spam and viruses per UTC day (00:30+01 is the 13th), events and distinct sources');
SET LOCAL TimeZone = 'Asia/Tokyo';
SELECT is((SELECT count(*) FROM spamhints.detections_per_day), 3::bigint, 'the same UTC days whatever the session''s TimeZone');
SET LOCAL TimeZone = 'UTC';

-- incoming reports: an ARF report as another ISP sends it (CRLF, folded
-- lines, a comment in the date, two recipients, RFC 6692 Source-Port)
SELECT is(spamhints.receive_arf(E'From: Abuse Desk <abuse@other.example>\r\n'
  'To: abuse@example.net\r\n'
  'Subject: FW: spam from your network\r\n'
  'MIME-Version: 1.0\r\n'
  'Content-Type: multipart/report; report-type=feedback-report;\r\n'
  '\tboundary="part"\r\n'
  '\r\n'
  '--part\r\n'
  'Content-Type: text/plain\r\n'
  '\r\n'
  'We received spam from your customer.\r\n'
  '--part\r\n'
  'Content-Type: message/feedback-report\r\n'
  '\r\n'
  'Feedback-Type: abuse\r\n'
  'User-Agent: SomeGenerator/1.0\r\n'
  'Version: 1\r\n'
  'Original-Mail-From: <someone@example.net>\r\n'
  'Original-Rcpt-To: <user1@other.example>\r\n'
  'Original-Rcpt-To: <user2@other.example>\r\n'
  'Arrival-Date: Wed, 14 Mar 2007\r\n'
  '  10:15:01 +0100 (CET)\r\n'
  'Source-IP: 198.51.100.7\r\n'
  'Source-Port: 40001\r\n'
  'Incidents: 3\r\n'
  'Reported-Domain: example.net\r\n'
  '\r\n'
  '--part\r\n'
  'Content-Type: text/rfc822-headers\r\n'
  '\r\n'
  'Received: from pc-7 ([198.51.100.7]) by mx.other.example\r\n'
  '--part--\r\n', '2007-03-14 12:00+00'), 1::bigint, 'receive_arf files an ARF report');
SELECT results_eq(
  $$SELECT reporter, feedback_type, user_agent, source_ip, source_port, arrival_date, incidents,
           original_mail_from, original_rcpt_to, reported_domain, received_at, message IS NOT NULL
    FROM spamhints.incoming_report$$,
  $$VALUES ('abuse@other.example', 'abuse', 'SomeGenerator/1.0', '198.51.100.7'::inet, 40001,
            '2007-03-14 09:15:01+00'::timestamptz, 3, 'someone@example.net',
            '{user1@other.example,user2@other.example}'::text[], '{example.net}'::text[],
            '2007-03-14 12:00+00'::timestamptz, true)$$,
  'with every field: unfolded, the date''s comment and zone read, both recipients');

SELECT is((SELECT feedback_type FROM spamhints.parse_arf(E'From: x@y\n\n--b\nContent-type: MESSAGE/FEEDBACK-REPORT\n\nFeedback-Type: Virus\nSource-IP: not-an-address\nIncidents: many\n--b--\n')),
          'virus', 'parse_arf: names and content types in any case');
SELECT is((SELECT row(source_ip, incidents)::text FROM spamhints.parse_arf(E'From: x@y\n\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nSource-IP: not-an-address\nIncidents: many\n--b--\n')),
          '(,)', 'parse_arf: a field that cannot be read is left NULL, the rest is kept');
-- an outsider's report that names a network, a port past 65535, a date that is a word
-- PostgreSQL reads ("now", "epoch", "infinity") or a negative count: each field left out
SELECT is((SELECT row(source_ip, source_port, arrival_date, incidents)::text
           FROM spamhints.parse_arf(E'From: x@y\n\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nSource-IP: 10.0.0.0/8\nSource-Port: 99999\nArrival-Date: now\nIncidents: -5\n--b--\n')),
          '(,,,)', 'parse_arf: a network, a port out of range, a word for a date, a negative count are left NULL');
SELECT is((SELECT row(source_ip, source_port, arrival_date, incidents)::text
           FROM spamhints.parse_arf(E'From: x@y\n\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nSource-IP: 2001:db8::/32\nSource-Port: -1\nArrival-Date: infinity\nIncidents: 0\n--b--\n')),
          '(,,,)', 'parse_arf: an IPv6 network, port -1, an infinite date, no incidents are left NULL');
SELECT throws_ok($$SELECT * FROM spamhints.parse_arf(E'From: x@y\nSubject: hello\n\nJust a message.\n')$$,
                 '22P02', 'not an ARF report: no message/feedback-report part', 'parse_arf: a message that is not ARF is an error');
SELECT is(spamhints.receive_arf(E'From: fbl@big.example\n\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nSource-IP: 198.51.100.8\n--b--\n',
                                '2007-03-14 23:59:59+00', false) > 0, true, 'receive_arf: another one the same day, without keeping the message');
SELECT is((SELECT message FROM spamhints.incoming_report WHERE source_ip = '198.51.100.8'), NULL, 'keep_message => false keeps only the fields');
INSERT INTO spamhints.incoming_report (received_at, reporter, source_ip) VALUES ('2007-03-15 00:00+00', 'abuse@other.example', '198.51.100.7');
SELECT results_eq(
  $$SELECT day, reports, addresses, reporters FROM spamhints.incoming_reports_per_day$$,
  $$VALUES ('2007-03-14'::date, 2::bigint, 2::bigint, 2::bigint), ('2007-03-15', 1, 1, 1)$$,
  'incoming_reports_per_day: reports received per UTC day, the addresses and reporters');

-- every table of the workflow is dumped with its data
SELECT ok(bool_and(t::regclass = ANY (e.extconfig)), 'pg_dump keeps the workflow''s tables')
FROM pg_extension e, unnest(ARRAY['spamhints.ip_assignment', 'spamhints.maillog_load', 'spamhints.mail_event',
                                  'spamhints.incoming_report', 'spamhints.agreement', 'spamhints.report_log']) AS t
WHERE e.extname = 'spamhints';

-- the settings and their defaults
SELECT results_eq($$SELECT name, value FROM spamhints.settings ORDER BY name$$,
  $$VALUES ('report_from', ''), ('report_max_items', '100'), ('report_min_minutes', '2'), ('report_min_samples', '3'),
           ('report_suppression', '7 days'), ('reporting_mta', ''), ('retention', '90 days')$$,
  'the settings and their defaults (report_from and reporting_mta have none: unset)');
SET LOCAL spamhints.retention = '30 days';
SELECT is(spamhints.setting('retention'), '30 days', 'a setting set with SET');
SELECT throws_ok($$SELECT spamhints.setting('nonsense')$$, '42704', NULL, 'an unknown setting is an error');

SELECT * FROM finish();
ROLLBACK;
