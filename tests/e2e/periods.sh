#!/usr/bin/env bash
# tests/e2e/periods.sh: customer_sender(period) and packet_stats(period)
# answer what the views answer over the samples of the period: against the
# views' own SQL asked here over smtp_sample with a condition on ts, for
# periods cutting days, whole days, open, closed, one instant, empty, NULL
# and unbounded (which is also the view itself), in serial and forced
# parallel plans, in the TimeZones UTC, Asia/Kolkata (+5:30) and
# America/New_York (hourly is in the session's TimeZone: checked against
# the hour of each sample counted here), with leases that change hands in
# the middle of a day, an agent whose estimates are scaled, mail-log
# verdicts; after a second load, a DELETE of a load and a purge(). EXPLAIN:
# only the partitions of the period's days are read, also with the period
# as a parameter of a generic plan.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
db=spamhints_e2e_periods
dropdb --if-exists $db 2>/dev/null
createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
TZ_=UTC
q() { PGTZ=$TZ_ psql -qX -d $db -v ON_ERROR_STOP=1 -Atc "$1"; }
LOADER=loader/spamhints-load
GEN=tests/gen/spamhints-gen
PAR="SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
     SET max_parallel_workers_per_gather = 2; SET force_parallel_mode = on;"

# nine days from 2024-03-01 00:00 UTC; a second capture over three of them
$GEN --seed 81 --smtp 24000 --other 2000 --hours 212 --start 1709251200 -o "$tmp/a.pcap" >/dev/null
ok $? "generated nine days"
$GEN --seed 82 --smtp 6000 --other 1000 --hours 50 --start 1709380800 -o "$tmp/b.pcap" >/dev/null
$LOADER -q -d $db "$tmp/a.pcap" >"$tmp/out" 2>&1
ok $? "loaded them $(head -1 "$tmp/out")"

# customers: of the addresses that send to port 25, a third static, a third
# leased by one customer until a time in the middle of a day and by another
# from then on, a third nobody's; some of them caught by a mail log
q "INSERT INTO spamhints.ip_assignment (customer_id, network, during)
   SELECT CASE WHEN n % 3 = 0 THEN 'static-' || n ELSE 'dyn-' || n || '-' || half END, network(set_masklen(ip, CASE WHEN family(ip) = 4 THEN 32 ELSE 128 END)),
          CASE WHEN n % 3 = 0 THEN tstzrange(NULL, NULL)
               WHEN half = 'a' THEN tstzrange(NULL, '2024-03-02 00:00+00'::timestamptz + (n % 97) * interval '83 minutes')
               ELSE tstzrange('2024-03-02 00:00+00'::timestamptz + (n % 97) * interval '83 minutes', NULL) END
   FROM (SELECT ip, row_number() OVER (ORDER BY md5(host(ip))) AS n
         FROM (SELECT DISTINCT src_ip AS ip FROM spamhints.smtp_sample WHERE dst_port = 25) d) c,
        (VALUES ('a'), ('b')) AS h(half)
   WHERE n % 3 <> 2 AND (n % 3 = 1 OR half = 'a')"
q "WITH l AS (INSERT INTO spamhints.maillog_load (file_name, sha256, format, timezone, finished_at)
              VALUES ('hand', repeat('e', 64), 'exim', 'UTC', now()) RETURNING maillog_load_id)
   INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, client_ip, verdict)
   SELECT l.maillog_load_id, row_number() OVER (), s.ts, s.src_ip, CASE WHEN s.frame % 2 = 0 THEN 'spam' ELSE 'virus' END
   FROM l, (SELECT DISTINCT ON (src_ip) src_ip, ts, frame FROM spamhints.smtp_sample WHERE dst_port = 25
            ORDER BY src_ip, frame) s
   WHERE s.frame % 5 = 0"
is "$(q "SELECT (count(DISTINCT customer_id) > 100) || ' ' || (SELECT count(*) > 10 FROM spamhints.mail_event) FROM spamhints.ip_assignment")" "true true" \
   "customers, leases changing hands in the middle of days, mail-log verdicts"
