-- sql/parts/90_privileges.sql: two group roles, least privilege each.
--
--   spamhints_loader   what spamhints-load does: adds loads (a row of
--                      spamhints.load, then its counts), their samples and
--                      agents, and AS names (enrichment); reads only the
--                      columns of spamhints.load that the duplicate check
--                      needs, and the AS names it upserts. Reads no sample,
--                      no view, changes no sample; writes only to the
--                      unfinished load its own transaction created, never
--                      to a committed one (the fence: load_guard() and
--                      load_exists(), 10_samples.sql).
--   spamhints_analyst  reads the loads, the samples, the views and the AS
--                      names, and runs every function and aggregate; changes
--                      nothing; never reads the raw SMTP payload field
--                      (smtp_sample.smtp, the command verb or reply code)
--                      nor a view column that shows it (endpoint.smtp),
--                      nor a mail address or a text quoting one (senders,
--                      recipients, rejection reasons, reporters, reports).
--
-- Roles belong to the cluster, not to a database: they are created here only
-- when missing, NOLOGIN. An administrator grants them to login roles:
--   GRANT spamhints_loader TO abuse_loader;  GRANT spamhints_analyst TO alice;
-- DROP EXTENSION leaves them (other databases may use them).

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'spamhints_loader')
       OR NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'spamhints_analyst') THEN
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles
                       WHERE rolname = CURRENT_USER AND (rolsuper OR rolcreaterole)) THEN
            RAISE EXCEPTION 'the roles spamhints_loader and spamhints_analyst do not exist, and % may not create roles', CURRENT_USER
                USING HINT = 'A superuser or a role with CREATEROLE creates them first: CREATE ROLE spamhints_loader NOLOGIN; CREATE ROLE spamhints_analyst NOLOGIN;';
        END IF;
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'spamhints_loader') THEN
            CREATE ROLE spamhints_loader NOLOGIN;
            COMMENT ON ROLE spamhints_loader IS 'spamhints: adds loads and samples (spamhints-load); reads nothing else';
        END IF;
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'spamhints_analyst') THEN
            CREATE ROLE spamhints_analyst NOLOGIN;
            COMMENT ON ROLE spamhints_analyst IS 'spamhints: reads samples, views and aggregates, never the SMTP payload column; changes nothing';
        END IF;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA spamhints TO spamhints_loader, spamhints_analyst;

-- the loader: INSERT ... RETURNING load_id, COPY of samples and agents, the
-- UPDATE that finishes the load (WHERE load_id = ...), and the duplicate
-- check (SELECT load_id, file_name, finished_at ... WHERE sha256 = ...)
-- INSERT and UPDATE on every column but the identity (granted below, from the
-- catalog): the loader never chooses a load id (OVERRIDING SYSTEM VALUE).
-- What it may write, and to which load, spamhints.load_guard() and
-- load_exists() decide: only its own unfinished load (10_samples.sql).
GRANT SELECT (load_id, file_name, sha256, finished_at) ON spamhints.load TO spamhints_loader;
GRANT INSERT ON spamhints.smtp_sample, spamhints.load_agent TO spamhints_loader;
-- the day partitions: the loader makes the partition of a day before it
-- sends its rows, and tidies up after a load (12_partitions.sql); both run as
-- the table's owner (SECURITY DEFINER), so nobody else runs them
REVOKE EXECUTE ON FUNCTION spamhints.ensure_partitions(timestamptz, timestamptz),
                           spamhints.maintain_partitions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spamhints.ensure_partitions(timestamptz, timestamptz),
                          spamhints.maintain_partitions() TO spamhints_loader;
-- enrichment: INSERT INTO spamhints.asn ... ON CONFLICT (asn) DO UPDATE SET
-- org = EXCLUDED.org, which reads both columns (public AS names, no personal data)
GRANT INSERT, UPDATE (org) ON spamhints.asn TO spamhints_loader;
-- a coordinator refuses loads (spamhints.coordinator_guard, 85_shards.sql):
-- the guard reads which shards there are, as the loader
GRANT SELECT (name) ON spamhints.shard TO spamhints_loader;
GRANT SELECT (asn, org) ON spamhints.asn TO spamhints_loader;

