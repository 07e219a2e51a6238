#!/usr/bin/env bash
# bench/run.sh: "make bench", the loading benchmark of issue 5. One run
# measures, on a generated capture shaped like an exchange's sFlow (SMTP a
# small share of the sampled packets) and a throwaway cluster:
#
#   a. decode only (spamhints-load --dry-run): flow samples per CPU-second
#      (user+sys of the process, both threads) and per wall second;
#   b. the end-to-end load into spamhints.smtp_sample (rows/s), and with
#      --asn-db/--country-db when the loader has them;
#   c. the ceiling: the server's own COPY (FORMAT binary) of the same rows
#      from a file (written by spamhints-load -o) into an identical empty
#      table (LIKE spamhints.smtp_sample INCLUDING ALL: the CHECK and both
#      BRIN indexes), and into a bare one (no CHECK, no index);
#   d. tshark | awk | psql \copy (bench/tshark-pipeline.sh) and
#   e. pmacct's sfacctd with its PostgreSQL plugin, both on a capture 1/10
#      the size, against the loader on that same capture;
#   f. the loader's peak RSS at 2 and 10 million SMTP samples;
#   g. the slide queries, extension against plain SQL (bench/analytics.sh),
#      on SQL-generated rows and on the generated capture as loaded;
#   h. made-up agents (bench/agents.sh);
#   i. the live collector (bench/collector.sh): the highest rate of sFlow
#      datagrams over loopback it takes with no drop and every row loaded,
#      against sfcapd and sfacctd with its PostgreSQL plugin, its receive +
#      spool rate on one CPU and the delay from a datagram to its row.
#   j. the 95% bounds' coverage and sender_score's detection rates and ROC
#      curves (bench/score.sh, issue 16).
#   k. a month of daily loads into the day partitions, per-address questions
#      and purge() of a week, against the COPY ceiling and 0.1's table
#      (bench/months.sh).
#   l. the exactly-once check of sFlow datagrams: a load with it asking,
#      finding everything known, against one with nothing to ask
#      (bench/exactly_once.sh).
#   m. the census and AS top 30 across 2 shards against one node holding
#      the same rows (bench/shards.sh).
#
# b and c run interleaved (load, ceiling, bare, load, ...) so that what
# else runs on the machine falls on all of them alike, first with durable
# settings (fsync, full_page_writes, synchronous_commit on: the figures),
# then with the test cluster's fsync=off, full_page_writes=off. Each time
# is the median of RUNS runs (3); tshark runs TSHARK_RUNS times (1: half a
# minute each). Prints one table with every figure, its ratio against the
# ceiling or the peers and the issue's target, and keeps it with the
# machine, the settings and the commands in bench/out/bench-DATE.md.
#
#   make bench                        1M SMTP among 10M flow samples (a 2 GB capture)
#   SCALE=seed make bench             10M among 50M: the seed's size (a 10 GB capture)
#   SCALE=quick make bench            100k among 1M: a smoke test of the harness
#   PARTS="decode load" make bench    only some parts (decode load tshark sfacctd rss analytics agents collector score months once shards)
#   RUNS=5 KEEP=1 BENCH_TMPDIR=/big make bench
#   LOADER=/path/to/spamhints-load make bench    another build of the loader
#
# Needs root (as make test does) to install packages and run PostgreSQL as
# the postgres user. Nothing listens on the network: the cluster has only a
# unix socket, sfacctd reads the capture file (pcap_savefile).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SCALE=${SCALE:-default}
RUNS=${RUNS:-3}
TSHARK_RUNS=${TSHARK_RUNS:-1}
PARTS=${PARTS:-decode load tshark sfacctd rss analytics agents collector score months once shards}
PEER_DIV=${PEER_DIV:-10}
KEEP=${KEEP:-0}
case $SCALE in
  default) SMTP=1000000 OTHER=9000000 ;;
  seed) SMTP=10000000 OTHER=40000000 ;;
  quick) SMTP=100000 OTHER=900000 ;;
  *) echo "bench: SCALE is default, seed or quick" >&2; exit 1 ;;
