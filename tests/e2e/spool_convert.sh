#!/usr/bin/env bash
# tests/e2e/spool_convert.sh: a collector's spool files (pcapng, raw IP, UDP
# to whatever port it listened on) and the conversions a user makes of them
# (editcap -F pcap / pcapng / nsecpcap, tcpdump -r -w, mergecap of a
# collector's files, mergecap of two collectors' files of one stream),
# loaded as captures without --filter: each loads exactly the datagrams and
# sample rows the collector loaded, and every frame is a datagram, malformed
# or counted under a reason (frame_filtered: the NetFlow datagram the
# generator sent, which is no sFlow on a port other than 6343); tshark's
# decode of the same files agrees. Nothing of a capture vanishes uncounted.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=${SPAMHINTS_LOAD:-loader/spamhints-load}
SEND="python3 tests/e2e/live_send.py"
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
db=spamhints_e2e_spoolconv
q() { PGOPTIONS='-c client_min_messages=warning' psql -X -d "${2:-$db}" -Atc "$1"; }
newdb() { dropdb --if-exists "$1" 2>/dev/null; createdb "$1" && psql -qX -d "$1" -c 'CREATE EXTENSION spamhints'; }
free_port() { python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SAMPLE_COLS="agent, sample_seq, sampling_rate, input_if, output_if, src_mac, dst_mac, vlan, src_ip, dst_ip,
             src_port, dst_port, tcp_flags, ip_len, ttl, smtp"
rows() { q "SELECT md5(string_agg(r::text, E'\n' ORDER BY r::text)), count(*) FROM (SELECT $SAMPLE_COLS FROM spamhints.smtp_sample) r" "$1"; }
truth() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/truth"; }

# collect NAME PORT [HOST]: a collector on HOST:PORT (127.0.0.1) into ${db}_NAME receives one replay of the capture
collect() {
  local name=$1 port=$2 host=${3:-127.0.0.1}
  newdb ${db}_$name >/dev/null || exit 1
  "$LOADER" -d ${db}_$name --spool "$tmp/$name" --listen "$([ "$host" = ::1 ] && echo "[::1]" || echo $host):$port" --rotate 1 --keep \
    >>"$tmp/$name.out" 2>>"$tmp/$name.err" &
  local pid=$!; pids+=("$pid")
  for _ in $(seq 50); do grep -q "listening on" "$tmp/$name.err" 2>/dev/null && break; sleep 0.1; done
  sent=$($SEND "$tmp/a.pcap" "$host" "$port" | awk '{ s += $2 } END { print s }')
  for _ in $(seq 100); do
    [ "$(q 'SELECT coalesce(sum(frames), 0) FROM spamhints.load' ${db}_$name)" -ge "$sent" ] && break
    sleep 0.1
  done
  kill -TERM "$pid"; wait "$pid" 2>/dev/null
}

tests/gen/spamhints-gen --seed 43 --smtp 2000 --other 1000 -o "$tmp/a.pcap" -t "$tmp/truth" >/dev/null || exit 1
P1=$(free_port); collect c1 "$P1"
P2=$(free_port); collect c2 "$P2"
is "$sent" "$(truth datagrams)" "the sender replays every datagram of the capture ($sent) to ports $P1 and $P2"
c1=$(q 'SELECT sum(frames), sum(datagrams), sum(malformed), sum(smtp_rows) FROM spamhints.load' ${db}_c1)
is "$c1" "$sent|$(truth valid_datagrams)|$(truth malformed_datagrams)|$(truth smtp_rows)" \
   "the collector on $P1 loads every datagram, as the generator's truth: frames|datagrams|malformed|rows $c1"
spools=("$tmp"/c1/loaded/*.pcapng)
ok $([ "${#spools[@]}" -ge 1 ] && echo 0 || echo 1) "its spool files are kept (${#spools[@]})"
ref_rows=$(rows ${db}_c1)
datagrams=$(truth valid_datagrams)
netflow=$(truth malformed_not_sflow)
sflow_malformed=$(( $(truth malformed_datagrams) - netflow ))

# load NAME FILE...: the files into a fresh database, as captures, without --filter
load() {
  local name=$1; shift
  newdb ${db}_x >/dev/null || exit 1
  "$LOADER" -d ${db}_x --no-progress "$@" >"$tmp/out" 2>"$tmp/err"
  is "$?" 0 "$name: loads (exit 0)"
  local frames; frames=$(for f in "$@"; do tshark -r "$f" 2>/dev/null; done | wc -l)
  local tshark_sflow; tshark_sflow=$(for f in "$@"; do tshark -r "$f" -d udp.port==$P1,sflow -d udp.port==$P2,sflow \
                                      -Y 'sflow_245.version' 2>/dev/null; done | wc -l)
  local known=${KNOWN:-0}
  is "$(q "SELECT sum(frames), sum(datagrams) - sum(known_datagrams), sum(known_datagrams), sum(smtp_rows) FROM spamhints.load" ${db}_x)" \
     "$frames|$datagrams|$known|$(truth smtp_rows)" \
     "$name: frames (tshark's $frames), datagrams, known ones and rows as the collector loaded"
  is "$(rows ${db}_x)" "$ref_rows" "$name: the sample rows equal the collector's, row for row"
  is "$(q "SELECT sum(datagrams + malformed) FROM spamhints.load" ${db}_x)" "$tshark_sflow" \
     "$name: datagrams + malformed = the $tshark_sflow frames tshark decodes as sFlow"
  is "$(q "SELECT sum(malformed) || ' ' || sum(coalesce((skipped->>'frame_filtered')::int, 0)) FROM spamhints.load" ${db}_x)" \
     "$((sflow_malformed * ${COPIES:-1})) $((netflow * ${COPIES:-1}))" \
     "$name: the malformed sFlow counted malformed, the NetFlow datagram(s) as frame_filtered"
  is "$(q "SELECT count(*) FROM spamhints.load WHERE frames <> datagrams + malformed
             + coalesce((skipped->>'frame_filtered')::int, 0) + coalesce((skipped->>'frame_not_udp')::int, 0)" ${db}_x)" 0 \
     "$name: every frame is a datagram, malformed, or skipped under a reason"
}

load "the spool files (pcapng)" "${spools[@]}"
grep -q "frames taken as sFlow to a port other than 6343" "$tmp/out" "$tmp/err"
ok $? "the summary says frames were taken as sFlow on another port: $(cat "$tmp/out" "$tmp/err" | head -c 300)"
conv=()
for f in "${spools[@]}"; do editcap -F pcap "$f" "$f.pcap" && conv+=("$f.pcap"); done
load "editcap -F pcap" "${conv[@]}"
is "$(q "SELECT count(*) FROM spamhints.load WHERE filter LIKE 'udp port 6343%'" ${db}_x)" "${#conv[@]}" \
   "the load says which filter took them"
conv=()
for f in "${spools[@]}"; do editcap -F nsecpcap "$f" "$f.nsec.pcap" && conv+=("$f.nsec.pcap"); done
load "editcap -F nsecpcap" "${conv[@]}"
conv=()
for f in "${spools[@]}"; do editcap -F pcapng "$f" "$f.ng.pcapng" && conv+=("$f.ng.pcapng"); done
load "editcap -F pcapng" "${conv[@]}"
if command -v tcpdump >/dev/null; then
  conv=()
  for f in "${spools[@]}"; do tcpdump -r "$f" -w "$f.td.pcap" 2>/dev/null && conv+=("$f.td.pcap"); done
  load "tcpdump -r -w" "${conv[@]}"
else
  for i in 1 2 3 4 5 6; do skip "tcpdump -r -w" "no tcpdump on this machine"; done
fi
mergecap -w "$tmp/merged.pcapng" "${spools[@]}"
load "mergecap of the collector's files" "$tmp/merged.pcapng"
mergecap -F pcap -w "$tmp/both.pcap" "${spools[@]}" "$tmp"/c2/loaded/*.pcapng
KNOWN=$datagrams COPIES=2 load "mergecap of two collectors' files of one stream (each datagram twice)" "$tmp/both.pcap"

# a collector on IPv6: its spool file holds IPv6 frames, which BPF's udp[] cannot look into
P3=$(free_port); collect c6 "$P3" ::1
is "$(q 'SELECT sum(datagrams), sum(smtp_rows) FROM spamhints.load' ${db}_c6)" "$datagrams|$(truth smtp_rows)" \
   "a collector on [::1]:$P3 loads every datagram"
conv=()
for f in "$tmp"/c6/loaded/*.pcapng; do editcap -F pcap "$f" "$f.pcap" && conv+=("$f.pcap"); done
newdb ${db}_x >/dev/null
"$LOADER" -d ${db}_x --no-progress "${conv[@]}" >"$tmp/out" 2>"$tmp/err"
is "$(q 'SELECT sum(datagrams), sum(smtp_rows), sum(frames - datagrams - malformed) FROM spamhints.load' ${db}_x)" \
   "$datagrams|$(truth smtp_rows)|$netflow" "its editcap -F pcap conversion (IPv6 frames) loads every datagram, the NetFlow one filtered"
is "$(rows ${db}_x)" "$ref_rows" "with the sample rows of the collector on IPv4"

# mergecap of a spool file (raw IP) with an Ethernet capture and an 802.11 one: one pcapng
# section, interfaces of three link types (libpcap alone refuses it); each frame read by its own
python3 - "$tmp/wifi.pcap" <<'PY'
import struct, sys
out = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 105)      # LINKTYPE_IEEE802_11
for i in range(3):
    frame = b'\x08\x00' + b'\x00' * 38
    out += struct.pack('<IIII', 1796220690 + i, 0, len(frame), len(frame)) + frame
open(sys.argv[1], 'wb').write(out)
PY
mergecap -w "$tmp/mixed.pcapng" "${spools[0]}" "$tmp/a.pcap" "$tmp/wifi.pcap"
newdb ${db}_x >/dev/null; newdb ${db}_y >/dev/null
"$LOADER" -d ${db}_x --no-progress "$tmp/mixed.pcapng" >"$tmp/out" 2>"$tmp/err"
is "$?" 0 "mergecap of a spool file (raw IP), an Ethernet capture and an 802.11 one: loads (exit 0)"
"$LOADER" -d ${db}_y --no-progress "${spools[0]}" "$tmp/a.pcap" >/dev/null 2>&1
is "$(q "SELECT sum(frames), sum(datagrams), sum(malformed), sum(smtp_rows), sum(coalesce((skipped->>'frame_link_type')::int, 0)) FROM spamhints.load" ${db}_x)" \
   "$(q "SELECT sum(frames) + 3, sum(datagrams), sum(malformed), sum(smtp_rows), 3 FROM spamhints.load" ${db}_y)" \
   "it loads what the spool file and the Ethernet capture load apart, the 3 802.11 frames counted as frame_link_type"
is "$(rows ${db}_x)" "$(rows ${db}_y)" "the same sample rows"
is "$(q "SELECT sum(frames) FROM spamhints.load" ${db}_x)" "$(tshark -r "$tmp/mixed.pcapng" 2>/dev/null | wc -l)" \
   "every frame read, as many as tshark reads"
dropdb ${db}_y

# a --filter that takes none of them: an empty load, every frame counted
newdb ${db}_x >/dev/null
"$LOADER" -d ${db}_x --no-progress --filter 'udp port 6343' "$tmp/merged.pcapng" >"$tmp/out" 2>"$tmp/err"
frames=$(tshark -r "$tmp/merged.pcapng" 2>/dev/null | wc -l)
is "$(q "SELECT datagrams || ' ' || skipped FROM spamhints.load" ${db}_x)" "0 {\"frame_filtered\": $frames}" \
   "--filter 'udp port 6343': nothing loads, its $frames frames counted in load.skipped as frame_filtered"
grep -q "no sFlow datagram in its $frames frames (the filter \"udp port 6343\" took 0 of them, the other $frames are skipped as frame_filtered)" "$tmp/out" "$tmp/err"
ok $? "and the summary says why: $(cat "$tmp/out" "$tmp/err" | head -c 300)"

for d in c1 c2 c6 x; do dropdb --if-exists ${db}_$d; done
tap_done
