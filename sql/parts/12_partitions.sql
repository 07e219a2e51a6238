-- sql/parts/12_partitions.sql: the day partitions of spamhints.smtp_sample.
--
-- A partition holds one UTC day, [day, day + 1), and is called
-- smtp_sample_YYYYMMDD. spamhints-load creates the partition of a day before
-- it sends that day's rows (ensure_partitions(), in the load's transaction:
-- a load is still all or nothing, its partitions with it); after each load
-- it runs maintain_partitions(), which moves rows that landed in the default
-- partition to their day's partition and builds the B-trees on src_ip and
-- dst_ip of every day that is complete. spamhints.purge() drops the
-- partitions past the retention whole (70_retention.sql).
--
-- Both are SECURITY DEFINER: the loader (spamhints_loader) does not own the
-- table, and only the owner may add partitions. They create nothing but day
-- partitions of this table and their indexes, at most 400 days a call.

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
