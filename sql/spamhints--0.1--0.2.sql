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
CREATE TRIGGER mail_event_fence BEFORE UPDATE OR DELETE OR TRUNCATE ON spamhints.mail_event
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_guard();

-- INSERT and UPDATE of the load tables on every column but the identity:
-- granted once, at the end, when the collector's columns are there too
REVOKE INSERT, UPDATE ON spamhints.load, spamhints.maillog_load FROM spamhints_loader;

-- Live collection (15_collector.sql): the collector's counts on the load
-- row, collector_status and collector_agent

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
       sum(l.lost_datagrams) AS lost_in_files
  FROM spamhints.load l
 WHERE l.collector IS NOT NULL AND l.finished_at IS NOT NULL
 GROUP BY l.collector;

COMMENT ON VIEW spamhints.collector_status IS
'Live collection, one row per collector (host and listen addresses): its spool files loaded, when the last one was, and the datagrams it received, refused (--agents), lost to the kernel (kernel_dropped) and found lost in transit within files; spamhints.collector_agent has the loss per agent across files. Alert on since_last_load above two rotations, or kernel_dropped growing.';
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
COMMENT ON COLUMN spamhints.collector_status.datagrams IS 'sFlow datagrams decoded whole and loaded';
COMMENT ON COLUMN spamhints.collector_status.malformed IS 'datagrams skipped as malformed';
COMMENT ON COLUMN spamhints.collector_status.smtp_rows IS 'SMTP sample rows loaded';
COMMENT ON COLUMN spamhints.collector_status.lost_in_files IS 'datagrams lost in transit, from sequence gaps within each file (spamhints.collector_agent adds the gaps between files)';

-- One row per agent and sub-agent: its files in order of their first datagram,
-- the gap (or the step back: a restart) from each file's first sequence number
-- to the previous file's last one added to the counts within the files.
CREATE VIEW spamhints.collector_agent AS
WITH per_file AS (
    SELECT a.agent, a.sub_agent, a.version, a.datagrams, a.malformed, a.first_seq, a.last_seq,
           a.lost, a.resets, l.first_ts, l.last_ts,
           pg_catalog.lag(a.last_seq) OVER w AS prev_last_seq,
           pg_catalog.row_number() OVER w AS n
      FROM spamhints.load_agent a
      JOIN spamhints.load l USING (load_id)
     WHERE l.collector IS NOT NULL
    WINDOW w AS (PARTITION BY a.agent, a.sub_agent ORDER BY l.first_ts, a.load_id)
)
SELECT agent, sub_agent,
       (pg_catalog.array_agg(version ORDER BY n DESC))[1] AS version,
       count(*) AS files,
       sum(datagrams) AS datagrams,
       sum(malformed) AS malformed,
       sum(lost) + coalesce(sum(first_seq - prev_last_seq - 1)
                            FILTER (WHERE first_seq > prev_last_seq), 0) AS lost,
       sum(resets) + count(*) FILTER (WHERE first_seq + 64 < prev_last_seq) AS resets,
       (pg_catalog.array_agg(last_seq ORDER BY n DESC))[1] AS last_seq,
       min(first_ts) AS first_seen,
       max(last_ts) AS last_seen
  FROM per_file
 GROUP BY agent, sub_agent;

