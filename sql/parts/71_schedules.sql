-- sql/parts/71_schedules.sql: the daily figures and the report queue, and the
-- pg_cron schedule that refreshes them, reports and purges.

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

CREATE MATERIALIZED VIEW spamhints.report_queue AS
SELECT spamhints.yesterday(now()) AS period, now() AS as_of, c.*
FROM spamhints.report_candidates(spamhints.yesterday(now()), now()) AS c;

CREATE UNIQUE INDEX report_queue_key ON spamhints.report_queue (agreement_id, source_ip);

COMMENT ON MATERIALIZED VIEW spamhints.report_queue IS
'Per agreed ISP, the addresses of theirs with evidence yesterday (UTC) as of the last spamhints.refresh() (as_of): spamhints.report_candidates() for that day; suppressed ones are already reported and have nothing new; est_packets with its 95% bounds est_packets_low and est_packets_high. What the daily spamhints.report() run turns into reports.';

CREATE FUNCTION spamhints.refresh() RETURNS void
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

COMMENT ON FUNCTION spamhints.refresh() IS
'Refreshes the materialized views spamhints.daily_figures and spamhints.report_queue (concurrently: readers are not blocked). Scheduled by spamhints.cron_jobs().';

CREATE FUNCTION spamhints.cron_jobs()
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
