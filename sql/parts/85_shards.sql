-- sql/parts/85_shards.sql: a coordinator over shards (postgres_fdw). Each
-- shard is an ordinary spamhints database that the loader loads into
-- directly; attach_shard() makes its samples, loads and agents part of the
-- coordinator's views and functions, detach_shard() takes them out again.
--
-- Design: a single node is left exactly as it is. Nothing here runs until
-- the first attach_shard(): then the definitions of the views and functions
-- that read samples are saved (spamhints.shard_saved) and replaced, with the
-- same columns, by ones that read spamhints_coord.smtp_sample, .load and
-- .load_agent, the local rows UNION ALL every shard's (foreign tables in the
-- schema spamhints_shard_NAME; a shard's load ids are shown plus
-- shard_no * 100000000, so that samples join their own loads). The census
-- (ip_census, client_cc_top) is computed on each shard (census_agg pushed
-- down: the server lists the extension in its extensions option) and merged
-- per address on the coordinator with census_union, never by adding counts.
-- The last detach_shard() puts the saved definitions back. Rollups become
-- one more foreign table of the shard schema and one more branch.

CREATE TABLE spamhints.shard (
    name         text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,39}$'),
    shard_no     integer NOT NULL UNIQUE CHECK (shard_no BETWEEN 1 AND 20),
    server       name NOT NULL,
    schema_name  name NOT NULL,
    conninfo     text NOT NULL,
    extversion   text NOT NULL,
    attached_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE spamhints.shard IS
'The shards attached to this database, a coordinator (spamhints.attach_shard): name, shard_no (a shard''s load ids are shown as shard_no * 100000000 + load_id), its postgres_fdw server and schema of foreign tables, the connection options (without user and password, which are in the user mapping), the extension version it had when attached. Empty on a single node.';

CREATE TABLE spamhints.shard_saved (
    ord         integer PRIMARY KEY,
    object      text NOT NULL,
    rewrite     boolean NOT NULL,
    definition  text NOT NULL
);

COMMENT ON TABLE spamhints.shard_saved IS
'While shards are attached: the single-node definitions of the views and functions that spamhints.shard_views() replaced, put back by the last detach_shard().';

COMMENT ON COLUMN spamhints.shard.name IS 'the shard''s name: its server is spamhints_shard_NAME, its foreign tables are in the schema spamhints_shard_NAME';
COMMENT ON COLUMN spamhints.shard.shard_no IS '1 to 20: the coordinator shows the shard''s load ids as shard_no * 100000000 + load_id';
COMMENT ON COLUMN spamhints.shard.server IS 'its postgres_fdw server';
COMMENT ON COLUMN spamhints.shard.schema_name IS 'the schema of its foreign tables (smtp_sample, load, load_agent, endpoint, asn)';
COMMENT ON COLUMN spamhints.shard.conninfo IS 'the connection options of its server (no user, no password: those are in the user mappings)';
COMMENT ON COLUMN spamhints.shard.extversion IS 'the version of spamhints the shard had when attached (the coordinator''s own: other versions are refused)';
COMMENT ON COLUMN spamhints.shard.attached_at IS 'when it was attached';
COMMENT ON COLUMN spamhints.shard_saved.ord IS 'the order they are put back in';
COMMENT ON COLUMN spamhints.shard_saved.object IS 'the view or function (regclass or regprocedure text)';
COMMENT ON COLUMN spamhints.shard_saved.rewrite IS 'true: its coordinator form is the same SQL over spamhints_coord''s unions; false: shard_views() writes it (the census computed on each shard)';
COMMENT ON COLUMN spamhints.shard_saved.definition IS 'the statement that makes its single-node form again (CREATE OR REPLACE)';