# samples at the very instants that bound the periods below, from static
# customers' addresses: an exclusive bound leaves them out, an inclusive one in
q "CREATE TEMP TABLE bound AS
     SELECT s.*, row_number() OVER (ORDER BY s.frame) AS i
     FROM spamhints.smtp_sample s JOIN spamhints.ip_assignment a ON a.network >>= s.src_ip AND a.customer_id LIKE 'static-%'
     WHERE s.dst_port = 25 ORDER BY s.frame LIMIT 3;
   INSERT INTO spamhints.smtp_sample
   SELECT (jsonb_populate_record(NULL::spamhints.smtp_sample,
                                 to_jsonb(b) || jsonb_build_object('ts', v.at, 'frame', b.frame + 10000000 * v.n))).*
   FROM bound b
   JOIN (VALUES (1, 1, '2024-03-02 00:00+00'::timestamptz), (2, 2, '2024-03-03 00:00+00'), (3, 3, '2024-03-03 23:00+00'),
                (4, 1, '2024-03-04 13:15+00'), (5, 2, '2024-03-01 06:30+00'), (6, 3, '2024-03-08 00:00+00')) AS v(n, k, at) ON v.k = b.i" >"$tmp/err" 2>&1
is "$(cat "$tmp/err")$(q "SELECT count(*) FROM spamhints.smtp_sample WHERE ts IN ('2024-03-02 00:00+00', '2024-03-03 00:00+00', '2024-03-03 23:00+00', '2024-03-04 13:15+00', '2024-03-01 06:30+00', '2024-03-08 00:00+00')")" 6 \
   "six samples of static customers at the periods' bounds"
# one agent's estimates scaled by 1.25 (its effective rate said so)
q "UPDATE spamhints.load_agent SET effective_rate = configured_rate * 1.25, rate_samples = greatest(rate_samples, 1000)
   WHERE agent = (SELECT min(agent) FROM spamhints.load_agent) AND configured_rate IS NOT NULL"
is "$(q "SELECT count(*) FROM spamhints.agent_rate WHERE factor = 1.25")" 1 "an agent with factor 1.25"

