#!/usr/bin/env bash
# tests/e2e/live.sh: spamhints-load --listen over loopback. The datagrams of
# a generated capture, replayed over UDP to the collector, give the same
# sample rows and per-agent counts as loading the capture itself; the spool
# files are captures tshark decodes (same sample counts, good checksums);
# counts add up (received = spooled + refused, + kernel drops under
# pressure); SIGTERM loads the last file and exits 0; spool files go once
# loaded, or to loaded/ with --keep (and load again as nothing new);
# --agents counts and drops other senders; a .part left by kill -9 is
# closed and loaded at the next start with nothing doubled (one that cannot
# be renamed then is left, with a warning, for the start after); a load that
# fails for the database is kept and done at a later rotation; SIGHUP
# reopens the databases; several sockets on one port double nothing.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=loader/spamhints-load
SEND="python3 tests/e2e/live_send.py"
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
db=spamhints_e2e_live
q() { PGOPTIONS='-c client_min_messages=warning' psql -X -d "${2:-$db}" -Atc "$1"; }
newdb() { dropdb --if-exists "$1" 2>/dev/null; createdb "$1" && psql -qX -d "$1" -c 'CREATE EXTENSION spamhints'; }
free_port() { python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# start DB SPOOL ARGS...: the collector in the background, its pid in $cpid
start() {
  local d=$1 sp=$2; shift 2
  local n0; n0=$(cat "$tmp/err" 2>/dev/null | grep -c "listening on")
  "$LOADER" -d "$d" --spool "$sp" "$@" >>"$tmp/out" 2>>"$tmp/err" &
  cpid=$!; pids+=("$cpid")
  for _ in $(seq 50); do [ "$(grep -c "listening on" "$tmp/err")" -gt "$n0" ] && break; sleep 0.1; done
}
# stop PID [SIGNAL]: signal the collector, wait for it; its exit status in $rc
stop() { kill -"${2:-TERM}" "$1"; wait "$1" 2>/dev/null; rc=$?; }
# wait_frames DB N: until the loads hold N frames (at most 10 s); the seconds waited
wait_frames() {
  local t0=$SECONDS
  for _ in $(seq 100); do
    [ "$(q 'SELECT coalesce(sum(frames), 0) FROM spamhints.load' "$1")" -ge "$2" ] && break
    sleep 0.1
  done
  echo $((SECONDS - t0))
}
SAMPLE_COLS="agent, sample_seq, sampling_rate, input_if, output_if, src_mac, dst_mac, vlan, src_ip, dst_ip,
             src_port, dst_port, tcp_flags, ip_len, ttl, smtp, gw_src_as, gw_dst_as"
rows() { q "SELECT md5(string_agg(r::text, E'\n' ORDER BY r::text)), count(*) FROM (SELECT $SAMPLE_COLS FROM spamhints.smtp_sample) r" "$1"; }
agents() { q "SELECT string_agg(format('%s/%s %s+%s', agent, sub_agent, datagrams, malformed), ' ' ORDER BY agent, sub_agent) FROM spamhints.$2" "$1"; }

tests/gen/spamhints-gen --seed 41 --smtp 2000 --other 1000 -o "$tmp/a.pcap" -t "$tmp/truth" >/dev/null || exit 1
newdb ${db}_ref >/dev/null && newdb $db >/dev/null || exit 1
"$LOADER" -q -d ${db}_ref "$tmp/a.pcap" || exit 1

# the command line
run() { "$LOADER" "$@" >"$tmp/o1" 2>"$tmp/e1"; echo $?; }
is "$(run --listen 1 --spool "$tmp/x" "$tmp/a.pcap")" 1 "--listen with a capture file: exit 1"
is "$(run --spool "$tmp/x" "$tmp/a.pcap")" 1 "--spool without --listen: exit 1"
grep -q 'error: --spool is for live collection' "$tmp/e1"; ok $? "says why: $(head -1 "$tmp/e1")"
is "$(run --listen 1 --spool "$tmp/x" --maillog exim)" 1 "--listen with --maillog: exit 1"
is "$(run --listen 1 --spool "$tmp/x" --filter udp)" 1 "--listen with --filter: exit 1"
is "$(run --listen 1 --spool "$tmp/x" --dry-run)" 1 "--listen with --dry-run: exit 1"
is "$(run --listen 1)" 1 "--listen without --spool: exit 1"
is "$(run --listen 1 --spool "$tmp/x" --rotate 0)" 1 "--rotate 0: exit 1"
is "$(run --listen 1 --spool "$tmp/x" --agents 10.0.0.0/33)" 1 "--agents with a bad network: exit 1"
is "$(run --listen 127.0.0.1:0 --spool "$tmp/x")" 1 "--listen with port 0: exit 1"
is "$(run --listen '[::1' --spool "$tmp/x")" 1 "--listen with a bad address: exit 1"
grep -q 'error: bad --listen' "$tmp/e1"; ok $? "says how to write it: $(head -1 "$tmp/e1" | cut -c1-90)"
is "$(run --listen 1 --help)" 0 "--listen --help: exit 0"
grep -q -- '--rotate=SECS' "$tmp/o1" && grep -q -- '--keep' "$tmp/o1"; ok $? "the collector's help documents --rotate and --keep"

# 1. two sockets on one port (SO_REUSEPORT), --keep: the replay equals the file
P=$(free_port)
sp=$tmp/spool1
start $db "$sp" --listen 127.0.0.1:$P --listen 127.0.0.1:$P --rotate 1 --keep
sent=$($SEND "$tmp/a.pcap" 127.0.0.1 $P | awk '{ s += $2 } END { print s }')
is "$sent" "$(awk '$1 == "datagrams" { print $2 }' "$tmp/truth")" "the sender replays every datagram of the capture ($sent)"
waited=$(wait_frames $db "$sent")
ok $([ "$waited" -le 5 ] && echo 0 || echo 1) "every datagram is loaded within a rotation plus the load (${waited} s, --rotate 1)"
stop $cpid; is "$rc" 0 "SIGTERM: exit 0"
grep -q 'stopped: every spool file loaded' "$tmp/err"; ok $? "and says every spool file was loaded"
is "$(q 'SELECT sum(frames), sum(datagrams), sum(malformed) FROM spamhints.load')" \
   "$sent|$(q 'SELECT datagrams, malformed FROM spamhints.load' ${db}_ref)" \
   "frames, datagrams and malformed add up to the capture's, nothing doubled by two sockets on one port"
is "$(q 'SELECT sum(received), sum(refused), sum(kernel_dropped), bool_or(recovered) FROM spamhints.load')" \
   "$sent|0|0|f" "spamhints.load: every datagram received, none refused or dropped"
is "$(q 'SELECT count(*) FROM spamhints.load WHERE collector IS NULL AND received IS NULL AND recovered IS NULL' ${db}_ref)" 1 \
   "a capture loaded as a file has no collector counts"
is "$(rows $db)" "$(rows ${db}_ref)" "the sample rows equal the capture's loaded as a file, row for row ($(rows $db | cut -d'|' -f2) rows)"
is "$(rows $db | cut -d'|' -f2)" "$(awk '$1 == "smtp_rows" { print $2 }' "$tmp/truth")" "as many as the generator's ground truth"
is "$(agents $db collector_agent)" "$(agents ${db}_ref load_agent)" "collector_agent: the same datagrams and malformed per agent as the file's load_agent"
is "$(q 'SELECT sum(lost), sum(resets) FROM spamhints.collector_agent')" "$(awk '$1 == "lost_datagrams" { print $2 }' "$tmp/truth")|0" \
   "collector_agent: lost in transit as the generator skipped sequence numbers, no restart, across files"
is "$(q 'SELECT files, received, datagrams + malformed FROM spamhints.collector_status')" \
   "$(q 'SELECT count(*) FROM spamhints.load')|$sent|$sent" "collector_status adds the files up"
is "$(ls "$sp" | grep -v '^loaded$' | wc -l)" 0 "--keep: nothing left in the spool directory"
kept=$(ls "$sp"/loaded/*.pcapng | wc -l)
is "$kept" "$(q 'SELECT count(*) FROM spamhints.load')" "--keep: each loaded file in loaded/ ($kept)"
before=$(q 'SELECT count(*) FROM spamhints.smtp_sample')
"$LOADER" -d $db "$sp"/loaded/*.pcapng >"$tmp/o1" 2>&1
ok $? "the kept files load again as captures"
is "$(grep -c 'already loaded' "$tmp/o1")" "$kept" "each one already loaded"
is "$(q 'SELECT count(*) FROM spamhints.smtp_sample')" "$before" "adding nothing"

# tshark decodes the spool files as sFlow: the same sample counts as the capture's datagrams
if command -v tshark >/dev/null; then
  for f in "$sp"/loaded/*.pcapng; do
    tshark -r "$f" -d udp.port==$P,sflow -T fields -E occurrence=f -e sflow_245.numsamples 2>/dev/null
  done | sort >"$tmp/spool_samples"
  tshark -r "$tmp/a.pcap" -Y 'udp.dstport == 6343 && frame.cap_len == frame.len' -T fields -E occurrence=f \
    -e sflow_245.numsamples 2>/dev/null | sort >"$tmp/capture_samples"
  is "$(wc -l <"$tmp/spool_samples")" "$sent" "tshark finds every datagram in the spool files"
  cmp -s "$tmp/spool_samples" "$tmp/capture_samples"; ok $? "with the same sFlow sample counts as the capture's datagrams"
  for f in "$sp"/loaded/*.pcapng; do
    tshark -r "$f" -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE -d udp.port==$P,sflow -T fields \
      -E occurrence=f -e ip.checksum.status -e udp.checksum.status -e udp.srcport -e udp.dstport -e ip.dst 2>/dev/null
  done | awk -F'\t' -v p=$P '{ print $1, $2, ($4 == p && $5 == "127.0.0.1") ? "to-collector" : "other" }' | sort | uniq -c >"$tmp/cks"
  is "$(awk '{ print $2, $3, $4 }' "$tmp/cks")" "1 1 to-collector" "outer IPv4 and UDP checksums good, sent to the collector's address and port"
else
  skip "tshark decodes the spool files" "no tshark"
fi

# 2. --agents: datagrams from others counted, not loaded; files removed once loaded
# (as a member of spamhints_loader, no superuser: as the service runs)
newdb ${db}_2 >/dev/null
psql -qX -d ${db}_2 -c "DROP ROLE IF EXISTS sh_live_collector; CREATE ROLE sh_live_collector LOGIN IN ROLE spamhints_loader" 2>/dev/null
sp=$tmp/spool2
start "dbname=${db}_2 user=sh_live_collector" "$sp" --listen 127.0.0.1:$P --listen "[::1]:$P" --rotate 1 --agents 127.0.0.1/32,2001:db8::/32,::1
$SEND "$tmp/a.pcap" 127.0.0.1 $P --from 127.0.0.1 --every 4 --from2 127.0.0.2 >"$tmp/sent2"
mine=$(awk '$1 == "127.0.0.1" { print $2 }' "$tmp/sent2"); other=$(awk '$1 == "127.0.0.2" { print $2 }' "$tmp/sent2")
$SEND "$tmp/a.pcap" ::1 $P >/dev/null
wait_frames ${db}_2 $((mine + sent)) >/dev/null
sleep 1.2
stop $cpid; is "$rc" 0 "--agents: SIGTERM, exit 0"
is "$(q 'SELECT sum(frames), sum(received), sum(refused) FROM spamhints.load' ${db}_2)" \
   "$((mine + sent))|$((mine + other + sent))|$other" \
   "--agents: $mine datagrams from 127.0.0.1 and $sent over IPv6 from ::1 loaded, $other from 127.0.0.2 counted as refused"
grep -q "refused (not in --agents)" "$tmp/out"; ok $? "the summary counts them"
is "$(ls -A "$sp" | wc -l)" 0 "without --keep the spool files are removed once loaded"

# 3. kill -9 leaves a .part: the next start closes and loads it, nothing doubled
newdb ${db}_3 >/dev/null
sp=$tmp/spool3
start ${db}_3 "$sp" --listen 127.0.0.1:$P --rotate 600
$SEND "$tmp/a.pcap" 127.0.0.1 $P >/dev/null
sleep 0.5
stop $cpid KILL
is "$(ls "$sp" | grep -c '\.pcapng\.part$')" 1 "kill -9 leaves one .part"
printf '\006\000\000\000\100\000\000\000cut' >>"$sp"/*.part    # a block cut short, as by a crash during a write
start ${db}_3 "$sp" --listen 127.0.0.1:$P --rotate 1
wait_frames ${db}_3 "$sent" >/dev/null
stop $cpid; is "$rc" 0 "restarted and stopped: exit 0"
grep -q 'left open by a collector that stopped: closed with its' "$tmp/err"; ok $? "the .part was closed: $(grep 'left open' "$tmp/err" | tail -1 | cut -c1-100)"
is "$(q 'SELECT sum(frames), count(*) FILTER (WHERE recovered), count(*) FILTER (WHERE received IS NULL) FROM spamhints.load' ${db}_3)" \
   "$sent|1|1" "every datagram of it loaded once, as a recovered file (its counts unknown)"
is "$(q "SELECT skipped ? 'capture_truncated' FROM spamhints.load" ${db}_3)" "f" "the cut block was removed, not read as a truncated capture"
is "$(rows ${db}_3)" "$(rows ${db}_ref)" "the rows equal the capture's"
is "$(ls -A "$sp" | wc -l)" 0 "and the spool directory is empty"

# 3b. a .part that cannot be renamed at the start (its final name is taken, by
# a directory): a warning, the .part left as it is, closed and loaded once at
# the start after
newdb ${db}_3b >/dev/null
sp=$tmp/spool3b
start ${db}_3b "$sp" --listen 127.0.0.1:$P --rotate 600
$SEND "$tmp/a.pcap" 127.0.0.1 $P >/dev/null
sleep 0.5
stop $cpid KILL
part=$(ls "$sp" | grep '\.pcapng\.part$')
mkdir -p "$sp/${part%.part}/taken"
n0=$(wc -l <"$tmp/err")
start ${db}_3b "$sp" --listen 127.0.0.1:$P --rotate 600
stop $cpid
tail -n +$((n0 + 1)) "$tmp/err" >"$tmp/err3b"
grep -qF "warning: $sp/$part: cannot rename: Is a directory; left as it is" "$tmp/err3b"
ok $? "a .part that cannot be renamed: a warning, as a rotation says it: $(grep -F "$part" "$tmp/err3b" | head -1 | cut -c1-120)"
ls "$sp/$part" >/dev/null 2>&1; ok $? "and the .part is left as it is"
is "$(q 'SELECT count(*) FROM spamhints.load' ${db}_3b)" 0 "nothing of it loaded"
rm -rf "${sp:?}/${part%.part}" "${sp:?}/${part%.part}.failed"
start ${db}_3b "$sp" --listen 127.0.0.1:$P --rotate 1
wait_frames ${db}_3b "$sent" >/dev/null
stop $cpid; is "$rc" 0 "restarted once its name is free, and stopped: exit 0"
is "$(q 'SELECT sum(frames), count(*) FILTER (WHERE recovered) FROM spamhints.load' ${db}_3b)" \
   "$sent|1" "then every datagram of it is loaded once, as a recovered file"
is "$(ls -A "$sp" | wc -l)" 0 "and the spool directory is empty"

# 4. the database is missing: the file is kept, and loaded at a later rotation once it is there
dropdb --if-exists ${db}_4 2>/dev/null
sp=$tmp/spool4
start ${db}_4 "$sp" --listen 127.0.0.1:$P --rotate 1
$SEND "$tmp/a.pcap" 127.0.0.1 $P >/dev/null
sleep 2.5
is "$(ls "$sp" | grep -c '\.pcapng$')" 1 "a load that failed (no database) keeps its spool file"
grep -q 'kept, tried again at the next rotation' "$tmp/err"; ok $? "and says so"
newdb ${db}_4 >/dev/null
wait_frames ${db}_4 "$sent" >/dev/null
is "$(q 'SELECT sum(frames) FROM spamhints.load' ${db}_4)" "$sent" "once the database is there, a later rotation loads it"
kill -HUP $cpid; sleep 0.3
$SEND "$tmp/a.pcap" 127.0.0.1 $P --pause-every 0 >/dev/null
stop $cpid; is "$rc" 0 "SIGTERM right after a burst: exit 0"
grep -q 'SIGHUP: enrichment databases reopened' "$tmp/err"; ok $? "SIGHUP reopened the databases"
is "$(q 'SELECT sum(frames) + sum(kernel_dropped) FROM spamhints.load' ${db}_4)" \
   "$((2 * sent))" "the burst sent just before SIGTERM is in the last file (frames + kernel drops = sent)"

# 4b. stopped with a file it could not load: exit 3, the file kept; the next start loads it first
dropdb --if-exists ${db}_6 2>/dev/null
sp=$tmp/spool6
start ${db}_6 "$sp" --listen 127.0.0.1:$P --rotate 600
$SEND "$tmp/a.pcap" 127.0.0.1 $P >/dev/null
stop $cpid; is "$rc" 3 "SIGTERM with the database missing: exit 3"
grep -q "1 spool file(s) in $sp not loaded: they are loaded at the next start" "$tmp/err"; ok $? "and says the file waits for the next start"
is "$(ls "$sp" | grep -c '\.pcapng$')" 1 "the closed file is kept"
newdb ${db}_6 >/dev/null
start ${db}_6 "$sp" --listen 127.0.0.1:$P --rotate 600
wait_frames ${db}_6 "$sent" >/dev/null
stop $cpid; is "$rc" 0 "the next start: exit 0"
is "$(q 'SELECT count(*), sum(frames) FROM spamhints.load' ${db}_6)" "1|$sent" "it loaded the file left before, once, before anything new"

# 5. kernel drops: a small receive buffer and a stopped collector
newdb ${db}_5 >/dev/null
sp=$tmp/spool5
start ${db}_5 "$sp" --listen 127.0.0.1:$P --rotate 1 --rcvbuf 4096
kill -STOP $cpid
$SEND "$tmp/a.pcap" 127.0.0.1 $P --pause-every 0 >/dev/null
kill -CONT $cpid
sleep 1.5
stop $cpid; is "$rc" 0 "a collector with a small buffer stops: exit 0"
read -r recv dropped frames <<<"$(q 'SELECT sum(received), sum(kernel_dropped), sum(frames) FROM spamhints.load' ${db}_5 | tr '|' ' ')"
ok $([ "${dropped:-0}" -gt 0 ] && echo 0 || echo 1) "the kernel dropped datagrams at the socket: $dropped counted"
is "$((recv + dropped))" "$sent" "received ($recv) + dropped by the kernel ($dropped) = sent ($sent)"
is "$frames" "$recv" "and every datagram received was loaded"

for d in $db ${db}_ref ${db}_2 ${db}_3 ${db}_3b ${db}_4 ${db}_5 ${db}_6; do dropdb --if-exists $d 2>/dev/null; done
psql -qX -c "DROP ROLE IF EXISTS sh_live_collector" 2>/dev/null
tap_done