CREATE FUNCTION spamhints.shard_views() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    r record;
    s record;
    rel text;
    cols text;
    body text;
    ep text := '';
    objs text[] := ARRAY[
        -- rewritten: the same SQL over the union of local and shard rows
        'v:spamhints.endpoint', 'f:spamhints.endpoints(integer[])', 'v:spamhints.evidence',
        'v:spamhints.customer_sender', 'v:spamhints.packet_stats', 'v:spamhints.client_as_top',
        'f:spamhints.activity(timestamptz, timestamptz, interval, integer[])',
        'f:spamhints.address(inet, tstzrange)',
        -- 0.2 effective rate: its estimates join each sample's agent (load_agent)
        'f:spamhints.sender_score(timestamptz, timestamptz, integer)',
        -- the rollups' functions of a period (ip_census(period), ...) go through address_roles
        'f:spamhints.address_roles(tstzrange)', 'f:spamhints.client_as_top(tstzrange)',
        -- customer_sender and packet_stats of a period read the samples (54_periods.sql)
        'f:spamhints.customer_sender(tstzrange)', 'f:spamhints.packet_stats(tstzrange)',
        -- written below: the census computed on each shard, merged here
        'V:spamhints.ip_census', 'V:spamhints.client_cc_top'];
    i integer;