# customer_sender in plain SQL (the view's definition) over the samples where $1
raw_cs() {
  echo "SELECT count(*) || ' ' || md5(coalesce(string_agg(concat_ws('|', customer_id, addresses, first_seen, last_seen, samples, est_packets,
               servers, hourly, caught, caught_spam, caught_virus, last_caught, est_packets_low, est_packets_high), ';' ORDER BY customer_id), ''))
        FROM (WITH sent AS (
                SELECT a.customer_id, s.src_ip, s.dst_ip, s.ts, s.sampling_rate * coalesce(f.factor, 1) AS sampling_rate
                FROM spamhints.smtp_sample s
                JOIN spamhints.ip_assignment a ON a.network >>= s.src_ip AND a.during @> s.ts
                LEFT JOIN spamhints.agent_rate f ON f.load_id = s.load_id AND f.agent = s.agent
                WHERE s.dst_port = 25 AND ($1)
              ), caught AS (
                SELECT a.customer_id, count(*) FILTER (WHERE e.verdict = 'spam') AS spam,
                       count(*) FILTER (WHERE e.verdict = 'virus') AS virus, max(e.ts) AS last_caught
                FROM spamhints.mail_event e
                JOIN spamhints.ip_assignment a ON a.network >>= e.client_ip AND a.during @> e.ts
                WHERE e.verdict IN ('spam', 'virus') GROUP BY a.customer_id)
              SELECT t.*, c.customer_id IS NOT NULL AS caught, coalesce(c.spam, 0) AS caught_spam,
                     coalesce(c.virus, 0) AS caught_virus, c.last_caught,
                     spamhints.est_low(t.samples, t.est_packets) AS est_packets_low,
                     spamhints.est_high(t.samples, t.est_packets) AS est_packets_high
              FROM (SELECT s.customer_id, array_agg(DISTINCT s.src_ip) AS addresses, min(s.ts) AS first_seen,
                           max(s.ts) AS last_seen, count(*) AS samples, round(sum(s.sampling_rate))::bigint AS est_packets,
                           count(DISTINCT s.dst_ip) AS servers, spamhints.hourly(s.ts) AS hourly
                    FROM sent s GROUP BY s.customer_id) t
              LEFT JOIN caught c USING (customer_id)) v"
}
fun_cs() {
  echo "SELECT count(*) || ' ' || md5(coalesce(string_agg(concat_ws('|', customer_id, addresses, first_seen, last_seen, samples, est_packets,
               servers, hourly, caught, caught_spam, caught_virus, last_caught, est_packets_low, est_packets_high), ';' ORDER BY customer_id), ''))
        FROM $1"
}
# packet_stats in plain SQL over the samples where $1: every column
raw_ps() {
  echo "SELECT concat_ws(' ', n, syn, syn_ack, rst, fin, round(100.0 * syn / nullif(n, 0), 2), round(100.0 * syn_ack / nullif(n, 0), 2),
                 round(100.0 * rst / nullif(n, 0), 2), round(100.0 * fin / nullif(n, 0), 2), est,
                 spamhints.est_low(n, est), spamhints.est_high(n, est),
                 round(100 * spamhints.wilson_low(syn, n)::numeric, 2), round(100 * spamhints.wilson_high(syn, n)::numeric, 2),
                 round(100 * spamhints.wilson_low(syn_ack, n)::numeric, 2), round(100 * spamhints.wilson_high(syn_ack, n)::numeric, 2),
                 round(100 * spamhints.wilson_low(rst, n)::numeric, 2), round(100 * spamhints.wilson_high(rst, n)::numeric, 2),
                 round(100 * spamhints.wilson_low(fin, n)::numeric, 2), round(100 * spamhints.wilson_high(fin, n)::numeric, 2))
        FROM (SELECT count(*) AS n, count(*) FILTER (WHERE tcp_flags & 18 = 2) AS syn,
                     count(*) FILTER (WHERE tcp_flags & 18 = 18) AS syn_ack, count(*) FILTER (WHERE tcp_flags & 4 <> 0) AS rst,
                     count(*) FILTER (WHERE tcp_flags & 1 <> 0) AS fin,
                     (SELECT coalesce(round(sum(g.est * coalesce(f.factor, 1))), 0)::bigint
                      FROM (SELECT load_id, agent, sum(sampling_rate) AS est FROM spamhints.smtp_sample WHERE $1 GROUP BY 1, 2) g
                      LEFT JOIN spamhints.agent_rate f ON f.load_id = g.load_id AND f.agent = g.agent) AS est
              FROM spamhints.smtp_sample WHERE $1) c"
}
fun_ps() { echo "SELECT concat_ws(' ', smtp_packets, syn, syn_ack, rst, fin, syn_pct, syn_ack_pct, rst_pct, fin_pct, est_packets,
                 est_packets_low, est_packets_high, syn_pct_low, syn_pct_high, syn_ack_pct_low, syn_ack_pct_high,
                 rst_pct_low, rst_pct_high, fin_pct_low, fin_pct_high) FROM $1"; }

