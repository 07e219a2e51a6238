-- sql/parts/52_maillogs.sql: the mail logs, what the ISP's own mail servers saw
-- (spamhints-load --maillog); the abuse reports others send about the ISP's
-- addresses; what both count per day; and which customers send mail
-- directly.

-- A mail log is not a capture: it has a format, a time zone and a year to
-- tell, lines rather than datagrams. Its loads have a table of their own,
-- with the same content-hash idempotence as spamhints.load, by format: the
-- same file read as another format is another load (a log once recorded
-- with the wrong --maillog does not stop its load with the right one).
CREATE TABLE spamhints.maillog_load (
    maillog_load_id  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_name        text NOT NULL,
    sha256           text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    format           text NOT NULL CHECK (format IN ('exim', 'postfix')),
    file_bytes       bigint,
    file_mtime       timestamptz,
    timezone         text NOT NULL CHECK (spamhints.plain_text(timezone)),
    year_source      text CHECK (year_source IN ('option', 'mtime')),
    started_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at      timestamptz,
    first_ts         timestamptz,
    last_ts          timestamptz,
    lines            bigint NOT NULL DEFAULT 0,
    events           bigint NOT NULL DEFAULT 0,
    malformed        bigint NOT NULL DEFAULT 0,
    skipped          jsonb NOT NULL DEFAULT '{}',
    loader_version   text,
    lines_known      bigint NOT NULL DEFAULT 0,
    CHECK (finished_at IS NULL OR sha256 IS NOT NULL),
    UNIQUE (sha256, format)
);

COMMENT ON TABLE spamhints.maillog_load IS
'One row per mail log file loaded by spamhints-load --maillog: file, SHA-256 of its bytes and format (exim or postfix; the same log is never loaded twice as the same format), the time zone its times were read in, where the year of syslog lines came from, line counts. A load is one transaction: a row here means all of its events are in spamhints.mail_event. Deleting or truncating (with CASCADE) a load deletes its events; truncating spamhints.mail_event deletes every mail log load too, so that the same logs can be loaded again; spamhints.purge() keeps the loads.';
COMMENT ON COLUMN spamhints.maillog_load.timezone IS 'the time zone of log times that carry no offset (--timezone; an offset in the line wins)';
COMMENT ON COLUMN spamhints.maillog_load.year_source IS 'where syslog lines (which have no year) got theirs: option (--year) or mtime (the file''s modification time); NULL when every line carries its year';
COMMENT ON COLUMN spamhints.maillog_load.lines IS 'lines read';
COMMENT ON COLUMN spamhints.maillog_load.events IS 'rows added to spamhints.mail_event (not the events that an earlier load had already added with as many lines: see spamhints.maillog_line)';
COMMENT ON COLUMN spamhints.maillog_load.lines_known IS 'lines of the mail server that an earlier load had already read (the same line of the same server: spamhints.maillog_line): they add nothing again; 0 for loads made before 0.2';
COMMENT ON COLUMN spamhints.maillog_load.malformed IS 'lines that could not be read (no valid time, a broken MTA line, a bad address): counted, never loaded';
COMMENT ON COLUMN spamhints.maillog_load.skipped IS 'lines and messages not loaded, by reason -> count (other_program, other_line, malformed_*, local_submission, loopback_client...)';

CREATE TABLE spamhints.mail_event (
    maillog_load_id  integer NOT NULL REFERENCES spamhints.maillog_load ON DELETE CASCADE,
    line             bigint NOT NULL,
    ts               timestamptz NOT NULL,
    host             text CHECK (spamhints.plain_text(host)),
    queue_id         text CHECK (spamhints.plain_text(queue_id)),
    client_ip        inet NOT NULL,
    client_port      integer CHECK (client_port BETWEEN 0 AND 65535),
    client_name      text CHECK (spamhints.plain_text(client_name)),
    helo             text CHECK (spamhints.plain_text(helo)),
    size             bigint,
    sender           text CHECK (spamhints.plain_text(sender)),
    recipients       text[] CHECK (spamhints.plain_text(array_to_string(recipients, ''))),
    verdict          text NOT NULL CHECK (verdict IN ('clean', 'spam', 'virus', 'rejected')),
    virus            text CHECK (spamhints.plain_text(virus)),
    spam_score       numeric,
    reason           text CHECK (spamhints.plain_text(reason)),
    client_asn       bigint,
    client_cc        text,
    line_key         bytea CHECK (octet_length(line_key) = 16),
    line_count       integer CHECK (line_count > 0)
);

