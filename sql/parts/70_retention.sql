-- sql/parts/70_retention.sql: personal data is kept only as long as the
-- retention setting says.

CREATE FUNCTION spamhints.purge(retention interval DEFAULT NULL, at timestamptz DEFAULT now())
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