PERIODS=$(cat <<'EOF'
[2024-03-02,2024-03-05)|ts >= '2024-03-02' AND ts < '2024-03-05'
[2024-03-01 06:30,2024-03-04 13:15)|ts >= '2024-03-01 06:30' AND ts < '2024-03-04 13:15'
(2024-03-02,2024-03-03]|ts > '2024-03-02' AND ts <= '2024-03-03'
[2024-03-03 01:00,2024-03-03 23:00]|ts >= '2024-03-03 01:00' AND ts <= '2024-03-03 23:00'
[2024-03-04 12:00,)|ts >= '2024-03-04 12:00'
(,2024-03-06 18:00)|ts < '2024-03-06 18:00'
(,)|true
empty|false
[2030-01-01,2030-02-01)|false
EOF
)
check_all() {
  local when=$1 p cond set mode
  is "$(q "$(fun_cs "spamhints.customer_sender(NULL)")")" "$(q "$(fun_cs spamhints.customer_sender)")" \
     "$when: customer_sender(NULL) is the view customer_sender"
  is "$(q "$(fun_ps "spamhints.packet_stats(NULL)")")" "$(q "$(fun_ps spamhints.packet_stats)")" \
     "$when: packet_stats(NULL) is the view packet_stats"
  while IFS='|' read -r p cond; do
    for mode in serial parallel; do
      set=""; [ $mode = parallel ] && set=$PAR
      is "$(q "$set $(fun_cs "spamhints.customer_sender('$p')")") / $(q "$set $(fun_ps "spamhints.packet_stats('$p')")")" \
         "$(q "$(raw_cs "$cond")") / $(q "$(raw_ps "$cond")")" \
         "$when ($TZ_, $mode): customer_sender('$p') and packet_stats('$p') are the samples'"
    done
  done <<<"$PERIODS"
}
check_all "one load"
# the raw answers are not trivial: customers in most periods, two of them
# holding one address on either side of a lease's end within a period
is "$(q "SELECT (count(*) > 50)::text FROM spamhints.customer_sender('[2024-03-01 06:30,2024-03-04 13:15)')")|$(q "SELECT (count(*) > 0)::text FROM spamhints.customer_sender('[2024-03-02,2024-03-05)') a JOIN spamhints.customer_sender('[2024-03-02,2024-03-05)') b ON a.addresses && b.addresses AND a.customer_id < b.customer_id")|$(q "SELECT count(*) FROM spamhints.customer_sender('empty')")|$(q "SELECT smtp_packets FROM spamhints.packet_stats('empty')")" \
   "true|true|0|0" "a period has many customers, an address two of them, an empty period none and no packet"
is "$(q "SELECT ((SELECT sum(est_packets) FROM spamhints.customer_sender(NULL))
                 <> (SELECT sum(s.sampling_rate) FROM spamhints.smtp_sample s
                     JOIN spamhints.ip_assignment a ON a.network >>= s.src_ip AND a.during @> s.ts WHERE s.dst_port = 25))::text
              || ' ' || ((SELECT est_packets FROM spamhints.packet_stats(NULL)) <> (SELECT sum(sampling_rate) FROM spamhints.smtp_sample))::text")" \
   "true true" "the scaled agent changes the estimates (they are not the sums of the configured rates)"

# hourly is in the session's TimeZone: each customer's chart against the
# hour of its samples counted here, in three zones
for TZ_ in Asia/Kolkata America/New_York UTC; do
  is "$(q "SELECT count(*) FROM spamhints.customer_sender('[2024-03-02 10:00,2024-03-06 03:30)') c
           WHERE c.hourly::bigint[] IS DISTINCT FROM (
             SELECT array_agg(coalesce(n, 0) ORDER BY h) FROM generate_series(0, 23) h
             LEFT JOIN (SELECT extract(hour FROM s.ts AT TIME ZONE current_setting('TimeZone'))::int AS hr, count(*) AS n
                        FROM spamhints.smtp_sample s JOIN spamhints.ip_assignment a ON a.network >>= s.src_ip AND a.during @> s.ts
                        WHERE a.customer_id = c.customer_id AND s.dst_port = 25
                          AND s.ts >= '2024-03-02 10:00' AND s.ts < '2024-03-06 03:30' GROUP BY 1) x ON x.hr = h)")" 0 \
     "$TZ_: customer_sender(period).hourly counts each customer's samples by their hour in the session's TimeZone"
