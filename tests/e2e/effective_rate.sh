#!/usr/bin/env bash
# tests/e2e/effective_rate.sh: the estimates use an agent's effective sampling
# rate (its sample pool's steps per sample) where it differs from the
# configured one beyond its own 95% uncertainty and by more than 5%, and
# the configured rate
# otherwise. A crafted capture (effective_rate_capture.py, hand-computed):
# agent 10.0.0.1 says 1:1000 and draws each sample from 2000 packets (200
# samples: switched, every estimate of its client doubled exactly); 10.0.0.2
# says 1:500 and draws from 525 (100 samples: within 1.96/sqrt(99), kept);
# 10.0.0.3 says 1:100 and draws from 200, but over 3 steps only (kept).
# The reports too: report_candidates(), report_items() and the report text,
# through evidence.est_rate, here and on a coordinator.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
db=spamhints_e2e_effrate
dropdb --if-exists $db 2>/dev/null
createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
q() { PGTZ=UTC psql -qX -d $db -v ON_ERROR_STOP=1 -Atc "$1"; }
LOADER=loader/spamhints-load

python3 tests/e2e/effective_rate_capture.py "$tmp/e.pcap" &&
  $LOADER -d $db --no-progress "$tmp/e.pcap" >"$tmp/out" 2>&1
ok $? "loaded the crafted capture" || cat "$tmp/out"
is "$(q "SELECT count(*) FROM spamhints.smtp_sample")" "304" "304 SMTP samples"

# what the loader recorded, against the capture's construction
is "$(q "SELECT string_agg(concat_ws(' ', agent, configured_rate, effective_rate, rate_samples), ', ' ORDER BY agent)
         FROM spamhints.load_agent")" \
   "10.0.0.1 1000 2000 199, 10.0.0.2 500 525 99, 10.0.0.3 100 200 3" \
   "load_agent: configured and effective rates and their sample steps per agent"

# the rule, per (load, agent)
is "$(q "SELECT string_agg(concat_ws(' ', agent, configured_rate, effective_rate, rate_samples, factor), ', ' ORDER BY agent)
         FROM spamhints.agent_rate")" \
   "10.0.0.1 1000 2000 199 2, 10.0.0.2 500 525 99 1, 10.0.0.3 100 200 3 1" \
   "agent_rate: factor 2 beyond 1.96/sqrt(199), 1 within 1.96/sqrt(99) and 1.96/sqrt(3)"
is "$(q "SELECT spamhints.rate_factor(1000, 1200, 96) || ' ' || spamhints.rate_factor(1000, 1200, 97) || ' '
         || spamhints.rate_factor(1000, 0, 1000) || ' ' || spamhints.rate_factor(1000, 800, 1000) || ' '
         || coalesce(spamhints.rate_factor(NULL, 800, 1000)::text, 'null')")" \
   "1 1.2 1 0.8 1" \
   "rate_factor: 0.2 > 1.96/sqrt(97) = 0.199 switches, 1.96/sqrt(96) = 0.2000 does not; 0 and NULL keep 1"

# every estimate: 200 x 1000 x 2 = 400,000; 100 x 500 = 50,000; 4 x 100 = 400
is "$(q "SELECT smtp_packets, est_packets, est_packets_low = spamhints.est_low(304, 450400),
                est_packets_high = spamhints.est_high(304, 450400) FROM spamhints.packet_stats")" \
   "304|450400|t|t" "packet_stats: est_packets 450,400 (400,000 + 50,000 + 400) and its bounds"
is "$(q "SELECT string_agg(a.samples || ' ' || a.est_packets, ', ' ORDER BY u.ip)
         FROM unnest('{192.0.2.10,192.0.2.20,192.0.2.30,198.51.100.25}'::inet[]) AS u(ip),
              LATERAL spamhints.address(u.ip) a")" \
   "200 400000, 100 50000, 4 400, 304 450400" "address(): 400,000, 50,000, 400; the server 450,400"
