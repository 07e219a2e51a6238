#!/usr/bin/env bash
# bench/months.sh: smtp_sample's day partitions, measured against baselines
# in the same run and the same cluster (issue 14, items 2 and 4):
#
#   load    DAYS daily captures (SMTP rows each) loaded by spamhints-load into
#           the partitioned table, B-trees built on each complete day after
#           its load (maintain_partitions()), against the ceiling: the
#           server's binary COPY of the same rows (spamhints-load -o) into a
#           bare table (unpartitioned, no index, no check); and the
#           alternatives for the same rows by COPY: the unpartitioned table
#           of 0.1 (BRIN indexes, the load check), and that table with the
#           B-trees on src_ip and dst_ip kept row by row during the COPY
#   address everything about a typical address (address()) and its
#           hour-of-day chart, against the same questions on the
#           unpartitioned table without B-trees (a full scan: 0.1); and
#           about the busiest address
#   purge   a week of the month: purge() at a time whose cutoff is the
#           middle of the seventh day (six partitions dropped, half a day
#           deleted), and the rows gone against those counted before
#
# Times are medians of RUNS runs (loads: one run each; a load cannot run
# twice into the same table). Prints one table; bench/run.sh (PARTS=months)
# includes it. Uses the cluster of PGHOST when set, else starts one.
#
#   bash bench/months.sh                       30 days x 100,000 SMTP rows (3 million)
#   DAYS=30 PER_DAY=300000 bash bench/months.sh    9 million, the size of issue 14
set -euo pipefail
cd "$(dirname "$0")/.."
DAYS=${DAYS:-30}
PER_DAY=${PER_DAY:-100000}
RUNS=${RUNS:-5}
LOADER=${LOADER:-loader/spamhints-load}
START=1709251200    # 2024-03-01 00:00 UTC
say() { echo "months: $*" >&2; }

make -s all spamhints.so sql
if [ -w "$(pg_config --pkglibdir)" ]; then
  install -m 644 sql/spamhints--*.sql spamhints.control "$(pg_config --sharedir)/extension/"
  install -m 755 spamhints.so "$(pg_config --pkglibdir)/"
fi
W=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/spamhints-months.XXXXXX")
chmod 755 "$W"
if [ -z "${PGHOST:-}" ]; then
  # shellcheck source=../tests/lib/pgcluster.sh
  source tests/lib/pgcluster.sh
  PG_EXTRA_CONF="fsync = on
full_page_writes = on
synchronous_commit = on
jit = off" pg_start
  trap 'pg_stop; rm -rf "$W"' EXIT
else
  trap 'rm -rf "$W"' EXIT
fi
db=spamhints_bench_months
dropdb --if-exists $db 2>/dev/null || true
createdb $db
q() { PGTZ=UTC psql -X -q -A -t -v ON_ERROR_STOP=1 -d $db -c "$1"; }
q "CREATE EXTENSION spamhints"
now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# time of SQL, in ms, median of RUNS, as psql's \timing measures it (one
# session: no connection or start-up in the figure), after one run to warm up
timed() {
  local i
  { echo '\timing on'; for ((i = 0; i <= RUNS; i++)); do echo "$1;"; done; } |
    PGTZ=UTC psql -X -q -A -t -v ON_ERROR_STOP=1 -d $db 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n +2 | median
}

say "generating $DAYS daily captures of $PER_DAY SMTP rows"
for ((d = 0; d < DAYS; d++)); do
  tests/gen/spamhints-gen --seed $((100 + d)) --smtp "$PER_DAY" --other $((PER_DAY / 10)) --hours 24 \
    --start $((START + d * 86400)) -o "$W/day$d.pcap" >/dev/null
  "$LOADER" -q -o "$W/day$d.copy" "$W/day$d.pcap"
done
cols="load_id, frame, ts, agent, sample_seq, sampling_rate, input_if, output_if, src_mac, dst_mac, vlan, src_ip, dst_ip, src_port, dst_port, tcp_flags, ip_len, ttl, smtp, gw_src_as, gw_dst_as"

# the tables the COPYs go to; load 0 (the rows of -o) exists for the check
q "INSERT INTO spamhints.load (load_id, file_name) OVERRIDING SYSTEM VALUE VALUES (0, 'bench: rows written by spamhints-load -o')"
q "CREATE TABLE bare (LIKE spamhints.smtp_sample)"
q "CREATE TABLE flat (LIKE spamhints.smtp_sample INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
   CREATE INDEX ON flat USING brin (load_id); CREATE INDEX ON flat USING brin (ts)"
q "CREATE TABLE flat_btree (LIKE flat INCLUDING ALL); CREATE INDEX ON flat_btree (src_ip); CREATE INDEX ON flat_btree (dst_ip)"
q "CHECKPOINT"