-- the loader reading mail logs (spamhints-load --maillog): the same steps
-- the duplicate check reads the hash and the format (unique together)
GRANT SELECT (maillog_load_id, file_name, sha256, format, finished_at) ON spamhints.maillog_load TO spamhints_loader;
GRANT INSERT ON spamhints.mail_event TO spamhints_loader;
-- the finishing UPDATE takes the log's first and last time from its events
GRANT SELECT (maillog_load_id, ts) ON spamhints.mail_event TO spamhints_loader;
-- the lines it read (spamhints.maillog_line: INSERT ... ON CONFLICT DO
-- NOTHING), and the events they replace: it reads their line and line count,
-- and deletes the events its own load saw more lines of (the fence,
-- mail_event_replaced(), refuses any other DELETE)
GRANT INSERT, SELECT (line_key) ON spamhints.maillog_line TO spamhints_loader;
GRANT SELECT (line_key, line_count) ON spamhints.mail_event TO spamhints_loader;
GRANT DELETE ON spamhints.mail_event TO spamhints_loader;
-- the datagrams its loads took (spamhints.load_seqs, 16_exactly_once.sql): it
-- reads them to skip the known ones and adds its own load's; the fence
-- (load_exists, load_guard) refuses rows for any other load and every
-- UPDATE, DELETE and TRUNCATE
GRANT INSERT, SELECT ON spamhints.load_seqs TO spamhints_loader;

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

-- the analyst: everything to read, but the SMTP payload column and the mail
-- addresses of the mail logs (personal data: reports are made by the
-- extension's owner or a role it trusts with them)
GRANT SELECT ON spamhints.load, spamhints.load_agent, spamhints.agent_rate, spamhints.asn,
                spamhints.packet_stats, spamhints.ip_census,
                spamhints.client_as_top, spamhints.client_cc_top,
                spamhints.maillog_load, spamhints.maillog_line, spamhints.ip_assignment,
                spamhints.agreement, spamhints.settings,
                spamhints.detections_per_day, spamhints.incoming_reports_per_day,
                spamhints.customers_caught_per_day, spamhints.customer_sender,
                spamhints.daily_figures, spamhints.report_queue,
                spamhints.collector_status, spamhints.collector_agent,
                spamhints.address_day, spamhints.address_month, spamhints.rollup_folded,
                spamhints.address_rollup, spamhints.load_seqs, spamhints.shard
    TO spamhints_analyst;
-- the rollups are written by their triggers only (SECURITY DEFINER), and
-- made again by hand only by the owner
REVOKE EXECUTE ON FUNCTION spamhints.address_day_roll(date), spamhints.address_day_rebuild(),
    spamhints.rollup_fold(date), spamhints.address_month_stale(date, date),
    spamhints.address_month_merge(date[]) FROM PUBLIC;
DO $$
DECLARE
    rel text;
    cols text;
BEGIN
    -- every column but the SMTP payload and the mail addresses of mail logs
    -- and abuse reports (envelope sender and recipients, the reporter, and the
    -- texts that quote them: rejection reasons, reports sent and received),
    -- whatever columns the tables and views have by now
    FOREACH rel IN ARRAY ARRAY['spamhints.smtp_sample', 'spamhints.endpoint', 'spamhints.evidence',
                               'spamhints.mail_event', 'spamhints.report_log',
                               'spamhints.incoming_report'] LOOP
        SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
          INTO cols
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = rel::pg_catalog.regclass AND a.attnum > 0
           AND NOT a.attisdropped
           AND a.attname <> ALL (ARRAY['smtp', 'sender', 'recipients', 'message', 'reason',
                                        'reporter', 'original_mail_from', 'original_rcpt_to']);
        EXECUTE pg_catalog.format('GRANT SELECT (%s) ON %s TO spamhints_analyst', cols, rel);
    END LOOP;
END
$$;
