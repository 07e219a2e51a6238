-- tests/regress/sql/22_hist24.sql: hist24, the hourly aggregates and chart().
SET search_path = spamhints, public;
SET TimeZone = 'UTC';

-- text I/O: hour:count (missing hours 0) or 24 plain counts
SELECT '{}'::hist24;
SELECT '{ 23:5 , 0:12 }'::hist24;
SELECT '{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24}'::hist24;
SELECT '{0:-1,1:9223372036854775807}'::hist24;
-- bad text input: 22P02
SELECT '{24:1}'::hist24;
SELECT '{1:1,1:2}'::hist24;
SELECT '{1:1,2}'::hist24;
SELECT '{1,2,3}'::hist24;
SELECT '{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25}'::hist24;
SELECT '{1:99999999999999999999}'::hist24;
SELECT '0:1'::hist24;
SELECT '{0:1}}'::hist24;
SELECT '{0:x}'::hist24;
\set VERBOSITY terse

-- casts, + and =
SELECT '{0:1,12:5,23:7}'::hist24::bigint[];
SELECT (ARRAY[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]::bigint[])::hist24;
SELECT ARRAY[1,2]::bigint[]::hist24;
SELECT ARRAY[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,NULL]::bigint[]::hist24;
SELECT '{0:1,5:2}'::hist24 + '{5:3,23:4}' AS sum, '{0:1}'::hist24 = '{0:1}' AS eq, '{0:1}'::hist24 = '{}' AS ne;
SELECT '{0:9223372036854775807}'::hist24 + '{0:1}';

-- hourly: hand-counted
CREATE TEMP TABLE t (ts timestamptz, w bigint);
INSERT INTO t VALUES
  ('2024-03-01 00:00:00+00', 10), ('2024-03-01 00:59:59.999999+00', 20),
  ('2024-03-01 01:00:00+00', 30), ('2024-03-01 13:30:00+00', 40),
  ('2024-03-02 13:00:00+00', 50), ('2024-03-01 23:59:59+00', NULL),
  (NULL, 60), ('infinity', 70), ('-infinity', 80);
SELECT hourly(ts) FROM t;
SELECT hourly(ts, w) FROM t;
SELECT hourly(ts, sampling_rate) FROM spamhints.smtp_sample;
-- the session's TimeZone decides the hour
SET TimeZone = 'America/New_York';
SELECT hourly(ts) FROM t;
SET TimeZone = 'Asia/Kolkata';
SELECT hourly(ts) FROM t;
SET TimeZone = 'UTC';
-- no rows: all zeros
SELECT hourly(ts) FROM t WHERE false;
-- grouped
SELECT ts::date AS day, hourly(ts) FROM t WHERE ts IS NOT NULL AND isfinite(ts) GROUP BY 1 ORDER BY 1;
-- union: the rollup of per-day profiles is the profile of all
SELECT hist24_union(h) = (SELECT hourly(ts) FROM t) AS union_equal
FROM (SELECT ts::date, hourly(ts) AS h FROM t GROUP BY 1) AS daily;
SELECT hist24_union(h) FROM (VALUES ('{1:1}'::hist24), (NULL), ('{1:2,2:3}')) AS x(h);

-- the same hours as extract(hour ...), across DST changes, half-hour and
-- 45-minute zones, a zone with a 30-minute DST step, and 19th-century
-- local mean time (offsets in seconds)
CREATE FUNCTION pg_temp.hours_by_extract(tz text, t0 timestamptz, t1 timestamptz, step interval) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE r bigint[];
BEGIN
  PERFORM set_config('TimeZone', tz, true);
  SELECT array_agg(coalesce(n, 0) ORDER BY h) INTO r
  FROM generate_series(0, 23) AS h
  LEFT JOIN (SELECT extract(hour FROM ts)::int AS hh, count(*) AS n
             FROM generate_series(t0, t1, step) AS ts GROUP BY 1) c ON c.hh = h;
  RETURN r;
END $$;
CREATE FUNCTION pg_temp.hours_by_hourly(tz text, t0 timestamptz, t1 timestamptz, step interval) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE r bigint[];
BEGIN
  PERFORM set_config('TimeZone', tz, true);
  SELECT spamhints.hourly(ts)::bigint[] INTO r FROM generate_series(t0, t1, step) AS ts;
  RETURN r;
