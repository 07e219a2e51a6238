-- 06_effective_rate: each agent's estimates scaled by effective / configured
-- beyond greatest(1.96 / sqrt(rate_samples), 5%), hand-computed (issue 16 item 2).
CREATE EXTENSION IF NOT EXISTS spamhints;
BEGIN;
-- the rule: 0.2 against 1.96/sqrt(96) = 0.20004 (kept) and 1.96/sqrt(97) = 0.19901 (switched);
-- unknown, zero or negative inputs keep 1
SELECT spamhints.rate_factor(1000, 1200, 96) AS kept, spamhints.rate_factor(1000, 1200, 97) AS switched,
       spamhints.rate_factor(1000, 500, 100) AS halved, spamhints.rate_factor(NULL, 500, 10) AS no_configured,
       spamhints.rate_factor(1000, 0, 10) AS zero_effective, spamhints.rate_factor(1000, 2000, 0) AS no_samples;
-- and never below 5%, however many samples: 4% over a million kept, 6% switched
SELECT spamhints.rate_factor(1000, 1040, 1e6) AS four_pct, spamhints.rate_factor(1000, 1060, 1e6) AS six_pct,
       spamhints.rate_factor(1000, 940, 1e6) AS minus_six_pct;

INSERT INTO spamhints.load (file_name, sha256, finished_at) VALUES ('t.pcap', repeat('0', 64), now());
-- 192.0.2.1: two sub-agents, 50 samples at 3000 and 50 at 1000 for 1:1000: pooled 2000 over 100,
--   |2 - 1| > 0.196: factor 2
-- 192.0.2.2: 110 for 1:100 over 400 samples: 0.1 > 1.96/20 = 0.098: factor 1.1
-- 192.0.2.3: the same over 380: 0.1 < 1.96/sqrt(380) = 0.1005: kept
-- 192.0.2.4: no rate measured (NULL): no row, kept
INSERT INTO spamhints.load_agent (load_id, agent, sub_agent, version, datagrams, first_seq, last_seq, lost, resets,
                                  configured_rate, effective_rate, rate_samples, sample_drops)
SELECT l.load_id, a, s, 5, 10, 1, 10, 0, 0, c, e, n, d
FROM spamhints.load l,
     (VALUES ('192.0.2.1'::inet, 0, 1000, 3000, 50, 3), ('192.0.2.1', 1, 1000, 1000, 50, 0),
             ('192.0.2.2', 0, 100, 110, 400, 0), ('192.0.2.3', 0, 100, 110, 380, 7),
             ('192.0.2.4', 0, NULL, NULL, 0, 0)) AS v(a, s, c, e, n, d);
SELECT agent, configured_rate, effective_rate, rate_samples, sample_drops, factor
FROM spamhints.agent_rate ORDER BY agent;

-- samples: 3 x 1000 from .1 (6000), 10 x 100 from .2 (1100), 10 x 100 from .3 (1000),
-- 1 x 500 from .4 (500): 24 samples, est_packets 8600
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
                                   src_ip, dst_ip, src_port, dst_port, tcp_flags)
SELECT l.load_id, row_number() OVER (), '2007-03-14 12:00:00+00', a, n, r, c, '203.0.113.25', 40000 + n, 25, 16
FROM spamhints.load l,
     (VALUES ('192.0.2.1'::inet, 1000, 3, '198.51.100.1'::inet), ('192.0.2.2', 100, 10, '198.51.100.2'),
             ('192.0.2.3', 100, 10, '198.51.100.3'), ('192.0.2.4', 500, 1, '198.51.100.4')) AS v(a, r, k, c),
     generate_series(1, k) AS n;
SELECT smtp_packets, est_packets, est_packets_low = spamhints.est_low(24, 8600) AS low_scaled,
       est_packets_high = spamhints.est_high(24, 8600) AS high_scaled
FROM spamhints.packet_stats;
SELECT a.ip, a.samples, a.est_packets
FROM unnest('{198.51.100.1,198.51.100.2,198.51.100.3,198.51.100.4,203.0.113.25}'::inet[]) AS u(ip),
     LATERAL spamhints.address(u.ip) a ORDER BY a.ip;
SELECT samples, est_packets FROM spamhints.activity('2007-03-14', '2007-03-15', '1 day');
ROLLBACK;
