-- sql/parts/31_periods.sql: the census, AS and country views for a time
-- range: the rollups (spamhints.address_day, 29_rollups.sql) of the whole
-- UTC days of the period and, by their roles per hour, of its whole hours in
-- the days it cuts through; the samples of the partial hours at its ends; so
-- that the answers are those of the samples in the period.
--
-- SQL-standard bodies without SET options: inlined into the calling query,
-- the bounds become comparisons on day and ts (partitions pruned).

CREATE FUNCTION spamhints.address_roles(period tstzrange)
RETURNS TABLE (ip inet, role spamhints.smtp_role, asn bigint, gw_as bigint, cc text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    -- the whole days: their rollups
    SELECT r.ip, r.role, r.asn, r.gw_as, r.cc
    FROM spamhints.address_day r
    WHERE r.day >= (spamhints.whole_days_from(period) AT TIME ZONE 'UTC')::date
      AND r.day < (spamhints.whole_days_to(period) AT TIME ZONE 'UTC')::date
    UNION ALL
    -- the whole hours of the days the period cuts through (at most one at
    -- each end): their rollups' roles in those hours
    SELECT h.ip, h.role, h.asn, h.gw_as, h.cc
    FROM (SELECT r.ip, r.asn, r.gw_as, r.cc,
                 spamhints.hours_role(r.role_hours,
                     spamhints.day_hours(r.day, spamhints.whole_hours_from(period), spamhints.whole_hours_to(period))) AS role
          FROM spamhints.address_day r
          WHERE (r.day = ((spamhints.whole_days_from(period) - interval '24 hours') AT TIME ZONE 'UTC')::date
                 AND spamhints.whole_hours_from(period) < spamhints.whole_days_from(period))
             OR (r.day = (spamhints.whole_days_to(period) AT TIME ZONE 'UTC')::date
                 AND spamhints.whole_hours_to(period) > spamhints.whole_days_to(period))) AS h
    WHERE h.role IS NOT NULL
    UNION ALL
    -- the partial hours at its ends: the samples
    SELECT e.ip, e.role, e.asn, e.gw_as, e.cc
    FROM spamhints.endpoint e
    WHERE (e.ts < spamhints.whole_hours_from(period) OR e.ts >= spamhints.whole_hours_to(period))
      -- implied by the exact bounds below, in a form that pruning at executor
      -- start understands when period is a parameter (a generic plan)
      AND e.ts >= coalesce(lower(period), '-infinity') AND e.ts <= coalesce(upper(period), 'infinity')
      AND (period IS NULL OR lower_inf(period) OR e.ts > lower(period) OR (lower_inc(period) AND e.ts = lower(period)))
      AND (period IS NULL OR upper_inf(period) OR e.ts < upper(period) OR (upper_inc(period) AND e.ts = upper(period)));
END;

COMMENT ON FUNCTION spamhints.address_roles(tstzrange) IS
'The addresses seen in period (NULL: all time) with their roles, ASes (asn from the ASN database, gw_as from sFlow) and countries: a row per rollup (spamhints.address_day) of each whole UTC day of the period, a row per rollup of the days it cuts through with the role of their whole hours in it (role_hours), and a row per sample side (spamhints.endpoint) in the partial hours at its ends; an address comes several times. What ip_census(period), client_as_top(period) and client_cc_top(period) count.';

CREATE FUNCTION spamhints.ip_census(period tstzrange)
RETURNS TABLE (ips bigint, client_only bigint, server_only bigint, "both" bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT (c).ips, (c).client_only, (c).server_only, (c).both
    FROM (SELECT spamhints.smtp_census(r.ip, r.role) AS c
          FROM spamhints.address_roles(period) r) AS t;
END;

COMMENT ON FUNCTION spamhints.ip_census(tstzrange) IS
'spamhints.ip_census over the samples in period (NULL: all time), e.g. SELECT * FROM spamhints.ip_census(''[2024-03-01, 2024-03-08)''): whole UTC hours from the rollups, the rest from the samples.';

CREATE FUNCTION spamhints.client_as_top(period tstzrange)
RETURNS TABLE (rank bigint, asn bigint, as_org text, country text, clients bigint, servers bigint,
               "both" bigint, ips bigint, as_source text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH by_cc AS (
        SELECT coalesce(e.asn, nullif(e.gw_as, 0)) AS asn, e.cc, e.asn IS NOT NULL AS mmdb,
               spamhints.census_agg(e.ip, e.role) AS c
        FROM spamhints.address_roles(period) e
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
    SELECT rank() OVER (ORDER BY (a.n).client_only DESC),
           a.asn, o.org, a.country,
           (a.n).client_only, (a.n).server_only, (a.n).both, (a.n).ips,
           a.as_source
    FROM by_as a
    LEFT JOIN spamhints.asn o ON o.asn = a.asn
    ORDER BY 1, a.asn;
END;

COMMENT ON FUNCTION spamhints.client_as_top(tstzrange) IS
'spamhints.client_as_top over the samples in period (NULL: all time), e.g. SELECT * FROM spamhints.client_as_top(''[2024-03-01, 2024-03-08)'') WHERE rank <= 30: whole UTC hours from the rollups, the rest from the samples.';

CREATE FUNCTION spamhints.client_cc_top(period tstzrange)
RETURNS TABLE (rank bigint, country text, clients bigint, servers bigint, "both" bigint, ips bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT rank() OVER (ORDER BY (t.n).client_only DESC),
           t.cc, (t.n).client_only, (t.n).server_only, (t.n).both, (t.n).ips
    FROM (SELECT e.cc, spamhints.smtp_census(e.ip, e.role) AS n
          FROM spamhints.address_roles(period) e
          WHERE e.cc IS NOT NULL
          GROUP BY e.cc) AS t
    ORDER BY 1, t.cc;
END;

COMMENT ON FUNCTION spamhints.client_cc_top(tstzrange) IS
'spamhints.client_cc_top over the samples in period (NULL: all time): whole UTC hours from the rollups, the rest from the samples.';
