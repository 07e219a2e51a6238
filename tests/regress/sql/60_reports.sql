-- 60_reports: reports that follow the Best Practice for reporting abuse
-- based on traffic data: only to ISPs that agreed, with the evidence
-- accurately timed in UTC, the warning about personal data, never unduly
-- repetitive; in ARF (RFC 5965 with RFC 6692's Source-Port).
CREATE EXTENSION IF NOT EXISTS spamhints;
\set ECHO none
\pset format unaligned
\pset tuples_only true
SET TimeZone = 'UTC';
BEGIN;
-- a report names where replies go and the host that made it: report()
-- refuses to run without them (tested at the end)
SET LOCAL spamhints.report_from = 'abuse@isp.example';
SET LOCAL spamhints.reporting_mta = 'mx.isp.example';
-- most tests below look at addresses with one or two sampled packets: they
-- lower the evidence needed from traffic alone; the defaults are tested at the end
SET LOCAL spamhints.report_min_samples = 1;
SET LOCAL spamhints.report_min_minutes = 1;
-- numbers in the reports below do not depend on the tests before
ALTER SEQUENCE spamhints.load_load_id_seq RESTART;
ALTER SEQUENCE spamhints.maillog_load_maillog_load_id_seq RESTART;
ALTER SEQUENCE spamhints.report_id_seq RESTART;
SELECT plan(147);

-- who agreed to receive reports
INSERT INTO spamhints.agreement (isp, abuse_address, asns, networks, exclude, agreed_at, reference, include_mail_addresses) VALUES
  ('Agreed ISP', 'abuse@agreed.example', '{64501}', '{192.0.2.0/25}', '{192.0.2.25/32}', '2007-01-01 00:00+00', 'letter of 2007-01-01', true);
INSERT INTO spamhints.agreement (isp, abuse_address, networks, agreed_at, include_mail_addresses, suppression) VALUES
  ('Six ISP', 'abuse@six.example', '{2001:db8:1::/48}', '2007-02-01 00:00+00', false, '30 days');
INSERT INTO spamhints.agreement (isp, abuse_address, networks, agreed_at, withdrawn_at) VALUES
  ('Withdrawn ISP', 'abuse@gone.example', '{203.0.113.128/25}', '2007-01-01 00:00+00', '2007-03-01 00:00+00');
INSERT INTO spamhints.agreement (isp, abuse_address, networks, agreed_at, min_samples) VALUES
  ('Strict ISP', 'abuse@strict.example', '{198.18.0.0/24}', '2007-01-01 00:00+00', 3);
SELECT throws_ok($$INSERT INTO spamhints.agreement (isp, abuse_address) VALUES ('Vague ISP', 'abuse@vague.example')$$,
                 '23514', NULL, 'an agreement names networks or AS numbers');
SELECT throws_ok($$INSERT INTO spamhints.agreement (isp, abuse_address, asns) VALUES ('Bad ISP', 'abuse at bad', '{1}')$$,
                 '23514', NULL, 'an agreement has a mail address for its reports');

-- what our switches sampled on 2007-03-14
INSERT INTO spamhints.load (file_name, sha256, finished_at) VALUES ('reports.pcap', repeat('8', 64), now());
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
                                   src_ip, dst_ip, src_port, dst_port, tcp_flags, smtp, gw_src_as)
SELECT 1, v.frame, v.ts::timestamptz, '192.0.2.250', v.frame, v.rate, v.src::inet, v.dst::inet, v.sp, v.dp, v.flags, v.smtp, v.gw
FROM (VALUES
  (1,  '2007-03-14 10:15:01.123456+00', '192.0.2.7',      '198.51.100.25',   40001, 25,     2, NULL,   2048, 64501),  -- Agreed ISP
  (2,  '2007-03-14 10:15:09.5+00',      '192.0.2.7',      '198.51.100.26',   40002, 25,    24, 'EHLO', 2048, NULL),
  (3,  '2007-03-14 10:20:00+00',        '192.0.2.25',     '198.51.100.25',   50000, 25,     2, NULL,   2048, NULL),   -- their mail server
  (4,  '2007-03-14 10:30:00+00',        '203.0.113.9',    '198.51.100.25',    1025, 25,     2, NULL,   2048, 64502),  -- no agreement
  (5,  '2007-03-14 11:00:00+00',        '192.0.2.200',    '198.51.100.25',    3000, 25,     2, NULL,   2048, 64501),  -- their AS
  (6,  '2007-03-14 11:05:00+00',        '203.0.113.150',  '198.51.100.25',    4000, 25,     2, NULL,   2048, NULL),   -- withdrawn
  (7,  '2007-03-14 12:00:00+00',        '2001:db8:1::66', '2001:db8:99::25', 50000, 25,     2, NULL,   4096, NULL),   -- Six ISP
  (8,  '2007-03-14 13:00:00+00',        '192.0.2.50',     '198.51.100.30',      25, 40000, 18, '220',  2048, NULL),   -- a server...
  (9,  '2007-03-14 13:01:00+00',        '192.0.2.50',     '198.51.100.31',   41000, 25,     2, NULL,   2048, NULL),   -- ...that sends
  (10, '2007-03-14 14:00:00+00',        '198.18.0.5',     '198.51.100.25',    1000, 25,     2, NULL,   2048, NULL),   -- Strict ISP, 2 < 3
  (11, '2007-03-14 14:01:00+00',        '198.18.0.5',     '198.51.100.25',    1001, 25,     2, NULL,   2048, NULL),
  (12, '2007-03-15 00:00:00+00',        '192.0.2.7',      '198.51.100.25',   40003, 25,     2, NULL,   2048, NULL),   -- next day
  (13, '2007-03-13 23:59:59.999999+00', '192.0.2.7',      '198.51.100.25',   40004, 25,     2, NULL,   2048, NULL))   -- day before
  AS v(frame, ts, src, dst, sp, dp, flags, smtp, rate, gw);

-- what our mail servers logged (in London time, converted at loading)
INSERT INTO spamhints.maillog_load (file_name, sha256, format, timezone, finished_at)
  VALUES ('mainlog', repeat('9', 64), 'exim', 'Europe/London', now());
INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, host, queue_id, client_ip, client_port, helo, size,
                                  sender, recipients, verdict, virus, spam_score, reason)
VALUES
  (1, 7, '2007-03-14 10:17:33+00', 'mx1', '1IAb5b-0001Cd-2K', '192.0.2.7', 40161, 'kjsdhf', 3000,
   'info@bank.example', '{alice@example.net}', 'virus', 'Worm.Mydoom.M', NULL,
   'rejected after DATA: This message contains a virus (Worm.Mydoom.M).'),
  (1, 9, '2007-03-14 12:05:00+00', 'mx1', '4B3C2D1E0', '2001:db8:1::66', 50001, 'pc66', 4321,
   'sales@watches.example', '{dave@example.net}', 'spam', NULL, 25.073, 'Blocked SPAM {DiscardedInbound,Quarantined}'),
  (1, 11, '2007-03-14 10:31:00+00', 'mx1', NULL, '203.0.113.9', 1026, 'x', NULL, 'a@b.example', '{c@example.net}', 'rejected', NULL, NULL,
   'rejected RCPT <c@example.net>: relay not permitted'),
  (1, 12, '2007-03-14 10:40:00+00', 'mx1', '1IAb9f-0001Kl-5S', '192.0.2.7', 40170, 'kjsdhf', 500, 'x@bank.example', '{bob@example.net}',
   'clean', NULL, NULL, NULL);

