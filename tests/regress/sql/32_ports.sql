-- 32_ports: the views give roles by the SMTP ports each load was made with
-- (spamhints.load.smtp_ports, spamhints-load --ports), as packet_stats counts
-- every sample of it. Hand-built: load 1 with {25,465,587}, load 2 with {25}.
CREATE EXTENSION IF NOT EXISTS spamhints;
BEGIN;
INSERT INTO spamhints.load (file_name, sha256, finished_at, smtp_ports)
VALUES ('a.pcap', repeat('1', 64), now(), '{25,465,587}'), ('b.pcap', repeat('2', 64), now(), '{25}');
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
                                   src_ip, dst_ip, src_port, dst_port, src_asn, dst_asn, src_cc, dst_cc)
SELECT l.load_id, v.frame, '2007-03-14 12:00:00+00', '192.0.2.1', v.frame, 1, v.src::inet, v.dst::inet, v.sp, v.dp,
       64500, 64501, 'DE', 'FR'
FROM spamhints.load l
JOIN (VALUES ('a.pcap', 1, '10.0.0.1', '10.0.0.2', 40000, 587),   -- .1 client, .2 server
             ('a.pcap', 2, '10.0.0.3', '10.0.0.4', 465, 50000),   -- .3 server, .4 client
             ('a.pcap', 3, '10.0.0.9', '10.0.0.10', 40000, 25),   -- .9 client, .10 server
             ('b.pcap', 1, '10.0.0.5', '10.0.0.6', 40000, 25),    -- .5 client, .6 server
             ('b.pcap', 2, '10.0.0.7', '10.0.0.8', 40001, 587))   -- no SMTP port of load 2
     AS v(f, frame, src, dst, sp, dp) ON v.f = l.file_name;
SELECT smtp_packets FROM spamhints.packet_stats;
-- expected: ips 8, client_only 4 (.1 .4 .9 .5), server_only 4, both 0
SELECT * FROM spamhints.ip_census;
SELECT ip, role::text FROM spamhints.endpoint ORDER BY ip;
-- client_as_top: AS 64500 (src side) has .1 .9 .5 as clients and .3 as server
SELECT asn, clients, servers, ips FROM spamhints.client_as_top ORDER BY asn;
SELECT country, clients, servers, ips FROM spamhints.client_cc_top ORDER BY country;
-- activity() without ports: each load's own; 4 clients (.1 .4 .9 .5), 4 servers
SELECT samples, clients, servers FROM spamhints.activity('2007-03-14 12:00+00', '2007-03-14 13:00+00');
-- with ports given, those
SELECT samples, clients, servers FROM spamhints.activity('2007-03-14 12:00+00', '2007-03-14 13:00+00', '1 hour', '{25}');
ROLLBACK;
-- a load without enrichment: client_as_top takes the sFlow gateway's AS numbers
BEGIN;
INSERT INTO spamhints.load (file_name, sha256, finished_at) VALUES ('c.pcap', repeat('3', 64), now());
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
                                   src_ip, dst_ip, src_port, dst_port, gw_src_as, gw_dst_as)
SELECT l.load_id, v.frame, '2007-03-14 12:00:00+00', '192.0.2.1', v.frame, 1, v.src::inet, v.dst::inet, 40000, 25, v.sa, v.da
FROM spamhints.load l,
     (VALUES (1, '10.1.0.1', '10.2.0.1', 65001, 65009),
             (2, '10.1.0.2', '10.2.0.1', 65001, 65009),
             (3, '10.1.0.3', '10.2.0.2', 0, 65009)) AS v(frame, src, dst, sa, da);
-- expected: 65001 two clients, 65009 two servers (sflow gateway); the AS 0 client left out
SELECT rank, asn, clients, servers, ips, as_source FROM spamhints.client_as_top ORDER BY rank, asn;
-- no country from sFlow: client_cc_top is empty (its COMMENT says why)
SELECT count(*) FROM spamhints.client_cc_top;
ROLLBACK;
