#!/usr/bin/env bash
# bench/rollups.sh: the questions of the slides from the rollups
# (spamhints.address_day) against the same questions in plain SQL over an
# unpartitioned copy of the samples without rollups, in the same run and
# cluster; and the loads that keep the rollups.
#
#   SCALE=day|week|month   1, 7 or 30 days of PER_DAY SMTP rows (default
#                          SCALE=day, PER_DAY=100000; the seed's rate is
#                          about 9 million a day: PER_DAY=9000000 SCALE=month
#                          needs ~300 GB of disk and hours, more than this
#                          machine has)
#
# Each day is generated and streamed into the loader (spamhints-gen -o - |
# spamhints-load -), never kept on disk; the days share one population of
# networks and hosts (--population-seed), as an exchange's days share most of
# their senders and servers. The whole-data questions are timed from the day
# rollups, then from the months folded by rollup_fold() (timed too). Times are medians of RUNS runs;
# ratios are baseline / rollups. Uses the cluster of PGHOST when set, else
# installs the extension and starts one. make bench SCALE=week runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${SCALE:-day}" in
  day) DAYS=1 ;; week) DAYS=7 ;; month) DAYS=30 ;; *) echo "SCALE is day, week or month" >&2; exit 2 ;;
esac
PER_DAY=${PER_DAY:-100000}
RUNS=${RUNS:-3}
START=1709251200    # 2024-03-01 00:00 UTC
db=spamhints_bench_rollups
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
load_s=0
for ((d = 0; d < DAYS; d++)); do
  t0=$(now)
  tests/gen/spamhints-gen --seed $((300 + d)) --population-seed 300 --smtp "$PER_DAY" --other $((PER_DAY / 10)) --hours 24 \
    --start $((START + d * 86400)) -o - | loader/spamhints-load -q -d $db - >/dev/null
  t1=$(now); load_s=$(echo "$load_s + $t1 - $t0" | bc -l)
done
rows=$(q "SELECT count(*) FROM spamhints.smtp_sample")
q "CREATE TABLE bench_plain AS SELECT s.*, l.smtp_ports FROM spamhints.smtp_sample s JOIN spamhints.load l USING (load_id);
   ANALYZE bench_plain; ANALYZE spamhints.smtp_sample; ANALYZE spamhints.address_day" >/dev/null
ip=$(q "SELECT src_ip FROM spamhints.smtp_sample GROUP BY 1 ORDER BY count(*) DESC OFFSET 100 LIMIT 1")
median() {   # SQL -> median seconds of RUNS runs, as psql's \timing measures them in one session
  # (no connection or start-up in the figure), after one run to warm up
  local i
  { echo '\timing on'; for ((i = 0; i <= RUNS; i++)); do echo "$1;"; done; } |
    PGTZ=UTC psql -X -q -A -t -v ON_ERROR_STOP=1 -d $db 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n +2 |
    sort -g | awk '{ v[NR] = $1 / 1000 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ends="'[2024-03-01 06:00,$(date -u -d "@$((START + DAYS * 86400 - 3600))" '+%Y-%m-%d %H:%M'))'"
# the same cut at minutes: the samples of the two partial hours
mins="'[2024-03-01 06:17,$(date -u -d "@$((START + DAYS * 86400 - 3600))" '+%Y-%m-%d %H:42'))'"
printf '%-34s %10s %10s %8s\n' "rollups: $DAYS days, $rows rows" rollups_s plain_s ratio
row() {
  local a b
  a=$(median "$2"); b=$(median "$3")
  printf '%-34s %10.4f %10.4f %8.1f\n' "$1" "$a" "$b" "$(echo "$b / $a" | bc -l)"
}
census_plain="SELECT (spamhints.smtp_census(src_ip, dst_ip, src_port, dst_port, smtp_ports)).* FROM bench_plain"
as_plain="SELECT g, spamhints.smtp_census(ip, role) FROM (SELECT coalesce(src_asn, nullif(gw_src_as, 0)) g, src_ip ip, spamhints.src_role(src_port, dst_port, smtp_ports) role FROM bench_plain
     UNION ALL SELECT coalesce(dst_asn, nullif(gw_dst_as, 0)), dst_ip, spamhints.dst_role(src_port, dst_port, smtp_ports) FROM bench_plain) e WHERE g IS NOT NULL GROUP BY g"
row "ip_census, days not folded" "SELECT * FROM spamhints.ip_census" "$census_plain"
row "client_as_top 30, days not folded" "SELECT * FROM spamhints.client_as_top WHERE rank <= 30" "$as_plain"
t0=$(now); folded=$(q "SELECT spamhints.rollup_fold(NULL)"); t1=$(now)
q "ANALYZE spamhints.address_month" >/dev/null
printf '%-34s %10.4f s: %s days, %s day rows into %s month rows\n' "rollup_fold(NULL)" "$(echo "$t1 - $t0" | bc -l)" "$folded" \
  "$(q "SELECT count(*) FROM spamhints.address_day")" "$(q "SELECT count(*) FROM spamhints.address_month")"
row "ip_census" "SELECT * FROM spamhints.ip_census" "$census_plain"
row "ip_census(period, whole hours)" "SELECT * FROM spamhints.ip_census($ends)" \
    "SELECT (spamhints.smtp_census(src_ip, dst_ip, src_port, dst_port, smtp_ports)).* FROM bench_plain WHERE $ends::tstzrange @> ts"
row "ip_census(period cutting minutes)" "SELECT * FROM spamhints.ip_census($mins)" \
    "SELECT (spamhints.smtp_census(src_ip, dst_ip, src_port, dst_port, smtp_ports)).* FROM bench_plain WHERE $mins::tstzrange @> ts"
row "client_as_top top 30" "SELECT * FROM spamhints.client_as_top WHERE rank <= 30" "$as_plain"
row "address(ip): samples, first, last" "SELECT samples, first_seen, last_seen, hourly FROM spamhints.address('$ip')" \
    "SELECT count(*), min(ts), max(ts), spamhints.hourly(ts) FROM bench_plain WHERE src_ip = '$ip' OR dst_ip = '$ip'"
printf '%-34s %10.2f s for %s rows (with rollups; bench/months.sh gives the COPY ceiling)\n' "load (generator | loader)" "$load_s" "$rows"
dropdb $db