-- what would be reported
SELECT results_eq(
  $$SELECT isp, source_ip, asn, evidence, new_evidence, diagnosis, first_ts, last_ts, samples, est_packets, events, items, suppressed
    FROM spamhints.report_candidates(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'), '2007-03-15 06:00+00')$$,
  $$VALUES ('Agreed ISP', '192.0.2.7'::inet, 64501::bigint, '{traffic,virus}'::text[], '{traffic,virus}'::text[], '{virus}'::text[],
            '2007-03-14 10:15:01.123456+00'::timestamptz, '2007-03-14 10:17:33+00'::timestamptz, 2::bigint, 4096::bigint, 1::bigint, 3::bigint, false),
           ('Agreed ISP', '192.0.2.50', NULL, '{server,traffic}', '{server,traffic}', '{"open server"}',
            '2007-03-14 13:00+00', '2007-03-14 13:01+00', 1, 2048, 0, 2, false),
           ('Agreed ISP', '192.0.2.200', 64501, '{traffic}', '{traffic}', '{"spam sender"}',
            '2007-03-14 11:00+00', '2007-03-14 11:00+00', 1, 2048, 0, 1, false),
           ('Six ISP', '2001:db8:1::66', NULL, '{spam,traffic}', '{spam,traffic}', '{"spam sender"}',
            '2007-03-14 12:00+00', '2007-03-14 12:05+00', 1, 4096, 1, 2, false)$$,
  'report_candidates: per agreed ISP, its addresses with evidence, the kinds, the diagnosis');

CREATE TEMP TABLE first_run AS
  SELECT * FROM spamhints.report(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'), at => '2007-03-15 06:00+00');
SELECT results_eq($$SELECT report_id, isp, abuse_address, source_ip, diagnosis, evidence, items, message_id FROM first_run$$,
  $$VALUES (1::bigint, 'Agreed ISP', 'abuse@agreed.example', '192.0.2.7'::inet, '{virus}'::text[], '{traffic,virus}'::text[], 3::bigint, '<spamhints.1.1@mx.isp.example>'),
           (1, 'Agreed ISP', 'abuse@agreed.example', '192.0.2.50', '{"open server"}', '{server,traffic}', 2, '<spamhints.1.2@mx.isp.example>'),
           (1, 'Agreed ISP', 'abuse@agreed.example', '192.0.2.200', '{"spam sender"}', '{traffic}', 1, '<spamhints.1.3@mx.isp.example>'),
           (1, 'Six ISP', 'abuse@six.example', '2001:db8:1::66', '{"spam sender"}', '{spam,traffic}', 2, '<spamhints.1.4@mx.isp.example>')$$,
  'report: one ARF message per source address, to the abuse address of the ISP that agreed');

-- never to anyone who did not agree
SELECT is((SELECT count(*) FROM first_run WHERE source_ip << '203.0.113.0/25'), 0::bigint,
          'an ISP without an agreement gets no report (203.0.113.9, sampled and refused by our mail server)');
SELECT is((SELECT count(*) FROM first_run WHERE source_ip = '203.0.113.150'), 0::bigint, 'nor an ISP whose agreement was withdrawn');
SELECT is((SELECT count(*) FROM first_run WHERE source_ip = '192.0.2.25'), 0::bigint, 'nor their own mail servers (exclude)');
SELECT is((SELECT count(*) FROM first_run WHERE source_ip = '198.18.0.5'), 0::bigint, 'nor addresses with fewer samples than min_samples');
SELECT is((SELECT count(*) FROM first_run WHERE abuse_address NOT IN (SELECT abuse_address FROM spamhints.agreement)), 0::bigint,
          'every report goes to an agreed abuse address');
SELECT throws_ok($$INSERT INTO spamhints.report_log (report_id, agreement_id, abuse_address, source_ip, period, evidence,
                   new_evidence, diagnosis, items, reported_at, message_id, message)
                   VALUES (9, -1, 'abuse@x.example', '192.0.2.1', '[2007-03-14,2007-03-15)', '{}', '{}', '{}', 0, now(), '<x>', 'x')$$,
                 '23503', NULL, 'report_log refuses a report to an ISP without an agreement');

-- the evidence, accurately timed in UTC
\set v4 '(SELECT message FROM first_run WHERE source_ip = ''192.0.2.7'')'
SELECT ok(strpos(:v4, E'\n  2007-03-14 10:15:01.123456 UTC  192.0.2.7:40001 -> 198.51.100.25:25  SYN  sampled 1 in 2048  [load 1 frame 1]\n') > 0,
          'a sampled packet: its time to the microsecond in UTC, ports, flags, sampling rate, where it is in the capture');
SELECT ok(strpos(:v4, E'\n  2007-03-14 10:15:09.500000 UTC  192.0.2.7:40002 -> 198.51.100.26:25  PSH,ACK  EHLO  sampled 1 in 2048  [load 1 frame 2]\n') > 0,
          'another, with its SMTP command');
SELECT ok(strpos(:v4, E'\n  2007-03-14 10:17:33 UTC  from 192.0.2.7:40161 HELO "kjsdhf" to mx1, 3000 bytes  [mail log 1 line 7]\n'
                      '      <info@bank.example> -> <alice@example.net>\n'
                      '      virus Worm.Mydoom.M: rejected after DATA: This message contains a virus (Worm.Mydoom.M).\n') > 0,
          'a mail event: its time in UTC, HELO, size, sender and recipients, verdict and virus name');
SELECT ok(strpos(:v4, 'Every time below is UTC (time zone +00:00).') > 0, 'the time zone is stated');
SELECT ok(strpos(:v4, 'converted to UTC from the' || E'\n' || 'servers'' time zone (Europe/London)') > 0, 'and the mail log''s zone');
SELECT ok(strpos(:v4, '2007-03-15 00:00:00') > 0 AND strpos(:v4, '23:59:59.999999') = 0 AND strpos(:v4, '40003') = 0,
          'nothing from outside the period');
SELECT ok(strpos(:v4, '10:40:00') = 0, 'clean mail is no evidence');
SELECT ok(strpos(:v4, E'Diagnosis: virus\n- virus: our mail servers received mail from this address that carried a\n  virus (Worm.Mydoom.M)') > 0,
          'the diagnosis');
SELECT ok(strpos(:v4, E'WARNING: PERSONAL DATA\nThis report contains personal data') > 0
          AND strpos(:v4, 'delete it when' || E'\n' || 'the problem is dealt with, within 90 days at the latest') > 0,
          'the warning that the report contains personal data, and how it must be handled');
SELECT ok(strpos(:v4, 'You agreed to receive reports based on traffic data on 2007-01-01 (letter of 2007-01-01).') > 0,
          'the agreement it is sent under');

-- ARF: multipart/report with the three parts, the feedback-report fields
SELECT ok(:v4 ~ E'\nContent-Type: multipart/report; report-type=feedback-report;\n\tboundary="=_spamhints_[0-9a-f]{32}"\n',
          'multipart/report; report-type=feedback-report');
SELECT is((SELECT array_agg(m[1]) FROM regexp_matches(:v4, E'\n--=_spamhints_[0-9a-f]{32}\nContent-Type: ([^;\n]*)', 'g') AS m),
          '{text/plain,message/feedback-report,text/rfc822-headers}'::text[], 'its parts: human-readable, machine-readable, headers');
SELECT ok(:v4 ~ E'\n--=_spamhints_[0-9a-f]{32}--\n$', 'and its closing boundary');
SELECT is((SELECT count(*) FROM first_run WHERE message ~ E'\nFrom '), 0::bigint,
          'no line of a report begins with "From " (an mbox reader, Sisimai''s among them, would start a new message there)');
SELECT ok(strpos(:v4, E'\n\nFeedback-Type: virus\nUser-Agent: spamhints/0.1\nVersion: 1\nSource-IP: 192.0.2.7\nSource-Port: 40161\n'
                      'Arrival-Date: Wed, 14 Mar 2007 10:17:33 +0000\nIncidents: 3\nReporting-MTA: dns; mx1\n'
                      'Original-Mail-From: <info@bank.example>\nOriginal-Rcpt-To: <alice@example.net>\n\n') > 0,
          'the feedback-report fields, with RFC 6692''s Source-Port');
SELECT results_eq($$SELECT reporter, feedback_type, user_agent, source_ip, source_port, arrival_date, incidents, original_mail_from
                    FROM spamhints.parse_arf((SELECT message FROM first_run WHERE source_ip = '192.0.2.7'))$$,
  $$VALUES ('abuse@isp.example', 'virus', 'spamhints/0.1', '192.0.2.7'::inet, 40161, '2007-03-14 10:17:33+00'::timestamptz, 3, 'info@bank.example')$$,
  'an ARF reader gets the fields back');
SELECT ok((SELECT message FROM first_run WHERE source_ip = '192.0.2.50') ~ E'\nFeedback-Type: abuse\n.*\nSource-Port: 41000\nArrival-Date: Wed, 14 Mar 2007 13:01:00 \\+0000\n',
          'Source-Port and Arrival-Date of an open server: its own connection out, not its reply');

-- personal data left out where agreed
\set v6 '(SELECT message FROM first_run WHERE source_ip = ''2001:db8:1::66'')'
SELECT ok(strpos(:v6, 'watches.example') = 0 AND strpos(:v6, 'dave@') = 0 AND strpos(:v6, 'Original-Mail-From') = 0,
          'include_mail_addresses => false: no sender or recipient address anywhere');
SELECT ok(strpos(:v6, E'\n  2007-03-14 12:05:00 UTC  from [2001:db8:1::66]:50001 HELO "pc66" to mx1, 4321 bytes  [mail log 1 line 9]\n'
                      '      spam, SpamAssassin score 25.073: Blocked SPAM {DiscardedInbound,Quarantined}\n') > 0,
          'the rest of the mail event is there, IPv6 in brackets');

-- logged; not unduly repetitive
SELECT results_eq($$SELECT count(*), count(DISTINCT report_id), min(reported_at), count(DISTINCT message_id) FROM spamhints.report_log$$,
  $$VALUES (4::bigint, 1::bigint, '2007-03-15 06:00+00'::timestamptz, 4::bigint)$$, 'every report is logged');
SELECT is((SELECT count(*) FROM spamhints.report(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'), at => '2007-03-15 07:00+00')),
          0::bigint, 'a second run inside the suppression window reports nothing new');
SELECT is((SELECT count(*) FROM spamhints.report_candidates(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'), '2007-03-15 07:00+00')
           WHERE suppressed), 4::bigint, 'the candidates are there, suppressed');
SELECT is((SELECT count(*) FROM spamhints.report_log), 4::bigint, 'and nothing was logged');

-- a new kind of evidence is reported inside the window
INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, client_ip, client_port, verdict, spam_score, reason)
  VALUES (1, 20, '2007-03-14 15:00+00', '192.0.2.200', 3100, 'spam', 12.5, 'rejected after DATA: spam score 12.5');
CREATE TEMP TABLE third_run AS
  SELECT * FROM spamhints.report(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'), at => '2007-03-15 08:00+00');
SELECT results_eq($$SELECT report_id, source_ip, evidence, new_evidence FROM third_run$$,
  $$VALUES (3::bigint, '192.0.2.200'::inet, '{spam,traffic}'::text[], '{spam}'::text[])$$,
  'a new kind of evidence (spam, after traffic) is reported, only for that address');
SELECT ok(strpos((SELECT message FROM third_run), 'New since our last report to you about it (within 7 days): spam.') > 0,
          'and the report says what is new');

-- the window: the setting, or the agreement's own
SET LOCAL spamhints.report_suppression = '3 days';
SELECT results_eq(
  $$SELECT isp, source_ip FROM spamhints.report(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'), at => '2007-03-18 07:00+00')$$,
  $$VALUES ('Agreed ISP', '192.0.2.7'::inet), ('Agreed ISP', '192.0.2.50')$$,
  'after the window (spamhints.report_suppression = 3 days) the same evidence is reported again; 192.0.2.200, reported at 08:00, is not yet');
SELECT is((SELECT count(*) FROM spamhints.report(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'), at => '2007-03-18 08:00+00')),
          1::bigint, 'and 192.0.2.200 three days after its last report');
SELECT is((SELECT count(*) FROM spamhints.report_log WHERE source_ip = '2001:db8:1::66'), 1::bigint,
          'an ISP with its own window (30 days) is not reported to again');
RESET spamhints.report_suppression;

-- dry runs, one ISP, bad periods
SELECT results_eq(
  $$SELECT report_id, isp, source_ip, message_id FROM spamhints.report(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'),
                                                                       for_isp => 'Six ISP', at => '2007-04-20 00:00+00', dry_run => true)$$,
  $$VALUES (NULL::bigint, 'Six ISP', '2001:db8:1::66'::inet, '<spamhints.preview.1@mx.isp.example>')$$,
  'for_isp: one ISP only; dry_run: the reports without a number');
SELECT is((SELECT count(*) FROM spamhints.report_log), 8::bigint, 'a dry run logs nothing');
SELECT is((SELECT count(*) FROM spamhints.report(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'), for_isp => 'Nobody', dry_run => true)),
          0::bigint, 'an ISP that has no agreement: nothing (and a notice)');
SELECT throws_ok($$SELECT * FROM spamhints.report(tstzrange('2007-03-14 00:00+00', NULL))$$, '22023', NULL, 'an unbounded period is an error');
SELECT throws_ok($$SELECT * FROM spamhints.report('empty')$$, '22023', NULL, 'an empty period is an error');

-- the same reports whatever the session's TimeZone and search_path
CREATE TEMP TABLE utc_preview AS
  SELECT source_ip, message FROM spamhints.report(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'),
                                                  at => '2007-04-20 00:00+00', dry_run => true);
CREATE SCHEMA evil;
CREATE FUNCTION evil.textcat(text, text) RETURNS text LANGUAGE sql AS $$ SELECT 'pwned' $$;
CREATE OPERATOR evil.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.textcat);
CREATE FUNCTION evil.host(inet) RETURNS text LANGUAGE sql AS $$ SELECT 'pwned' $$;
SET LOCAL search_path = evil, pg_catalog, spamhints;
SET LOCAL TimeZone = 'Asia/Tokyo';
SET LOCAL DateStyle = 'SQL, DMY';
SET LOCAL IntervalStyle = 'iso_8601';
CREATE TEMP TABLE hostile_preview AS
  SELECT source_ip, message FROM spamhints.report(pg_catalog.tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'),
                                                  at => '2007-04-20 00:00+00', dry_run => true);
RESET search_path;
RESET TimeZone;
RESET DateStyle;
RESET IntervalStyle;
-- every message has its own random boundary: compare them without it
CREATE FUNCTION pg_temp.unbound(m text) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT regexp_replace(m, '=_spamhints_[0-9a-f]{32}', '=_spamhints_(boundary)', 'g') $$;
SELECT set_eq($$SELECT source_ip, pg_temp.unbound(message) FROM hostile_preview$$, $$SELECT source_ip, pg_temp.unbound(message) FROM utc_preview$$,
              'a hostile search_path, another TimeZone, DateStyle and IntervalStyle change nothing in a report (but its random boundary)');

-- the parts of a report, each alone: the items, the human-readable part, the
-- machine-readable part, the headers part, and the message that joins them
\set period 'tstzrange(''2007-03-14 00:00+00'', ''2007-03-15 00:00+00'')'
\set item '(SELECT i FROM spamhints.report_items(:period, at => ''2007-04-20 00:00+00'') AS i WHERE i.source_ip = '
SELECT results_eq($$SELECT isp, source_ip FROM spamhints.report_items($$ || quote_literal(:period) || $$, at => '2007-04-20 00:00+00')$$,
  $$VALUES ('Agreed ISP', '192.0.2.7'::inet), ('Agreed ISP', '192.0.2.50'), ('Agreed ISP', '192.0.2.200'), ('Six ISP', '2001:db8:1::66')$$,
  'report_items: one item per address that report() reports, in its order');
SELECT set_eq($$SELECT i.source_ip, pg_temp.unbound(spamhints.report_message(i, $$ || quote_literal(:period) || $$, '2007-04-20 00:00+00',
                         format('<spamhints.preview.%s@mx.isp.example>', row_number() OVER (ORDER BY i.isp, i.source_ip))))
                FROM spamhints.report_items($$ || quote_literal(:period) || $$, at => '2007-04-20 00:00+00') AS i$$,
              $$SELECT source_ip, pg_temp.unbound(message) FROM utc_preview$$,
              'report_message: the message of report(), byte for byte but its random boundary, from its item');
SELECT is(spamhints.report_machine(:item '2001:db8:1::66')),
          E'Feedback-Type: abuse\nUser-Agent: spamhints/0.1\nVersion: 1\nSource-IP: 2001:db8:1::66\nSource-Port: 50001\n'
          || E'Arrival-Date: Wed, 14 Mar 2007 12:05:00 +0000\nIncidents: 2\nReporting-MTA: dns; mx1\n',
          'report_machine: no Original-Mail-From or Original-Rcpt-To when the agreement leaves mail addresses out');
SELECT ok(strpos(h, E'Abuse report about 192.0.2.7 (AS64501)\n\n') = 1
          AND strpos(h, E'Diagnosis: virus\n') > 0
          AND strpos(h, E'\nWARNING: PERSONAL DATA\nThis report contains personal data') > 0
          AND strpos(h, E'Reference: <ref@example>.\n') > 0
          AND strpos(h, 'Feedback-Type') = 0 AND strpos(h, 'Content-Type') = 0,
          'report_human: the diagnosis, the evidence and the personal-data warning, and no other part')
FROM (SELECT spamhints.report_human(:item '192.0.2.7'), :period, '<ref@example>') AS h) AS t;
SELECT is(spamhints.report_headers(:item '192.0.2.7')),
          E'Received: from kjsdhf ([192.0.2.7]:40161)\n\tby mx1; Wed, 14 Mar 2007 10:17:33 +0000\n',
          'report_headers: the Received field rebuilt from the first mail event''s log line');
SELECT ok(spamhints.report_headers(:item '192.0.2.50')) ~ E'^X-Spamhints-Synthetic: .*\nX-Spamhints-Client: 192.0.2.50:41000\n',
          'report_headers: never empty; without a mail event, the first sampled packet it sent');
SELECT is(spamhints.report_period_text(:period), '2007-03-14 00:00:00 UTC to 2007-03-15 00:00:00 UTC',
          'report_period_text: the period as reports write it');
SELECT ok(NOT has_function_privilege('public', 'spamhints.report_items(tstzrange, text, timestamptz)', 'EXECUTE')
          AND NOT has_function_privilege('spamhints_analyst', 'spamhints.report_items(tstzrange, text, timestamptz)', 'EXECUTE'),
          'report_items reads the mail addresses: not executable by PUBLIC nor by analysts');

-- MIME boundaries nobody can guess: random for every message, not made from
-- its Message-ID, and found nowhere else in the message
SELECT ok(strpos(:v4, md5('<spamhints.1.1@mx.isp.example>')) = 0, 'the boundary is not made from the Message-ID');
SELECT is((SELECT count(DISTINCT substring(m from 'boundary="([^"]*)"'))
           FROM (SELECT spamhints.report_message(:item '192.0.2.7'), :period, '2007-04-20 00:00+00', '<same@mx.isp.example>') AS m
                 FROM generate_series(1, 20)) AS t), 20::bigint,
          'the same report made 20 times has 20 different boundaries');
SELECT ok(bool_and((SELECT count(*) FROM regexp_matches(f.message, substring(f.message from 'boundary="(=_spamhints_[0-9a-f]{32})"'), 'g')) = 5),
          'each message uses its one boundary five times: declared, three delimiters, the close')
FROM first_run f;

-- no text that reaches a report holds control or format characters: a line
-- break (and the boundary) in a HELO must not make a report about one
-- address read as another
CREATE FUNCTION pg_temp.refused(stmt text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        EXECUTE stmt;
        RAISE SQLSTATE 'ZZ000';     -- accepted: undo it
    EXCEPTION
        WHEN check_violation THEN RETURN true;
        WHEN SQLSTATE 'ZZ000' THEN RETURN false;
    END;
END
$$;
CREATE TEMP TABLE reaching (col text, stmt text);
INSERT INTO reaching
SELECT 'mail_event.' || c, format($$INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, client_ip, verdict, %I)
                                  VALUES (1, 99, '2007-03-14 10:00+00', '192.0.2.99', 'spam', %%L)$$, c)
FROM unnest('{host,queue_id,client_name,helo,sender,virus,reason}'::text[]) AS c;
INSERT INTO reaching VALUES
  ('mail_event.recipients', $$INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, client_ip, verdict, recipients)
                              VALUES (1, 99, '2007-03-14 10:00+00', '192.0.2.99', 'spam', ARRAY['ok@example.net', %L])$$),
  ('maillog_load.timezone', $$INSERT INTO spamhints.maillog_load (file_name, format, timezone) VALUES ('x', 'exim', %L)$$),
  ('smtp_sample.smtp', $$INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port, smtp)
                         VALUES (1, 99, '2007-03-14 10:00+00', '192.0.2.250', 99, 1, '192.0.2.99', '198.51.100.25', 1234, 25, %L)$$),
  ('agreement.isp', $$INSERT INTO spamhints.agreement (isp, abuse_address, asns) VALUES (%L, 'abuse@x.example', '{1}')$$),
  ('agreement.abuse_address', $$INSERT INTO spamhints.agreement (isp, abuse_address, asns) VALUES ('X ISP', %L || '@x.example', '{1}')$$),
  ('agreement.reference', $$INSERT INTO spamhints.agreement (isp, abuse_address, asns, reference) VALUES ('X ISP', 'abuse@x.example', '{1}', %L)$$),
  ('ip_assignment.customer_id', $$INSERT INTO spamhints.ip_assignment (customer_id, network) VALUES (%L, '10.99.99.99')$$);
-- C0 controls (tab, line feed, carriage return, escape...), DEL, C1 controls
-- (NEL among them), the Arabic letter mark, left-to-right and right-to-left
-- marks, line and paragraph separators, bidirectional embeddings, overrides
-- and isolates
CREATE TEMP TABLE bad_char (n integer);
INSERT INTO bad_char VALUES (1), (9), (10), (11), (12), (13), (27), (31), (127), (128), (133), (159),
  (1564), (8206), (8207), (8232), (8233), (8234), (8235), (8236), (8237), (8238), (8294), (8295), (8296), (8297);
SELECT is(ARRAY(SELECT r.col || ' U+' || upper(lpad(to_hex(b.n), 4, '0')) FROM reaching r, bad_char b
                WHERE NOT pg_temp.refused(format(r.stmt, 'a' || chr(b.n) || 'b')) ORDER BY 1),
          '{}'::text[], 'every column that reaches a report refuses control and format characters');
SELECT is(ARRAY(SELECT r.col FROM reaching r WHERE pg_temp.refused(format(r.stmt, 'ok-é€😀' || U&'\200D' || 'x'))),
          '{}'::text[], 'and takes any other text (accents, symbols, emoji with a zero-width joiner)');
SELECT throws_ok(format($$INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, client_ip, client_port, helo, verdict)
                          VALUES (1, 30, '2007-03-14 16:00+00', '192.0.2.9', 4000, %L, 'spam')$$,
                        E'x\n--=_spamhints_' || md5('<spamhints.5.1@mx.isp.example>')
                        || E'\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nSource-IP: 203.0.113.66\n'),
                 '23514', NULL, 'a HELO that holds line breaks and a MIME boundary is refused');
-- the same words on one line are only words: the report is about its address
INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, client_ip, client_port, helo, verdict)
  VALUES (1, 30, '2007-03-14 16:00+00', '192.0.2.9', 4000,
          '--=_spamhints_' || md5('<spamhints.preview.2@mx.isp.example>') || ' Content-Type: message/feedback-report Source-IP: 203.0.113.66', 'spam');