esac
RSS_SIZES=${RSS_SIZES:-2000000 10000000}
[ "$SCALE" = quick ] && RSS_SIZES=${RSS_SIZES_QUICK:-200000 1000000}
START=1709251200    # 2024-03-01 00:00 UTC: bench/analytics.sh asks about that day
GEN_ARGS="--seed 1 --version mix --start $START"
LOADER=${LOADER:-$ROOT/loader/spamhints-load}    # LOADER=other/spamhints-load make bench: another build
COLUMNS_SQL="load_id, frame, ts, agent, sample_seq, sampling_rate, input_if, output_if, src_mac, dst_mac, vlan, src_ip, dst_ip, src_port, dst_port, tcp_flags, ip_len, ttl, smtp, gw_src_as, gw_dst_as"
DURABLE_CONF="fsync = on
full_page_writes = on
synchronous_commit = on
wal_level = replica
max_wal_size = 4GB
checkpoint_timeout = 30min
shared_buffers = 512MB
jit = off"

has_part() { [[ " $PARTS " == *" $1 "* ]]; }
say() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------------------
# Packages, build, scratch space, cluster.
# ---------------------------------------------------------------------------
bash tests/lib/deps.sh
need=()
{ has_part sfacctd || has_part collector; } && ! command -v sfacctd >/dev/null && need+=(pmacct)
has_part collector && ! command -v sfcapd >/dev/null && need+=(nfdump-sflow)
has_part collector && ! command -v nfdump >/dev/null && need+=(nfdump)
command -v /usr/bin/time >/dev/null || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { say "missing Debian packages: ${need[*]} (run as root or install them)"; exit 1; }
  say "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

make -s all spamhints.so sql
if [ -w "$(pg_config --pkglibdir)" ]; then
  install -m 644 sql/spamhints--*.sql spamhints.control "$(pg_config --sharedir)/extension/"
  install -m 755 spamhints.so "$(pg_config --pkglibdir)/"
fi

W=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/spamhints-bench.XXXXXX")
chmod 755 "$W"    # the postgres user reads the COPY file from here
mkdir -p bench/out
STAMP=$(date -u +%Y%m%d-%H%M%S)
REPORT=bench/out/bench-$STAMP.md
declare -A M    # figure -> value

cleanup() {
  pg_stop
  if [ "$KEEP" = 1 ]; then say "kept $W"; else rm -rf "$W"; fi
}

# shellcheck source=../tests/lib/pgcluster.sh
source tests/lib/pgcluster.sh
PG_EXTRA_CONF="$DURABLE_CONF" pg_start
trap cleanup EXIT
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION spamhints'
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }

# durability durable|fast: the settings loads run with (reloadable ones)
durability() {
  if [ "$1" = fast ]; then
    q "ALTER SYSTEM SET fsync = off" && q "ALTER SYSTEM SET full_page_writes = off" && q "ALTER SYSTEM SET synchronous_commit = off"
  else
    q "ALTER SYSTEM RESET ALL"
  fi
  q "SELECT pg_reload_conf()" >/dev/null
  sleep 0.5
  say "settings: fsync=$(q 'SHOW fsync') full_page_writes=$(q 'SHOW full_page_writes') synchronous_commit=$(q 'SHOW synchronous_commit')"
}

# empty every sample table; load 0 stands for the rows written with -o
reset_tables() {   # (the samples go with their loads: a trigger, or CASCADE with a foreign key)
  q "TRUNCATE spamhints.load, spamhints.load_agent, bench_ceiling, bench_bare, acct_sfacctd CASCADE" >/dev/null
  q "INSERT INTO spamhints.load (load_id, file_name) OVERRIDING SYSTEM VALUE VALUES (0, 'bench: rows written by spamhints-load -o')" >/dev/null
  q "CHECKPOINT" >/dev/null
}

psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
-- the ceiling: the same columns, CHECK and indexes as a day partition of
-- spamhints.smtp_sample while a load COPYs into it (its BRIN indexes are the
-- partition's own, its B-trees come after the day: bench/months.sh)
CREATE TABLE bench_ceiling (LIKE spamhints.smtp_sample INCLUDING ALL);
CREATE INDEX ON bench_ceiling USING brin (load_id);
CREATE INDEX ON bench_ceiling USING brin (ts);
-- LIKE copies no foreign key: should the schema have one again, so does the ceiling
SELECT format('ALTER TABLE bench_ceiling ADD %s', pg_get_constraintdef(oid))
FROM pg_constraint WHERE conrelid = 'spamhints.smtp_sample'::regclass AND contype = 'f' \gexec
-- the bare reference: columns and NOT NULL only
CREATE TABLE bench_bare (LIKE spamhints.smtp_sample);
-- sfacctd's table (sql_optimize_clauses: the columns of its primitives)
CREATE TABLE acct_sfacctd (
  peer_ip_src inet NOT NULL, export_proto_seqno bigint NOT NULL, export_proto_sysid bigint NOT NULL,
  timestamp_arrival timestamp NOT NULL, timestamp_arrival_residual integer NOT NULL,
  mac_src macaddr NOT NULL, mac_dst macaddr NOT NULL, vlan integer NOT NULL,
  ip_src inet NOT NULL, ip_dst inet NOT NULL, port_src integer NOT NULL, port_dst integer NOT NULL,
  ip_proto smallint NOT NULL, tcp_flags smallint NOT NULL, sampling_rate bigint NOT NULL,
  iface_in bigint NOT NULL, iface_out bigint NOT NULL, as_src bigint NOT NULL, as_dst bigint NOT NULL,
  packets integer NOT NULL, bytes bigint NOT NULL,
  stamp_inserted timestamp, stamp_updated timestamp);
SQL

# ---------------------------------------------------------------------------
# Timing helpers.
# ---------------------------------------------------------------------------

# timed NAME CMD...: run CMD, append "wall user sys maxrss_kb" to $W/NAME.times
timed() {
  local name=$1; shift
  if ! /usr/bin/time -f '%e %U %S %M' -o "$W/time.tmp" "$@" >"$W/$name.log" 2>&1; then
    say "$name failed: $*"; tail -20 "$W/$name.log" >&2; return 1
  fi
  cat "$W/time.tmp" >>"$W/$name.times"
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
wall() { awk '{ print $1 }' "$W/$1.times" | median; }
cpu() { awk '{ print $2 + $3 }' "$W/$1.times" | median; }
maxrss_mib() { awk '{ printf "%.1f\n", $4 / 1024 }' "$W/$1.times" | sort -g | tail -1; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "nan"; else printf "%.6g\n", a / b }'; }
summary_field() { sed -n "s/.* \([0-9][0-9]*\) $2.*/\1/p" "$W/$1.log" | tail -1; }

gen() {   # gen SMTP OTHER OUT [extra args]
  local smtp=$1 other=$2 out=$3; shift 3
  say "generating $out: --smtp $smtp --other $other"
  # shellcheck disable=SC2086
  tests/gen/spamhints-gen $GEN_ARGS --smtp "$smtp" --other "$other" -o "$out" "$@" >/dev/null
}

# ---------------------------------------------------------------------------
# The captures.
# ---------------------------------------------------------------------------
MAIN=$W/main.pcap SMALL=$W/small.pcap
gen "$SMTP" "$OTHER" "$MAIN" -t "$W/main.truth" --networks "$W/networks.tsv"
M[main_bytes]=$(stat -c %s "$MAIN")
M[main_flow_samples]=$(awk '$1 == "flow_samples" { print $2 }' "$W/main.truth")
M[main_datagrams]=$(awk '$1 == "datagrams" { print $2 }' "$W/main.truth")
if has_part tshark || has_part sfacctd; then
  gen $((SMTP / PEER_DIV)) $((OTHER / PEER_DIV)) "$SMALL" -t "$W/small.truth"
  M[small_bytes]=$(stat -c %s "$SMALL")
  M[small_flow_samples]=$(awk '$1 == "flow_samples" { print $2 }' "$W/small.truth")
fi

ENRICH=0
if "$LOADER" --help | grep -q -- --asn-db; then
  ENRICH=1
  perl tests/lib/make_mmdb.pl --networks "$W/networks.tsv" --asn "$W/asn.mmdb" --country "$W/country.mmdb"
  ENRICH_ARGS=(--asn-db "$W/asn.mmdb" --country-db "$W/country.mmdb")
fi
UPTIME_START=$(uptime)

# ---------------------------------------------------------------------------
# a. Decode only.
# ---------------------------------------------------------------------------
if has_part decode; then
  say "a. decode only, $RUNS runs"
  cat "$MAIN" >/dev/null    # the same warm page cache for every run
  for ((i = 0; i < RUNS; i++)); do timed decode "$LOADER" --dry-run --no-progress "$MAIN"; done
  M[decode_samples]=$(summary_field decode "flow samples")
  M[decode_rows]=$(summary_field decode "SMTP rows")
  M[decode_wall]=$(wall decode)
  M[decode_cpu]=$(cpu decode)
  M[decode_rss]=$(maxrss_mib decode)
fi

# ---------------------------------------------------------------------------
# b, c. End to end against the ceiling, interleaved, durable then fast.
# ---------------------------------------------------------------------------
load_main() {   # load_main NAME [loader args]: one end-to-end load of the main capture
  local name=$1; shift
  reset_tables
  timed "$name" "$LOADER" -q --no-progress "$@" -d "$PGDATABASE" "$MAIN"
  q "SELECT smtp_rows FROM spamhints.load WHERE load_id <> 0" >"$W/$name.rows"
  # the share of rows that enrichment gave an AS (0 without it)
  q "SELECT coalesce(round(100.0 * count(src_asn) / nullif(count(*), 0), 1), 0) FROM spamhints.smtp_sample" >"$W/$name.filled"
}
copy_file() {   # copy_file NAME TABLE [client]: the server's COPY of the -o file, in one transaction
  local copy=COPY  # client: psql's \copy, which sends the file over the socket as the loader does
  [ "${3:-}" = client ] && copy='\copy'
  reset_tables
  timed "$1" psql -X -q -v ON_ERROR_STOP=1 -c "BEGIN" \
    -c "$copy $2 ($COLUMNS_SQL) FROM '$W/rows.copy' (FORMAT binary)" -c "COMMIT"
  q "SELECT count(*) FROM $2" >"$W/$1.rows"
}
if has_part load; then
  say "c. writing the COPY file (spamhints-load -o)"
  "$LOADER" -q --no-progress -o "$W/rows.copy" "$MAIN"
  chmod 644 "$W/rows.copy"
  M[copy_bytes]=$(stat -c %s "$W/rows.copy")
  say "b, c. end to end and ceiling, durable and fast settings, $RUNS rounds"
  for ((i = 0; i < RUNS; i++)); do
    for mode in durable fast; do
      durability $mode
      load_main "load_$mode"
      copy_file "ceiling_$mode" bench_ceiling
      copy_file "bare_$mode" bench_bare
      [ $mode = durable ] && copy_file "client_$mode" bench_ceiling client
      [ "$ENRICH" = 1 ] && [ $mode = durable ] && load_main "enrich_$mode" "${ENRICH_ARGS[@]}"
    done
  done
  for mode in durable fast; do
    for f in load ceiling bare client enrich; do
      [ -f "$W/${f}_$mode.times" ] || continue
      M[${f}_${mode}_wall]=$(wall "${f}_$mode")
      M[${f}_${mode}_cpu]=$(cpu "${f}_$mode")
      M[${f}_${mode}_rows]=$(cat "$W/${f}_$mode.rows")
    done
  done
  durability durable
  if [ "${M[load_durable_rows]}" != "${M[ceiling_durable_rows]}" ]; then
    say "the loader loaded ${M[load_durable_rows]} rows, the ceiling's COPY ${M[ceiling_durable_rows]}"; exit 1
  fi
  [ "$ENRICH" = 1 ] && M[enrich_filled]=$(cat "$W/enrich_durable.filled")
fi

# ---------------------------------------------------------------------------
# d, e. The peers on the small capture, and the loader on the same.
# ---------------------------------------------------------------------------
# reference NAME CAPTURE: the loader's end-to-end load of CAPTURE, RUNS
# times; its rows stay in bench_rows_NAME to check the peers' rows against
reference() {
  local name=$1 capture=$2
  say "the loader on $(basename "$capture"), $RUNS runs"
  cat "$capture" >/dev/null
  for ((i = 0; i < RUNS; i++)); do
    reset_tables
    timed "ref_$name" "$LOADER" -q --no-progress -d "$PGDATABASE" "$capture"
  done
  M[ref_${name}_wall]=$(wall "ref_$name")
  M[ref_${name}_rows]=$(q "SELECT count(*) FROM spamhints.smtp_sample")
  q "CREATE TABLE bench_rows_$name AS SELECT frame, agent, src_ip, dst_ip, src_port, dst_port FROM spamhints.smtp_sample" >/dev/null
}
has_part tshark || has_part sfacctd && reference small "$SMALL"

if has_part tshark; then
  say "d. tshark | awk | psql on the 1/$PEER_DIV capture, $TSHARK_RUNS runs"
  for ((i = 0; i < TSHARK_RUNS; i++)); do
    reset_tables
    timed tshark bash bench/tshark-pipeline.sh "$SMALL" 0
  done
  M[tshark_wall]=$(wall tshark)
  M[tshark_cpu]=$(cpu tshark)
  M[tshark_rss]=$(maxrss_mib tshark)
  M[tshark_rows]=$(q "SELECT count(*) FROM spamhints.smtp_sample WHERE load_id = 0")
  M[tshark_right]=$(q "SELECT count(*) FROM spamhints.smtp_sample s JOIN bench_rows_small r USING (frame, src_ip, dst_ip, src_port, dst_port) WHERE s.load_id = 0")
fi

if has_part sfacctd; then
  # sfacctd_conf CAPTURE: one row per sampled SMTP packet, keys down to the
  # datagram (agent, sequence number, arrival time) and the packet
  sfacctd_conf() {
    cat >"$W/sfacctd.conf" <<CONF
daemonize: false
logfile: $W/sfacctd-daemon.log
pcap_savefile: $1
plugins: pgsql[smtp]
aggregate[smtp]: peer_src_ip, export_proto_seqno, export_proto_sysid, timestamp_arrival, src_mac, dst_mac, vlan, src_host, dst_host, src_port, dst_port, proto, tcpflags, sampling_rate, in_iface, out_iface, src_as, dst_as
aggregate_filter[smtp]: tcp port 25 or (vlan and tcp port 25)
plugin_buffer_size[smtp]: 1048576
plugin_pipe_size[smtp]: 104857600
sql_host[smtp]: $PGHOST
sql_port[smtp]: $PGPORT
sql_user[smtp]: $PGUSER
sql_db[smtp]: $PGDATABASE
sql_table[smtp]: acct_sfacctd
sql_optimize_clauses[smtp]: true
sql_dont_try_update[smtp]: true
sql_use_copy[smtp]: true
sql_refresh_time[smtp]: 60
sql_cache_entries[smtp]: 524287
CONF
  }
  say "e. sfacctd with its PostgreSQL plugin on the 1/$PEER_DIV capture"
  SF_REF=small SF_CAPTURE=$SMALL
  sfacctd_conf "$SMALL"
  reset_tables
  set +e
  sfacctd -f "$W/sfacctd.conf" >"$W/sfacctd-first.log" 2>&1
  rc=$?
  set -e
  M[sfacctd_first_rc]=$rc
  if [ $rc -ne 0 ]; then
    # sfacctd 1.7.7 dies on some malformed datagrams (SIGSEGV: 139); measure
    # it on the same capture generated without malformed datagrams instead
    say "sfacctd exited with status $rc on the capture; using one without malformed datagrams (--malformed 0)"
    SF_REF=clean SF_CAPTURE=$W/clean.pcap
    gen $((SMTP / PEER_DIV)) $((OTHER / PEER_DIV)) "$SF_CAPTURE" --malformed 0
    reference clean "$SF_CAPTURE"
    sfacctd_conf "$SF_CAPTURE"
  fi
  say "e. sfacctd, $RUNS runs"
  for ((i = 0; i < RUNS; i++)); do
    reset_tables
    timed sfacctd sfacctd -f "$W/sfacctd.conf"
  done
  M[sfacctd_wall]=$(wall sfacctd)
  M[sfacctd_cpu]=$(cpu sfacctd)
  M[sfacctd_rss]=$(maxrss_mib sfacctd)
  M[sfacctd_rows]=$(q "SELECT count(*) FROM acct_sfacctd")
  M[sfacctd_right]=$(q "SELECT count(*) FROM acct_sfacctd a WHERE EXISTS (SELECT 1 FROM bench_rows_$SF_REF r WHERE r.agent = a.peer_ip_src AND r.src_ip = a.ip_src AND r.dst_ip = a.ip_dst AND r.src_port = a.port_src AND r.dst_port = a.port_dst)")
  # rows whose time is the capture's (2024-03-01, 25 hours), not the replay's clock
  M[sfacctd_capture_ts]=$(q "SELECT count(*) FROM acct_sfacctd WHERE timestamp_arrival >= '2024-03-01' AND timestamp_arrival < '2024-03-02 02:00'")
fi

# ---------------------------------------------------------------------------
# f. Peak RSS at two input sizes.
# ---------------------------------------------------------------------------
if has_part rss; then
  for n in $RSS_SIZES; do
    say "f. peak RSS: a capture of $n SMTP and $n other samples, loaded end to end"
    gen "$n" "$n" "$W/rss.pcap" --seed 2
    M[rss_${n}_bytes]=$(stat -c %s "$W/rss.pcap")
    reset_tables
    timed "rss_$n" "$LOADER" -q --no-progress -d "$PGDATABASE" "$W/rss.pcap"
    M[rss_${n}_mib]=$(maxrss_mib "rss_$n")
    M[rss_${n}_wall]=$(wall "rss_$n")
    M[rss_${n}_rows]=$(q "SELECT smtp_rows FROM spamhints.load WHERE load_id <> 0")
    timed "rssdecode_$n" "$LOADER" --dry-run -q --no-progress "$W/rss.pcap"
    M[rssdecode_${n}_mib]=$(maxrss_mib "rssdecode_$n")
    rm -f "$W/rss.pcap"
    reset_tables
  done
fi
UPTIME_END=$(uptime)
pg_stop

# ---------------------------------------------------------------------------
# g. The slide queries (their own clusters).
# ---------------------------------------------------------------------------
if has_part analytics; then
  say "g. analytics on SQL-generated rows"
  ANALYTICS_OUT=bench/out/analytics-sql bash bench/analytics.sh >"$W/analytics-sql.txt"
  say "g. analytics on the generated capture, loaded by spamhints-load"
  if [ "$ENRICH" = 1 ]; then
    CAPTURE=$MAIN LOADER_ARGS="${ENRICH_ARGS[*]}" ANALYTICS_OUT=bench/out/analytics-capture bash bench/analytics.sh >"$W/analytics-capture.txt"
  else
    CAPTURE=$MAIN ANALYTICS_OUT=bench/out/analytics-capture bash bench/analytics.sh >"$W/analytics-capture.txt"
  fi
fi

if has_part agents; then
  say "h. made-up agents (bench/agents.sh)"
  LOADER=$LOADER RUNS=$RUNS bash bench/agents.sh >"$W/agents.txt"
fi

if has_part collector; then
  say "i. the live collector against sfcapd and sfacctd (bench/collector.sh)"
  if [ "$SCALE" = quick ]; then
    LOADER=$LOADER STEP_SECONDS=1 BISECT=1 DELAYS=3 bash bench/collector.sh >"$W/collector.txt"
  else
    LOADER=$LOADER bash bench/collector.sh >"$W/collector.txt"
  fi
fi

if has_part score; then
  say "j. bounds' coverage and sender_score (bench/score.sh)"
  LOADER=$LOADER bash bench/score.sh >"$W/score.txt"
fi

if has_part months; then
  say "k. a month of daily loads into the day partitions (bench/months.sh)"
  months_scale=()
  [ "$SCALE" = quick ] && months_scale=(DAYS=8 PER_DAY=20000)
  env "${months_scale[@]}" LOADER=$LOADER RUNS=$RUNS bash bench/months.sh >"$W/months.txt"
fi

if has_part once; then
  say "l. the exactly-once check of sFlow datagrams (bench/exactly_once.sh)"
  once_scale=()
  [ "$SCALE" = quick ] && once_scale=(SMTP=20000 PRIOR=2)
  env "${once_scale[@]}" LOADER=$LOADER RUNS=$RUNS bash bench/exactly_once.sh >"$W/once.txt"
fi

if has_part shards; then
  say "m. the census and AS top 30 across 2 shards against one node (bench/shards.sh)"
  shards_scale=()
  [ "$SCALE" = quick ] && shards_scale=(ROWS=50000)
  env "${shards_scale[@]}" RUNS=$RUNS bash bench/shards.sh >"$W/shards.txt"
fi

# ---------------------------------------------------------------------------
# The table.
# ---------------------------------------------------------------------------
v() { echo "${M[$1]:-}"; }
fmt() { awk -v x="$1" 'BEGIN { if (x == "" || x == "nan") print "-"; else if (x >= 1e6) printf "%.2f M", x / 1e6; else if (x >= 1e4) printf "%.0f k", x / 1e3; else if (x >= 100) printf "%.0f", x; else printf "%.3g", x }'; }
ok() { awk -v x="$1" -v op="$2" -v t="$3" 'BEGIN { if (x == "" || x == "nan") print "-"; else if ((op == "<=" && x <= t) || (op == ">=" && x >= t) || (op == "<" && x < t)) print "yes"; else print "NO" }'; }
x2() { awk -v x="$1" 'BEGIN { if (x == "" || x == "nan") print "-"; else printf "%.2fx", x }'; }

table() {
  printf '%-58s %-40s %-30s %-14s %s\n' "figure" "measured" "ratio" "target" "met"
  printf '%-58s %-40s %-30s %-14s %s\n' "$@"
}
{
  rows=()
  add() { rows+=("$@"); }
  if has_part decode; then
    r_cpu=$(div "$(v decode_samples)" "$(v decode_cpu)")
    r_wall=$(div "$(v decode_samples)" "$(v decode_wall)")
    add "a. decode only (--dry-run), flow samples per CPU-s" "$(fmt "$r_cpu")/s ($(v decode_cpu) s user+sys)" "" ">= 10 M/s" "$(ok "$r_cpu" ">=" 1e7)"
    add "a. decode only, flow samples per wall s" "$(fmt "$r_wall")/s ($(v decode_wall) s)" "" "" ""
  fi
  if has_part load; then
    for mode in durable fast; do
      lw=$(v load_${mode}_wall) cw=$(v ceiling_${mode}_wall) bw=$(v bare_${mode}_wall) n=$(v load_${mode}_rows)
      rl=$(div "$lw" "$cw")
      add "b. end-to-end load, $mode: rows/s" "$(fmt "$(div "$n" "$lw")")/s ($lw s, cpu $(v load_${mode}_cpu) s)" "$(x2 "$rl") the ceiling's time" "<= 1.3x" "$(ok "$rl" "<=" 1.3)"
      if [ $mode = durable ]; then
        if [ "$ENRICH" = 1 ]; then
          ew=$(v enrich_durable_wall); re=$(div "$ew" "$lw")
          add "b. end-to-end load with --asn-db/--country-db" "$(fmt "$(div "$n" "$ew")")/s ($ew s, $(v enrich_filled)% rows with src_asn)" "$(x2 "$re") the plain load's time" "<= 1.1x" "$(ok "$re" "<=" 1.1)"
        else
          add "b. end-to-end load with enrichment" "not available: spamhints-load --help has no --asn-db" "" "<= 1.1x" "-"
        fi
      fi
      add "c. ceiling, $mode: server COPY binary, same table" "$(fmt "$(div "$n" "$cw")")/s ($cw s)" "" "" ""
      add "c. bare table (no CHECK, no index), $mode" "$(fmt "$(div "$n" "$bw")")/s ($bw s)" "ceiling $(x2 "$(div "$cw" "$bw")") bare's time" "" ""
      if [ $mode = durable ]; then
        pw=$(v client_durable_wall)
        add "c. psql \\copy of the file (client side), same table" "$(fmt "$(div "$n" "$pw")")/s ($pw s)" "$(x2 "$(div "$pw" "$cw")") the ceiling's time" "" ""
      fi
    done
  fi
  if has_part tshark || has_part sfacctd; then
    sw=$(v ref_small_wall) sn=$(v ref_small_rows)
    srate=$(div "$sn" "$sw")
    add "loader on the 1/$PEER_DIV capture (reference for d, e)" "$(fmt "$srate")/s ($sw s, $sn rows)" "" "" ""
  fi
  if has_part tshark; then
    tw=$(v tshark_wall) tn=$(v tshark_rows)
    trate=$(div "$tn" "$tw")
    rt=$(div "$srate" "$trate")
    add "d. tshark | awk | psql \\copy, 1/$PEER_DIV capture" "$(fmt "$trate")/s ($tw s, $tn rows, $(v tshark_right) right; cpu $(v tshark_cpu) s, $(v tshark_rss) MiB)" "loader $(x2 "$rt") (rows/s), $(x2 "$(div "$tw" "$sw")") (time)" ">= 30x" "$(ok "$rt" ">=" 30)"
  fi
  if has_part sfacctd; then
    if [ "$SF_REF" = clean ]; then
      sw=$(v ref_clean_wall) sn=$(v ref_clean_rows)
      srate=$(div "$sn" "$sw")
      add "e. sfacctd on the 1/$PEER_DIV capture" "crashed: exit status $(v sfacctd_first_rc) (139: SIGSEGV)" "" "" ""
      add "loader on it without malformed datagrams (ref. for e)" "$(fmt "$srate")/s ($sw s, $sn rows)" "" "" ""
    fi
    fw=$(v sfacctd_wall) fn=$(v sfacctd_rows)
    fw2=$(awk -v w="$fw" 'BEGIN { print w - 2 }')    # its fixed 2 s sleep before reading a savefile
    frate=$(div "$fn" "$fw2")
    rf=$(div "$srate" "$frate")
    label="1/$PEER_DIV capture"
    [ "$SF_REF" = clean ] && label="$label, no malformed"
    add "e. sfacctd + pgsql plugin (COPY), $label" "$(fmt "$frate")/s ($fw2 s + 2 s sleep, $fn rows, $(v sfacctd_right) right)" "loader $(x2 "$rf") (rows/s), $(x2 "$(div "$fw2" "$sw")") (time)" ">= 5x" "$(ok "$rf" ">=" 5)"
    add "e. sfacctd rows stamped with the capture's time" "$(v sfacctd_capture_ts) of $fn (timestamp_arrival)" "" "" ""
    add "e. sfacctd CPU (user+sys, all processes), peak RSS" "$(v sfacctd_cpu) s, $(v sfacctd_rss) MiB" "" "" ""
  fi
  if has_part rss; then
    set -- $RSS_SIZES
    a=$(v rss_${1}_mib) b=$(v rss_${2}_mib)
    for n in "$@"; do
      add "f. peak RSS, $n SMTP samples, end to end" "$(v rss_${n}_mib) MiB ($(fmt "$(div "$(v rss_${n}_rows)" "$(v rss_${n}_wall)")")/s, $(v rss_${n}_wall) s)" "" "< 64 MiB" "$(ok "$(v rss_${n}_mib)" "<" 64)"
      add "f. peak RSS, $n SMTP samples, --dry-run" "$(v rssdecode_${n}_mib) MiB" "" "" ""
    done
    rr=$(div "$b" "$a")
    add "f. RSS at $2 / at $1 SMTP samples" "$(x2 "$rr")" "" "same (<= 1.1x)" "$(ok "$rr" "<=" 1.1)"
  fi
  if has_part analytics; then
    for src in sql capture; do
      while read -r name plain ext speedup _ _ same _; do
        add "g. $name ($src rows): extension vs plain SQL" "$ext ms vs $plain ms" "speedup $speedup" "" "answers equal: $same"
      done < <(awk 'NR > 1 && $1 !~ /^samples:/' "$W/analytics-$src.txt")
    done
  fi
  table "${rows[@]}"
} >"$W/table.txt"

{
  echo "# make bench, $STAMP UTC"
  echo
  echo "- machine: $(nproc) CPUs ($(lscpu | sed -n 's/^Model name: *//p')), $(free -g | awk '/^Mem:/ { print $2 }') GB RAM, $(uname -r)"
  echo "- load at start: $UPTIME_START"
  echo "- load at end:   $UPTIME_END"
  echo "- PostgreSQL: $(pg_config --version), loader: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- loader || echo '+changes')"
  echo "- capture: spamhints-gen $GEN_ARGS --smtp $SMTP --other $OTHER: $(v main_bytes) bytes, $(v main_datagrams) datagrams, $(v main_flow_samples) flow samples; peers: 1/$PEER_DIV of it ($(v small_flow_samples) flow samples, $(v small_bytes) bytes)"
  echo "- COPY file: $(v copy_bytes) bytes; times are medians of $RUNS runs (tshark: $TSHARK_RUNS), inputs in the page cache"
  echo "- durable settings: $(echo "$DURABLE_CONF" | paste -sd, | sed 's/,/, /g'); fast: fsync, full_page_writes, synchronous_commit off"
  echo
  echo '```'
  cat "$W/table.txt"
  echo '```'
  if has_part analytics; then
    for src in sql capture; do
      echo; echo "analytics on $src rows (bench/analytics.sh):"; echo '```'; cat "$W/analytics-$src.txt"; echo '```'
    done
  fi
  if has_part agents; then
    echo; echo "datagrams claiming new agents, against one agent (bench/agents.sh):"; echo '```'; cat "$W/agents.txt"; echo '```'
  fi
  if has_part collector; then
    echo; echo "the live collector over loopback (bench/collector.sh):"; echo; sed -n '3,$p' "$W/collector.txt"
  fi
  if has_part score; then
    echo; echo "the 95% bounds' coverage and sender_score's detection (bench/score.sh):"; echo '```'; cat "$W/score.txt"; echo '```'
  fi
  if has_part months; then
    echo; echo "a month of daily loads, partitioned by day, against the COPY ceiling and 0.1's table (bench/months.sh):"; echo '```'; cat "$W/months.txt"; echo '```'
  fi
  if [ -s "$W/once.txt" ]; then
    echo; echo "the exactly-once check of sFlow datagrams, ratios against a load with nothing to ask (bench/exactly_once.sh):"; echo '```'; cat "$W/once.txt"; echo '```'
  fi
  if has_part shards; then
    echo; echo "the census and AS top 30 across 2 shards against one node (bench/shards.sh):"; echo '```'; cat "$W/shards.txt"; echo '```'
  fi
} >"$REPORT"
cat "$REPORT"
say "kept in $REPORT"
