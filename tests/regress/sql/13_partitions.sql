-- 13_partitions: smtp_sample's day partitions. Rows wait in the default
-- partition until maintain_partitions() (or ensure_partitions()) makes their
-- days; a partition holds exactly its UTC day; deleting a load deletes its
-- rows in every partition; purge() drops whole partitions and deletes only
-- inside the one at the cutoff (against a hand-computed set of rows);
-- address() answers one address through the B-trees, never a scan of a
-- partition, and with a period reads only the partitions of its days.
CREATE EXTENSION IF NOT EXISTS spamhints;
\set ECHO none
\pset format unaligned
\pset tuples_only true
-- a session far from UTC: the partitions are UTC days all the same
SET TimeZone = 'America/New_York';
SET search_path = spamhints, public;
BEGIN;
SELECT plan(40);

CREATE FUNCTION pg_temp.plan(q text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
    RETURN j::jsonb;
END $$;
-- the relations a plan scans sequentially, and all it reads
CREATE FUNCTION pg_temp.seq_scanned(q text) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(DISTINCT r #>> '{}' ORDER BY r #>> '{}'), '{}')
    FROM jsonb_path_query(pg_temp.plan(q), 'strict $.**?(@."Node Type" == "Seq Scan")."Relation Name"') AS r
$$;
CREATE FUNCTION pg_temp.read(q text) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(DISTINCT r #>> '{}' ORDER BY r #>> '{}'), '{}')
    FROM jsonb_path_query(pg_temp.plan(q), 'strict $.**."Relation Name"') AS r
$$;

SELECT is((SELECT count(*) FROM spamhints.partitions() WHERE from_ts >= '2025-05-31 00:00+00' AND from_ts < '2025-07-01 00:00+00'),
          0::bigint, 'no partition of June 2025 to begin with');
SELECT is((SELECT count(*) FROM spamhints.partitions() WHERE from_ts IS NULL AND partition = 'spamhints.smtp_sample_default'::regclass),
          1::bigint, 'the default partition is there');

-- load 1: a week of June 2025, one sample an hour (frames 0..167), from
-- 10.9.0.1 to 10.9.0.2 on even hours, back on odd ones
INSERT INTO spamhints.load (file_name, sha256, finished_at, first_ts, last_ts)
VALUES ('week', repeat('1', 64), now(), '2025-06-01 00:00+00', '2025-06-07 23:00+00');
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port, tcp_flags)
SELECT (SELECT load_id FROM spamhints.load WHERE file_name = 'week'), g,
       '2025-06-01 00:00+00'::timestamptz + g * interval '1 hour', '192.0.2.1', g, 10,
       CASE WHEN g % 2 = 0 THEN '10.9.0.1'::inet ELSE '10.9.0.2' END,
       CASE WHEN g % 2 = 0 THEN '10.9.0.2'::inet ELSE '10.9.0.1' END,
       CASE WHEN g % 2 = 0 THEN 40000 ELSE 25 END, CASE WHEN g % 2 = 0 THEN 25 ELSE 40000 END, 2
FROM generate_series(0, 167) AS g;

SELECT is((SELECT count(*) FROM spamhints.smtp_sample_default WHERE ts >= '2025-06-01 00:00+00' AND ts < '2025-06-08 00:00+00'),
          168::bigint, 'an INSERT without its days'' partitions lands in the default partition');
SELECT is((SELECT count(*) FROM spamhints.maintain_partitions() WHERE action LIKE 'created%' AND partition::text LIKE '%2025060%'),
          7::bigint, 'maintain_partitions() makes the seven days');
SELECT is((SELECT count(*) FROM spamhints.smtp_sample_default WHERE ts >= '2025-06-01 00:00+00' AND ts < '2025-06-08 00:00+00'),
          0::bigint, 'and moves their rows out of the default partition');
SELECT is((SELECT count(*) FROM spamhints.smtp_sample WHERE load_id = (SELECT load_id FROM spamhints.load WHERE file_name = 'week')),
          168::bigint, 'no row lost on the way');
SELECT is((SELECT array_agg(p.partition::text ORDER BY p.from_ts) FROM spamhints.partitions() p
           WHERE p.from_ts >= '2025-06-01 00:00+00' AND p.from_ts < '2025-07-01 00:00+00'),
          ARRAY['smtp_sample_20250601', 'smtp_sample_20250602', 'smtp_sample_20250603', 'smtp_sample_20250604',
                'smtp_sample_20250605', 'smtp_sample_20250606', 'smtp_sample_20250607'],
          'one partition a UTC day, named by it');
SELECT is((SELECT to_ts - from_ts FROM spamhints.partitions() WHERE partition::text = 'smtp_sample_20250603'),
          interval '1 day', 'a partition holds one day');
SELECT is((SELECT from_ts FROM spamhints.partitions() WHERE partition::text = 'smtp_sample_20250603'),
          '2025-06-03 00:00+00'::timestamptz, 'from UTC midnight, whatever the session''s time zone');
-- each row in the partition of its UTC day, 24 a day
SELECT is((SELECT count(*) FROM spamhints.smtp_sample s
           WHERE s.load_id = (SELECT load_id FROM spamhints.load WHERE file_name = 'week')
             AND s.tableoid::regclass::text <> 'smtp_sample_' || to_char(s.ts AT TIME ZONE 'UTC', 'YYYYMMDD')),
          0::bigint, 'every row is in the partition of its UTC day');
SELECT is((SELECT array_agg(n ORDER BY t) FROM (SELECT tableoid::regclass::text AS t, count(*) AS n FROM spamhints.smtp_sample
           WHERE load_id = (SELECT load_id FROM spamhints.load WHERE file_name = 'week') GROUP BY 1) x),
          ARRAY[24, 24, 24, 24, 24, 24, 24]::bigint[], '24 rows in each');
SELECT is((SELECT bool_and(indexed) FROM spamhints.partitions() WHERE from_ts >= '2025-06-01 00:00+00' AND from_ts < '2025-06-08 00:00+00'),
          true, 'days long past are complete: their B-trees are built');
SELECT is((SELECT count(*) FROM spamhints.maintain_partitions()), 0::bigint, 'a second maintain_partitions() has nothing to do');

-- ensure_partitions(): idempotent, both days included, bounded, finite
SELECT is(spamhints.ensure_partitions('2025-06-02 13:00+00', '2025-06-02 14:00+00'), 0, 'ensure_partitions() of a day that has its partition makes none');
SELECT is(spamhints.ensure_partitions('2025-06-09 23:59+00', '2025-06-10 00:00+00'), 2, 'ensure_partitions() over midnight makes both days');
SELECT is((SELECT indexed FROM spamhints.partitions() WHERE partition::text = 'smtp_sample_20250610'), false,
          'a new day has no B-trees yet (rows are COPYed into it without them)');
SELECT throws_ok($$SELECT spamhints.ensure_partitions('2025-01-01', '2026-02-05')$$, '22023', NULL, 'more than 400 days at a time: 22023');
SELECT throws_ok($$SELECT spamhints.ensure_partitions('2025-01-01', 'infinity')$$, '22023', NULL, 'an infinite time: 22023');
-- the widest finite times: the days between them overflow an interval (it wrapped
-- below 400 days, and partitions were made until the locks ran out: 53200)
SELECT throws_ok($$SELECT spamhints.ensure_partitions('4713-01-01 BC', '294276-12-31')$$, '22023', NULL,
                 'the whole range of timestamptz: more than 400 days, 22023');
-- a row of a day that has its partition goes straight there
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port)
VALUES ((SELECT load_id FROM spamhints.load WHERE file_name = 'week'), 1000, '2025-06-10 00:30+00', '192.0.2.1', 1000, 10,
        '10.9.0.3', '10.9.0.1', 40001, 25);
SELECT is((SELECT tableoid::regclass::text FROM spamhints.smtp_sample WHERE frame = 1000 AND ts = '2025-06-10 00:30+00'),
          'smtp_sample_20250610', 'a row of a day with its partition goes straight into it');

-- address(): by hand, 10.9.0.1 is the source of the 84 even hours (client,
-- to port 25) and the destination of the 84 odd ones (from port 25: client
-- again) and of frame 1000 (to port 25: server), peers 10.9.0.2 and 10.9.0.3
INSERT INTO spamhints.ip_assignment (customer_id, network, during) VALUES ('cust-9', '10.9.0.0/24', tstzrange('2025-06-01 00:00+00', NULL));
SELECT is((SELECT row(samples, est_packets, as_source, as_destination, role::text, peers, first_seen, last_seen, customer)::text
           FROM spamhints.address('10.9.0.1')),
          row(169::bigint, 1690::bigint, 84::bigint, 85::bigint, 'both', 2::bigint, '2025-06-01 00:00+00'::timestamptz,
              '2025-06-10 00:30+00'::timestamptz, 'cust-9')::text,
          'address(): samples, packets, each side, role, peers, first and last seen, customer');
SET LOCAL TimeZone = 'UTC';
SELECT is((SELECT hourly::bigint[] FROM spamhints.address('10.9.0.1')),
          (SELECT array_agg(CASE WHEN h = 0 THEN 8 ELSE 7 END::bigint ORDER BY h) FROM generate_series(0, 23) h),
          'address(): its hour-of-day chart (7 days of every hour, and 00:30 on the 10th)');
SELECT is((SELECT samples FROM spamhints.address('10.9.0.1', tstzrange('2025-06-02 00:00+00', '2025-06-03 00:00+00'))),
          24::bigint, 'address() in a period: the samples of that day');
SELECT is((SELECT row(samples, role::text, first_seen, last_seen, customer)::text FROM spamhints.address('10.77.0.1')),
          row(0::bigint, NULL::text, NULL::timestamptz, NULL::timestamptz, NULL::text)::text,
          'address() of an address never seen: no samples, no role, no times');
SET LOCAL TimeZone = 'America/New_York';

-- through the indexes: 30,000 more samples of 3,000 addresses over the week
INSERT INTO spamhints.load (file_name, sha256, finished_at, first_ts, last_ts)
VALUES ('bulk', repeat('2', 64), now(), '2025-06-01 00:00+00', '2025-06-07 23:59+00');
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port, tcp_flags)
SELECT (SELECT load_id FROM spamhints.load WHERE file_name = 'bulk'), g,
       '2025-06-01 00:00+00'::timestamptz + (g % 604800) * interval '1 second' * 20, '192.0.2.1', g, 10,
       '10.20.0.0'::inet + (g * 7919) % 3000, '10.30.0.0'::inet + (g * 104729) % 3000, 40000 + g % 1000, 25, 16
