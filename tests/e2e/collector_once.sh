#!/usr/bin/env bash
# tests/e2e/collector_once.sh: spamhints.collector_agent and collector_status
# count each datagram once. Two collectors receiving one replay give the
# collector_agent of one; a spool file loaded again (a pcapng copy put in a
# collector's spool directory, or loaded as a capture) changes nothing; a
# capture of the same traffic loaded first makes up no gap. Real loss is
# still counted exactly: the generator's sequence gaps (its ground truth),
# datagrams the sender leaves out (one per agent, picked with tshark), and
# their gaps filled when a second collector did receive them. A restart
# (a second run of each agent, its uptime starting again) is one reset, and
# the loss of each run is counted in its own run.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=${SPAMHINTS_LOAD:-loader/spamhints-load}
SEND="python3 tests/e2e/live_send.py"
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$tmp"; }
trap cleanup EXIT
db=spamhints_e2e_once_coll
q() { PGOPTIONS='-c client_min_messages=warning' psql -X -d "${2:-$db}" -Atc "$1"; }
newdb() { dropdb --if-exists "$1" 2>/dev/null; createdb "$1" && psql -qX -d "$1" -c 'CREATE EXTENSION spamhints'; }
free_port() { python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
truth() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
# the view, every column but the times (two collectors receive a datagram at two moments)
view() { q "SELECT string_agg(format('%s/%s v%s files=%s dg=%s mal=%s lost=%s resets=%s last=%s', agent, sub_agent, version,
                   files, datagrams, malformed, lost, resets, last_seq), ' ' ORDER BY agent, sub_agent)
              FROM spamhints.collector_agent" "$1"; }

# start NAME DB PORT [ARGS]: a collector into DB, spool directory $tmp/NAME
start() {
  local name=$1 d=$2 port=$3; shift 3
  "$LOADER" -d "$d" --spool "$tmp/$name" --listen 127.0.0.1:$port --keep "$@" >>"$tmp/$name.out" 2>>"$tmp/$name.err" &
  cpid=$!; pids+=("$cpid")
  for _ in $(seq 50); do grep -q "listening on" "$tmp/$name.err" 2>/dev/null && break; sleep 0.1; done
}
stop() { kill -TERM "$1"; wait "$1" 2>/dev/null; }
send() { $SEND "$1" 127.0.0.1 "$2" | awk '{ s += $2 } END { print s }'; }

tests/gen/spamhints-gen --seed 47 --smtp 3000 --other 1000 --loss 20 -o "$tmp/a.pcap" -t "$tmp/a.truth" >/dev/null || exit 1
lost_a=$(truth lost_datagrams "$tmp/a.truth")
ok $([ "$lost_a" -gt 0 ] && echo 0 || echo 1) "the generator skips sequence numbers: $lost_a lost in transit"

# 1. one collector: the reference
newdb ${db}_one >/dev/null && newdb ${db}_ref >/dev/null || exit 1
"$LOADER" -q -d ${db}_ref "$tmp/a.pcap" || exit 1
P=$(free_port); start one ${db}_one "$P"; n=$(send "$tmp/a.pcap" "$P"); stop $cpid
one=$(view ${db}_one)
is "$(q 'SELECT sum(lost), sum(resets), sum(datagrams), sum(malformed) FROM spamhints.collector_agent' ${db}_one)" \
   "$lost_a|0|$(truth valid_datagrams "$tmp/a.truth")|$(( $(truth malformed_datagrams "$tmp/a.truth") - $(truth malformed_not_sflow "$tmp/a.truth") ))" \
   "one collector: lost as the generator skipped, no reset, every datagram and malformed sFlow one (the truth)"
is "$(q "SELECT string_agg(format('%s/%s %s+%s', agent, sub_agent, datagrams, malformed), ' ' ORDER BY agent, sub_agent) FROM spamhints.collector_agent" ${db}_one)" \
   "$(q "SELECT string_agg(format('%s/%s %s+%s', agent, sub_agent, datagrams, malformed), ' ' ORDER BY agent, sub_agent) FROM spamhints.load_agent" ${db}_ref)" \
   "per agent the datagrams and malformed of the capture loaded as a file"

# 2. two collectors, each receiving the same replay
newdb ${db}_two >/dev/null || exit 1
P1=$(free_port); start two1 ${db}_two "$P1"; c1=$cpid
P2=$(free_port); start two2 ${db}_two "$P2"; c2=$cpid
send "$tmp/a.pcap" "$P1" >/dev/null; send "$tmp/a.pcap" "$P2" >/dev/null
stop $c1; stop $c2
is "$(q 'SELECT count(DISTINCT collector), count(*) FROM spamhints.load' ${db}_two)" "2|2" "two collectors, a spool file each"
is "$(view ${db}_two)" "$one" "two collectors on one replay: the collector_agent of one"
is "$(q 'SELECT sum(datagrams - known_datagrams) || $$ $$ || sum(known_datagrams) FROM spamhints.collector_status' ${db}_two)" \
   "$(truth valid_datagrams "$tmp/a.truth") $(truth valid_datagrams "$tmp/a.truth")" \
   "collector_status: each datagram added once, the second copies counted in known_datagrams"

# 3. a spool file loaded again: a pcapng copy in a collector's spool directory, then as a capture
mkdir -p "$tmp/again"
editcap -F pcapng "$(ls "$tmp"/one/loaded/*.pcapng | head -1)" "$tmp/again/spamhints-copy.pcapng"
P3=$(free_port); start again ${db}_one "$P3"; stop $cpid
is "$(q 'SELECT count(*), sum(known_datagrams) FROM spamhints.load WHERE collector IS NOT NULL' ${db}_one)" \
   "2|$(truth valid_datagrams "$tmp/a.truth")" "the copy is loaded by a collector at its start, every datagram of it known"
