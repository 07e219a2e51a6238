#!/usr/bin/env bash
# tests/e2e/exactly_once.sh: every sFlow datagram loaded once, whatever file
# carries it (spamhints.load_seqs, load.known_datagrams). A datagram is its
# agent, sub-agent, sequence number and agent boot (capture time less
# uptime, within 10 s). Truth: the generator's ground truth (rows, per frame
# with --rows) and tshark's decode of the files.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=loader/spamhints-load
GEN=tests/gen/spamhints-gen
SEND="python3 tests/e2e/live_send.py"
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
db=spamhints_e2e_once
q() { PGOPTIONS='-c client_min_messages=warning' psql -X -d "${2:-$db}" -Atc "$1"; }
newdb() { dropdb --if-exists "$1" 2>/dev/null; createdb "$1" && psql -qX -d "$1" -c 'CREATE EXTENSION spamhints'; }
load() { "$LOADER" -q -d "$db" "$@" 2>>"$tmp/err"; }
rows() { q 'SELECT count(*) FROM spamhints.smtp_sample'; }
last() { q "SELECT $1 FROM spamhints.load ORDER BY load_id DESC LIMIT 1"; }
truth() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

$GEN --seed 7 --smtp 400 --other 400 --hours 1 --agents 3 --malformed 0 -o "$tmp/a.pcap" -t "$tmp/a.truth" --rows "$tmp/a.rows" >/dev/null
$GEN --seed 7 --smtp 400 --other 400 --hours 1 --agents 3 --malformed 0 --start 1173916800 -o "$tmp/b.pcap" -t "$tmp/b.truth" >/dev/null
A_ROWS=$(truth smtp_rows "$tmp/a.truth")
A_DG=$(truth valid_datagrams "$tmp/a.truth")
editcap -F pcapng "$tmp/a.pcap" "$tmp/a.pcapng"
N=$(capinfos -Mc "$tmp/a.pcap" | awk '/Number of packets/ { print $NF }')
H=$((N / 2))
editcap -r "$tmp/a.pcap" "$tmp/half.pcap" "1-$H"
mergecap -a -w "$tmp/twice.pcap" "$tmp/a.pcap" "$tmp/a.pcap"
# tshark: the sFlow datagrams of the first half, distinct by agent, sub-agent and sequence number
tsk() { tshark -r "$1" -Y sflow -T fields -E separator=/ -e sflow_245.agent -e sflow_245.agent.v6 -e sflow_245.sub_agent_id -e sflow_245.sequence_number 2>/dev/null; }
HALF_DG=$(tsk "$tmp/half.pcap" | sort -u | wc -l)
# the SMTP rows of the first half's frames, from the generator's truth
HALF_ROWS=$(awk -v h="$H" '$1 <= h' "$tmp/a.rows" | wc -l)

# 1. a capture, then its pcapng conversion: nothing added, every datagram known
newdb $db
load "$tmp/a.pcap"; is "$(rows)" "$A_ROWS" "the capture loads its $A_ROWS rows (generator truth)"
load "$tmp/a.pcapng"; ok $? "its pcapng conversion loads (another file)"
is "$(rows)" "$A_ROWS" "the pcapng conversion adds no row"
is "$(last known_datagrams),$(last smtp_rows)" "$A_DG,0" "its load row: all $A_DG datagrams known, 0 rows"
is "$(q 'SELECT count(*) FROM spamhints.load_seqs WHERE load_id = (SELECT max(load_id) FROM spamhints.load)')" 0 "it took no datagram (no load_seqs row)"
is "$(q "SELECT sum(upper(r) - lower(r)) FROM spamhints.load_seqs, unnest(seqs) r")" "$A_DG" "load_seqs holds each of the $A_DG datagrams once"

is "$(q "SELECT count(*) FILTER (WHERE uptimes = int8range((SELECT min(e) FROM unnest(edges) e), (SELECT max(e) FROM unnest(edges) e), '[]')) || '/' || count(*) FROM spamhints.load_seqs")" \
   "$(q 'SELECT count(*) || '"'/'"' || count(*) FROM spamhints.load_seqs')" "load_seqs.uptimes: from the lowest to the highest of its edges"
