-- sql/parts/30_views.sql: the samples seen per address (endpoint), the census
-- of all samples, activity over time, and the rollups by AS and country.

-- Endpoints: each sample seen from each of its two addresses.

-- SQL-standard bodies (BEGIN ATOMIC) are parsed once, when the extension is
-- created: a caller's search_path cannot change what they call, and they are
-- still inlined into the calling query (SET search_path would prevent that).
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

COMMENT ON FUNCTION spamhints.endpoints(integer[]) IS
'spamhints.endpoint for another SMTP port set, e.g. SELECT * FROM spamhints.endpoints(''{25,587}''): every sample twice, once from each address that plays an SMTP role in it. Inlined into the calling query.';

-- The roles of a sample come from the SMTP ports its load was made with
-- (spamhints.load.smtp_ports, spamhints-load --ports): the same rows that
-- packet_stats counts. A load is one small row; the join costs nothing.
CREATE VIEW spamhints.endpoint AS
SELECT s.src_ip AS ip, s.dst_ip AS peer, spamhints.src_role(s.src_port, s.dst_port, l.smtp_ports) AS role,
       'src'::text AS side, s.src_port AS port, s.dst_port AS peer_port,
       s.src_asn AS asn, s.src_cc AS cc, s.dst_asn AS peer_asn, s.dst_cc AS peer_cc,
       s.ts, s.sampling_rate, s.tcp_flags, s.ip_len, s.ttl, s.smtp, s.agent, s.load_id, s.frame,
       s.gw_src_as AS gw_as
FROM spamhints.smtp_sample s
JOIN spamhints.load l ON l.load_id = s.load_id
WHERE spamhints.src_role(s.src_port, s.dst_port, l.smtp_ports) IS NOT NULL
UNION ALL
SELECT s.dst_ip, s.src_ip, spamhints.dst_role(s.src_port, s.dst_port, l.smtp_ports),
       'dst'::text, s.dst_port, s.src_port,
       s.dst_asn, s.dst_cc, s.src_asn, s.src_cc,
       s.ts, s.sampling_rate, s.tcp_flags, s.ip_len, s.ttl, s.smtp, s.agent, s.load_id, s.frame,
       s.gw_dst_as
FROM spamhints.smtp_sample s
JOIN spamhints.load l ON l.load_id = s.load_id
WHERE spamhints.dst_role(s.src_port, s.dst_port, l.smtp_ports) IS NOT NULL;

COMMENT ON VIEW spamhints.endpoint IS
'Every sample seen from each of its two addresses, with the SMTP ports of its load (spamhints.load.smtp_ports; spamhints.endpoints(ports) for one set for all): ip, the address; peer, the other end; role, what this sample makes ip (client, server or both); side, ''src'' or ''dst''; port and peer_port; asn and cc of ip, peer_asn and peer_cc; and the sample''s ts, sampling_rate, tcp_flags, ip_len, ttl, smtp, agent, load_id, frame. A side that plays no SMTP role is left out. Per-address questions become plain SQL: SELECT ip, role_or(role), count(*) FROM spamhints.endpoint GROUP BY ip.';

CREATE VIEW spamhints.ip_census AS
SELECT (c).ips, (c).client_only, (c).server_only, (c).both
FROM (SELECT spamhints.smtp_census(r.ip, r.role) AS c
      FROM spamhints.address_rollup r) AS t;

COMMENT ON VIEW spamhints.ip_census IS
'The census of addresses by SMTP role over all samples (each with the SMTP ports of its load, spamhints.load.smtp_ports), one row: ips, the distinct addresses seen in an SMTP role, and client_only, server_only and both. From the rollups (spamhints.address_rollup: the months rollup_fold() folded, the other days of address_day); ip_census(period) for a time range.';

-- Activity over the capture: a series over a window.

CREATE FUNCTION spamhints.activity_stride(window_start timestamptz, window_end timestamptz, bin interval)
RETURNS interval
AS 'MODULE_PATHNAME', 'spamhints_activity_stride'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.activity_stride(timestamptz, timestamptz, interval) IS
'The bin of activity() as a span of time (a day is 24 hours, as date_bin counts it), checked before any work: error 54000 when [window_start, window_end) holds more than 1,000,000 bins; 22023 for a bin not longer than zero or with months, or an infinite window.';

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

-- AS and country rollups.

CREATE TABLE spamhints.asn (
    asn  bigint PRIMARY KEY,
    org  text
);

COMMENT ON TABLE spamhints.asn IS
'AS numbers and their organisations, filled by enrichment; client_as_top shows org as as_org (NULL for an AS not here).';

SELECT pg_catalog.pg_extension_config_dump('spamhints.asn', '');

CREATE VIEW spamhints.client_as_top AS
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

CREATE VIEW spamhints.client_cc_top AS
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
