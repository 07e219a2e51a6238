#!/usr/bin/env bash
# bench/periods.sh: customer_sender(period) and packet_stats(period), which
# read only the partitions of the period's days, against the same questions
# in plain SQL over an unpartitioned copy of the samples (the views' SQL with
# a condition on ts), in the same run and cluster; and against the whole-data
# views. Times are medians of RUNS runs; ratios are baseline / function.
#
#   DAYS=7 PER_DAY=100000 RUNS=3 bash bench/periods.sh
#
# Each day is generated and streamed into the loader, never kept on disk.
# Every address is a customer's (two static halves of IPv4, one of IPv6),
# so that customer_sender aggregates every port-25 sample of the period.
# Uses the cluster of PGHOST when set, else installs the extension and
# starts one.
set -euo pipefail
cd "$(dirname "$0")/.."
DAYS=${DAYS:-7}
PER_DAY=${PER_DAY:-100000}
RUNS=${RUNS:-3}
START=1709251200    # 2024-03-01 00:00 UTC
db=spamhints_bench_periods
make -s all spamhints.so sql
if [ -z "${PGHOST:-}" ]; then
  # shellcheck source=../tests/lib/pgcluster.sh
  source tests/lib/pgcluster.sh
  make -s install >/dev/null
  PG_EXTRA_CONF="jit = off" pg_start
  trap 'pg_stop' EXIT
fi
dropdb --if-exists $db 2>/dev/null; createdb $db
q() { PGTZ=UTC psql -X -q -A -t -v ON_ERROR_STOP=1 -d $db -c "$1"; }
now() { date +%s.%N; }
q "CREATE EXTENSION spamhints"
for ((d = 0; d < DAYS; d++)); do
  tests/gen/spamhints-gen --seed $((400 + d)) --smtp "$PER_DAY" --other $((PER_DAY / 10)) --hours 24 \
    --start $((START + d * 86400)) -o - | loader/spamhints-load -q -d $db - >/dev/null
done
q "INSERT INTO spamhints.ip_assignment (customer_id, network) VALUES ('c1', '0.0.0.0/1'), ('c2', '128.0.0.0/1'), ('c6', '::/0')"
rows=$(q "SELECT count(*) FROM spamhints.smtp_sample")
q "CREATE TABLE bench_plain AS SELECT * FROM spamhints.smtp_sample;
   ANALYZE bench_plain; ANALYZE spamhints.smtp_sample" >/dev/null
median() {   # SQL -> median seconds of RUNS runs
  local i t0 t1 ts=()
  for ((i = 0; i < RUNS; i++)); do t0=$(now); q "$1" >/dev/null; t1=$(now); ts+=("$(echo "$t1 - $t0" | bc -l)"); done
  printf '%s\n' "${ts[@]}" | sort -g | sed -n "$(( (RUNS + 1) / 2 ))p"
}
row() {
  local a b
  a=$(median "$2"); b=$(median "$3")
  printf '%-44s %10.4f %10.4f %8.1f\n' "$1" "$a" "$b" "$(echo "$b / $a" | bc -l)"
}
# the views' SQL over the plain copy, where $1
plain_cs() {
  echo "WITH sent AS (SELECT a.customer_id, s.src_ip, s.dst_ip, s.ts, s.sampling_rate * coalesce(f.factor, 1) AS sampling_rate
                     FROM bench_plain s JOIN spamhints.ip_assignment a ON a.network >>= s.src_ip AND a.during @> s.ts
                     LEFT JOIN spamhints.agent_rate f ON f.load_id = s.load_id AND f.agent = s.agent
                     WHERE s.dst_port = 25 AND ($1))
        SELECT customer_id, array_agg(DISTINCT src_ip), min(ts), max(ts), count(*), round(sum(sampling_rate))::bigint,
               count(DISTINCT dst_ip), spamhints.hourly(ts) FROM sent GROUP BY customer_id"
}
plain_ps() {
  echo "SELECT sum(n), sum(syn), round(sum(est * coalesce(f.factor, 1)))
        FROM (SELECT load_id, agent, count(*) n, count(*) FILTER (WHERE tcp_flags & 18 = 2) syn, sum(sampling_rate) est
              FROM bench_plain WHERE $1 GROUP BY 1, 2) g
        LEFT JOIN spamhints.agent_rate f USING (load_id, agent)"
}
day="'[2024-03-03,2024-03-04)'"
cut="'[2024-03-02 06:00,2024-03-04 18:00)'"
printf '%-44s %10s %10s %8s\n' "periods: $DAYS days, $rows rows" function_s baseline_s ratio
row "customer_sender(one day) vs plain copy" "SELECT * FROM spamhints.customer_sender($day)" "$(plain_cs "ts >= '2024-03-03' AND ts < '2024-03-04'")"
row "customer_sender(2.5 days) vs plain copy" "SELECT * FROM spamhints.customer_sender($cut)" "$(plain_cs "ts >= '2024-03-02 06:00' AND ts < '2024-03-04 18:00'")"
row "customer_sender(one day) vs the view" "SELECT * FROM spamhints.customer_sender($day)" "SELECT * FROM spamhints.customer_sender"
row "packet_stats(one day) vs plain copy" "SELECT * FROM spamhints.packet_stats($day)" "$(plain_ps "ts >= '2024-03-03' AND ts < '2024-03-04'")"
row "packet_stats(one day) vs the view" "SELECT * FROM spamhints.packet_stats($day)" "SELECT * FROM spamhints.packet_stats"
dropdb $db