# the question by hours of uptime: an agent's rows of the hours asked for, not its whole history
AG=$(q 'SELECT agent FROM spamhints.load_seqs ORDER BY agent LIMIT 1')
UP=$(q "SELECT lower(uptimes) FROM spamhints.load_seqs WHERE agent = '$AG' LIMIT 1")
is "$(q "SELECT count(*) > 0 FROM spamhints.known_datagrams('$AG', int8range($UP, $UP + 1))"),$(q "SELECT count(*) FROM spamhints.known_datagrams('$AG', int8range($UP + 86400000, $UP + 90000000))")" \
   "t,0" "known_datagrams(agent, uptimes): the rows of the hours asked for, none of a day later"
# a capture of 7 hours (several hours of uptime, asked for one after another): its copy adds nothing
$GEN --seed 9 --smtp 2000 --other 2000 --hours 7 --agents 2 --malformed 0 -o "$tmp/h7.pcap" -t "$tmp/h7.truth" >/dev/null
editcap -F pcapng "$tmp/h7.pcap" "$tmp/h7.pcapng"
load "$tmp/h7.pcap"
psql -qX -d $db -c "ALTER DATABASE $db SET track_functions = 'all'" -c "SELECT pg_stat_reset()" >/dev/null
load "$tmp/h7.pcapng"
is "$(rows),$(last known_datagrams)" "$((A_ROWS + $(truth smtp_rows "$tmp/h7.truth"))),$(truth valid_datagrams "$tmp/h7.truth")" "a 7-hour capture, then its pcapng copy: every datagram known, nothing added"
# each question stops the load's COPY: one per agent address for a file of some hours, not one an hour
for _ in 1 2 3 4 5 6 7 8 9 10; do calls=$(q "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE schemaname = 'spamhints' AND funcname = 'known_datagrams'"); [ "$calls" != 0 ] && break; sleep 0.2; done
is "$calls" 2 "the copy's load asked known_datagrams() twice: once per agent address (2 agents), for all 7 hours"
psql -qX -d $db -c "ALTER DATABASE $db RESET track_functions" >/dev/null

# 2. DELETE of the load lets its datagrams load again; TRUNCATE likewise
q 'DELETE FROM spamhints.load WHERE load_id IN (1, 3, 4)' >/dev/null
is "$(q 'SELECT count(*) FROM spamhints.load_seqs')" 0 "DELETE of the loads deletes their load_seqs rows"
load "$tmp/a.pcap"; is "$(rows),$(last known_datagrams)" "$A_ROWS,0" "after the DELETE, the capture loads whole again"
q 'TRUNCATE spamhints.smtp_sample' >/dev/null
is "$(q 'SELECT count(*) FROM spamhints.load_seqs'),$(q 'SELECT count(*) FROM spamhints.load')" "0,0" "TRUNCATE of the samples empties load_seqs"
load "$tmp/a.pcap"; is "$(rows),$(last known_datagrams)" "$A_ROWS,0" "after the TRUNCATE, the capture loads whole again"

# 3. overlapping captures: the first half, then the whole: only the second half added
newdb $db
load "$tmp/half.pcap"; is "$(rows)" "$HALF_ROWS" "the first half ($H frames) loads its $HALF_ROWS rows (generator truth)"
load "$tmp/a.pcap"; is "$(rows)" "$A_ROWS" "then the whole capture adds only the second half: $A_ROWS rows in all"
is "$(last known_datagrams)" "$HALF_DG" "the whole capture's load knew the first half's $HALF_DG datagrams (tshark)"

# 4. a datagram repeated in one file
newdb $db
load "$tmp/twice.pcap"; is "$(rows),$(last known_datagrams)" "$A_ROWS,$A_DG" "a file holding every datagram twice loads each once"

