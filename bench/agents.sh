#!/usr/bin/env bash
# bench/agents.sh: the per-agent table under a sender that makes up agents.
# Decodes (spamhints-load --dry-run) N sFlow datagrams that each claim a new
# sub-agent, and N that each claim a new agent address, against the baseline
# of N datagrams from one agent, measured in the same run: with a hash table
# and the agent bound the ratios stay near 1 whatever N is (a linear list made
# 200,000 sub-agents 17 s, about 100x the baseline).
#
#   bash bench/agents.sh            N = 200000 and 1000000
#   AGENT_COUNTS="50000" RUNS=5 bash bench/agents.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LOADER=${LOADER:-loader/spamhints-load}
RUNS=${RUNS:-3}
[ -x "$LOADER" ] || make -s loader
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# N datagrams of one shape, as a pcap: one = one agent, its sequence counting
# up; subagents = sub-agent i for datagram i; addresses = agent 10.x.y.z for i
write() {
  python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(1, n + 1):
        agent = (10, (i >> 16) & 255, (i >> 8) & 255, i & 255) if kind == "addresses" else (10, 0, 0, 1)
        sub = i if kind == "subagents" else 0
        seq = i if kind == "one" else 1
        sflow = struct.pack(">IIBBBBIIII", 5, 1, *agent, sub, seq, 1000, 0)
        udp = struct.pack(">HHHH", 50000, 6343, 8 + len(sflow), 0) + sflow
        total = 20 + len(udp)
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 17, 0, bytes(agent), bytes((192, 0, 2, 200))) + udp
        frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip
        f.write(struct.pack("<IIII", 1700000000 + i // 1000, i % 1000, len(frame), len(frame)) + frame)
PY
}

# median wall seconds of RUNS decodes
median() {
  local f=$1 i t
  for i in $(seq "$RUNS"); do
    t0=$(date +%s.%N); "$LOADER" --dry-run -q "$f" >"$tmp/out" 2>&1 || true; t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc
  done | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}

printf '%-10s %-12s %10s %10s %s\n' "datagrams" "agents" "seconds" "vs one" "skipped"
for n in ${AGENT_COUNTS:-200000 1000000}; do
  for kind in one subagents addresses; do write $kind "$n" "$tmp/$kind.pcap"; done
  base=$(median "$tmp/one.pcap")
  for kind in one subagents addresses; do
    if [ $kind = one ]; then s=$base; else s=$(median "$tmp/$kind.pcap"); fi
    "$LOADER" --dry-run "$tmp/$kind.pcap" >"$tmp/out" 2>&1 || true
    printf '%-10s %-12s %10.3f %9.2fx %s\n' "$n" "$kind" "$s" "$(echo "$s / $base" | bc -l)" \
      "$(grep -o 'agent_limit": [0-9]*' "$tmp/out" | head -1 | tr -d '"')"
  done
  rm -f "$tmp"/*.pcap
done