BEGIN
    IF NOT EXISTS (SELECT FROM spamhints.shard) THEN
        FOR r IN SELECT * FROM spamhints.shard_saved ORDER BY ord LOOP
            EXECUTE r.definition;
        END LOOP;
        DELETE FROM spamhints.shard_saved;
        DROP VIEW IF EXISTS spamhints_coord.endpoint_local;
        DROP VIEW IF EXISTS spamhints_coord.smtp_sample;
        DROP VIEW IF EXISTS spamhints_coord.load;
        DROP VIEW IF EXISTS spamhints_coord.load_agent;
        DROP VIEW IF EXISTS spamhints_coord.address_day;
        DROP VIEW IF EXISTS spamhints_coord.address_rollup;
        DROP VIEW IF EXISTS spamhints_coord.asn;
        DROP SCHEMA IF EXISTS spamhints_coord;
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT FROM spamhints.shard_saved) THEN
        FOR i IN 1 .. array_length(objs, 1) LOOP
            IF left(objs[i], 1) IN ('v', 'V') THEN
                INSERT INTO spamhints.shard_saved
                VALUES (i, substr(objs[i], 3), left(objs[i], 1) = 'v',
                        format('CREATE OR REPLACE VIEW %s AS %s', substr(objs[i], 3),
                               pg_get_viewdef(substr(objs[i], 3)::regclass)));
            ELSE
                INSERT INTO spamhints.shard_saved
                VALUES (i, substr(objs[i], 3), true, pg_get_functiondef(substr(objs[i], 3)::regprocedure));
            END IF;
        END LOOP;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'spamhints_coord') THEN
        CREATE SCHEMA spamhints_coord;
    END IF;
    GRANT USAGE ON SCHEMA spamhints_coord TO spamhints_analyst;
    FOREACH rel IN ARRAY ARRAY['smtp_sample', 'load', 'load_agent', 'address_day', 'address_rollup'] LOOP
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
          FROM pg_attribute a
         WHERE a.attrelid = ('spamhints.' || rel)::regclass AND a.attnum > 0 AND NOT a.attisdropped;
        body := format('SELECT %s FROM spamhints.%I', cols, rel);
        FOR s IN SELECT * FROM spamhints.shard ORDER BY shard_no LOOP
            body := body || format(' UNION ALL SELECT %s FROM %I.%I',
                        replace(cols, 'load_id', format('load_id + %s AS load_id', s.shard_no * 100000000)),
                        s.schema_name, rel);
        END LOOP;
        EXECUTE format('CREATE OR REPLACE VIEW spamhints_coord.%I AS %s', rel, body);
        -- what the analyst may read of the samples: all but the SMTP payload
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
          FROM pg_attribute a
         WHERE a.attrelid = ('spamhints.' || rel)::regclass AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attname <> 'smtp';
        EXECUTE format('GRANT SELECT (%s) ON spamhints_coord.%I TO spamhints_analyst', cols, rel);
    END LOOP;
    -- the AS names: the coordinator's own first, then the first shard's that has one
    body := 'SELECT 0 AS src, asn, org FROM spamhints.asn';
    FOR s IN SELECT * FROM spamhints.shard ORDER BY shard_no LOOP
        body := body || format(' UNION ALL SELECT %s, asn, org FROM %I.asn', s.shard_no, s.schema_name);
    END LOOP;
    EXECUTE format('CREATE OR REPLACE VIEW spamhints_coord.asn AS
        SELECT DISTINCT ON (a.asn) a.asn, a.org FROM (%s) AS a ORDER BY a.asn, a.src', body);
    GRANT SELECT ON spamhints_coord.asn TO spamhints_analyst;
    SELECT regexp_replace(definition, '^CREATE OR REPLACE VIEW spamhints.endpoint AS',
                          'CREATE OR REPLACE VIEW spamhints_coord.endpoint_local AS')
      INTO body FROM spamhints.shard_saved WHERE object = 'spamhints.endpoint';
    EXECUTE body;
    FOR r IN SELECT * FROM spamhints.shard_saved WHERE rewrite ORDER BY ord LOOP
        EXECUTE regexp_replace(r.definition, '\mspamhints\.(smtp_sample|load|load_agent|address_day|address_rollup|asn)\M(?!\()',
                               'spamhints_coord.\1', 'g');
    END LOOP;
    -- the census: one state per shard (remote SQL: the extension's aggregate), merged here
    -- (over samples joined to their loads, both sides at once: the join and
    -- the aggregate go to the shard together, half the rows of its endpoint)
    ep := 'SELECT spamhints.census_agg(s.src_ip, s.dst_ip, s.src_port, s.dst_port, l.smtp_ports) AS c
           FROM spamhints.smtp_sample s JOIN spamhints.load l ON l.load_id = s.load_id';
    FOR s IN SELECT * FROM spamhints.shard ORDER BY shard_no LOOP
        ep := ep || format(' UNION ALL SELECT spamhints.census_agg(s.src_ip, s.dst_ip, s.src_port, s.dst_port, l.smtp_ports)
                              FROM %1$I.smtp_sample s JOIN %1$I.load l ON l.load_id = s.load_id', s.schema_name);
    END LOOP;
    EXECUTE format('CREATE OR REPLACE VIEW spamhints.ip_census AS
        SELECT (c).ips, (c).client_only, (c).server_only, (c).both
        FROM (SELECT spamhints.counts(spamhints.census_union(p.c)) AS c FROM (%s) AS p) AS t', ep);
    ep := 'SELECT e.cc, spamhints.census_agg(e.ip, e.role) AS c FROM spamhints_coord.endpoint_local e WHERE e.cc IS NOT NULL GROUP BY e.cc';
    FOR s IN SELECT * FROM spamhints.shard ORDER BY shard_no LOOP
        ep := ep || format(' UNION ALL SELECT e.cc, spamhints.census_agg(e.ip, e.role) FROM %I.endpoint e WHERE e.cc IS NOT NULL GROUP BY e.cc', s.schema_name);
    END LOOP;
    EXECUTE format('CREATE OR REPLACE VIEW spamhints.client_cc_top AS
        SELECT rank() OVER (ORDER BY (t.n).client_only DESC) AS rank, t.cc AS country,
               (t.n).client_only AS clients, (t.n).server_only AS servers, (t.n).both AS both, (t.n).ips AS ips
        FROM (SELECT p.cc, spamhints.counts(spamhints.census_union(p.c)) AS n FROM (%s) AS p GROUP BY p.cc) AS t
        ORDER BY rank, t.cc', ep);
END
$$;

COMMENT ON FUNCTION spamhints.shard_views() IS
'Makes the views and functions that read samples (endpoint, endpoints, evidence, customer_sender and packet_stats (also their functions of a period), client_as_top with the AS names of the coordinator and the shards, activity, address; ip_census and client_cc_top with the census computed on each shard; and so every view over them: sender_score, report_candidates, report) read the local rows and those of every attached shard; with no shard attached, puts the single-node definitions back. attach_shard and detach_shard call it; call it after restoring a coordinator''s dump.';

CREATE FUNCTION spamhints.attach_shard(name text, conninfo text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    srv name := 'spamhints_shard_' || name;
    opts text := '';
    uopts text := '';
    kept text := '';
    m text[];
    val text;
    remote text;
    owner name;
BEGIN
    IF name !~ '^[a-z][a-z0-9_]{0,39}$' THEN
        RAISE EXCEPTION 'invalid shard name "%"', name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A shard name is a lower-case letter, then up to 39 lower-case letters, digits or underscores.';
    END IF;
    IF EXISTS (SELECT FROM spamhints.shard s WHERE s.name = attach_shard.name) THEN
        RAISE EXCEPTION 'shard "%" is attached already', name USING ERRCODE = 'duplicate_object';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'postgres_fdw') THEN
        CREATE EXTENSION postgres_fdw;
    END IF;
    FOR m IN SELECT regexp_matches(conninfo, '([A-Za-z_]+)\s*=\s*(''(?:[^''\\]|\\.)*''|[^\s'']+)', 'g') LOOP
        val := m[2];
        IF left(val, 1) = '''' THEN
            val := regexp_replace(substr(val, 2, length(val) - 2), '\\(.)', '\1', 'g');
        END IF;
        IF m[1] IN ('user', 'password') THEN
            uopts := uopts || format(', %I %L', m[1], val);
        ELSE
            opts := opts || format(', %I %L', m[1], val);
            kept := kept || format(' %s=%s', m[1], m[2]);
        END IF;
    END LOOP;
    EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER postgres_fdw OPTIONS (extensions %L, async_capable %L, fetch_size %L, use_remote_estimate %L%s)',
                   srv, 'spamhints', 'true', '10000', 'true', opts);
    -- views run as their owner (the extension's), functions as their caller
    SELECT r.rolname INTO owner FROM pg_extension x JOIN pg_roles r ON r.oid = x.extowner WHERE x.extname = 'spamhints';
    EXECUTE format('CREATE USER MAPPING FOR %I SERVER %I%s', owner, srv,
                   CASE WHEN uopts = '' THEN '' ELSE ' OPTIONS (' || substr(uopts, 3) || ')' END);
    IF owner <> current_user THEN
        EXECUTE format('CREATE USER MAPPING FOR CURRENT_USER SERVER %I%s', srv,
                       CASE WHEN uopts = '' THEN '' ELSE ' OPTIONS (' || substr(uopts, 3) || ')' END);
    END IF;
    EXECUTE format('CREATE SCHEMA %I', srv);
    EXECUTE format('CREATE FOREIGN TABLE %I.extension (extname name, extversion text) SERVER %I OPTIONS (schema_name %L, table_name %L)',
                   srv, srv, 'pg_catalog', 'pg_extension');
    BEGIN
        EXECUTE format('SELECT extversion FROM %I.extension WHERE extname = %L', srv, 'spamhints') INTO remote;
    EXCEPTION WHEN OTHERS THEN
        RAISE EXCEPTION 'shard "%" cannot be reached: %', name, SQLERRM
            USING ERRCODE = 'connection_failure', HINT = 'Check the conninfo and that the shard''s server is up.';
    END;
    IF remote IS NULL THEN
        RAISE EXCEPTION 'shard "%" has no spamhints extension', name
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'CREATE EXTENSION spamhints in the shard''s database first.';
    END IF;
    SELECT x.extversion INTO val FROM pg_extension x WHERE x.extname = 'spamhints';
    IF remote <> val THEN
        RAISE EXCEPTION 'shard "%" has spamhints %, this coordinator %', name, remote, val
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Bring both to the same version (ALTER EXTENSION spamhints UPDATE) and attach it again.';
    END IF;
    EXECUTE format('IMPORT FOREIGN SCHEMA spamhints LIMIT TO (smtp_sample, load, load_agent, address_day, address_rollup, endpoint, asn) FROM SERVER %I INTO %I', srv, srv);
    INSERT INTO spamhints.shard (name, shard_no, server, schema_name, conninfo, extversion)
    VALUES (name, coalesce((SELECT min(n) FROM generate_series(1, 20) n
                            WHERE n NOT IN (SELECT shard_no FROM spamhints.shard)), 21),
            srv, srv, ltrim(kept), remote);
    PERFORM spamhints.shard_views();
END
$$;

COMMENT ON FUNCTION spamhints.attach_shard(text, text) IS
'Makes this database a coordinator over one more shard, a spamhints database of the same version at conninfo (libpq key=value: host, port, dbname ...; user and password go to the user mapping): a postgres_fdw server spamhints_shard_NAME (extensions ''spamhints'', async_capable, fetch_size 10000, use_remote_estimate: without it the planner ships the rows of a join rather than the census), user mappings for the extension''s owner and the caller, foreign tables for its samples, loads, agents and endpoint in the schema spamhints_shard_NAME, then spamhints.shard_views(). Refused for a shard that cannot be reached, has no spamhints, or another version. Superusers only. E.g. SELECT spamhints.attach_shard(''site_a'', ''host=db-a.example port=5432 dbname=spamhints user=coordinator password=...'').';

CREATE FUNCTION spamhints.detach_shard(name text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    s record;
BEGIN
    SELECT * INTO s FROM spamhints.shard x WHERE x.name = detach_shard.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'shard "%" is not attached', name USING ERRCODE = 'undefined_object';
    END IF;
    DELETE FROM spamhints.shard x WHERE x.name = detach_shard.name;
    PERFORM spamhints.shard_views();
    -- no CASCADE: an object of the user's own over the shard stops the detach
    EXECUTE format('DROP FOREIGN TABLE %1$I.smtp_sample, %1$I.load, %1$I.load_agent, %1$I.address_day, %1$I.address_rollup, %1$I.endpoint, %1$I.asn, %1$I.extension', s.schema_name);
    EXECUTE format('DROP SCHEMA %I', s.schema_name);
    EXECUTE format('DROP SERVER %I CASCADE', s.server);
END
$$;

COMMENT ON FUNCTION spamhints.detach_shard(text) IS
'Takes a shard out of the coordinator (its rows stay on the shard): its server, user mappings and foreign tables are dropped and spamhints.shard_views() run; the last one puts the single-node definitions back.';

CREATE FUNCTION spamhints.coordinator_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    IF EXISTS (SELECT FROM spamhints.shard) THEN
        RAISE EXCEPTION 'database "%" is a coordinator of shards (%): it takes no loads', current_database(),
                        (SELECT string_agg(name, ', ' ORDER BY name) FROM spamhints.shard)
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Load into the shard directly (spamhints-load -d with the shard''s database).';
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION spamhints.coordinator_guard() IS
'trigger BEFORE INSERT on spamhints.load and spamhints.maillog_load: error 55000 in a coordinator (spamhints.shard not empty), which takes no loads; nothing on a single node';

CREATE TRIGGER load_coordinator_guard BEFORE INSERT ON spamhints.load
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.coordinator_guard();
CREATE TRIGGER maillog_load_coordinator_guard BEFORE INSERT ON spamhints.maillog_load
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.coordinator_guard();

SELECT pg_catalog.pg_extension_config_dump('spamhints.shard', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.shard_saved', '');

REVOKE EXECUTE ON FUNCTION spamhints.attach_shard(text, text), spamhints.detach_shard(text),
                           spamhints.shard_views() FROM PUBLIC;
