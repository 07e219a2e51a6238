-- tests/regress/sql/21_census.sql: the census aggregates and the type census.
SET search_path = spamhints, public;
\set VERBOSITY terse

-- Hand-counted samples (src, dst, src_port, dst_port):
--   192.0.2.1      client (1, 2)          198.51.100.25  server (1, 2), client (3): both
--   203.0.113.9    server (3)             2001:db8::1    client (4)
--   2001:db8::25   server (4), both (5)   192.0.2.7/8    no SMTP port (6): left out
--   192.0.2.1/24   is 192.0.2.1 (the netmask is ignored) (7)
--   ::ffff:192.0.2.1 is IPv6, not 192.0.2.1 (8), a server
--   a NULL address leaves out that side only: 192.0.2.99 a client (9)
--   a NULL port: the sample is skipped (10)
-- => 7 addresses: client only 3 (192.0.2.1, 192.0.2.99, 2001:db8::1), server
--    only 2 (203.0.113.9, ::ffff:192.0.2.1), both 2 (198.51.100.25, 2001:db8::25)
CREATE TEMP TABLE s (n int, src inet, dst inet, sp int, dp int);
INSERT INTO s VALUES
  (1, '192.0.2.1', '198.51.100.25', 40000, 25),
  (2, '198.51.100.25', '192.0.2.1', 25, 40000),
  (3, '198.51.100.25', '203.0.113.9', 40001, 25),
  (4, '2001:db8::1', '2001:db8::25', 50000, 25),
  (5, '2001:db8::25', '2001:db8::25', 25, 25),
  (6, '192.0.2.7', '192.0.2.8', 80, 8080),
  (7, '192.0.2.1/24', '198.51.100.25', 40002, 25),
  (8, '192.0.2.1', '::ffff:192.0.2.1', 40003, 25),
  (9, NULL, '192.0.2.99', 25, 40000),
  (10, '192.0.2.98', '192.0.2.99', NULL, 25);

-- both sides at once
SELECT (smtp_census(src, dst, sp, dp)).* FROM s;
-- one side per row, as spamhints.endpoint gives them
CREATE TEMP VIEW e AS
SELECT src AS ip, src_role(sp, dp) AS role FROM s
UNION ALL SELECT dst, dst_role(sp, dp) FROM s;
SELECT (smtp_census(ip, role)).* FROM e;
-- the plain SQL it replaces (the netmask dropped by hand: host())
SELECT count(*) AS ips,
       count(*) FILTER (WHERE c AND NOT v) AS client_only,
       count(*) FILTER (WHERE v AND NOT c) AS server_only,
       count(*) FILTER (WHERE c AND v) AS both
FROM (SELECT host(ip), bool_or(role IN ('client', 'both')) AS c, bool_or(role IN ('server', 'both')) AS v
      FROM e WHERE ip IS NOT NULL AND role IS NOT NULL GROUP BY 1) AS t;
