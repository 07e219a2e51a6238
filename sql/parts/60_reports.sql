-- sql/parts/60_reports.sql: abuse reports to other ISPs: who agreed to receive
-- them, the evidence, which addresses to report, and the report itself, an
-- ARF message built from its parts.

CREATE TABLE spamhints.agreement (
    agreement_id     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    isp              text NOT NULL UNIQUE CHECK (spamhints.plain_text(isp)),
    abuse_address    text NOT NULL CHECK (abuse_address ~ '^[^@[:space:]<>",]+@[^@[:space:]<>",]+$'
                                          AND spamhints.plain_text(abuse_address)),
    asns             bigint[] NOT NULL DEFAULT '{}',
    networks         cidr[] NOT NULL DEFAULT '{}',
    exclude          cidr[] NOT NULL DEFAULT '{}',
    agreed_at        timestamptz NOT NULL DEFAULT now(),
    withdrawn_at     timestamptz,
    reference        text CHECK (spamhints.plain_text(reference)),
    suppression      interval,
    min_samples      integer CHECK (min_samples >= 1),
    include_mail_addresses boolean NOT NULL DEFAULT false,
    CHECK (cardinality(asns) > 0 OR cardinality(networks) > 0),
    CHECK (withdrawn_at IS NULL OR withdrawn_at >= agreed_at)
);

COMMENT ON TABLE spamhints.agreement IS
'The ISPs that have agreed to receive reports based on traffic data, and where: reports are only ever produced for them (spamhints.report() reads nothing else, and every row of spamhints.report_log references one). isp names it; abuse_address receives the reports; an address is theirs when it is in one of networks, or its AS (enrichment, or the sFlow gateway record) is in asns; exclude lists their own mail servers, never reported. In force from agreed_at until withdrawn_at.';
COMMENT ON COLUMN spamhints.agreement.reference IS 'where the agreement is recorded (a contract, a letter, a ticket)';
COMMENT ON COLUMN spamhints.agreement.suppression IS 'this ISP''s suppression window; NULL: the setting spamhints.report_suppression';
COMMENT ON COLUMN spamhints.agreement.min_samples IS 'an address with traffic evidence only (no mail-log verdict) is reported when it has at least this many sampled SMTP client packets in the period (and they fall in at least the setting report_min_minutes different minutes); NULL: the setting report_min_samples (3)';
COMMENT ON COLUMN spamhints.agreement.include_mail_addresses IS 'whether reports show envelope senders and recipients (personal data: often our own users'' addresses); false, the default, leaves them out: set it only when the agreement says so';