CREATE TEMP TABLE forged AS
  SELECT source_ip, message FROM spamhints.report(:period, at => '2007-04-20 00:00+00', dry_run => true) WHERE source_ip = '192.0.2.9';
SELECT results_eq($$SELECT a.source_ip, a.feedback_type FROM forged f, spamhints.parse_arf(f.message) AS a$$,
                  $$VALUES ('192.0.2.9'::inet, 'abuse')$$, 'parse_arf reads the report about 192.0.2.9 as about 192.0.2.9');
SELECT is((SELECT array_agg(m[1]) FROM forged f, regexp_matches(f.message, E'\n--=_spamhints_[0-9a-f]{32}\nContent-Type: ([^;\n]*)', 'g') AS m),
          '{text/plain,message/feedback-report,text/rfc822-headers}'::text[], 'and it has its three parts, no more');

-- every setting is checked when it is set
SELECT throws_ok(format('SET spamhints.%s = %L', b.name, b.value), '22023', NULL,
                 format('spamhints.%s = %s is refused', b.name, replace(replace(quote_literal(b.value), E'\n', '\n'), U&'\202E', '\u202E')))
FROM (VALUES ('report_max_items', '0'), ('report_max_items', '-1'), ('report_max_items', 'many'),
             ('report_max_items', '1.5'), ('report_max_items', ' 10'), ('report_max_items', '100001'),
             ('report_max_items', '99999999999999999999'),
             ('report_suppression', '0'), ('report_suppression', '0 days'), ('report_suppression', '-1 day'),
             ('report_suppression', '1 mon -31 days'), ('report_suppression', 'a week'), ('report_suppression', '101 years'),
             ('retention', '0'), ('retention', '-90 days'), ('retention', 'forever'), ('retention', '1000 years'),
             ('report_from', 'abuse'), ('report_from', 'abuse@'), ('report_from', '@isp.example'),
             ('report_from', 'ab use@isp.example'), ('report_from', 'abuse@isp..example'), ('report_from', '.abuse@isp.example'),
             ('report_from', 'Abuse Desk <abuse@isp.example>'), ('report_from', E'abuse@isp.example\nBcc: all@isp.example'),
             ('report_from', 'abuse@-isp.example'), ('report_from', 'abuse@isp_1.example'), ('report_from', repeat('a', 65) || '@isp.example'),
             ('report_from', 'abuse@isp.example' || U&'\202E'),
             ('reporting_mta', 'mx one'), ('reporting_mta', '-mx'), ('reporting_mta', 'mx-'), ('reporting_mta', 'mx..isp.example'),
             ('reporting_mta', 'mx.isp.example.'), ('reporting_mta', E'mx\n'), ('reporting_mta', 'mx_1'),
             ('reporting_mta', repeat('a', 64)), ('reporting_mta', repeat('abcdefghi.', 26) || 'example'),
             ('reporting_mta', 'mx@isp.example'), ('reporting_mta', 'mx>')) AS b(name, value);
