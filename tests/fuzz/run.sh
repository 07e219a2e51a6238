#!/usr/bin/env bash
# tests/fuzz/run.sh: build the fuzz targets, make their seed corpora, replay
# the committed regression inputs, then fuzz each target for SECONDS.
#
#   tests/fuzz/run.sh SECONDS [TARGET...]      TARGET: sflow packet capture census types maillog known spool
#
# Prints TAP ("ok N - ..."): one line per target for the replay of its
# regressions/TARGET/ inputs and one for the fuzzing run, with its count of
# executions. Corpora grow in build/corpus/TARGET (kept between runs, never
# committed); a crash leaves its input in build/crashes/ and fails the run:
# minimise it (build/fuzz_TARGET -minimize_crash=1 -runs=100000 FILE), fix
# the bug and commit the input under regressions/TARGET/.
#
# Seeds are cut at run time out of the real captures in ../shared/data
# (never copied into the repository) and out of generated captures of every
# sFlow version.
set -uo pipefail
cd "$(dirname "$0")"
HERE=$(pwd)
ROOT=$(cd ../.. && pwd)
source "$ROOT/tests/lib/tap.sh"
SECONDS_PER_TARGET=${1:-10}; shift || true
ALL_TARGETS=(sflow packet capture census types maillog known spool)
TARGETS=("$@"); [ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL_TARGETS[@]}")
SHARED=${SPAMHINTS_SHARED:-$(cd "$ROOT/.." && pwd)/shared}/data

make -s >build.log 2>&1 || { cat build.log; ok 1 "fuzz targets build"; exit 1; }
rm -f build.log
make -s -C "$ROOT" tests/gen/spamhints-gen >/dev/null || { ok 1 "generator builds"; exit 1; }

# ---------------------------------------------------------------- seeds
SEEDS=$HERE/build/seeds.d
rm -rf "$SEEDS"; mkdir -p "$SEEDS"/{sflow,packet,capture,gen}
for v in 5 4 2 mix; do
  "$ROOT/tests/gen/spamhints-gen" --seed 7 --smtp 60 --other 60 --agents 3 --malformed 4 \
    --version $v -o "$SEEDS/gen/v$v.pcap" >/dev/null || { ok 1 "generator runs"; exit 1; }
