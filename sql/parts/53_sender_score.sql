-- sql/parts/53_sender_score.sql: a score per sending address from what
-- sampled packets can tell of it.
--
-- The features, each shown with the score, over the client samples of an
-- address (samples where it plays the SMTP client; a sample of both roles,
-- port 25 to port 25, counts as client and as server):
--
--   client_only      never seen as a server: a mail server or relay answers
--                    as one too, a bot never does
--   server_networks  the distinct networks (/24, /48) of the servers it
--                    talked to: a bot sprays the mail servers of the world, a
--                    person's client talks to one or two submission servers
--   syn_share        its connection attempts (SYN without ACK, sent by it)
--                    among its client samples: bots open many connections
--                    that never get far
--   rst_share        reset packets (either way) among its client samples
--   hour_spread      the distinct hours of day (the session's TimeZone) of
--                    its client samples against the hours n samples spread
--                    evenly over the day would fall in, 24 (1 - (23/24)^n):
--                    1 for a machine busy day and night, less for a person's
--                    day; meaningful over whole days
--   neighbour_share  of the other addresses of its /24 (/48) seen in the
--                    window, the share that send as clients too: bots come
--                    in pools
--   dynamic          it was held under a bounded lease (spamhints.ip_assignment,
--                    a during with an end) in the window: a dynamic customer
--                    address, where no mail server belongs
--
-- score = 0.25 client_only + 0.25 least(1, ln(server_networks) / ln(32))
--       + 0.15 least(1, syn_share / 0.25) + 0.10 least(1, rst_share / 0.15)
--       + 0.10 hour_spread + 0.05 neighbour_share + 0.10 dynamic
--
-- 0 to 1. The weights are set by hand from what tells a bot apart (its
-- role and its fan-out weigh most: they do not depend on how the bot
-- talks), not fitted to data; bench/score.sh measures what they detect.
-- Below min_samples client samples the score abstains (NULL): a few samples
-- cannot tell.

CREATE FUNCTION spamhints.sender_score(window_start timestamptz, window_end timestamptz,
                                       min_samples integer DEFAULT 10)
RETURNS TABLE (ip inet, customer_id text, client_samples bigint, server_samples bigint,
               client_only boolean, servers bigint, server_networks bigint,
               syn_share float8, rst_share float8, active_hours bigint, hour_spread float8,
               network_senders bigint, network_addresses bigint, neighbour_share float8,
               dynamic boolean, score float8, abstained boolean, rank bigint,
               est_packets bigint, est_packets_low bigint, est_packets_high bigint,
               syn_share_low float8, syn_share_high float8, rst_share_low float8, rst_share_high float8,
               neighbour_share_low float8, neighbour_share_high float8)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH e AS (
        SELECT e.ip, e.peer, e.role <> 'server' AS as_client, e.role <> 'client' AS as_server,
               e.side, e.tcp_flags, e.ts, e.sampling_rate * coalesce(r.factor, 1) AS sampling_rate,
               network(set_masklen(e.ip, CASE WHEN family(e.ip) = 4 THEN 24 ELSE 48 END)) AS net
        FROM spamhints.endpoint e
        -- 0.2: each sample scaled by its agent's factor
        -- (load_agent itself, not the view agent_rate: a coordinator's shard_views() reads it across shards)
        LEFT JOIN (SELECT a.load_id, a.agent,
                          spamhints.rate_factor(sum(a.configured_rate * a.rate_samples),
                                                sum(a.effective_rate * a.rate_samples), sum(a.rate_samples)::float8) AS factor
                   FROM spamhints.load_agent a
                   WHERE a.configured_rate IS NOT NULL AND a.effective_rate IS NOT NULL AND a.rate_samples > 0
                   GROUP BY a.load_id, a.agent) AS r ON r.load_id = e.load_id AND r.agent = e.agent
        WHERE e.ts >= window_start AND e.ts < window_end
    ), per AS (
        SELECT e.ip, min(e.net) AS net,
               count(*) FILTER (WHERE e.as_client) AS client_samples,
               count(*) FILTER (WHERE e.as_server) AS server_samples,
               count(DISTINCT e.peer) FILTER (WHERE e.as_client) AS servers,
               count(DISTINCT network(set_masklen(e.peer, CASE WHEN family(e.peer) = 4 THEN 24 ELSE 48 END)))
                   FILTER (WHERE e.as_client) AS server_networks,
               count(*) FILTER (WHERE e.as_client AND e.side = 'src' AND e.tcp_flags & 18 = 2) AS syn,
               count(*) FILTER (WHERE e.as_client AND e.tcp_flags & 4 <> 0) AS rst,
               count(DISTINCT extract(hour FROM e.ts)) FILTER (WHERE e.as_client) AS active_hours,
               max(e.ts) FILTER (WHERE e.as_client) AS last_seen,
               coalesce(round(sum(e.sampling_rate) FILTER (WHERE e.as_client)), 0)::bigint AS est_packets
        FROM e
        GROUP BY e.ip
    ), nets AS (
        SELECT p.net, count(*) AS addresses, count(*) FILTER (WHERE p.client_samples > 0) AS senders
        FROM per p
        GROUP BY p.net
    ), f AS (
        SELECT p.ip,
               (SELECT a.customer_id FROM spamhints.ip_assignment a
                WHERE a.network >>= p.ip AND a.during @> p.last_seen) AS customer_id,
               p.client_samples, p.server_samples, p.server_samples = 0 AS client_only,
               p.servers, p.server_networks,
               p.syn::float8 / p.client_samples AS syn_share,
               p.rst::float8 / p.client_samples AS rst_share,
               p.active_hours,
               least(1, p.active_hours / (24 * (1 - power(23.0 / 24, p.client_samples))))::float8 AS hour_spread,
               n.senders AS network_senders, n.addresses AS network_addresses,
               CASE WHEN n.addresses > 1 THEN (n.senders - 1)::float8 / (n.addresses - 1) ELSE 0 END AS neighbour_share,
               EXISTS (SELECT FROM spamhints.ip_assignment a
                       WHERE a.network >>= p.ip AND NOT upper_inf(a.during)
                         -- the check first: a reversed window is not a range
                         AND a.during && CASE WHEN spamhints.window_check('sender_score', window_start, window_end)
                                              THEN tstzrange(window_start, window_end) END) AS dynamic,
               p.est_packets, p.syn AS syn_n, p.rst AS rst_n
        FROM per p
        JOIN nets n ON n.net = p.net
        WHERE p.client_samples > 0
    ), s AS (
        SELECT f.*,
               CASE WHEN f.client_samples >= min_samples THEN
                   0.25 * f.client_only::integer
                   + 0.25 * least(1, ln(f.server_networks) / ln(32))
                   + 0.15 * least(1, f.syn_share / 0.25)
                   + 0.10 * least(1, f.rst_share / 0.15)
                   + 0.10 * f.hour_spread
                   + 0.05 * f.neighbour_share
                   + 0.10 * f.dynamic::integer
               END AS score
        FROM f
    )
    SELECT s.ip, s.customer_id, s.client_samples, s.server_samples, s.client_only, s.servers,
           s.server_networks, s.syn_share, s.rst_share, s.active_hours, s.hour_spread,
           s.network_senders, s.network_addresses, s.neighbour_share, s.dynamic,
           round(s.score::numeric, 4)::float8, s.score IS NULL,
           CASE WHEN s.score IS NOT NULL THEN rank() OVER (ORDER BY round(s.score::numeric, 4) DESC NULLS LAST) END,
           s.est_packets, spamhints.est_low(s.client_samples, s.est_packets),
           spamhints.est_high(s.client_samples, s.est_packets),
           spamhints.wilson_low(s.syn_n, s.client_samples), spamhints.wilson_high(s.syn_n, s.client_samples),
           spamhints.wilson_low(s.rst_n, s.client_samples), spamhints.wilson_high(s.rst_n, s.client_samples),
           spamhints.wilson_low(s.network_senders - 1, s.network_addresses - 1),
           spamhints.wilson_high(s.network_senders - 1, s.network_addresses - 1)
    FROM s
    WHERE spamhints.window_check('sender_score', window_start, window_end)
    ORDER BY s.score DESC NULLS LAST, s.client_samples DESC, s.ip;
END;

COMMENT ON FUNCTION spamhints.sender_score(timestamptz, timestamptz, integer) IS
'Per address that sent as an SMTP client in [window_start, window_end) (spamhints.endpoint: the SMTP ports of each load), a score from 0 to 1 of how much it looks like a spam bot, from the network-level features sampled packets support, each shown: customer_id (holder at its last client sample, spamhints.ip_assignment), client_samples and server_samples, client_only (never a server), servers and server_networks (distinct servers it talked to, and their /24 or /48 networks), syn_share (SYN without ACK it sent, of its client samples), rst_share (RST either way, of its client samples), active_hours and hour_spread (distinct hours of day in the session''s TimeZone against 24 (1 - (23/24)^n), the hours n samples spread evenly fall in; 1 is as flat as can be), network_senders and network_addresses (addresses of its /24 or /48 in the window that send, and all seen) and neighbour_share ((senders - 1) / (addresses - 1)), dynamic (held under a bounded lease in the window). score = 0.25 client_only + 0.25 least(1, ln(server_networks) / ln 32) + 0.15 least(1, syn_share / 0.25) + 0.10 least(1, rst_share / 0.15) + 0.10 hour_spread + 0.05 neighbour_share + 0.10 dynamic: weights set by hand (role and fan-out first: they do not depend on how a bot talks), not fitted; bench/score.sh measures them. Abstains (score and rank NULL, abstained true) below min_samples client samples (default 10). rank by score (ties share one); est_packets (its client packets, sum of sampling rates) with est_packets_low and est_packets_high, the 95% bounds. Then (0.2) the Wilson 95% intervals of the three shares: syn_share_low and syn_share_high, rst_share_low and rst_share_high (of client_samples), neighbour_share_low and neighbour_share_high (network_senders - 1 of network_addresses - 1; NULL when it is alone in its network). Highest first. A window that ends before it starts is an error (22023), a NULL bound too (22004); an empty one has no rows, -infinity to infinity is all time.';