# the same COPYs through the partitions, in a database of their own: the
# load's path without the loader's decoding and hashing (ensure_partitions(),
# COPY into spamhints.smtp_sample, then maintain_partitions())
createdb ${db}_copy
qc() { PGTZ=UTC psql -X -q -A -t -v ON_ERROR_STOP=1 -d ${db}_copy -c "$1"; }
qc "CREATE EXTENSION spamhints"
qc "INSERT INTO spamhints.load (load_id, file_name) OVERRIDING SYSTEM VALUE VALUES (0, 'bench: rows written by spamhints-load -o')"

declare -A T
for t in bare flat flat_btree loader part_copy part_index; do T[$t]=0; done
say "loading, interleaved: ceiling, 0.1's table, with B-trees, the loader into the partitions"
for ((d = 0; d < DAYS; d++)); do
  for t in bare flat flat_btree; do
    t0=$(now)
    q "BEGIN; COPY $t ($cols) FROM '$W/day$d.copy' (FORMAT binary); COMMIT" >/dev/null
    t1=$(now); T[$t]=$(echo "${T[$t]} + $t1 - $t0" | bc -l)
  done
  t0=$(now)
  qc "BEGIN; SELECT spamhints.ensure_partitions(to_timestamp($START + $d * 86400), to_timestamp($START + $d * 86400));
      COPY spamhints.smtp_sample ($cols) FROM '$W/day$d.copy' (FORMAT binary); COMMIT" >/dev/null
  t1=$(now); T[part_copy]=$(echo "${T[part_copy]} + $t1 - $t0" | bc -l)
  qc "SELECT count(*) FROM spamhints.maintain_partitions()" >/dev/null
  t2=$(now); T[part_index]=$(echo "${T[part_index]} + $t2 - $t1" | bc -l)
  t0=$(now)
  "$LOADER" -q -d $db "$W/day$d.pcap"
  t1=$(now); T[loader]=$(echo "${T[loader]} + $t1 - $t0" | bc -l)
done
dropdb ${db}_copy
rows=$(q "SELECT count(*) FROM spamhints.smtp_sample")
[ "$rows" = "$(q "SELECT count(*) FROM bare")" ] || { say "row counts differ: $rows"; exit 1; }
unindexed=$(q "SELECT count(*) FROM spamhints.partitions() WHERE from_ts IS NOT NULL AND NOT indexed")
# the index builds alone (what maintain_partitions() adds to each load): on a copy of one day
q "CREATE TABLE one_day AS SELECT * FROM spamhints.smtp_sample_20240302; CHECKPOINT"
t0=$(now); q "CREATE INDEX ON one_day (src_ip); CREATE INDEX ON one_day (dst_ip)"; t1=$(now)
build_ms=$(echo "($t1 - $t0) * 1000" | bc -l)
q "ANALYZE bare; ANALYZE flat; ANALYZE flat_btree; ANALYZE spamhints.smtp_sample"

# a typical address (the median by samples of those seen on 10 or more)
# and the busiest one, whose rows are a large share of the table
read -r ip ip_n busy busy_n <<<"$(q "WITH a AS (SELECT ip, count(*) AS n FROM (SELECT src_ip AS ip FROM spamhints.smtp_sample
                                    UNION ALL SELECT dst_ip FROM spamhints.smtp_sample) x GROUP BY 1)
  SELECT (SELECT host(ip) || ' ' || n FROM a WHERE n >= 10 ORDER BY n, ip OFFSET (SELECT count(*) / 2 FROM a WHERE n >= 10) LIMIT 1),
         (SELECT host(ip) || ' ' || n FROM a ORDER BY n DESC, ip LIMIT 1)" | tr '|' ' ')"
