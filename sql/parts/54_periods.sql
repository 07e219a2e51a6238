-- sql/parts/54_periods.sql: customer_sender and packet_stats for a time
-- range, the views' questions over the samples in the period.
--
-- Why the samples and not the rollups (spamhints.address_day): the rollups
-- hold per address every sample that gives it a role by its load's ports,
-- at the configured rate, with UTC hours and no peers; customer_sender
-- counts the samples sent to port 25 only, each scaled by its agent's
-- factor, its distinct servers (the peers), its hours in the session's
-- TimeZone, and a sample belongs to the customer who held its address at
-- its time (a lease can end in the middle of a day); packet_stats counts TCP
-- flags, which no rollup holds. None of these can be added up from the
-- rollups, so both read the samples, but only those of the period's days.
--
-- SQL-standard bodies without SET options, as address(ip, period): inlined
-- into the calling query, the period's bounds become comparisons on ts that
-- partition pruning understands (the partitions of other days are never
-- read: at plan time for a constant period; at executor start for a
-- parameter, through bounds on ts implied by the exact ones, without the
-- ORs of NULL and open bounds that pruning cannot take apart). The period
-- is half-open like the others when written so, '[from, to)'; any bounds
-- are taken as written; a NULL bound (or a NULL period) is unbounded; an
-- empty period holds nothing.