is "$(q "SELECT sum(samples) || ' ' || sum(est_packets) || ' ' || bool_and(est_packets_low = spamhints.est_low(samples, est_packets))
         FROM spamhints.activity('2023-11-14', '2023-11-16', '1 day')")" \
   "304 450400 true" "activity(): 450,400 in the day, bounds of the scaled estimate"
is "$(q "REFRESH MATERIALIZED VIEW spamhints.daily_figures;
         SELECT samples || ' ' || est_packets FROM spamhints.daily_figures WHERE samples > 0")" \
   "304 450400" "daily_figures: 450,400"
is "$(q "SELECT sum(est_packets) FROM spamhints.address_day WHERE ip = '192.0.2.10'")" \
   "200000" "address_day (rollups) keeps the configured rate: 200,000 (made as the samples arrive, before the load's agents are known)"
is "$(q "INSERT INTO spamhints.ip_assignment (customer_id, network) VALUES ('c10', '192.0.2.10/32'), ('c20', '192.0.2.20/32');
         SELECT string_agg(customer_id || ' ' || samples || ' ' || est_packets || ' ' || (est_packets_low = spamhints.est_low(samples, est_packets)), ', ' ORDER BY customer_id)
         FROM spamhints.customer_sender")" \
   "c10 200 400000 true, c20 100 50000 true" "customer_sender: 400,000 and 50,000"
is "$(q "SELECT string_agg(host(ip) || ' ' || client_samples || ' ' || est_packets, ', ' ORDER BY ip)
         FROM spamhints.sender_score('2023-11-14', '2023-11-16', 1)")" \
   "192.0.2.10 200 400000, 192.0.2.20 100 50000, 192.0.2.30 4 400" "sender_score(): 400,000, 50,000, 400"
# the reports: report_candidates() (and through it report_queue and the
# report's text) scale each client's samples by its agent's factor too
RC="SELECT string_agg(host(source_ip) || ' ' || samples || ' ' || est_packets || ' '
               || (est_packets_low = spamhints.est_low(samples, est_packets)
                   AND est_packets_high = spamhints.est_high(samples, est_packets)), ', ' ORDER BY source_ip)
    FROM spamhints.report_candidates('[2023-11-14, 2023-11-16)', '2023-11-17')"
AGREE="INSERT INTO spamhints.agreement (isp, abuse_address, networks, agreed_at)
       VALUES ('all', 'abuse@example.net', '{192.0.2.0/24}', '2000-01-01');"
is "$(q "$AGREE $RC")" \
   "192.0.2.10 200 400000 true, 192.0.2.20 100 50000 true" \
   "report_candidates(): est_packets 400,000 (doubled), 50,000 and their bounds (192.0.2.30: 4 samples in one minute, no candidate)"
is "$(q "SELECT est_packets FROM spamhints.report_items('[2023-11-14, 2023-11-16)', NULL, '2023-11-17')
         WHERE source_ip = '192.0.2.10'")" "400000" "report_items(): the report's est_packets 400,000"
is "$(q "SELECT count(*) FILTER (WHERE est_rate = 2000) || ' ' || count(*) FILTER (WHERE est_rate = 500) || ' '
                || count(*) FILTER (WHERE est_rate = 100) || ' ' || count(*) FILTER (WHERE est_rate <> sampling_rate * 1)
         FROM spamhints.evidence WHERE kind = 'traffic'")" \
   "200 100 4 200" "evidence.est_rate: 1:1000 samples stand for 2000 packets each, the others their configured rate"
is "$(q "SELECT position(format('About 400,000 packets (95%% bounds %s to %s:',
                               to_char(round(b.lower * 2000), 'FM999,999,990'), to_char(round(b.upper * 2000), 'FM999,999,990'))
                        IN spamhints.report_human(i, '[2023-11-14, 2023-11-16)', 'm@x')) > 0
         FROM spamhints.report_items('[2023-11-14, 2023-11-16)', NULL, '2023-11-17') AS i,
              spamhints.poisson_bounds(200) AS b WHERE i.source_ip = '192.0.2.10'")" "t" \
   "report text: About 400,000 packets, its bounds Poisson(200) x 2,000"
