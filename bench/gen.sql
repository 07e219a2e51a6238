-- bench/gen.sql: synthetic SMTP samples for bench/analytics.sh and the
-- examples of extension/README-analytics.md, generated in SQL.
--
-- psql -v rows=N [-v seed=S] -f bench/gen.sql
--
-- A 25-hour capture with a daily rhythm; address ids 0..459999 are client
-- addresses and 400000..629999 server addresses (the 60,000 in between can
-- be both), picked with a power-law skew (a few busy hosts, a long tail);
-- one address in ten is IPv6; a third of the addresses sit in five big
-- ASes, the rest spread over 2,000; one sample in a hundred has both ports
-- 25, one in fifty has no SMTP port at all (the loader's port set was wider).
\set ON_ERROR_STOP 1
SET TimeZone = 'UTC';
-- the same samples every time (psql -v seed=0.5 for others)
\if :{?seed}
\else
\set seed 0.42
\endif
SELECT setseed(:seed) \gset

INSERT INTO spamhints.load (file_name, sha256, finished_at, first_ts, last_ts)
VALUES ('bench/gen.sql', encode(sha256(random()::text::bytea), 'hex'), now(), '2024-03-01 00:00+00', '2024-03-02 01:00+00');

CREATE TEMP TABLE bench_addr AS
SELECT id,
       CASE WHEN id % 10 = 7 THEN '2001:db8::'::inet + id * 65537 ELSE '10.0.0.0'::inet + id * 7 END AS ip,
       CASE WHEN id % 3 = 0 THEN 64496 + id % 5 ELSE 65000 + (id * 2654435761) % 2000 END AS asn
FROM generate_series(0::bigint, 629999) AS id;
ALTER TABLE bench_addr ADD PRIMARY KEY (id);
ANALYZE bench_addr;

INSERT INTO spamhints.smtp_sample
    (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip,
     src_port, dst_port, tcp_flags, src_asn, dst_asn, src_cc, dst_cc)
SELECT (SELECT max(load_id) FROM spamhints.load), r.g,
       '2024-03-01 00:00+00'::timestamptz
         + make_interval(secs => 90000 * (r.u + 0.12 * sin(2 * pi() * r.u * 25 / 24))),
       '192.0.2.1', r.g, 2048,
       CASE WHEN r.to_server THEN c.ip ELSE s.ip END,
       CASE WHEN r.to_server THEN s.ip ELSE c.ip END,
       CASE WHEN r.kind = 0 THEN 25 WHEN r.kind = 1 THEN 26
            WHEN r.to_server THEN 1024 + r.g % 60000 ELSE 25 END,
       CASE WHEN r.kind = 0 THEN 25 WHEN r.kind = 1 THEN 26
            WHEN r.to_server THEN 25 ELSE 1024 + r.g % 60000 END,
       (ARRAY[2, 18, 16, 24, 17, 4, 16, 24, 16, 16])[1 + r.g % 10],
       CASE WHEN r.to_server THEN c.asn ELSE s.asn END,
       CASE WHEN r.to_server THEN s.asn ELSE c.asn END,
       (ARRAY['US','DE','FR','NL','GB','CN','RU','BR','IN','JP'])[1 + (CASE WHEN r.to_server THEN c.asn ELSE s.asn END) % 10],
       (ARRAY['US','DE','FR','NL','GB','CN','RU','BR','IN','JP'])[1 + (CASE WHEN r.to_server THEN s.asn ELSE c.asn END) % 10]
FROM (SELECT g, random() AS u, random() < 0.55 AS to_server,
             CASE WHEN g % 100 = 0 THEN 0 WHEN g % 50 = 1 THEN 1 ELSE 2 END AS kind,
             floor(460000 * random() ^ 2)::integer AS cid,
             400000 + floor(230000 * random() ^ 3)::integer AS sid
      FROM generate_series(1, :rows) AS g) AS r
JOIN bench_addr c ON c.id = r.cid
JOIN bench_addr s ON s.id = r.sid;

INSERT INTO spamhints.asn (asn, org)
SELECT asn, 'Example Org ' || asn FROM (SELECT DISTINCT asn FROM bench_addr) a WHERE asn % 4 <> 3;

ANALYZE spamhints.smtp_sample;