SELECT lives_ok(format('SET LOCAL spamhints.%s = %L', g.name, g.value), format('spamhints.%s = %L is taken', g.name, g.value))
FROM (VALUES ('report_max_items', '1'), ('report_max_items', '100000'), ('report_max_items', ''),
             ('report_suppression', '1 second'), ('report_suppression', '30 days'), ('report_suppression', 'P2W'),
             ('report_suppression', '100 years'), ('report_suppression', ''),
             ('retention', '1 day'), ('retention', '1 year 6 mons'), ('retention', ''),
             ('report_from', 'abuse@isp.example'), ('report_from', 'first.last+reports@mail.isp-1.example'),
             ('report_from', 'abuse@localhost'), ('report_from', ''),
             ('reporting_mta', 'mx-1.isp.example'), ('reporting_mta', 'localhost'), ('reporting_mta', '')) AS g(name, value);
RESET spamhints.report_max_items;
RESET spamhints.report_suppression;
RESET spamhints.retention;
RESET spamhints.report_from;
RESET spamhints.reporting_mta;
SET LOCAL spamhints.report_from = 'abuse@isp.example';
SET LOCAL spamhints.reporting_mta = 'mx.isp.example';
-- what a refusal says
\set ON_ERROR_ROLLBACK on
SET spamhints.report_max_items = 0;
SET spamhints.report_suppression = '-1 day';
SET spamhints.retention = 'forever';
SET spamhints.report_from = 'Abuse Desk <abuse@isp.example>';
SET spamhints.reporting_mta = 'mx one';
\unset ON_ERROR_ROLLBACK