FROM generate_series(1::bigint, 30000) AS g;
SELECT is((SELECT array_agg(partition::text ORDER BY partition::text) FROM spamhints.maintain_partitions() WHERE action = 'indexed'),
          ARRAY['smtp_sample_20250609', 'smtp_sample_20250610'], 'the two days made by hand get their B-trees once complete');
ANALYZE spamhints.smtp_sample;
-- (the planner may read whole a partition without rows, the default one
-- emptied by maintain_partitions(), or of one page, the day
-- with one row, whole: that is one page, as an index would read)
SELECT is((SELECT coalesce(array_agg(t ORDER BY t), '{}') FROM unnest(pg_temp.seq_scanned($$SELECT * FROM spamhints.address('10.20.0.7')$$)) AS t
           WHERE EXISTS (SELECT FROM spamhints.partitions() p JOIN pg_class c ON c.oid = p.partition
                         WHERE c.relname = t AND c.reltuples > 0 AND c.relpages > 1)),
          '{}'::text[], 'address(): no sequential scan of a partition with rows in more than one page, seqscan allowed');
SELECT is((SELECT count(*) FROM spamhints.smtp_sample_default), 0::bigint, '  (the default partition is empty)');
SELECT ok(pg_temp.plan($$SELECT * FROM spamhints.address('10.20.0.7')$$)::text ~ 'smtp_sample_20250603_src_ip'
          AND pg_temp.plan($$SELECT * FROM spamhints.address('10.20.0.7')$$)::text ~ 'smtp_sample_20250603_dst_ip',
          'address(): through the B-trees on src_ip and dst_ip of each day');
