#!/usr/bin/env bash
# bench/profile.sh: where the loader's time goes, on the client and on the
# server. perf (linux-perf) samples CPU time (task-clock: a software event,
# reliable in a VM) with call graphs of:
#
#   1. spamhints-load --dry-run (decode only)
#   2. an end-to-end load: the loader, and its backend (attached as soon as
#      it shows in pg_stat_activity) during the COPY
#   3. the ceiling: the backend of COPY ... FROM 'file' (FORMAT binary) of
#      the same rows into an identical table
#
# and prints per-DSO and per-symbol shares of each into bench/out/profile-*.txt.
# Then sizes the content hash: decode and end-to-end times (median of 3)
# with the loader's SHA-256 as it is and stubbed out (bench/nohash.c,
# LD_PRELOAD), into bench/out/profile-whatif.txt.
#
#   bash bench/profile.sh                      a capture of 1M SMTP among 10M flow samples
#   CAPTURE=x.pcap bash bench/profile.sh       an existing capture
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if ! command -v perf >/dev/null; then
  [ "$(id -u)" -eq 0 ] || { echo "profile: perf is missing (Debian: linux-perf)" >&2; exit 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf >/dev/null
fi
make -s all spamhints.so sql
if [ -w "$(pg_config --pkglibdir)" ]; then
  install -m 644 sql/spamhints--*.sql spamhints.control "$(pg_config --sharedir)/extension/"
  install -m 755 spamhints.so "$(pg_config --pkglibdir)/"
fi
W=$(mktemp -d /tmp/spamhints-profile.XXXXXX)
chmod 755 "$W"
OUT=bench/out
mkdir -p "$OUT"
LOADER=$ROOT/loader/spamhints-load
CAPTURE=${CAPTURE:-}
if [ -z "$CAPTURE" ]; then
  CAPTURE=$W/main.pcap
  tests/gen/spamhints-gen --seed 1 --version mix --start 1709251200 --smtp 1000000 --other 9000000 -o "$CAPTURE" >/dev/null
fi
cat "$CAPTURE" >/dev/null

# shellcheck source=../tests/lib/pgcluster.sh
source tests/lib/pgcluster.sh
PG_EXTRA_CONF="fsync = on
full_page_writes = on
synchronous_commit = on
max_wal_size = 4GB
checkpoint_timeout = 30min" pg_start
trap 'pg_stop; rm -rf "$W"' EXIT
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
q 'CREATE EXTENSION spamhints'
q "INSERT INTO spamhints.load (load_id, file_name) OVERRIDING SYSTEM VALUE VALUES (0, 'profile')"
q 'CREATE TABLE bench_ceiling (LIKE spamhints.smtp_sample INCLUDING ALL)'

# report PERF.DATA NAME [perf report filters]: shares by DSO and by symbol
report() {
  local data=$1 name=$2; shift 2
  # libcrypto has no symbols here: the loader uses it only for SHA-256,
  # so its share is listed once, by DSO
  {
    perf report -i "$data" "$@" --stdio --sort dso -g none 2>/dev/null |
      awk '/^# Event count/ { printf "== %s: %.2f CPU-seconds sampled (task-clock)\n", name, $NF / 1e9 }' name="$name" || true
    echo "== $name: by DSO"
    perf report -i "$data" "$@" --no-children --sort dso --stdio -g none 2>/dev/null | grep '%' | head -12 || true
    echo "== $name: by symbol (libcrypto left out)"
    perf report -i "$data" "$@" --no-children --sort dso,symbol --stdio -g none --percent-limit 0.5 2>/dev/null |
      grep '%' | grep -v libcrypto | head -40 || true
    echo "== $name: inclusive (children), top"
    perf report -i "$data" "$@" --children --sort dso,symbol --stdio -g none --percent-limit 4 2>/dev/null |
      grep '%' | grep -v libcrypto | head -30 || true
  } >"$OUT/profile-$name.txt"
  echo "profile: $OUT/profile-$name.txt" >&2
}

# attach_backend APPNAME DATA: perf record the backend of APPNAME once it shows
attach_backend() {
  local app=$1 data=$2 pid=""
  for _ in $(seq 1 400); do
    pid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = '$app' LIMIT 1")
    [ -n "$pid" ] && break
    sleep 0.01
  done
  [ -n "$pid" ] || { echo "profile: no backend for $app" >&2; return 1; }
  perf record -e task-clock -F 2000 -g -p "$pid" -o "$data" >/dev/null 2>&1 &
  PERF_PID=$!
}

echo "profile: 1. decode only" >&2
perf record -e task-clock -F 2000 -g -o "$W/decode.perf" "$LOADER" --dry-run -q "$CAPTURE" 2>/dev/null
report "$W/decode.perf" decode

echo "profile: 2. end to end, loader and backend" >&2
q 'CHECKPOINT' >/dev/null
PGAPPNAME=spamhints-load perf record -e task-clock -F 2000 -g -o "$W/load-client.perf" \
  "$LOADER" -q --no-progress -d "$PGDATABASE" "$CAPTURE" 2>/dev/null &
LOAD_PID=$!
attach_backend spamhints-load "$W/load-server.perf"
wait $LOAD_PID
kill -INT $PERF_PID 2>/dev/null || true; wait $PERF_PID || true
report "$W/load-client.perf" load-client
report "$W/load-server.perf" load-server

echo "profile: 3. the ceiling's COPY backend" >&2
"$LOADER" -q --no-progress -o "$W/rows.copy" "$CAPTURE"
chmod 644 "$W/rows.copy"
q 'CHECKPOINT' >/dev/null
cols="load_id, frame, ts, agent, sample_seq, sampling_rate, input_if, output_if, src_mac, dst_mac, vlan, src_ip, dst_ip, src_port, dst_port, tcp_flags, ip_len, ttl, smtp, gw_src_as, gw_dst_as"
PGAPPNAME=bench-ceiling psql -X -q -v ON_ERROR_STOP=1 -c "SELECT pg_sleep(0.3)" \
  -c "COPY bench_ceiling ($cols) FROM '$W/rows.copy' (FORMAT binary)" >/dev/null &
COPY_PID=$!
attach_backend bench-ceiling "$W/ceiling.perf"
wait $COPY_PID
kill -INT $PERF_PID 2>/dev/null || true; wait $PERF_PID || true
report "$W/ceiling.perf" ceiling-server

echo "profile: 4. what the SHA-256 costs" >&2
cc -O2 -shared -fPIC -o "$W/nohash.so" bench/nohash.c
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for i in 1 2 3; do
  for variant in sha256 nohash; do
    pre=""; [ $variant = nohash ] && pre=$W/nohash.so
    LD_PRELOAD=$pre /usr/bin/time -f '%e %U %S' -a -o "$W/decode-$variant.times" "$LOADER" --dry-run -q "$CAPTURE"
    q "TRUNCATE spamhints.load, spamhints.load_agent" >/dev/null
    q "CHECKPOINT" >/dev/null
    LD_PRELOAD=$pre /usr/bin/time -f '%e %U %S' -a -o "$W/load-$variant.times" "$LOADER" -q --no-progress -d "$PGDATABASE" "$CAPTURE"
  done
  q "TRUNCATE bench_ceiling" >/dev/null
  q "INSERT INTO spamhints.load (load_id, file_name) OVERRIDING SYSTEM VALUE VALUES (0, 'profile') ON CONFLICT DO NOTHING" >/dev/null
  q "CHECKPOINT" >/dev/null
  /usr/bin/time -f '%e %U %S' -a -o "$W/ceiling.times" psql -X -q -v ON_ERROR_STOP=1 -c "BEGIN" \
    -c "COPY bench_ceiling ($cols) FROM '$W/rows.copy' (FORMAT binary)" -c "COMMIT"
done
{
  echo "== median of 3, seconds: wall, CPU (user+sys) of the loader; $(uptime)"
  for f in decode-sha256 decode-nohash load-sha256 load-nohash ceiling; do
    printf '%-16s wall %6.2f  cpu %6.2f\n' "$f" "$(awk '{ print $1 }' "$W/$f.times" | median)" "$(awk '{ print $2 + $3 }' "$W/$f.times" | median)"
  done
  echo "(ceiling: the server's COPY of the same rows from a file; its cpu is psql's, not the server's)"
} >"$OUT/profile-whatif.txt"
cat "$OUT/profile-whatif.txt" >&2
