#!/usr/bin/env bash
# bench/collector.sh: the live collector's throughput against sfacctd and
# sfcapd (issue 13, item 5). bench/replay.c sends the sFlow datagrams of a
# generated capture over loopback (sendmmsg, a token bucket at a given
# rate, the capture looped with its sequence numbers and uptimes renumbered
# per loop so that no datagram repeats one before it); for each receiver a
# short search over rates finds the highest one it sustains with
#
#   - no drop at its socket (the drops column of /proc/net/udp for its port;
#     for spamhints also its own SO_RXQ_OVFL count, spamhints.load.kernel_dropped),
#   - everything sent received and kept: spamhints: every datagram in
#     spamhints.load (received = frames = sent) and loops x the rows of
#     loading the capture as a file; sfcapd: loops x the flows it records
#     for one pass (nfdump -I over its files); sfacctd: loops x the SMTP
#     samples its PostgreSQL plugin writes for one pass (sum of packets),
#
# each step a fresh receiver, STEP_SECONDS of datagrams, then the time it
# needs to drain (bounded). Receivers:
#
#   spool      spamhints-load --listen with its database unreachable: receive
#              and spool only (each rotation's load fails at once and the file
#              is kept), the process pinned to one CPU (RECV_CPU); what it
#              received and the kernel dropped from its per-file lines
#   spamhints  spamhints-load --listen --rotate ROTATE into a throwaway cluster
#   sfcapd     nfdump's sfcapd writing its own files (-t 60)
#   sfacctd    pmacct's sfacctd with its pgsql plugin (sql_use_copy), one row
#              per sampled SMTP packet as in make bench's part e
#
# Each step also counts the receiver's CPU time (user + system, /proc/PID/stat;
# sfacctd: core and plugin), which on a shared machine says more than the
# drop-free rate: datagrams per CPU-second. Every receiver gets the same socket buffer (RCVBUF, 4 MiB: net.core.rmem_max
# here); the sender runs pinned to SEND_CPU. Then the end-to-end delay: with
# --rotate DELAY_ROTATE, DELAYS single datagrams at random moments, each from
# its send to its rows visible in spamhints.smtp_sample (psql polling every
# 10 ms). Prints the table with the ratios spamhints/sfacctd and
# spamhints/sfcapd and the issue's targets; keeps it in bench/out/collector-DATE.md.
#
#   bash bench/collector.sh
#   RECEIVERS="spool spamhints" STEP_SECONDS=5 bash bench/collector.sh
#   START_RATE=20000 MAX_RATE=1000000 BISECT=4 DELAYS=9 bash bench/collector.sh
#
# Needs root (packages, PostgreSQL as postgres). Only loopback is used.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
LOADER=${LOADER:-$ROOT/loader/spamhints-load}
RECEIVERS=${RECEIVERS:-spool spamhints sfcapd sfacctd}
STEP_SECONDS=${STEP_SECONDS:-3}
START_RATE=${START_RATE:-10000}
MAX_RATE=${MAX_RATE:-2000000}
BISECT=${BISECT:-3}
RCVBUF=${RCVBUF:-4194304}
ROTATE=${ROTATE:-1}
DELAY_ROTATE=${DELAY_ROTATE:-0.2}
DELAYS=${DELAYS:-7}
RECV_CPU=${RECV_CPU:-0}
SEND_CPU=${SEND_CPU:-}
DRAIN_MAX=${DRAIN_MAX:-60}
PORT=${PORT:-46343}
BASE_RATE=${BASE_RATE:-2000}
say() { echo "collector: $*" >&2; }
has() { [[ " $RECEIVERS " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------
# Packages, build, cluster.
# ---------------------------------------------------------------------------
need=()
has sfacctd && ! command -v sfacctd >/dev/null && need+=(pmacct)
has sfcapd && ! command -v sfcapd >/dev/null && need+=(nfdump-sflow)
has sfcapd && ! command -v nfdump >/dev/null && need+=(nfdump)
command -v taskset >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { say "missing Debian packages: ${need[*]} (run as root or install them)"; exit 1; }
  say "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[ -x "$LOADER" ] && [ -x tests/gen/spamhints-gen ] || make -s all
W=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/spamhints-collector.XXXXXX")
chmod 755 "$W"
cc -std=c99 -O2 -Wall -Wextra -Werror -Wshadow -o "$W/replay" bench/replay.c -lpcap
REPLAY=$W/replay
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  pg_stop
  if [ "${KEEP:-0}" = 1 ]; then say "kept $W"; else rm -rf "$W"; fi
}
# shellcheck source=../tests/lib/pgcluster.sh
source tests/lib/pgcluster.sh
# durable, as a collector runs: the spool files and the loads reach the disk
PG_EXTRA_CONF="fsync = on
full_page_writes = on
synchronous_commit = on
jit = off" pg_start
trap cleanup EXIT
q() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -A -t -v ON_ERROR_STOP=1 -d "${2:-$PGDATABASE}" -c "$1"; }
createdb spamhints_live && q 'CREATE EXTENSION spamhints' spamhints_live
createdb spamhints_file && q 'CREATE EXTENSION spamhints' spamhints_file
createdb acct && q "CREATE TABLE acct_sfacctd (
  peer_ip_src inet NOT NULL, export_proto_seqno bigint NOT NULL, export_proto_sysid bigint NOT NULL,
  timestamp_arrival timestamp NOT NULL, timestamp_arrival_residual integer NOT NULL,
  mac_src macaddr NOT NULL, mac_dst macaddr NOT NULL, vlan integer NOT NULL,
  ip_src inet NOT NULL, ip_dst inet NOT NULL, port_src integer NOT NULL, port_dst integer NOT NULL,
  ip_proto smallint NOT NULL, tcp_flags smallint NOT NULL, sampling_rate bigint NOT NULL,
  iface_in bigint NOT NULL, iface_out bigint NOT NULL, as_src bigint NOT NULL, as_dst bigint NOT NULL,
  packets integer NOT NULL, bytes bigint NOT NULL, stamp_inserted timestamp, stamp_updated timestamp)" acct