# 5. two captures of other times with the same agents and sequence numbers, other uptimes: other
# boots, both load (the generator gives the same seed the same uptimes: b's are moved 7 s, as an
# agent restarted at another moment would have them)
B_ROWS=$(truth smtp_rows "$tmp/b.truth")
python3 tests/e2e/boots_captures.py uptime "$tmp/b.pcap" "$tmp/b7.pcap" 7000
newdb $db
load "$tmp/a.pcap"; load "$tmp/b7.pcap"
is "$(rows),$(last known_datagrams)" "$((A_ROWS + B_ROWS)),0" "a capture of another day, same sequence numbers, uptimes 7 s off: another boot, loaded whole"
# the same datagrams (sequence numbers and uptimes) received at other times: a replay, nothing added
load "$tmp/b.pcap"
is "$(rows),$(last known_datagrams)" "$((A_ROWS + B_ROWS)),$A_DG" "a's datagrams stamped days later (b, unchanged uptimes): known, nothing added"

# 6. an agent reboot: sequence numbers and uptime start again: the new boot's datagrams all load
python3 - "$tmp" <<'PY'
import struct, sys
sys.path.insert(0, "tests/e2e")
import hostile_captures as h
frames = []
def dgram(seq, uptime):
    d = bytearray(h.good_datagram(seq))
    struct.pack_into(">I", d, 20, uptime)
    return bytes(d)
# boot 1: 1700000000 - 1000 s; 5 datagrams a second apart; boot 2, 100 s later: seq 1.. again, uptime 1 s..
out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
for i, (seq, ts, up) in enumerate([(s, 1700000000 + s, 1000000 + 1000 * s) for s in range(1, 6)] +
                                  [(s, 1700000100 + s, 1000 * s) for s in range(1, 6)]):
    f = h.udp_frame(dgram(seq, up))
    out.append(struct.pack("<IIII", ts, 0, len(f), len(f)) + f)
open(sys.argv[1] + "/reboot.pcap", "wb").write(b"".join(out))
PY
newdb $db
load "$tmp/reboot.pcap"
is "$(rows),$(last known_datagrams),$(last datagrams)" "20,0,10" "an agent reboot (seq 1-5 twice, uptime reset): all 10 datagrams load (20 rows)"
is "$(q 'SELECT count(*) FROM spamhints.load_seqs')" 2 "two boots in load_seqs"
load "$tmp/reboot.pcap" >/dev/null; editcap -F pcapng "$tmp/reboot.pcap" "$tmp/reboot.pcapng"; load "$tmp/reboot.pcapng"
is "$(rows),$(last known_datagrams)" "20,10" "its pcapng copy: both boots known"

