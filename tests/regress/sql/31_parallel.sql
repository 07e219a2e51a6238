-- tests/regress/sql/31_parallel.sql: the aggregates in parallel workers and
-- in partial (partitionwise) plans give the serial answers, which are the
-- plain-SQL answers.
SET search_path = spamhints, public;
SET TimeZone = 'Europe/Amsterdam';

-- 60,000 samples over 25 hours: 20,000 client and 3,000 server addresses
-- (300 both), one in ten IPv6, ASes and countries by address
INSERT INTO spamhints.load (file_name, sha256, finished_at) VALUES ('parallel', repeat('5', 64), now());
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
       src_ip, dst_ip, src_port, dst_port, tcp_flags, src_asn, dst_asn, src_cc, dst_cc)
SELECT (SELECT load_id FROM spamhints.load WHERE file_name = 'parallel'), g,
       '2024-03-30 12:00+00'::timestamptz + g * interval '1.5 s', '192.0.2.250', g, 1 + g % 7,
       CASE WHEN up THEN c ELSE v END, CASE WHEN up THEN v ELSE c END,
       CASE WHEN g % 97 = 0 THEN 25 WHEN up THEN 1024 + g % 50000 ELSE 25 END,
       CASE WHEN g % 89 = 0 THEN 8080 WHEN up THEN 25 ELSE 1024 + g % 50000 END,
       (ARRAY[2, 18, 16, 17, 4])[1 + g % 5],
       CASE WHEN up THEN ca ELSE va END, CASE WHEN up THEN va ELSE ca END,
       CASE WHEN up THEN cc ELSE vc END, CASE WHEN up THEN vc ELSE cc END
FROM (SELECT g, g % 3 <> 0 AS up,
             CASE WHEN ci % 10 = 0 THEN '2001:db8::'::inet + ci ELSE '10.0.0.0'::inet + ci END AS c,
             CASE WHEN si % 10 = 0 THEN '2001:db8::'::inet + si ELSE '10.0.0.0'::inet + si END AS v,
             nullif(ci % 37, 0) AS ca, nullif(si % 37, 0) AS va,
             (ARRAY['NL','DE','FR','US'])[1 + ci % 4] AS cc, (ARRAY['NL','DE','FR','US'])[1 + si % 4] AS vc
      FROM (SELECT g, (g * 7919) % 20000 AS ci, 19700 + (g * 104729) % 3000 AS si
            FROM generate_series(1::bigint, 60000) AS g) AS x) AS y;
-- from the default partition to the two days' partitions: the plans below
-- scan both in parallel (Parallel Append)
SELECT partition, action FROM spamhints.maintain_partitions();
ANALYZE spamhints.smtp_sample;
-- per-hour censuses and profiles, stored: for the union aggregates
CREATE TABLE parallel_hourly AS
SELECT date_trunc('hour', ts) AS hour, census_agg(src_ip, dst_ip, src_port, dst_port) AS c,
       hourly(ts) AS h
FROM spamhints.smtp_sample GROUP BY 1;
ALTER TABLE parallel_hourly SET (parallel_workers = 2);
ANALYZE parallel_hourly;

-- serial answers
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial AS
SELECT 'census pair'::text AS q, smtp_census(src_ip, dst_ip, src_port, dst_port)::text AS a FROM spamhints.smtp_sample
UNION ALL SELECT 'census pair, ports', smtp_census(src_ip, dst_ip, src_port, dst_port, '{25,8080}')::text FROM spamhints.smtp_sample
UNION ALL SELECT 'census endpoint', smtp_census(ip, role)::text FROM endpoint
UNION ALL SELECT 'census_agg', md5(census_agg(src_ip, dst_ip, src_port, dst_port)::text) FROM spamhints.smtp_sample
UNION ALL SELECT 'census_agg endpoint', md5(census_agg(ip, role)::text) FROM endpoint
UNION ALL SELECT 'census_union', md5(census_union(c)::text) FROM parallel_hourly
UNION ALL SELECT 'hourly', hourly(ts)::text FROM spamhints.smtp_sample
UNION ALL SELECT 'hourly weighted', hourly(ts, sampling_rate)::text FROM spamhints.smtp_sample
UNION ALL SELECT 'hist24_union', hist24_union(h)::text FROM parallel_hourly
UNION ALL SELECT 'role_or', string_agg(r::text, ',' ORDER BY f) FROM (SELECT family(ip) AS f, role_or(role) AS r FROM endpoint GROUP BY 1) AS t
UNION ALL SELECT 'client_as_top', md5(string_agg(t::text, ';' ORDER BY asn)) FROM client_as_top t
UNION ALL SELECT 'client_cc_top', md5(string_agg(t::text, ';' ORDER BY country)) FROM client_cc_top t;
SELECT q, a FROM serial WHERE q IN ('census pair', 'census pair, ports', 'census endpoint', 'hourly') ORDER BY q;

