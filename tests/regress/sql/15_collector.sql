-- 15_collector: live collection's counts (spamhints-load --listen): the
-- collector columns of spamhints.load and the views over them. Hand-built:
-- three spool files of one collector, a capture loaded as a file, and agent
-- 192.0.2.1 numbering its datagrams across the files as below; the
-- datagrams each load took (spamhints.load_seqs), which collector_agent
-- counts, each once.
CREATE EXTENSION IF NOT EXISTS spamhints;
SET TimeZone = 'UTC';
\set VERBOSITY terse
BEGIN;
INSERT INTO spamhints.load (file_name, sha256, finished_at, first_ts, last_ts, frames, datagrams, malformed,
                            lost_datagrams, collector, spool_opened_at, spool_closed_at, received, refused,
                            kernel_dropped, recovered)
VALUES ('s1.pcapng', repeat('1', 64), now(), '2026-12-01 10:00:00+00', '2026-12-01 10:00:59+00', 100, 99, 1, 2,
        'c1 *:6343', '2026-12-01 10:00:00+00', '2026-12-01 10:01:00+00', 103, 3, 5, false),
       ('s2.pcapng', repeat('2', 64), now(), '2026-12-01 10:01:00+00', '2026-12-01 10:01:59+00', 50, 50, 0, 0,
        'c1 *:6343', '2026-12-01 10:01:00+00', '2026-12-01 10:02:00+00', 50, 0, 0, false),
       ('s3.pcapng', repeat('3', 64), now(), '2026-12-01 10:05:00+00', '2026-12-01 10:05:59+00', 30, 30, 0, 0,
        'c1 *:6343', NULL, NULL, NULL, NULL, NULL, true),
       ('capture.pcap', repeat('4', 64), now(), '2026-12-01 09:00:00+00', '2026-12-01 09:00:59+00', 7, 7, 0, 0,
        NULL, NULL, NULL, NULL, NULL, NULL, NULL);
-- agent 192.0.2.1: file 1 seq 1..100 (2 lost within), file 2 seq 104..153 (3 lost between:
-- 101, 102, 103), file 3 seq 5..34 (a restart between: back by 148); agent 192.0.2.2 in
-- file 1 only; and one agent in the capture, which the views leave out
INSERT INTO spamhints.load_agent (load_id, agent, sub_agent, version, datagrams, malformed, first_seq, last_seq,
                                  lost, resets)
SELECT l.load_id, v.agent::inet, 0, 5, v.d, v.m, v.s, v.t, v.lost, v.resets
FROM spamhints.load l
JOIN (VALUES ('s1.pcapng', '192.0.2.1', 97, 1, 1, 100, 2, 0),
             ('s1.pcapng', '192.0.2.2', 2, 0, 7, 8, 0, 0),
             ('s2.pcapng', '192.0.2.1', 50, 0, 104, 153, 0, 0),
             ('s3.pcapng', '192.0.2.1', 30, 0, 5, 34, 0, 0),
             ('capture.pcap', '198.51.100.1', 7, 0, 1, 7, 0, 0))
     AS v(f, agent, d, m, s, t, lost, resets) ON v.f = l.file_name;