CREATE FUNCTION spamhints.customer_sender(period tstzrange)
RETURNS TABLE (customer_id text, addresses inet[], first_seen timestamptz, last_seen timestamptz,
               samples bigint, est_packets bigint, servers bigint, hourly spamhints.hist24,
               caught boolean, caught_spam bigint, caught_virus bigint, last_caught timestamptz,
               est_packets_low bigint, est_packets_high bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH sent AS (
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
          AND NOT coalesce(isempty(period), false)
          -- implied by the exact bounds below, in a form that pruning at executor
          -- start understands when period is a parameter (a generic plan)
          AND s.ts >= coalesce(lower(period), '-infinity') AND s.ts <= coalesce(upper(period), 'infinity')
          AND (period IS NULL OR lower_inf(period) OR s.ts > lower(period) OR (lower_inc(period) AND s.ts = lower(period)))
          AND (period IS NULL OR upper_inf(period) OR s.ts < upper(period) OR (upper_inc(period) AND s.ts = upper(period)))
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
           c.customer_id IS NOT NULL,
           coalesce(c.spam, 0),
           coalesce(c.virus, 0),
           c.last_caught,
           spamhints.est_low(t.samples, t.est_packets),
           spamhints.est_high(t.samples, t.est_packets)
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
    LEFT JOIN caught c ON c.customer_id = t.customer_id
    ORDER BY t.samples DESC, t.customer_id;
END;

COMMENT ON FUNCTION spamhints.customer_sender(tstzrange) IS
'spamhints.customer_sender over the samples in period, e.g. SELECT * FROM spamhints.customer_sender(''[2024-03-01, 2024-03-08)'') WHERE NOT caught: the same columns and meaning (each sample to port 25 matched to the customer who held its address at its time; hourly in the session''s TimeZone), for the samples with ts in period: bounds as written (''[from, to)'' half-open), a NULL bound or a NULL period unbounded, an empty period nothing. caught, caught_spam, caught_virus and last_caught are those of the view, over all the mail logs: whether the customer was ever caught. Reads the samples of the period''s days only (partitions pruned), not the rollups, which hold neither the peers nor the port-25 client samples apart.';

CREATE FUNCTION spamhints.packet_stats(period tstzrange)
RETURNS TABLE (smtp_packets bigint, syn bigint, syn_ack bigint, rst bigint, fin bigint,
               syn_pct numeric, syn_ack_pct numeric, rst_pct numeric, fin_pct numeric,
               est_packets bigint, est_packets_low bigint, est_packets_high bigint,
               syn_pct_low numeric, syn_pct_high numeric, syn_ack_pct_low numeric, syn_ack_pct_high numeric,
               rst_pct_low numeric, rst_pct_high numeric, fin_pct_low numeric, fin_pct_high numeric)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT s.smtp_packets,
           s.syn, s.syn_ack, s.rst, s.fin,
           round(100.0 * s.syn     / nullif(s.smtp_packets, 0), 2),
           round(100.0 * s.syn_ack / nullif(s.smtp_packets, 0), 2),
           round(100.0 * s.rst     / nullif(s.smtp_packets, 0), 2),
           round(100.0 * s.fin     / nullif(s.smtp_packets, 0), 2),
           s.est_packets,
           spamhints.est_low(s.smtp_packets, s.est_packets),
           spamhints.est_high(s.smtp_packets, s.est_packets),
           round(100 * spamhints.wilson_low(s.syn, s.smtp_packets)::numeric, 2),
           round(100 * spamhints.wilson_high(s.syn, s.smtp_packets)::numeric, 2),
           round(100 * spamhints.wilson_low(s.syn_ack, s.smtp_packets)::numeric, 2),
           round(100 * spamhints.wilson_high(s.syn_ack, s.smtp_packets)::numeric, 2),
           round(100 * spamhints.wilson_low(s.rst, s.smtp_packets)::numeric, 2),
           round(100 * spamhints.wilson_high(s.rst, s.smtp_packets)::numeric, 2),
           round(100 * spamhints.wilson_low(s.fin, s.smtp_packets)::numeric, 2),
           round(100 * spamhints.wilson_high(s.fin, s.smtp_packets)::numeric, 2)
    FROM (SELECT coalesce(sum(g.n), 0)::bigint AS smtp_packets,
                 coalesce(sum(g.syn), 0)::bigint AS syn, coalesce(sum(g.syn_ack), 0)::bigint AS syn_ack,
                 coalesce(sum(g.rst), 0)::bigint AS rst, coalesce(sum(g.fin), 0)::bigint AS fin,
                 coalesce(round(sum(g.est * coalesce(f.factor, 1))), 0)::bigint AS est_packets
          FROM (SELECT x.load_id, x.agent, count(*) AS n,
                       count(*) FILTER (WHERE x.tcp_flags & 18 = 2)  AS syn,
                       count(*) FILTER (WHERE x.tcp_flags & 18 = 18) AS syn_ack,
                       count(*) FILTER (WHERE x.tcp_flags & 4 <> 0)  AS rst,
                       count(*) FILTER (WHERE x.tcp_flags & 1 <> 0)  AS fin,
                       sum(x.sampling_rate) AS est
                FROM spamhints.smtp_sample x
                WHERE NOT coalesce(isempty(period), false)
                  -- implied by the exact bounds below, in a form that pruning at executor
                  -- start understands when period is a parameter (a generic plan)
                  AND x.ts >= coalesce(lower(period), '-infinity') AND x.ts <= coalesce(upper(period), 'infinity')
                  AND (period IS NULL OR lower_inf(period) OR x.ts > lower(period) OR (lower_inc(period) AND x.ts = lower(period)))
                  AND (period IS NULL OR upper_inf(period) OR x.ts < upper(period) OR (upper_inc(period) AND x.ts = upper(period)))
                GROUP BY x.load_id, x.agent) AS g
          LEFT JOIN (SELECT a.load_id, a.agent,
                            spamhints.rate_factor(sum(a.configured_rate * a.rate_samples),
                                                  sum(a.effective_rate * a.rate_samples), sum(a.rate_samples)::float8) AS factor
                     FROM spamhints.load_agent a
                     WHERE a.configured_rate IS NOT NULL AND a.effective_rate IS NOT NULL AND a.rate_samples > 0
                     GROUP BY a.load_id, a.agent) AS f ON f.load_id = g.load_id AND f.agent = g.agent) AS s;
END;

COMMENT ON FUNCTION spamhints.packet_stats(tstzrange) IS
'spamhints.packet_stats over the samples in period, e.g. SELECT smtp_packets, syn_pct, est_packets FROM spamhints.packet_stats(''[2024-03-01, 2024-03-08)''): the same columns and meaning, for the samples with ts in period (bounds as written, a NULL bound or a NULL period unbounded, an empty period nothing: one row of zeros). Reads the samples of the period''s days only (partitions pruned); no rollup holds the TCP flags.';