done
# address(ip, period), the other function of a period with an hourly chart
ip=$(q "SELECT src_ip FROM spamhints.smtp_sample GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
for TZ_ in Asia/Kolkata America/New_York; do
  is "$(q "SELECT hourly::bigint[] FROM spamhints.address('$ip', '[2024-03-02 10:00,2024-03-06 03:30)')")" \
     "$(q "SELECT array_agg(coalesce(n, 0) ORDER BY h) FROM generate_series(0, 23) h
           LEFT JOIN (SELECT extract(hour FROM ts AT TIME ZONE current_setting('TimeZone'))::int AS hr, count(*) AS n
                      FROM spamhints.smtp_sample WHERE (src_ip = '$ip' OR dst_ip = '$ip')
                        AND ts >= '2024-03-02 10:00' AND ts < '2024-03-06 03:30' GROUP BY 1) x ON x.hr = h")" \
     "$TZ_: address(ip, period).hourly counts its samples by their hour in the session's TimeZone"
done
TZ_=Asia/Kolkata
while IFS='|' read -r p cond; do
  [[ "$p" == "[2024-03-01 06:30,2024-03-04 13:15)" || "$p" == "(2024-03-02,2024-03-03]" ]] || continue
  for mode in serial parallel; do
    set=""; [ $mode = parallel ] && set=$PAR
    is "$(q "$set $(fun_cs "spamhints.customer_sender('$p')")")" "$(q "$(raw_cs "$cond")")" \
       "$TZ_, $mode: customer_sender('$p') (bounds in $TZ_) is the samples'"
  done
done <<<"$PERIODS"
TZ_=America/New_York
is "$(q "$PAR $(fun_cs "spamhints.customer_sender('[2024-03-03,2024-03-05)')")")" "$(q "$(raw_cs "ts >= '2024-03-03' AND ts < '2024-03-05'")")" \
   "$TZ_, parallel: customer_sender of two local days is the samples'"
TZ_=UTC
ok $([ "$(q "SELECT hourly::text FROM spamhints.customer_sender('[2024-03-02,2024-03-05)') ORDER BY samples DESC, customer_id LIMIT 1")" != \
        "$(TZ_=Asia/Kolkata; q "SELECT hourly::text FROM spamhints.customer_sender('[2024-03-02,2024-03-05)') ORDER BY samples DESC, customer_id LIMIT 1")" ]; echo $?) \
   "the busiest customer's chart differs between UTC and Asia/Kolkata (the zones test something)"

# an analyst (no SMTP payload, no mail addresses) asks them too
psql -qX -d $db -c "DROP ROLE IF EXISTS sh_periods_analyst" -c "CREATE ROLE sh_periods_analyst LOGIN IN ROLE spamhints_analyst" >/dev/null 2>&1
for f in customer_sender packet_stats; do
  is "$(PGTZ=UTC psql -qX -d "dbname=$db user=sh_periods_analyst" -Atc "SELECT md5(string_agg(v::text, ';')) FROM spamhints.$f('[2024-03-01 06:30,2024-03-04 13:15)') v" 2>&1)" \
     "$(q "SELECT md5(string_agg(v::text, ';')) FROM spamhints.$f('[2024-03-01 06:30,2024-03-04 13:15)') v")" "an analyst's $f(period) is the owner's"
done
# EXPLAIN: the samples of the period's days only
parts_of() {
  jq -r '[.. | objects | select(."Relation Name"? // "" | startswith("smtp_sample")) | ."Relation Name"] | unique | join(" ")'
}
for f in customer_sender packet_stats; do
  is "$(q "EXPLAIN (FORMAT JSON) SELECT * FROM spamhints.$f('[2024-03-02 10:00,2024-03-05)')" | parts_of)" \
     "smtp_sample_20240302 smtp_sample_20240303 smtp_sample_20240304" "$f(period): only the partitions of the period's days are in the plan"
  is "$(q "$PAR EXPLAIN (FORMAT JSON) SELECT * FROM spamhints.$f('(2024-03-07 23:00,2024-03-08 00:00]')" | parts_of)" \
     "smtp_sample_20240307 smtp_sample_20240308" "  also a parallel plan of an hour and an instant of the next day"
  is "$(q "EXPLAIN (FORMAT JSON) SELECT * FROM spamhints.$f('empty')" | parts_of)" "" "  none for an empty period"
  # a generic plan of a prepared statement: pruned when the executor starts
  out=$(q "SET plan_cache_mode = force_generic_plan; PREPARE p(tstzrange) AS SELECT * FROM spamhints.$f(\$1);
           EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) EXECUTE p('[2024-03-05 10:00,2024-03-06 02:00)')")
  is "$(parts_of <<<"$out")" "smtp_sample_20240305 smtp_sample_20240306" \
     "  with the period a parameter of a generic plan, the others are removed at executor start"
done
# the rollups' functions of a period and address(ip, period) too: in a
# generic plan, the samples of the partial days at the period's ends only
# (the whole days come from the rollups), and of the period's days
generic() {  # generic FUNCTION-CALL-WITH-$1 PERIOD [TYPES]: the partitions an EXECUTE reads
  q "SET plan_cache_mode = force_generic_plan; PREPARE p(${3:-tstzrange}) AS SELECT * FROM $1;
     EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) EXECUTE p($2)" | parts_of
}
for f in ip_census client_as_top client_cc_top; do
  is "$(generic "spamhints.$f(\$1)" "'[2024-03-01 06:30,2024-03-04 13:15)'")" "smtp_sample_20240301 smtp_sample_20240304" \
     "$f(period) in a generic plan: the samples of the two partial days only"