COMMENT ON VIEW spamhints.collector_agent IS
'Live collection, one row per sFlow agent and sub-agent over every spool file loaded: datagrams received (datagrams + malformed), lost in transit (gaps within files, and between one file''s last sequence number and the next file''s first, across collector restarts too) and agent restarts (a sequence number going back more than 64, within or between files). Datagrams up to 64 numbers late are not loss within a file; between files they are neither loss nor a restart. Alert on lost or resets growing, or last_seen getting old.';
COMMENT ON COLUMN spamhints.collector_agent.agent IS 'the sFlow agent address';
COMMENT ON COLUMN spamhints.collector_agent.sub_agent IS 'the sFlow sub-agent id (0 for v2 and v4)';
COMMENT ON COLUMN spamhints.collector_agent.version IS 'sFlow version of its latest datagrams';
COMMENT ON COLUMN spamhints.collector_agent.files IS 'spool files that hold datagrams of it';
COMMENT ON COLUMN spamhints.collector_agent.datagrams IS 'its datagrams decoded whole';
COMMENT ON COLUMN spamhints.collector_agent.malformed IS 'its datagrams skipped as malformed (received, not lost)';
COMMENT ON COLUMN spamhints.collector_agent.lost IS 'its datagrams lost in transit: sequence gaps within files and between consecutive files';
COMMENT ON COLUMN spamhints.collector_agent.resets IS 'its restarts: the sequence number going back, within or between files';
COMMENT ON COLUMN spamhints.collector_agent.last_seq IS 'the last sequence number of its latest file';
COMMENT ON COLUMN spamhints.collector_agent.first_seen IS 'capture time of the first file that holds it';
COMMENT ON COLUMN spamhints.collector_agent.last_seen IS 'capture time of the end of the latest file that holds it';

GRANT SELECT ON spamhints.collector_status, spamhints.collector_agent TO spamhints_analyst;
COMMENT ON COLUMN spamhints.load_agent.resets IS 'times the datagram sequence number went back (an agent restart) by more than 64, or by less with the agent''s uptime back by more than 10 s: counted here, never as loss; a repeated number (a duplicate) is neither';
------------------------------------------------------------------------------
-- smtp_sample partitioned by UTC day (sql/parts/10_samples.sql,
-- 12_partitions.sql, 53_address.sql, 70_retention.sql, 90_privileges.sql)
--
-- A table cannot become partitioned in place: 0.1's table is renamed, the
-- partitioned one made beside it with the same columns, 0.1's rows moved
-- into the partitions of their days, and the old table dropped. What
-- depends on it (views, the materialized view, SQL-standard functions) is
-- saved first, as it is defined at this point of the update, and made again
-- over the new table with its comments, privileges and indexes.
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
    day := date_trunc('day', from_ts AT TIME ZONE 'UTC');
    last := date_trunc('day', to_ts AT TIME ZONE 'UTC');
    IF last - day >= interval '400 days' THEN
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
'Creates the missing day partitions of spamhints.smtp_sample (smtp_sample_YYYYMMDD, one UTC day each) of the days from that of from_ts to that of to_ts (both included), moving rows of those days out of smtp_sample_default; returns how many it created. spamhints-load calls it before it sends the rows of a day. At most 400 days a call; times must be finite (22023). SECURITY DEFINER: the loader does not own the table.';

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

DO $$
DECLARE
    r      record;
    c      record;
    a      record;
    saved  text[] := '{}';
    stmt   text;
    -- the SQL-standard functions over the table, as sql/parts/30_views.sql
    -- defines them (their deparsed bodies would not parse back to the same
    -- text); a dependent without its text here stops the update
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
$fn$, 'activity', $fn$
CREATE FUNCTION spamhints.activity(
    window_start timestamptz, window_end timestamptz,
    bin interval DEFAULT '1 hour', ports integer[] DEFAULT NULL)