COMMENT ON TABLE spamhints.mail_event IS
'One row per message (or refused attempt) that an outside client sent to the ISP''s mail servers, from their logs: when, from which address and port, HELO, size, envelope sender and recipients (personal data: see spamhints.purge), and the verdict: clean, spam (with the SpamAssassin score), virus (with its name), or rejected (and why). maillog_load_id and line lead back to the log line.';
COMMENT ON COLUMN spamhints.mail_event.line IS 'line number (from 1) in the log file of the line that gave the event its client';
COMMENT ON COLUMN spamhints.mail_event.ts IS 'the time of that line, converted from the log''s time zone (maillog_load.timezone)';
COMMENT ON COLUMN spamhints.mail_event.host IS 'the mail server that logged it (syslog host name; NULL for Exim''s own log)';
COMMENT ON COLUMN spamhints.mail_event.queue_id IS 'the MTA''s queue or message id (NULL for a refusal before one was given)';
COMMENT ON COLUMN spamhints.mail_event.client_name IS 'the client''s reverse DNS name as the MTA logged it (NULL or unknown when it had none)';
COMMENT ON COLUMN spamhints.mail_event.helo IS 'the name the client gave in HELO/EHLO, when the log has it';
COMMENT ON COLUMN spamhints.mail_event.size IS 'message size in bytes, when known';
COMMENT ON COLUMN spamhints.mail_event.sender IS 'envelope sender (MAIL FROM), '''' for the null sender <>; personal data, maybe forged';
COMMENT ON COLUMN spamhints.mail_event.recipients IS 'envelope recipients (RCPT TO); personal data';
COMMENT ON COLUMN spamhints.mail_event.verdict IS 'clean, spam, virus, or rejected (refused for another reason: see reason)';
COMMENT ON COLUMN spamhints.mail_event.virus IS 'the virus name the scanner gave (ClamAV, amavisd-new, Exim malware ACL)';
COMMENT ON COLUMN spamhints.mail_event.spam_score IS 'SpamAssassin score (amavisd-new Hits, Exim spam ACL), when logged';
COMMENT ON COLUMN spamhints.mail_event.reason IS 'what the MTA or filter said: the rejection text, or the amavisd-new action';
COMMENT ON COLUMN spamhints.mail_event.client_asn IS 'AS of client_ip, when enrichment fills it (reports also take it from samples of the same address)';
COMMENT ON COLUMN spamhints.mail_event.client_cc IS 'country of client_ip, when enrichment fills it';
COMMENT ON COLUMN spamhints.mail_event.line_key IS 'the identity of the line that gave the event its client (as spamhints.maillog_line.line_key): a later load of a log that holds that line again adds the event only if it saw more of its lines (line_count), and then in place of this one; NULL for events loaded before 0.2';
COMMENT ON COLUMN spamhints.mail_event.line_count IS 'how many lines of the log the event was made from (a message''s lines: arrival, filter verdicts, deliveries...); NULL for events loaded before 0.2';

-- TRUNCATE of the events deletes their loads too (spamhints.rows_truncated).
CREATE TRIGGER mail_event_truncate_loads AFTER TRUNCATE ON spamhints.mail_event
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.rows_truncated();

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
CREATE TRIGGER mail_event_fence BEFORE UPDATE OR TRUNCATE ON spamhints.mail_event
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_guard();

CREATE INDEX mail_event_client_ts ON spamhints.mail_event (client_ip, ts);
CREATE INDEX mail_event_ts ON spamhints.mail_event (ts);
CREATE INDEX mail_event_load ON spamhints.mail_event (maillog_load_id);

SELECT pg_catalog.pg_extension_config_dump('spamhints.maillog_load', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.maillog_load_maillog_load_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.mail_event', '');

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

-- Incoming reports: the abuse reports other people send us.

CREATE TABLE spamhints.incoming_report (
    incoming_report_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at         timestamptz NOT NULL DEFAULT now(),
    reporter            text,
    feedback_type       text,
    user_agent          text,
    source_ip           inet,
    source_port         integer,
    arrival_date        timestamptz,
    incidents           integer,
    original_mail_from  text,
    original_rcpt_to    text[],
    reported_domain     text[],
    message             text
);

COMMENT ON TABLE spamhints.incoming_report IS
'Abuse reports received about the ISP''s own addresses, from any source: fill it yourself, or with spamhints.receive_arf(message) for ARF (RFC 5965) reports. Their count per day is spamhints.incoming_reports_per_day. Personal data: purged with the rest (spamhints.purge).';
COMMENT ON COLUMN spamhints.incoming_report.received_at IS 'when we received it';
COMMENT ON COLUMN spamhints.incoming_report.reporter IS 'who sent it (the From of the report)';
COMMENT ON COLUMN spamhints.incoming_report.source_ip IS 'the address reported (ARF Source-IP): one of ours';
COMMENT ON COLUMN spamhints.incoming_report.message IS 'the report as received, when kept';

CREATE INDEX incoming_report_received ON spamhints.incoming_report (received_at);
SELECT pg_catalog.pg_extension_config_dump('spamhints.incoming_report', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.incoming_report_incoming_report_id_seq', '');

CREATE FUNCTION spamhints.parse_arf(message text)
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

CREATE FUNCTION spamhints.receive_arf(message text, received_at timestamptz DEFAULT now(),
                                      keep_message boolean DEFAULT true)
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, spamhints
AS $$
    INSERT INTO spamhints.incoming_report
        (received_at, reporter, feedback_type, user_agent, source_ip, source_port, arrival_date,
         incidents, original_mail_from, original_rcpt_to, reported_domain, message)
    SELECT received_at, a.reporter, a.feedback_type, a.user_agent, a.source_ip, a.source_port,
           a.arrival_date, a.incidents, a.original_mail_from, a.original_rcpt_to,
           a.reported_domain, CASE WHEN keep_message THEN message END
    FROM spamhints.parse_arf(message) AS a
    RETURNING incoming_report_id
$$;

COMMENT ON FUNCTION spamhints.receive_arf(text, timestamptz, boolean) IS
'Files an ARF report received (the whole message, as text) into spamhints.incoming_report and returns its id; keep_message => false keeps only the fields.';

-- Per UTC day: what the mail logs detected, the reports received, the
-- customers caught.

CREATE VIEW spamhints.detections_per_day AS
SELECT (e.ts AT TIME ZONE 'UTC')::date AS day,
       count(*) FILTER (WHERE e.verdict = 'spam') AS spam,
       count(*) FILTER (WHERE e.verdict = 'virus') AS virus,
       count(*) FILTER (WHERE e.verdict = 'rejected') AS rejected,
       count(*) FILTER (WHERE e.verdict = 'clean') AS clean,
       count(DISTINCT e.client_ip) FILTER (WHERE e.verdict = 'spam') AS spam_sources,
       count(DISTINCT e.client_ip) FILTER (WHERE e.verdict = 'virus') AS virus_sources
FROM spamhints.mail_event e
GROUP BY 1
ORDER BY 1;

COMMENT ON VIEW spamhints.detections_per_day IS
'What our mail servers detected: per UTC day, the mail events by verdict (spam, virus, rejected, clean) and the distinct client addresses that sent spam and viruses.';

CREATE VIEW spamhints.incoming_reports_per_day AS
SELECT (r.received_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS reports,
       count(DISTINCT r.source_ip) AS addresses,
       count(DISTINCT r.reporter) AS reporters
FROM spamhints.incoming_report r
GROUP BY 1
ORDER BY 1;

COMMENT ON VIEW spamhints.incoming_reports_per_day IS
'The abuse reports received from all sources: per UTC day of receipt, the reports received, the distinct addresses they were about, and the distinct reporters.';

CREATE VIEW spamhints.customers_caught_per_day AS
SELECT d.day,
       count(DISTINCT d.customer_id) AS customers,
       count(DISTINCT d.customer_id) FILTER (WHERE d.verdict = 'spam') AS spam_customers,
       count(DISTINCT d.customer_id) FILTER (WHERE d.verdict = 'virus') AS virus_customers,
       count(DISTINCT d.customer_id) FILTER (WHERE d.first_day = d.day) AS new_customers
FROM (SELECT (e.ts AT TIME ZONE 'UTC')::date AS day, a.customer_id, e.verdict,
             min((e.ts AT TIME ZONE 'UTC')::date) OVER (PARTITION BY a.customer_id) AS first_day
      FROM spamhints.mail_event e
      JOIN spamhints.ip_assignment a ON a.network >>= e.client_ip AND a.during @> e.ts
      WHERE e.verdict IN ('spam', 'virus')) AS d
GROUP BY d.day
ORDER BY d.day;

COMMENT ON VIEW spamhints.customers_caught_per_day IS
'"Email log processing picks up 10 customers per day": per UTC day, the distinct customers (spamhints.ip_assignment, at the time of each event) whose addresses sent spam or viruses to our mail servers, by verdict, and new_customers, those caught for the first time that day.';

-- Which customers send mail directly (sFlow), and whether the mail logs
-- already caught them.

CREATE VIEW spamhints.customer_sender AS
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