done
busy=$(q "SELECT src_ip FROM spamhints.smtp_sample GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
is "$(generic "spamhints.address(\$1, \$2)" "'$busy', '[2024-03-02 10:00,2024-03-04 13:15)'" "inet, tstzrange")" \
   "smtp_sample_20240302 smtp_sample_20240303 smtp_sample_20240304" "address(ip, period) in a generic plan: the period's days only"
is "$(q "SET plan_cache_mode = force_generic_plan; PREPARE p(inet, tstzrange) AS SELECT samples, first_seen FROM spamhints.address(\$1, \$2);
         EXECUTE p('$busy', '[2024-03-02 10:00,2024-03-04 13:15)')")" \
   "$(q "SELECT count(*) || '|' || min(ts) FROM spamhints.smtp_sample WHERE (src_ip = '$busy' OR dst_ip = '$busy') AND ts >= '2024-03-02 10:00' AND ts < '2024-03-04 13:15'")" \
   "  and answers what the samples say"
is "$(q "SET plan_cache_mode = force_generic_plan; PREPARE p(tstzrange) AS SELECT ips FROM spamhints.ip_census(\$1);
         EXECUTE p('[2024-03-01 06:30,2024-03-04 13:15)')")" "$(q "SELECT ips FROM spamhints.ip_census('[2024-03-01 06:30,2024-03-04 13:15)')")" \
   "  ip_census: the generic plan's answer is the custom plan's"
is "$(q "EXPLAIN (FORMAT JSON) SELECT * FROM spamhints.customer_sender(NULL)" | parts_of | wc -w)" \
   "$(q "SELECT count(*) FROM pg_inherits WHERE inhparent = 'spamhints.smtp_sample'::regclass")" \
   "(a NULL period reads every partition: the check above can fail)"

# a second load over three of the days
$LOADER -q -d $db "$tmp/b.pcap" >"$tmp/out" 2>&1
ok $? "a second load $(head -1 "$tmp/out")"
check_all "two loads"
# DELETE of the first load
q "DELETE FROM spamhints.load WHERE file_name LIKE '%a.pcap'" >/dev/null
is "$(q "SELECT count(DISTINCT load_id) FROM spamhints.smtp_sample")" 1 "the first load deleted"
check_all "after DELETE of a load"
# the first again, then purge(): the days before 2024-03-06 14:45 go
$LOADER -q -d $db "$tmp/a.pcap" >"$tmp/out" 2>&1
ok $? "the first capture loads again $(head -1 "$tmp/out")"
q "SELECT * FROM spamhints.purge('1 day', '2024-03-07 14:45+00')" >/dev/null
is "$(q "SELECT count(*) FROM spamhints.smtp_sample WHERE ts < '2024-03-06 14:45+00'") $(q "SELECT (count(*) > 0)::text FROM spamhints.smtp_sample")" "0 true" \
   "purge(): no sample before the cutoff, samples after it"
check_all "after purge()"
dropdb $db
psql -qX -d postgres -c "DROP ROLE IF EXISTS sh_periods_analyst" >/dev/null 2>&1
tap_done