RETURNS TABLE (bin_start timestamptz, samples bigint, est_packets bigint,
               syn bigint, clients bigint, servers bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT b.bin_start,
           coalesce(a.samples, 0), coalesce(a.est_packets, 0), coalesce(a.syn, 0),
           coalesce((a.c).client_only + (a.c).both, 0),
           coalesce((a.c).server_only + (a.c).both, 0)
    FROM generate_series(window_start, window_end - '1 microsecond'::interval,
                         spamhints.activity_stride(window_start, window_end, bin)) AS b(bin_start)
    LEFT JOIN (SELECT date_bin(bin, s.ts, window_start) AS bin_start,
                      count(*) AS samples,
                      sum(s.sampling_rate)::bigint AS est_packets,
                      count(*) FILTER (WHERE s.tcp_flags & 18 = 2) AS syn,
                      spamhints.smtp_census(s.src_ip, s.dst_ip, s.src_port, s.dst_port,
                                            coalesce(ports, l.smtp_ports)) AS c
               FROM spamhints.smtp_sample s
               JOIN spamhints.load l ON l.load_id = s.load_id
               WHERE s.ts >= window_start AND s.ts < window_end
               GROUP BY 1) AS a USING (bin_start)
    -- a one-time filter: the bins are counted before anything is read
    WHERE spamhints.activity_stride(window_start, window_end, bin) IS NOT NULL
    ORDER BY b.bin_start;
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

-- everything about one address, through the B-trees of the partitions
CREATE FUNCTION spamhints.address(ip inet, period tstzrange DEFAULT NULL)
RETURNS TABLE (ip inet, samples bigint, est_packets bigint, as_source bigint, as_destination bigint,
               role spamhints.smtp_role, peers bigint, first_seen timestamptz, last_seen timestamptz,
               hourly spamhints.hist24, customer text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT $1, count(*), coalesce(sum(s.sampling_rate), 0)::bigint,
           count(*) FILTER (WHERE s.side = 'src'), count(*) FILTER (WHERE s.side = 'dst'),
           spamhints.role_or(s.role), count(DISTINCT s.peer), min(s.ts), max(s.ts),
           spamhints.hourly(s.ts),
           spamhints.customer_at($1, max(s.ts))
    FROM (SELECT x.ts, x.sampling_rate, 'src' AS side, x.dst_ip AS peer,
                 spamhints.src_role(x.src_port, x.dst_port, l.smtp_ports) AS role
          FROM spamhints.smtp_sample x JOIN spamhints.load l ON l.load_id = x.load_id
          WHERE x.src_ip = $1
            AND ($2 IS NULL OR lower_inf($2) OR x.ts > lower($2) OR (lower_inc($2) AND x.ts = lower($2)))
            AND ($2 IS NULL OR upper_inf($2) OR x.ts < upper($2) OR (upper_inc($2) AND x.ts = upper($2)))
          UNION ALL
          SELECT x.ts, x.sampling_rate, 'dst', x.src_ip,
                 spamhints.dst_role(x.src_port, x.dst_port, l.smtp_ports)
          FROM spamhints.smtp_sample x JOIN spamhints.load l ON l.load_id = x.load_id
          WHERE x.dst_ip = $1 AND x.src_ip IS DISTINCT FROM $1
            AND ($2 IS NULL OR lower_inf($2) OR x.ts > lower($2) OR (lower_inc($2) AND x.ts = lower($2)))
            AND ($2 IS NULL OR upper_inf($2) OR x.ts < upper($2) OR (upper_inc($2) AND x.ts = upper($2)))) AS s;
END;

COMMENT ON FUNCTION spamhints.address(inet, tstzrange) IS
'Everything about one address in spamhints.smtp_sample, in period (default: all time): samples (a sample from the address to itself counts once), est_packets (their sampling rates summed), as_source and as_destination, role (the OR of the SMTP roles its samples give it, with each load''s ports; NULL when none), peers (distinct addresses at the other end), first_seen, last_seen, hourly (the hist24 of its samples by hour of day: spamhints.chart(hourly)), and customer (spamhints.customer_at the address at last_seen). Through the B-trees on src_ip and dst_ip of the day partitions, and only the partitions of period: never a scan of the table.';

-- purge() drops the partitions past the retention whole
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
'Deletes the personal data older than retention (default: the setting spamhints.retention) before at (default now): sampled packets (smtp_sample.ts: the day partitions wholly before the cutoff are dropped, rows deleted only in the one it falls in), mail events (ts), reports sent (report_log.reported_at) and received (incoming_report.received_at), and address assignments that ended before the cutoff. Returns the rows deleted per table and the cutoff. A negative retention or an infinite at is an error (22023) before anything is deleted. The load records (spamhints.load, maillog_load) stay, without personal data, so that a purged file is not loaded again. Scheduled daily by spamhints.cron_jobs().';

-- the day partitions: made and tidied by the loader, as the table's owner
REVOKE EXECUTE ON FUNCTION spamhints.ensure_partitions(timestamptz, timestamptz),
                           spamhints.maintain_partitions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spamhints.ensure_partitions(timestamptz, timestamptz),
                          spamhints.maintain_partitions() TO spamhints_loader;

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