# 6b. runs told apart by the datagrams' own numbers, not by capture times
python3 tests/e2e/boots_captures.py make "$tmp"
newdb $db
load "$tmp/fast.pcap"
is "$(rows),$(last datagrams),$(last known_datagrams)" "6000,3000,0" "3000 datagrams a minute of uptime apart, received 1 ms apart (two days replayed fast): all load"
is "$(q 'SELECT count(*) FROM spamhints.load_seqs')" 1 "one run: one load_seqs row, not one per datagram"
editcap -F pcapng "$tmp/fast.pcap" "$tmp/fast.pcapng"; load "$tmp/fast.pcapng"
is "$(rows),$(last known_datagrams)" "6000,3000" "its pcapng copy: all 3000 known"
python3 tests/e2e/boots_captures.py retime "$tmp/fast.pcap" "$tmp/fast-later.pcap" 1900000000 20
load "$tmp/fast-later.pcap"
is "$(rows),$(last known_datagrams)" "6000,3000" "received again years later, 20 us apart: the same datagrams, known"
newdb $db
load "$tmp/randup.pcap"
TOOK=$(q 'SELECT coalesce(sum(upper(r) - lower(r)), 0) FROM spamhints.load_seqs, unnest(seqs) r')
is "$(q 'SELECT count(*) FROM spamhints.load_seqs')" 64 "2000 datagrams with made-up uptimes (a boot estimate each, it was a load_seqs row each): 64 runs"
is "$(rows),$(last "(skipped->>'packet_agent_runs')::int + 3 * $TOOK")" "$((2 * TOOK)),6000" "the $TOOK datagrams of the 64 runs load (2 rows each); the rest counted: rows and packet_agent_runs make the 6000 sampled packets"
editcap -F pcapng "$tmp/randup.pcap" "$tmp/randup.pcapng"; load "$tmp/randup.pcapng"
is "$(rows),$(last known_datagrams)" "$((2 * TOOK)),$TOOK" "its pcapng copy: nothing added, the $TOOK known"
newdb $db
load "$tmp/restarts.pcap"
is "$(rows),$(last datagrams),$(last known_datagrams)" "128,100,0" "100 datagrams each a restart: the first 64 runs load (128 rows)"
is "$(last "skipped->>'packet_agent_runs'")" 108 "the 36 datagrams past 64 runs of the sub-agent: their 108 sampled packets skipped as packet_agent_runs"
is "$(q 'SELECT count(*) FROM spamhints.load_seqs')" 64 "64 runs in load_seqs"
newdb $db
load "$tmp/other1.pcap"; load "$tmp/other2.pcap"
is "$(rows),$(last known_datagrams)" "15,0" "the same sequence numbers and uptimes a year later in other bytes (other datagrams): loaded"
editcap -F pcapng "$tmp/other2.pcap" "$tmp/other2.pcapng"; load "$tmp/other2.pcapng"
is "$(rows),$(last known_datagrams)" "15,5" "and known when loaded again (its pcapng copy)"
newdb $db
load "$tmp/wrap1.pcap"; load "$tmp/wrap2.pcap"
is "$(rows),$(last known_datagrams)" "20,0" "the same boot 2^32 datagrams later (sequence numbers 1-5 again, uptime 11.6 days on): new, loaded"
editcap -F pcapng "$tmp/wrap2.pcap" "$tmp/wrap2.pcapng"; load "$tmp/wrap2.pcapng"
is "$(rows),$(last known_datagrams)" "20,5" "and known when loaded again (its pcapng copy)"

# 6c. a capture replayed (the same datagrams received at other times, squeezed), then the capture;
# and the other way round
python3 tests/e2e/boots_captures.py retime "$tmp/a.pcap" "$tmp/a-replayed.pcap" 1893456000 50
newdb $db
load "$tmp/a-replayed.pcap"; is "$(rows)" "$A_ROWS" "the capture stamped as a fast replay in 2030 loads its $A_ROWS rows"
load "$tmp/a.pcap"; is "$(rows),$(last known_datagrams)" "$A_ROWS,$A_DG" "then the capture itself adds nothing: all $A_DG datagrams known"
load "$tmp/a.pcapng"; is "$(rows),$(last known_datagrams)" "$A_ROWS,$A_DG" "nor its pcapng conversion"
newdb $db
load "$tmp/a.pcap"; load "$tmp/a-replayed.pcap"
is "$(rows),$(last known_datagrams)" "$A_ROWS,$A_DG" "the capture, then its replay: nothing added"

