-- tests/regress/sql/53_sender_score.sql: sender_score()'s features against
-- hand-counted samples, its score by its formula, and its abstention.
CREATE EXTENSION IF NOT EXISTS spamhints;
\set VERBOSITY terse
SET TimeZone = 'UTC';
SELECT plan(9);
BEGIN;
INSERT INTO spamhints.load (file_name, sha256, finished_at) VALUES ('s.pcap', repeat('5', 64), now());
-- A = 198.51.100.10, a client only: SYN to .25 at 00:10 and to .26 at 05:10
-- (203.0.113.0/24), data to 192.0.2.25 at 10:10, which resets it at 10:11.
-- B = 198.51.100.20: the server of 203.0.113.99 at 12:00 and a client of
-- 203.0.113.25 at 12:05. 203.0.113.99: one client sample (to B).
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
                                   src_ip, dst_ip, src_port, dst_port, tcp_flags)
SELECT l.load_id, n, t, '192.0.2.1', n, 1000, s, d, sp, dp, f
FROM spamhints.load l,
     (VALUES (1, '2007-03-14 00:10+00'::timestamptz, '198.51.100.10'::inet, '203.0.113.25'::inet, 40001, 25, 2),
             (2, '2007-03-14 05:10+00', '198.51.100.10', '203.0.113.26', 40002, 25, 2),
             (3, '2007-03-14 10:10+00', '198.51.100.10', '192.0.2.25', 40003, 25, 16),
             (4, '2007-03-14 10:11+00', '192.0.2.25', '198.51.100.10', 25, 40003, 20),
             (5, '2007-03-14 12:00+00', '203.0.113.99', '198.51.100.20', 50000, 25, 16),
             (6, '2007-03-14 12:05+00', '198.51.100.20', '203.0.113.25', 41000, 25, 24)) AS v(n, t, s, d, sp, dp, f);
-- A holds a day's lease, B a static address
INSERT INTO spamhints.ip_assignment (customer_id, network, during) VALUES
    ('cust-a', '198.51.100.10/32', tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00')),
    ('cust-b', '198.51.100.20/32', tstzrange(NULL, NULL));

-- A: 4 client samples, none as a server; 3 servers in 2 networks; 2 SYN of 4
-- (0.5), 1 RST of 4 (0.25); hours 0, 5, 10: 3 / (24 (1 - (23/24)^4)) = 0.79854;
-- its /24 has 2 addresses, both sending: (2 - 1) / (2 - 1) = 1
SELECT results_eq($$SELECT customer_id, client_samples, server_samples, client_only, servers, server_networks,
                           syn_share, rst_share, active_hours, round(hour_spread::numeric, 5),
                           network_senders, network_addresses, neighbour_share, dynamic, est_packets
                    FROM spamhints.sender_score('2007-03-14', '2007-03-15', 3) WHERE ip = '198.51.100.10'$$,
  $$VALUES ('cust-a', 4::bigint, 0::bigint, true, 3::bigint, 2::bigint, 0.5::float8, 0.25::float8, 3::bigint,
            0.79854, 2::bigint, 2::bigint, 1::float8, true, 4000::bigint)$$,
  'sender_score: the features of a client-only address, counted by hand');
-- 0.25 + 0.25 ln 2 / ln 32 + 0.15 min(1, 0.5 / 0.25) + 0.10 min(1, 0.25 / 0.15)
-- + 0.10 x 0.79854 + 0.05 x 1 + 0.10 = 0.7799
SELECT results_eq($$SELECT score, abstained, rank FROM spamhints.sender_score('2007-03-14', '2007-03-15', 3) WHERE ip = '198.51.100.10'$$,
  $$VALUES (0.7799::float8, false, 1::bigint)$$, 'sender_score: the score by its formula');
-- Wilson's 95% intervals, (k + 1.92 -+ 1.96 sqrt(k (n - k) / n + 0.96)) / (n + 3.84):
-- 2 SYN of 4: 0.1500 to 0.8500; 1 RST of 4: 0.0456 to 0.6994; 1 neighbour
-- sending of 1: 0.2065 to 1
SELECT results_eq($$SELECT round(syn_share_low::numeric, 4), round(syn_share_high::numeric, 4),
                           round(rst_share_low::numeric, 4), round(rst_share_high::numeric, 4),
                           round(neighbour_share_low::numeric, 4), round(neighbour_share_high::numeric, 4)
                    FROM spamhints.sender_score('2007-03-14', '2007-03-15', 3) WHERE ip = '198.51.100.10'$$,
  $$VALUES (0.1500, 0.8500, 0.0456, 0.6994, 0.2065, 1.0000)$$,
  'sender_score: the shares'' Wilson 95% intervals, by hand');
-- 0 of 2 neighbours: 0 to 0.6576
SELECT results_eq($$SELECT round(neighbour_share_low::numeric, 4), round(neighbour_share_high::numeric, 4)
                    FROM spamhints.sender_score('2007-03-14', '2007-03-15', 1) WHERE ip = '203.0.113.99'$$,
  $$VALUES (0.0000, 0.6576)$$, 'sender_score: no neighbour of 203.0.113.99 sends: 0 of 2, 0 to 0.6576');
SELECT results_eq($$SELECT customer_id, client_samples, server_samples, client_only, servers, server_networks,
                           syn_share, rst_share, active_hours, hour_spread, dynamic, score, abstained, rank
                    FROM spamhints.sender_score('2007-03-14', '2007-03-15', 3) WHERE ip = '198.51.100.20'$$,
  $$VALUES ('cust-b', 1::bigint, 1::bigint, false, 1::bigint, 1::bigint, 0::float8, 0::float8, 1::bigint,
            1::float8, false, NULL::float8, true, NULL::bigint)$$,
  'sender_score: an address of both roles, below the minimum: abstains');
-- with a minimum of 1: 203.0.113.99 is client only, its /24's other two
-- addresses (.25, .26) never send: 0.25 + 0.10 = 0.35; B: 0.10 + 0.05 = 0.15
SELECT results_eq($$SELECT host(ip), score, rank FROM spamhints.sender_score('2007-03-14', '2007-03-15', 1)$$,
  $$VALUES ('198.51.100.10', 0.7799::float8, 1::bigint), ('203.0.113.99', 0.35, 2), ('198.51.100.20', 0.15, 3)$$,
  'sender_score: every client address ranked, highest first');
SELECT is((SELECT neighbour_share FROM spamhints.sender_score('2007-03-14', '2007-03-15', 1) WHERE ip = '203.0.113.99'),
          0::float8, 'sender_score: no neighbour of 203.0.113.99 sends');
-- the window: only A's first two samples fall in [00:00, 06:00)
SELECT results_eq($$SELECT host(ip), client_samples, servers, server_networks, syn_share
                    FROM spamhints.sender_score('2007-03-14 00:00+00', '2007-03-14 06:00+00', 1)$$,
  $$VALUES ('198.51.100.10', 2::bigint, 2::bigint, 1::bigint, 1::float8)$$,
  'sender_score: only the samples of the window');
ROLLBACK;
SELECT is((SELECT count(*) FROM spamhints.sender_score('2007-03-14', '2007-03-15')), 0::bigint,
          'sender_score: nothing loaded, nobody scored');
SELECT * FROM finish();
