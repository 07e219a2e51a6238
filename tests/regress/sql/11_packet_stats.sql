-- 11_packet_stats: the slide's raw statistics on a hand-counted sample set.
CREATE EXTENSION IF NOT EXISTS spamhints;
BEGIN;
-- nothing loaded: zero packets, no shares
SELECT * FROM spamhints.packet_stats;

INSERT INTO spamhints.load (file_name, sha256, finished_at) VALUES ('t.pcap', repeat('0', 64), now());
-- ten samples: 2 SYN, 1 SYN/ACK, 1 RST, 1 RST/ACK, 2 FIN/ACK, 2 ACK, 1 cut before the flags;
-- sampling rates 5 x 100 + 5 x 1000
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
                                   src_ip, dst_ip, src_port, dst_port, tcp_flags)
SELECT l.load_id, n, '2007-03-14 12:00:00+00', '192.0.2.1', n, CASE WHEN n <= 5 THEN 100 ELSE 1000 END,
       '198.51.100.1', '203.0.113.25', 40000 + n, 25, f
FROM spamhints.load l,
     unnest(ARRAY[2, 2, 18, 4, 20, 17, 17, 16, 16, NULL]) WITH ORDINALITY AS t(f, n);

-- expected: 10 packets; syn 2 (20.00%), syn_ack 1 (10.00%), rst 2 (20.00%),
-- fin 2 (20.00%), est_packets 5500
SELECT * FROM spamhints.packet_stats;
ROLLBACK;