SELECT is(pg_temp.read($$SELECT * FROM spamhints.address('10.20.0.7', tstzrange('2025-06-03 00:00+00', '2025-06-04 00:00+00'))$$),
          ARRAY['load', 'load_agent', 'smtp_sample_20250603'],
          'address() in a period reads only the partition of that day (and the load and its agents)');
SELECT is(pg_temp.read($$SELECT * FROM spamhints.activity('2025-06-03 00:00+00', '2025-06-03 12:00+00')$$),
          ARRAY['load', 'load_agent', 'smtp_sample_20250603'], 'activity() of half a day reads only that day''s partition (and the loads and agents)');
SELECT is((SELECT samples FROM spamhints.address('10.20.0.7')),
          (SELECT count(*) FROM spamhints.smtp_sample WHERE src_ip = '10.20.0.7' OR dst_ip = '10.20.0.7'),
          'address() counts what a scan of the table counts');

-- deleting a load deletes its rows in every partition, and only its rows
DELETE FROM spamhints.load WHERE file_name = 'bulk';
SELECT is((SELECT count(*) FROM spamhints.smtp_sample WHERE ts >= '2025-06-01 00:00+00' AND ts < '2025-06-11 00:00+00'),
          169::bigint, 'deleting a load deletes its samples in all seven partitions, the other load''s stay');

