-- sql/spamhints--0.1--0.2.sql: ALTER EXTENSION spamhints UPDATE from 0.1 to 0.2.
-- After it, an installed 0.1 is what a fresh CREATE EXTENSION of 0.2 makes,
-- object for object (tests/e2e/upgrade.sh compares the two, and their views'
-- answers on the same data). Each change here mirrors one in sql/parts/.
\echo Use "ALTER EXTENSION spamhints UPDATE TO '0.2'" to load this file. \quit

-- Charts as SVG: svg_text(), bars_svg(), chart_svg() (sql/parts/22_hist24.sql)
-- Charts as SVG, for a browser, a report page or a mail: bars with their
-- counts as tooltips, an axis scaled to the tallest bar, the exact total.

CREATE FUNCTION spamhints.svg_text(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN replace(replace(replace(replace(replace(
           regexp_replace(t, '[\x01-\x08\x0B\x0C\x0E-\x1F\x7F\uFFFE\uFFFF]', '', 'g'),
           '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;');

COMMENT ON FUNCTION spamhints.svg_text(text) IS
'Text made safe inside an SVG (XML) element or attribute: & < > " '' escaped, and the characters XML 1.0 does not allow (C0 controls but tab and line ends, DEL, U+FFFE, U+FFFF) removed.';

CREATE FUNCTION spamhints.bars_svg(labels text[], counts bigint[], title text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n      integer := coalesce(cardinality(counts), 0);
    peak   bigint;
    total  numeric;
    bar    integer;                  -- width of a bar and its gap
    left_  constant integer := 64;   -- room for the axis labels
    top_   constant integer := 40;   -- room for the title
    plot_h constant integer := 180;  -- the height of the tallest bar
    width  integer;
    height constant integer := top_ + plot_h + 44;
    every  integer;                  -- a label every so many bars, so that they do not overlap
    out    text;
BEGIN
    IF labels IS NULL OR counts IS NULL THEN
        RETURN NULL;
    END IF;
    IF cardinality(labels) <> n THEN
        RAISE EXCEPTION 'bars_svg() needs as many labels as counts, not % and %', cardinality(labels), n
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF n = 0 OR n > 2000 THEN
        RAISE EXCEPTION 'bars_svg() draws 1 to 2000 bars, not %', n
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT FROM unnest(counts) c WHERE c IS NULL OR c < 0) THEN
        RAISE EXCEPTION 'bars_svg() counts must be zero or more, not NULL or negative'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT max(c), sum(c) INTO peak, total FROM unnest(counts) c;
    bar := greatest(2, least(28, 720 / n));
    -- wide enough for the bars, the title (about 8 px a character) and the total
    width := greatest(left_ + n * bar + 16, left_ + 8 * length(coalesce(title, '')) + 16, 360);
    every := greatest(1, ceil((6 * (SELECT max(length(l)) FROM unnest(labels) l) + 6)::numeric / bar)::integer);

    out := format('<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-labelledby="t">',
                  width, height, width, height)
        || format('<title id="t">%s</title>', spamhints.svg_text(coalesce(title, 'counts')))
        || format('<rect width="%s" height="%s" fill="#ffffff"/>', width, height)
        || format('<text x="%s" y="24" font-family="sans-serif" font-size="15" fill="#000000">%s</text>',
                  left_, spamhints.svg_text(coalesce(title, '')))
        || format('<text x="%s" y="%s" font-family="sans-serif" font-size="11" fill="#444444">total %s, peak %s</text>',
                  left_, height - 6, total, peak)
        -- the axis: 0 and the peak
        || format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000000"/>', left_ - 4, top_, left_ - 4, top_ + plot_h)
        || format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000000"/>', left_ - 4, top_ + plot_h, left_ + n * bar, top_ + plot_h)
        || format('<text x="%s" y="%s" font-family="sans-serif" font-size="11" text-anchor="end">%s</text>', left_ - 8, top_ + 4, peak)
        || format('<text x="%s" y="%s" font-family="sans-serif" font-size="11" text-anchor="end">0</text>', left_ - 8, top_ + plot_h);
    -- a bar's height is its share of the peak (no bar at all for 0)
    out := out || coalesce((
        SELECT string_agg(
                   format('<rect class="bar" x="%s" y="%s" width="%s" height="%s" fill="#3366aa"><title>%s: %s</title></rect>',
                          left_ + (i - 1) * bar, top_ + plot_h - h, greatest(1, bar - 1), h,
                          spamhints.svg_text(coalesce(labels[i], '')), counts[i])
                   || CASE WHEN (i - 1) % every = 0 THEN
                          format('<text x="%s" y="%s" font-family="sans-serif" font-size="10" text-anchor="middle">%s</text>',
                                 left_ + (i - 1) * bar + bar / 2.0, top_ + plot_h + 14,
                                 spamhints.svg_text(coalesce(labels[i], '')))
                      ELSE '' END,
                   '' ORDER BY i)
        FROM (SELECT i, CASE WHEN peak = 0 THEN 0 ELSE round(counts[i] * plot_h::numeric / peak)::integer END AS h
              FROM generate_subscripts(counts, 1) i) b), '');
    RETURN out || '</svg>';
END
$$;

COMMENT ON FUNCTION spamhints.bars_svg(text[], bigint[], text) IS
'A bar chart as an SVG document: one bar per count (1 to 2000, zero or more each), labelled below (thinned when crowded), scaled to the tallest, its label and count as the bar''s tooltip, the total and the peak written out, title above. Text is escaped (svg_text). E.g. detections per day: SELECT bars_svg(array_agg(day::text ORDER BY day), array_agg(spam ORDER BY day), ''spam per day'') FROM spamhints.detections_per_day.';

-- not STRICT: a NULL title is the default one (a NULL h gives NULL)
CREATE FUNCTION spamhints.chart_svg(h spamhints.hist24, title text DEFAULT NULL)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN spamhints.bars_svg(ARRAY['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11',
                                '12', '13', '14', '15', '16', '17', '18', '19', '20', '21', '22', '23'],
                          spamhints.hist24_to_array(h), coalesce(title, 'samples by hour of day'));

COMMENT ON FUNCTION spamhints.chart_svg(spamhints.hist24, text) IS
'An hour-of-day chart as SVG (bars_svg with the hours 0 to 23): SELECT chart_svg(hourly(ts), ''192.0.2.1 by hour'') FROM spamhints.endpoint WHERE ip = ''192.0.2.1''. The SVG twin of chart().';

-- maillog_load: unique on (sha256, format), not the hash alone: a log once
-- recorded with the wrong --maillog does not stop its load with the right one
ALTER TABLE spamhints.maillog_load DROP CONSTRAINT maillog_load_sha256_key;
ALTER TABLE spamhints.maillog_load ADD UNIQUE (sha256, format);
COMMENT ON TABLE spamhints.maillog_load IS
'One row per mail log file loaded by spamhints-load --maillog: file, SHA-256 of its bytes and format (exim or postfix; the same log is never loaded twice as the same format), the time zone its times were read in, where the year of syslog lines came from, line counts. A load is one transaction: a row here means all of its events are in spamhints.mail_event. Deleting or truncating (with CASCADE) a load deletes its events; truncating spamhints.mail_event deletes every mail log load too, so that the same logs can be loaded again; spamhints.purge() keeps the loads.';
COMMENT ON COLUMN spamhints.maillog_load.sha256 IS 'SHA-256 of the log''s bytes, lower-case hex: unique with format, so the same log is never loaded twice as the same format';
-- the duplicate check reads the hash and the format
GRANT SELECT (format) ON spamhints.maillog_load TO spamhints_loader;

-- The fence: the loader role writes only to the unfinished load its own
-- transaction created (10_samples.sql, 52_maillogs.sql, 90_privileges.sql)
COMMENT ON FUNCTION spamhints.load_exists(integer) IS
'true when the load exists (and locks it FOR KEY SHARE until the end of the transaction), else error 23503: the check behind "every sample (and agent) belongs to a load", cached per transaction so that a COPY of millions of rows looks its load up once. For a role that does not own spamhints.load (spamhints_loader), also error 42501 unless the load is one its own transaction inserted and has not finished: rows are never added to a committed load';
ALTER TABLE spamhints.load_agent
    ADD CONSTRAINT load_agent_load_exists CHECK (spamhints.load_exists(load_id)) NOT VALID;

-- The fence: a role that does not own these tables (spamhints_loader) may
-- create and finish its own unfinished loads and nothing else. A committed
-- load, its samples and agents are kept as they are: load_exists() refuses
-- rows for any other load, and load_guard() refuses a load row inserted
-- finished or with a hash, a change or deletion of any load row but the
-- unfinished one of the same transaction, a load committed unfinished, and
-- any UPDATE, DELETE or TRUNCATE of the rows. Row triggers on the load table
-- (a few rows per load), statement triggers on the rows: nothing per sample.
CREATE FUNCTION spamhints.load_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'spamhints_load_guard'
LANGUAGE C;

COMMENT ON FUNCTION spamhints.load_guard() IS
'trigger on spamhints.load, maillog_load and the tables of their rows (smtp_sample, load_agent, mail_event): for a role that does not own the table (spamhints_loader), error 42501 for a load inserted finished or with a hash, an UPDATE or DELETE of a load row but the unfinished one its own transaction inserted, a load left unfinished at COMMIT, and any UPDATE, DELETE or TRUNCATE of the rows; nothing for the owner';

CREATE FUNCTION spamhints.owns_table(rel regclass)
RETURNS boolean
AS 'MODULE_PATHNAME', 'spamhints_owns_table'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.owns_table(regclass) IS
'true when the current user owns the table, is a member of its owner, or is a superuser: whom spamhints.load_guard() lets through';

CREATE TRIGGER load_fence BEFORE INSERT OR UPDATE OR DELETE ON spamhints.load
    FOR EACH ROW EXECUTE FUNCTION spamhints.load_guard();
CREATE CONSTRAINT TRIGGER load_fence_commit AFTER INSERT ON spamhints.load
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NOT spamhints.owns_table('spamhints.load'))
    EXECUTE FUNCTION spamhints.load_guard();
CREATE TRIGGER load_fence_truncate BEFORE TRUNCATE ON spamhints.load
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_guard();
CREATE TRIGGER load_agent_fence BEFORE UPDATE OR DELETE OR TRUNCATE ON spamhints.load_agent
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_guard();
CREATE TRIGGER smtp_sample_fence BEFORE UPDATE OR DELETE OR TRUNCATE ON spamhints.smtp_sample
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_guard();

-- The fence, as for captures (spamhints.load_guard, 10_samples.sql): a role
-- that does not own these tables adds events only to the unfinished mail log
-- load its own transaction inserted, and changes no committed one. The
-- foreign key stays for ON DELETE CASCADE; the CHECK is cached per load.
CREATE FUNCTION spamhints.maillog_load_exists(maillog_load_id integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'spamhints_maillog_load_exists'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

COMMENT ON FUNCTION spamhints.maillog_load_exists(integer) IS
'true when the mail log load exists (and locks it FOR KEY SHARE until the end of the transaction), else error 23503; for a role that does not own spamhints.maillog_load (spamhints_loader), error 42501 unless the load is one its own transaction inserted and has not finished. Cached per transaction: one lookup per load';

ALTER TABLE spamhints.mail_event
    ADD CONSTRAINT mail_event_load_open CHECK (spamhints.maillog_load_exists(maillog_load_id)) NOT VALID;

CREATE TRIGGER maillog_load_fence BEFORE INSERT OR UPDATE OR DELETE ON spamhints.maillog_load
    FOR EACH ROW EXECUTE FUNCTION spamhints.load_guard();
CREATE CONSTRAINT TRIGGER maillog_load_fence_commit AFTER INSERT ON spamhints.maillog_load
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NOT spamhints.owns_table('spamhints.maillog_load'))
    EXECUTE FUNCTION spamhints.load_guard();
CREATE TRIGGER maillog_load_fence_truncate BEFORE TRUNCATE ON spamhints.maillog_load
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_guard();
-- (a DELETE of events is fenced row by row: mail_event_replace_fence, below)
CREATE TRIGGER mail_event_fence BEFORE UPDATE OR TRUNCATE ON spamhints.mail_event
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_guard();

-- INSERT and UPDATE of the load tables on every column but the identity:
-- granted once, at the end, when the collector's columns are there too
REVOKE INSERT, UPDATE ON spamhints.load, spamhints.maillog_load FROM spamhints_loader;

-- Live collection (15_collector.sql): the collector's counts on the load
-- row (its views, collector_status and collector_agent, come after the
-- datagrams' identities below)

-- What the collector counted while a spool file was open, on the load of the
-- file (columns of spamhints.load, so that a load and its counts are one row:
-- deleted, truncated, dumped and restored together). NULL for captures.
ALTER TABLE spamhints.load
    ADD COLUMN collector        text,
    ADD COLUMN spool_opened_at  timestamptz,
    ADD COLUMN spool_closed_at  timestamptz,
    ADD COLUMN received         bigint CHECK (received >= 0),
    ADD COLUMN refused          bigint CHECK (refused >= 0),
    ADD COLUMN kernel_dropped   bigint CHECK (kernel_dropped >= 0),
    ADD COLUMN recovered        boolean,
    ADD CONSTRAINT load_refused_of_received CHECK (refused <= received),
    ADD CONSTRAINT load_counts_of_collector CHECK (collector IS NOT NULL OR (received IS NULL AND refused IS NULL AND kernel_dropped IS NULL
                                         AND recovered IS NULL));

COMMENT ON COLUMN spamhints.load.collector IS 'spamhints-load --listen: the collector that loaded this spool file (host name and the addresses it listened on); NULL for a capture loaded as a file';
COMMENT ON COLUMN spamhints.load.spool_opened_at IS 'spamhints-load --listen: when the spool file was opened; NULL when recovered';
COMMENT ON COLUMN spamhints.load.spool_closed_at IS 'spamhints-load --listen: when the spool file was closed (its last datagram arrived before); NULL when recovered';
COMMENT ON COLUMN spamhints.load.received IS 'spamhints-load --listen: UDP datagrams read from the sockets while the spool file was open, from any sender; received - refused = frames; NULL when recovered';
COMMENT ON COLUMN spamhints.load.refused IS 'spamhints-load --listen: of those, from senders not in --agents: counted, not spooled, not loaded; NULL when recovered';
COMMENT ON COLUMN spamhints.load.kernel_dropped IS 'spamhints-load --listen: datagrams the kernel dropped at the sockets for want of receive buffer (SO_RXQ_OVFL, /proc/net/udp) while the spool file was open, never received; NULL when recovered or not known';
COMMENT ON COLUMN spamhints.load.recovered IS 'spamhints-load --listen: true when the spool file was left open by a collector that stopped (a crash) and closed at the next start: it holds every datagram written whole, and what was only counted in memory is NULL';

COMMENT ON COLUMN spamhints.load_agent.resets IS 'times the datagram sequence number went back (an agent restart) by more than 64, or by less with the agent''s uptime back by more than 10 s: counted here, never as loss; a repeated number (a duplicate) is neither';
------------------------------------------------------------------------------
-- smtp_sample partitioned by UTC day (sql/parts/10_samples.sql,
-- 12_partitions.sql, 90_privileges.sql; address() and purge(), which read
-- and drop the partitions, come below with what they need)
--
-- A table cannot become partitioned in place: 0.1's table is renamed, the
-- partitioned one made beside it with the same columns, 0.1's rows moved
-- into the partitions of their days, and the old table dropped. What
-- depends on it (views, SQL-standard functions) is saved first, as it is
-- defined at this point of the update, and made again over the new table
-- with its comments, privileges and indexes; what 0.2 makes with other
-- columns (activity(), daily_figures) is dropped instead.
------------------------------------------------------------------------------

-- the functions the new table's partitions need, before it
CREATE FUNCTION spamhints.ensure_partitions(from_ts timestamptz, to_ts timestamptz)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    day   timestamp;
    last  timestamp;
    lo    timestamptz;
    hi    timestamptz;
    part  text;
    made  integer := 0;
BEGIN
    IF from_ts IS NULL OR to_ts IS NULL OR NOT isfinite(from_ts) OR NOT isfinite(to_ts) THEN
        RAISE EXCEPTION 'ensure_partitions() needs two finite times, not % and %', from_ts, to_ts
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF to_ts < from_ts THEN
        RAISE EXCEPTION 'ensure_partitions() needs from_ts no later than to_ts, not % and %', from_ts, to_ts
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    day := date_trunc('day', from_ts AT TIME ZONE 'UTC');
    last := date_trunc('day', to_ts AT TIME ZONE 'UTC');
    -- in days of dates: an interval between the widest timestamps overflows
    IF last::date - day::date >= 400 THEN
        RAISE EXCEPTION 'ensure_partitions() makes at most 400 days a call, not % to %', from_ts, to_ts
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WHILE day <= last LOOP
        lo := day AT TIME ZONE 'UTC';
        hi := (day + interval '1 day') AT TIME ZONE 'UTC';
        part := 'smtp_sample_' || to_char(day, 'YYYYMMDD');
        -- two loads making the same day: the second waits for the first
        PERFORM pg_advisory_xact_lock(hashtext('spamhints.smtp_sample'), (extract(epoch FROM lo) / 86400)::integer);
        -- a partition that holds the day already, whatever its name (one
        -- that pg_partman made, say), will do
        IF NOT EXISTS (SELECT FROM spamhints.partitions() t WHERE t.from_ts <= lo AND t.to_ts >= hi) THEN
            EXECUTE format('CREATE TABLE spamhints.%I (LIKE spamhints.smtp_sample INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
            -- rows of that day that waited in the default partition move in
            EXECUTE format('WITH moved AS (DELETE FROM spamhints.smtp_sample_default WHERE ts >= $1 AND ts < $2 RETURNING *)
                            INSERT INTO spamhints.%I SELECT * FROM moved', part) USING lo, hi;
            EXECUTE format('CREATE INDEX %I ON spamhints.%I USING brin (load_id)', part || '_load_brin', part);
            EXECUTE format('CREATE INDEX %I ON spamhints.%I USING brin (ts)', part || '_ts_brin', part);
            EXECUTE format('ALTER TABLE spamhints.smtp_sample ATTACH PARTITION spamhints.%I FOR VALUES FROM (%L) TO (%L)',
                           part, lo, hi);
            EXECUTE format('COMMENT ON TABLE spamhints.%I IS %L', part,
                           format('The samples of one UTC day, %s, of spamhints.smtp_sample (made by spamhints.ensure_partitions(); dropped whole by spamhints.purge())',
                                  to_char(day, 'YYYY-MM-DD')));
            -- made while the extension is created or updated (0.1's rows):
            -- data, not a part of the extension, dumped and restored as such
            IF EXISTS (SELECT FROM pg_depend d
                       WHERE d.classid = 'pg_class'::regclass AND d.objid = ('spamhints.' || part)::regclass
                         AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e') THEN
                EXECUTE format('ALTER EXTENSION spamhints DROP TABLE spamhints.%I', part);
            END IF;
            made := made + 1;
        END IF;
        day := day + interval '1 day';
    END LOOP;
    RETURN made;
END
$$;

COMMENT ON FUNCTION spamhints.ensure_partitions(timestamptz, timestamptz) IS
'Creates the missing day partitions of spamhints.smtp_sample (smtp_sample_YYYYMMDD, one UTC day each) of the days from that of from_ts to that of to_ts (both included), moving rows of those days out of smtp_sample_default; returns how many it created. spamhints-load calls it before it sends the rows of a day. At most 400 days a call; times must be finite and from_ts no later than to_ts (22023). SECURITY DEFINER: the loader does not own the table.';

CREATE FUNCTION spamhints.partitions()
RETURNS TABLE (partition regclass, from_ts timestamptz, to_ts timestamptz, indexed boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT c.oid::regclass,
           substring(pg_get_expr(c.relpartbound, c.oid) FROM 'FROM \(''([^'']*)''\)')::timestamptz,
           substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \(''([^'']*)''\)')::timestamptz,
           EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                   JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
                   WHERE i.indrelid = c.oid AND a.attname = 'src_ip' AND am.amname = 'btree')
    FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
    WHERE h.inhparent = 'spamhints.smtp_sample'::regclass
    ORDER BY 2 NULLS FIRST
$$;

COMMENT ON FUNCTION spamhints.partitions() IS
'The partitions of spamhints.smtp_sample: each with the times it holds, [from_ts, to_ts) (both NULL for the default partition, or a bound that is not a time), and whether its B-trees on the addresses are built (maintain_partitions() builds them once its day is complete).';

CREATE FUNCTION spamhints.maintain_partitions()
RETURNS TABLE (partition regclass, action text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, spamhints
AS $$
#variable_conflict use_column
DECLARE
    d     timestamptz;
    p     record;
    upto  timestamptz;
BEGIN
    -- rows that landed in the default partition go to their day's partition
    FOR d IN SELECT DISTINCT date_trunc('day', s.ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
             FROM spamhints.smtp_sample_default s WHERE isfinite(s.ts) ORDER BY 1 LOOP
        IF spamhints.ensure_partitions(d, d) > 0 THEN
            partition := ('spamhints.smtp_sample_' || to_char(d AT TIME ZONE 'UTC', 'YYYYMMDD'))::regclass;
            action := 'created, rows moved from the default partition';
            RETURN NEXT;
        END IF;
    END LOOP;
    -- a day is complete when samples an hour past its end have been
    -- loaded, or a day has passed since its end: then its B-trees are
    -- built, one sort each, instead of row by row while loads COPY
    upto := greatest(now() - interval '1 day',
                     (SELECT max(l.last_ts) FROM spamhints.load l WHERE l.finished_at IS NOT NULL) - interval '1 hour');
    FOR p IN SELECT t.partition, c.relname FROM spamhints.partitions() t JOIN pg_class c ON c.oid = t.partition
             WHERE NOT t.indexed AND t.to_ts <= upto LOOP
        EXECUTE format('CREATE INDEX %I ON spamhints.%I (src_ip)', p.relname || '_src_ip', p.relname);
        EXECUTE format('CREATE INDEX %I ON spamhints.%I (dst_ip)', p.relname || '_dst_ip', p.relname);
        partition := p.partition; action := 'indexed'; RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION spamhints.maintain_partitions() IS
'Moves the rows of spamhints.smtp_sample_default to the partitions of their days (creating them), and builds the B-trees on src_ip and dst_ip of every day partition that is complete: samples more than an hour past its end are loaded, or a day has passed since its end. Returns what it did, a row per partition. spamhints-load runs it after each load. SECURITY DEFINER: the loader does not own the table.';

-- 0.1's activity() and daily_figures have fewer columns than 0.2's (made
-- below, with the bounds and the agents' rates): dropped here, not saved and
-- made again with the table
DROP FUNCTION spamhints.activity(timestamptz, timestamptz, interval, integer[]);
DROP MATERIALIZED VIEW spamhints.daily_figures;

DO $$
DECLARE
    r      record;
    c      record;
    a      record;
    saved  text[] := '{}';
    stmt   text;
    -- the SQL-standard function over the table, endpoints(), as
    -- sql/parts/30_views.sql defines it (its deparsed body would not parse
    -- back to the same text); a dependent without its text here stops the
    -- update
    fdefs  jsonb := jsonb_build_object('endpoints', $fn$
CREATE FUNCTION spamhints.endpoints(ports integer[])
RETURNS TABLE (ip inet, peer inet, role spamhints.smtp_role, side text,
               port integer, peer_port integer, asn bigint, cc text,
               peer_asn bigint, peer_cc text, ts timestamptz,
               sampling_rate integer, tcp_flags integer, ip_len integer,
               ttl integer, smtp text, agent inet, load_id integer, frame bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT s.src_ip, s.dst_ip, spamhints.src_role(s.src_port, s.dst_port, ports), 'src',
           s.src_port, s.dst_port, s.src_asn, s.src_cc, s.dst_asn, s.dst_cc, s.ts,
           s.sampling_rate, s.tcp_flags, s.ip_len, s.ttl, s.smtp, s.agent, s.load_id, s.frame
    FROM spamhints.smtp_sample s
    WHERE spamhints.src_role(s.src_port, s.dst_port, ports) IS NOT NULL
    UNION ALL
    SELECT s.dst_ip, s.src_ip, spamhints.dst_role(s.src_port, s.dst_port, ports), 'dst',
           s.dst_port, s.src_port, s.dst_asn, s.dst_cc, s.src_asn, s.src_cc, s.ts,
           s.sampling_rate, s.tcp_flags, s.ip_len, s.ttl, s.smtp, s.agent, s.load_id, s.frame
    FROM spamhints.smtp_sample s
    WHERE spamhints.dst_role(s.src_port, s.dst_port, ports) IS NOT NULL;
END;
$fn$);
BEGIN
    -- 1. the dependents, deepest last, each as the statements that make it again
    FOR r IN
        WITH RECURSIVE obj(classid, objid, depth) AS (
            SELECT 'pg_class'::regclass::oid, 'spamhints.smtp_sample'::regclass::oid, 0
          UNION ALL
            SELECT CASE WHEN d.classid = 'pg_rewrite'::regclass THEN 'pg_class'::regclass::oid ELSE d.classid END,
                   CASE WHEN d.classid = 'pg_rewrite'::regclass THEN rw.ev_class ELSE d.objid END,
                   o.depth + 1
            FROM obj o
            JOIN pg_depend d ON (d.refclassid = o.classid AND d.refobjid = o.objid)
                             OR (o.classid = 'pg_class'::regclass AND d.refclassid = 'pg_type'::regclass
                                 AND d.refobjid = (SELECT reltype FROM pg_class WHERE oid = o.objid))
            LEFT JOIN pg_rewrite rw ON d.classid = 'pg_rewrite'::regclass AND rw.oid = d.objid
            WHERE d.deptype = 'n'
              AND (d.classid = 'pg_proc'::regclass OR (d.classid = 'pg_rewrite'::regclass AND rw.ev_class <> o.objid))
        )
        SELECT classid, objid, max(depth) AS depth FROM obj WHERE depth > 0
        GROUP BY classid, objid ORDER BY max(depth), objid
    LOOP
        IF r.classid = 'pg_proc'::regclass THEN
            IF NOT fdefs ? (SELECT proname FROM pg_proc WHERE oid = r.objid) THEN
                RAISE EXCEPTION 'spamhints 0.1--0.2: % depends on smtp_sample and has no definition to be made again with',
                                r.objid::regprocedure;
            END IF;
            saved := saved || (fdefs ->> (SELECT proname FROM pg_proc WHERE oid = r.objid)::text);
            saved := saved || format('COMMENT ON FUNCTION %s IS %L', r.objid::regprocedure, obj_description(r.objid, 'pg_proc'));
            IF (SELECT proacl FROM pg_proc WHERE oid = r.objid) IS NOT NULL THEN
                saved := saved || format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', r.objid::regprocedure);
                FOR a IN SELECT x.grantee, x.privilege_type FROM pg_proc p, aclexplode(p.proacl) x
                         WHERE p.oid = r.objid AND x.grantee <> p.proowner LOOP
                    saved := saved || format('GRANT %s ON FUNCTION %s TO %s', a.privilege_type, r.objid::regprocedure,
                                             CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END);
                END LOOP;
            END IF;
            CONTINUE;
        END IF;
        SELECT * INTO c FROM pg_class WHERE oid = r.objid;
        saved := saved || format('CREATE %s %s%s AS %s',
                                 CASE c.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END,
                                 r.objid::regclass,
                                 coalesce(' WITH (' || array_to_string(c.reloptions, ', ') || ')', ''),
                                 rtrim(pg_get_viewdef(r.objid), ';'));
        FOR a IN SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i WHERE i.indrelid = r.objid ORDER BY i.indexrelid LOOP
            saved := saved || a.def;
        END LOOP;
        IF obj_description(r.objid, 'pg_class') IS NOT NULL THEN
            saved := saved || format('COMMENT ON %s %s IS %L', CASE c.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END,
                                     r.objid::regclass, obj_description(r.objid, 'pg_class'));
        END IF;
        FOR a IN SELECT at.attname, col_description(r.objid, at.attnum) AS d FROM pg_attribute at
                 WHERE at.attrelid = r.objid AND at.attnum > 0 AND NOT at.attisdropped
                   AND col_description(r.objid, at.attnum) IS NOT NULL ORDER BY at.attnum LOOP
            saved := saved || format('COMMENT ON COLUMN %s.%I IS %L', r.objid::regclass, a.attname, a.d);
        END LOOP;
        FOR a IN SELECT x.grantee, x.privilege_type, x.is_grantable FROM aclexplode(c.relacl) x WHERE x.grantee <> c.relowner LOOP
            saved := saved || format('GRANT %s ON %s TO %s%s', a.privilege_type, r.objid::regclass,
                                     CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END,
                                     CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        END LOOP;
        FOR a IN SELECT at.attname, x.grantee, x.privilege_type FROM pg_attribute at, aclexplode(at.attacl) x
                 WHERE at.attrelid = r.objid AND at.attacl IS NOT NULL AND x.grantee <> c.relowner ORDER BY at.attnum LOOP
            saved := saved || format('GRANT %s (%I) ON %s TO %s', a.privilege_type, a.attname, r.objid::regclass,
                                     CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END);
        END LOOP;
    END LOOP;

    -- 2. 0.1's table steps aside
    ALTER TABLE spamhints.smtp_sample RENAME TO smtp_sample_0_1;

    -- 3. the partitioned table, as 10_samples.sql makes it, with the same
    -- columns in the same order, their comments and privileges
    CREATE TABLE spamhints.smtp_sample (LIKE spamhints.smtp_sample_0_1 INCLUDING DEFAULTS) PARTITION BY RANGE (ts);
    COMMENT ON TABLE spamhints.smtp_sample IS
'One row per sampled SMTP packet (TCP with an SMTP port at either end) found in the flow samples of a load. Each row stands for sampling_rate real packets. Partitioned by UTC day of ts: spamhints-load creates the partition of a day (smtp_sample_YYYYMMDD, spamhints.ensure_partitions()) before it sends that day''s rows; rows of a day without its partition (an INSERT not made by the loader) wait in smtp_sample_default until spamhints.maintain_partitions() moves them; spamhints.purge() drops whole partitions past the retention.';
    FOR a IN SELECT at.attname, col_description(at.attrelid, at.attnum) AS d FROM pg_attribute at
             WHERE at.attrelid = 'spamhints.smtp_sample_0_1'::regclass AND at.attnum > 0 AND NOT at.attisdropped
               AND col_description(at.attrelid, at.attnum) IS NOT NULL ORDER BY at.attnum LOOP
        EXECUTE format('COMMENT ON COLUMN spamhints.smtp_sample.%I IS %L', a.attname, a.d);
    END LOOP;
    FOR a IN SELECT x.grantee, x.privilege_type FROM pg_class cl, aclexplode(cl.relacl) x
             WHERE cl.oid = 'spamhints.smtp_sample_0_1'::regclass AND x.grantee <> cl.relowner LOOP
        EXECUTE format('GRANT %s ON spamhints.smtp_sample TO %s', a.privilege_type,
                       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END);
    END LOOP;
    FOR a IN SELECT at.attname, x.grantee, x.privilege_type FROM pg_attribute at, aclexplode(at.attacl) x
             WHERE at.attrelid = 'spamhints.smtp_sample_0_1'::regclass AND at.attacl IS NOT NULL
               AND x.grantee <> (SELECT relowner FROM pg_class WHERE oid = 'spamhints.smtp_sample_0_1'::regclass)
             ORDER BY at.attnum LOOP
        EXECUTE format('GRANT %s (%I) ON spamhints.smtp_sample TO %s', a.privilege_type, a.attname,
                       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END);
    END LOOP;

    CREATE TABLE spamhints.smtp_sample_default PARTITION OF spamhints.smtp_sample DEFAULT;
    COMMENT ON TABLE spamhints.smtp_sample_default IS
'The default partition of spamhints.smtp_sample: rows of a day without a partition of its own, until spamhints.maintain_partitions() (run by spamhints-load after each load) moves them to their day''s partition. Normally empty.';
    -- its CHECKs (load_exists, NOT VALID; plain_text(smtp), 60_reports.sql)
    FOR a IN SELECT co.conname, pg_get_constraintdef(co.oid) AS def FROM pg_constraint co
             WHERE co.conrelid = 'spamhints.smtp_sample_0_1'::regclass AND co.contype = 'c' ORDER BY co.conname LOOP
        EXECUTE format('ALTER TABLE spamhints.smtp_sample ADD CONSTRAINT %I %s', a.conname, a.def);
    END LOOP;
    CREATE TRIGGER sample_truncate_loads AFTER TRUNCATE ON spamhints.smtp_sample
        FOR EACH STATEMENT EXECUTE FUNCTION spamhints.rows_truncated();
    CREATE TRIGGER smtp_sample_fence BEFORE UPDATE OR DELETE OR TRUNCATE ON spamhints.smtp_sample
        FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_guard();
    CREATE INDEX smtp_sample_default_load_brin ON spamhints.smtp_sample_default USING brin (load_id);
    CREATE INDEX smtp_sample_default_ts_brin ON spamhints.smtp_sample_default USING brin (ts);
    CREATE INDEX smtp_sample_default_src_ip ON spamhints.smtp_sample_default (src_ip);
    CREATE INDEX smtp_sample_default_dst_ip ON spamhints.smtp_sample_default (dst_ip);
    PERFORM pg_catalog.pg_extension_config_dump('spamhints.smtp_sample', '');
    PERFORM pg_catalog.pg_extension_config_dump('spamhints.smtp_sample_default', '');

    -- 4. 0.1's rows, each in the partition of its day (not members of the
    -- extension: data, dumped and restored with their rows)
    FOR a IN SELECT DISTINCT date_trunc('day', s.ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS d
             FROM spamhints.smtp_sample_0_1 s WHERE isfinite(s.ts) ORDER BY 1 LOOP
        PERFORM spamhints.ensure_partitions(a.d, a.d);
    END LOOP;
    INSERT INTO spamhints.smtp_sample SELECT * FROM spamhints.smtp_sample_0_1;

    -- 5. the old table goes with what depends on it, which is made again
    DROP TABLE spamhints.smtp_sample_0_1 CASCADE;
    FOREACH stmt IN ARRAY saved LOOP
        EXECUTE stmt;
    END LOOP;
    -- the B-trees of the days that are complete
    PERFORM spamhints.maintain_partitions();
END
$$;

-- the day partitions: made and tidied by the loader, as the table's owner
REVOKE EXECUTE ON FUNCTION spamhints.ensure_partitions(timestamptz, timestamptz),
                           spamhints.maintain_partitions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spamhints.ensure_partitions(timestamptz, timestamptz),
                          spamhints.maintain_partitions() TO spamhints_loader;


-- Confidence bounds (sql/parts/05_bounds.sql): midp_low/high,
-- est_low/high, wilson_low/high (the views and functions that give the 95%
-- bounds of their estimates come with the agents' rates, below)
CREATE FUNCTION spamhints.midp_low(n bigint) RETURNS float8
AS 'MODULE_PATHNAME', 'spamhints_midp_low'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.midp_low(bigint) IS
'The lower mid-p 95% bound of the mean of a Poisson count n: the mean at which P(X > n) + P(X = n) / 2 = 2.5% (0 for n = 0). n sampled packets at 1 in N: at least N * midp_low(n) real packets. E.g. midp_low(3) = 0.763. Error 22023 for a negative n.';

CREATE FUNCTION spamhints.midp_high(n bigint) RETURNS float8
AS 'MODULE_PATHNAME', 'spamhints_midp_high'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.midp_high(bigint) IS
'The upper mid-p 95% bound of the mean of a Poisson count n: the mean at which P(X < n) + P(X = n) / 2 = 2.5% (ln 20 = 2.996 for n = 0). n sampled packets at 1 in N: at most N * midp_high(n) real packets. E.g. midp_high(3) = 8.164. Error 22023 for a negative n.';

-- est is the sum of the sampling rates of n samples: the bound of the count
-- scaled by their mean rate, est / n.
CREATE FUNCTION spamhints.est_low(samples bigint, est bigint) RETURNS bigint
AS 'MODULE_PATHNAME', 'spamhints_est_low'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.est_low(bigint, bigint) IS
'The lower 95% bound of an estimated real packet count est (the sum of the sampling rates of samples sampled packets): est / samples * midp_low(samples), rounded; 0 for no samples. A negative samples or est is an error (22023); a bound beyond bigint too (22003). E.g. est_low(3, 3000) = 763.';

CREATE FUNCTION spamhints.est_high(samples bigint, est bigint) RETURNS bigint
AS 'MODULE_PATHNAME', 'spamhints_est_high'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.est_high(bigint, bigint) IS
'The upper 95% bound of an estimated real packet count est (the sum of the sampling rates of samples sampled packets): est / samples * midp_high(samples), rounded; NULL for no samples (with no sample, no sampling rate says how many packets could have been missed). A negative samples or est is an error (22023); a bound beyond bigint too (22003). E.g. est_high(3, 3000) = 8164.';

CREATE FUNCTION spamhints.wilson_low(k bigint, n bigint) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN n > 0 AND k >= 0 AND k <= n THEN
    greatest(0, (k + 1.920729410347062 - 1.959963984540054
                 * sqrt(k::float8 * (n - k) / n + 0.960364705173531)) / (n + 3.841458820694124)) END;

COMMENT ON FUNCTION spamhints.wilson_low(bigint, bigint) IS
'The lower bound of Wilson''s 95% interval of a share, k of n: (k + z²/2 - z sqrt(k (n - k) / n + z²/4)) / (n + z²), z = 1.96; NULL for n = 0 or k outside 0..n. E.g. wilson_low(5, 10) = 0.2366.';

CREATE FUNCTION spamhints.wilson_high(k bigint, n bigint) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN n > 0 AND k >= 0 AND k <= n THEN
    least(1, (k + 1.920729410347062 + 1.959963984540054
              * sqrt(k::float8 * (n - k) / n + 0.960364705173531)) / (n + 3.841458820694124)) END;

COMMENT ON FUNCTION spamhints.wilson_high(bigint, bigint) IS
'The upper bound of Wilson''s 95% interval of a share, k of n: (k + z²/2 + z sqrt(k (n - k) / n + z²/4)) / (n + z²), z = 1.96; NULL for n = 0 or k outside 0..n. E.g. wilson_high(0, 10) = 0.2775.';


-- The agents' sampling (sql/parts/10_samples.sql): the configured
-- and effective rates of load_agent, at the end of the table (other 0.2
-- columns of load_agent may come before or after them)
ALTER TABLE spamhints.load_agent
    ADD COLUMN configured_rate  float8 CHECK (configured_rate > 0),
    ADD COLUMN effective_rate   float8 CHECK (effective_rate >= 0),
    ADD COLUMN rate_samples     bigint NOT NULL DEFAULT 0 CHECK (rate_samples >= 0),
    ADD COLUMN sample_drops     bigint NOT NULL DEFAULT 0 CHECK (sample_drops >= 0);

COMMENT ON TABLE spamhints.load_agent IS
'Per sFlow agent (and sub-agent) of each load: datagrams decoded whole, malformed datagrams it sent, sequence numbers, and datagrams lost in transit (gaps in the sequence). A sequence number that goes back (an agent restart) counts as a reset, not as loss. Its sampling (0.2): configured_rate, the sampling rate its flow samples give, and effective_rate, the packets its sources really drew each sample from (the steps of the sample pools over the steps of the sample sequence numbers, per source, summed), over rate_samples samples, with sample_drops, the samples the agent dropped for want of resources. The estimates (est_packets and their bounds, in every view) sum each sample''s sampling_rate times its agent''s factor (spamhints.agent_rate): effective_rate / configured_rate where the two differ beyond the effective rate''s own 95% uncertainty, 1.96 / sqrt(rate_samples), and by more than 5%, else 1.';

COMMENT ON COLUMN spamhints.load_agent.configured_rate IS 'the sampling rate its flow samples say (sampling_rate), averaged over their sequence steps; NULL without two flow samples of one source';
COMMENT ON COLUMN spamhints.load_agent.effective_rate IS 'the rate it really sampled at: the steps of the sample pool (packets that could have been sampled) over the steps of the sample sequence number (samples made), per source (ifIndex), summed; flow samples lost in transit are in both steps; NULL without two flow samples of one source';
COMMENT ON COLUMN spamhints.load_agent.rate_samples IS 'the samples made over those steps (sum of sequence steps)';
COMMENT ON COLUMN spamhints.load_agent.sample_drops IS 'samples the agent dropped for want of resources over those steps (the drops counter''s steps)';


-- Mail log lines counted once (52_maillogs.sql): the lines read, by their
-- identity (spamhints.maillog_line); the events' line and line count; the
-- lines a load found known; the one DELETE of events the fence lets the
-- loader make (replacing an event it saw more lines of). Loads and events
-- of 0.1 have no line identities (the logs are not in the database to
-- compute them from): their files are still known whole by sha256, their
-- events are never matched line by line, and lines_known is 0.
ALTER TABLE spamhints.maillog_load ADD COLUMN lines_known bigint NOT NULL DEFAULT 0;
COMMENT ON COLUMN spamhints.maillog_load.events IS 'rows added to spamhints.mail_event (not the events that an earlier load had already added with as many lines: see spamhints.maillog_line)';
COMMENT ON COLUMN spamhints.maillog_load.lines_known IS 'lines of the mail server that an earlier load had already read (the same line of the same server: spamhints.maillog_line): they add nothing again; 0 for loads made before 0.2';
ALTER TABLE spamhints.mail_event
    ADD COLUMN line_key bytea CHECK (octet_length(line_key) = 16),
    ADD COLUMN line_count integer CHECK (line_count > 0);
COMMENT ON COLUMN spamhints.mail_event.line_key IS 'the identity of the line that gave the event its client (as spamhints.maillog_line.line_key): a later load of a log that holds that line again adds the event only if it saw more of its lines (line_count), and then in place of this one; NULL for events loaded before 0.2';
COMMENT ON COLUMN spamhints.mail_event.line_count IS 'how many lines of the log the event was made from (a message''s lines: arrival, filter verdicts, deliveries...); NULL for events loaded before 0.2';

-- Every line of a mail server that a load read, by its identity, so that a
-- log that grew, a log loaded again after rotation or an overlapping excerpt
-- adds only what was not loaded before. A line is identified by its mail
-- server (the syslog host, or --host), the year of its time (which syslog
-- lines do not write), its bytes without the line end, and which occurrence
-- of those same bytes it is in the log read (1 for the first): its position
-- among identical lines, not its line number or byte offset, which change
-- when a log is rotated, grows or is an excerpt. Two identical lines of one
-- log (same second, same text) are two lines; an excerpt that starts
-- between them takes its first for the log's first.
CREATE TABLE spamhints.maillog_line (
    line_key         bytea PRIMARY KEY CHECK (octet_length(line_key) = 16),
    maillog_load_id  integer NOT NULL
);

COMMENT ON TABLE spamhints.maillog_line IS
'The lines of mail servers loaded (spamhints-load --maillog), one row per line, added by the first load that read it: line_key is the first 16 bytes of SHA-256 of the mail server''s name (the syslog host, or --host), the year of the line''s time, the line''s bytes without the line end, and which occurrence of those bytes it is in the log read (identical lines are kept apart by it; its line number and byte offset are not part of it, as they change between a log, its rotated copy and an excerpt). A load adds the lines no load added before and counts the others in maillog_load.lines_known; it adds an event (spamhints.mail_event) unless an event of the same line (line_key) has as many lines (line_count), and replaces one with fewer (a message straddling the end of a log loaded before). Lines of other programs in a syslog file are not kept. Deleting a load deletes its lines.';
COMMENT ON COLUMN spamhints.maillog_line.line_key IS 'the line''s identity (16 bytes of SHA-256)';
COMMENT ON COLUMN spamhints.maillog_line.maillog_load_id IS 'the load that added the line';

CREATE INDEX maillog_line_load_brin ON spamhints.maillog_line USING brin (maillog_load_id);
CREATE INDEX mail_event_line_key ON spamhints.mail_event (line_key) WHERE line_key IS NOT NULL;

ALTER TABLE spamhints.maillog_line
    ADD CONSTRAINT maillog_line_load_open CHECK (spamhints.maillog_load_exists(maillog_load_id)) NOT VALID;
CREATE TRIGGER maillog_line_fence BEFORE UPDATE OR DELETE OR TRUNCATE ON spamhints.maillog_line
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_guard();

-- The lines go with their loads, by triggers rather than a foreign key, so
-- that TRUNCATE spamhints.mail_event, spamhints.maillog_load still works
-- without naming the lines (the CHECK above stands for the key on INSERT).
CREATE FUNCTION spamhints.maillog_load_gone()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM spamhints.maillog_line;
    ELSE
        DELETE FROM spamhints.maillog_line l USING old_loads o WHERE l.maillog_load_id = o.maillog_load_id;
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION spamhints.maillog_load_gone() IS
'trigger AFTER DELETE and AFTER TRUNCATE on spamhints.maillog_load: deletes the lines (spamhints.maillog_line) of the loads deleted, or all of them, so that the same logs can be loaded again';

CREATE TRIGGER maillog_load_delete_lines AFTER DELETE ON spamhints.maillog_load
    REFERENCING OLD TABLE AS old_loads
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.maillog_load_gone();
CREATE TRIGGER maillog_load_truncated_lines AFTER TRUNCATE ON spamhints.maillog_load
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.maillog_load_gone();

-- The fence on the events lets one DELETE through for a role that does not
-- own them (spamhints_loader): of an event whose line an event of its own
-- unfinished load has with more lines, the message seen further. The loader
-- inserts the events of a log that no event of as many lines has, then
-- deletes those they replace, holding a transaction-level advisory lock
-- (hashtext('spamhints.maillog_line')) meanwhile, so that two loads of
-- overlapping logs add the same event once.
CREATE FUNCTION spamhints.mail_event_replaced()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    id integer;
BEGIN
    FOR id IN SELECT DISTINCT n.maillog_load_id FROM spamhints.mail_event n
               WHERE n.line_key = OLD.line_key AND n.line_count > OLD.line_count
                 AND n.maillog_load_id <> OLD.maillog_load_id LOOP
        BEGIN
            IF spamhints.maillog_load_exists(id) THEN
                RETURN OLD;
            END IF;
        EXCEPTION WHEN insufficient_privilege THEN
            NULL;   -- not the caller's own unfinished load
        END;
    END LOOP;
    RAISE EXCEPTION 'permission denied: % may delete a mail event only to replace it with an event of the same line and more lines from its own unfinished load', current_user
        USING ERRCODE = '42501';
END
$$;

COMMENT ON FUNCTION spamhints.mail_event_replaced() IS
'trigger BEFORE DELETE on spamhints.mail_event for a role that does not own it (spamhints_loader): error 42501 unless an event of the same line (line_key) with more lines (line_count) is in the caller''s own unfinished load (spamhints.maillog_load_exists), which replaces it';

CREATE TRIGGER mail_event_replace_fence BEFORE DELETE ON spamhints.mail_event
    FOR EACH ROW WHEN (NOT spamhints.owns_table('spamhints.mail_event'))
    EXECUTE FUNCTION spamhints.mail_event_replaced();

SELECT pg_catalog.pg_extension_config_dump('spamhints.maillog_line', '');

-- the lines it read (spamhints.maillog_line: INSERT ... ON CONFLICT DO
-- NOTHING), and the events they replace: it reads their line and line count,
-- and deletes the events its own load saw more lines of (the fence,
-- mail_event_replaced(), refuses any other DELETE)
GRANT INSERT, SELECT (line_key) ON spamhints.maillog_line TO spamhints_loader;
GRANT SELECT (line_key, line_count) ON spamhints.mail_event TO spamhints_loader;
GRANT DELETE ON spamhints.mail_event TO spamhints_loader;
GRANT SELECT ON spamhints.maillog_line TO spamhints_analyst;
GRANT SELECT (line_key, line_count) ON spamhints.mail_event TO spamhints_analyst;

------------------------------------------------------------------------------
-- Exactly once for sFlow (dedup): every datagram loaded once, whatever file
-- carries it: load.known_datagrams, spamhints.load_seqs, lock_datagrams(),
-- known_datagrams() (sql/parts/16_exactly_once.sql). Before the final
-- column grants of spamhints.load, which then cover known_datagrams.
------------------------------------------------------------------------------
ALTER TABLE spamhints.load
    ADD COLUMN known_datagrams bigint NOT NULL DEFAULT 0 CHECK (known_datagrams >= 0);

COMMENT ON COLUMN spamhints.load.known_datagrams IS
'of the datagrams decoded whole, those already loaded (the same agent, sub-agent, sequence number and agent boot: by an earlier load, or earlier in this file): skipped, nothing of them added again (spamhints.load_seqs); 0 for loads made before 0.2';

-- The span of the uptimes of a load_seqs row (its edges): what the row is
-- asked for by.
CREATE FUNCTION spamhints.edges_span(edges bigint[])
RETURNS int8range
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN cardinality(edges) > 0
                THEN (SELECT int8range(min(e), max(e), '[]') FROM unnest(edges) AS e) END;
END;

COMMENT ON FUNCTION spamhints.edges_span(bigint[]) IS
'The lowest to the highest of the uptimes in edges (ms), inclusive; NULL for none: spamhints.load_seqs.uptimes, made from its edges.';

CREATE TABLE spamhints.load_seqs (
    load_id    integer NOT NULL,
    agent      inet NOT NULL,
    sub_agent  bigint NOT NULL,
    boot       tstzrange NOT NULL CHECK (NOT isempty(boot)),
    seqs       int8multirange NOT NULL CHECK (NOT isempty(seqs)),
    edges      bigint[] NOT NULL DEFAULT '{}' CHECK (cardinality(edges) % 2 = 0),
    uptimes    int8range GENERATED ALWAYS AS (spamhints.edges_span(edges)) STORED,
    digests    bigint[] NOT NULL DEFAULT '{}' CHECK (cardinality(digests) % 2 = 0)
);

COMMENT ON TABLE spamhints.load_seqs IS
'The sFlow datagrams each load took, per agent, sub-agent and run of the agent (a boot): the sequence numbers as ranges (consecutive numbers collapse) and the uptimes of each range''s first and last datagram (edges). A datagram is known when an earlier row of its agent and sub-agent has its sequence number in a range whose uptimes fit its own (within 10 s), and that row''s boot is its run''s: within 10 seconds of its own boot estimate (capture time less uptime), or tied to its run because a datagram of the run has exactly the sequence number, uptime and bytes (digests) of one of the row''s range ends (the same datagrams received at other times: a replay of a capture, then the capture; not two datagrams that only share their numbers). spamhints-load skips it and counts it in spamhints.load.known_datagrams. The loader finds an agent''s runs from the datagrams'' own numbers (a run goes on while its sequence numbers and uptimes count on, modulo 2^32, so a sequence number or uptime that wraps goes on the same run; both starting again is a restart), so a replay that squeezes hours of capture into seconds is one run; a load keeps at most 64 runs of a sub-agent, datagrams past them are skipped and counted as packet_agent_runs. Rows go with their load (deleting or truncating a load, or truncating spamhints.smtp_sample, deletes them, so that the same datagrams can be loaded again); spamhints.purge() keeps them, as it keeps the loads.';
COMMENT ON COLUMN spamhints.load_seqs.load_id IS 'the load that took these datagrams';
COMMENT ON COLUMN spamhints.load_seqs.agent IS 'the sFlow agent address';
COMMENT ON COLUMN spamhints.load_seqs.sub_agent IS 'the sFlow sub-agent id (0 for v2 and v4)';
COMMENT ON COLUMN spamhints.load_seqs.boot IS 'the agent''s boot as the datagrams of this run place it (capture time less uptime, ms): the lowest and highest estimate within 10 s of its first datagram''s';
COMMENT ON COLUMN spamhints.load_seqs.seqs IS 'the datagram sequence numbers taken';
COMMENT ON COLUMN spamhints.load_seqs.edges IS 'the uptimes (ms) of the first and the last datagram of each range of seqs, in order: two per range; empty when not known (then any uptime fits)';
COMMENT ON COLUMN spamhints.load_seqs.digests IS 'the digests (XXH3 of the datagram''s bytes, as a signed bigint) of the same datagrams as edges, two per range: a datagram ties a replay''s boot to its run only when its digest is that of the range end too; empty when not known';
COMMENT ON COLUMN spamhints.load_seqs.uptimes IS 'the lowest to the highest of edges (ms; NULL when edges is empty), made from them (spamhints.edges_span): the hours of uptime the row is asked for by (spamhints.known_datagrams)';

-- the question of each file: an agent's rows of some hours of uptime
CREATE INDEX load_seqs_agent ON spamhints.load_seqs USING gist (agent inet_ops, uptimes);
CREATE INDEX load_seqs_load ON spamhints.load_seqs (load_id);

-- As for the samples (10_samples.sql): rows only for the caller's own
-- unfinished load, and none changed or deleted by the loader role.
ALTER TABLE spamhints.load_seqs
    ADD CONSTRAINT load_seqs_load_exists CHECK (spamhints.load_exists(load_id)) NOT VALID;
CREATE TRIGGER load_seqs_fence BEFORE UPDATE OR DELETE OR TRUNCATE ON spamhints.load_seqs
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_guard();

-- The rows go with their loads, by triggers rather than a foreign key, so
-- that TRUNCATE spamhints.load CASCADE and TRUNCATE spamhints.smtp_sample
-- work as before without naming them.
CREATE FUNCTION spamhints.load_seqs_gone()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM spamhints.load_seqs;
    ELSE
        DELETE FROM spamhints.load_seqs s USING old_loads o WHERE s.load_id = o.load_id;
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION spamhints.load_seqs_gone() IS
'trigger AFTER DELETE and AFTER TRUNCATE on spamhints.load: deletes the datagram sequence numbers (spamhints.load_seqs) of the loads deleted, or all of them, so that the same datagrams can be loaded again';

CREATE TRIGGER load_delete_seqs AFTER DELETE ON spamhints.load
    REFERENCING OLD TABLE AS old_loads
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_seqs_gone();
CREATE TRIGGER load_truncated_seqs AFTER TRUNCATE ON spamhints.load
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_seqs_gone();

-- One advisory lock per load transaction, the same for every capture load:
-- two loads of overlapping datagrams cannot both take them, and no load
-- waits for another while holding part of what it needs (no deadlock; one
-- lock per agent exhausted the lock table with 65,536 agents in a file).
CREATE FUNCTION spamhints.lock_datagrams()
RETURNS boolean
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('spamhints.load_seqs'));
    SELECT EXISTS (SELECT FROM spamhints.load_seqs);
$$;

COMMENT ON FUNCTION spamhints.lock_datagrams() IS
'Takes the transaction-level advisory lock of datagram identities (hashtext(''spamhints.load_seqs''): held until the end of the transaction, one at a time) and says whether any load took datagrams yet (false: none can be known). spamhints-load calls it before its first spamhints.known_datagrams() of a load, and keeps the lock until its load_seqs rows are written and committed.';

CREATE FUNCTION spamhints.known_datagrams(agent inet, uptimes int8range)
RETURNS TABLE (sub_agent bigint, boot_low_ms bigint, boot_high_ms bigint, seq_low bigint, seq_high bigint,
               uptime_low_ms bigint, uptime_high_ms bigint, row_uptime_low_ms bigint, row_uptime_high_ms bigint,
               digest_low bigint, digest_high bigint)
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('spamhints.load_seqs'));
    SELECT s.sub_agent,
           (extract(epoch FROM lower(s.boot)) * 1000)::bigint,
           (extract(epoch FROM upper(s.boot)) * 1000)::bigint,
           lower(r.r), upper(r.r) - 1,
           CASE WHEN cardinality(s.edges) = 2 * n.ranges THEN s.edges[2 * r.i - 1] END,
           CASE WHEN cardinality(s.edges) = 2 * n.ranges THEN s.edges[2 * r.i] END,
           lower(s.uptimes), upper(s.uptimes) - 1,
           CASE WHEN cardinality(s.digests) = 2 * n.ranges THEN s.digests[2 * r.i - 1] END,
           CASE WHEN cardinality(s.digests) = 2 * n.ranges THEN s.digests[2 * r.i] END
      FROM spamhints.load_seqs s
     CROSS JOIN LATERAL (SELECT count(*) AS ranges FROM unnest(s.seqs)) n
     CROSS JOIN LATERAL unnest(s.seqs) WITH ORDINALITY AS r(r, i)
     WHERE s.agent = known_datagrams.agent
       AND (known_datagrams.uptimes IS NULL OR s.uptimes IS NULL OR s.uptimes && known_datagrams.uptimes)
     ORDER BY 1, 2, 3, 4;
$$;

COMMENT ON FUNCTION spamhints.known_datagrams(inet, int8range) IS
'The datagrams of an sFlow agent address, every sub-agent, that loads took (spamhints.load_seqs) in the uptimes given (ms; NULL: all): the rows whose uptimes overlap them (and those that recorded none). One row per sub-agent and range of sequence numbers, seq_low to seq_high inclusive, with the boot estimates of its run in ms since 1970 (boot_low_ms, boot_high_ms), the uptimes of the range''s first and last datagram (uptime_low_ms, uptime_high_ms; NULL when not known) the lowest and highest uptime of its load_seqs row (row_uptime_low_ms, row_uptime_high_ms), and the digests of the range''s first and last datagram (digest_low, digest_high; NULL when not known). spamhints-load asks by the hour of uptime its datagrams are in, so a file''s question costs the same after months of loads; by address rather than by sub-agent: one question for all the sub-agents of an agent (a sender that makes up sub-agents costs one). Takes the lock of spamhints.lock_datagrams() first.';

SELECT pg_catalog.pg_extension_config_dump('spamhints.load_seqs', '');

GRANT INSERT, SELECT ON spamhints.load_seqs TO spamhints_loader;
GRANT SELECT ON spamhints.load_seqs TO spamhints_analyst;

-- The collector views (17_collector_views.sql): each datagram counted once,
-- from the datagrams the loads took (spamhints.load_seqs)

-- One row per collector: is it loading, and what did it lose?
CREATE VIEW spamhints.collector_status AS
SELECT l.collector,
       count(*) AS files,
       count(*) FILTER (WHERE l.recovered) AS recovered_files,
       min(l.spool_opened_at) AS first_opened,
       max(l.spool_closed_at) AS last_closed,
       max(l.finished_at) AS last_loaded,
       pg_catalog.clock_timestamp() - max(l.finished_at) AS since_last_load,
       sum(l.received) AS received,
       sum(l.refused) AS refused,
       sum(l.kernel_dropped) AS kernel_dropped,
       sum(l.datagrams) AS datagrams,
       sum(l.malformed) AS malformed,
       sum(l.smtp_rows) AS smtp_rows,
       sum(l.lost_datagrams) AS lost_in_files,
       sum(l.known_datagrams) AS known_datagrams
  FROM spamhints.load l
 WHERE l.collector IS NOT NULL AND l.finished_at IS NOT NULL
 GROUP BY l.collector;

COMMENT ON VIEW spamhints.collector_status IS
'Live collection, one row per collector (host and listen addresses): its spool files loaded, when the last one was, and the datagrams it received, refused (--agents), lost to the kernel (kernel_dropped) and found lost in transit within files; spamhints.collector_agent has the loss per agent across files and collectors, each datagram counted once. Alert on since_last_load above two rotations, or kernel_dropped growing.';
COMMENT ON COLUMN spamhints.collector_status.collector IS 'host name and --listen addresses of the collector';
COMMENT ON COLUMN spamhints.collector_status.files IS 'spool files loaded';
COMMENT ON COLUMN spamhints.collector_status.recovered_files IS 'of those, closed after a crash (their counts are not known)';
COMMENT ON COLUMN spamhints.collector_status.first_opened IS 'when its first spool file was opened';
COMMENT ON COLUMN spamhints.collector_status.last_closed IS 'when its last spool file was closed';
COMMENT ON COLUMN spamhints.collector_status.last_loaded IS 'when the load of its last spool file committed';
COMMENT ON COLUMN spamhints.collector_status.since_last_load IS 'time since then: more than two rotations means the collector stopped, no sFlow arrives or loads fail';
COMMENT ON COLUMN spamhints.collector_status.received IS 'datagrams read from its sockets (files not recovered)';
COMMENT ON COLUMN spamhints.collector_status.refused IS 'datagrams from senders not in --agents';
COMMENT ON COLUMN spamhints.collector_status.kernel_dropped IS 'datagrams the kernel dropped at its sockets (receive buffer full)';
COMMENT ON COLUMN spamhints.collector_status.datagrams IS 'sFlow datagrams decoded whole (received + refused = frames = datagrams + malformed + frame reasons); known_datagrams of them were loaded already and not again';
COMMENT ON COLUMN spamhints.collector_status.malformed IS 'datagrams skipped as malformed';
COMMENT ON COLUMN spamhints.collector_status.smtp_rows IS 'SMTP sample rows loaded';
COMMENT ON COLUMN spamhints.collector_status.lost_in_files IS 'datagrams lost in transit, from sequence gaps within each file (spamhints.collector_agent adds the gaps between files)';
COMMENT ON COLUMN spamhints.collector_status.known_datagrams IS 'of its datagrams, those loaded already (by another collector receiving the same stream, a spool file loaded again, a capture of the same traffic): not loaded again; datagrams - known_datagrams is what this collector added';

-- One row per agent and sub-agent: the union of the sequence numbers the loads
-- took, per run of the agent; gaps in it are loss, runs after the first restarts.
CREATE VIEW spamhints.collector_agent AS
WITH seen AS (
    -- what the collectors' spool files say of each agent
    SELECT a.agent, a.sub_agent, a.version, a.malformed, a.load_id, l.collector, l.first_ts, l.last_ts
      FROM spamhints.load_agent a
      JOIN spamhints.load l USING (load_id)
     WHERE l.collector IS NOT NULL
), taken AS (
    -- the datagrams any load took of those agents: each datagram once
    SELECT s.agent, s.sub_agent, s.boot, s.seqs, l.first_ts AS arrived,
           pg_catalog.tstzrange(l.first_ts, l.last_ts, '[]') AS arrival
      FROM spamhints.load_seqs s
      JOIN spamhints.load l USING (load_id)
     WHERE (s.agent, s.sub_agent) IN (SELECT agent, sub_agent FROM seen)
), boot_edges AS (
    -- boots within 10 s of one before them are one boot, as spamhints.known_datagrams() tells them
    SELECT t.*,
           coalesce(pg_catalog.lower(t.boot) > pg_catalog.max(pg_catalog.upper(t.boot)) OVER (
                        PARTITION BY t.agent, t.sub_agent ORDER BY pg_catalog.lower(t.boot), pg_catalog.upper(t.boot)
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) + interval '10 s', true) AS new_boot
      FROM taken t
), boot_numbered AS (
    SELECT b.*,
           pg_catalog.count(*) FILTER (WHERE b.new_boot) OVER (
               PARTITION BY b.agent, b.sub_agent ORDER BY pg_catalog.lower(b.boot), pg_catalog.upper(b.boot)
               ROWS UNBOUNDED PRECEDING) AS boot_no
      FROM boot_edges b
), boots AS (
    SELECT agent, sub_agent, boot_no,
           pg_catalog.min(pg_catalog.lower(boot)) AS booted,
           pg_catalog.min(arrived) AS arrived,
           pg_catalog.range_agg(seqs) AS seqs,
           pg_catalog.range_agg(arrival) AS arrival
      FROM boot_numbered
     GROUP BY agent, sub_agent, boot_no
), run_edges AS (
    -- a later boot is a restart only when datagrams of the boot before it arrived before it;
    -- when every one of them arrived after it, it is the same run told apart by a drifting
    -- uptime estimate (a fast replay of a long capture makes one boot of nearly every datagram)
    SELECT b.*,
           coalesce(b.booted > pg_catalog.lag(b.arrived) OVER (
                        PARTITION BY b.agent, b.sub_agent ORDER BY b.boot_no), true) AS new_run
      FROM boots b
), run_numbered AS (
    SELECT r.*,
           pg_catalog.count(*) FILTER (WHERE r.new_run) OVER (
               PARTITION BY r.agent, r.sub_agent ORDER BY r.boot_no ROWS UNBOUNDED PRECEDING) AS run_no
      FROM run_edges r
), runs AS (
    -- the union of the sequence numbers every load took in the run, and when they arrived
    SELECT agent, sub_agent, run_no, pg_catalog.range_agg(seqs) AS seqs,
           pg_catalog.range_agg(arrival) AS arrival
      FROM run_numbered
     GROUP BY agent, sub_agent, run_no
), collected AS (
    -- the runs whose datagrams arrived while a collector's spool file of the agent was open
    SELECT r.*
      FROM runs r
     WHERE EXISTS (SELECT FROM seen w
                    WHERE w.agent = r.agent AND w.sub_agent = r.sub_agent
                      AND r.arrival && pg_catalog.tstzrange(w.first_ts, w.last_ts, '[]'))
), run_counts AS (
    SELECT r.agent, r.sub_agent, r.run_no,
           (SELECT pg_catalog.sum(pg_catalog.upper(x) - pg_catalog.lower(x))
              FROM pg_catalog.unnest(r.seqs) x) AS datagrams,
           pg_catalog.upper(r.seqs) - pg_catalog.lower(r.seqs) AS span,
           pg_catalog.upper(r.seqs) - 1 AS last_seq
      FROM collected r
), seq_counts AS (
    SELECT agent, sub_agent,
           pg_catalog.sum(datagrams) AS datagrams,
           pg_catalog.sum(span - datagrams) AS missing,
           (pg_catalog.count(*) - 1)::numeric AS resets,
           (pg_catalog.array_agg(last_seq ORDER BY run_no DESC))[1] AS last_seq
      FROM run_counts
     GROUP BY agent, sub_agent
), per_collector AS (
    SELECT agent, sub_agent, collector,
           pg_catalog.count(DISTINCT load_id) AS files,
           pg_catalog.sum(malformed) AS malformed
      FROM seen
     GROUP BY agent, sub_agent, collector
), per_agent AS (
    SELECT agent, sub_agent,
           (pg_catalog.array_agg(version ORDER BY first_ts DESC, load_id DESC))[1] AS version,
           pg_catalog.min(first_ts) AS first_seen,
           pg_catalog.max(last_ts) AS last_seen
      FROM seen
     GROUP BY agent, sub_agent
), per_agent_collectors AS (
    SELECT agent, sub_agent, pg_catalog.max(files) AS files, pg_catalog.max(malformed) AS malformed
      FROM per_collector
     GROUP BY agent, sub_agent
)
SELECT a.agent, a.sub_agent, a.version, c.files,
       coalesce(s.datagrams, 0) AS datagrams,
       c.malformed,
       coalesce(s.missing, 0) AS lost,
       coalesce(s.resets, 0) AS resets,
       s.last_seq,
       a.first_seen, a.last_seen
  FROM per_agent a
  JOIN per_agent_collectors c USING (agent, sub_agent)
  LEFT JOIN seq_counts s USING (agent, sub_agent);

COMMENT ON VIEW spamhints.collector_agent IS
'Live collection, one row per sFlow agent and sub-agent that a collector''s spool file holds, each datagram counted once however many collectors received it or loads read it (spamhints.load_seqs: the datagrams loads took). The sequence numbers every load took of the agent (collectors'' spool files and captures loaded as files alike) are put together per agent run: the boots of spamhints.load_seqs, a later boot being a restart only when datagrams of the boot before it arrived before it (otherwise it is a drifting uptime estimate of the same run, as a fast replay makes). Counted are the runs whose datagrams arrived while a collector''s spool file holding the agent was open (a capture of the same traffic loaded first fills them in; an older capture of the agent does not count). datagrams = the datagrams taken in those runs; lost = the numbers missing between the first and last taken of each run (a malformed datagram is not taken: if no other datagram has its number, the number counts as lost here, while spamhints.load_agent.lost counts it received); resets = runs - 1. malformed and files are not told apart across collectors: the most any one collector counted. Gaps before a run''s first or after its last datagram taken are not known. Alert on lost or resets growing, or last_seen getting old.';
COMMENT ON COLUMN spamhints.collector_agent.agent IS 'the sFlow agent address';
COMMENT ON COLUMN spamhints.collector_agent.sub_agent IS 'the sFlow sub-agent id (0 for v2 and v4)';
COMMENT ON COLUMN spamhints.collector_agent.version IS 'sFlow version of its latest datagrams';
COMMENT ON COLUMN spamhints.collector_agent.files IS 'spool files that hold datagrams of it: the most of any one collector';
COMMENT ON COLUMN spamhints.collector_agent.datagrams IS 'its datagrams decoded whole and loaded, each once (by any collector or load), in the runs a collector received';
COMMENT ON COLUMN spamhints.collector_agent.malformed IS 'its datagrams skipped as malformed (received, not lost): the most any one collector counted';
COMMENT ON COLUMN spamhints.collector_agent.lost IS 'its datagrams lost in transit: sequence numbers no load took between the first and last taken of each run (reordering, files, collector restarts and duplicates do not count)';
COMMENT ON COLUMN spamhints.collector_agent.resets IS 'its restarts: runs (agent boots) after the first';
COMMENT ON COLUMN spamhints.collector_agent.last_seq IS 'the highest sequence number taken in its latest run';
COMMENT ON COLUMN spamhints.collector_agent.first_seen IS 'capture time of the first spool file that holds it';
COMMENT ON COLUMN spamhints.collector_agent.last_seen IS 'capture time of the end of the latest spool file that holds it';

GRANT SELECT ON spamhints.collector_status, spamhints.collector_agent TO spamhints_analyst;

-- the loader's column grants on the load tables, every column but the identity
DO $$
DECLARE
    rel text;
    cols text;
BEGIN
    -- INSERT and UPDATE of the load tables, on every column but the identity,
    -- whatever columns they have by now
    FOREACH rel IN ARRAY ARRAY['spamhints.load', 'spamhints.maillog_load'] LOOP
        SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
          INTO cols
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = rel::pg_catalog.regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attidentity = '';
        EXECUTE pg_catalog.format('GRANT INSERT (%1$s), UPDATE (%1$s) ON %2$s TO spamhints_loader', cols, rel);
    END LOOP;
END
$$;

-- src_role()/dst_role() (20_smtp_role.sql, in C): a port outside 0..65535 is
-- an error (22023)
COMMENT ON FUNCTION spamhints.src_role(integer, integer) IS
'The role a sample gives its source address with SMTP port 25: client when dst_port is 25, server when src_port is 25, both when both are, NULL when neither is. A port outside 0..65535 is an error (22023).';
COMMENT ON FUNCTION spamhints.src_role(integer, integer, integer[]) IS
'The role a sample gives its source address for the SMTP port set ports (e.g. ''{25,465,587}''; NULL elements ignored): client when dst_port is in it, server when src_port is, both when both are, NULL when neither is. A port outside 0..65535 is an error (22023).';
COMMENT ON FUNCTION spamhints.dst_role(integer, integer) IS
'The role a sample gives its destination address with SMTP port 25: server when dst_port is 25, client when src_port is 25, both when both are, NULL when neither is. A port outside 0..65535 is an error (22023).';
COMMENT ON FUNCTION spamhints.dst_role(integer, integer, integer[]) IS
'The role a sample gives its destination address for the SMTP port set ports: server when dst_port is in it, client when src_port is, both when both are, NULL when neither is. A port outside 0..65535 is an error (22023).';

-- ===========================================================================
-- Rollups kept at load (sql/parts/29_rollups.sql, 31_periods.sql): the table
-- spamhints.address_day per UTC day and address, kept by statement
-- triggers on spamhints.smtp_sample and by purge(); ip_census, client_as_top
-- and client_cc_top read it; their functions of a period; the rollups of the
-- rows already loaded are made at the end of this block.
-- ===========================================================================
-- spamhints.address_day holds, per UTC day and address (and the AS and
-- country the address had in its samples), what the samples of that day say
-- about the address, over every load (a collector loads a file a minute: a
-- row per load would make the rollups bigger than the samples): its role, samples, estimate, hour-of-day histogram,
-- first and last seen. The census, AS and country views read it instead of
-- the samples; the functions taking a period read it for the whole days of
-- the period and the samples for the partial days at its ends, so that
-- their answers are those of the samples.
--
-- Kept by statement triggers on spamhints.smtp_sample, SECURITY DEFINER:
-- the rows a statement inserts are rolled up at its end (from its
-- transition table, so only rows that passed the load fence become
-- rollups), merged with the day's; a DELETE or UPDATE of samples (DELETE of
-- a load, purge() at the boundary day, reenrich()) rolls up again the days
-- it touched; TRUNCATE empties it. purge() deletes the rollups of the days
-- whose partitions it drops. Nobody but the owner writes the table: the
-- loader (spamhints_loader) has no privilege on it.

CREATE TABLE spamhints.address_day (
    day          date NOT NULL,
    ip           inet NOT NULL,
    asn          bigint,
    gw_as        bigint,
    cc           text,
    role         spamhints.smtp_role NOT NULL,
    samples      bigint NOT NULL CHECK (samples > 0),
    est_packets  bigint NOT NULL,
    as_source    bigint NOT NULL,
    first_seen   timestamptz NOT NULL,
    last_seen    timestamptz NOT NULL,
    hourly       spamhints.hist24 NOT NULL,
    role_hours   bigint NOT NULL,
    CONSTRAINT address_day_key UNIQUE NULLS NOT DISTINCT (day, ip, asn, gw_as, cc)
);

-- No index by address: no question reads the rollups by address (address() reads the
-- samples' B-trees), and one cost a fifth of the rollups' upkeep at load (bench/months.sh).

COMMENT ON TABLE spamhints.address_day IS
'The rollups of spamhints.smtp_sample: one row per UTC day and address (with the AS and country of its samples), over all loads, as spamhints.endpoint sees each sample from each of its two addresses. Kept by triggers on spamhints.smtp_sample in the transaction that inserts, deletes or updates samples (and by TRUNCATE and purge()); ip_census, client_as_top, client_cc_top and the functions taking a period read it. Written by nobody else: the loader has no privilege on it.';
COMMENT ON COLUMN spamhints.address_day.day IS 'the UTC day of the samples';
COMMENT ON COLUMN spamhints.address_day.ip IS 'the address (spamhints.endpoint.ip)';
COMMENT ON COLUMN spamhints.address_day.asn IS 'its AS number from the ASN database (src_asn or dst_asn); NULL when none';
COMMENT ON COLUMN spamhints.address_day.gw_as IS 'the AS of the sFlow gateway record for it (gw_src_as or gw_dst_as)';
COMMENT ON COLUMN spamhints.address_day.cc IS 'its country from the country database (src_cc or dst_cc); NULL when unknown';
COMMENT ON COLUMN spamhints.address_day.role IS 'the OR of the SMTP roles its samples give it (each with the ports of its load)';
COMMENT ON COLUMN spamhints.address_day.samples IS 'its rows in spamhints.endpoint: a sample from the address to itself counts twice';
COMMENT ON COLUMN spamhints.address_day.est_packets IS 'their sampling rates summed';
COMMENT ON COLUMN spamhints.address_day.as_source IS 'of them, the samples with the address as source';
COMMENT ON COLUMN spamhints.address_day.first_seen IS 'the first of them';
COMMENT ON COLUMN spamhints.address_day.last_seen IS 'the last of them';
COMMENT ON COLUMN spamhints.address_day.hourly IS 'their hist24 by UTC hour of day';
COMMENT ON COLUMN spamhints.address_day.role_hours IS 'its role by UTC hour of the day (spamhints.role_hours(role, ts)): bit h set when a sample of hour h made it a client, bit 24 + h a server; hours_role(role_hours, day_hours(day, from, to)) is its role in the whole hours of [from, to)';

SELECT pg_catalog.pg_extension_config_dump('spamhints.address_day', '');

-- An address's roles by UTC hour of day (extension/role_hours.c), so that a
-- day's rollup answers for the whole hours of a period that cut through it.
CREATE FUNCTION spamhints.role_hours_add(bigint, spamhints.smtp_role, timestamptz) RETURNS bigint
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.role_hours_add(bigint, spamhints.smtp_role, timestamptz) IS
'transition function of role_hours(role, ts): the state with the bits of role at the UTC hour of ts set';

CREATE AGGREGATE spamhints.role_hours(spamhints.smtp_role, timestamptz) (
    SFUNC = spamhints.role_hours_add,
    STYPE = bigint,
    INITCOND = '0',
    COMBINEFUNC = pg_catalog.int8or,
    PARALLEL = SAFE
);

COMMENT ON AGGREGATE spamhints.role_hours(spamhints.smtp_role, timestamptz) IS
'An address''s SMTP roles by UTC hour of day, as a bigint: bit h (0-23) set when one of its samples at UTC hour h made it a client, bit 24 + h when one made it a server (both sets the two); 0 over no rows. Two such values merge with |. spamhints.address_day.role_hours; read it with hours_role().';

CREATE FUNCTION spamhints.hours_role(role_hours bigint, hours integer) RETURNS spamhints.smtp_role
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.hours_role(bigint, integer) IS
'The role a role_hours value gives in the UTC hours of the mask hours (bit h: hour h; 16777215 is the whole day): client, server or both; NULL when it had no role in them. E.g. hours_role(role_hours, day_hours(day, from, to)).';

CREATE FUNCTION spamhints.day_hours(day date, from_ts timestamptz, to_ts timestamptz) RETURNS integer
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.day_hours(date, timestamptz, timestamptz) IS
'The UTC hours of day that lie wholly in [from_ts, to_ts), as a mask for hours_role(): bit h set for the hour [day + h hours, day + h + 1 hours); either end may be infinite. A day outside the range of timestamps is an error (22008).';

-- The rollup rows of a day's samples: both sides of each, with the ports of
-- its load, grouped; hours by UTC.
CREATE FUNCTION spamhints.address_day_roll(day date)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, spamhints
SET TimeZone = 'UTC'
SET work_mem = '128MB'
AS $$
DECLARE
    lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
    n  bigint;
BEGIN
    DELETE FROM spamhints.address_day r WHERE r.day = $1;
    PERFORM spamhints.address_month_stale($1, $1);
    INSERT INTO spamhints.address_day
    SELECT $1, e.ip, e.asn, e.gw_as, e.cc, spamhints.role_or(e.role), count(*),
           sum(e.sampling_rate), count(*) FILTER (WHERE e.src), min(e.ts), max(e.ts), spamhints.hourly(e.ts),
           spamhints.role_hours(e.role, e.ts)
    FROM (SELECT s.src_ip AS ip, s.src_asn AS asn, s.gw_src_as AS gw_as, s.src_cc AS cc,
                 spamhints.src_role(s.src_port, s.dst_port, l.smtp_ports) AS role, true AS src, s.ts, s.sampling_rate
          FROM spamhints.smtp_sample s JOIN spamhints.load l ON l.load_id = s.load_id
          WHERE s.ts >= lo AND s.ts < lo + interval '24 hours'
          UNION ALL
          SELECT s.dst_ip, s.dst_asn, s.gw_dst_as, s.dst_cc,
                 spamhints.dst_role(s.src_port, s.dst_port, l.smtp_ports), false, s.ts, s.sampling_rate
          FROM spamhints.smtp_sample s JOIN spamhints.load l ON l.load_id = s.load_id
          WHERE s.ts >= lo AND s.ts < lo + interval '24 hours') AS e
    WHERE e.role IS NOT NULL
    GROUP BY e.ip, e.asn, e.gw_as, e.cc;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

COMMENT ON FUNCTION spamhints.address_day_roll(date) IS
'Makes the rollups (spamhints.address_day) of one UTC day again from its samples, every load''s; returns the rows made. The triggers on spamhints.smtp_sample call it for the days a DELETE or UPDATE touched; run it by hand only after changing a partition directly. SECURITY DEFINER, for the owner only.';

CREATE FUNCTION spamhints.address_day_rebuild()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM spamhints.address_day;
    DELETE FROM spamhints.address_month;
    DELETE FROM spamhints.rollup_folded;
    SELECT coalesce(sum(spamhints.address_day_roll(d.day)), 0) INTO n
    FROM (SELECT DISTINCT (s.ts AT TIME ZONE 'UTC')::date AS day FROM spamhints.smtp_sample s) AS d;
    RETURN n;
END
$$;

COMMENT ON FUNCTION spamhints.address_day_rebuild() IS
'Makes every rollup (spamhints.address_day) again from the samples; returns the rows made. Run it after restoring samples without their rollups (a data-only dump restored with --disable-triggers, a dump of 0.1); ALTER EXTENSION spamhints UPDATE from 0.1 runs it. For the owner (address_day_roll() is its own).';

CREATE FUNCTION spamhints.address_day_kept()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, spamhints
SET TimeZone = 'UTC'
SET work_mem = '128MB'
AS $$
DECLARE
    p record;
    first_load integer;
    last_load integer;
    first_day date;
    last_day date;
    ports integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- Each sample counts once from each side. Each COPY of the loader
        -- holds rows of one load (it starts a new COPY at each new UTC
        -- day). When the days have no rollups yet, the load's ports are
        -- read once and the groups inserted plainly (a concurrent statement making the same
        -- rollups then fails on address_day_key rather than merging
        -- wrongly; capture loads take their turns at lock_datagrams()
        -- anyway); otherwise they are merged with the day's rollups (ON
        -- CONFLICT). (A LATERAL (VALUES (src), (dst)) reading the transition
        -- table once measured twice as slow as the two scans.)
        SELECT min(n.load_id), max(n.load_id), min(n.ts AT TIME ZONE 'UTC')::date, max(n.ts AT TIME ZONE 'UTC')::date
        INTO first_load, last_load, first_day, last_day FROM new_rows n;
        IF first_load IS NULL THEN
            RETURN NULL;
        END IF;
        IF first_load = last_load
           AND NOT EXISTS (SELECT FROM spamhints.address_day r WHERE r.day >= first_day AND r.day <= last_day) THEN
            SELECT l.smtp_ports INTO ports FROM spamhints.load l WHERE l.load_id = first_load;
            IF NOT FOUND THEN
                RETURN NULL;
            END IF;
            INSERT INTO spamhints.address_day
            SELECT e.day, e.ip, e.asn, e.gw_as, e.cc, spamhints.role_or(e.role), count(*),
                   sum(e.sampling_rate), count(*) FILTER (WHERE e.src), min(e.ts), max(e.ts), spamhints.hourly(e.ts),
                   spamhints.role_hours(e.role, e.ts)
            FROM (SELECT (s.ts AT TIME ZONE 'UTC')::date AS day, s.src_ip AS ip, s.src_asn AS asn,
                         s.gw_src_as AS gw_as, s.src_cc AS cc,
                         spamhints.src_role(s.src_port, s.dst_port, ports) AS role, true AS src, s.ts, s.sampling_rate
                  FROM new_rows s
                  UNION ALL
                  SELECT (s.ts AT TIME ZONE 'UTC')::date, s.dst_ip, s.dst_asn, s.gw_dst_as, s.dst_cc,
                         spamhints.dst_role(s.src_port, s.dst_port, ports), false, s.ts, s.sampling_rate
                  FROM new_rows s) AS e
            WHERE e.role IS NOT NULL
            GROUP BY e.day, e.ip, e.asn, e.gw_as, e.cc;
            RETURN NULL;
        END IF;
        INSERT INTO spamhints.address_day AS r
        SELECT e.day, e.ip, e.asn, e.gw_as, e.cc, spamhints.role_or(e.role), count(*),
               sum(e.sampling_rate), count(*) FILTER (WHERE e.src), min(e.ts), max(e.ts), spamhints.hourly(e.ts),
               spamhints.role_hours(e.role, e.ts)
        FROM (SELECT (s.ts AT TIME ZONE 'UTC')::date AS day, s.src_ip AS ip, s.src_asn AS asn,
                     s.gw_src_as AS gw_as, s.src_cc AS cc,
                     spamhints.src_role(s.src_port, s.dst_port, l.smtp_ports) AS role, true AS src, s.ts, s.sampling_rate
              FROM new_rows s JOIN spamhints.load l ON l.load_id = s.load_id
              UNION ALL
              SELECT (s.ts AT TIME ZONE 'UTC')::date, s.dst_ip, s.dst_asn, s.gw_dst_as, s.dst_cc,
                     spamhints.dst_role(s.src_port, s.dst_port, l.smtp_ports), false, s.ts, s.sampling_rate
              FROM new_rows s JOIN spamhints.load l ON l.load_id = s.load_id) AS e
        WHERE e.role IS NOT NULL
        GROUP BY e.day, e.ip, e.asn, e.gw_as, e.cc
        ON CONFLICT ON CONSTRAINT address_day_key DO UPDATE
            SET role = r.role OPERATOR(spamhints.|) EXCLUDED.role,
                samples = r.samples + EXCLUDED.samples,
                est_packets = r.est_packets + EXCLUDED.est_packets,
                as_source = r.as_source + EXCLUDED.as_source,
                first_seen = least(r.first_seen, EXCLUDED.first_seen),
                last_seen = greatest(r.last_seen, EXCLUDED.last_seen),
                hourly = r.hourly OPERATOR(spamhints.+) EXCLUDED.hourly,
                role_hours = r.role_hours | EXCLUDED.role_hours;
        -- rows of folded days: an insert only adds roles, so their months merge them
        PERFORM spamhints.address_month_merge(ARRAY(SELECT f.day FROM spamhints.rollup_folded f
                                                    WHERE f.day >= first_day AND f.day <= last_day));
    ELSIF TG_OP = 'DELETE' THEN
        FOR p IN SELECT DISTINCT (o.ts AT TIME ZONE 'UTC')::date AS day FROM old_rows o LOOP
            PERFORM spamhints.address_day_roll(p.day);
        END LOOP;
    ELSIF TG_OP = 'UPDATE' THEN
        FOR p IN SELECT (o.ts AT TIME ZONE 'UTC')::date AS day FROM old_rows o
                 UNION SELECT (n.ts AT TIME ZONE 'UTC')::date FROM new_rows n LOOP
            PERFORM spamhints.address_day_roll(p.day);
        END LOOP;
    ELSIF TG_OP = 'TRUNCATE' THEN
        TRUNCATE spamhints.address_day, spamhints.address_month, spamhints.rollup_folded;
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION spamhints.address_day_kept() IS
'trigger AFTER INSERT, DELETE, UPDATE and TRUNCATE on spamhints.smtp_sample (for each statement): keeps spamhints.address_day: the rows inserted are rolled up and merged with their days'' rollups (from the transition table: only rows the load fence let in), the days of rows deleted or updated are rolled up again from the samples left, TRUNCATE empties it.';

CREATE TRIGGER address_day_insert AFTER INSERT ON spamhints.smtp_sample
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.address_day_kept();
CREATE TRIGGER address_day_delete AFTER DELETE ON spamhints.smtp_sample
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.address_day_kept();
CREATE TRIGGER address_day_update AFTER UPDATE ON spamhints.smtp_sample
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.address_day_kept();
CREATE TRIGGER address_day_truncate AFTER TRUNCATE ON spamhints.smtp_sample
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.address_day_kept();

-- The rollups folded by UTC month, for the questions over all time (the
-- census, the AS and country tops): an address seen on many days of a month
-- is one row of spamhints.address_month rather than one a day. Folding is a
-- job (rollup_fold(), hourly by cron_jobs()), not part of a load: a load into
-- days not folded adds to address_day only; one into folded days merges their
-- roles into their months too (address_month_merge(): roles only grow); a
-- DELETE or UPDATE of samples of a folded day (DELETE of a load, purge(),
-- reenrich()) unfolds its whole month again (address_month_stale()), so that
-- spamhints.address_rollup, the folded months and the days not folded, always
-- answers what address_day does.

CREATE TABLE spamhints.address_month (
    month        date NOT NULL,
    ip           inet NOT NULL,
    asn          bigint,
    gw_as        bigint,
    cc           text,
    role         spamhints.smtp_role NOT NULL,
    CONSTRAINT address_month_key UNIQUE NULLS NOT DISTINCT (month, ip, asn, gw_as, cc)
);

COMMENT ON TABLE spamhints.address_month IS
'The rollups of spamhints.address_day folded by UTC month: one row per month and address (with its AS and country), its roles over the folded days of the month (spamhints.rollup_folded). Made by spamhints.rollup_fold(), emptied for a month when any of its days changes; read through spamhints.address_rollup. Written by nobody else.';
COMMENT ON COLUMN spamhints.address_month.month IS 'the first day of the UTC month';
COMMENT ON COLUMN spamhints.address_month.ip IS 'the address (spamhints.address_day.ip)';
COMMENT ON COLUMN spamhints.address_month.asn IS 'its AS number from the ASN database; NULL when none';
COMMENT ON COLUMN spamhints.address_month.gw_as IS 'the AS of the sFlow gateway record for it';
COMMENT ON COLUMN spamhints.address_month.cc IS 'its country from the country database; NULL when unknown';
COMMENT ON COLUMN spamhints.address_month.role IS 'the OR of its roles on the folded days of the month';

SELECT pg_catalog.pg_extension_config_dump('spamhints.address_month', '');

CREATE TABLE spamhints.rollup_folded (
    day date PRIMARY KEY
);

COMMENT ON TABLE spamhints.rollup_folded IS
'The UTC days of spamhints.address_day that are in spamhints.address_month (folded by spamhints.rollup_fold()); a month''s days are all folded or none of them changed since.';
COMMENT ON COLUMN spamhints.rollup_folded.day IS 'a folded UTC day';

SELECT pg_catalog.pg_extension_config_dump('spamhints.rollup_folded', '');

-- The days of address_day not folded: a walk of its key (day first) from
-- day to day, a probe per day rather than a scan of its rows.
CREATE FUNCTION spamhints.unfolded_days() RETURNS date[]
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH RECURSIVE d(day) AS (
        (SELECT r.day FROM spamhints.address_day r ORDER BY r.day LIMIT 1)
        UNION ALL
        SELECT (SELECT r.day FROM spamhints.address_day r WHERE r.day > d.day ORDER BY r.day LIMIT 1)
        FROM d WHERE d.day IS NOT NULL
    )
    SELECT coalesce(array_agg(d.day ORDER BY d.day), '{}')
    FROM d
    WHERE d.day IS NOT NULL
      AND NOT EXISTS (SELECT FROM spamhints.rollup_folded f WHERE f.day = d.day);
END;

COMMENT ON FUNCTION spamhints.unfolded_days() IS
'The UTC days of spamhints.address_day not folded into spamhints.address_month, in order: what spamhints.address_rollup reads from address_day.';

CREATE FUNCTION spamhints.address_month_stale(from_day date, to_day date) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    months date[];
BEGIN
    SELECT array_agg(DISTINCT date_trunc('month', f.day)::date) INTO months
    FROM spamhints.rollup_folded f WHERE f.day >= from_day AND f.day <= to_day;
    IF months IS NULL THEN
        RETURN 0;
    END IF;
    DELETE FROM spamhints.address_month m WHERE m.month = ANY (months);
    DELETE FROM spamhints.rollup_folded f WHERE date_trunc('month', f.day)::date = ANY (months);
    RETURN cardinality(months);
END
$$;

COMMENT ON FUNCTION spamhints.address_month_stale(date, date) IS
'Unfolds the whole UTC months (spamhints.address_month, spamhints.rollup_folded) that have a folded day in [from_day, to_day]: called when the rollups of those days change, so that address_rollup reads them from address_day until the next rollup_fold(). Returns the months unfolded. For the owner.';

CREATE FUNCTION spamhints.address_month_merge(days date[]) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    n bigint;
BEGIN
    INSERT INTO spamhints.address_month AS m
    SELECT date_trunc('month', r.day)::date, r.ip, r.asn, r.gw_as, r.cc, spamhints.role_or(r.role)
    FROM spamhints.address_day r
    WHERE r.day = ANY (days)
    GROUP BY 1, r.ip, r.asn, r.gw_as, r.cc
    ON CONFLICT ON CONSTRAINT address_month_key DO UPDATE
        SET role = m.role OPERATOR(spamhints.|) EXCLUDED.role;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

COMMENT ON FUNCTION spamhints.address_month_merge(date[]) IS
'Merges the rollups of days into their months (spamhints.address_month), OR-ing the roles of rows already there; returns the month rows written. rollup_fold() folds with it into months that already have folded days, and the trigger on spamhints.smtp_sample calls it for the folded days samples were inserted into (an insert only adds roles, so those months stay folded). For the owner.';

CREATE FUNCTION spamhints.rollup_fold(before date DEFAULT (now() AT TIME ZONE 'UTC')::date) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    days date[];
BEGIN
    -- the lock first, then the days: a snapshot taken before the lock (any
    -- isolation but READ COMMITTED) could miss a load's rollups committed meanwhile
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'rollup_fold() runs only at READ COMMITTED, not %', current_setting('transaction_isolation')
            USING ERRCODE = 'feature_not_supported';
    END IF;
    LOCK TABLE spamhints.address_day IN SHARE MODE;
    SELECT array_agg(d ORDER BY d) INTO days
    FROM unnest(spamhints.unfolded_days()) AS d
    WHERE before IS NULL OR d < before;
    IF days IS NULL THEN
        RETURN 0;
    END IF;
    IF NOT EXISTS (SELECT FROM spamhints.rollup_folded f
                   WHERE date_trunc('month', f.day) IN (SELECT date_trunc('month', d) FROM unnest(days) AS d)) THEN
        INSERT INTO spamhints.address_month
        SELECT date_trunc('month', r.day)::date, r.ip, r.asn, r.gw_as, r.cc, spamhints.role_or(r.role)
        FROM spamhints.address_day r
        WHERE r.day = ANY (days)
        GROUP BY 1, r.ip, r.asn, r.gw_as, r.cc;
    ELSE
        PERFORM spamhints.address_month_merge(days);
    END IF;
    INSERT INTO spamhints.rollup_folded SELECT unnest(days);
    RETURN cardinality(days);
END
$$;

COMMENT ON FUNCTION spamhints.rollup_fold(date) IS
'Folds the rollups (spamhints.address_day) of the UTC days before before (default today, UTC: the day still loading stays out; NULL: every day) not yet folded into spamhints.address_month, by month; returns the days folded. ip_census, client_as_top and client_cc_top then read a row per month and address rather than one per day. Scheduled hourly by spamhints.cron_jobs(); at READ COMMITTED only (0A000 otherwise); holds a SHARE lock on address_day while it runs (loads wait). For the owner.';

CREATE VIEW spamhints.address_rollup AS
SELECT m.ip, m.asn, m.gw_as, m.cc, m.role
FROM spamhints.address_month m
UNION ALL
SELECT r.ip, r.asn, r.gw_as, r.cc, r.role
-- a join, not WHERE day = ANY ((SELECT ...)): an InitPlan's parameter would
-- keep the census out of a parallel plan; the days are read through the key
FROM spamhints.address_day r
JOIN unnest(spamhints.unfolded_days()) AS u(day) ON r.day = u.day;

COMMENT ON VIEW spamhints.address_rollup IS
'The rollups over all time, by address, AS and country, each with its roles: a row per month and address of the folded months (spamhints.address_month) and a row per day and address of the days not folded (spamhints.address_day); an address comes several times. What ip_census, client_as_top and client_cc_top count.';
COMMENT ON COLUMN spamhints.address_rollup.ip IS 'the address';
COMMENT ON COLUMN spamhints.address_rollup.asn IS 'its AS number from the ASN database; NULL when none';
COMMENT ON COLUMN spamhints.address_rollup.gw_as IS 'the AS of the sFlow gateway record for it';
COMMENT ON COLUMN spamhints.address_rollup.cc IS 'its country from the country database; NULL when unknown';
COMMENT ON COLUMN spamhints.address_rollup.role IS 'the OR of its roles in the month or day';

-- The whole UTC days of a period: [whole_days_from, whole_days_to), empty
-- (both the same) when the period holds none; the whole time for NULL.
CREATE FUNCTION spamhints.whole_days_from(period tstzrange)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN period IS NULL OR lower_inf(period) THEN '-infinity'::timestamptz
                WHEN isempty(period) THEN 'infinity'::timestamptz
                WHEN lower_inc(period) AND date_trunc('day', lower(period), 'UTC') = lower(period) THEN lower(period)
                ELSE date_trunc('day', lower(period), 'UTC') + interval '24 hours' END;
END;

COMMENT ON FUNCTION spamhints.whole_days_from(tstzrange) IS
'The start of the first whole UTC day in period (-infinity for NULL or an unbounded start; infinity for an empty period): the functions taking a period read the rollups (spamhints.address_day) of the whole days, [whole_days_from, whole_days_to), and the samples of the rest.';

CREATE FUNCTION spamhints.whole_days_to(period tstzrange)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT greatest(spamhints.whole_days_from(period),
                    CASE WHEN period IS NULL OR upper_inf(period) THEN 'infinity'::timestamptz
                         WHEN isempty(period) THEN 'infinity'::timestamptz
                         ELSE date_trunc('day', upper(period), 'UTC') END);
END;

COMMENT ON FUNCTION spamhints.whole_days_to(tstzrange) IS
'The end of the last whole UTC day in period (infinity for NULL or an unbounded end), never before whole_days_from(period): see there.';

-- The whole UTC hours of a period: [whole_hours_from, whole_hours_to), as
-- whole_days_from/to for days; they hold the whole days and lie within a
-- period's partial hours of either end.
CREATE FUNCTION spamhints.whole_hours_from(period tstzrange)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN period IS NULL OR lower_inf(period) THEN '-infinity'::timestamptz
                WHEN isempty(period) THEN 'infinity'::timestamptz
                WHEN lower_inc(period) AND date_trunc('hour', lower(period), 'UTC') = lower(period) THEN lower(period)
                ELSE date_trunc('hour', lower(period), 'UTC') + interval '1 hour' END;
END;

COMMENT ON FUNCTION spamhints.whole_hours_from(tstzrange) IS
'The start of the first whole UTC hour in period (-infinity for NULL or an unbounded start; infinity for an empty period): the functions taking a period read the rollups (spamhints.address_day) for the whole hours, [whole_hours_from, whole_hours_to), with hours_role() in the days the period cuts through, and the samples of the rest.';

CREATE FUNCTION spamhints.whole_hours_to(period tstzrange)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT greatest(spamhints.whole_hours_from(period),
                    CASE WHEN period IS NULL OR upper_inf(period) THEN 'infinity'::timestamptz
                         WHEN isempty(period) THEN 'infinity'::timestamptz
                         ELSE date_trunc('hour', upper(period), 'UTC') END);
END;

COMMENT ON FUNCTION spamhints.whole_hours_to(tstzrange) IS
'The end of the last whole UTC hour in period (infinity for NULL or an unbounded end), never before whole_hours_from(period): see there.';

-- the views read the rollups (30_views.sql)
CREATE OR REPLACE VIEW spamhints.ip_census AS
SELECT (c).ips, (c).client_only, (c).server_only, (c).both
FROM (SELECT spamhints.smtp_census(r.ip, r.role) AS c
      FROM spamhints.address_rollup r) AS t;

COMMENT ON VIEW spamhints.ip_census IS
'The census of addresses by SMTP role over all samples (each with the SMTP ports of its load, spamhints.load.smtp_ports), one row: ips, the distinct addresses seen in an SMTP role, and client_only, server_only and both. From the rollups (spamhints.address_rollup: the months rollup_fold() folded, the other days of address_day); ip_census(period) for a time range.';

CREATE OR REPLACE VIEW spamhints.client_as_top AS
WITH by_cc AS (
    -- the AS of the enrichment (mmdb), else the sFlow gateway record's (0 there is unknown)
    SELECT coalesce(e.asn, nullif(e.gw_as, 0)) AS asn, e.cc, e.asn IS NOT NULL AS mmdb,
           spamhints.census_agg(e.ip, e.role) AS c
    FROM spamhints.address_rollup e
    WHERE coalesce(e.asn, nullif(e.gw_as, 0)) IS NOT NULL
    GROUP BY 1, e.cc, 3
), by_as AS (
    SELECT b.asn,
           CASE WHEN bool_and(b.mmdb) THEN 'mmdb' WHEN NOT bool_or(b.mmdb) THEN 'sflow gateway'
                ELSE 'mmdb, sflow gateway' END AS as_source,
           spamhints.counts(spamhints.census_union(b.c)) AS n,
           (array_agg(b.cc ORDER BY (spamhints.counts(b.c)).ips DESC, b.cc)
               FILTER (WHERE b.cc IS NOT NULL))[1] AS country
    FROM by_cc b
    GROUP BY b.asn
)
SELECT rank() OVER (ORDER BY (a.n).client_only DESC) AS rank,
       a.asn, o.org AS as_org, a.country,
       (a.n).client_only AS clients,
       (a.n).server_only AS servers,
       (a.n).both AS both,
       (a.n).ips AS ips,
       a.as_source
FROM by_as a
LEFT JOIN spamhints.asn o ON o.asn = a.asn
ORDER BY rank, a.asn;

COMMENT ON VIEW spamhints.client_as_top IS
'The ASes ranked by their client addresses ("Client AS top"): per AS (src_asn/dst_asn of the address from the ASN database, else, for a load without enrichment, the AS of the sFlow extended gateway record, gw_src_as/gw_dst_as; as_source says which: mmdb, sflow gateway, or both; addresses with neither left out), its addresses by their role over all samples (each with the SMTP ports of its load): clients (client only), servers (server only), both, and ips (all three); as_org from spamhints.asn (NULL when absent); country, the country (src_cc/dst_cc) of most of that AS''s addresses; rank by clients (ties share a rank). An address seen under two ASes counts in each. Top 30: WHERE rank <= 30; the 100th place: WHERE rank = 100 (or ORDER BY rank OFFSET 99 LIMIT 1). From the rollups (spamhints.address_rollup: the months rollup_fold() folded, the other days of address_day); client_as_top(period) for a time range.';

CREATE OR REPLACE VIEW spamhints.client_cc_top AS
SELECT rank() OVER (ORDER BY (t.n).client_only DESC) AS rank,
       t.cc AS country,
       (t.n).client_only AS clients,
       (t.n).server_only AS servers,
       (t.n).both AS both,
       (t.n).ips AS ips
FROM (SELECT e.cc, spamhints.smtp_census(e.ip, e.role) AS n
      FROM spamhints.address_rollup e
      WHERE e.cc IS NOT NULL
      GROUP BY e.cc) AS t
ORDER BY rank, t.cc;

COMMENT ON VIEW spamhints.client_cc_top IS
'client_as_top by country (src_cc/dst_cc of the address, from the country database only: sFlow has no country, so a load without --country-db has no row here): clients (client only), servers (server only), both, ips, and rank by clients. From the rollups (spamhints.address_rollup: the months rollup_fold() folded, the other days of address_day); client_cc_top(period) for a time range.';

-- the functions of a period (31_periods.sql)
-- range: the rollups (spamhints.address_day, 29_rollups.sql) of the whole
-- UTC days of the period, the samples of the partial days at its ends, so
-- that the answers are those of the samples in the period.
--
-- SQL-standard bodies without SET options: inlined into the calling query,
-- the bounds become comparisons on day and ts (partitions pruned).

CREATE FUNCTION spamhints.address_roles(period tstzrange)
RETURNS TABLE (ip inet, role spamhints.smtp_role, asn bigint, gw_as bigint, cc text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    -- the whole days: their rollups
    SELECT r.ip, r.role, r.asn, r.gw_as, r.cc
    FROM spamhints.address_day r
    WHERE r.day >= (spamhints.whole_days_from(period) AT TIME ZONE 'UTC')::date
      AND r.day < (spamhints.whole_days_to(period) AT TIME ZONE 'UTC')::date
    UNION ALL
    -- the whole hours of the days the period cuts through (at most one at
    -- each end): their rollups' roles in those hours
    SELECT h.ip, h.role, h.asn, h.gw_as, h.cc
    FROM (SELECT r.ip, r.asn, r.gw_as, r.cc,
                 spamhints.hours_role(r.role_hours,
                     spamhints.day_hours(r.day, spamhints.whole_hours_from(period), spamhints.whole_hours_to(period))) AS role
          FROM spamhints.address_day r
          WHERE (r.day = ((spamhints.whole_days_from(period) - interval '24 hours') AT TIME ZONE 'UTC')::date
                 AND spamhints.whole_hours_from(period) < spamhints.whole_days_from(period))
             OR (r.day = (spamhints.whole_days_to(period) AT TIME ZONE 'UTC')::date
                 AND spamhints.whole_hours_to(period) > spamhints.whole_days_to(period))) AS h
    WHERE h.role IS NOT NULL
    UNION ALL
    -- the partial hours at its ends: the samples
    SELECT e.ip, e.role, e.asn, e.gw_as, e.cc
    FROM spamhints.endpoint e
    WHERE (e.ts < spamhints.whole_hours_from(period) OR e.ts >= spamhints.whole_hours_to(period))
      -- implied by the exact bounds below, in a form that pruning at executor
      -- start understands when period is a parameter (a generic plan)
      AND e.ts >= coalesce(lower(period), '-infinity') AND e.ts <= coalesce(upper(period), 'infinity')
      AND (period IS NULL OR lower_inf(period) OR e.ts > lower(period) OR (lower_inc(period) AND e.ts = lower(period)))
      AND (period IS NULL OR upper_inf(period) OR e.ts < upper(period) OR (upper_inc(period) AND e.ts = upper(period)));
END;

COMMENT ON FUNCTION spamhints.address_roles(tstzrange) IS
'The addresses seen in period (NULL: all time) with their roles, ASes (asn from the ASN database, gw_as from sFlow) and countries: a row per rollup (spamhints.address_day) of each whole UTC day of the period, a row per rollup of the days it cuts through with the role of their whole hours in it (role_hours), and a row per sample side (spamhints.endpoint) in the partial hours at its ends; an address comes several times. What ip_census(period), client_as_top(period) and client_cc_top(period) count.';

CREATE FUNCTION spamhints.ip_census(period tstzrange)
RETURNS TABLE (ips bigint, client_only bigint, server_only bigint, "both" bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT (c).ips, (c).client_only, (c).server_only, (c).both
    FROM (SELECT spamhints.smtp_census(r.ip, r.role) AS c
          FROM spamhints.address_roles(period) r) AS t;
END;

COMMENT ON FUNCTION spamhints.ip_census(tstzrange) IS
'spamhints.ip_census over the samples in period (NULL: all time), e.g. SELECT * FROM spamhints.ip_census(''[2024-03-01, 2024-03-08)''): whole UTC hours from the rollups, the rest from the samples.';

CREATE FUNCTION spamhints.client_as_top(period tstzrange)
RETURNS TABLE (rank bigint, asn bigint, as_org text, country text, clients bigint, servers bigint,
               "both" bigint, ips bigint, as_source text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH by_cc AS (
        SELECT coalesce(e.asn, nullif(e.gw_as, 0)) AS asn, e.cc, e.asn IS NOT NULL AS mmdb,
               spamhints.census_agg(e.ip, e.role) AS c
        FROM spamhints.address_roles(period) e
        WHERE coalesce(e.asn, nullif(e.gw_as, 0)) IS NOT NULL
        GROUP BY 1, e.cc, 3
    ), by_as AS (
        SELECT b.asn,
               CASE WHEN bool_and(b.mmdb) THEN 'mmdb' WHEN NOT bool_or(b.mmdb) THEN 'sflow gateway'
                    ELSE 'mmdb, sflow gateway' END AS as_source,
               spamhints.counts(spamhints.census_union(b.c)) AS n,
               (array_agg(b.cc ORDER BY (spamhints.counts(b.c)).ips DESC, b.cc)
                   FILTER (WHERE b.cc IS NOT NULL))[1] AS country
        FROM by_cc b
        GROUP BY b.asn
    )
    SELECT rank() OVER (ORDER BY (a.n).client_only DESC),
           a.asn, o.org, a.country,
           (a.n).client_only, (a.n).server_only, (a.n).both, (a.n).ips,
           a.as_source
    FROM by_as a
    LEFT JOIN spamhints.asn o ON o.asn = a.asn
    ORDER BY 1, a.asn;
END;

COMMENT ON FUNCTION spamhints.client_as_top(tstzrange) IS
'spamhints.client_as_top over the samples in period (NULL: all time), e.g. SELECT * FROM spamhints.client_as_top(''[2024-03-01, 2024-03-08)'') WHERE rank <= 30: whole UTC hours from the rollups, the rest from the samples.';

CREATE FUNCTION spamhints.client_cc_top(period tstzrange)
RETURNS TABLE (rank bigint, country text, clients bigint, servers bigint, "both" bigint, ips bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT rank() OVER (ORDER BY (t.n).client_only DESC),
           t.cc, (t.n).client_only, (t.n).server_only, (t.n).both, (t.n).ips
    FROM (SELECT e.cc, spamhints.smtp_census(e.ip, e.role) AS n
          FROM spamhints.address_roles(period) e
          WHERE e.cc IS NOT NULL
          GROUP BY e.cc) AS t
    ORDER BY 1, t.cc;
END;

COMMENT ON FUNCTION spamhints.client_cc_top(tstzrange) IS
'spamhints.client_cc_top over the samples in period (NULL: all time): whole UTC hours from the rollups, the rest from the samples.';

-- purge() (70_retention.sql) drops the day partitions wholly past the
-- retention, and deletes their days' rollups
CREATE OR REPLACE FUNCTION spamhints.purge(retention interval DEFAULT NULL, at timestamptz DEFAULT now())
RETURNS TABLE (table_name text, deleted bigint, cutoff timestamptz)
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
AS $$
#variable_conflict use_column
DECLARE
    cut timestamptz := at - coalesce(retention, spamhints.setting('retention')::interval);
    n   bigint;
    m   bigint;
    p   regclass;
BEGIN
    -- checked before anything is deleted: a negative retention or an infinite
    -- time would delete what is not old (everything, the future)
    IF at IN ('infinity', '-infinity') THEN
        RAISE EXCEPTION 'purge() at must be finite' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF coalesce(retention, spamhints.setting('retention')::interval) < interval '0' THEN
        RAISE EXCEPTION 'purge() retention must not be negative, not %',
                        coalesce(retention, spamhints.setting('retention')::interval)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    cutoff := cut;
    -- the day partitions wholly before the cutoff are dropped, rows are
    -- deleted only in the one the cutoff falls in (and the default one)
    n := 0;
    FOR p IN SELECT t.partition FROM spamhints.partitions() t WHERE t.to_ts <= cut ORDER BY t.from_ts LOOP
        EXECUTE format('SELECT count(*) FROM %s', p) INTO m;
        EXECUTE format('DROP TABLE %s', p);
        n := n + m;
    END LOOP;
    -- the rollups of the days dropped whole go with them; those of the day
    -- the cutoff falls in are made again by the DELETE's trigger
    DELETE FROM spamhints.address_day r WHERE r.day < (cut AT TIME ZONE 'UTC')::date;
    PERFORM spamhints.address_month_stale('-infinity', (cut AT TIME ZONE 'UTC')::date);
    DELETE FROM spamhints.smtp_sample s WHERE s.ts < cut;
    GET DIAGNOSTICS m = ROW_COUNT;
    n := n + m;
    table_name := 'smtp_sample'; deleted := n; RETURN NEXT;
    DELETE FROM spamhints.mail_event e WHERE e.ts < cut;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'mail_event'; deleted := n; RETURN NEXT;
    DELETE FROM spamhints.report_log r WHERE r.reported_at < cut;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'report_log'; deleted := n; RETURN NEXT;
    DELETE FROM spamhints.incoming_report r WHERE r.received_at < cut;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'incoming_report'; deleted := n; RETURN NEXT;
    DELETE FROM spamhints.ip_assignment a WHERE upper(a.during) <= cut;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'ip_assignment'; deleted := n; RETURN NEXT;
END
$$;

COMMENT ON FUNCTION spamhints.purge(interval, timestamptz) IS
'Deletes the personal data older than retention (default: the setting spamhints.retention) before at (default now): sampled packets (smtp_sample.ts: the day partitions wholly before the cutoff are dropped, rows deleted only in the one it falls in; their rollups, spamhints.address_day, with them, and the months they were folded into, spamhints.address_month), mail events (ts), reports sent (report_log.reported_at) and received (incoming_report.received_at), and address assignments that ended before the cutoff. Returns the rows deleted per table and the cutoff. A negative retention or an infinite at is an error (22023) before anything is deleted. The load records (spamhints.load, maillog_load) stay, without personal data, so that a purged file is not loaded again. Scheduled daily by spamhints.cron_jobs().';

-- the analyst reads the rollups; nobody but the owner makes them again
-- 0.2: the rollups folded by month every hour
CREATE OR REPLACE FUNCTION spamhints.cron_jobs()
RETURNS TABLE (jobname text, schedule text, command text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
    VALUES ('spamhints-refresh', '5 * * * *',  'SELECT spamhints.refresh()'),
           ('spamhints-report',  '30 0 * * *', 'SELECT count(*) FROM spamhints.report()'),
           ('spamhints-purge',   '0 3 * * *',  'SELECT * FROM spamhints.purge()'),
           ('spamhints-fold',    '45 * * * *', 'SELECT spamhints.rollup_fold()')
$$;

COMMENT ON FUNCTION spamhints.cron_jobs() IS
'The pg_cron schedule (times in GMT, as pg_cron keeps them): refresh the daily figures and the report queue every hour at :05; produce yesterday''s reports into spamhints.report_log at 00:30; purge personal data past the retention at 03:00; fold the rollups of the days before today into months (spamhints.rollup_fold()) every hour at :45. In the database where pg_cron is installed (cron.database_name): SELECT cron.schedule(jobname, schedule, command) FROM spamhints.cron_jobs(); for spamhints in another database, cron.schedule_in_database(jobname, schedule, command, ''abuse'').';

GRANT SELECT ON spamhints.address_day, spamhints.address_month, spamhints.rollup_folded, spamhints.address_rollup TO spamhints_analyst;
REVOKE EXECUTE ON FUNCTION spamhints.address_day_roll(date), spamhints.address_day_rebuild(),
    spamhints.rollup_fold(date), spamhints.address_month_stale(date, date),
    spamhints.address_month_merge(date[]) FROM PUBLIC;

-- the rollups of the samples already loaded
SELECT spamhints.address_day_rebuild();


-- Shards: a coordinator over shards through postgres_fdw,
-- as sql/parts/85_shards.sql (its design note there): attach_shard,
-- detach_shard, shard_views, the tables shard and shard_saved, and the
-- trigger that makes a coordinator refuse loads.

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

-- a coordinator refuses loads: the guard reads which shards there are, as the loader
GRANT SELECT (name) ON spamhints.shard TO spamhints_loader;
GRANT SELECT ON spamhints.shard TO spamhints_analyst;

-- The effective sampling rate (10_samples.sql): each agent's estimates
-- scaled by effective_rate / configured_rate where the two differ beyond
-- 1.96 / sqrt(rate_samples) (spamhints.rate_factor, spamhints.agent_rate).
-- Then what estimates packets, with the 95% bounds of its estimates and
-- each agent's factor: packet_stats and activity() (30_views.sql),
-- address() (53_address.sql), daily_figures, customer_sender, sender_score().

CREATE FUNCTION spamhints.rate_factor(configured float8, effective float8, samples float8)
RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN NOT (abs(configured) < 'Infinity' AND abs(effective) < 'Infinity' AND abs(samples) < 'Infinity')
                 THEN NULL
            WHEN configured > 0 AND effective > 0 AND samples > 0
                 AND abs(effective / configured - 1) > greatest(1.96 / sqrt(samples), 0.05)
            THEN effective / configured ELSE 1 END;

COMMENT ON FUNCTION spamhints.rate_factor(float8, float8, float8) IS
'The factor an agent''s estimates are scaled by (0.2): effective / configured when the effective sampling rate differs from the configured one beyond its own 95% uncertainty and by more than 5%, |effective / configured - 1| > greatest(1.96 / sqrt(samples), 0.05) (samples: the sample steps it was measured over), else 1; 1 too when either rate is unknown (NULL) or not positive; NULL (no factor: the estimates then keep factor 1) when an argument is NaN or infinite. Drops alone never switch: the effective rate, the sample pool over the samples delivered, is already the scale of the samples that arrived.';

CREATE VIEW spamhints.agent_rate AS
SELECT a.load_id, a.agent,
       sum(a.configured_rate * a.rate_samples) / sum(a.rate_samples) AS configured_rate,
       sum(a.effective_rate * a.rate_samples) / sum(a.rate_samples) AS effective_rate,
       sum(a.rate_samples)::bigint AS rate_samples,
       sum(a.sample_drops)::bigint AS sample_drops,
       spamhints.rate_factor(sum(a.configured_rate * a.rate_samples), sum(a.effective_rate * a.rate_samples),
                             sum(a.rate_samples)::float8) AS factor
FROM spamhints.load_agent a
WHERE a.configured_rate IS NOT NULL AND a.effective_rate IS NOT NULL AND a.rate_samples > 0
GROUP BY a.load_id, a.agent;

COMMENT ON VIEW spamhints.agent_rate IS
'The sampling rate each agent of each load really sampled at, and the factor its estimates are scaled by (0.2): per (load_id, agent), its sub-agents pooled (smtp_sample has no sub-agent): configured_rate and effective_rate, the means over their rate_samples sample steps (the effective one is the sample pools'' steps over the samples delivered), sample_drops, and factor = spamhints.rate_factor(configured, effective, rate_samples): effective / configured where they differ beyond 1.96 / sqrt(rate_samples) and by more than 5%, else 1. Every estimate (est_packets and its bounds in packet_stats, activity(), address(), customer_sender, sender_score(), daily_figures, report_candidates() and so report_queue and the reports, through evidence.est_rate) sums sampling_rate * factor (not the rollups'' address_day, made as the samples arrive: configured rate); an agent without a row here (no two flow samples of one source) keeps factor 1. Why the effective rate: a switch, router or agent that is loaded samples otherwise than its configuration says, and the pool counts what it really drew from; pool / (samples + drops) would undercount the traffic the delivered samples stand for. Why the threshold: the effective rate measured over n samples is itself uncertain by about 1.96 / sqrt(n); within it the configured rate is as good and keeps every estimate stable; and below 5% (the agents of the test generator, whose sample pools step by a uniform draw, measure up to about 1.5% off over tens of thousands of samples) a difference is not worth an estimate that moves with each load.';
COMMENT ON COLUMN spamhints.agent_rate.load_id IS 'the load (spamhints.load)';
COMMENT ON COLUMN spamhints.agent_rate.agent IS 'the sFlow agent address, its sub-agents pooled';
COMMENT ON COLUMN spamhints.agent_rate.configured_rate IS 'the rate its flow samples say, the mean over its sample steps';
COMMENT ON COLUMN spamhints.agent_rate.effective_rate IS 'the rate it really sampled at: its sample pools'' steps over its sample steps';
COMMENT ON COLUMN spamhints.agent_rate.rate_samples IS 'the sample steps both rates were measured over';
COMMENT ON COLUMN spamhints.agent_rate.sample_drops IS 'samples it dropped for want of resources over those steps';
COMMENT ON COLUMN spamhints.agent_rate.factor IS 'what its samples'' sampling_rate is multiplied by in every estimate: spamhints.rate_factor(configured_rate, effective_rate, rate_samples)';

GRANT SELECT ON spamhints.agent_rate TO spamhints_analyst;

CREATE OR REPLACE VIEW spamhints.packet_stats AS
SELECT s.smtp_packets,
       s.syn, s.syn_ack, s.rst, s.fin,
       round(100.0 * s.syn     / nullif(s.smtp_packets, 0), 2) AS syn_pct,
       round(100.0 * s.syn_ack / nullif(s.smtp_packets, 0), 2) AS syn_ack_pct,
       round(100.0 * s.rst     / nullif(s.smtp_packets, 0), 2) AS rst_pct,
       round(100.0 * s.fin     / nullif(s.smtp_packets, 0), 2) AS fin_pct,
       s.est_packets,
       spamhints.est_low(s.smtp_packets, s.est_packets) AS est_packets_low,
       spamhints.est_high(s.smtp_packets, s.est_packets) AS est_packets_high,
       round(100 * spamhints.wilson_low(s.syn, s.smtp_packets)::numeric, 2)      AS syn_pct_low,
       round(100 * spamhints.wilson_high(s.syn, s.smtp_packets)::numeric, 2)     AS syn_pct_high,
       round(100 * spamhints.wilson_low(s.syn_ack, s.smtp_packets)::numeric, 2)  AS syn_ack_pct_low,
       round(100 * spamhints.wilson_high(s.syn_ack, s.smtp_packets)::numeric, 2) AS syn_ack_pct_high,
       round(100 * spamhints.wilson_low(s.rst, s.smtp_packets)::numeric, 2)      AS rst_pct_low,
       round(100 * spamhints.wilson_high(s.rst, s.smtp_packets)::numeric, 2)     AS rst_pct_high,
       round(100 * spamhints.wilson_low(s.fin, s.smtp_packets)::numeric, 2)      AS fin_pct_low,
       round(100 * spamhints.wilson_high(s.fin, s.smtp_packets)::numeric, 2)     AS fin_pct_high
FROM (SELECT coalesce(sum(g.n), 0)::bigint AS smtp_packets,
             coalesce(sum(g.syn), 0)::bigint AS syn, coalesce(sum(g.syn_ack), 0)::bigint AS syn_ack,
             coalesce(sum(g.rst), 0)::bigint AS rst, coalesce(sum(g.fin), 0)::bigint AS fin,
             -- 0.2: each agent's samples scaled by its factor (spamhints.agent_rate),
             -- joined per (load, agent), not per sample
             coalesce(round(sum(g.est * coalesce(f.factor, 1))), 0)::bigint AS est_packets
      FROM (SELECT load_id, agent, count(*) AS n,
                   count(*) FILTER (WHERE tcp_flags & 18 = 2)  AS syn,
                   count(*) FILTER (WHERE tcp_flags & 18 = 18) AS syn_ack,
                   count(*) FILTER (WHERE tcp_flags & 4 <> 0)  AS rst,
                   count(*) FILTER (WHERE tcp_flags & 1 <> 0)  AS fin,
                   sum(sampling_rate) AS est
            FROM spamhints.smtp_sample GROUP BY load_id, agent) AS g
      LEFT JOIN (SELECT a.load_id, a.agent,
                        spamhints.rate_factor(sum(a.configured_rate * a.rate_samples),
                                              sum(a.effective_rate * a.rate_samples), sum(a.rate_samples)::float8) AS factor
                 FROM spamhints.load_agent a
                 WHERE a.configured_rate IS NOT NULL AND a.effective_rate IS NOT NULL AND a.rate_samples > 0
                 GROUP BY a.load_id, a.agent) AS f ON f.load_id = g.load_id AND f.agent = g.agent) AS s;

COMMENT ON VIEW spamhints.packet_stats IS
'The raw packet statistics of all loads: sampled SMTP packets, SYN (SYN set, ACK clear), SYN/ACK, RST and FIN counts with their shares in percent, and est_packets, the estimated real packet count (sum of sampling rates); then (0.2) the 95% bounds of each: est_packets_low and est_packets_high (mid-p Poisson bounds of the sample count, scaled: spamhints.est_low/est_high), and the Wilson intervals of the shares, syn_pct_low, syn_pct_high and the same for syn_ack, rst and fin.';
COMMENT ON COLUMN spamhints.packet_stats.est_packets IS 'estimated real packets: the sum of the sampling rates, each times its agent''s factor (spamhints.agent_rate)';
COMMENT ON COLUMN spamhints.packet_stats.est_packets_low IS 'lower 95% bound of est_packets: spamhints.est_low(smtp_packets, est_packets)';
COMMENT ON COLUMN spamhints.packet_stats.est_packets_high IS 'upper 95% bound of est_packets: spamhints.est_high(smtp_packets, est_packets) (NULL with no packet)';
COMMENT ON COLUMN spamhints.packet_stats.syn_pct_low IS 'lower bound of Wilson''s 95% interval of syn_pct, in percent';
COMMENT ON COLUMN spamhints.packet_stats.syn_pct_high IS 'upper bound of Wilson''s 95% interval of syn_pct, in percent';
COMMENT ON COLUMN spamhints.packet_stats.syn_ack_pct_low IS 'lower bound of Wilson''s 95% interval of syn_ack_pct';
COMMENT ON COLUMN spamhints.packet_stats.syn_ack_pct_high IS 'upper bound of Wilson''s 95% interval of syn_ack_pct';
COMMENT ON COLUMN spamhints.packet_stats.rst_pct_low IS 'lower bound of Wilson''s 95% interval of rst_pct';
COMMENT ON COLUMN spamhints.packet_stats.rst_pct_high IS 'upper bound of Wilson''s 95% interval of rst_pct';
COMMENT ON COLUMN spamhints.packet_stats.fin_pct_low IS 'lower bound of Wilson''s 95% interval of fin_pct';
COMMENT ON COLUMN spamhints.packet_stats.fin_pct_high IS 'upper bound of Wilson''s 95% interval of fin_pct';

CREATE FUNCTION spamhints.window_check(fn text, window_start timestamptz, window_end timestamptz)
RETURNS boolean
AS 'MODULE_PATHNAME', 'spamhints_window_check'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.window_check(text, timestamptz, timestamptz) IS
'The check of a window [window_start, window_end) given to function fn (named in the error): true, or an error: 22004 for a NULL bound, 22023 for a window that ends before it starts. An empty window (window_end = window_start) and infinite bounds (-infinity, infinity: all time) are fit.';

CREATE FUNCTION spamhints.activity(
    window_start timestamptz, window_end timestamptz,
    bin interval DEFAULT '1 hour', ports integer[] DEFAULT NULL)
RETURNS TABLE (bin_start timestamptz, samples bigint, est_packets bigint,
               syn bigint, clients bigint, servers bigint,
               est_packets_low bigint, est_packets_high bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT b.bin_start,
           coalesce(a.samples, 0), coalesce(a.est_packets, 0), coalesce(a.syn, 0),
           coalesce((a.c).client_only + (a.c).both, 0),
           coalesce((a.c).server_only + (a.c).both, 0),
           spamhints.est_low(coalesce(a.samples, 0), coalesce(a.est_packets, 0)),
           spamhints.est_high(coalesce(a.samples, 0), coalesce(a.est_packets, 0))
    FROM generate_series(window_start, window_end - '1 microsecond'::interval,
                         spamhints.activity_stride(window_start, window_end, bin)) AS b(bin_start)
    LEFT JOIN (SELECT date_bin(bin, s.ts, window_start) AS bin_start,
                      count(*) AS samples,
                      round(sum(s.sampling_rate * coalesce(f.factor, 1)))::bigint AS est_packets,
                      count(*) FILTER (WHERE s.tcp_flags & 18 = 2) AS syn,
                      spamhints.smtp_census(s.src_ip, s.dst_ip, s.src_port, s.dst_port,
                                            coalesce(ports, l.smtp_ports)) AS c
               FROM spamhints.smtp_sample s
               JOIN spamhints.load l ON l.load_id = s.load_id
               -- 0.2: each sample scaled by its agent's factor (spamhints.agent_rate)
               LEFT JOIN (SELECT a.load_id, a.agent,
                                 spamhints.rate_factor(sum(a.configured_rate * a.rate_samples),
                                                       sum(a.effective_rate * a.rate_samples), sum(a.rate_samples)::float8) AS factor
                          FROM spamhints.load_agent a
                          WHERE a.configured_rate IS NOT NULL AND a.effective_rate IS NOT NULL AND a.rate_samples > 0
                          GROUP BY a.load_id, a.agent) AS f ON f.load_id = s.load_id AND f.agent = s.agent
               WHERE s.ts >= window_start AND s.ts < window_end
               GROUP BY 1) AS a USING (bin_start)
    -- a one-time filter: the window checked and the bins counted before anything is read
    WHERE spamhints.window_check('activity', window_start, window_end)
      AND spamhints.activity_stride(window_start, window_end, bin) IS NOT NULL
    ORDER BY b.bin_start;
END;

COMMENT ON FUNCTION spamhints.activity(timestamptz, timestamptz, interval, integer[]) IS
'Activity over the capture: one row per bin (default an hour) of [window_start, window_end), empty bins included: samples, est_packets (sum of sampling rates, each times its agent''s factor: spamhints.agent_rate), SYN samples, the distinct client and server addresses of the bin (an address that is both counts in each), and est_packets_low and est_packets_high, the 95% bounds of est_packets (spamhints.est_low/est_high; est_packets_high is NULL in an empty bin), by the SMTP ports ports, or when NULL (the default) by those of each sample''s load (spamhints.load.smtp_ports). Bins are fixed spans from window_start (a day is 24 hours, also across a daylight saving change); at most 1,000,000 bins (error 54000 before any work: use a longer bin or a shorter window). A window that ends before it starts is an error (22023), a NULL bound too (22004), an infinite one too (22023); an empty one has no bins. E.g. SELECT * FROM activity(''2024-03-01'', ''2024-03-02'').';

-- everything about one address (53_address.sql), through the B-trees of the
-- day partitions: each sample scaled by its agent's factor; with the
-- period a parameter (a generic plan), partitions pruned at executor start
-- through bounds on ts implied by the exact ones
CREATE FUNCTION spamhints.address(ip inet, period tstzrange DEFAULT NULL)
RETURNS TABLE (ip inet, samples bigint, est_packets bigint, as_source bigint, as_destination bigint,
               role spamhints.smtp_role, peers bigint, first_seen timestamptz, last_seen timestamptz,
               hourly spamhints.hist24, customer text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT $1, count(*), coalesce(round(sum(s.sampling_rate * coalesce(f.factor, 1))), 0)::bigint,
           count(*) FILTER (WHERE s.side = 'src'), count(*) FILTER (WHERE s.side = 'dst'),
           spamhints.role_or(s.role), count(DISTINCT s.peer), min(s.ts), max(s.ts),
           spamhints.hourly(s.ts),
           spamhints.customer_at($1, max(s.ts))
    FROM (SELECT x.ts, x.sampling_rate, x.load_id, x.agent, 'src' AS side, x.dst_ip AS peer,
                 spamhints.src_role(x.src_port, x.dst_port, l.smtp_ports) AS role
          FROM spamhints.smtp_sample x JOIN spamhints.load l ON l.load_id = x.load_id
          WHERE x.src_ip = $1
            AND x.ts >= coalesce(lower($2), '-infinity') AND x.ts <= coalesce(upper($2), 'infinity')
            AND ($2 IS NULL OR lower_inf($2) OR x.ts > lower($2) OR (lower_inc($2) AND x.ts = lower($2)))
            AND ($2 IS NULL OR upper_inf($2) OR x.ts < upper($2) OR (upper_inc($2) AND x.ts = upper($2)))
          UNION ALL
          SELECT x.ts, x.sampling_rate, x.load_id, x.agent, 'dst', x.src_ip,
                 spamhints.dst_role(x.src_port, x.dst_port, l.smtp_ports)
          FROM spamhints.smtp_sample x JOIN spamhints.load l ON l.load_id = x.load_id
          WHERE x.dst_ip = $1 AND x.src_ip IS DISTINCT FROM $1
            AND x.ts >= coalesce(lower($2), '-infinity') AND x.ts <= coalesce(upper($2), 'infinity')
            AND ($2 IS NULL OR lower_inf($2) OR x.ts > lower($2) OR (lower_inc($2) AND x.ts = lower($2)))
            AND ($2 IS NULL OR upper_inf($2) OR x.ts < upper($2) OR (upper_inc($2) AND x.ts = upper($2)))) AS s
    -- 0.2: each sample scaled by its agent's factor (spamhints.agent_rate)
    LEFT JOIN (SELECT a.load_id, a.agent,
                      spamhints.rate_factor(sum(a.configured_rate * a.rate_samples),
                                            sum(a.effective_rate * a.rate_samples), sum(a.rate_samples)::float8) AS factor
               FROM spamhints.load_agent a
               WHERE a.configured_rate IS NOT NULL AND a.effective_rate IS NOT NULL AND a.rate_samples > 0
               GROUP BY a.load_id, a.agent) AS f ON f.load_id = s.load_id AND f.agent = s.agent;
END;

COMMENT ON FUNCTION spamhints.address(inet, tstzrange) IS
'Everything about one address in spamhints.smtp_sample, in period (default: all time): samples (a sample from the address to itself counts once), est_packets (their sampling rates summed, each times its agent''s factor, spamhints.agent_rate), as_source and as_destination, role (the OR of the SMTP roles its samples give it, with each load''s ports; NULL when none), peers (distinct addresses at the other end), first_seen, last_seen, hourly (the hist24 of its samples by hour of day: spamhints.chart(hourly)), and customer (spamhints.customer_at the address at last_seen). Through the B-trees on src_ip and dst_ip of the day partitions, and only the partitions of period: never a scan of the table.';

-- daily_figures (71_schedules.sql): the abuse desk's figures per day, with
-- the 95% bounds of the estimate and each agent's factor; its index,
-- comments and grant
CREATE MATERIALIZED VIEW spamhints.daily_figures AS
WITH samples AS (
    -- 0.2: each sample scaled by its agent's factor (spamhints.agent_rate)
    SELECT (s.ts AT TIME ZONE 'UTC')::date AS day,
           count(*) AS samples,
           round(sum(s.sampling_rate * coalesce(f.factor, 1)))::bigint AS est_packets,
           count(DISTINCT s.src_ip) FILTER (WHERE s.dst_port = 25) AS client_addresses
    FROM spamhints.smtp_sample s
    LEFT JOIN spamhints.agent_rate f ON f.load_id = s.load_id AND f.agent = s.agent
    GROUP BY 1
), senders AS (
    SELECT (s.ts AT TIME ZONE 'UTC')::date AS day, count(DISTINCT a.customer_id) AS customer_senders
    FROM spamhints.smtp_sample s
    JOIN spamhints.ip_assignment a ON a.network >>= s.src_ip AND a.during @> s.ts
    WHERE s.dst_port = 25
    GROUP BY 1
), produced AS (
    SELECT (r.reported_at AT TIME ZONE 'UTC')::date AS day, count(*) AS reports_produced
    FROM spamhints.report_log r
    GROUP BY 1
), sent AS (
    -- a report is sent when the mailer marks it so, on the day it does
    SELECT (r.sent_at AT TIME ZONE 'UTC')::date AS day, count(*) AS reports_sent
    FROM spamhints.report_log r
    WHERE r.sent_at IS NOT NULL
    GROUP BY 1
), days AS (
    SELECT day FROM samples
    UNION SELECT day FROM spamhints.detections_per_day
    UNION SELECT day FROM spamhints.incoming_reports_per_day
    UNION SELECT day FROM produced
    UNION SELECT day FROM sent
)
SELECT d.day,
       coalesce(s.samples, 0) AS samples,
       coalesce(s.est_packets, 0) AS est_packets,
       coalesce(s.client_addresses, 0) AS client_addresses,
       coalesce(cs.customer_senders, 0) AS customer_senders,
       coalesce(m.spam, 0) AS spam,
       coalesce(m.virus, 0) AS virus,
       coalesce(m.rejected, 0) AS rejected,
       coalesce(cc.customers, 0) AS customers_caught,
       coalesce(cc.new_customers, 0) AS new_customers_caught,
       coalesce(i.reports, 0) AS incoming_reports,
       coalesce(p.reports_produced, 0) AS reports_produced,
       coalesce(r.reports_sent, 0) AS reports_sent,
       spamhints.est_low(coalesce(s.samples, 0), coalesce(s.est_packets, 0)) AS est_packets_low,
       spamhints.est_high(coalesce(s.samples, 0), coalesce(s.est_packets, 0)) AS est_packets_high
FROM days d
LEFT JOIN samples s ON s.day = d.day
LEFT JOIN senders cs ON cs.day = d.day
LEFT JOIN spamhints.detections_per_day m ON m.day = d.day
LEFT JOIN spamhints.customers_caught_per_day cc ON cc.day = d.day
LEFT JOIN spamhints.incoming_reports_per_day i ON i.day = d.day
LEFT JOIN produced p ON p.day = d.day
LEFT JOIN sent r ON r.day = d.day
ORDER BY d.day;

CREATE UNIQUE INDEX daily_figures_day ON spamhints.daily_figures (day);

COMMENT ON MATERIALIZED VIEW spamhints.daily_figures IS
'The abuse desk''s figures per UTC day, as of the last spamhints.refresh(): sampled SMTP packets and their estimate (each sample''s sampling_rate times its agent''s factor, spamhints.agent_rate), client addresses, customer_senders (our customers seen sending mail directly), spam, virus and rejected mail events, customers_caught by the mail logs (and new ones), incoming_reports, reports_produced (by spamhints.report(), on the day it made them) and reports_sent (report_log.sent_at set by the mailer, on that day); then (0.2) est_packets_low and est_packets_high, the 95% bounds of est_packets (spamhints.est_low/est_high; est_packets_high is NULL on a day without samples).';

COMMENT ON COLUMN spamhints.daily_figures.day IS 'the UTC day';
COMMENT ON COLUMN spamhints.daily_figures.samples IS 'sampled SMTP packets';
COMMENT ON COLUMN spamhints.daily_figures.est_packets IS 'their estimated real packets';
COMMENT ON COLUMN spamhints.daily_figures.client_addresses IS 'distinct addresses seen as SMTP clients';
COMMENT ON COLUMN spamhints.daily_figures.customer_senders IS 'our customers seen sending mail directly';
COMMENT ON COLUMN spamhints.daily_figures.spam IS 'spam mail events';
COMMENT ON COLUMN spamhints.daily_figures.virus IS 'virus mail events';
COMMENT ON COLUMN spamhints.daily_figures.rejected IS 'rejected mail events';
COMMENT ON COLUMN spamhints.daily_figures.customers_caught IS 'customers caught by the mail logs';
COMMENT ON COLUMN spamhints.daily_figures.new_customers_caught IS 'of them, caught for the first time';
COMMENT ON COLUMN spamhints.daily_figures.incoming_reports IS 'abuse reports received';
COMMENT ON COLUMN spamhints.daily_figures.reports_sent IS 'reports made (spamhints.report_log)';
COMMENT ON COLUMN spamhints.daily_figures.reports_produced IS 'reports spamhints.report() made that day (report_log.reported_at)';
COMMENT ON COLUMN spamhints.daily_figures.est_packets_low IS 'lower 95% bound of est_packets: spamhints.est_low(samples, est_packets)';
COMMENT ON COLUMN spamhints.daily_figures.est_packets_high IS 'upper 95% bound of est_packets: spamhints.est_high(samples, est_packets) (NULL on a day without samples)';

GRANT SELECT ON spamhints.daily_figures TO spamhints_analyst;

-- customer_sender (52_maillogs.sql): our customers that send mail directly,
-- with the 95% bounds of est_packets and each agent's factor
CREATE OR REPLACE VIEW spamhints.customer_sender AS
WITH sent AS (
    -- 0.2: each sample scaled by its agent's factor (spamhints.agent_rate)
    SELECT a.customer_id, s.src_ip, s.dst_ip, s.ts, s.sampling_rate * coalesce(f.factor, 1) AS sampling_rate
    FROM spamhints.smtp_sample s
    JOIN spamhints.ip_assignment a ON a.network >>= s.src_ip AND a.during @> s.ts
    LEFT JOIN (SELECT a.load_id, a.agent,
                      spamhints.rate_factor(sum(a.configured_rate * a.rate_samples),
                                            sum(a.effective_rate * a.rate_samples), sum(a.rate_samples)::float8) AS factor
               FROM spamhints.load_agent a
               WHERE a.configured_rate IS NOT NULL AND a.effective_rate IS NOT NULL AND a.rate_samples > 0
               GROUP BY a.load_id, a.agent) AS f ON f.load_id = s.load_id AND f.agent = s.agent
    WHERE s.dst_port = 25
), caught AS (
    SELECT a.customer_id,
           count(*) FILTER (WHERE e.verdict = 'spam') AS spam,
           count(*) FILTER (WHERE e.verdict = 'virus') AS virus,
           max(e.ts) AS last_caught
    FROM spamhints.mail_event e
    JOIN spamhints.ip_assignment a ON a.network >>= e.client_ip AND a.during @> e.ts
    WHERE e.verdict IN ('spam', 'virus')
    GROUP BY a.customer_id
)
SELECT t.customer_id, t.addresses, t.first_seen, t.last_seen, t.samples, t.est_packets,
       t.servers, t.hourly,
       c.customer_id IS NOT NULL AS caught,
       coalesce(c.spam, 0) AS caught_spam,
       coalesce(c.virus, 0) AS caught_virus,
       c.last_caught,
       spamhints.est_low(t.samples, t.est_packets) AS est_packets_low,
       spamhints.est_high(t.samples, t.est_packets) AS est_packets_high
FROM (SELECT s.customer_id,
             array_agg(DISTINCT s.src_ip) AS addresses,
             min(s.ts) AS first_seen,
             max(s.ts) AS last_seen,
             count(*) AS samples,
             round(sum(s.sampling_rate))::bigint AS est_packets,
             count(DISTINCT s.dst_ip) AS servers,
             spamhints.hourly(s.ts) AS hourly
      FROM sent s
      GROUP BY s.customer_id) AS t
LEFT JOIN caught c USING (customer_id)
ORDER BY t.samples DESC, t.customer_id;

COMMENT ON VIEW spamhints.customer_sender IS
'Which of our customers send mail directly (sFlow): our customers whose addresses acted as SMTP clients (sampled packets to port 25), each sample matched to the customer who held its address at its time (spamhints.ip_assignment): addresses, first_seen and last_seen, samples, est_packets (sum of sampling rates), servers (distinct destinations), hourly (hist24 in the session''s TimeZone; chart(hourly) draws it), and whether our mail logs already caught them: caught, caught_spam and caught_virus events, last_caught; then (0.2) est_packets_low and est_packets_high, the 95% bounds of est_packets (spamhints.est_low/est_high). Busiest first. Not caught: WHERE NOT caught.';
COMMENT ON COLUMN spamhints.customer_sender.est_packets IS 'their estimated real packets (sum of sampling rates, each times its agent''s factor: spamhints.agent_rate)';
COMMENT ON COLUMN spamhints.customer_sender.est_packets_low IS 'lower 95% bound of est_packets: spamhints.est_low(samples, est_packets)';
COMMENT ON COLUMN spamhints.customer_sender.est_packets_high IS 'upper 95% bound of est_packets: spamhints.est_high(samples, est_packets)';

-- The sender score (53_sender_score.sql): per address that sent as an SMTP
-- client, the network-level features, the Wilson 95% intervals of its
-- shares, the score, and its est_packets (each agent's factor) with their
-- 95% bounds
CREATE FUNCTION spamhints.sender_score(window_start timestamptz, window_end timestamptz,
                                       min_samples integer DEFAULT 10)
RETURNS TABLE (ip inet, customer_id text, client_samples bigint, server_samples bigint,
               client_only boolean, servers bigint, server_networks bigint,
               syn_share float8, rst_share float8, active_hours bigint, hour_spread float8,
               network_senders bigint, network_addresses bigint, neighbour_share float8,
               dynamic boolean, score float8, abstained boolean, rank bigint,
               est_packets bigint, est_packets_low bigint, est_packets_high bigint,
               syn_share_low float8, syn_share_high float8, rst_share_low float8, rst_share_high float8,
               neighbour_share_low float8, neighbour_share_high float8)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH e AS (
        SELECT e.ip, e.peer, e.role <> 'server' AS as_client, e.role <> 'client' AS as_server,
               e.side, e.tcp_flags, e.ts, e.sampling_rate * coalesce(r.factor, 1) AS sampling_rate,
               network(set_masklen(e.ip, CASE WHEN family(e.ip) = 4 THEN 24 ELSE 48 END)) AS net
        FROM spamhints.endpoint e
        -- 0.2: each sample scaled by its agent's factor
        -- (load_agent itself, not the view agent_rate: a coordinator's shard_views() reads it across shards)
        LEFT JOIN (SELECT a.load_id, a.agent,
                          spamhints.rate_factor(sum(a.configured_rate * a.rate_samples),
                                                sum(a.effective_rate * a.rate_samples), sum(a.rate_samples)::float8) AS factor
                   FROM spamhints.load_agent a
                   WHERE a.configured_rate IS NOT NULL AND a.effective_rate IS NOT NULL AND a.rate_samples > 0
                   GROUP BY a.load_id, a.agent) AS r ON r.load_id = e.load_id AND r.agent = e.agent
        WHERE e.ts >= window_start AND e.ts < window_end
    ), per AS (
        SELECT e.ip, min(e.net) AS net,
               count(*) FILTER (WHERE e.as_client) AS client_samples,
               count(*) FILTER (WHERE e.as_server) AS server_samples,
               count(DISTINCT e.peer) FILTER (WHERE e.as_client) AS servers,
               count(DISTINCT network(set_masklen(e.peer, CASE WHEN family(e.peer) = 4 THEN 24 ELSE 48 END)))
                   FILTER (WHERE e.as_client) AS server_networks,
               count(*) FILTER (WHERE e.as_client AND e.side = 'src' AND e.tcp_flags & 18 = 2) AS syn,
               count(*) FILTER (WHERE e.as_client AND e.tcp_flags & 4 <> 0) AS rst,
               count(DISTINCT extract(hour FROM e.ts)) FILTER (WHERE e.as_client) AS active_hours,
               max(e.ts) FILTER (WHERE e.as_client) AS last_seen,
               coalesce(round(sum(e.sampling_rate) FILTER (WHERE e.as_client)), 0)::bigint AS est_packets
        FROM e
        GROUP BY e.ip
    ), nets AS (
        SELECT p.net, count(*) AS addresses, count(*) FILTER (WHERE p.client_samples > 0) AS senders
        FROM per p
        GROUP BY p.net
    ), f AS (
        SELECT p.ip,
               (SELECT a.customer_id FROM spamhints.ip_assignment a
                WHERE a.network >>= p.ip AND a.during @> p.last_seen) AS customer_id,
               p.client_samples, p.server_samples, p.server_samples = 0 AS client_only,
               p.servers, p.server_networks,
               p.syn::float8 / p.client_samples AS syn_share,
               p.rst::float8 / p.client_samples AS rst_share,
               p.active_hours,
               least(1, p.active_hours / (24 * (1 - power(23.0 / 24, p.client_samples))))::float8 AS hour_spread,
               n.senders AS network_senders, n.addresses AS network_addresses,
               CASE WHEN n.addresses > 1 THEN (n.senders - 1)::float8 / (n.addresses - 1) ELSE 0 END AS neighbour_share,
               EXISTS (SELECT FROM spamhints.ip_assignment a
                       WHERE a.network >>= p.ip AND NOT upper_inf(a.during)
                         -- the check first: a reversed window is not a range
                         AND a.during && CASE WHEN spamhints.window_check('sender_score', window_start, window_end)
                                              THEN tstzrange(window_start, window_end) END) AS dynamic,
               p.est_packets, p.syn AS syn_n, p.rst AS rst_n
        FROM per p
        JOIN nets n ON n.net = p.net
        WHERE p.client_samples > 0
    ), s AS (
        SELECT f.*,
               CASE WHEN f.client_samples >= min_samples THEN
                   0.25 * f.client_only::integer
                   + 0.25 * least(1, ln(f.server_networks) / ln(32))
                   + 0.15 * least(1, f.syn_share / 0.25)
                   + 0.10 * least(1, f.rst_share / 0.15)
                   + 0.10 * f.hour_spread
                   + 0.05 * f.neighbour_share
                   + 0.10 * f.dynamic::integer
               END AS score
        FROM f
    )
    SELECT s.ip, s.customer_id, s.client_samples, s.server_samples, s.client_only, s.servers,
           s.server_networks, s.syn_share, s.rst_share, s.active_hours, s.hour_spread,
           s.network_senders, s.network_addresses, s.neighbour_share, s.dynamic,
           round(s.score::numeric, 4)::float8, s.score IS NULL,
           CASE WHEN s.score IS NOT NULL THEN rank() OVER (ORDER BY round(s.score::numeric, 4) DESC NULLS LAST) END,
           s.est_packets, spamhints.est_low(s.client_samples, s.est_packets),
           spamhints.est_high(s.client_samples, s.est_packets),
           spamhints.wilson_low(s.syn_n, s.client_samples), spamhints.wilson_high(s.syn_n, s.client_samples),
           spamhints.wilson_low(s.rst_n, s.client_samples), spamhints.wilson_high(s.rst_n, s.client_samples),
           spamhints.wilson_low(s.network_senders - 1, s.network_addresses - 1),
           spamhints.wilson_high(s.network_senders - 1, s.network_addresses - 1)
    FROM s
    WHERE spamhints.window_check('sender_score', window_start, window_end)
    ORDER BY s.score DESC NULLS LAST, s.client_samples DESC, s.ip;
END;

COMMENT ON FUNCTION spamhints.sender_score(timestamptz, timestamptz, integer) IS
'Per address that sent as an SMTP client in [window_start, window_end) (spamhints.endpoint: the SMTP ports of each load), a score from 0 to 1 of how much it looks like a spam bot, from the network-level features sampled packets support, each shown: customer_id (holder at its last client sample, spamhints.ip_assignment), client_samples and server_samples, client_only (never a server), servers and server_networks (distinct servers it talked to, and their /24 or /48 networks), syn_share (SYN without ACK it sent, of its client samples), rst_share (RST either way, of its client samples), active_hours and hour_spread (distinct hours of day in the session''s TimeZone against 24 (1 - (23/24)^n), the hours n samples spread evenly fall in; 1 is as flat as can be), network_senders and network_addresses (addresses of its /24 or /48 in the window that send, and all seen) and neighbour_share ((senders - 1) / (addresses - 1)), dynamic (held under a bounded lease in the window). score = 0.25 client_only + 0.25 least(1, ln(server_networks) / ln 32) + 0.15 least(1, syn_share / 0.25) + 0.10 least(1, rst_share / 0.15) + 0.10 hour_spread + 0.05 neighbour_share + 0.10 dynamic: weights set by hand (role and fan-out first: they do not depend on how a bot talks), not fitted; bench/score.sh measures them. Abstains (score and rank NULL, abstained true) below min_samples client samples (default 10). rank by score (ties share one); est_packets (its client packets, sum of sampling rates) with est_packets_low and est_packets_high, the 95% bounds. Then (0.2) the Wilson 95% intervals of the three shares: syn_share_low and syn_share_high, rst_share_low and rst_share_high (of client_samples), neighbour_share_low and neighbour_share_high (network_senders - 1 of network_addresses - 1; NULL when it is alone in its network). Highest first. A window that ends before it starts is an error (22023), a NULL bound too (22004); an empty one has no rows, -infinity to infinity is all time.';

-- Reports (60_reports.sql, 71_schedules.sql). evidence gains est_rate, a
-- sample's sampling_rate times its agent's factor, at its end (on a
-- coordinator shard_views() rewrites it, the load_agent it reads included).
-- report_candidates() sums est_rate and returns the 95% bounds of its
-- est_packets at its end: 0.1's is dropped, and with it the materialized
-- view over it, report_queue, made again with its index, comments and grant.
-- report_items()' server_est sums est_rate; the human-readable part of a
-- report gives the bounds of its estimate of packets from port 25 too.
-- endpoint_text() refuses a port outside 0..65535 and a network (22023).
CREATE OR REPLACE FUNCTION spamhints.endpoint_text(ip inet, port integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
BEGIN
    IF port NOT BETWEEN 0 AND 65535 THEN
        RAISE EXCEPTION 'a port must be from 0 to 65535, not %', port
            USING ERRCODE = '22023';
    END IF;
    IF masklen(ip) <> (CASE WHEN family(ip) = 4 THEN 32 ELSE 128 END) THEN
        RAISE EXCEPTION 'an endpoint is one address, not the network %', ip
            USING ERRCODE = '22023';
    END IF;
    RETURN CASE WHEN family(ip) = 6 THEN '[' || host(ip) || ']' ELSE host(ip) END
           || coalesce(':' || port, '');
END
$$;

COMMENT ON FUNCTION spamhints.endpoint_text(inet, integer) IS
'An address and port as reports write them: 192.0.2.7:40123, [2001:db8::7]:40123 (an IPv4-mapped one as [::ffff:192.0.2.7]:40123); without the port when it is NULL, NULL for a NULL address. A port outside 0..65535 or a network (192.0.2.0/24), not one address, is an error (22023).';

-- poisson_bounds(): Wilson-Hilferty in float8 (2 n overflowed bigint above 4.6e18)
CREATE OR REPLACE FUNCTION spamhints.poisson_bounds(n bigint, OUT lower float8, OUT upper float8)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    z   CONSTANT float8 := 1.959963984540054;   -- the 97.5% normal quantile
    k   float8;
    lo  float8;
    hi  float8;
    mid float8;
BEGIN
    IF n < 0 THEN
        RAISE EXCEPTION 'a count of sampled packets cannot be negative: %', n
            USING ERRCODE = '22023';
    END IF;
    IF n > 100 THEN
        -- Wilson-Hilferty's cube-root approximation of the chi-square
        -- quantiles (lower: 2n degrees of freedom, upper: 2n + 2), halved, in
        -- float8 (0.2: 2 n in bigint overflowed above 4.6e18):
        -- within 0.01% of the exact bounds here
        k := 2 * n::float8;
        lower := k * power(1 - 2 / (9 * k) - z * sqrt(2 / (9 * k)), 3) / 2;
        k := 2 * n::float8 + 2;
        upper := k * power(1 - 2 / (9 * k) + z * sqrt(2 / (9 * k)), 3) / 2;
        RETURN;
    END IF;
    -- exact: lower is the mean at which P(X >= n) = 2.5%, upper the mean at
    -- which P(X <= n) = 2.5%, found by bisection (P(X <= c) falls as the mean grows)
    IF n = 0 THEN
        lower := 0;
    ELSE
        lo := 0;
        hi := n;
        FOR i IN 1..60 LOOP
            mid := (lo + hi) / 2;
            IF spamhints.poisson_cdf(n - 1, mid) > 0.975 THEN lo := mid; ELSE hi := mid; END IF;
        END LOOP;
        lower := (lo + hi) / 2;
    END IF;
    lo := n;
    hi := n + 10 + 10 * sqrt(n);
    FOR i IN 1..60 LOOP
        mid := (lo + hi) / 2;
        IF spamhints.poisson_cdf(n, mid) > 0.025 THEN lo := mid; ELSE hi := mid; END IF;
    END LOOP;
    upper := (lo + hi) / 2;
END
$$;

COMMENT ON FUNCTION spamhints.poisson_bounds(bigint) IS
'The 95% confidence bounds of the mean of a Poisson count n (two-sided, 2.5% each side): exact (by bisection on spamhints.poisson_cdf) up to n = 100, Wilson-Hilferty''s approximation above, within 0.1%. n sampled packets at 1 in N: between lower * N and upper * N packets. E.g. poisson_bounds(3) = (0.619, 8.767).';

-- poisson_cdf(): 0 below zero, an error for a mean that is negative, NaN or
-- above 700, and no more terms than add to the sum
CREATE OR REPLACE FUNCTION spamhints.poisson_cdf(c bigint, mean float8) RETURNS float8
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    term float8;
    total float8;
    k bigint := 0;
BEGIN
    IF NOT (mean >= 0) OR mean = 'NaN'::float8 THEN
        RAISE EXCEPTION 'a Poisson mean must be zero or more, not %', mean
            USING ERRCODE = '22023';
    END IF;
    IF mean > 700 THEN
        RAISE EXCEPTION 'poisson_cdf() cannot take a mean above 700 (exp(-mean) underflows), not %', mean
            USING ERRCODE = '22003';
    END IF;
    IF c < 0 THEN
        RETURN 0;
    END IF;
    term := exp(-mean);
    total := term;
    -- past the mean the terms fall: once they no longer add to the sum, stop
    WHILE k < c LOOP
        k := k + 1;
        term := term * mean / k;
        EXIT WHEN k > mean AND term <= total * 1e-17;
        total := total + term;
    END LOOP;
    RETURN least(total, 1);
END
$$;

COMMENT ON FUNCTION spamhints.poisson_cdf(bigint, float8) IS
'P(X <= c) for a Poisson count X of that mean: the sum of its first c + 1 terms, until they no longer add to it (for the small counts spamhints.poisson_bounds uses it for); 0 for a negative c. A negative or NaN mean is an error (22023); so is a mean above 700, where exp(-mean) underflows (22003).';

-- counted(): a negative count is an error (22023)
CREATE OR REPLACE FUNCTION spamhints.counted(n bigint, one text, many text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
BEGIN
    IF n < 0 THEN
        RAISE EXCEPTION 'a count cannot be negative: %', n
            USING ERRCODE = '22023';
    END IF;
    RETURN n || ' ' || CASE WHEN n = 1 THEN one ELSE many END;
END
$$;

COMMENT ON FUNCTION spamhints.counted(bigint, text, text) IS
'A count as reports write it: counted(1, ''item'', ''items'') = 1 item, counted(3, ''item'', ''items'') = 3 items; a negative count is an error (22023).';

DROP MATERIALIZED VIEW spamhints.report_queue;
DROP FUNCTION spamhints.report_candidates(tstzrange, timestamptz);

CREATE OR REPLACE VIEW spamhints.evidence AS
SELECT s.src_ip AS source_ip,
       CASE WHEN s.dst_port = 25 THEN 'traffic' ELSE 'server' END AS kind,
       s.ts, s.src_port AS source_port, s.dst_ip AS peer, s.dst_port AS peer_port,
       coalesce(s.src_asn, s.gw_src_as) AS asn,
       s.sampling_rate, s.tcp_flags, s.smtp,
       NULL::text AS mail_host, NULL::text AS client_name, NULL::text AS helo, NULL::bigint AS size,
       NULL::text AS sender, NULL::text[] AS recipients, NULL::text AS verdict, NULL::text AS virus,
       NULL::numeric AS spam_score, NULL::text AS reason, NULL::text AS log_timezone,
       'load ' || s.load_id || ' frame ' || s.frame AS ref,
       s.sampling_rate * coalesce(f.factor, 1) AS est_rate
FROM spamhints.smtp_sample s
-- 0.2: each sample's agent's factor (spamhints.agent_rate; load_agent itself,
-- not the view: a coordinator's shard_views() reads it across shards)
LEFT JOIN (SELECT a.load_id, a.agent,
                  spamhints.rate_factor(sum(a.configured_rate * a.rate_samples),
                                        sum(a.effective_rate * a.rate_samples), sum(a.rate_samples)::float8) AS factor
           FROM spamhints.load_agent a
           WHERE a.configured_rate IS NOT NULL AND a.effective_rate IS NOT NULL AND a.rate_samples > 0
           GROUP BY a.load_id, a.agent) AS f ON f.load_id = s.load_id AND f.agent = s.agent
WHERE s.dst_port = 25 OR s.src_port = 25
UNION ALL
SELECT e.client_ip, e.verdict, e.ts, e.client_port, NULL::inet, NULL::integer,
       e.client_asn, NULL::integer, NULL::integer, NULL::text,
       e.host, e.client_name, e.helo, e.size, e.sender, e.recipients, e.verdict, e.virus,
       e.spam_score, e.reason, l.timezone,
       'mail log ' || e.maillog_load_id || ' line ' || e.line,
       NULL::float8
FROM spamhints.mail_event e
JOIN spamhints.maillog_load l ON l.maillog_load_id = e.maillog_load_id
WHERE e.verdict <> 'clean';

COMMENT ON VIEW spamhints.evidence IS
'Every item of evidence about a source address, as reports list it. kind: traffic (a sampled packet it sent to port 25: it acts as a mail client), server (a sampled packet from its port 25: it answers as a mail server), spam, virus, rejected (mail our mail servers received from it, with that verdict; clean mail is no evidence). With the time, the source port, the peer (traffic, server), asn (enrichment, else the sFlow gateway''s source AS), the sampling rate, TCP flags and SMTP verb of samples, the mail log fields of events, and ref: where it comes from (load and frame, mail log load and line); then (0.2) est_rate, the packets a sample stands for: its sampling_rate times its agent''s factor (spamhints.agent_rate), NULL for mail events.';

COMMENT ON COLUMN spamhints.evidence.est_rate IS 'the packets the sample stands for: sampling_rate times its agent''s factor (spamhints.agent_rate); NULL for mail events';

GRANT SELECT (est_rate) ON spamhints.evidence TO spamhints_analyst;

CREATE FUNCTION spamhints.report_candidates(period tstzrange, at timestamptz DEFAULT now())
RETURNS TABLE (agreement_id integer, isp text, abuse_address text, source_ip inet, asn bigint,
               evidence text[], new_evidence text[], diagnosis text[],
               first_ts timestamptz, last_ts timestamptz, samples bigint, est_packets bigint,
               events bigint, items bigint, suppressed boolean, minutes bigint, min_samples integer,
               min_minutes integer, est_packets_low bigint, est_packets_high bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, spamhints
AS $$
    WITH src AS (
        SELECT e.source_ip,
               array_agg(DISTINCT e.kind ORDER BY e.kind) AS kinds,
               (array_agg(e.asn ORDER BY e.ts) FILTER (WHERE e.asn IS NOT NULL))[1] AS asn,
               min(e.ts) AS first_ts,
               max(e.ts) AS last_ts,
               count(*) FILTER (WHERE e.kind = 'traffic') AS samples,
               count(DISTINCT date_trunc('minute', e.ts)) FILTER (WHERE e.kind = 'traffic') AS minutes,
               -- 0.2: each sample scaled by its agent's factor (evidence.est_rate)
               coalesce(round(sum(e.est_rate) FILTER (WHERE e.kind = 'traffic')), 0)::bigint AS est_packets,
               count(*) FILTER (WHERE e.kind IN ('spam', 'virus', 'rejected')) AS events,
               count(*) AS items
        FROM spamhints.evidence e
        WHERE e.ts <@ coalesce(period, '(,)')   -- NULL: all time
        GROUP BY e.source_ip
    ), scoped AS (
        -- only addresses of ISPs that agreed, and in force at the time of the report
        SELECT g.agreement_id, g.isp, g.abuse_address,
               coalesce(g.suppression, spamhints.setting('report_suppression')::interval) AS suppression,
               coalesce(g.min_samples, spamhints.setting('report_min_samples')::integer) AS min_samples,
               spamhints.setting('report_min_minutes')::integer AS min_minutes,
               s.*
        FROM src s
        JOIN spamhints.agreement g
          ON (s.source_ip <<= ANY (g.networks) OR s.asn = ANY (g.asns))
         AND NOT (s.source_ip <<= ANY (g.exclude))
         AND g.agreed_at <= at
         AND (g.withdrawn_at IS NULL OR g.withdrawn_at > at)
    )
    SELECT c.agreement_id, c.isp, c.abuse_address, c.source_ip, c.asn, c.kinds,
           ARRAY(SELECT k FROM unnest(c.kinds) AS k
                 WHERE k <> ALL (coalesce(r.kinds, '{}')) ORDER BY k),
           ARRAY(SELECT d.name FROM (VALUES
                   (1, 'virus', 'virus' = ANY (c.kinds)),
                   (2, 'spam sender', 'spam' = ANY (c.kinds) OR 'rejected' = ANY (c.kinds)
                                      OR ('traffic' = ANY (c.kinds) AND NOT 'server' = ANY (c.kinds)
                                          AND NOT 'virus' = ANY (c.kinds))),
                   (3, 'open server', 'server' = ANY (c.kinds) AND 'traffic' = ANY (c.kinds))
                 ) AS d(n, name, holds) WHERE d.holds ORDER BY d.n),
           c.first_ts, c.last_ts, c.samples, c.est_packets, c.events, c.items,
           c.kinds <@ coalesce(r.kinds, '{}'), c.minutes, c.min_samples, c.min_minutes,
           spamhints.est_low(c.samples, c.est_packets), spamhints.est_high(c.samples, c.est_packets)
    FROM scoped c
    LEFT JOIN LATERAL (
        SELECT array_agg(DISTINCT k) AS kinds
        FROM spamhints.report_log l, unnest(l.evidence) AS k
        WHERE l.agreement_id = c.agreement_id AND l.source_ip = c.source_ip
          AND l.reported_at > at - c.suppression AND l.reported_at <= at
    ) AS r ON true
    -- a mail-log verdict, or enough sampled packets over more than a moment
    WHERE c.events > 0 OR (c.samples >= c.min_samples AND c.minutes >= c.min_minutes)
    ORDER BY c.isp, c.source_ip
$$;

COMMENT ON FUNCTION spamhints.report_candidates(tstzrange, timestamptz) IS
'What spamhints.report(period) would report at time at, without producing anything: per agreed ISP (in force at at) and source address of theirs with evidence in period (NULL: all time; report() itself needs a bounded period) (a mail-log verdict, or at least min_samples sampled client packets, agreement.min_samples or the setting report_min_samples, in at least min_minutes different minutes, the setting report_min_minutes): the kinds of evidence (traffic, server, spam, virus, rejected), new_evidence (kinds not reported to that ISP for that address within its suppression window before at), the diagnosis (virus, spam sender, open server), first and last evidence time, samples, est_packets (the sum of their sampling rates, each times its agent''s factor: evidence.est_rate, spamhints.agent_rate), mail events, items; suppressed when there is nothing new; minutes (the different minutes of its samples) and the thresholds it met; then (0.2) est_packets_low and est_packets_high, the 95% bounds of est_packets (spamhints.est_low/est_high; est_packets_high is NULL without sampled packets). Addresses of ISPs without an agreement never appear.';

-- report_period_text(): NULL for an empty or unbounded period, now in its COMMENT
COMMENT ON FUNCTION spamhints.report_period_text(tstzrange) IS
'A report period as reports write it: 2007-03-14 00:00:00 UTC to 2007-03-15 00:00:00 UTC. NULL for an empty period or one with an unbounded end, which no report has (report() refuses them, 22023).';

CREATE MATERIALIZED VIEW spamhints.report_queue AS
SELECT spamhints.yesterday(now()) AS period, now() AS as_of, c.*
FROM spamhints.report_candidates(spamhints.yesterday(now()), now()) AS c;

CREATE UNIQUE INDEX report_queue_key ON spamhints.report_queue (agreement_id, source_ip);

COMMENT ON MATERIALIZED VIEW spamhints.report_queue IS
'Per agreed ISP, the addresses of theirs with evidence yesterday (UTC) as of the last spamhints.refresh() (as_of): spamhints.report_candidates() for that day; suppressed ones are already reported and have nothing new; est_packets with its 95% bounds est_packets_low and est_packets_high. What the daily spamhints.report() run turns into reports.';

COMMENT ON COLUMN spamhints.report_queue.period IS 'the day the evidence is from';
COMMENT ON COLUMN spamhints.report_queue.as_of IS 'when spamhints.refresh() computed the row';
COMMENT ON COLUMN spamhints.report_queue.agreement_id IS 'the agreement (spamhints.agreement)';
COMMENT ON COLUMN spamhints.report_queue.isp IS 'the ISP';
COMMENT ON COLUMN spamhints.report_queue.abuse_address IS 'where the report goes';
COMMENT ON COLUMN spamhints.report_queue.source_ip IS 'the address to report';
COMMENT ON COLUMN spamhints.report_queue.asn IS 'its AS';
COMMENT ON COLUMN spamhints.report_queue.evidence IS 'the kinds of evidence: traffic, server, spam, virus, rejected';
COMMENT ON COLUMN spamhints.report_queue.new_evidence IS 'the kinds not reported to this ISP for this address within the suppression window';
COMMENT ON COLUMN spamhints.report_queue.diagnosis IS 'what the evidence says the address is doing';
COMMENT ON COLUMN spamhints.report_queue.first_ts IS 'its first item';
COMMENT ON COLUMN spamhints.report_queue.last_ts IS 'its last item';
COMMENT ON COLUMN spamhints.report_queue.samples IS 'its sampled packets';
COMMENT ON COLUMN spamhints.report_queue.est_packets IS 'their estimated real packets (sum of sampling rates, each times its agent''s factor: spamhints.agent_rate)';
COMMENT ON COLUMN spamhints.report_queue.events IS 'its mail events';
COMMENT ON COLUMN spamhints.report_queue.items IS 'its items of evidence';
COMMENT ON COLUMN spamhints.report_queue.suppressed IS 'true when already reported with nothing new: no report';
COMMENT ON COLUMN spamhints.report_queue.minutes IS 'distinct minutes of the address''s sampled SMTP client packets in the period';
COMMENT ON COLUMN spamhints.report_queue.min_samples IS 'the sampled packets an address with traffic evidence only needs to be reported (the agreement''s min_samples, or the setting report_min_samples)';
COMMENT ON COLUMN spamhints.report_queue.min_minutes IS 'the distinct minutes it needs (the setting report_min_minutes)';
COMMENT ON COLUMN spamhints.report_queue.est_packets_low IS 'lower 95% bound of est_packets: spamhints.est_low(samples, est_packets)';
COMMENT ON COLUMN spamhints.report_queue.est_packets_high IS 'upper 95% bound of est_packets: spamhints.est_high(samples, est_packets) (NULL without sampled packets)';

GRANT SELECT ON spamhints.report_queue TO spamhints_analyst;

CREATE OR REPLACE FUNCTION spamhints.report_items(period tstzrange, for_isp text DEFAULT NULL,
                                       at timestamptz DEFAULT now())
RETURNS SETOF spamhints.report_item
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, spamhints
SET IntervalStyle = 'postgres'
SET DateStyle = 'ISO, YMD'
AS $$
#variable_conflict use_column
DECLARE
    max_items  integer := spamhints.setting('report_max_items')::integer;
BEGIN
    RETURN QUERY
        WITH cand AS (
            SELECT k.*, g.reference, g.agreed_at, g.include_mail_addresses,
                   coalesce(g.suppression, spamhints.setting('report_suppression')::interval) AS suppression
            FROM spamhints.report_candidates(period, at) AS k
            JOIN spamhints.agreement g ON g.agreement_id = k.agreement_id
            WHERE NOT k.suppressed AND (for_isp IS NULL OR k.isp = for_isp)
        ), ev AS (
            SELECT e.*,
                   CASE WHEN e.kind IN ('traffic', 'server') THEN e.kind ELSE 'mail' END AS grp,
                   row_number() OVER (PARTITION BY e.source_ip,
                                          CASE WHEN e.kind IN ('traffic', 'server') THEN e.kind ELSE 'mail' END
                                      ORDER BY e.ts, e.ref) AS rn
            FROM spamhints.evidence e
            WHERE e.ts <@ coalesce(period, '(,)') AND e.source_ip IN (SELECT k.source_ip FROM cand k)
        ), lined AS (
            SELECT ev.*,
                   '  ' || spamhints.utc_text(ev.ts) || ' UTC  '
                   || CASE WHEN ev.grp = 'mail' THEN
                          'from ' || spamhints.endpoint_text(ev.source_ip, ev.source_port)
                          || coalesce(' (' || ev.client_name || ')', '')
                          || coalesce(' HELO "' || ev.helo || '"', '')
                          || coalesce(' to ' || ev.mail_host, '')
                          || coalesce(', ' || ev.size || ' bytes', '')
                      ELSE
                          spamhints.endpoint_text(ev.source_ip, ev.source_port) || ' -> '
                          || spamhints.endpoint_text(ev.peer, ev.peer_port)
                          || '  ' || coalesce(nullif(spamhints.tcp_flags_text(ev.tcp_flags), ''), 'no flags')
                          || coalesce('  ' || ev.smtp, '')
                          || '  sampled 1 in ' || ev.sampling_rate
                      END
                   || '  [' || ev.ref || ']' AS line,
                   CASE WHEN ev.grp = 'mail' THEN
                       E'\n      '
                       || coalesce('<' || ev.sender || '>', '(no sender)') || ' -> '
                       || coalesce((SELECT string_agg('<' || r || '>', ', ') FROM unnest(ev.recipients) AS r), '(no recipients)')
                   END AS addresses,
                   CASE WHEN ev.grp = 'mail' THEN
                       E'\n      '
                       || CASE ev.verdict
                              WHEN 'virus' THEN 'virus ' || coalesce(ev.virus, '(no name given)')
                              WHEN 'spam' THEN 'spam' || coalesce(', SpamAssassin score ' || ev.spam_score, '')
                              ELSE 'rejected' END
                       || coalesce(': ' || ev.reason, '')
                   END AS verdict_line
            FROM ev
        ), agg AS (
            SELECT l.source_ip,
                   string_agg(l.line, E'\n' ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic' AND l.rn <= max_items) AS traffic_lines,
                   count(*) FILTER (WHERE l.grp = 'traffic') AS traffic_n,
                   count(DISTINCT l.peer) FILTER (WHERE l.grp = 'traffic') AS servers,
                   min(l.ts) FILTER (WHERE l.grp = 'traffic') AS traffic_first,
                   max(l.ts) FILTER (WHERE l.grp = 'traffic') AS traffic_last,
                   string_agg(l.line, E'\n' ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'server' AND l.rn <= max_items) AS server_lines,
                   count(*) FILTER (WHERE l.grp = 'server') AS server_n,
                   count(DISTINCT l.peer) FILTER (WHERE l.grp = 'server') AS clients,
                   coalesce(round(sum(l.est_rate) FILTER (WHERE l.grp = 'server')), 0)::bigint AS server_est,
                   string_agg(l.line || l.addresses || l.verdict_line, E'\n' ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'mail' AND l.rn <= max_items) AS mail_lines_full,
                   string_agg(l.line || l.verdict_line, E'\n' ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'mail' AND l.rn <= max_items) AS mail_lines_bare,
                   count(*) FILTER (WHERE l.grp = 'mail') AS mail_n,
                   string_agg(DISTINCT l.virus, ', ') AS viruses,
                   string_agg(DISTINCT l.log_timezone, ', ') AS zones,
                   count(DISTINCT date_trunc('minute', l.ts)) FILTER (WHERE l.grp = 'traffic') AS traffic_minutes,
                   min(l.sampling_rate) FILTER (WHERE l.grp = 'traffic') AS rate_min,
                   max(l.sampling_rate) FILTER (WHERE l.grp = 'traffic') AS rate_max,
                   count(DISTINCT network(set_masklen(l.peer::cidr, CASE WHEN family(l.peer) = 4 THEN 24 ELSE 48 END)))
                       FILTER (WHERE l.grp = 'server') AS client_networks,
                   -- the first sampled client packet: the incident when no mail event is
                   (array_agg(l.source_port ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic'))[1] AS p_port,
                   (array_agg(l.ts ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic'))[1] AS p_ts,
                   (array_agg(l.ref ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic'))[1] AS p_ref,
                   (array_agg(l.peer ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic'))[1] AS p_peer,
                   (array_agg(l.peer_port ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic'))[1] AS p_peer_port,
                   (array_agg(l.tcp_flags ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic'))[1] AS p_flags,
                   (array_agg(l.smtp ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic'))[1] AS p_smtp,
                   (array_agg(l.sampling_rate ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic'))[1] AS p_rate,
                   (array_agg(l.ref ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'mail'))[1] AS first_mail_ref
            FROM lined l
            GROUP BY l.source_ip
        )
        SELECT k.agreement_id, k.isp, k.abuse_address, k.source_ip, k.asn,
               k.evidence, k.new_evidence, k.diagnosis, k.est_packets, k.events, k.items,
               k.reference, k.agreed_at, k.include_mail_addresses, k.suppression,
               a.traffic_lines, a.traffic_n, a.servers, a.traffic_first, a.traffic_last,
               a.server_lines, a.server_n, a.clients, a.server_est,
               a.mail_lines_full, a.mail_lines_bare, a.mail_n, a.viruses, a.zones,
               CASE WHEN m.m_ts IS NOT NULL THEN m.m_port ELSE a.p_port END,
               coalesce(m.m_ts, a.p_ts),
               m.m_ts, m.m_host, m.m_name, m.m_helo, m.m_port, m.m_sender, m.m_recipients,
               k.samples, a.traffic_minutes, k.min_samples, k.min_minutes, a.rate_min, a.rate_max, a.client_networks,
               CASE WHEN m.m_ts IS NOT NULL THEN a.first_mail_ref ELSE a.p_ref END,
               CASE WHEN m.m_ts IS NULL THEN a.p_peer END,
               CASE WHEN m.m_ts IS NULL THEN a.p_peer_port END,
               CASE WHEN m.m_ts IS NULL THEN a.p_flags END,
               CASE WHEN m.m_ts IS NULL THEN a.p_smtp END,
               CASE WHEN m.m_ts IS NULL THEN a.p_rate END
        FROM cand k
        JOIN agg a ON a.source_ip = k.source_ip
        LEFT JOIN LATERAL (
            SELECT e.ts AS m_ts, e.host AS m_host, e.client_name AS m_name, e.helo AS m_helo,
                   e.client_port AS m_port, e.sender AS m_sender, e.recipients AS m_recipients
            FROM spamhints.mail_event e
            WHERE 'mail log ' || e.maillog_load_id || ' line ' || e.line = a.first_mail_ref
              AND e.client_ip = k.source_ip AND e.ts <@ coalesce(period, '(,)')
            ORDER BY e.ts LIMIT 1
        ) AS m ON true
        ORDER BY k.isp, k.source_ip;
END
$$;

COMMENT ON FUNCTION spamhints.report_items(tstzrange, text, timestamptz) IS
'What spamhints.report(period, for_isp, at) reports, one spamhints.report_item per agreed ISP and source address with something new to report (spamhints.report_candidates, not suppressed), ordered by isp and source address (period NULL: all time, as report_candidates): the evidence listed per kind, up to the setting report_max_items each, and the one incident the machine-readable and headers parts describe (its first mail event, else its first sampled client packet). Reads the mail addresses (personal data): not executable by PUBLIC. E.g. SELECT * FROM spamhints.report_items(spamhints.yesterday());';

COMMENT ON TYPE spamhints.report_item IS
'What a report says about one source address, as spamhints.report_items() gathers it: the agreed ISP (agreement_id, isp, abuse_address, reference, agreed_at, include_mail_addresses, suppression), the candidate''s evidence, new_evidence, diagnosis, est_packets, events and items (spamhints.report_candidates), the listed evidence lines per kind (traffic_lines, server_lines, mail_lines_full with the mail addresses, mail_lines_bare without them; up to the setting report_max_items each) with their counts (traffic_n, server_n, mail_n), the servers and clients it talked to, server_est (the estimate of its server packets: sampling rates times their agents'' factors, evidence.est_rate), the viruses and the mail logs'' time zones; m_*: the first mail event of its (time, host, client name, HELO, port, sender, recipients); the incident the machine-readable and headers parts describe, its first mail event or else its first sampled client packet: first_port and arrival (its port and time), incident_ref (where it is from) and, for a packet, incident_peer, incident_peer_port, incident_flags, incident_smtp, incident_rate; samples and traffic_minutes (its sampled client packets and the different minutes they fall in), the thresholds min_samples and min_minutes it was judged by, rate_min and rate_max (the sampling rates of its client packets), client_networks (the networks, /24 or /48, of the clients it answered as a server).';

CREATE OR REPLACE FUNCTION spamhints.report_human(item spamhints.report_item, period tstzrange, message_id text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, spamhints
SET IntervalStyle = 'postgres'
SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
    max_items  integer := spamhints.setting('report_max_items')::integer;
    sender     text := spamhints.setting('report_from');
    retention  text := spamhints.setting('retention')::interval::text;
    missing    text;
    human      text;
    b          record;
BEGIN
    SELECT * INTO b FROM spamhints.poisson_bounds(greatest(coalesce(item.traffic_n, 0), 0));
    -- a report gives its evidence: an item that does not list what it counts
    -- makes none
    missing := CASE WHEN item.items IS NULL OR item.items < 1 THEN 'evidence'
                    WHEN coalesce(cardinality(item.diagnosis), 0) = 0 THEN 'diagnosis'
                    WHEN coalesce(item.traffic_n, 0) + coalesce(item.server_n, 0) + coalesce(item.mail_n, 0) = 0 THEN 'evidence'
                    WHEN item.traffic_n > 0 AND item.traffic_lines IS NULL THEN 'sampled packets'
                    WHEN item.server_n > 0 AND item.server_lines IS NULL THEN 'sampled packets from its port 25'
                    WHEN item.mail_n > 0 AND item.include_mail_addresses AND item.mail_lines_full IS NULL THEN 'mail events'
                    WHEN item.mail_n > 0 AND NOT item.include_mail_addresses AND item.mail_lines_bare IS NULL THEN 'mail events'
               END;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'the report about % would not list its %: no report is made', host(item.source_ip), missing
            USING ERRCODE = '22023', HINT = 'An item from spamhints.report_items() lists its evidence; check the setting report_max_items.';
    END IF;
    human := format(E'Abuse report about %s%s\n\n', host(item.source_ip), coalesce(' (AS' || item.asn || ')', ''))
          || format(E'This report is about %s, an address in your network.\n', host(item.source_ip))
          || format(E'You agreed to receive reports based on traffic data on %s%s.\n',
                    to_char(item.agreed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                    coalesce(' (' || item.reference || ')', ''))
          || E'We send them to no one who has not agreed. This report follows the Best\n' ||
             E'Practice document on reporting abuse from traffic data.\n\n'
          || 'Diagnosis: ' || array_to_string(item.diagnosis, ', ') || E'\n'
          || CASE WHEN 'virus' = ANY (item.diagnosis) THEN format(E'- virus: our mail servers received mail from this address that carried a\n  virus (%s): the computer is probably infected.\n', item.viruses) ELSE '' END
          || CASE WHEN 'spam sender' = ANY (item.diagnosis) THEN
                 CASE WHEN item.events > 0
                      THEN E'- spam sender: our mail servers received spam from this address, or\n  refused its mail.\n'
                      ELSE E'- spam sender: this address sends mail directly to mail servers (port 25)\n  instead of through its provider''s mail servers, as a computer infected\n  with spam-sending malware does.\n' END
             ELSE '' END
          || CASE WHEN 'open server' = ANY (item.diagnosis) THEN
                 format(E'- open server: this address answers SMTP as a mail server (sampled packets\n  from its port 25 to %s in %s) and also connects to port 25\n  of %s. A mail server that sends its users'' mail does\n  both; so does an open relay or proxy. These packets do not show which.\n',
                        spamhints.counted(item.clients, 'client', 'clients'),
                        spamhints.counted(item.client_networks, 'network', 'networks'),
                        spamhints.counted(item.servers, 'other mail server', 'other mail servers'))
             ELSE '' END
          || format(E'\nPeriod covered: %s.\n', spamhints.report_period_text(period))
          || E'Every time below is UTC (time zone +00:00).\n'
          || format(E'Evidence: %s items (%s).\n%s\n',
                    item.items, array_to_string(item.evidence, ', '),
                    CASE WHEN item.new_evidence = item.evidence
                         THEN format('We have not reported this address to you in the last %s.', item.suppression)
                         ELSE format('New since our last report to you about it (within %s): %s.', item.suppression, array_to_string(item.new_evidence, ', ')) END)
          || format(E'The machine-readable part and the headers part describe one incident: the\nfirst %s from this address, at %s UTC [%s].\n%s\n',
                    CASE WHEN item.m_ts IS NOT NULL THEN 'mail' ELSE 'sampled packet' END,
                    spamhints.utc_text(item.arrival), item.incident_ref,
                    CASE WHEN item.items > 1 THEN format('The other %s of evidence %s listed here (Incidents: %s).',
                                                         spamhints.counted(item.items - 1, 'item', 'items'),
                                                         CASE WHEN item.items = 2 THEN 'is' ELSE 'are' END, item.items)
                         ELSE 'It is the only item of evidence (Incidents: 1).' END)
          || CASE WHEN item.traffic_n > 0 THEN
                 format(E'\nSampled SMTP packets from %s to mail servers (port 25)\n', host(item.source_ip))
                 || E'Switches in our network sample one packet in N ("sampled 1 in N" below)\n' ||
                    E'and send its headers to our collector, which timed it on arrival; each\n' ||
                    E'sampled packet stands for about N packets.\n\n'
                 || item.traffic_lines || E'\n'
                 || CASE WHEN item.traffic_n > max_items THEN format(E'  ... and %s more sampled packets, not listed\n', item.traffic_n - max_items) ELSE '' END
                 || format(E'  In all: %s at %s to %s, in %s,\n  from %s UTC to %s UTC.\n  About %s packets (95%% bounds %s to %s: %s Poisson bounds on the\n  count of samples, scaled by the %ssampling rate).\n',
                           spamhints.counted(item.traffic_n, 'sampled packet', 'sampled packets'),
                           CASE WHEN item.rate_min = item.rate_max THEN '1 in ' || item.rate_min
                                ELSE format('1 in %s to 1 in %s', item.rate_min, item.rate_max) END,
                           spamhints.counted(item.servers, 'mail server', 'mail servers'),
                           spamhints.counted(item.traffic_minutes, 'minute', 'different minutes'),
                           spamhints.utc_text(item.traffic_first), spamhints.utc_text(item.traffic_last),
                           to_char(item.est_packets, 'FM999,999,999,999,999,990'),
                           to_char(round(b.lower * item.est_packets / item.traffic_n), 'FM999,999,999,999,999,990'),
                           to_char(round(b.upper * item.est_packets / item.traffic_n), 'FM999,999,999,999,999,990'),
                           CASE WHEN item.traffic_n <= 100 THEN 'exact' ELSE 'approximate (Wilson-Hilferty)' END,
                           CASE WHEN item.rate_min = item.rate_max THEN '' ELSE 'average ' END)
                 || format(E'We report an address when our mail servers caught its mail, or on sampled\npackets alone when it has at least %s of them in at least %s\nof the period. This one has %s in %s%s.\n',
                           item.min_samples, spamhints.counted(item.min_minutes, 'minute', 'different minutes'),
                           spamhints.counted(item.traffic_n, 'sampled packet', 'sampled packets'),
                           spamhints.counted(item.traffic_minutes, 'minute', 'minutes'),
                           CASE WHEN item.events > 0 THEN ' and ' || spamhints.counted(item.events, 'mail event', 'mail events') ELSE '' END)
             ELSE '' END
          || CASE WHEN item.server_n > 0 THEN
                 format(E'\nSampled SMTP packets from port 25 of %s (it answers as a mail server)\n\n', host(item.source_ip))
                 || item.server_lines || E'\n'
                 || CASE WHEN item.server_n > max_items THEN format(E'  ... and %s more sampled packets, not listed\n', item.server_n - max_items) ELSE '' END
                 || format(E'  In all: %s sampled (about %s packets, 95%% bounds %s to %s) to %s\n  in %s (/24 for IPv4, /48 for IPv6).\n', item.server_n,
                           to_char(item.server_est, 'FM999,999,999,999,999,990'),
                           to_char(spamhints.est_low(item.server_n, item.server_est), 'FM999,999,999,999,999,990'),
                           to_char(spamhints.est_high(item.server_n, item.server_est), 'FM999,999,999,999,999,990'),
                           spamhints.counted(item.clients, 'client', 'clients'), spamhints.counted(item.client_networks, 'network', 'networks'))
             ELSE '' END
          || CASE WHEN item.mail_n > 0 THEN
                 format(E'\nMail from %s to our mail servers\n', host(item.source_ip))
                 || format(E'Taken from our mail servers'' logs; their times were converted to UTC from the\nservers'' time zone (%s). Sizes in bytes.', item.zones)
                 || CASE WHEN item.include_mail_addresses
                         THEN E'\nEnvelope sender and recipient addresses are as the client gave them: the\nsender is often forged.\n\n'
                         ELSE E'\nSender and recipient addresses are left out, as agreed.\n\n' END
                 || CASE WHEN item.include_mail_addresses THEN item.mail_lines_full
                         ELSE regexp_replace(item.mail_lines_bare, '[^[:space:]<>"(),;:]+@[^[:space:]<>"(),;:]+', '(address removed)', 'g') END
                 || E'\n'
                 || CASE WHEN item.mail_n > max_items THEN format(E'  ... and %s more messages, not listed\n', item.mail_n - max_items) ELSE '' END
             ELSE '' END
          || E'\nWARNING: PERSONAL DATA\n'
          -- exactly the personal data it holds
          || 'This report contains personal data: IP addresses and times'
          || CASE WHEN coalesce(item.mail_n, 0) = 0 THEN E'.\n'
                  WHEN item.include_mail_addresses
                  THEN E', host names\nclients gave, and the mail addresses of senders and recipients (many forged,\nbut some may be real people''s).\n'
                  ELSE E', and host names\nclients gave.\n' END
          || E'You receive it only so that you can stop abuse from your network, under\n' ||
             E'our agreement. Use it for that alone; keep it confidential and secure; do\n' ||
             E'not pass it on (tell your customer what they need to know, without other\n' ||
             E'people''s data); and delete it when\n'
          || format(E'the problem is dealt with, within %s at the latest, as we do.\n', retention)
          || format(E'\nReplies to %s. Reference: %s.\n', sender, message_id);
    IF human IS NULL THEN
        RAISE EXCEPTION 'the human-readable part of the report about % would be empty: no report is made', host(item.source_ip)
            USING ERRCODE = '22023', HINT = 'An item from spamhints.report_items() has every field it needs.';
    END IF;
    RETURN human;
END
$$;

COMMENT ON FUNCTION spamhints.report_human(spamhints.report_item, tstzrange, text) IS
'The human-readable part of a report (text/plain): the address, the agreement it is sent under, the diagnosis and what it means (for an open server what was observed, not a verdict), the period, which incident the other parts describe, every item of evidence timed in UTC (up to the setting report_max_items per kind, mail addresses only when the agreement includes them), the counts of sampled packets with their estimate and its 95% Poisson bounds, and the thresholds of evidence (report_min_samples, report_min_minutes), the warning that says which personal data it holds, with the retention, and where replies go (the setting report_from, message_id). An item that does not list its evidence (no lines for a kind it counts, no diagnosis) makes no text: an error (22023).';

-- ===========================================================================
-- refresh() loads the module before its parallel REFRESH (71_schedules.sql):
-- no warning from the database's spamhints.* settings

CREATE OR REPLACE FUNCTION spamhints.refresh() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    mv text;
BEGIN
    -- load the module here, in this backend (a simple expression: never in a
    -- parallel worker), before the parallel plans of the refresh: a worker
    -- that loads it first cannot apply the database's spamhints.* settings
    -- to it and PostgreSQL warns ("cannot be set during a parallel operation")
    mv := spamhints.setting('report_from');
    FOREACH mv IN ARRAY ARRAY['daily_figures', 'report_queue'] LOOP
        IF (SELECT c.relispopulated FROM pg_class c
            WHERE c.oid = ('spamhints.' || mv)::regclass) THEN
            -- readers are not blocked while it runs
            EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY spamhints.%I', mv);
        ELSE
            EXECUTE format('REFRESH MATERIALIZED VIEW spamhints.%I', mv);
        END IF;
    END LOOP;
END
$$;

-- ===========================================================================
-- load.filter and load.frames (80_column_comments.sql): the default filter
-- takes UDP that starts as an sFlow datagram on any port too, and every frame
-- of a capture is counted (frame_filtered and the other reasons of skipped)

COMMENT ON COLUMN spamhints.load.filter IS 'the filter the capture was read with: --filter''s BPF expression, or the default (udp port 6343, VLAN-tagged or not, "or UDP starting as sFlow, any port": a UDP payload that starts as an sFlow datagram); frames it did not take are counted in skipped as frame_filtered';
COMMENT ON COLUMN spamhints.load.frames IS 'packets read from the capture, every one of them: frames = datagrams + malformed + the frame_filtered, frame_link_type, frame_not_udp and agent_limit counts of skipped';

-- customer_sender and packet_stats of a period (sql/parts/54_periods.sql):
-- customer_sender(period), packet_stats(period), over the samples of the
-- period's days only; shard_views() makes their coordinator versions too
-- (sql/parts/85_shards.sql).

CREATE FUNCTION spamhints.customer_sender(period tstzrange)
RETURNS TABLE (customer_id text, addresses inet[], first_seen timestamptz, last_seen timestamptz,
               samples bigint, est_packets bigint, servers bigint, hourly spamhints.hist24,
               caught boolean, caught_spam bigint, caught_virus bigint, last_caught timestamptz,
               est_packets_low bigint, est_packets_high bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH sent AS (
        SELECT a.customer_id, s.src_ip, s.dst_ip, s.ts, s.sampling_rate * coalesce(f.factor, 1) AS sampling_rate
        FROM spamhints.smtp_sample s
        JOIN spamhints.ip_assignment a ON a.network >>= s.src_ip AND a.during @> s.ts
        LEFT JOIN (SELECT a.load_id, a.agent,
                          spamhints.rate_factor(sum(a.configured_rate * a.rate_samples),
                                                sum(a.effective_rate * a.rate_samples), sum(a.rate_samples)::float8) AS factor
                   FROM spamhints.load_agent a
                   WHERE a.configured_rate IS NOT NULL AND a.effective_rate IS NOT NULL AND a.rate_samples > 0
                   GROUP BY a.load_id, a.agent) AS f ON f.load_id = s.load_id AND f.agent = s.agent
        WHERE s.dst_port = 25
          AND NOT coalesce(isempty(period), false)
          -- implied by the exact bounds below, in a form that pruning at executor
          -- start understands when period is a parameter (a generic plan)
          AND s.ts >= coalesce(lower(period), '-infinity') AND s.ts <= coalesce(upper(period), 'infinity')
          AND (period IS NULL OR lower_inf(period) OR s.ts > lower(period) OR (lower_inc(period) AND s.ts = lower(period)))
          AND (period IS NULL OR upper_inf(period) OR s.ts < upper(period) OR (upper_inc(period) AND s.ts = upper(period)))
    ), caught AS (
        SELECT a.customer_id,
               count(*) FILTER (WHERE e.verdict = 'spam') AS spam,
               count(*) FILTER (WHERE e.verdict = 'virus') AS virus,
               max(e.ts) AS last_caught
        FROM spamhints.mail_event e
        JOIN spamhints.ip_assignment a ON a.network >>= e.client_ip AND a.during @> e.ts
        WHERE e.verdict IN ('spam', 'virus')
        GROUP BY a.customer_id
    )
    SELECT t.customer_id, t.addresses, t.first_seen, t.last_seen, t.samples, t.est_packets,
           t.servers, t.hourly,
           c.customer_id IS NOT NULL,
           coalesce(c.spam, 0),
           coalesce(c.virus, 0),
           c.last_caught,
           spamhints.est_low(t.samples, t.est_packets),
           spamhints.est_high(t.samples, t.est_packets)
    FROM (SELECT s.customer_id,
                 array_agg(DISTINCT s.src_ip) AS addresses,
                 min(s.ts) AS first_seen,
                 max(s.ts) AS last_seen,
                 count(*) AS samples,
                 round(sum(s.sampling_rate))::bigint AS est_packets,
                 count(DISTINCT s.dst_ip) AS servers,
                 spamhints.hourly(s.ts) AS hourly
          FROM sent s
          GROUP BY s.customer_id) AS t
    LEFT JOIN caught c ON c.customer_id = t.customer_id
    ORDER BY t.samples DESC, t.customer_id;
END;

COMMENT ON FUNCTION spamhints.customer_sender(tstzrange) IS
'spamhints.customer_sender over the samples in period, e.g. SELECT * FROM spamhints.customer_sender(''[2024-03-01, 2024-03-08)'') WHERE NOT caught: the same columns and meaning (each sample to port 25 matched to the customer who held its address at its time; hourly in the session''s TimeZone), for the samples with ts in period: bounds as written (''[from, to)'' half-open), a NULL bound or a NULL period unbounded, an empty period nothing. caught, caught_spam, caught_virus and last_caught are those of the view, over all the mail logs: whether the customer was ever caught. Reads the samples of the period''s days only (partitions pruned), not the rollups, which hold neither the peers nor the port-25 client samples apart.';

CREATE FUNCTION spamhints.packet_stats(period tstzrange)
RETURNS TABLE (smtp_packets bigint, syn bigint, syn_ack bigint, rst bigint, fin bigint,
               syn_pct numeric, syn_ack_pct numeric, rst_pct numeric, fin_pct numeric,
               est_packets bigint, est_packets_low bigint, est_packets_high bigint,
               syn_pct_low numeric, syn_pct_high numeric, syn_ack_pct_low numeric, syn_ack_pct_high numeric,
               rst_pct_low numeric, rst_pct_high numeric, fin_pct_low numeric, fin_pct_high numeric)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT s.smtp_packets,
           s.syn, s.syn_ack, s.rst, s.fin,
           round(100.0 * s.syn     / nullif(s.smtp_packets, 0), 2),
           round(100.0 * s.syn_ack / nullif(s.smtp_packets, 0), 2),
           round(100.0 * s.rst     / nullif(s.smtp_packets, 0), 2),
           round(100.0 * s.fin     / nullif(s.smtp_packets, 0), 2),
           s.est_packets,
           spamhints.est_low(s.smtp_packets, s.est_packets),
           spamhints.est_high(s.smtp_packets, s.est_packets),
           round(100 * spamhints.wilson_low(s.syn, s.smtp_packets)::numeric, 2),
           round(100 * spamhints.wilson_high(s.syn, s.smtp_packets)::numeric, 2),
           round(100 * spamhints.wilson_low(s.syn_ack, s.smtp_packets)::numeric, 2),
           round(100 * spamhints.wilson_high(s.syn_ack, s.smtp_packets)::numeric, 2),
           round(100 * spamhints.wilson_low(s.rst, s.smtp_packets)::numeric, 2),
           round(100 * spamhints.wilson_high(s.rst, s.smtp_packets)::numeric, 2),
           round(100 * spamhints.wilson_low(s.fin, s.smtp_packets)::numeric, 2),
           round(100 * spamhints.wilson_high(s.fin, s.smtp_packets)::numeric, 2)
    FROM (SELECT coalesce(sum(g.n), 0)::bigint AS smtp_packets,
                 coalesce(sum(g.syn), 0)::bigint AS syn, coalesce(sum(g.syn_ack), 0)::bigint AS syn_ack,
                 coalesce(sum(g.rst), 0)::bigint AS rst, coalesce(sum(g.fin), 0)::bigint AS fin,
                 coalesce(round(sum(g.est * coalesce(f.factor, 1))), 0)::bigint AS est_packets
          FROM (SELECT x.load_id, x.agent, count(*) AS n,
                       count(*) FILTER (WHERE x.tcp_flags & 18 = 2)  AS syn,
                       count(*) FILTER (WHERE x.tcp_flags & 18 = 18) AS syn_ack,
                       count(*) FILTER (WHERE x.tcp_flags & 4 <> 0)  AS rst,
                       count(*) FILTER (WHERE x.tcp_flags & 1 <> 0)  AS fin,
                       sum(x.sampling_rate) AS est
                FROM spamhints.smtp_sample x
                WHERE NOT coalesce(isempty(period), false)
                  -- implied by the exact bounds below, in a form that pruning at executor
                  -- start understands when period is a parameter (a generic plan)
                  AND x.ts >= coalesce(lower(period), '-infinity') AND x.ts <= coalesce(upper(period), 'infinity')
                  AND (period IS NULL OR lower_inf(period) OR x.ts > lower(period) OR (lower_inc(period) AND x.ts = lower(period)))
                  AND (period IS NULL OR upper_inf(period) OR x.ts < upper(period) OR (upper_inc(period) AND x.ts = upper(period)))
                GROUP BY x.load_id, x.agent) AS g
          LEFT JOIN (SELECT a.load_id, a.agent,
                            spamhints.rate_factor(sum(a.configured_rate * a.rate_samples),
                                                  sum(a.effective_rate * a.rate_samples), sum(a.rate_samples)::float8) AS factor
                     FROM spamhints.load_agent a
                     WHERE a.configured_rate IS NOT NULL AND a.effective_rate IS NOT NULL AND a.rate_samples > 0
                     GROUP BY a.load_id, a.agent) AS f ON f.load_id = g.load_id AND f.agent = g.agent) AS s;
END;

COMMENT ON FUNCTION spamhints.packet_stats(tstzrange) IS
'spamhints.packet_stats over the samples in period, e.g. SELECT smtp_packets, syn_pct, est_packets FROM spamhints.packet_stats(''[2024-03-01, 2024-03-08)''): the same columns and meaning, for the samples with ts in period (bounds as written, a NULL bound or a NULL period unbounded, an empty period nothing: one row of zeros). Reads the samples of the period''s days only (partitions pruned); no rollup holds the TCP flags.';

-- parse_arf() (52_maillogs.sql) leaves out a Source-IP that is a network, a Source-Port out of range,
-- an Arrival-Date that is a word or infinite, and Incidents below 1
CREATE OR REPLACE FUNCTION spamhints.parse_arf(message text)
RETURNS TABLE (reporter text, feedback_type text, user_agent text, source_ip inet,
               source_port integer, arrival_date timestamptz, incidents integer,
               original_mail_from text, original_rcpt_to text[], reported_domain text[])
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    msg    text := replace(message, E'\r\n', E'\n');
    head   text;
    part   text;
    p      integer;
    l      text;
    name   text;
    val    text;
BEGIN
    original_rcpt_to := '{}';
    reported_domain := '{}';
    -- the report's own header: From is the reporter
    head := regexp_replace(split_part(msg, E'\n\n', 1), E'\n[ \t]+', ' ', 'g');
    reporter := substring(head from '(?:^|\n)[Ff][Rr][Oo][Mm]:[ \t]*([^\n]*)');
    reporter := coalesce(substring(reporter from '<([^>]*)>'), btrim(reporter, E' \t'));
    -- what reports print holds no control or format character, and no
    -- field is longer than a mail line (RFC 5322: 998): else it is left out
    IF length(reporter) > 998 OR NOT plain_text(reporter) THEN
        reporter := NULL;
    END IF;

    -- the machine-readable part, message/feedback-report: its fields follow
    -- the part's own header and end at a blank line or the next boundary
    p := regexp_instr(msg, '(^|\n)content-type:[ \t]*message/feedback-report', 1, 1, 0, 'i');
    IF p = 0 THEN
        RAISE EXCEPTION 'not an ARF report: no message/feedback-report part'
            USING ERRCODE = '22P02';
    END IF;
    part := substr(msg, p + 1);
    p := strpos(part, E'\n\n');
    IF p = 0 THEN
        RAISE EXCEPTION 'not an ARF report: the message/feedback-report part is empty'
            USING ERRCODE = '22P02';
    END IF;
    part := substr(part, p + 2);
    p := strpos(part, E'\n\n');
    IF p > 0 THEN part := left(part, p - 1); END IF;
    p := strpos(part, E'\n--');
    IF p > 0 THEN part := left(part, p - 1); END IF;
    part := regexp_replace(part, E'\n[ \t]+', ' ', 'g');

    FOREACH l IN ARRAY string_to_array(part, E'\n') LOOP
        CONTINUE WHEN strpos(l, ':') = 0;
        name := lower(btrim(split_part(l, ':', 1)));
        val := btrim(regexp_replace(substr(l, strpos(l, ':') + 1), '\([^()]*\)', '', 'g'), E' \t');
        CONTINUE WHEN length(val) > 998 OR NOT plain_text(val);
        BEGIN
            CASE name
                WHEN 'feedback-type' THEN feedback_type := lower(val);
                WHEN 'user-agent' THEN user_agent := val;
                -- an outsider writes these: one address (not a network), a port,
                -- a date with its digits (not a word PostgreSQL reads: now, epoch,
                -- infinity), a count of one or more; else the field is left out
                WHEN 'source-ip' THEN
                    source_ip := val::inet;
                    IF masklen(source_ip) <> (CASE family(source_ip) WHEN 4 THEN 32 ELSE 128 END) THEN
                        source_ip := NULL;
                        RAISE EXCEPTION 'a network' USING ERRCODE = 'invalid_parameter_value';
                    END IF;
                WHEN 'source-port' THEN
                    source_port := val::integer;
                    IF source_port NOT BETWEEN 0 AND 65535 THEN
                        source_port := NULL;
                        RAISE EXCEPTION 'a port out of range' USING ERRCODE = 'invalid_parameter_value';
                    END IF;
                WHEN 'arrival-date' THEN
                    IF val !~ '[0-9]{1,2}:[0-9]{2}' OR val !~ '[0-9]{4}' OR NOT isfinite(val::timestamptz) THEN
                        RAISE EXCEPTION 'not a date and time' USING ERRCODE = 'invalid_datetime_format';
                    END IF;
                    arrival_date := val::timestamptz;
                WHEN 'incidents' THEN
                    incidents := val::integer;
                    IF incidents < 1 THEN
                        incidents := NULL;
                        RAISE EXCEPTION 'not a count of incidents' USING ERRCODE = 'invalid_parameter_value';
                    END IF;
                WHEN 'original-mail-from' THEN original_mail_from := coalesce(substring(val from '<([^>]*)>'), val);
                WHEN 'original-rcpt-to' THEN original_rcpt_to := original_rcpt_to || coalesce(substring(val from '<([^>]*)>'), val);
                WHEN 'reported-domain' THEN reported_domain := reported_domain || val;
                ELSE NULL;
            END CASE;
        EXCEPTION WHEN data_exception THEN
            NULL;   -- a field we cannot read is left out, the rest is kept
        END;
    END LOOP;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION spamhints.parse_arf(text) IS
'Reads an ARF abuse report (RFC 5965, with RFC 6692''s Source-Port): the From of the message and the fields of its message/feedback-report part. A field with a value that cannot be read is left NULL: a Source-IP that is a network, not one address; a Source-Port outside 0..65535; an Arrival-Date without its digits (a word PostgreSQL would read, such as now or epoch) or infinite; Incidents below 1; and (0.2) any field, the From included, with a control or format character (spamhints.plain_text) or longer than 998 characters, so that a report never prints one. Required fields that are missing are NULL too. A message without a feedback-report part is an error (22P02).';
