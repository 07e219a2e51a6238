#!/usr/bin/env bash
# bench/exactly_once.sh: what the exactly-once check of sFlow datagrams
# (spamhints.load_seqs) costs a load, as ratios against a baseline measured
# in the same run, median of RUNS loads each:
#
#   baseline   the capture into a database where no load took a datagram:
#              the check asks once (lock_datagrams()) and nothing more
#   asked      the same capture into a database holding PRIOR earlier
#              captures of the same agents on other days (other boots, other
#              uptimes: other generator seeds): every agent is asked for, its
#              ranges come back, none is known
#   known      its pcapng conversion after it: every datagram known, none added
#   subagents  65,536 datagrams of made-up sub-agents of one address into a
#              database holding another such file (every sub-agent known to
#              load_seqs), against the same into an empty one (subagents0):
#              one question per agent address, not per sub-agent (one each
#              made it 54 s against 1.4 s)
#   madeup     100,000 datagrams of one agent in sequence with made-up
#              uptimes (a boot estimate each), against the same with uptimes
#              that count on (steady): runs are found from the numbers, at
#              most 64 of a sub-agent (a boot each made it 14 s against 0.9 s,
#              and a load_seqs row per datagram)
#   main       with BASE_LOADER=/path/to/a loader without the check (main's
#              build), the baseline's load by that loader
#
#   bash bench/exactly_once.sh                 SMTP=200000 PRIOR=5 RUNS=3
# Needs a running cluster (PGHOST), as tests/lib/pgcluster.sh starts.
set -euo pipefail
cd "$(dirname "$0")/.."
LOADER=${LOADER:-loader/spamhints-load}
RUNS=${RUNS:-3}
SMTP=${SMTP:-200000}
PRIOR=${PRIOR:-5}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_bench_once
gen() { tests/gen/spamhints-gen --seed "${3:-3}" --smtp "$SMTP" --other $((SMTP * 4)) --hours 2 --agents 8 --start "$1" -o "$2" >/dev/null; }
newdb() { dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints'; }
# wall seconds of one load of $2 by loader $1
timed() { local t0 t1; t0=$(date +%s.%N); "$1" -q -d $db "$2" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

gen 1300000000 "$tmp/c.pcap"
editcap -F pcapng "$tmp/c.pcap" "$tmp/c.pcapng"
for i in $(seq "$PRIOR"); do gen $((1300000000 - i * 86400)) "$tmp/p$i.pcap" $((10 + i)); done
# one agent, 100,000 datagrams in sequence: uptimes made up, or counting on
python3 - "$tmp" <<'PY'
import random, sys
sys.path.insert(0, "tests/e2e")
import boots_captures as b
rnd = random.Random(5)
b.write(sys.argv[1] + "/madeup.pcap", [((b.T0 + 1) * 1000000 + 100 * i, b.dgram(1 + i, rnd.getrandbits(32))) for i in range(100000)])
b.write(sys.argv[1] + "/steady.pcap", [((b.T0 + 1) * 1000000 + 100 * i, b.dgram(1 + i, 5000000 + i // 10)) for i in range(100000)])
PY

# N datagrams, sub-agent i for datagram i, all with sequence number $2
subagents() {
  python3 - "$1" "$2" <<'PY'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(1, 65537):
        sflow = struct.pack(">IIBBBBIIII", 5, 1, 10, 0, 0, 1, i, int(sys.argv[2]), 1000, 0)
        udp = struct.pack(">HHHH", 50000, 6343, 8 + len(sflow), 0) + sflow
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes((10, 0, 0, 1)), bytes((192, 0, 2, 200))) + udp
        frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip
        f.write(struct.pack("<IIII", 1700000000, 0, len(frame), len(frame)) + frame)
PY
}
subagents "$tmp/s1.pcap" 1; subagents "$tmp/s2.pcap" 2

for r in $(seq "$RUNS"); do
  newdb; timed "$LOADER" "$tmp/s1.pcap" >>"$tmp/subagents0"
  timed "$LOADER" "$tmp/s2.pcap" >>"$tmp/subagents"
  newdb; timed "$LOADER" "$tmp/c.pcap" >>"$tmp/baseline"
  timed "$LOADER" "$tmp/c.pcapng" >>"$tmp/known"
  newdb; for i in $(seq "$PRIOR"); do "$LOADER" -q -d $db "$tmp/p$i.pcap" >/dev/null; done
  timed "$LOADER" "$tmp/c.pcap" >>"$tmp/asked"
  newdb; timed "$LOADER" "$tmp/steady.pcap" >>"$tmp/steady"
  newdb; timed "$LOADER" "$tmp/madeup.pcap" >>"$tmp/madeup"
  if [ -n "${BASE_LOADER:-}" ]; then newdb; timed "$BASE_LOADER" "$tmp/c.pcap" >>"$tmp/main"; fi
done
rows=$(psql -X -d $db -Atc "SELECT smtp_rows FROM spamhints.load ORDER BY load_id DESC LIMIT 1")
b=$(median <"$tmp/baseline")
printf '%-10s %10s %8s  %s\n' part seconds ratio what
printf '%-10s %10.3f %8s  %s\n' baseline "$b" 1.00 "load of $rows SMTP rows, nothing to ask"
for p in asked known main; do
  [ -s "$tmp/$p" ] || continue
  m=$(median <"$tmp/$p")
  printf '%-10s %10.3f %8.2f  %s\n' $p "$m" "$(echo "$m / $b" | bc -l)" \
    "$(case $p in asked) echo "after $PRIOR captures of the same agents on other days";;
                  known) echo "its pcapng copy: every datagram known";; main) echo "BASE_LOADER, no check";; esac)"
done
s0=$(median <"$tmp/steady"); s1=$(median <"$tmp/madeup")
printf '%-10s %10.3f %8.2f  %s\n' madeup "$s1" "$(echo "$s1 / $s0" | bc -l)" "100,000 datagrams with made-up uptimes, against the same with steady ones ($s0 s)"
s0=$(median <"$tmp/subagents0"); s1=$(median <"$tmp/subagents")
printf '%-10s %10.3f %8.2f  %s\n' subagents "$s1" "$(echo "$s1 / $s0" | bc -l)" "65,536 sub-agents all in load_seqs, against a load of them into an empty database ($s0 s)"
dropdb $db