done
captures=("$SEEDS"/gen/*.pcap)
if [ -d "$SHARED/sflow" ]; then
  while read -r f; do captures+=("$f"); done < <(find "$SHARED/sflow" -name '*.pcap' -not -path '*/input/*' | sort)
else
  echo "# no $SHARED/sflow: seeds from generated captures only"
fi
build/seeds "$SEEDS" "${captures[@]}" | sed 's/^/# /'
# whole captures for fuzz_capture: the small ones, as pcap, as pcapng, and cut short
for f in "${captures[@]}"; do
  [ "$(stat -c %s "$f")" -le 65536 ] || continue
  b=$SEEDS/capture/$(basename "$f" .pcap)
  cp "$f" "$b.pcap"
  head -c $(( $(stat -c %s "$f") * 2 / 3 )) "$f" >"$b.cut.pcap"
  if command -v editcap >/dev/null; then
    editcap -F pcapng "$f" "$b.pcapng" 2>/dev/null || rm -f "$b.pcapng"
  fi
done

# the extension's types: text and binary values as the regression tests write them
python3 - "$SEEDS" <<'PY'
import ipaddress, os, struct, sys
out = sys.argv[1]
def put(kind, name, data):
    os.makedirs(os.path.join(out, kind), exist_ok=True)
    open(os.path.join(out, kind, name), "wb").write(data)
def census(v4=((), (), ()), v6=((), (), ())):
    counts = [len(l) for l in v4] + [len(l) for l in v6]
    body = b"".join(ipaddress.ip_address(a).packed for l in v4 + v6 for a in l)
    return bytes([1]) + struct.pack(">6I", *counts) + body
values = [
    census(),
    census((("192.0.2.1",), (), ("192.0.2.2",)), ((), ("::1",), ())),
    census((("10.0.0.1", "10.0.0.2", "10.0.0.3"), ("10.0.0.9",), ()), (("2001:db8::1",), (), ("2001:db8::25",))),
    census((("192.0.2.2", "192.0.2.1"), ("192.0.2.2",), ())),          # unsorted, twice: not canonical
]
for i, v in enumerate(values):
    put("census", "binary%d" % i, b"\x00" + v)
    put("census", "walk%d" % i, b"\x03" + v)
    put("census", "merge%d" % i, b"\x01" + bytes([len(v) * 255 // (2 * len(v))]) + v + values[-1 - i])
for i, t in enumerate(["{}", "{192.0.2.1=client,192.0.2.2=both,::1=server}",
                       " { 10.0.0.1 = Client , 2001:db8::25=BOTH } ", "{::ffff:1.2.3.4=server}"]):
    put("census", "text%d" % i, b"\x02" + t.encode())
for i, t in enumerate(["client", "Server", "BOTH"]):
    put("types", "role%d" % i, b"\x00" + t.encode())
put("types", "rolebin", b"\x01\x03")
for i, t in enumerate(["{}", "{0:12,1:0,23:5}", "{ 3 : -1 , 7:9223372036854775807 }",
                       "{" + ",".join(str(h * 10) for h in range(24)) + "}"]):
    put("types", "hist%d" % i, b"\x02" + t.encode())
put("types", "histbin", b"\x03" + struct.pack(">24q", *range(-12, 12)))
PY

# mail logs: the sample logs of tests/data, each format with every configuration byte
# (fuzz_maillog.c: bit 0 the format, then --year, the zone, --host, batches)
python3 - "$SEEDS" "$ROOT/tests/data/maillog" <<'PY'
import os, random, struct, sys
out, logs = sys.argv[1], sys.argv[2]
def put(kind, name, data):
    os.makedirs(os.path.join(out, kind), exist_ok=True)
    open(os.path.join(out, kind, name), "wb").write(data)
for f in sorted(os.listdir(logs)):
    if f.endswith(".expected"):
        continue
    data = open(os.path.join(logs, f), "rb").read()
    fmt = 1 if f.startswith("postfix") else 0
    for flags in range(0, 64, 4):
        put("maillog", "%s-%d" % (f, fmt | flags), bytes([fmt | flags]) + data[:12000])
# known: operations on one sub-agent (fuzz_known.c): in order, reordered, restarts, wraps, history
r = random.Random(7)
for i in range(24):
    b = bytes([i & 1])
    for j in range(r.randrange(5, 80)):
        op = r.choice([0, 1, 2, 3, 3, 3, 4, 5, 6, 7, 11, 19, 27])
        b += bytes([op]) + bytes(r.randrange(256) for _ in range(r.randrange(0, 16)))
    put("known", "ops%d" % i, b)
# spool: collector files (odd first byte) of a few datagrams, whole, cut, with and without trailer,
# and files as found on disk (even first byte)
for i in range(16):
    b = bytes([1, r.randrange(8)])
    for j in range(r.randrange(1, 6)):
        b += bytes([r.randrange(4)]) + bytes(r.randrange(256) for _ in range(24)) + bytes([0, r.randrange(60)]) \
             + bytes(r.randrange(256) for _ in range(60))
    put("spool", "collector%d" % i, b)
shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
idb = struct.pack("<IIHHI", 1, 20, 101, 0, 262144) + struct.pack("<I", 20)
epb = struct.pack("<IIIIIII", 6, 36, 0, 0, 1, 4, 4) + b"\x45\0\0\x04" + struct.pack("<I", 36)
put("spool", "disk-whole", b"\0" + shb + idb + epb)
put("spool", "disk-cut", b"\0" + shb + idb + epb[:20])
PY

# ---------------------------------------------------------------- replay and fuzz
for t in "${TARGETS[@]}"; do
  bin=build/fuzz_$t
  [ -x "$bin" ] || { ok 1 "fuzz_$t: no such target"; continue; }

  reg=regressions/$t
  if [ -d "$reg" ] && [ -n "$(ls -A "$reg" 2>/dev/null)" ]; then
    n=$(ls -1 "$reg" | wc -l)
    "$bin" -runs=1 "$reg"/* >build/replay-$t.log 2>&1
    rc=$?
    ok $rc "fuzz_$t: replays its $n regression inputs (regressions/$t) without a crash"
    [ $rc -eq 0 ] || tail -30 build/replay-$t.log | sed 's/^/# /'
  fi

  mkdir -p build/corpus/$t build/crashes
  seeds=()
  [ -d "$SEEDS/$t" ] && seeds=("$SEEDS/$t")
  [ -d "$reg" ] && seeds+=("$reg")
  case $t in
    capture|maillog) maxlen=16384 ;;
    *)               maxlen=4096 ;;
  esac
  start=$(date +%s.%N)
  "$bin" -max_total_time="$SECONDS_PER_TARGET" -max_len=$maxlen -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="build/crashes/$t-" \
    build/corpus/$t "${seeds[@]}" >build/fuzz-$t.log 2>&1
  rc=$?
  end=$(date +%s.%N)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' build/fuzz-$t.log | tail -1)
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
  corpus=$(ls -1 build/corpus/$t | wc -l)
  ok $rc "fuzz_$t: ${runs:-0} executions in ${secs} s, no crash (corpus: $corpus inputs)"
  echo "# fuzz_$t executions=${runs:-0} seconds=$secs"
  if [ $rc -ne 0 ]; then
    grep -E 'ERROR|SUMMARY|broken promise|Test unit written' build/fuzz-$t.log | head -20 | sed 's/^/# /'
  fi
done
tap_done