END $$;
SELECT tz, pg_temp.hours_by_hourly(tz, t0, t1, step) = pg_temp.hours_by_extract(tz, t0, t1, step) AS same
FROM (VALUES ('Europe/Amsterdam', '2023-01-01 00:00+00'::timestamptz, '2025-01-01 00:00+00'::timestamptz, '7 min 13 s'::interval),
             ('America/New_York', '2023-01-01 00:00+00', '2025-01-01 00:00+00', '11 min 7 s'),
             ('Asia/Kolkata', '2024-01-01 00:00+00', '2024-03-01 00:00+00', '3 min 1 s'),
             ('Asia/Kathmandu', '2024-01-01 00:00+00', '2024-03-01 00:00+00', '3 min 1 s'),
             ('Australia/Lord_Howe', '2023-01-01 00:00+00', '2025-01-01 00:00+00', '5 min 3 s'),
             ('Europe/Amsterdam', '1890-01-01 00:00+00', '1890-03-01 00:00+00', '1 min 1 s'),
             ('Europe/Amsterdam', '1999-12-31 23:00+00', '2000-01-01 01:00+00', '0.25 s'),
             ('UTC', '1960-01-01 00:00+00', '2040-01-01 00:00+00', '1 day 1 hour 1 s')) AS c(tz, t0, t1, step);
SET TimeZone = 'UTC';

-- chart: the slide's bar chart in 80 columns
SELECT chart('{0:3,1:2,2:1,3:1,4:1,5:2,6:4,7:8,8:12,9:15,10:16,11:17,12:16,13:17,14:18,15:17,16:15,17:12,18:9,19:7,20:6,21:5,22:4,23:3}');
SELECT chart('{}', 3);
SELECT chart('{0:1234567,12:98765432,23:5}', 5);
SELECT chart('{7:1}', 1);
SELECT max(length(line)) AS widest FROM regexp_split_to_table(chart('{0:9223372036854775807}'::hist24), E'\n') AS line;
SELECT chart('{}', 0);

-- binary I/O: 24 int8
CREATE FUNCTION pg_temp.recv_as(b bytea, typ text) RETURNS text LANGUAGE plpgsql
SET client_min_messages = warning AS $$
DECLARE
  f text := current_setting('data_directory') || '/spamhints-regress-' || pg_backend_pid() || '.bin';
  r text;
BEGIN
  DROP TABLE IF EXISTS pg_temp.crafted_in, pg_temp.crafted_out;
  CREATE TEMP TABLE crafted_in (b bytea);
  EXECUTE format('CREATE TEMP TABLE crafted_out (v %s)', typ);
  INSERT INTO crafted_in VALUES (b);
  EXECUTE format('COPY crafted_in TO %L (FORMAT binary)', f);
  BEGIN
    EXECUTE format('COPY crafted_out FROM %L (FORMAT binary)', f);
  EXCEPTION WHEN OTHERS THEN
    EXECUTE format('COPY (SELECT) TO PROGRAM %L', 'cat >/dev/null; rm -f ' || f);
    RAISE;
  END;
  EXECUTE format('COPY (SELECT) TO PROGRAM %L', 'cat >/dev/null; rm -f ' || f);
  SELECT v::text INTO r FROM crafted_out;
  RETURN r;
END $$;
SET client_min_messages = warning;
SELECT pg_temp.recv_as(hist24_send('{0:1,23:-2}'), 'spamhints.hist24');
SELECT pg_temp.recv_as('\x0000000000000001', 'spamhints.hist24');
SELECT pg_temp.recv_as(hist24_send('{0:1,23:-2}') || '\x00'::bytea, 'spamhints.hist24');
RESET client_min_messages;

BEGIN;
SELECT plan(8);
SELECT throws_ok($$SELECT '{24:1}'::spamhints.hist24$$, '22P02', NULL, 'bad hour is 22P02');
SELECT throws_ok($$SELECT '{0:9223372036854775807}'::spamhints.hist24 + '{0:1}'$$, '22003', NULL, 'overflow is 22003');
SELECT throws_ok($$SELECT pg_temp.recv_as('\x00', 'spamhints.hist24')$$, '22P03', NULL, 'short binary hist24 is 22P03');
SELECT is((SELECT hourly(ts) FROM t), '{0:2,1:1,13:2,23:1}'::hist24, 'hourly by hand');
SELECT is((SELECT hourly(ts, w) FROM t), '{0:30,1:30,13:90}'::hist24, 'weighted, NULL weight skipped');
SELECT is((SELECT hourly(ts) FROM t WHERE false), '{}'::hist24, 'zeros over no rows');
SELECT is('{3:4}'::hist24::bigint[], '{0,0,0,4,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::bigint[], 'cast to bigint[]');
SELECT is(('{3:4}'::hist24 + '{3:1}')::text, '{0:0,1:0,2:0,3:5,4:0,5:0,6:0,7:0,8:0,9:0,10:0,11:0,12:0,13:0,14:0,15:0,16:0,17:0,18:0,19:0,20:0,21:0,22:0,23:0}', '+');
SELECT * FROM finish();
ROLLBACK;