-- a report lists what report_max_items lets it, counts the rest, and always
-- has its evidence and its warning
SET LOCAL spamhints.report_max_items = 1;
SELECT ok(strpos(m, E'[load 1 frame 1]\n  ... and 1 more sampled packets, not listed\n') > 0
          AND strpos(m, '[mail log 1 line 7]') > 0 AND strpos(m, 'WARNING: PERSONAL DATA') > 0,
          'report_max_items = 1: one item per kind, the rest counted, the warning')
FROM (SELECT spamhints.report_message(:item '192.0.2.7'), :period, '2007-04-20 00:00+00', '<x@mx.isp.example>') AS m) AS t;
RESET spamhints.report_max_items;
CREATE TEMP TABLE one_item AS SELECT i.* FROM spamhints.report_items(:period, at => '2007-04-20 00:00+00') AS i WHERE i.source_ip = '192.0.2.7';
UPDATE one_item SET traffic_lines = NULL;
SELECT throws_ok($$SELECT spamhints.report_message(ROW(o.*)::spamhints.report_item, tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'), now(), '<x@mx.isp.example>') FROM one_item o$$,
                 '22023', NULL, 'an item whose sampled packets are not listed makes no report: an error');
UPDATE one_item SET traffic_lines = 'x', mail_lines_full = NULL;
SELECT throws_ok($$SELECT spamhints.report_message(ROW(o.*)::spamhints.report_item, tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'), now(), '<x@mx.isp.example>') FROM one_item o$$,
                 '22023', NULL, 'nor one whose mail events are not listed');
UPDATE one_item SET mail_lines_full = 'x', arrival = NULL;
SELECT throws_ok($$SELECT spamhints.report_message(ROW(o.*)::spamhints.report_item, tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'), now(), '<x@mx.isp.example>') FROM one_item o$$,
                 '22023', NULL, 'nor one whose machine-readable part would be empty');

-- the uncertainty of counts of sampled packets: exact 95% Poisson bounds on
-- the count (hand-checked against the chi-square tables: for 3, 0.619 and
-- 8.767); above 100 samples Wilson-Hilferty's approximation, within 0.1%
SELECT results_eq($$SELECT c, round(b.lower::numeric, 3), round(b.upper::numeric, 3)
                    FROM unnest('{0,1,2,3,5,10,20,50,100}'::bigint[]) AS c, spamhints.poisson_bounds(c) AS b$$,
  $$VALUES (0::bigint, 0.000, 3.689), (1, 0.025, 5.572), (2, 0.242, 7.225), (3, 0.619, 8.767), (5, 1.623, 11.668),
           (10, 4.795, 18.390), (20, 12.217, 30.888), (50, 37.111, 65.919), (100, 81.364, 121.627)$$,
  'poisson_bounds: exact 95% bounds of a Poisson mean from a count');
SELECT ok(bool_and(abs(b.lower / v.lo - 1) < 0.001 AND abs(b.upper / v.up - 1) < 0.001),
          'poisson_bounds: large counts within 0.1% of the exact bounds')
FROM (VALUES (101::bigint, 82.2662, 122.7242), (200, 173.2409, 229.722), (1000, 938.973, 1063.9521)) AS v(c, lo, up),
     spamhints.poisson_bounds(v.c) AS b;
SELECT throws_ok($$SELECT * FROM spamhints.poisson_bounds(-1)$$, '22023', NULL, 'poisson_bounds: a negative count is an error');

-- how much traffic evidence an address needs, by default: several sampled
-- packets over more than one minute, or a mail-log verdict
RESET spamhints.report_min_samples;
RESET spamhints.report_min_minutes;
SELECT is(ARRAY[spamhints.setting('report_min_samples'), spamhints.setting('report_min_minutes')], '{3,2}'::text[],
          'by default an address needs 3 sampled packets in 2 different minutes');
SELECT throws_ok(format('SET spamhints.%s = %L', b.name, b.value), '22023', NULL, format('spamhints.%s = %s is refused', b.name, b.value))
FROM (VALUES ('report_min_samples', '0'), ('report_min_samples', 'three'), ('report_min_minutes', '0'), ('report_min_minutes', '-2')) AS b(name, value);
INSERT INTO spamhints.agreement (isp, abuse_address, networks, agreed_at) VALUES
  ('Default ISP', 'abuse@default.example', '{198.19.0.0/24}', '2007-01-01 00:00+00');
SELECT is((SELECT include_mail_addresses FROM spamhints.agreement WHERE isp = 'Default ISP'), false,
          'an agreement leaves mail addresses out unless it says otherwise');
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port, tcp_flags, smtp)
SELECT 1, v.frame, v.ts::timestamptz, '192.0.2.250', v.frame, 1000, v.src::inet, '198.51.100.25', v.sp, 25, 2, NULL
FROM (VALUES
  (40, '2007-03-14 09:00:00+00', '198.19.0.1', 5001),                                                    -- one packet
  (41, '2007-03-14 09:10:01+00', '198.19.0.2', 5101), (42, '2007-03-14 09:10:20+00', '198.19.0.2', 5102), -- three in one minute
  (43, '2007-03-14 09:10:59+00', '198.19.0.2', 5103),
  (44, '2007-03-14 09:20:00+00', '198.19.0.3', 5201), (45, '2007-03-14 09:20:30+00', '198.19.0.3', 5202), -- three in two minutes
  (46, '2007-03-14 09:21:00+00', '198.19.0.3', 5203),
  (47, '2007-03-14 09:30:00+00', '198.19.0.4', 5301)) AS v(frame, ts, src, sp);                          -- one, and spam
INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, host, client_ip, client_port, helo, sender, recipients, verdict, reason)
  VALUES (1, 40, '2007-03-14 09:31:00+00', 'mx2', '198.19.0.4', 5302, 'pc4', 'boss@forged.example', '{carol@example.net}', 'spam', 'spam');
SELECT results_eq($$SELECT source_ip, samples, minutes, diagnosis FROM spamhints.report_candidates(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'), '2007-04-20 00:00+00')
                    WHERE isp = 'Default ISP'$$,
  $$VALUES ('198.19.0.3'::inet, 3::bigint, 2::bigint, '{"spam sender"}'::text[]), ('198.19.0.4', 1, 1, '{"spam sender"}')$$,
  'one sampled packet, or three in one minute, is no evidence; three in two minutes is, and so is a mail-log verdict');
CREATE TEMP TABLE defaults_run AS
  SELECT * FROM spamhints.report(:period, for_isp => 'Default ISP', at => '2007-04-20 00:00+00', dry_run => true);
\set t3 '(SELECT message FROM defaults_run WHERE source_ip = ''198.19.0.3'')'
\set t4 '(SELECT message FROM defaults_run WHERE source_ip = ''198.19.0.4'')'
SELECT ok(strpos(:t3, E'  In all: 3 sampled packets at 1 in 1000 to 1 mail server, in 2 different minutes,\n  from 2007-03-14 09:20:00 UTC to 2007-03-14 09:21:00 UTC.\n  About 3,000 packets (95% bounds 619 to 8,767: exact Poisson bounds on the\n  count of samples, scaled by the sampling rate).\n') > 0,
          'the count, the estimate and its uncertainty');
SELECT ok(strpos(:t3, E'We report an address when our mail servers caught its mail, or on sampled\npackets alone when it has at least 3 of them in at least 2 different minutes\nof the period. This one has 3 sampled packets in 2 minutes.\n') > 0,
          'the report states the thresholds it was made with');
SELECT ok(strpos(:t4, E'of the period. This one has 1 sampled packet in 1 minute and 1 mail event.\n') > 0,
          'and, for an address reported on a mail-log verdict, that too');

-- the machine-readable part and the headers part describe one incident
SELECT is(spamhints.report_machine(:item '192.0.2.7')),
          E'Feedback-Type: virus\nUser-Agent: spamhints/0.1\nVersion: 1\nSource-IP: 192.0.2.7\nSource-Port: 40161\n'
          || E'Arrival-Date: Wed, 14 Mar 2007 10:17:33 +0000\nIncidents: 3\nReporting-MTA: dns; mx1\n'
          || E'Original-Mail-From: <info@bank.example>\nOriginal-Rcpt-To: <alice@example.net>\n',
          'report_machine: every field from the mail event the headers part shows, not from a sampled packet');
SELECT ok(strpos(spamhints.report_human(:item '192.0.2.7'), :period, '<x@mx.isp.example>'),
                 E'The machine-readable part and the headers part describe one incident: the\nfirst mail from this address, at 2007-03-14 10:17:33 UTC [mail log 1 line 7].\nThe other 2 items of evidence are listed here (Incidents: 3).\n') > 0,
          'the human part says which incident the other parts describe, and counts the others');
