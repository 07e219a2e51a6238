-- sql/parts/53_address.sql: everything about one address, through the
-- B-trees on src_ip and dst_ip of each day partition (12_partitions.sql)
-- and, with a period, only the partitions of its days.
--
-- A SQL-standard body (bound when created) without SET options, so that the
-- planner inlines it into the calling query and sees the address and the
-- period as constants: index scans, partitions pruned at plan time (the
-- period's bounds as plain comparisons on ts, which pruning understands);
-- with the period a parameter (a generic plan), at executor start, through
-- bounds on ts implied by the exact ones.

CREATE FUNCTION spamhints.address(ip inet, period tstzrange DEFAULT NULL)
RETURNS TABLE (ip inet, samples bigint, est_packets bigint, as_source bigint, as_destination bigint,
               role spamhints.smtp_role, peers bigint, first_seen timestamptz, last_seen timestamptz,
               hourly spamhints.hist24, customer text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT $1, count(*), coalesce(round(sum(s.sampling_rate * coalesce(f.factor, 1))), 0)::bigint,
           count(*) FILTER (WHERE s.side = 'src'), count(*) FILTER (WHERE s.side = 'dst'),
           spamhints.role_or(s.role), count(DISTINCT s.peer), min(s.ts), max(s.ts),
           spamhints.hourly(s.ts),
           spamhints.customer_at($1, max(s.ts))
    FROM (SELECT x.ts, x.sampling_rate, x.load_id, x.agent, 'src' AS side, x.dst_ip AS peer,
                 spamhints.src_role(x.src_port, x.dst_port, l.smtp_ports) AS role
          FROM spamhints.smtp_sample x JOIN spamhints.load l ON l.load_id = x.load_id
          WHERE x.src_ip = $1
            AND x.ts >= coalesce(lower($2), '-infinity') AND x.ts <= coalesce(upper($2), 'infinity')
            AND ($2 IS NULL OR lower_inf($2) OR x.ts > lower($2) OR (lower_inc($2) AND x.ts = lower($2)))
            AND ($2 IS NULL OR upper_inf($2) OR x.ts < upper($2) OR (upper_inc($2) AND x.ts = upper($2)))
          UNION ALL
          SELECT x.ts, x.sampling_rate, x.load_id, x.agent, 'dst', x.src_ip,
                 spamhints.dst_role(x.src_port, x.dst_port, l.smtp_ports)
          FROM spamhints.smtp_sample x JOIN spamhints.load l ON l.load_id = x.load_id
          WHERE x.dst_ip = $1 AND x.src_ip IS DISTINCT FROM $1
            AND x.ts >= coalesce(lower($2), '-infinity') AND x.ts <= coalesce(upper($2), 'infinity')
            AND ($2 IS NULL OR lower_inf($2) OR x.ts > lower($2) OR (lower_inc($2) AND x.ts = lower($2)))
            AND ($2 IS NULL OR upper_inf($2) OR x.ts < upper($2) OR (upper_inc($2) AND x.ts = upper($2)))) AS s
    -- 0.2: each sample scaled by its agent's factor (spamhints.agent_rate)
    LEFT JOIN (SELECT a.load_id, a.agent,
                      spamhints.rate_factor(sum(a.configured_rate * a.rate_samples),
                                            sum(a.effective_rate * a.rate_samples), sum(a.rate_samples)::float8) AS factor
               FROM spamhints.load_agent a
               WHERE a.configured_rate IS NOT NULL AND a.effective_rate IS NOT NULL AND a.rate_samples > 0
               GROUP BY a.load_id, a.agent) AS f ON f.load_id = s.load_id AND f.agent = s.agent;
END;

COMMENT ON FUNCTION spamhints.address(inet, tstzrange) IS
'Everything about one address in spamhints.smtp_sample, in period (default: all time): samples (a sample from the address to itself counts once), est_packets (their sampling rates summed, each times its agent''s factor, spamhints.agent_rate), as_source and as_destination, role (the OR of the SMTP roles its samples give it, with each load''s ports; NULL when none), peers (distinct addresses at the other end), first_seen, last_seen, hourly (the hist24 of its samples by hour of day: spamhints.chart(hourly)), and customer (spamhints.customer_at the address at last_seen). Through the B-trees on src_ip and dst_ip of the day partitions, and only the partitions of period: never a scan of the table.';