chmod 1777 "$W"    # sfacctd's and sfcapd's files, the postgres user's reads

# ---------------------------------------------------------------------------
# The capture: about 5,000 datagrams (SMTP a tenth of the samples), no
# malformed datagram (sfacctd 1.7.7 dies on some); CAPTURE= to give another.
# ---------------------------------------------------------------------------
if [ -n "${CAPTURE:-}" ]; then
  cp "$CAPTURE" "$W/c.pcap"
else
  tests/gen/spamhints-gen --seed 7 --smtp 2700 --other 24300 --malformed 0 --start 1709251200 \
    -o "$W/c.pcap" -t "$W/c.truth" >/dev/null
fi
"$LOADER" -q --no-progress -d spamhints_file "$W/c.pcap"
FILE_ROWS=$(q 'SELECT count(*) FROM spamhints.smtp_sample' spamhints_file)
FILE_DGRAMS=$(q "SELECT datagrams + malformed FROM spamhints.load" spamhints_file)
# the capture's datagrams as replay takes them (sent once to the discard port, nothing there)
pass=$("$REPLAY" "$W/c.pcap" 127.0.0.1 9)
D=$(sed -n 's/.* datagrams=\([0-9]*\).*/\1/p' <<<"$pass")
DBYTES=$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' <<<"$pass")
say "capture: $D datagrams ($DBYTES bytes of sFlow), $FILE_ROWS SMTP rows loaded as a file"
[ "$D" = "$FILE_DGRAMS" ] || { say "replay finds $D datagrams, the loader $FILE_DGRAMS"; exit 1; }