SELECT is(spamhints.report_machine(:item '198.19.0.3')),
          E'Feedback-Type: abuse\nUser-Agent: spamhints/0.1\nVersion: 1\nSource-IP: 198.19.0.3\nSource-Port: 5201\n'
          || E'Arrival-Date: Wed, 14 Mar 2007 09:20:00 +0000\nIncidents: 3\n',
          'report_machine, traffic only: the first sampled packet, no Reporting-MTA (no mail server of ours saw it)');
SELECT is(spamhints.report_headers(:item '198.19.0.3')),
          E'X-Spamhints-Synthetic: no message was kept; these fields describe the sampled\n\tpacket of load 1 frame 44, not a message\n'
          || E'X-Spamhints-Client: 198.19.0.3:5201\nX-Spamhints-Server: 198.51.100.25:25\n'
          || E'X-Spamhints-Packet: SYN, sampled 1 in 1000\nX-Spamhints-Observed: Wed, 14 Mar 2007 09:20:00 +0000\n',
          'report_headers, traffic only: a synthetic header block, labelled, with the packet''s facts');

-- personal data: only what the agreement lets through, and the warning says what is there
SELECT ok(strpos(:t4, 'forged.example') = 0 AND strpos(:t4, 'carol@') = 0 AND strpos(:t4, 'Original-Rcpt-To') = 0,
          'by default, no sender or recipient address reaches another ISP');
