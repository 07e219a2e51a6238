-- tests/demo_day.sql: the demo's own customer database and mail traffic,
-- made from the generated capture and its demo.network table (the
-- generator's --networks file). The network with most mail clients is
-- "ours"; the next two agree to receive reports. tests/demo.sh writes:
--   leases.csv      demo.lease: the customer database's export: customer,
--                   address, lease (half static; half dynamic, changing hands
--                   at noon)
--   clients.tsv     demo.mail: whom our mail servers heard from, for
--                   spamhints-maillog-gen
--   agreements.txt  demo.agreed: the two ISPs that agreed to receive reports
\set ON_ERROR_STOP on
CREATE TABLE demo.client AS
  SELECT DISTINCT s.src_ip AS ip, n.org, n.asn
  FROM spamhints.smtp_sample s JOIN demo.network n ON s.src_ip <<= n.network
  WHERE s.dst_port = 25;
CREATE TABLE demo.org AS
  SELECT org, asn, count(*) AS clients, rank() OVER (ORDER BY count(*) DESC, org) AS rank
  FROM demo.client GROUP BY org, asn;

-- our customers
CREATE TABLE demo.lease AS
SELECT 'cust-' || (10000 + dense_rank() OVER (ORDER BY c.ip))::text || coalesce(x.holder, '') AS customer_id,
       c.ip AS network,
       CASE x.holder WHEN 'a' THEN '[2007-03-13 18:00+00,2007-03-14 12:00+00)'
                     WHEN 'b' THEN '[2007-03-14 12:00+00,2007-03-15 06:00+00)'
                     ELSE '(,)' END AS during
FROM demo.client c
JOIN demo.org o USING (org)
LEFT JOIN LATERAL (SELECT unnest(ARRAY['a', 'b']) AS holder
                   WHERE family(c.ip) = 4 AND (c.ip - '0.0.0.0'::inet) % 2 = 0) AS x ON true
WHERE o.rank = 1;

-- the mail our servers received: spam and viruses from 30 of our customers'
-- addresses and from 12 of each agreed ISP's, clean mail (and some spam)
-- from 400 others
CREATE TABLE demo.mail AS
SELECT ip, CASE WHEN r % 7 = 0 THEN 'virus' ELSE 'spam' END AS kind, 1 + r % 5 AS messages
FROM (SELECT c.ip, row_number() OVER (ORDER BY md5(host(c.ip))) AS r
      FROM demo.client c JOIN demo.org o USING (org) WHERE o.rank = 1) AS t
WHERE r <= 30
UNION ALL
SELECT ip, CASE WHEN r % 5 = 0 THEN 'virus' ELSE 'spam' END, 1 + r % 3
FROM (SELECT c.ip, row_number() OVER (PARTITION BY o.rank ORDER BY md5(host(c.ip))) AS r
      FROM demo.client c JOIN demo.org o USING (org) WHERE o.rank IN (2, 3)) AS t
WHERE r <= 12
UNION ALL
SELECT ip, CASE WHEN r % 10 = 0 THEN 'spam' ELSE 'clean' END, 1 + r % 3
FROM (SELECT c.ip, row_number() OVER (ORDER BY md5(host(c.ip))) AS r
      FROM demo.client c JOIN demo.org o USING (org) WHERE o.rank > 3) AS t
WHERE r <= 400;

-- the agreed ISPs
CREATE TABLE demo.agreed AS
SELECT o.org, left(regexp_replace(lower(o.org), '[^a-z]', '', 'g'), 12) || '.example' AS domain, o.asn,
       '{' || string_agg(n.network::text, ',' ORDER BY n.network) || '}' AS networks, o.rank
FROM demo.org o JOIN demo.network n USING (org)
WHERE o.rank IN (2, 3)
GROUP BY o.org, o.asn, o.rank;