# 7. two collectors (two spools) receiving the same replay, and a spool file loaded twice
newdb $db
free_port() { python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
P1=$(free_port); P2=$(free_port)
mkdir -p "$tmp/s1" "$tmp/s2"
for i in 1 2; do
  p=P$i
  "$LOADER" -d $db --listen 127.0.0.1:${!p} --spool "$tmp/s$i" --rotate 60 --keep >>"$tmp/out" 2>>"$tmp/c$i" &
  pids+=($!)
done
for _ in $(seq 50); do grep -q "listening on" "$tmp/c1" 2>/dev/null && grep -q "listening on" "$tmp/c2" 2>/dev/null && break; sleep 0.1; done
python3 - "$tmp/a.pcap" "$P1" "$P2" <<'PY'
import socket, subprocess, sys, time
sys.path.insert(0, "tests/e2e")
import live_send
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for d in live_send.datagrams(sys.argv[1]):
    s.sendto(d, ("127.0.0.1", int(sys.argv[2])))
    s.sendto(d, ("127.0.0.1", int(sys.argv[3])))
    time.sleep(0.0005)
PY
sleep 1
kill -TERM "${pids[0]}" "${pids[1]}"; wait "${pids[0]}" "${pids[1]}" 2>/dev/null
is "$(q 'SELECT count(*) FROM spamhints.load WHERE collector IS NOT NULL')" 2 "two collectors loaded one spool file each"
is "$(rows)" "$A_ROWS" "the same replay received by two collectors: $A_ROWS rows, not twice"
is "$(q 'SELECT sum(known_datagrams) FROM spamhints.load')" "$A_DG" "the second load knew all $A_DG datagrams"
spool=$(ls "$tmp"/s1/loaded/*.pcapng 2>/dev/null | head -1)
load "$spool"; is "$(rows)" "$A_ROWS" "a spool file loaded again: nothing added"
load "$tmp/a.pcap"
is "$(rows),$(last known_datagrams)" "$A_ROWS,$A_DG" "the replayed capture's file after the replay: nothing added, all $A_DG datagrams known"
# the other way round: the file, then its replay through a collector
newdb $db
load "$tmp/a.pcap"
P3=$(free_port); mkdir -p "$tmp/s3"
"$LOADER" -d $db --listen 127.0.0.1:$P3 --spool "$tmp/s3" --rotate 60 >>"$tmp/out" 2>>"$tmp/c3" &
cpid=$!; pids+=($cpid)
for _ in $(seq 50); do grep -q "listening on" "$tmp/c3" 2>/dev/null && break; sleep 0.1; done
python3 - "$tmp/a.pcap" "$P3" <<'PY'
import socket, sys, time
sys.path.insert(0, "tests/e2e")
import live_send
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for d in live_send.datagrams(sys.argv[1]):
    s.sendto(d, ("127.0.0.1", int(sys.argv[2])))
    time.sleep(0.0005)
PY
sleep 1; kill -TERM $cpid; wait $cpid
is "$(rows),$(last known_datagrams)" "$A_ROWS,$A_DG" "the capture, then its replay to a collector: nothing added, all $A_DG datagrams known"

# 8. kill -9 of the collector at random moments while a replay goes on, restarted each time:
# no datagram loaded twice, and every datagram that reached a spool file loaded
newdb $db
P=$(free_port); sp="$tmp/k"; mkdir -p "$sp"
python3 - "$tmp/a.pcap" "$P" >/dev/null <<'PY' &
import socket, sys, time
sys.path.insert(0, "tests/e2e")
import live_send
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ds = list(live_send.datagrams(sys.argv[1]))
for _ in range(6):
    for d in ds:
        s.sendto(d, ("127.0.0.1", int(sys.argv[2])))
        time.sleep(0.004)
PY
spid=$!; pids+=($spid)
kills=0
for k in 1 2 3 4 5; do
  "$LOADER" -d $db --listen 127.0.0.1:$P --spool "$sp" --rotate 1 --keep >>"$tmp/out" 2>>"$tmp/ck" &
  cpid=$!; pids+=($cpid)
  sleep "$(python3 -c 'import random; print(round(random.uniform(0.3, 1.2), 2))')"
  kill -9 $cpid 2>/dev/null && kills=$((kills + 1)); wait $cpid 2>/dev/null
done
"$LOADER" -d $db --listen 127.0.0.1:$P --spool "$sp" --rotate 1 --keep >>"$tmp/out" 2>>"$tmp/ck" &
cpid=$!; pids+=($cpid)
wait $spid; sleep 1.5
kill -TERM $cpid; wait $cpid; rc=$?
is "$kills,$rc" "5,0" "5 kills -9 during the replay, then a clean stop"
ls "$sp" | grep -q '\.part$'; ok $((1 - $?)) "no spool file left open or unloaded: $(ls "$sp" | grep -v '^loaded$' | wc -l) left"
# tshark: the distinct datagrams (agent, sub-agent, sequence) in every spool file
for f in "$sp"/loaded/*.pcapng; do
  tshark -r "$f" -d udp.port==$P,sflow -Y sflow -T fields -E separator=/ -e sflow_245.agent -e sflow_245.agent.v6 -e sflow_245.sub_agent_id -e sflow_245.sequence_number 2>/dev/null
done | sort -u > "$tmp/spooled"
SPOOLED=$(wc -l < "$tmp/spooled")
is "$(q "SELECT coalesce(sum(upper(r) - lower(r)), 0) FROM spamhints.load_seqs, unnest(seqs) r")" "$SPOOLED" "load_seqs: each of the $SPOOLED distinct datagrams in the spool files (tshark) once"
is "$(q "SELECT count(*) FROM spamhints.load_seqs x JOIN spamhints.load_seqs y ON x.agent = y.agent AND x.sub_agent = y.sub_agent AND x.load_id < y.load_id AND x.seqs && y.seqs")" 0 "no sequence number taken by two loads"
# the rows those datagrams carry: the generator's rows of their frames in the capture
tsk "$tmp/a.pcap" > "$tmp/a.ids"
tshark -r "$tmp/a.pcap" -Y sflow -T fields -e frame.number 2>/dev/null > "$tmp/a.frames"
WANT=$(paste -d' ' "$tmp/a.frames" "$tmp/a.ids" | awk -v s="$tmp/spooled" -v r="$tmp/a.rows" '
  BEGIN { while ((getline l < s) > 0) want[l] = 1; while ((getline l < r) > 0) { split(l, f, "\t"); n[f[1]]++ } }
  ($2 in want) && !seen[$2]++ { t += n[$1] } END { print t + 0 }')
is "$(rows)" "$WANT" "the samples: exactly the generator's rows of the datagrams spooled ($WANT)"
is "$(q 'SELECT sum(datagrams - known_datagrams) FROM spamhints.load')" "$SPOOLED" "the loads took $SPOOLED datagrams in all"

# 9. the loader role: loads with the check, forges and deletes no load's datagrams
newdb $db
psql -qX -d $db -c "DROP ROLE IF EXISTS sh_once_loader; CREATE ROLE sh_once_loader LOGIN IN ROLE spamhints_loader" 2>/dev/null
"$LOADER" -q -d $db -U sh_once_loader "$tmp/a.pcap" 2>>"$tmp/err"; ok $? "spamhints_loader loads a capture (it reads and writes load_seqs)"
"$LOADER" -q -d $db -U sh_once_loader "$tmp/a.pcapng" 2>>"$tmp/err"
is "$(rows),$(last known_datagrams)" "$A_ROWS,$A_DG" "and its pcapng copy adds nothing"
as() { psql -X -d $db -U sh_once_loader -v VERBOSITY=verbose -Atc "$1" 2>&1 | grep -o '42501' | head -1; }
is "$(as "INSERT INTO spamhints.load_seqs VALUES (1, '10.0.0.1', 0, '[2020-01-01,2020-01-02]', '{[1,5]}')")" 42501 "it may not add datagrams to a committed load (42501)"
is "$(as "DELETE FROM spamhints.load_seqs")" 42501 "nor delete load_seqs rows (42501)"
is "$(as "TRUNCATE spamhints.load_seqs")" 42501 "nor truncate them (42501)"
is "$(as "UPDATE spamhints.load_seqs SET seqs = '{[1,2]}'")" 42501 "nor change them (42501)"
is "$(q 'SELECT count(*) FROM spamhints.load_seqs')" "$(q 'SELECT count(*) FROM spamhints.load_seqs WHERE load_id = 1')" "load_seqs as the first load left it"
psql -qX -d $db -c "DROP OWNED BY sh_once_loader; DROP ROLE sh_once_loader" 2>/dev/null

cat "$tmp/err" | sed "s/^/# /"
tap_done