-- the plain SQL an analyst would write: the same census
SELECT (count(*), count(*) FILTER (WHERE c AND NOT v), count(*) FILTER (WHERE v AND NOT c),
        count(*) FILTER (WHERE c AND v))::text = (SELECT a FROM serial WHERE q = 'census pair') AS plain_sql_census_equal
FROM (SELECT ip, bool_or(client) AS c, bool_or(server) AS v
      FROM (SELECT src_ip AS ip, dst_port = 25 AS client, src_port = 25 AS server FROM spamhints.smtp_sample
            WHERE 25 IN (src_port, dst_port)
            UNION ALL
            SELECT dst_ip, src_port = 25, dst_port = 25 FROM spamhints.smtp_sample
            WHERE 25 IN (src_port, dst_port)) AS e
      GROUP BY ip) AS t;
-- and the same hours as extract(hour ...)
SELECT array_agg(n ORDER BY h)::text = (SELECT a FROM serial WHERE q = 'hourly')::hist24::bigint[]::text AS plain_sql_hourly_equal
FROM (SELECT h, count(ts) AS n FROM generate_series(0, 23) AS h
      LEFT JOIN spamhints.smtp_sample ON extract(hour FROM ts) = h GROUP BY h) AS t;

-- the rollups folded into months (spamhints.address_month): the parallel
-- answers below, from the months, are compared with the serial ones above, from the days
SELECT spamhints.rollup_fold(NULL) AS days_folded;
ANALYZE spamhints.address_month;
-- parallel plans: Partial Aggregate in the workers, Finalize in the leader
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
-- ip_census: the months in parts in the workers (the plan of the days not
-- folded, none here, is the planner's choice)
CREATE FUNCTION pg_temp.plan_lines(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP RETURN NEXT l; END LOOP;
END $$;
SELECT bool_or(l ~ 'Finalize Aggregate') AS finalize, bool_or(l ~ 'Partial Aggregate') AS partial,
       bool_or(l ~ 'Parallel Seq Scan on address_month') AS months_in_parts
FROM pg_temp.plan_lines('SELECT * FROM ip_census') AS l;
EXPLAIN (COSTS OFF) SELECT smtp_census(ip, role) FROM endpoint;
EXPLAIN (COSTS OFF) SELECT census_agg(src_ip, dst_ip, src_port, dst_port) FROM spamhints.smtp_sample;
EXPLAIN (COSTS OFF) SELECT hourly(ts) FROM spamhints.smtp_sample;
EXPLAIN (COSTS OFF) SELECT hourly(ts, sampling_rate) FROM spamhints.smtp_sample;
EXPLAIN (COSTS OFF) SELECT census_union(c), hist24_union(h) FROM parallel_hourly;
EXPLAIN (COSTS OFF) SELECT role_or(role) FROM endpoint;

-- one statement each (a UNION ALL of them would run each aggregate whole in
-- one worker under a Parallel Append, not in parts)
SELECT smtp_census(src_ip, dst_ip, src_port, dst_port)::text AS census_pair FROM spamhints.smtp_sample \gset p_
SELECT smtp_census(src_ip, dst_ip, src_port, dst_port, '{25,8080}')::text AS census_ports FROM spamhints.smtp_sample \gset p_
SELECT smtp_census(ip, role)::text AS census_endpoint FROM endpoint \gset p_
SELECT md5(census_agg(src_ip, dst_ip, src_port, dst_port)::text) AS census_agg FROM spamhints.smtp_sample \gset p_
SELECT md5(census_agg(ip, role)::text) AS census_agg_endpoint FROM endpoint \gset p_
SELECT md5(census_union(c)::text) AS census_union FROM parallel_hourly \gset p_
SELECT hourly(ts)::text AS hourly FROM spamhints.smtp_sample \gset p_
SELECT hourly(ts, sampling_rate)::text AS hourly_weighted FROM spamhints.smtp_sample \gset p_
SELECT hist24_union(h)::text AS hist24_union FROM parallel_hourly \gset p_
SELECT string_agg(r::text, ',' ORDER BY f) AS role_or FROM (SELECT family(ip) AS f, role_or(role) AS r FROM endpoint GROUP BY 1) AS t \gset p_
SELECT md5(string_agg(t::text, ';' ORDER BY asn)) AS client_as_top FROM client_as_top t \gset p_
SELECT md5(string_agg(t::text, ';' ORDER BY country)) AS client_cc_top FROM client_cc_top t \gset p_
CREATE TEMP TABLE parallel (q text, a text);
INSERT INTO parallel VALUES
  ('census pair', :'p_census_pair'), ('census pair, ports', :'p_census_ports'),
  ('census endpoint', :'p_census_endpoint'), ('census_agg', :'p_census_agg'),
  ('census_agg endpoint', :'p_census_agg_endpoint'), ('census_union', :'p_census_union'),
  ('hourly', :'p_hourly'), ('hourly weighted', :'p_hourly_weighted'),
  ('hist24_union', :'p_hist24_union'), ('role_or', :'p_role_or'),
  ('client_as_top', :'p_client_as_top'), ('client_cc_top', :'p_client_cc_top');
SELECT q, p.a = s.a AS parallel_equals_serial FROM serial s JOIN parallel p USING (q) ORDER BY q;
RESET parallel_leader_participation;

-- partial aggregation in one backend (partitionwise): serialize,
-- deserialize and combine run whether or not a worker is free
RESET max_parallel_workers_per_gather;
SET max_parallel_workers_per_gather = 0;
SET enable_partitionwise_aggregate = on;
CREATE TEMP TABLE parts (grp int, src_ip inet, dst_ip inet, src_port int, dst_port int, ts timestamptz)
PARTITION BY HASH (src_ip);
CREATE TEMP TABLE parts_0 PARTITION OF parts FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TEMP TABLE parts_1 PARTITION OF parts FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TEMP TABLE parts_2 PARTITION OF parts FOR VALUES WITH (MODULUS 3, REMAINDER 2);
INSERT INTO parts SELECT frame % 2, src_ip, dst_ip, src_port, dst_port, ts FROM spamhints.smtp_sample;
ANALYZE parts;
EXPLAIN (COSTS OFF)
SELECT grp, smtp_census(src_ip, dst_ip, src_port, dst_port), census_agg(src_ip, dst_ip, src_port, dst_port), hourly(ts)
FROM parts GROUP BY grp;
SELECT grp, p.c = s.c AS census_equal, p.a = s.a AS census_agg_equal, p.h = s.h AS hourly_equal
FROM (SELECT grp, smtp_census(src_ip, dst_ip, src_port, dst_port)::text AS c,
             md5(census_agg(src_ip, dst_ip, src_port, dst_port)::text) AS a, hourly(ts) AS h
      FROM parts GROUP BY grp) AS p
JOIN (SELECT frame % 2 AS grp, smtp_census(src_ip, dst_ip, src_port, dst_port)::text AS c,
             md5(census_agg(src_ip, dst_ip, src_port, dst_port)::text) AS a, hourly(ts) AS h
      FROM spamhints.smtp_sample GROUP BY 1) AS s USING (grp)
ORDER BY grp;

BEGIN;
SELECT plan(3);
SELECT is((SELECT count(*) FROM serial s JOIN parallel p USING (q) WHERE p.a = s.a), 12::bigint,
          'all 12 parallel answers equal the serial ones');
SELECT is((SELECT (counts(census_union(c)))::text FROM parallel_hourly),
          (SELECT a FROM serial WHERE q = 'census pair'), 'union of per-hour censuses = census of all');
SELECT is((SELECT hist24_union(h) FROM parallel_hourly)::text,
          (SELECT a FROM serial WHERE q = 'hourly'), 'union of per-hour profiles = profile of all');
SELECT * FROM finish();
ROLLBACK;

DROP TABLE parallel_hourly;
DELETE FROM spamhints.load WHERE file_name = 'parallel';
