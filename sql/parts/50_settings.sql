-- sql/parts/50_settings.sql: the settings of the abuse desk workflow, and
-- times as its reports write them.
--
-- The workflow (this part and the next ones: customers, mail logs, reports,
-- retention and schedules) is the ISP's own customers, its mail servers'
-- logs, and reports to other ISPs that follow the Best Practice for
-- reporting abuse based on traffic data (prior agreement, not unduly
-- repetitive, evidence clearly given and accurately timed, a warning about
-- personal data, personal data kept no longer than needed).
--
-- Every function of the workflow runs with search_path = pg_catalog,
-- spamhints, so a caller's search_path cannot change what it does. All times
-- in reports and in the daily figures are UTC; days are UTC days.

-- Settings: custom parameters (SET, ALTER DATABASE ... SET, postgresql.conf)
-- with defaults, so that nothing needs the C module to be loaded.

CREATE FUNCTION spamhints.setting_default(name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT d.value
    FROM (VALUES ('report_suppression', '7 days'),
                 ('retention',          '90 days'),
                 ('report_from',        ''),
                 ('reporting_mta',      ''),
                 ('report_max_items',   '100'),
                 ('report_min_samples', '3'),
                 ('report_min_minutes', '2')) AS d(name, value)
    WHERE d.name = setting_default.name
$$;

COMMENT ON FUNCTION spamhints.setting_default(text) IS
'The default of a workflow setting (NULL for an unknown name); spamhints.settings lists them all. report_from and reporting_mta have none (the empty value): spamhints.report() refuses to run until they are set.';

-- Each value is checked when it is set (the module's check hooks: a
-- positive interval, a plain mail address, a host name, a number from 1 to
-- 100000), and again when it is used: a value set before the module was
-- loaded in the session was not checked then.
CREATE FUNCTION spamhints.setting_check(name text, value text) RETURNS text
AS 'MODULE_PATHNAME', 'spamhints_setting_check'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.setting_check(text, text) IS
'value when it is fit for the workflow setting spamhints.NAME (as SET checks it), else an error (22023) that says why: report_suppression and retention an interval greater than zero, at most 100 years; report_from a bare mail address (abuse@isp.example); reporting_mta a host name; report_max_items, report_min_samples and report_min_minutes a number from 1 to 100000. The empty value, the default, is always fit.';

CREATE FUNCTION spamhints.setting(name text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    v text := current_setting('spamhints.' || name, true);
BEGIN
    IF spamhints.setting_default(name) IS NULL THEN
        RAISE EXCEPTION 'unknown spamhints setting "%"', name
            USING ERRCODE = '42704', HINT = 'SELECT * FROM spamhints.settings lists them.';
    END IF;
    -- read before the check loads the module, which drops (with a warning) a
    -- value it cannot take: then it is an error here, not the default
    RETURN coalesce(nullif(spamhints.setting_check(name, coalesce(v, '')), ''), spamhints.setting_default(name));
END
$$;

COMMENT ON FUNCTION spamhints.setting(text) IS
'The value of workflow setting spamhints.NAME: the parameter when it is set (SET spamhints.retention = ''30 days'', or ALTER DATABASE abuse SET ...), otherwise its default. A value the setting cannot take (spamhints.setting_check) is an error (22023), never used.';

CREATE VIEW spamhints.settings AS
SELECT s.name, spamhints.setting(s.name) AS value, spamhints.setting_default(s.name) AS "default", s.description
FROM (VALUES
  ('report_suppression', 'an address reported to an ISP is not reported to it again within this interval, unless there is a new kind of evidence (agreement.suppression overrides it per ISP)'),
  ('retention', 'personal data older than this is deleted by spamhints.purge(): samples, mail events, reports sent and received, ended address assignments'),
  ('report_from', 'the From address of the reports, where ISPs reply; no default: reports are not made until it is set'),
  ('reporting_mta', 'the host name that reports name in their Message-ID, and as Reporting-MTA when no mail server of ours is named; no default: reports are not made until it is set'),
  ('report_max_items', 'evidence items listed per kind and address in a report; the rest are counted'),
  ('report_min_samples', 'an address with sampled packets only (no mail-log verdict) is reported when it has at least this many sampled client packets in the period (agreement.min_samples overrides it per ISP)'),
  ('report_min_minutes', 'and when they fall in at least this many different minutes: one burst is no pattern')) AS s(name, description);

COMMENT ON VIEW spamhints.settings IS
'The workflow''s settings (custom parameters spamhints.NAME): name, value in this session, default, and what it does. Change one for a database with ALTER DATABASE db SET spamhints.retention = ''30 days''.';

-- Text as reports show it.

CREATE FUNCTION spamhints.plain_text(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
-- a SQL-standard body, bound when it is created (no search_path needed),
-- that CHECK constraints inline: loads check every row
RETURN s !~ '[\x01-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]';

COMMENT ON FUNCTION spamhints.plain_text(text) IS
'Whether s holds no control or format character: no C0 control (tab and line breaks included), DEL or C1 control (NEL included), no line or paragraph separator (U+2028, U+2029), no bidirectional mark, embedding, override or isolate (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069). Every text column that reaches a report has it as a CHECK constraint: a report shows its text on lines of its own making, and reads the same in every direction.';

-- Times as reports write them.

CREATE FUNCTION spamhints.utc_text(ts timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
           || CASE WHEN extract(microseconds FROM ts)::bigint % 1000000 <> 0
                   THEN to_char(ts AT TIME ZONE 'UTC', '.US') ELSE '' END
$$;

COMMENT ON FUNCTION spamhints.utc_text(timestamptz) IS
'A time in UTC as reports write it, whatever the session''s TimeZone: 2007-03-14 10:15:01, with .microseconds when it has them (sampled packets do).';

CREATE FUNCTION spamhints.rfc5322_date(ts timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'Dy, DD Mon YYYY HH24:MI:SS') || ' +0000'
$$;

COMMENT ON FUNCTION spamhints.rfc5322_date(timestamptz) IS
'A time as an RFC 5322 date-time in UTC (Wed, 14 Mar 2007 10:15:01 +0000), for the Date and Arrival-Date fields of reports.';

CREATE FUNCTION spamhints.yesterday(at timestamptz DEFAULT now()) RETURNS tstzrange
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT tstzrange((((at AT TIME ZONE 'UTC')::date - 1)::timestamp AT TIME ZONE 'UTC'),
                     (((at AT TIME ZONE 'UTC')::date)::timestamp AT TIME ZONE 'UTC'))
$$;

COMMENT ON FUNCTION spamhints.yesterday(timestamptz) IS
'The UTC day before at (default now) as a range [00:00, 24:00) UTC: the default period of spamhints.report().';
