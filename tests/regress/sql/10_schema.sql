-- 10_schema: the tables the loader fills, their constraints, pg_dump marks.
CREATE EXTENSION IF NOT EXISTS spamhints;
\set ECHO none
\pset format unaligned
\pset tuples_only true
BEGIN;
SELECT plan(30);

SELECT has_table('spamhints', 'load', 'table load');
SELECT has_table('spamhints', 'load_agent', 'table load_agent');
SELECT has_table('spamhints', 'smtp_sample', 'table smtp_sample');
SELECT has_view('spamhints', 'packet_stats', 'view packet_stats');

SELECT col_type_is('spamhints', 'smtp_sample', 'ts', 'timestamp with time zone', 'ts is timestamptz');
SELECT col_type_is('spamhints', 'smtp_sample', 'agent', 'inet', 'agent is inet');
SELECT col_type_is('spamhints', 'smtp_sample', 'src_ip', 'inet', 'src_ip is inet');
SELECT col_type_is('spamhints', 'smtp_sample', 'sampling_rate', 'integer', 'sampling_rate is int');
SELECT col_type_is('spamhints', 'smtp_sample', 'tcp_flags', 'integer', 'tcp_flags is int');
SELECT col_type_is('spamhints', 'smtp_sample', 'src_mac', 'macaddr', 'src_mac is macaddr');
SELECT col_type_is('spamhints', 'smtp_sample', 'src_asn', 'bigint', 'src_asn is bigint');
SELECT col_type_is('spamhints', 'smtp_sample', 'src_cc', 'text', 'src_cc is text');
SELECT col_not_null('spamhints', 'smtp_sample', 'load_id', 'load_id is NOT NULL');
SELECT has_check('spamhints', 'smtp_sample', 'smtp_sample checks that its load exists');

-- pg_dump keeps the data of every table (and the load id sequence)
SELECT set_eq(
  $$SELECT c.relname::text FROM pg_extension e, unnest(e.extconfig) AS t(oid)
    JOIN pg_class c ON c.oid = t.oid WHERE e.extname = 'spamhints'$$,
  ARRAY['load', 'load_agent', 'smtp_sample', 'smtp_sample_default', 'load_load_id_seq', 'asn', 'address_day', 'address_month', 'rollup_folded', 'load_seqs',
        -- the abuse desk's workflow
        'ip_assignment', 'maillog_load', 'maillog_load_maillog_load_id_seq', 'mail_event', 'maillog_line',
        'incoming_report', 'incoming_report_incoming_report_id_seq', 'agreement',
        'agreement_agreement_id_seq', 'report_id_seq', 'report_log', 'report_log_report_log_id_seq',
        'shard', 'shard_saved'],
  'every table is marked for pg_dump');

-- the content hash: lower-case hex SHA-256, unique; a finished load has one
SELECT throws_ok($$INSERT INTO spamhints.load (file_name, sha256) VALUES ('a', 'ABC')$$,
                 '23514', NULL, 'a hash that is not hex SHA-256 is refused');
SELECT throws_ok($$INSERT INTO spamhints.load (file_name, finished_at) VALUES ('a', now())$$,
                 '23514', NULL, 'a finished load without a hash is refused');
INSERT INTO spamhints.load (file_name, sha256, finished_at)
  VALUES ('a.pcap', repeat('ab', 32), now());
SELECT throws_ok($$INSERT INTO spamhints.load (file_name, sha256) VALUES ('b.pcap', repeat('ab', 32))$$,
                 '23505', NULL, 'the same capture cannot be loaded twice');

-- every sample belongs to a load
SELECT throws_ok($$INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
                     src_ip, dst_ip, src_port, dst_port) VALUES (-1, 1, now(), '10.0.0.1', 1, 1,
                     '10.0.0.2', '10.0.0.3', 1025, 25)$$,
                 '23503', NULL, 'a sample of no load is refused');
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
                                   src_ip, dst_ip, src_port, dst_port)
  SELECT load_id, 1, now(), '10.0.0.1', 1, 1, '10.0.0.2', '2001:db8::3', 1025, 25
  FROM spamhints.load WHERE file_name = 'a.pcap';
INSERT INTO spamhints.load_agent
  SELECT load_id, '10.0.0.1', 0, 5, 10, 0, 1, 12, 2, 0 FROM spamhints.load WHERE file_name = 'a.pcap';
DELETE FROM spamhints.load WHERE file_name = 'a.pcap';
SELECT is((SELECT count(*) FROM spamhints.smtp_sample), 0::bigint, 'deleting a load deletes its samples');
SELECT is((SELECT count(*) FROM spamhints.load_agent), 0::bigint, 'and its agents');

-- two loads in one transaction, one deleted: only its samples go
INSERT INTO spamhints.load (file_name, sha256, finished_at)
  VALUES ('b.pcap', repeat('cd', 32), now()), ('c.pcap', repeat('ef', 32), now());
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
                                   src_ip, dst_ip, src_port, dst_port)
  SELECT load_id, n, now(), '10.0.0.1', n, 1, '10.0.0.2', '10.0.0.3', 1025, 25
  FROM spamhints.load, generate_series(1, 3) n;
DELETE FROM spamhints.load WHERE file_name = 'b.pcap';
SELECT is((SELECT count(*) FROM spamhints.smtp_sample), 3::bigint, 'deleting one load keeps the other''s samples');
-- the load just deleted in this transaction is not taken for existing
SELECT throws_ok($$INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
                     src_ip, dst_ip, src_port, dst_port)
                   SELECT l.load_id - 1, 1, now(), '10.0.0.1', 1, 1, '10.0.0.2', '10.0.0.3', 1025, 25
                   FROM spamhints.load l WHERE file_name = 'c.pcap'$$,
                 '23503', NULL, 'a sample of a load deleted in the same transaction is refused');
SELECT throws_ok($$UPDATE spamhints.load SET load_id = DEFAULT$$,
                 '23503', 'the load_id of a load cannot change', 'a load keeps its load_id');
SELECT throws_ok($$UPDATE spamhints.smtp_sample SET load_id = -5$$,
                 '23503', 'load -5 does not exist', 'a sample cannot move to a load that does not exist');
TRUNCATE spamhints.load CASCADE;
SELECT is((SELECT count(*) FROM spamhints.smtp_sample), 0::bigint, 'truncating the loads truncates the samples');

-- tcp_flags_text
SELECT is(spamhints.tcp_flags_text(18), 'SYN,ACK', 'flags 18 are SYN,ACK');
SELECT is(spamhints.tcp_flags_text(0), '', 'no flags');
SELECT is(spamhints.tcp_flags_text(255), 'FIN,SYN,RST,PSH,ACK,URG,ECE,CWR', 'all eight flags');
SELECT throws_ok('SELECT spamhints.tcp_flags_text(256)', '22003', 'TCP flags value 256 is out of range',
                 'a flags value over 255 is an error');

SELECT * FROM finish();
ROLLBACK;
