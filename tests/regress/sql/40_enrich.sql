-- 40_enrich: the enrichment settings and functions without a database file
-- (tests/e2e/enrichment.sh builds files and checks the answers): settings
-- for superusers only, volatility, and one clear error per missing,
-- unreadable, corrupt or unset file.
CREATE EXTENSION IF NOT EXISTS spamhints;
\set ECHO none
\pset format unaligned
\pset tuples_only true
BEGIN;
LOAD 'spamhints';
SELECT plan(23);

SELECT is((SELECT string_agg(name || '=' || setting || ' ' || context, ', ' ORDER BY name)
           FROM pg_settings WHERE name IN ('spamhints.asn_db', 'spamhints.country_db')),
          'spamhints.asn_db= superuser, spamhints.country_db= superuser',
          'two settings, empty by default, set by superusers only');
SELECT is((SELECT string_agg(name || '=' || setting || ' ' || context, ', ' ORDER BY name)
           FROM pg_settings WHERE name LIKE 'spamhints.%' AND name NOT IN ('spamhints.asn_db', 'spamhints.country_db')),
          'spamhints.report_from= user, spamhints.report_max_items= user, spamhints.report_min_minutes= user, spamhints.report_min_samples= user, spamhints.report_suppression= user, spamhints.reporting_mta= user, spamhints.retention= user',
          'the workflow''s seven settings are defined too, empty (their defaults are in spamhints.settings), set by anyone');
SELECT throws_ok($$SET spamhints.no_such_setting = 'x'$$, '42602', NULL,
                 'the spamhints prefix is reserved: a misspelt setting is an error');

SELECT is(p.provolatile::text || p.proparallel::text || p.proisstrict::text, 'sstrue', p.oid::regprocedure || ' is STABLE, PARALLEL SAFE, STRICT')
FROM pg_proc p
WHERE p.oid IN ('spamhints.asn(inet)'::regprocedure, 'spamhints.as_org(inet)'::regprocedure,
                'spamhints.country(inet)'::regprocedure)
ORDER BY p.proname;
SELECT is(provolatile, 'v', 'reenrich() is VOLATILE') FROM pg_proc WHERE oid = 'spamhints.reenrich(integer)'::regprocedure;
SELECT col_type_is('spamhints', 'load', 'enrichment', 'jsonb', 'load.enrichment is jsonb');

-- nothing set: a clear error (55000), and enrichment_databases() shows it
SELECT throws_ok($$SELECT spamhints.asn('192.0.2.1')$$, '55000', 'spamhints.asn_db is not set',
                 'asn() without spamhints.asn_db');
SELECT throws_ok($$SELECT spamhints.as_org('192.0.2.1')$$, '55000', 'spamhints.asn_db is not set',
                 'as_org() without spamhints.asn_db');
SELECT throws_ok($$SELECT spamhints.country('192.0.2.1')$$, '55000', 'spamhints.country_db is not set',
                 'country() without spamhints.country_db');
SELECT throws_ok($$SELECT spamhints.reenrich()$$, '55000',
                 'neither spamhints.asn_db nor spamhints.country_db is set', 'reenrich() without either');
SELECT results_eq($$SELECT setting, file IS NULL FROM spamhints.enrichment_databases()$$,
                  $$VALUES ('spamhints.asn_db', true), ('spamhints.country_db', true)$$,
                  'enrichment_databases(): the settings, no files');
SELECT is(spamhints.asn(NULL), NULL, 'NULL in, NULL out, setting or not');

-- missing, a directory, not a MaxMind DB, the wrong kind
SET spamhints.asn_db = '/nonexistent/GeoLite2-ASN.mmdb';
SELECT throws_ok($$SELECT spamhints.asn('192.0.2.1')$$, '58P01',
                 'could not open MaxMind database "/nonexistent/GeoLite2-ASN.mmdb" (spamhints.asn_db): No such file or directory',
                 'a missing file');
SELECT throws_ok($$SELECT * FROM spamhints.enrichment_databases()$$, '58P01', NULL,
                 'enrichment_databases() says so too');
SELECT throws_ok($$SELECT spamhints.reenrich()$$, '58P01', NULL,
                 'and reenrich() stops before any row');
SET spamhints.asn_db = 'base';          -- relative to the data directory
SELECT throws_ok($$SELECT spamhints.asn('192.0.2.1')$$, '42809',
                 'MaxMind database "base" (spamhints.asn_db) is not a regular file', 'a directory');
SET spamhints.asn_db = 'PG_VERSION';
SELECT throws_ok($$SELECT spamhints.asn('192.0.2.1')$$, 'XX001', NULL, 'a file that is not a MaxMind DB: data corrupted');
SELECT throws_matching($$SELECT spamhints.asn('192.0.2.1')$$, 'is not a valid MaxMind DB file',
                       'with a clear message');
RESET spamhints.asn_db;

-- only superusers choose the files
CREATE ROLE spamhints_regress_analyst;
GRANT USAGE ON SCHEMA spamhints TO spamhints_regress_analyst;
SET ROLE spamhints_regress_analyst;
SELECT throws_ok($$SET spamhints.asn_db = '/etc/passwd'$$, '42501', NULL,
                 'a non-superuser cannot set spamhints.asn_db');
SELECT throws_ok($$SET spamhints.country_db = '/etc/passwd'$$, '42501', NULL,
                 'nor spamhints.country_db');
SELECT throws_ok($$SELECT spamhints.asn('192.0.2.1')$$, '55000', NULL,
                 'and calls the functions like anyone');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