-- the datagrams the loads took: agent 192.0.2.1 booted at 09:00 took 1..100 but 50 (the
-- malformed one: not taken, so its number counts as lost), 53 and 54 in file 1, 104..153 in
-- file 2; booted again at 10:04 (after file 2's datagrams arrived: a restart), 5..34 in file 3
INSERT INTO spamhints.load_seqs (load_id, agent, sub_agent, boot, seqs)
SELECT l.load_id, v.agent::inet, 0, tstzrange(v.b::timestamptz, v.b::timestamptz + interval '2 s'), v.seqs::int8multirange
FROM spamhints.load l
JOIN (VALUES ('s1.pcapng', '192.0.2.1', '2026-12-01 09:00:00+00', '{[1,50),[51,53),[55,101)}'),
             ('s1.pcapng', '192.0.2.2', '2026-11-30 00:00:00+00', '{[7,9)}'),
             ('s2.pcapng', '192.0.2.1', '2026-12-01 09:00:01+00', '{[104,154)}'),
             ('s3.pcapng', '192.0.2.1', '2026-12-01 10:04:00+00', '{[5,35)}'),
             ('capture.pcap', '198.51.100.1', '2026-12-01 08:00:00+00', '{[1,8)}'))
     AS v(f, agent, b, seqs) ON v.f = l.file_name;
-- expected: 192.0.2.1 3 files, 177 datagrams, 1 malformed, lost 3 + 3 = 6, 1 restart, last seq 34
SELECT agent, sub_agent, version, files, datagrams, malformed, lost, resets, last_seq, first_seen, last_seen
FROM spamhints.collector_agent ORDER BY agent;
-- expected: one collector, 3 files (1 recovered), received 153, refused 3, dropped 5, datagrams 179, none known
SELECT collector, files, recovered_files, first_opened, last_closed, received, refused, kernel_dropped,
       datagrams, malformed, lost_in_files, known_datagrams, since_last_load >= '0'::interval AS since_ok
FROM spamhints.collector_status;
-- the counts of a file add up, and belong to a collector's file only
SAVEPOINT a;
UPDATE spamhints.load SET refused = 200 WHERE file_name = 's2.pcapng';
ROLLBACK TO a;
UPDATE spamhints.load SET received = 1 WHERE file_name = 'capture.pcap';
ROLLBACK TO a;
-- a second collector received file 1's datagrams too: they were known (it took none); its
-- file's agents change nothing (files and malformed: the most of one collector)
INSERT INTO spamhints.load (file_name, sha256, finished_at, first_ts, last_ts, frames, datagrams, malformed,
                            lost_datagrams, known_datagrams, collector, spool_opened_at, spool_closed_at,
                            received, refused, kernel_dropped, recovered)
VALUES ('t1.pcapng', repeat('5', 64), now(), '2026-12-01 10:00:00.1+00', '2026-12-01 10:00:59.1+00', 99, 98, 1, 2, 98,
        'c2 *:6343', '2026-12-01 10:00:00+00', '2026-12-01 10:01:00+00', 99, 0, 0, false);
INSERT INTO spamhints.load_agent (load_id, agent, sub_agent, version, datagrams, malformed, first_seq, last_seq, lost, resets)
SELECT load_id, '192.0.2.1'::inet, 0, 5, 97, 1, 1, 100, 2, 0 FROM spamhints.load WHERE file_name = 't1.pcapng'
UNION ALL
SELECT load_id, '192.0.2.2', 0, 5, 2, 0, 7, 8, 0, 0 FROM spamhints.load WHERE file_name = 't1.pcapng';
SELECT agent, files, datagrams, malformed, lost, resets, last_seq FROM spamhints.collector_agent ORDER BY agent;
SELECT collector, datagrams, known_datagrams FROM spamhints.collector_status ORDER BY collector;
-- a datagram late, taken in the next file (53): not lost; and a fast replay's drifting boot
-- estimates (one a minute earlier each, arriving after all of them): one run, no restart
INSERT INTO spamhints.load_seqs (load_id, agent, sub_agent, boot, seqs)
SELECT load_id, '192.0.2.1'::inet, 0, tstzrange('2026-12-01 09:00:01+00', '2026-12-01 09:00:02+00'), '{[53,54)}'
FROM spamhints.load WHERE file_name = 's2.pcapng'
UNION ALL
SELECT load_id, '192.0.2.2', 0, tstzrange(b, b + interval '1 s'), int8multirange(int8range(s, s + 1))
FROM spamhints.load, generate_series(9, 12) s,
     LATERAL (SELECT '2026-11-30 00:00:00+00'::timestamptz - (s - 8) * interval '1 min') AS x(b)
WHERE file_name = 's2.pcapng';
SELECT agent, datagrams, lost, resets, last_seq FROM spamhints.collector_agent ORDER BY agent;
ROLLBACK;