SELECT pg_catalog.pg_extension_config_dump('spamhints.agreement', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.agreement_agreement_id_seq', '');

CREATE SEQUENCE spamhints.report_id_seq;
COMMENT ON SEQUENCE spamhints.report_id_seq IS 'one number per spamhints.report() run: report_log.report_id';
SELECT pg_catalog.pg_extension_config_dump('spamhints.report_id_seq', '');

CREATE TABLE spamhints.report_log (
    report_log_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id       bigint NOT NULL,
    agreement_id    integer NOT NULL REFERENCES spamhints.agreement,
    abuse_address   text NOT NULL,
    source_ip       inet NOT NULL,
    period          tstzrange NOT NULL,
    evidence        text[] NOT NULL,
    new_evidence    text[] NOT NULL,
    diagnosis       text[] NOT NULL,
    items           bigint NOT NULL,
    reported_at     timestamptz NOT NULL,
    message_id      text NOT NULL UNIQUE,
    message         text NOT NULL,
    sent_at         timestamptz
);

COMMENT ON TABLE spamhints.report_log IS
'Every report spamhints.report() produced: one ARF message per source address, to the abuse address of an agreed ISP. It is what keeps reports from being unduly repetitive: an address reported to an ISP is not reported to it again within the suppression window unless a new kind of evidence appears. Mark sent_at when your mailer has sent message.';
COMMENT ON COLUMN spamhints.report_log.report_id IS 'the run of spamhints.report() that produced it (spamhints.report_id_seq)';
COMMENT ON COLUMN spamhints.report_log.evidence IS 'the kinds of evidence reported: traffic, server, spam, virus, rejected';
COMMENT ON COLUMN spamhints.report_log.new_evidence IS 'the kinds not reported to this ISP for this address within the suppression window before';
COMMENT ON COLUMN spamhints.report_log.message IS 'the ARF message (RFC 5965, RFC 6692), ready for sendmail -t';
COMMENT ON COLUMN spamhints.report_log.sent_at IS 'when it was sent, set by you or your mailer';

CREATE INDEX report_log_source ON spamhints.report_log (agreement_id, source_ip, reported_at);
CREATE INDEX report_log_reported ON spamhints.report_log (reported_at);
SELECT pg_catalog.pg_extension_config_dump('spamhints.report_log', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.report_log_report_log_id_seq', '');

CREATE FUNCTION spamhints.endpoint_text(ip inet, port integer) RETURNS text
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

-- the SMTP token of samples reaches reports too (the loader writes a verb or
-- a reply code): like every text that does, no control or format character
ALTER TABLE spamhints.smtp_sample
    ADD CONSTRAINT smtp_sample_smtp_check CHECK (spamhints.plain_text(smtp));

CREATE VIEW spamhints.evidence AS
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

-- How sure a count of sampled packets is: n sampled packets at 1 in N stand
-- for about n * N packets, but n is a Poisson count, and for small n its
-- exact 95% bounds are wide (3 samples: 0.619 to 8.767).
CREATE FUNCTION spamhints.poisson_bounds(n bigint, OUT lower float8, OUT upper float8)
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

CREATE FUNCTION spamhints.poisson_cdf(c bigint, mean float8) RETURNS float8
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

CREATE FUNCTION spamhints.counted(n bigint, one text, many text) RETURNS text
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

-- A report is built in parts that can each be called alone: report_items()
-- gathers, per address to report, what the report says; report_human(),
-- report_machine() and report_headers() write the three parts of the ARF
-- message, and report_message() puts them together. Each of them sets the
-- styles its text depends on: a report reads the same whatever the session's
-- styles (intervals in it).

CREATE TYPE spamhints.report_item AS (
    agreement_id            integer,
    isp                     text,
    abuse_address           text,
    source_ip               inet,
    asn                     bigint,
    evidence                text[],
    new_evidence            text[],
    diagnosis               text[],
    est_packets             bigint,
    events                  bigint,
    items                   bigint,
    reference               text,
    agreed_at               timestamptz,
    include_mail_addresses  boolean,
    suppression             interval,
    traffic_lines           text,
    traffic_n               bigint,
    servers                 bigint,
    traffic_first           timestamptz,
    traffic_last            timestamptz,
    server_lines            text,
    server_n                bigint,
    clients                 bigint,
    server_est              bigint,
    mail_lines_full         text,
    mail_lines_bare         text,
    mail_n                  bigint,
    viruses                 text,
    zones                   text,
    first_port              integer,
    arrival                 timestamptz,
    m_ts                    timestamptz,
    m_host                  text,
    m_name                  text,
    m_helo                  text,
    m_port                  integer,
    m_sender                text,
    m_recipients            text[],
    samples                 bigint,
    traffic_minutes         bigint,
    min_samples             integer,
    min_minutes             integer,
    rate_min                integer,
    rate_max                integer,
    client_networks         bigint,
    incident_ref            text,
    incident_peer           inet,
    incident_peer_port      integer,
    incident_flags          integer,
    incident_smtp           text,
    incident_rate           integer
);

COMMENT ON TYPE spamhints.report_item IS
'What a report says about one source address, as spamhints.report_items() gathers it: the agreed ISP (agreement_id, isp, abuse_address, reference, agreed_at, include_mail_addresses, suppression), the candidate''s evidence, new_evidence, diagnosis, est_packets, events and items (spamhints.report_candidates), the listed evidence lines per kind (traffic_lines, server_lines, mail_lines_full with the mail addresses, mail_lines_bare without them; up to the setting report_max_items each) with their counts (traffic_n, server_n, mail_n), the servers and clients it talked to, server_est (the estimate of its server packets: sampling rates times their agents'' factors, evidence.est_rate), the viruses and the mail logs'' time zones; m_*: the first mail event of its (time, host, client name, HELO, port, sender, recipients); the incident the machine-readable and headers parts describe, its first mail event or else its first sampled client packet: first_port and arrival (its port and time), incident_ref (where it is from) and, for a packet, incident_peer, incident_peer_port, incident_flags, incident_smtp, incident_rate; samples and traffic_minutes (its sampled client packets and the different minutes they fall in), the thresholds min_samples and min_minutes it was judged by, rate_min and rate_max (the sampling rates of its client packets), client_networks (the networks, /24 or /48, of the clients it answered as a server).';

CREATE FUNCTION spamhints.report_period_text(period tstzrange) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT spamhints.utc_text(lower(period)) || ' UTC to ' || spamhints.utc_text(upper(period)) || ' UTC'
$$;

COMMENT ON FUNCTION spamhints.report_period_text(tstzrange) IS
'A report period as reports write it: 2007-03-14 00:00:00 UTC to 2007-03-15 00:00:00 UTC. NULL for an empty period or one with an unbounded end, which no report has (report() refuses them, 22023).';

CREATE FUNCTION spamhints.report_items(period tstzrange, for_isp text DEFAULT NULL,
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

-- it reads the mail addresses of mail logs (personal data): like report(), for
-- the extension's owner or a role it trusts with them
REVOKE EXECUTE ON FUNCTION spamhints.report_items(tstzrange, text, timestamptz) FROM PUBLIC;

COMMENT ON FUNCTION spamhints.report_items(tstzrange, text, timestamptz) IS
'What spamhints.report(period, for_isp, at) reports, one spamhints.report_item per agreed ISP and source address with something new to report (spamhints.report_candidates, not suppressed), ordered by isp and source address (period NULL: all time, as report_candidates): the evidence listed per kind, up to the setting report_max_items each, and the one incident the machine-readable and headers parts describe (its first mail event, else its first sampled client packet). Reads the mail addresses (personal data): not executable by PUBLIC. E.g. SELECT * FROM spamhints.report_items(spamhints.yesterday());';

CREATE FUNCTION spamhints.report_human(item spamhints.report_item, period tstzrange, message_id text)
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

CREATE FUNCTION spamhints.report_machine(item spamhints.report_item) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, spamhints
SET IntervalStyle = 'postgres'
SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
    mta        text := spamhints.setting('reporting_mta');
    fields     text;
BEGIN
    fields := E'Feedback-Type: ' || CASE WHEN 'virus' = ANY (item.evidence) THEN 'virus' ELSE 'abuse' END || E'\n'
          || E'User-Agent: spamhints/0.1\n'
          || E'Version: 1\n'
          || 'Source-IP: ' || host(item.source_ip) || E'\n'
          || coalesce('Source-Port: ' || item.first_port || E'\n', '')
          || 'Arrival-Date: ' || spamhints.rfc5322_date(item.arrival) || E'\n'
          || 'Incidents: ' || item.items || E'\n'
          || CASE WHEN item.m_ts IS NOT NULL THEN 'Reporting-MTA: dns; ' || coalesce(item.m_host, mta) || E'\n' ELSE '' END
          || CASE WHEN item.m_ts IS NOT NULL AND item.include_mail_addresses THEN
                 coalesce('Original-Mail-From: <' || item.m_sender || E'>\n', '')
                 || coalesce((SELECT string_agg('Original-Rcpt-To: <' || r || E'>\n', '') FROM unnest(item.m_recipients) AS r), '')
             ELSE '' END;
    IF fields IS NULL THEN
        RAISE EXCEPTION 'the machine-readable part of the report about % would be empty: no report is made', host(item.source_ip)
            USING ERRCODE = '22023', HINT = 'An item from spamhints.report_items() has its source address, arrival and incidents.';
    END IF;
    RETURN fields;
END
$$;

COMMENT ON FUNCTION spamhints.report_machine(spamhints.report_item) IS
'The machine-readable part of a report (message/feedback-report, RFC 5965 section 3 with RFC 6692''s Source-Port): Feedback-Type (virus or abuse), User-Agent, Version, Source-IP, then the fields of the one incident the headers part shows (its first mail event, else its first sampled client packet): Source-Port, Arrival-Date; for a mail event Reporting-MTA (the mail server of ours that logged it) and, when the agreement includes mail addresses, Original-Mail-From and Original-Rcpt-To; Incidents counts every item of evidence (the human-readable part lists the others).';

CREATE FUNCTION spamhints.report_headers(item spamhints.report_item) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, spamhints
SET IntervalStyle = 'postgres'
SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
    mta        text := spamhints.setting('reporting_mta');
BEGIN
    -- no message is kept, so the header section is the trace field our
    -- server would have added, rebuilt from its log
    RETURN CASE WHEN item.m_ts IS NOT NULL THEN
                       'Received: from ' || coalesce(item.m_helo, 'unknown')
                       || ' (' || coalesce(item.m_name || ' ', '') || '[' || CASE WHEN family(item.source_ip) = 6 THEN 'IPv6:' ELSE '' END || host(item.source_ip) || ']'
                       || coalesce(':' || item.m_port, '') || ')'
                       || E'\n\tby ' || coalesce(item.m_host, mta) || '; ' || spamhints.rfc5322_date(item.m_ts) || E'\n'
                   -- no mail: a header block of our own making, labelled as such,
                   -- with what the sampled packet shows
                   ELSE 'X-Spamhints-Synthetic: no message was kept; these fields describe the sampled'
                        || E'\n\tpacket of ' || item.incident_ref || E', not a message\n'
                        || 'X-Spamhints-Client: ' || spamhints.endpoint_text(item.source_ip, item.first_port) || E'\n'
                        || 'X-Spamhints-Server: ' || spamhints.endpoint_text(item.incident_peer, item.incident_peer_port) || E'\n'
                        || 'X-Spamhints-Packet: ' || coalesce(nullif(spamhints.tcp_flags_text(item.incident_flags), ''), 'no flags')
                        || coalesce(', SMTP ' || item.incident_smtp, '') || ', sampled 1 in ' || item.incident_rate || E'\n'
                        || 'X-Spamhints-Observed: ' || spamhints.rfc5322_date(item.arrival) || E'\n'
                   END;
END
$$;

COMMENT ON FUNCTION spamhints.report_headers(spamhints.report_item) IS
'The headers part of a report (text/rfc822-headers): no message is kept, so it is the Received trace field our mail server would have added to the first mail from the address, rebuilt from its log. Without a mail event, a synthetic header block that says so (X-Spamhints-Synthetic) and gives the first sampled client packet: client and server endpoints, TCP flags, SMTP token and sampling rate, the time it was observed. Never empty: RFC 5965 requires the part.';

CREATE FUNCTION spamhints.report_message(item spamhints.report_item, period tstzrange,
                                         at timestamptz, message_id text)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, spamhints
SET IntervalStyle = 'postgres'
SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
    sender     text := spamhints.setting('report_from');
    human      text := spamhints.report_human(item, period, message_id);
    machine    text := spamhints.report_machine(item);
    headers    text := spamhints.report_headers(item);
    boundary   text;
BEGIN
    IF spamhints.setting('report_from') = '' OR spamhints.setting('reporting_mta') = '' THEN
        RAISE EXCEPTION 'the settings spamhints.report_from and spamhints.reporting_mta must be set before reports are made'
            USING ERRCODE = '55000',
                  HINT = 'Where replies go and the host that makes the reports, e.g. ALTER DATABASE abuse SET spamhints.report_from = ''abuse@isp.example''; ALTER DATABASE abuse SET spamhints.reporting_mta = ''mx.isp.example''.';
    END IF;
    IF headers IS NULL THEN
        RAISE EXCEPTION 'the headers part of the report about % would be missing: no report is made', host(item.source_ip)
            USING ERRCODE = '22023';
    END IF;
    -- a boundary nobody can guess (122 random bits from pg_strong_random),
    -- so that no text in the parts can end one; and none that they hold
    LOOP
        boundary := '=_spamhints_' || replace(gen_random_uuid()::text, '-', '');
        EXIT WHEN strpos(human || machine || headers, boundary) = 0;
    END LOOP;
    RETURN format(E'From: %s\nTo: %s\nDate: %s\nSubject: Abuse report: %s (%s), %s\nMessage-ID: %s\n',
                  sender, item.abuse_address, spamhints.rfc5322_date(at), host(item.source_ip),
                  array_to_string(item.diagnosis, ', '), spamhints.report_period_text(period), message_id)
          || E'MIME-Version: 1.0\n'
          || format(E'Content-Type: multipart/report; report-type=feedback-report;\n\tboundary="%s"\n\n', boundary)
          || E'This is an abuse report in the Abuse Reporting Format (ARF, RFC 5965).\n\n'
          || format(E'--%s\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s\n',
                    boundary, human)
          || format(E'--%s\nContent-Type: message/feedback-report\n\n%s\n', boundary, machine)
          || format(E'--%s\nContent-Type: text/rfc822-headers\n\n%s\n', boundary, headers)
          || format(E'--%s--\n', boundary);
END
$$;

COMMENT ON FUNCTION spamhints.report_message(spamhints.report_item, tstzrange, timestamptz, text) IS
'The report about one address as an ARF message (RFC 5965 multipart/report, report-type=feedback-report), ready for sendmail -t: From (the setting report_from), To (the abuse address), Date (at), Subject, Message-ID, and the three parts report_human(), report_machine() and report_headers() between MIME boundaries: a new random one for every message (so the same report made twice differs in it), found nowhere in the parts. An item whose evidence or fields are missing makes no message: an error (22023); so does an unset report_from or reporting_mta (55000).';

CREATE FUNCTION spamhints.report(period tstzrange DEFAULT spamhints.yesterday(),
                                 for_isp text DEFAULT NULL,
                                 at timestamptz DEFAULT now(),
                                 dry_run boolean DEFAULT false)
RETURNS TABLE (report_id bigint, isp text, abuse_address text, source_ip inet,
               diagnosis text[], evidence text[], new_evidence text[], items bigint,
               message_id text, message text)
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
SET IntervalStyle = 'postgres'
SET DateStyle = 'ISO, YMD'
AS $$
#variable_conflict use_column
DECLARE
    mta        text := spamhints.setting('reporting_mta');
    run_id     bigint;
    n          integer := 0;
    c          spamhints.report_item;
BEGIN
    IF spamhints.setting('report_from') = '' OR spamhints.setting('reporting_mta') = '' THEN
        RAISE EXCEPTION 'the settings spamhints.report_from and spamhints.reporting_mta must be set before reports are made'
            USING ERRCODE = '55000',
                  HINT = 'Where replies go and the host that makes the reports, e.g. ALTER DATABASE abuse SET spamhints.report_from = ''abuse@isp.example''; ALTER DATABASE abuse SET spamhints.reporting_mta = ''mx.isp.example''.';
    END IF;
    IF period IS NULL OR isempty(period) OR lower_inf(period) OR upper_inf(period) THEN
        RAISE EXCEPTION 'the report period must be a bounded, non-empty range of times'
            USING ERRCODE = '22023', HINT = 'e.g. tstzrange(''2007-03-14 00:00+00'', ''2007-03-15 00:00+00'')';
    END IF;
    IF for_isp IS NOT NULL AND NOT EXISTS (SELECT FROM spamhints.agreement g WHERE g.isp = for_isp) THEN
        RAISE NOTICE 'no agreement with "%": no report is produced for it', for_isp;
        RETURN;
    END IF;
    IF NOT dry_run THEN
        -- two runs at once must not both report the same address
        LOCK TABLE spamhints.report_log IN SHARE ROW EXCLUSIVE MODE;
        run_id := nextval('spamhints.report_id_seq');
    END IF;

    FOR c IN
        SELECT * FROM spamhints.report_items(period, for_isp, at) AS i ORDER BY i.isp, i.source_ip
    LOOP
        n := n + 1;
        report_id := run_id;
        isp := c.isp;
        abuse_address := c.abuse_address;
        source_ip := c.source_ip;
        diagnosis := c.diagnosis;
        evidence := c.evidence;
        new_evidence := c.new_evidence;
        items := c.items;
        message_id := format('<spamhints.%s.%s@%s>', coalesce(run_id::text, 'preview'), n, mta);
        message := spamhints.report_message(c, period, at, message_id);

        IF NOT dry_run THEN
            INSERT INTO spamhints.report_log (report_id, agreement_id, abuse_address, source_ip, period,
                                              evidence, new_evidence, diagnosis, items, reported_at,
                                              message_id, message)
            VALUES (run_id, c.agreement_id, c.abuse_address, c.source_ip, period,
                    c.evidence, c.new_evidence, c.diagnosis, c.items, at, message_id, message);
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION spamhints.report(tstzrange, text, timestamptz, boolean) IS
'Produces the reports for period (default: yesterday, UTC) to every agreed ISP, or only for_isp: one ARF message (RFC 5965 multipart/report with RFC 6692 Source-Port) per source address, with a human-readable part that gives the diagnosis (virus, spam sender, open server), every item of evidence timed in UTC (sampled packets with their sampling rate, mail events with size, HELO and verdict; up to the setting report_max_items per kind) and the warning about personal data. ISPs without an agreement get nothing. Each report is logged in spamhints.report_log; an address reported to an ISP within its suppression window is not reported again unless there is a new kind of evidence. at is the time of reporting (default now); dry_run => true shows the reports without logging them. Refuses to run (55000) while the settings report_from and reporting_mta are unset.';
