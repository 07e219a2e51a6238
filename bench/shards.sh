#!/usr/bin/env bash
# bench/shards.sh (make bench, PARTS=shards): the census and the AS top 30
# on a coordinator over 2 shards of ROWS samples each (bench/gen.sql, seeds
# 0.1 and 0.2) against one node holding both sets (2 x ROWS), in one run:
# medians of RUNS, and the ratio shards / one node (the target: at
# most 0.6 for the census). ip_census computes census_agg on each shard
# (async foreign scans, so both shards work at once) and merges the two
# states; client_as_top ships the shards' endpoint rows to the coordinator
# (its census per AS and country is not pushed down yet).
#
#   ROWS=500000 RUNS=3 bash bench/shards.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-500000}
RUNS=${RUNS:-3}
source tests/lib/pgcluster.sh
pg_start
A=$(pg_start_another) B=$(pg_start_another)
trap 'pg_stop_another "$A"; pg_stop_another "$B"; pg_stop' EXIT
gen() { psql -qX -h "$1" -d "$2" -v rows="$ROWS" -v seed="$3" -f bench/gen.sql >/dev/null; }
for d in one coord; do createdb $d; psql -qX -d $d -c 'CREATE EXTENSION spamhints'; done
for h in "$A" "$B"; do createdb -h "$h" shard; psql -qX -h "$h" -d shard -c 'CREATE EXTENSION spamhints'; done
gen "$PGHOST" one 0.1; psql -qX -d one -c "DELETE FROM spamhints.asn"; gen "$PGHOST" one 0.2; gen "$A" shard 0.1; gen "$B" shard 0.2
for h in "$PGHOST" "$A" "$B"; do psql -qX -h "$h" -d "$([ "$h" = "$PGHOST" ] && echo one || echo shard)" -c 'VACUUM ANALYZE'; done
psql -qX -d coord -c "SELECT spamhints.attach_shard('a', 'host=$A dbname=shard user=postgres'), spamhints.attach_shard('b', 'host=$B dbname=shard user=postgres')" >/dev/null

# median wall time in ms of RUNS runs of SQL in database DB
median() {
  local db=$1 sql=$2 i t0 t1 ts=()
  for i in $(seq "$RUNS"); do
    t0=$(date +%s%N); psql -qX -d "$db" -c "$sql" >/dev/null; t1=$(date +%s%N)
    ts+=($(( (t1 - t0) / 1000000 )))
  done
  printf '%s\n' "${ts[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}
n1=$(psql -XAt -d one -c "SELECT count(*) FROM spamhints.smtp_sample")
echo "one node: $n1 samples; 2 shards: $ROWS each (bench/gen.sql); $(nproc) cores; medians of $RUNS"
same=$(psql -XAt -d one -c "TABLE spamhints.ip_census")
[ "$same" = "$(psql -XAt -d coord -c "TABLE spamhints.ip_census")" ] && echo "ip_census: the same answer ($same)"
printf '%-28s %10s %10s %7s\n' query "one (ms)" "2 shards" ratio
for q in "SELECT * FROM spamhints.ip_census" "SELECT * FROM spamhints.client_as_top WHERE rank <= 30"; do
  t1=$(median one "$q") t2=$(median coord "$q")
  printf '%-28s %10s %10s %7s\n' "$(echo "$q" | sed 's/SELECT \* FROM spamhints.//; s/ WHERE rank <= 30/ top 30/')" "$t1" "$t2" \
    "$(awk -v a="$t2" -v b="$t1" 'BEGIN { printf "%.2f", a / b }')"
done
