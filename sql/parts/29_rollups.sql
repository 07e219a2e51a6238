-- sql/parts/29_rollups.sql: the rollups of the samples per UTC day and
-- address, kept with the samples in the same transaction.
--
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