-- as a census value: each address once with its role
SELECT census_agg(src, dst, sp, dp) FROM s;
SELECT census_agg(ip, role) FROM e;
SELECT * FROM members((SELECT census_agg(src, dst, sp, dp) FROM s));
-- another SMTP port set: 8080 makes 192.0.2.7 a client and 192.0.2.8 a server
SELECT (smtp_census(src, dst, sp, dp, '{25,8080}')).* FROM s;
SELECT census_agg(src, dst, sp, dp, '{8080}') FROM s;
-- a different port set per row (e.g. each load's own) works
SELECT (smtp_census(src, dst, sp, dp, CASE WHEN n = 6 THEN '{8080}' ELSE '{25}' END::int[])).* FROM s;

-- no rows: zeros and the empty census
SELECT (smtp_census(src, dst, sp, dp)).*, census_agg(src, dst, sp, dp) FROM s WHERE false;
SELECT (smtp_census(ip, role)).*, census_agg(ip, role) FROM e WHERE false;
-- only NULLs
SELECT smtp_census(ip, role), census_agg(ip, role) FROM (VALUES (NULL::inet, 'client'::smtp_role), ('192.0.2.1', NULL)) AS t(ip, role);
-- grouped: one census per group
SELECT family(src) AS fam, (smtp_census(src, dst, sp, dp)).* FROM s WHERE src IS NOT NULL GROUP BY 1 ORDER BY 1;

\set VERBOSITY default
-- text form: parsed, canonical (sorted, each address once), errors are 22P02
SELECT ' { 10.0.0.2 = client , 10.0.0.1=server,2001:DB8::1=both, 10.0.0.2=SERVER } '::census;
SELECT '{}'::census, counts('{}'), '{ }'::census = '{}';
SELECT '10.0.0.1=client'::census;
SELECT '{10.0.0.1}'::census;
SELECT '{10.0.0.1=sender}'::census;
SELECT '{10.0.0.1=client'::census;
SELECT '{10.0.0.1=client}x'::census;
SELECT '{10.0.0.0/8=client}'::census;
SELECT '{10.0.0.256=client}'::census;
SELECT '{10.0.0.1=client,}'::census;
\set VERBOSITY terse

-- counts, =, | and census_union
SELECT (counts('{10.0.0.1=client,10.0.0.2=server,10.0.0.3=both,::1=client}')).*;
SELECT '{10.0.0.1=client,::1=server}'::census | '{10.0.0.1=server,10.0.0.2=client,::2=both}' AS a_or_b,
       '{10.0.0.1=server,10.0.0.2=client,::2=both}'::census | '{10.0.0.1=client,::1=server}' AS b_or_a,
       '{10.0.0.1=client}'::census | '{}' AS with_empty;
SELECT '{10.0.0.1=client,10.0.0.2=both}'::census = '{10.0.0.2=both,10.0.0.1=client}' AS same,
       '{10.0.0.1=client}'::census = '{10.0.0.1=server}' AS different;
SELECT census_union(c) FROM (VALUES ('{10.0.0.1=client}'::census), (NULL), ('{10.0.0.1=server,10.0.0.9=client}'),
                                    ('{}'), ('{2001:db8::1=client}'), ('{2001:db8::1=server,10.0.0.2=client}')) AS t(c);
SELECT census_union(c) IS NULL AS none FROM (VALUES (NULL::census)) AS t(c);
-- a rollup: one census per sample number parity, unioned = the census of all
SELECT census_union(c) = (SELECT census_agg(src, dst, sp, dp) FROM s) AS rollup_equal
FROM (SELECT n % 2, census_agg(src, dst, sp, dp) AS c FROM s GROUP BY 1) AS daily;
-- a larger union: 2000 addresses in 3 overlapping parts
SELECT (counts(census_union(c))).* FROM (
  SELECT census_agg('10.0.0.0'::inet + i, (ARRAY['client','server'])[1 + p % 2]::smtp_role) AS c
  FROM generate_series(0, 2) AS p, generate_series(p * 500, p * 500 + 999) AS i GROUP BY p) AS t;


-- census_union keeps its state expanded (a hash table) and flattens it
-- when it leaves: as a running window aggregate, grouped by hash or by sort,
-- and over many small censuses
CREATE TEMP TABLE tiny AS
SELECT i, census_agg('10.0.0.0'::inet + i, (ARRAY['client','server','both'])[1 + i % 3]::smtp_role) AS c
FROM generate_series(1, 30000) AS i GROUP BY i;
SELECT i, census_union(c) OVER (ORDER BY i) FROM tiny WHERE i <= 4;
SELECT i % 3 AS g, counts(census_union(c)) FROM tiny GROUP BY 1 ORDER BY 1;
SET enable_hashagg = off;
SELECT i % 3 AS g, counts(census_union(c)) FROM tiny GROUP BY 1 ORDER BY 1;
RESET enable_hashagg;
SELECT (counts(census_union(c))).* FROM (SELECT c FROM tiny UNION ALL SELECT c FROM tiny) AS twice;
SELECT census_union(c) | '{10.0.0.1=client}' AS union_then_or FROM tiny WHERE i <= 2;

-- binary I/O: send is the layout, recv checks it and makes it canonical.
-- recv is driven by COPY (FORMAT binary) of crafted bytes; deserialize
-- shares its parser (census_parse).
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
SELECT census_send('{192.0.2.1=client,192.0.2.2=both,::1=server}');
SELECT pg_temp.recv_as(census_send('{192.0.2.1=client,192.0.2.2=both,::1=server}'), 'spamhints.census');
-- unsorted, and an address in two lists: accepted, made canonical
SELECT pg_temp.recv_as('\x01000000020000000100000000000000000000000000000000c0000202c0000201c0000202', 'spamhints.census');
-- corrupt: every one an error (22P03)
SELECT pg_temp.recv_as('\x', 'spamhints.census');
SELECT pg_temp.recv_as('\x01', 'spamhints.census');
SELECT pg_temp.recv_as('\x02000000000000000000000000000000000000000000000000', 'spamhints.census');
SELECT pg_temp.recv_as('\x01000000020000000000000000000000000000000000000000c0000201', 'spamhints.census');
SELECT pg_temp.recv_as('\x01000000010000000000000000000000000000000000000000c0000201ff', 'spamhints.census');
SELECT pg_temp.recv_as('\x01ffffffff0000000000000000000000000000000000000000c0000201', 'spamhints.census');
SELECT pg_temp.recv_as('\x01000000000000000000000000000000000000000100000000c0000201', 'spamhints.census');
-- smtp_role: the byte 1, 2 or 3 and nothing more
SELECT pg_temp.recv_as('\x03', 'spamhints.smtp_role');
SELECT pg_temp.recv_as('\x00', 'spamhints.smtp_role');
SELECT pg_temp.recv_as('\x04', 'spamhints.smtp_role');
SELECT pg_temp.recv_as('\x0101', 'spamhints.smtp_role');
SELECT pg_temp.recv_as('\x', 'spamhints.smtp_role');

BEGIN;
SELECT plan(11);
SELECT is((SELECT (smtp_census(src, dst, sp, dp)).ips FROM s), 7::bigint, 'seven addresses');
SELECT is((SELECT smtp_census(src, dst, sp, dp) FROM s), (SELECT smtp_census(ip, role) FROM e), 'pair form = endpoint form');
SELECT is((SELECT counts(census_agg(src, dst, sp, dp)) FROM s), (SELECT smtp_census(src, dst, sp, dp) FROM s), 'counts(census_agg) = smtp_census');
SELECT is((SELECT smtp_census(src, dst, sp, dp) FROM s WHERE false), '(0,0,0,0)'::census_counts, 'zeros over no rows');
SELECT throws_ok($$SELECT '{10.0.0.1=x}'::spamhints.census$$, '22P02', NULL, 'bad role is 22P02');
SELECT throws_ok($$SELECT '{x=client}'::spamhints.census$$, '22P02', NULL, 'bad address is 22P02');
SELECT throws_ok($$SELECT pg_temp.recv_as('\x01', 'spamhints.census')$$, '22P03', NULL, 'short binary census is 22P03');
SELECT throws_ok($$SELECT pg_temp.recv_as('\x04', 'spamhints.smtp_role')$$, '22P03', NULL, 'bad binary role is 22P03');
SELECT is(('{10.0.0.1=client}'::census | '{10.0.0.1=server}')::text, '{10.0.0.1=both}', 'client | server is both');
SELECT is((SELECT count(*) FROM members('{10.0.0.1=client,::1=both}')), 2::bigint, 'members');
SELECT is((SELECT census_union(c) FROM (VALUES ('{::1=client}'::census), ('{::1=client}')) AS t(c))::text,
          '{::1=client}', 'union is idempotent');
SELECT * FROM finish();
ROLLBACK;