-- purge(): cutoff 2025-06-04 12:00 UTC. By hand: the partitions of June 1,
-- 2 and 3 go whole (72 rows, frames 0..71), June 4 loses its first 12 rows
-- (frames 72..83), everything else stays: frames 84..167 and 1000
CREATE TEMP TABLE before_cut AS
SELECT count(*) AS n FROM spamhints.smtp_sample s
WHERE s.ts < '2025-06-04 12:00+00' AND s.load_id <> (SELECT load_id FROM spamhints.load WHERE file_name = 'week');
SELECT is((SELECT deleted FROM spamhints.purge('1 day', '2025-06-05 12:00+00') WHERE table_name = 'smtp_sample'),
          84 + (SELECT n FROM before_cut), 'purge() counts the 84 rows of the week before the cutoff (and any older)');
SELECT is((SELECT array_agg(frame ORDER BY frame) FROM spamhints.smtp_sample
           WHERE load_id = (SELECT load_id FROM spamhints.load WHERE file_name = 'week')),
          (SELECT array_agg(g ORDER BY g) FROM (SELECT generate_series(84, 167) AS g UNION ALL SELECT 1000) x)::bigint[],
          'exactly the rows from the cutoff on are left');
SELECT is((SELECT count(*) FROM spamhints.smtp_sample WHERE ts < '2025-06-04 12:00+00'), 0::bigint, 'no row before the cutoff');
SELECT ok(to_regclass('spamhints.smtp_sample_20250601') IS NULL AND to_regclass('spamhints.smtp_sample_20250602') IS NULL
          AND to_regclass('spamhints.smtp_sample_20250603') IS NULL, 'the partitions wholly before the cutoff are dropped');
SELECT is((SELECT count(*) FROM spamhints.smtp_sample_20250604), 12::bigint, 'the one at the cutoff keeps its rows from the cutoff on');
SELECT is((SELECT count(*) FROM spamhints.load WHERE file_name = 'week'), 1::bigint, 'the load record stays');
SELECT is((SELECT deleted FROM spamhints.purge('1 day', '2025-06-05 12:00+00') WHERE table_name = 'smtp_sample'),
          0::bigint, 'a second purge() at the same time deletes nothing');
SELECT is((SELECT count(*) FROM spamhints.smtp_sample_default), 0::bigint, 'the default partition is empty');

SELECT * FROM finish();
ROLLBACK;