SELECT ok(strpos(:t3, E'This report contains personal data: IP addresses and times.\n') > 0,
          'a traffic-only report holds IP addresses and times, and says only that');
SELECT ok(strpos(:t4, E'This report contains personal data: IP addresses and times, and host names\nclients gave.\n') > 0,
          'a report of mail without addresses says it holds no mail address');
SELECT ok(strpos(:v4, E'This report contains personal data: IP addresses and times, host names\nclients gave, and the mail addresses of senders and recipients (many forged,\nbut some may be real people''s).\n') > 0,
          'a report with mail addresses says it holds them');

-- an open server: what was seen, not a verdict
\set s50 '(SELECT message FROM first_run WHERE source_ip = ''192.0.2.50'')'
SELECT ok(strpos(:s50, 'it may be an open relay') = 0 AND strpos(:s50, 'abuse to send spam') = 0,
          'an open server is not called an open relay on sampled packets alone');
SELECT ok(strpos(:s50, E'- open server: this address answers SMTP as a mail server (sampled packets\n  from its port 25 to 1 client in 1 network) and also connects to port 25\n  of 1 other mail server. A mail server that sends its users'' mail does\n  both; so does an open relay or proxy. These packets do not show which.\n') > 0,
          'it says what was observed, and leaves the judgement to the reader');

-- no report without its sender and host
RESET spamhints.report_from;
SELECT throws_ok($$SELECT * FROM spamhints.report(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'), dry_run => true)$$,
                 '55000', 'the settings spamhints.report_from and spamhints.reporting_mta must be set before reports are made',
                 'report() refuses to run while report_from is unset');
SET LOCAL spamhints.report_from = 'abuse@isp.example';
RESET spamhints.reporting_mta;
SELECT throws_ok($$SELECT * FROM spamhints.report(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'), dry_run => true)$$,
                 '55000', 'the settings spamhints.report_from and spamhints.reporting_mta must be set before reports are made',
                 'and while reporting_mta is unset');
SET LOCAL spamhints.reporting_mta = 'mx.isp.example';

-- the two reports, whole (their boundaries are random)
\echo ==== the report about 192.0.2.7
SELECT pg_temp.unbound(message) FROM first_run WHERE source_ip = '192.0.2.7';
\echo ==== the report about 2001:db8:1::66 (no mail addresses, as agreed)
SELECT pg_temp.unbound(message) FROM first_run WHERE source_ip = '2001:db8:1::66';

SELECT * FROM finish();
ROLLBACK;

-- a setting made before the module was loaded (SET, ALTER DATABASE ... SET)
-- was not checked when it was made: it is when it is used
\c
SET spamhints.report_max_items = 0;
SELECT spamhints.setting('report_max_items');
-- loading the module (the call above did) dropped it, with a warning
SELECT spamhints.setting('report_max_items');