# ---------------------------------------------------------------------------
# Sockets.
# ---------------------------------------------------------------------------
hexport=$(printf '%04X' "$PORT")
# udp_field COLUMN: the sum over the sockets bound to PORT (13: drops; 5: tx:rx queue, rx part)
udp_drops() { cat /proc/net/udp /proc/net/udp6 2>/dev/null | awk -v p=":$hexport" 'index($2, p) == length($2) - 4 { d += $13 } END { print d + 0 }'; }
udp_rxq() {
  local r=0 q
  for q in $(cat /proc/net/udp /proc/net/udp6 2>/dev/null | awk -v p=":$hexport" 'index($2, p) == length($2) - 4 { split($5, a, ":"); print a[2] }'); do
    r=$((r + 16#$q))
  done
  echo $r
}
udp_bound() { cat /proc/net/udp /proc/net/udp6 2>/dev/null | awk -v p=":$hexport" 'index($2, p) == length($2) - 4 { n++ } END { print n + 0 }'; }
wait_bound() { for _ in $(seq 100); do [ "$(udp_bound)" -gt 0 ] && return 0; sleep 0.05; done; say "nothing bound to port $PORT"; return 1; }
# wait_ready FILE PATTERN: the receiver says it is ready (sfacctd binds its socket 1-2 s before
# it reads it, its plugin starting meanwhile)
wait_ready() { for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; say "not ready: no \"$2\" in $1"; return 1; }
wait_unbound() { for _ in $(seq 200); do [ "$(udp_bound)" -eq 0 ] && return 0; sleep 0.05; done; return 1; }
# wait_drained: the socket queue empty twice in a row
wait_drained() { local e=0; for _ in $(seq $((DRAIN_MAX * 10))); do if [ "$(udp_rxq)" -eq 0 ]; then e=$((e + 1)); [ $e -ge 2 ] && return 0; else e=0; fi; sleep 0.1; done; return 1; }
# stop_pid PID: SIGTERM, wait; its exit status in RC
# pin CPU CMD...: CMD on that CPU, or anywhere when CPU is empty; exec'd, so that
# "pin ... &" gives the command's own pid in $! (a subshell otherwise)
pin() { local c=$1; shift; if [ -n "$c" ]; then exec taskset -c "$c" "$@"; else exec "$@"; fi; }
stop_pid() { kill -TERM "$1" 2>/dev/null || true; RC=0; wait "$1" 2>/dev/null || RC=$?; }
# cpu_s PID...: user + system seconds so far of the processes (every thread, and the children
# each has reaped)
cpu_s() {
  local p t=0
  for p in "$@"; do
    t=$(awk -v t="$t" -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); t += ($12 + $13 + $14 + $15) / hz } END { printf "%.2f\n", t }' "/proc/$p/stat" 2>/dev/null || echo "$t")
  done
  echo "$t"
}
# since BEFORE AFTER: the CPU seconds between (what the step cost, not the start)
since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", b - a }'; }
# per_cpu N SECONDS: N per CPU-second
per_cpu() { awk -v n="$1" -v c="$2" 'BEGIN { print (c > 0 ? int(n / c) : 0) }'; }
kv() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

# send RATE: replay about STEP_SECONDS of datagrams at RATE, whole passes; sets SENT, ACHIEVED, LOOPS
send() {
  LOOPS=${FORCE_LOOPS:-$(awk -v r="$1" -v s="$STEP_SECONDS" -v d="$D" 'BEGIN { l = int(r * s / d + 0.999); print l < 1 ? 1 : l }')}
  local out
  out=$(pin "$SEND_CPU" "$REPLAY" "$W/c.pcap" 127.0.0.1 "$PORT" --rate "$1" --loops "$LOOPS" --renumber)
  SENT=$(kv sent "$out") ACHIEVED=$(kv rate "$out")
}

# ---------------------------------------------------------------------------
# One step per receiver: start it fresh, send at RATE, drain, count, stop.
# Each sets PASS (1/0) and NOTE (what was counted).
# ---------------------------------------------------------------------------
step_spool() {
  rm -rf "$W/spool"
  (pin "$RECV_CPU" "$LOADER" -d "host=$W/nowhere dbname=none connect_timeout=1" --listen 127.0.0.1:$PORT \
    --spool "$W/spool" --rotate "$ROTATE" --rcvbuf "$RCVBUF" >"$W/spool.out" 2>"$W/spool.err") &
  local pid=$!; pids+=("$pid")
  wait_bound; CPU0=$(cpu_s "$pid"); send "$1"; wait_drained || true
  local pdrops; pdrops=$(udp_drops)
  CPU=$(since "$CPU0" "$(cpu_s "$pid")")
  stop_pid "$pid"
  local recv kd
  recv=$(sed -n 's/.*: \([0-9]*\) datagrams received.*/\1/p' "$W/spool.out" | awk '{ s += $1 } END { print s + 0 }')
  kd=$(sed -n 's/.*, \([0-9]*\) dropped by the kernel.*/\1/p' "$W/spool.out" | awk '{ s += $1 } END { print s + 0 }')
  SPOOL_BYTES=$(du -sb "$W/spool" | cut -f1)
  CPURATE=$(per_cpu "$recv" "$CPU")
  NOTE="received $recv, kernel drops $kd (/proc $pdrops), spool $SPOOL_BYTES bytes, collector CPU $CPU s"
  PASS=$([ "$recv" = "$SENT" ] && [ "$kd" = 0 ] && [ "$pdrops" = 0 ] && echo 1 || echo 0)
  rm -rf "$W/spool"
}

step_spamhints() {
  rm -rf "$W/spool"
  q 'TRUNCATE spamhints.load, spamhints.load_agent CASCADE' spamhints_live >/dev/null
  "$LOADER" -d spamhints_live --listen 127.0.0.1:$PORT --spool "$W/spool" --rotate "$ROTATE" --rcvbuf "$RCVBUF" \
    >"$W/live.out" 2>"$W/live.err" &
  local pid=$!; pids+=("$pid")
  wait_bound; CPU0=$(cpu_s "$pid"); send "$1"; wait_drained || true
  local pdrops; pdrops=$(udp_drops)
  # every datagram accounted for in a committed load (received or dropped), or no progress for 5 s
  local last=-1 same=0 got
  for _ in $(seq $((DRAIN_MAX * 5))); do
    got=$(q 'SELECT coalesce(sum(received), 0) + coalesce(sum(kernel_dropped), 0) FROM spamhints.load' spamhints_live)
    [ "$got" -ge "$SENT" ] && break
    if [ "$got" = "$last" ]; then same=$((same + 1)); [ $same -ge 25 ] && break; else same=0; last=$got; fi
    sleep 0.2
  done
  CPU=$(since "$CPU0" "$(cpu_s "$pid")")
  stop_pid "$pid"
  local recv frames kd rows
  IFS='|' read -r recv frames kd rows <<<"$(q 'SELECT coalesce(sum(received), 0), coalesce(sum(frames), 0), coalesce(sum(kernel_dropped), 0), (SELECT count(*) FROM spamhints.smtp_sample) FROM spamhints.load' spamhints_live)"
  local want=$((LOOPS * FILE_ROWS))
  CPURATE=$(per_cpu "$recv" "$CPU")
  NOTE="received $recv, loaded $frames, kernel drops $kd (/proc $pdrops), rows $rows of $want, exit $RC, collector CPU $CPU s"
  PASS=$([ "$recv" = "$SENT" ] && [ "$frames" = "$SENT" ] && [ "$kd" = 0 ] && [ "$pdrops" = 0 ] && [ "$rows" = "$want" ] && echo 1 || echo 0)
  rm -rf "$W/spool"
}

SFCAPD_PASS_FLOWS=
step_sfcapd() {
  rm -rf "$W/nf"; mkdir -p "$W/nf"
  sfcapd -b 127.0.0.1 -p "$PORT" -w "$W/nf" -t 60 -B "$RCVBUF" >"$W/sfcapd.out" 2>&1 &
  local pid=$!; pids+=("$pid")
  wait_bound; wait_ready "$W/sfcapd.out" "Startup sfcapd"; CPU0=$(cpu_s "$pid"); send "$1"; wait_drained || true
  local pdrops; pdrops=$(udp_drops)
  CPU=$(since "$CPU0" "$(cpu_s "$pid")")
  stop_pid "$pid"
  local flows; flows=$(nfdump -R "$W/nf" -I 2>/dev/null | awk '$1 == "Flows:" { s += $2 } END { print s + 0 }')
  if [ -z "$SFCAPD_PASS_FLOWS" ]; then
    SFCAPD_PASS_FLOWS=$((flows / LOOPS))    # the baseline step, one pass slowly, sets what a pass gives
    say "sfcapd: one pass of the capture gives $SFCAPD_PASS_FLOWS flow records"
  fi
  local want=$((LOOPS * SFCAPD_PASS_FLOWS))
  CPURATE=$(per_cpu "$((SENT - pdrops))" "$CPU")
  NOTE="flows $flows of $want, /proc drops $pdrops, sfcapd CPU $CPU s"
  PASS=$([ "$flows" = "$want" ] && [ "$pdrops" = 0 ] && echo 1 || echo 0)
}

SFACCTD_PASS_SAMPLES=
step_sfacctd() {
  q 'TRUNCATE acct_sfacctd' acct
  cat >"$W/sfacctd.conf" <<CONF
daemonize: false
logfile: $W/sfacctd.log
sfacctd_ip: 127.0.0.1
sfacctd_port: $PORT
sfacctd_pipe_size: $RCVBUF
plugins: pgsql[smtp]
aggregate[smtp]: peer_src_ip, export_proto_seqno, export_proto_sysid, timestamp_arrival, src_mac, dst_mac, vlan, src_host, dst_host, src_port, dst_port, proto, tcpflags, sampling_rate, in_iface, out_iface, src_as, dst_as
aggregate_filter[smtp]: tcp port 25 or (vlan and tcp port 25)
plugin_buffer_size[smtp]: 10240
plugin_pipe_size[smtp]: 104857600
sql_host[smtp]: $PGHOST
sql_port[smtp]: $PGPORT
sql_user[smtp]: $PGUSER
sql_db[smtp]: acct
sql_table[smtp]: acct_sfacctd
sql_optimize_clauses[smtp]: true
sql_dont_try_update[smtp]: true
sql_use_copy[smtp]: true
sql_refresh_time[smtp]: 1
sql_cache_entries[smtp]: 524287
CONF
  rm -f "$W/sfacctd.log"
  sfacctd -f "$W/sfacctd.conf" >"$W/sfacctd.out" 2>&1 &
  local pid=$!; pids+=("$pid")
  # datagrams in its first seconds (here, before its plugin logs "cache entries" and for a
  # second or two after) leave it writing nothing at all: 3 s more
  wait_bound; wait_ready "$W/sfacctd.log" "waiting for sFlow data"; wait_ready "$W/sfacctd.log" "cache entries="; sleep 3
  CPU0=$(cpu_s "$pid" $(pgrep -P "$pid")); send "$1"; wait_drained || true
  local pdrops; pdrops=$(udp_drops)
  local want=${SFACCTD_PASS_SAMPLES:+$((LOOPS * SFACCTD_PASS_SAMPLES))}
  # the core and its plugin (with the writers it has reaped; not the last one)
  CPU=$(since "$CPU0" "$(cpu_s "$pid" $(pgrep -P "$pid"))")
  # SIGINT: sfacctd hands its last buffer to the plugin, which writes its cache and exits
  # (its writer runs every sql_refresh_time, but leaves what is in the core's buffer)
  kill -INT "$pid" 2>/dev/null || true
  local t
  for t in $(seq $((DRAIN_MAX * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { say "sfacctd still running after $DRAIN_MAX s: killed"; pkill -KILL -P "$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null; }
  RC=0; wait "$pid" 2>/dev/null || RC=$?
  wait_unbound || true
  # its plugin (a process of its own, not waited for by the core) and the writer it forks
  # write after the core has gone: until the count is what is wanted, or holds for 2 s
  # once above 0, or 20 s
  local got last=-1 same=0
  for t in $(seq 40); do
    got=$(q 'SELECT coalesce(sum(packets), 0) FROM acct_sfacctd' acct)
    [ -n "$want" ] && [ "$got" -ge "$want" ] && break
    if [ "$got" = "$last" ] && [ "$got" -gt 0 ]; then same=$((same + 1)); [ $same -ge 4 ] && break; else same=0; fi
    last=$got; sleep 0.5
  done
  if [ -z "$want" ]; then
    SFACCTD_PASS_SAMPLES=$((got / LOOPS)); want=$got
    say "sfacctd: one pass of the capture gives $SFACCTD_PASS_SAMPLES SMTP samples in acct_sfacctd"
  fi
  CPURATE=$(per_cpu "$((SENT - pdrops))" "$CPU")
  NOTE="SMTP samples written $got of $want, /proc drops $pdrops, exit $RC, sfacctd CPU $CPU s"
  # (at least: a pass replayed twice has given a few more samples than twice one pass)
  PASS=$([ "$got" -ge "$want" ] && [ "$pdrops" = 0 ] && echo 1 || echo 0)
}

# ---------------------------------------------------------------------------
# The search: double from START_RATE until a step fails or the sender falls
# short (achieved < 90% asked), then BISECT steps between the last pass and
# the first failure (the sender is at its limit when its achieved rate grows
# by less than 10% from a step to the next). BEST: the highest achieved rate that passed.
# ---------------------------------------------------------------------------
declare -A BEST BOUND STEPS BESTCPU MAXCPU
# log_step RECEIVER RATE: the step's line; the CPU rates kept
log_step() {
  printf '%-10s asked %8s/s sent %9s at %8s/s: %s: %s\n' "$1" "$2" "$SENT" "$ACHIEVED" "$([ "$PASS" = 1 ] && echo pass || echo FAIL)" "$NOTE" | tee -a "$W/steps.txt" >&2
  if [ -n "${CPURATE:-}" ]; then
    [ "$PASS" = 1 ] && BESTCPU[$1]=$CPURATE
    [ "$CPURATE" -gt "${MAXCPU[$1]:-0}" ] && MAXCPU[$1]=$CPURATE
  fi
  CPURATE=
}
search() {
  local r=$1 rate=$START_RATE lo=0 hi=0 n=0 sender_bound=0 prev=0
  wait_unbound || true
  while :; do
    "step_$r" "$rate"; n=$((n + 1))
    log_step "$r" "$rate"
    wait_unbound || true
    if [ "$PASS" = 1 ]; then
      lo=$rate; BEST[$r]=$ACHIEVED
      if awk -v a="$ACHIEVED" -v p="$prev" 'BEGIN { exit !(a < 1.1 * p) }'; then sender_bound=1; break; fi
      prev=$ACHIEVED
      [ "$rate" -ge "$MAX_RATE" ] && break
      rate=$((rate * 2))
    else
      hi=$rate; break
    fi
  done
  if [ "$hi" -gt 0 ] && [ "$lo" -gt 0 ]; then
    for ((i = 0; i < BISECT; i++)); do
      rate=$(awk -v a="$lo" -v b="$hi" 'BEGIN { printf "%d", sqrt(a * b) }')
      "step_$r" "$rate"; n=$((n + 1))
      log_step "$r" "$rate"
      wait_unbound || true
      if [ "$PASS" = 1 ]; then lo=$rate; BEST[$r]=$ACHIEVED; else hi=$rate; fi
    done
  fi
  BEST[$r]=${BEST[$r]:-0}
  STEPS[$r]=$n
  if [ "$sender_bound" = 1 ]; then BOUND[$r]="at least: the sender's limit"
  elif [ "$hi" -gt 0 ]; then BOUND[$r]="fails at $hi/s"
  else BOUND[$r]="MAX_RATE reached"; fi
}

UPTIME_START=$(uptime)
for r in spool spamhints sfcapd sfacctd; do
  has "$r" || continue
  if [ $r = sfcapd ] || [ $r = sfacctd ]; then
    # what one pass of the capture gives it: one loop at BASE_RATE, no drop allowed
    FORCE_LOOPS=1 "step_$r" "$BASE_RATE"
    log_step "$r" "$BASE_RATE (baseline)"
    [ "$PASS" = 1 ] && [ "${SFCAPD_PASS_FLOWS:-1}" -gt 0 ] && [ "${SFACCTD_PASS_SAMPLES:-1}" -gt 0 ] \
      || { say "$r: the baseline step dropped datagrams or counted nothing (BASE_RATE lower?)"; exit 1; }
    wait_unbound || true
  fi
  say "$r: searching (steps of $STEP_SECONDS s from $START_RATE/s)"
  search "$r"
done

# ---------------------------------------------------------------------------
# The delay: one datagram at a time, from its send to its rows visible.
# ---------------------------------------------------------------------------
DELAY_LINE=
if has spamhints && [ "$DELAYS" -gt 0 ]; then
  say "delay: $DELAYS datagrams, --rotate $DELAY_ROTATE"
  # a capture of one datagram with SMTP rows: the first of c.pcap that has one
  tests/gen/spamhints-gen --seed 11 --smtp 3 --other 0 --agents 1 --malformed 0 --loss 0 -o "$W/probe.pcap" -t "$W/probe.truth" >/dev/null
  q 'TRUNCATE spamhints.load, spamhints.load_agent CASCADE' spamhints_live >/dev/null
  rm -rf "$W/spool"
  "$LOADER" -d spamhints_live --listen 127.0.0.1:$PORT --spool "$W/spool" --rotate "$DELAY_ROTATE" --rcvbuf "$RCVBUF" \
    >"$W/delay.out" 2>"$W/delay.err" &
  pid=$!; pids+=("$pid")
  wait_bound
  for ((i = 0; i < DELAYS; i++)); do
    before=$(q 'SELECT count(*) FROM spamhints.smtp_sample' spamhints_live)
    sleep "$(awk -v s=$((RANDOM)) -v r="$DELAY_ROTATE" 'BEGIN { srand(s); printf "%.3f", 0.3 + rand() * r }')"
    out=$("$REPLAY" "$W/probe.pcap" 127.0.0.1 "$PORT" --renumber --first-loop "$i")
    t0=$(kv first_send "$out")
    seen=
    for _ in $(seq 1000); do
      if [ "$(q 'SELECT count(*) FROM spamhints.smtp_sample' spamhints_live)" -gt "$before" ]; then seen=$(date +%s.%N); break; fi
      sleep 0.01
    done
    [ -n "$seen" ] && awk -v a="$t0" -v b="$seen" 'BEGIN { printf "%.3f\n", b - a }' >>"$W/delays.txt"
  done
  stop_pid "$pid"
  DELAY_N=$(wc -l <"$W/delays.txt" 2>/dev/null || echo 0)
  DELAY_MED=$(sort -g "$W/delays.txt" | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  DELAY_MAX=$(sort -g "$W/delays.txt" | tail -1)
  DELAY_LINE="$DELAY_N of $DELAYS seen: median ${DELAY_MED} s, max ${DELAY_MAX} s ($(paste -sd' ' "$W/delays.txt"))"
fi
UPTIME_END=$(uptime)

# ---------------------------------------------------------------------------
# The table.
# ---------------------------------------------------------------------------
fmt() { awk -v x="$1" 'BEGIN { if (x == "" || x == 0) print "-"; else if (x >= 1e4) printf "%.0f k", x / 1e3; else printf "%.0f", x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2fx", a / b }'; }
met() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else print (a / b >= t) ? "yes" : "NO" }'; }
bytes_per=$(awk -v b="$DBYTES" -v d="$D" 'BEGIN { printf "%.0f", b / d }')
{
  printf '%-52s %-12s %-40s %-18s %s\n' "receiver (highest drop-free rate)" "datagrams/s" "bound" "target" "met"
  for r in spool spamhints sfcapd sfacctd; do
    has "$r" || continue
    case $r in
      spool) label="spamhints --listen, receive + spool, 1 CPU"; tgt=">= 300 k/s"; m=$(met "${BEST[$r]}" 300000 1) ;;
      spamhints) label="spamhints --listen, loaded into PostgreSQL"; tgt=""; m="" ;;
      sfcapd) label="sfcapd (nfdump), its own files"; tgt=""; m="" ;;
      sfacctd) label="sfacctd, pgsql plugin (COPY)"; tgt=""; m="" ;;
    esac
    printf '%-52s %-12s %-40s %-18s %s\n' "$label" "$(fmt "${BEST[$r]}")" "${BOUND[$r]} (${STEPS[$r]} steps)" "$tgt" "$m"
  done
  if has spamhints && has sfacctd; then
    printf '%-52s %-12s %-40s %-18s %s\n' "spamhints / sfacctd" "$(ratio "${BEST[spamhints]}" "${BEST[sfacctd]}")" "" ">= 10x" "$(met "${BEST[spamhints]}" "${BEST[sfacctd]}" 10)"
  fi
  if has spamhints && has sfcapd; then
    printf '%-52s %-12s %-40s %-18s %s\n' "spamhints / sfcapd" "$(ratio "${BEST[spamhints]}" "${BEST[sfcapd]}")" "" ">= 1x" "$(met "${BEST[spamhints]}" "${BEST[sfcapd]}" 1)"
  fi
  if has spool && has sfcapd; then
    printf '%-52s %-12s %-40s %-18s %s\n' "spamhints receive + spool / sfcapd" "$(ratio "${BEST[spool]}" "${BEST[sfcapd]}")" "" "" ""
  fi
  for r in spool spamhints sfcapd sfacctd; do
    has "$r" || continue
    printf '%-52s %-12s %-40s %-18s %s\n' "$r: datagrams per CPU-second of the receiver" "$(fmt "${MAXCPU[$r]:-0}")" "most of any step; $(fmt "${BESTCPU[$r]:-0}") at the best pass" "$([ $r = spool ] && echo '>= 300 k/s')" "$([ $r = spool ] && met "${MAXCPU[$r]:-0}" 300000 1)"
  done
  if has spamhints && has sfacctd; then
    printf '%-52s %-12s %-40s %-18s %s\n' "per CPU-second, spamhints / sfacctd" "$(ratio "${MAXCPU[spamhints]:-0}" "${MAXCPU[sfacctd]:-0}")" "(sfacctd: core + plugin; spamhints: not its backend)" "" ""
  fi
  if has spool && has sfcapd; then
    printf '%-52s %-12s %-40s %-18s %s\n' "per CPU-second, receive + spool / sfcapd" "$(ratio "${MAXCPU[spool]:-0}" "${MAXCPU[sfcapd]:-0}")" "" "" ""
  fi
  [ -n "$DELAY_LINE" ] && printf '%-52s %s\n' "end-to-end delay, --rotate $DELAY_ROTATE (send to row visible)" "$DELAY_LINE"
} >"$W/table.txt"
mkdir -p bench/out
STAMP=$(date -u +%Y%m%d-%H%M%S)
REPORT=bench/out/collector-$STAMP.md
{
  echo "# bench/collector.sh, $STAMP UTC"
  echo
  echo "- machine: $(nproc) CPUs ($(lscpu | sed -n 's/^Model name: *//p')), $(free -g | awk '/^Mem:/ { print $2 }') GB RAM, $(uname -r)"
  echo "- load at start: $UPTIME_START"
  echo "- load at end:   $UPTIME_END"
  echo "- loader: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- loader || echo '+changes'); $(sfacctd -V 2>&1 | head -1); $(nfdump -V 2>&1 | head -1)"
  echo "- capture: $D datagrams of $bytes_per bytes on average ($FILE_ROWS SMTP rows as a file), looped with --renumber; steps of $STEP_SECONDS s; socket buffer $RCVBUF bytes asked by each receiver; sender on CPU ${SEND_CPU:-any}, receive + spool on CPU ${RECV_CPU:-any}; the others unpinned; PostgreSQL with fsync and synchronous_commit on; spamhints --rotate $ROTATE"
  echo
  echo '```'
  cat "$W/table.txt"
  echo '```'
  echo
  echo 'steps:'
  echo '```'
  cat "$W/steps.txt"
  echo '```'
} >"$REPORT"
cat "$REPORT"
say "kept in $REPORT"