# an address that sends to port 25 and answers from it, sampled by the
# switched agent 10.0.0.1 (1:1000, factor 2): 3 client packets in 2 minutes
# (est_packets 6,000) and 2 server packets (server_est 4,000); rolled back
is "$(q "BEGIN;
         INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port, tcp_flags)
         SELECT (SELECT min(load_id) FROM spamhints.load), 900000 + v.n, '2023-11-15 10:00:00+00'::timestamptz + v.n * interval '40 seconds',
                '10.0.0.1', 900000 + v.n, 1000, '192.0.2.40', v.dst, v.sp, v.dp, 16
         FROM (VALUES (1, '198.51.100.99'::inet, 40001, 25), (2, '198.51.100.99', 40002, 25), (3, '198.51.100.99', 40003, 25),
                      (4, '203.0.113.5', 25, 50001), (5, '203.0.113.5', 25, 50002)) AS v(n, dst, sp, dp);
         SELECT samples || ' ' || est_packets || ' ' || server_n || ' ' || server_est
         FROM spamhints.report_items('[2023-11-14, 2023-11-16)', NULL, '2023-11-17') WHERE source_ip = '192.0.2.40';
         ROLLBACK")" "3 6000 2 4000" "report_items(): client est_packets 6,000 and server_est 4,000 at the switched agent's factor 2"
PAR="SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
     SET max_parallel_workers_per_gather = 2; SET force_parallel_mode = on;"
is "$(q "$PAR SELECT est_packets FROM spamhints.packet_stats")" "450400" "packet_stats in a parallel plan: the same"

# a coordinator over a shard holding the same load: the factors are the shard's
# (load ids offset on the coordinator), the estimates the same
source tests/lib/pgcluster.sh
A=$(pg_start_another) || exit 1
trap 'pg_stop_another "$A"; rm -rf "$tmp"' EXIT
createdb -h "$A" shard && psql -qX -h "$A" -d shard -c 'CREATE EXTENSION spamhints' &&
  $LOADER -d "host=$A dbname=shard" --no-progress "$tmp/e.pcap" >"$tmp/out" 2>&1 &&
  dropdb ${db}_coord 2>/dev/null; createdb ${db}_coord && psql -qX -d ${db}_coord -c 'CREATE EXTENSION spamhints' &&
  psql -qX -d ${db}_coord -Atc "SELECT spamhints.attach_shard('a', 'host=$A port=5432 dbname=shard user=postgres')" >"$tmp/out" 2>&1
ok $? "a coordinator over a shard that loaded the capture" || cat "$tmp/out"
c() { PGTZ=UTC psql -qX -d ${db}_coord -v ON_ERROR_STOP=1 -Atc "$1"; }
is "$(c "SELECT est_packets FROM spamhints.packet_stats")" "450400" "coordinator: packet_stats 450,400"
is "$(c "SELECT a.est_packets FROM spamhints.address('192.0.2.10') a")" "400000" "coordinator: address() 400,000"
is "$(c "SELECT sum(est_packets) FROM spamhints.activity('2023-11-14', '2023-11-16', '1 day')")" "450400" "coordinator: activity() 450,400"
is "$(c "SELECT string_agg(host(ip) || ' ' || est_packets, ', ' ORDER BY ip) FROM spamhints.sender_score('2023-11-14', '2023-11-16', 1)")" \
   "192.0.2.10 400000, 192.0.2.20 50000, 192.0.2.30 400" "coordinator: sender_score() 400,000, 50,000, 400"
is "$(c "INSERT INTO spamhints.ip_assignment (customer_id, network) VALUES ('c10', '192.0.2.10/32');
         SELECT customer_id || ' ' || est_packets FROM spamhints.customer_sender")" "c10 400000" "coordinator: customer_sender 400,000"
is "$(c "$AGREE $RC")" \
   "192.0.2.10 200 400000 true, 192.0.2.20 100 50000 true" \
   "coordinator: report_candidates() 400,000, 50,000 and their bounds"
c "SELECT spamhints.detach_shard('a')" >/dev/null 2>&1
dropdb ${db}_coord
dropdb $db
tap_done