is "$(view ${db}_one)" "$one" "collector_agent is unchanged by the spool file loaded again"
editcap -F pcap "$tmp/again/loaded/spamhints-copy.pcapng" "$tmp/copy.pcap"
"$LOADER" -q -d ${db}_one "$tmp/copy.pcap" "$tmp/a.pcap" 2>/dev/null
is "$(view ${db}_one)" "$one" "and by its pcap conversion and the generator's capture (another time, another boot) loaded as files"

# 4. a capture of the same traffic (the spool file's pcap conversion) loaded before the collector loads the spool file
newdb ${db}_first >/dev/null || exit 1
"$LOADER" -q -d ${db}_first "$tmp/copy.pcap" || exit 1
mkdir -p "$tmp/first"; cp "$tmp/again/loaded/spamhints-copy.pcapng" "$tmp/first/"
P4=$(free_port); start first ${db}_first "$P4"; stop $cpid
is "$(q 'SELECT sum(known_datagrams) FROM spamhints.load WHERE collector IS NOT NULL' ${db}_first)" "$(truth valid_datagrams "$tmp/a.truth")" \
   "the capture loaded first, the collector's spool file then loads nothing new"
is "$(view ${db}_first)" "$one" "and collector_agent is that of the collector alone: no datagram lost, no gap made up"

# 5. datagrams the sender leaves out: one per agent, in the middle of its sequence numbers
tshark -r "$tmp/a.pcap" -Y 'sflow_245.version == 5 && !_ws.malformed' \
  -T fields -e frame.number -e sflow_245.agent -e sflow_245.agent.v6 -e sflow_245.sub_agent_id -e sflow_245.sequence_number 2>/dev/null \
  | sort -t$'\t' -k2,4 -k5n | awk -F'\t' '{ k = $2 $3 "/" $4; f[k, ++n[k]] = $1 } END { for (k in n) print f[k, int(n[k] / 2)] }' \
  | sort -n > "$tmp/drop.frames"
agents=$(q 'SELECT count(*) FROM spamhints.load_agent' ${db}_ref)
is "$(wc -l < "$tmp/drop.frames")" "$agents" "tshark picks one datagram of each of the $agents agents to leave out"
editcap -F pcap "$tmp/a.pcap" "$tmp/b.pcap" $(cat "$tmp/drop.frames") 2>/dev/null
newdb ${db}_drop >/dev/null || exit 1
P5=$(free_port); start drop ${db}_drop "$P5"; send "$tmp/b.pcap" "$P5" >/dev/null; stop $cpid
is "$(q 'SELECT sum(lost), sum(datagrams) FROM spamhints.collector_agent' ${db}_drop)" \
   "$((lost_a + agents))|$(( $(truth valid_datagrams "$tmp/a.truth") - agents ))" \
   "the $agents datagrams the sender left out are lost, on top of the generator's $lost_a"
is "$(q 'SELECT bool_and(lost > 0) FROM spamhints.collector_agent' ${db}_drop)" t "each agent lost its datagram"
P6=$(free_port); start fill ${db}_drop "$P6"; send "$tmp/a.pcap" "$P6" >/dev/null; stop $cpid
is "$(view ${db}_drop)" "$one" "a second collector that received them fills the gaps: the collector_agent of one with everything"

# 6. a restart: each agent's second run (another capture, its uptimes starting at 1 s), sent after the first
tests/gen/spamhints-gen --seed 48 --smtp 3000 --other 1000 --loss 20 -o "$tmp/c.pcap" -t "$tmp/c.truth" >/dev/null || exit 1
newdb ${db}_boot >/dev/null || exit 1
P7=$(free_port); start boot ${db}_boot "$P7" --rotate 1
send "$tmp/a.pcap" "$P7" >/dev/null
sleep 3
python3 - "$tmp/c.pcap" "$P7" <<'PY'
import socket, struct, sys
sys.path.insert(0, 'tests/e2e')
from live_send import datagrams
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i, p in enumerate(datagrams(sys.argv[1])):
    p = bytearray(p)
    if len(p) >= 28 and struct.unpack_from('>I', p, 0)[0] == 5:
        at = 8 + (4 if struct.unpack_from('>I', p, 4)[0] == 1 else 16) + 8   # version, type, address, sub-agent, seq
        if at + 4 <= len(p):
            struct.pack_into('>I', p, at, 1000 + i)    # uptime: booted a second ago
    s.sendto(bytes(p), ('127.0.0.1', int(sys.argv[2])))
PY
sleep 2; stop $cpid
agent_set() { tshark -r "$1" -Y 'sflow_245.version' -T fields -e sflow_245.agent -e sflow_245.agent.v6 -e sflow_245.sub_agent_id 2>/dev/null | sort -u; }
both=$(comm -12 <(agent_set "$tmp/a.pcap") <(agent_set "$tmp/c.pcap") | wc -l)
ok $([ "$both" -gt 0 ] && echo 0 || echo 1) "$both agents send in both runs"
is "$(q 'SELECT sum(resets), sum(lost) FROM spamhints.collector_agent' ${db}_boot)" \
   "$both|$((lost_a + $(truth lost_datagrams "$tmp/c.truth")))" \
   "a restart of each of them: one reset each, and each run's loss counted in its own run"

for d in one ref two first drop boot; do dropdb --if-exists ${db}_$d; done
tap_done