say "per-address questions about $ip ($ip_n samples) and $busy ($busy_n)"
b_part=$(timed "SELECT * FROM spamhints.address('$busy')")
b_flat=$(timed "SELECT count(*), sum(sampling_rate), count(DISTINCT CASE WHEN src_ip = '$busy' THEN dst_ip ELSE src_ip END), min(ts), max(ts), spamhints.hourly(ts)
                FROM flat WHERE src_ip = '$busy' OR dst_ip = '$busy'")
a_part=$(timed "SELECT * FROM spamhints.address('$ip')")
a_flat=$(timed "SELECT count(*), sum(sampling_rate), count(DISTINCT CASE WHEN src_ip = '$ip' THEN dst_ip ELSE src_ip END), min(ts), max(ts), spamhints.hourly(ts)
                FROM flat WHERE src_ip = '$ip' OR dst_ip = '$ip'")
c_part=$(timed "SELECT spamhints.chart(hourly) FROM spamhints.address('$ip')")
c_part_direct=$(timed "SELECT spamhints.chart(spamhints.hourly(ts)) FROM (SELECT ts FROM spamhints.smtp_sample WHERE src_ip = '$ip'
                       UNION ALL SELECT ts FROM spamhints.smtp_sample WHERE dst_ip = '$ip' AND src_ip <> '$ip') s")
c_flat=$(timed "SELECT spamhints.chart(spamhints.hourly(ts)) FROM flat WHERE src_ip = '$ip' OR dst_ip = '$ip'")
same=$( [ "$(q "SELECT samples || ' ' || hourly::text FROM spamhints.address('$ip')")" = \
          "$(q "SELECT count(*) || ' ' || spamhints.hourly(ts)::text FROM flat WHERE src_ip = '$ip' OR dst_ip = '$ip'")" ] && echo yes || echo NO)
seq=$(q "EXPLAIN (FORMAT JSON) SELECT * FROM spamhints.address('$ip')" |
      jq -r '[.. | objects | select(."Node Type" == "Seq Scan") | ."Relation Name"] | unique | join(" ")')

say "purge of a week"
cut="($START + 6.5 * 86400)"
before=$(q "SELECT count(*) FROM spamhints.smtp_sample WHERE ts < to_timestamp($cut)")
left_want=$(q "SELECT count(*) FROM spamhints.smtp_sample WHERE ts >= to_timestamp($cut)")
t0=$(now)
deleted=$(q "SELECT deleted FROM spamhints.purge('1 day', to_timestamp($cut) + interval '1 day') WHERE table_name = 'smtp_sample'")
t1=$(now)
purge_ms=$(echo "($t1 - $t0) * 1000" | bc -l)
left=$(q "SELECT count(*) FROM spamhints.smtp_sample")
dropped=$(q "SELECT $DAYS - count(*) FROM spamhints.partitions() WHERE from_ts IS NOT NULL")

ratio() { echo "scale=2; $1 / $2" | bc -l; }
printf '%s rows in %s daily loads (%s per day); times are sums over the loads, medians of %s runs for queries\n' "$rows" "$DAYS" "$PER_DAY" "$RUNS"
printf '%-64s %12s %s\n' "figure" "value" "ratio"
printf '%-64s %10.2f s %s\n' "COPY ceiling: bare table (no index, no check, unpartitioned)" "${T[bare]}" "1.00"
printf '%-64s %10.2f s %sx ceiling\n' "COPY into 0.1's table (BRIN, load check, unpartitioned)" "${T[flat]}" "$(ratio "${T[flat]}" "${T[bare]}")"
printf '%-64s %10.2f s %sx ceiling\n' "COPY into it with B-trees on src_ip, dst_ip kept row by row" "${T[flat_btree]}" "$(ratio "${T[flat_btree]}" "${T[bare]}")"
printf '%-64s %10.2f s %sx ceiling (target 1.3x), %sx 0.1 table\n' "spamhints-load into the partitions, B-trees built after each day" "${T[loader]}" \
  "$(ratio "${T[loader]}" "${T[bare]}")" "$(ratio "${T[loader]}" "${T[flat]}")"
printf '%-64s %10.2f s %sx ceiling\n' "COPY through the partitions (ensure_partitions(), BRIN, check)" "${T[part_copy]}" "$(ratio "${T[part_copy]}" "${T[bare]}")"
printf '%-64s %10.2f s %sx ceiling\n' "  and the B-trees of each day after it (maintain_partitions())" "$(echo "${T[part_copy]} + ${T[part_index]}" | bc -l)" \
  "$(ratio "$(echo "${T[part_copy]} + ${T[part_index]}" | bc -l)" "${T[bare]}")"
printf '%-64s %10.0f ms\n' "  the two B-trees of one day, by a sort, alone" "$build_ms"
printf '%-64s %10s\n' "  day partitions left without B-trees" "$unindexed"
printf '%-64s %10.1f ms %sx faster (target 20x, under 50 ms)\n' "address($ip): $ip_n samples, partitioned, B-trees" "$a_part" "$(ratio "$a_flat" "$a_part")"
printf '%-64s %10.1f ms\n' "  the same on 0.1's unpartitioned table (full scan)" "$a_flat"
printf '%-64s %10.1f ms %sx faster\n' "its hour-of-day chart, through address()" "$c_part" "$(ratio "$c_flat" "$c_part")"
printf '%-64s %10.1f ms %sx faster\n' "its hour-of-day chart, written out on the partitions" "$c_part_direct" "$(ratio "$c_flat" "$c_part_direct")"
printf '%-64s %10.1f ms\n' "  the same on 0.1's unpartitioned table (full scan)" "$c_flat"
printf '%-64s %10s\n' "  answers equal (samples and chart)" "$same"
printf '%-64s %10.1f ms %sx faster\n' "address($busy), the busiest: $busy_n samples" "$b_part" "$(ratio "$b_flat" "$b_part")"
printf '%-64s %10.1f ms\n' "  the same on 0.1's unpartitioned table (full scan)" "$b_flat"
printf '%-64s %10s\n' "  sequential scans in address()'s plan" "${seq:-none}"
printf '%-64s %10.0f ms (target under 1 s)\n' "purge() of a week: 6 partitions dropped, half a day deleted" "$purge_ms"
printf '%-64s %10s\n' "  rows deleted / counted before the cutoff" "$deleted / $before"
printf '%-64s %10s\n' "  rows left / counted from the cutoff on" "$left / $left_want"
printf '%-64s %10s\n' "  partitions dropped" "$dropped"
dropdb $db
