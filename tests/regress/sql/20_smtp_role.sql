-- tests/regress/sql/20_smtp_role.sql: the type smtp_role, its operators,
-- opclasses and aggregate, and the role of each side of a sample.
SET search_path = spamhints, public;

-- text I/O, any case in
SELECT 'client'::smtp_role AS c, 'SERVER'::smtp_role AS s, 'Both'::smtp_role AS b;
-- one byte on disk, passed by value
SELECT typlen, typbyval, typalign FROM pg_type WHERE oid = 'spamhints.smtp_role'::regtype;
-- bad text input: 22P02
SELECT 'sender'::smtp_role;
SELECT ''::smtp_role;
-- binary output is the byte 1, 2 or 3
SELECT r, smtp_role_send(r) FROM unnest('{client,server,both}'::smtp_role[]) AS r;

-- the | table
SELECT a, b, a | b AS "a | b"
FROM unnest('{client,server,both}'::smtp_role[]) AS a,
     unnest('{client,server,both}'::smtp_role[]) AS b
ORDER BY a, b;

-- the role of each side: destination port SMTP => source client, destination
-- server; source port SMTP => source server, destination client
SELECT sp, dp, src_role(sp, dp), dst_role(sp, dp),
       src_role(sp, dp, '{25,587}') AS src_25_587, dst_role(sp, dp, '{25,587}') AS dst_25_587
FROM (VALUES (40000, 25), (25, 40000), (25, 25), (40000, 80), (587, 40000),
             (587, 25), (NULL, 25)) AS t(sp, dp);
-- NULL elements of the port set are ignored; an empty set matches nothing
SELECT src_role(40000, 587, '{NULL,587}'), src_role(40000, 25, '{}');
-- a port set of another shape is an error
SELECT src_role(1, 25, '{70000}');
SELECT src_role(1, 25, '{{25},{587}}');
-- the port set is cached per array value: changing it row by row works
SELECT p, src_role(40000, 587, p) FROM (VALUES ('{25}'::int[]), ('{587}'), ('{25}'), ('{25,587}')) AS t(p);

BEGIN;
SELECT plan(22);
SELECT is('client'::smtp_role | 'server', 'both'::smtp_role, 'client | server = both');
SELECT is('client'::smtp_role | 'client', 'client'::smtp_role, 'client | client = client');
SELECT ok('client'::smtp_role < 'server' AND 'server'::smtp_role < 'both', 'client < server < both');
SELECT ok('both'::smtp_role >= 'both' AND 'both'::smtp_role <= 'both' AND 'client'::smtp_role <> 'both', '>=, <=, <>');
SELECT ok('server'::smtp_role > 'client', '>');
SELECT is(smtp_role_cmp('both', 'client'), 1, 'cmp');
SELECT is(smtp_role_hash('client'), smtp_role_hash('client'), 'hash is stable');
SELECT isnt(smtp_role_hash('client'), smtp_role_hash('server'), 'hash tells client from server');
SELECT is(smtp_role_hash_extended('both', 0), smtp_role_hash_extended('both', 0), 'extended hash is stable');
SELECT isnt(smtp_role_hash_extended('both', 0), smtp_role_hash_extended('both', 1), 'extended hash takes the seed');
SELECT has_opclass('spamhints', 'smtp_role_ops', 'btree opclass');
SELECT has_opclass('spamhints', 'smtp_role_hash_ops', 'hash opclass');
SELECT throws_ok($$SELECT 'sender'::spamhints.smtp_role$$, '22P02', NULL, 'bad text is 22P02');
SELECT throws_ok($$SELECT spamhints.src_role(1, 25, '{-1}')$$, '22023', 'SMTP port -1 is out of range', 'bad port');
SELECT is(role_or(r), 'both'::smtp_role, 'role_or of client and server')
FROM unnest('{client,client,server}'::smtp_role[]) AS r;
SELECT is(role_or(r), 'client'::smtp_role, 'role_or of clients, NULLs skipped')
FROM unnest('{client,NULL,client}'::smtp_role[]) AS r;
SELECT is(role_or(r), NULL, 'role_or of no rows is NULL')
FROM unnest('{}'::smtp_role[]) AS r;

-- GROUP BY, DISTINCT, ORDER BY, hash join, index
CREATE TEMP TABLE roles AS
SELECT (ARRAY['client', 'server', 'both'])[1 + i % 3]::smtp_role AS r, i FROM generate_series(1, 300) AS i;
SELECT results_eq($$SELECT r, count(*) FROM roles GROUP BY r ORDER BY r$$,
                  $$VALUES ('client'::spamhints.smtp_role, 100::bigint), ('server', 100), ('both', 100)$$,
                  'GROUP BY and ORDER BY');
SET LOCAL enable_sort = off;
SELECT results_eq($$SELECT DISTINCT r FROM roles ORDER BY r DESC$$,
                  $$VALUES ('both'::spamhints.smtp_role), ('server'), ('client')$$,
                  'DISTINCT, hashed');
RESET enable_sort;
SET LOCAL enable_mergejoin = off;
SET LOCAL enable_nestloop = off;
SELECT is((SELECT count(*) FROM roles a JOIN roles b USING (r)), 30000::bigint, 'hash join on smtp_role');
RESET enable_mergejoin;
RESET enable_nestloop;
CREATE INDEX ON roles (r);
CREATE INDEX ON roles USING hash (r);
SET LOCAL enable_seqscan = off;
SELECT is((SELECT count(*) FROM roles WHERE r = 'both'), 100::bigint, 'index scan');
SELECT is((SELECT count(*) FROM roles WHERE r > 'client'), 200::bigint, 'btree range');
SELECT * FROM finish();
ROLLBACK;
