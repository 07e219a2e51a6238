#!/usr/bin/env bash
# tests/e2e/replay.sh: bench/replay.c, the sender of bench/collector.sh. A
# generated capture replayed (sendmmsg, at a rate) to spamhints-load
# --listen gives exactly the rows of loading that capture as a file, every
# datagram received and loaded, none dropped; looped with --renumber, each
# loop's rows are the file's again with new sequence numbers (so a
# collector that drops repeats keeps them all), and loop 0 is the file
# unchanged; replay takes from each shared capture as many datagrams as the
# loader decodes (datagrams + malformed); hostile files, short datagrams
# and sample lengths past the end do not crash it.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=loader/spamhints-load
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
db=spamhints_e2e_replay
q() { PGOPTIONS='-c client_min_messages=warning' psql -X -d "${2:-$db}" -Atc "$1"; }
newdb() { dropdb --if-exists "$1" 2>/dev/null; createdb "$1" && psql -qX -d "$1" -c 'CREATE EXTENSION spamhints'; }
free_port() { python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
kv() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
# wait_frames DB N: until the loads hold N frames (at most 15 s)
wait_frames() {
  for _ in $(seq 150); do
    [ "$(q 'SELECT coalesce(sum(frames), 0) FROM spamhints.load' "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
COLS="agent, sample_seq, sampling_rate, input_if, output_if, src_mac, dst_mac, vlan, src_ip, dst_ip,
      src_port, dst_port, tcp_flags, ip_len, ttl, smtp, gw_src_as, gw_dst_as"
rows() { q "SELECT md5(string_agg(r::text, E'\n' ORDER BY r::text)), count(*) FROM (SELECT $COLS FROM spamhints.smtp_sample ${2:-}) r" "$1"; }

cc -std=c99 -O2 -Wall -Wextra -Werror -Wshadow -o "$tmp/replay" bench/replay.c -lpcap 2>"$tmp/cc.err"
ok $? "bench/replay.c builds with -Wall -Wextra -Werror $(head -1 "$tmp/cc.err")"
REPLAY=$tmp/replay

tests/gen/spamhints-gen --seed 43 --smtp 3000 --other 3000 -o "$tmp/a.pcap" -t "$tmp/truth" >/dev/null || exit 1
newdb ${db}_ref >/dev/null && newdb $db >/dev/null && newdb ${db}_loops >/dev/null || exit 1
"$LOADER" -q -d ${db}_ref "$tmp/a.pcap" || exit 1
want=$(q 'SELECT datagrams + malformed FROM spamhints.load' ${db}_ref)

# 1. once, at 20,000 datagrams/s: the file's rows exactly
P=$(free_port)
"$LOADER" -d $db --listen 127.0.0.1:$P --spool "$tmp/sp1" --rotate 0.5 >"$tmp/out1" 2>"$tmp/err1" &
cpid=$!; pids+=("$cpid")
for _ in $(seq 50); do grep -q "listening on" "$tmp/err1" && break; sleep 0.1; done
out=$("$REPLAY" "$tmp/a.pcap" 127.0.0.1 $P --rate 20000 --batch 32)
ok $? "replay at --rate 20000: $out"
sent=$(kv sent "$out")
is "$sent" "$want" "it sends every datagram the loader decodes in the file (datagrams + malformed: $want)"
is "$(awk '$1 == "datagrams" { print $2 }' "$tmp/truth")" "$sent" "as many as the generator wrote"
ok $(awk -v r="$(kv rate "$out")" 'BEGIN { exit !(r > 0 && r <= 20000 * 1.05) }'; echo $?) "the token bucket holds the rate (achieved $(kv rate "$out")/s, asked 20000/s)"
wait_frames $db "$sent"; ok $? "the collector loads every datagram"
kill -TERM $cpid; wait $cpid; is "$?" 0 "SIGTERM: exit 0"
is "$(q 'SELECT sum(received), sum(frames), sum(kernel_dropped) FROM spamhints.load')" "$sent|$sent|0" \
   "received = loaded = sent, no kernel drop"
is "$(rows $db)" "$(rows ${db}_ref)" "the replayed capture's rows equal the file's, row for row ($(rows ${db}_ref | cut -d'|' -f2))"
is "$(q "SELECT string_agg(format('%s/%s %s+%s', agent, sub_agent, datagrams, malformed), ' ' ORDER BY agent, sub_agent) FROM spamhints.collector_agent")" \
   "$(q "SELECT string_agg(format('%s/%s %s+%s', agent, sub_agent, datagrams, malformed), ' ' ORDER BY agent, sub_agent) FROM spamhints.load_agent" ${db}_ref)" \
   "and the same datagrams and malformed per agent"

# 2. three loops, --renumber, as fast as possible
"$LOADER" -d ${db}_loops --listen 127.0.0.1:$P --spool "$tmp/sp2" --rotate 0.5 >"$tmp/out2" 2>"$tmp/err2" &
cpid=$!; pids+=("$cpid")
for _ in $(seq 50); do grep -q "listening on" "$tmp/err2" && break; sleep 0.1; done
out=$("$REPLAY" "$tmp/a.pcap" 127.0.0.1 $P --loops 3 --renumber --rate 50000)
is "$(kv sent "$out")|$(kv loops "$out")" "$((3 * want))|3" "--loops 3: three times the datagrams"
wait_frames ${db}_loops $((3 * want)); ok $? "all loaded"
kill -TERM $cpid; wait $cpid
is "$(q 'SELECT sum(received), sum(kernel_dropped) FROM spamhints.load' ${db}_loops)" "$((3 * want))|0" "received, none dropped"
n=$(q 'SELECT count(*) FROM spamhints.smtp_sample' ${db}_ref)
is "$(q 'SELECT count(*) FROM spamhints.smtp_sample' ${db}_loops)" "$((3 * n))" "three times the file's rows"
is "$(q 'SELECT count(*) FROM (SELECT DISTINCT agent, sample_seq, src_ip, dst_ip, src_port, dst_port FROM spamhints.smtp_sample) s' ${db}_loops)" \
   "$((3 * $(q 'SELECT count(*) FROM (SELECT DISTINCT agent, sample_seq, src_ip, dst_ip, src_port, dst_port FROM spamhints.smtp_sample) s' ${db}_ref)))" \
   "--renumber: each loop's samples have sequence numbers of their own (no repeat of an earlier loop's)"
# the file's rows without their sequence numbers, three times over
noseq="agent, sampling_rate, input_if, output_if, src_mac, dst_mac, vlan, src_ip, dst_ip, src_port, dst_port, tcp_flags, ip_len, ttl, smtp"
is "$(q "SELECT md5(string_agg(r::text, E'\n' ORDER BY r::text)) FROM (SELECT $noseq FROM spamhints.smtp_sample) r" ${db}_loops)" \
   "$(q "SELECT md5(string_agg(r::text, E'\n' ORDER BY r::text)) FROM (SELECT $noseq FROM spamhints.smtp_sample, generate_series(1, 3)) r" ${db}_ref)" \
   "and otherwise the file's rows three times"

# 3. replay finds what the loader decodes in every shared capture
shared=/work/shared/data/sflow
if [ -d "$shared" ]; then
  bad=0 files=0
  # the loader's count of each file, all in one run: "PATH: N datagrams, ..., M malformed"
  "$LOADER" --dry-run "$shared"/*/*.pcap 2>&1 | sed -n 's/^[^:]*: \(.*\): \([0-9]*\) datagrams, .* \([0-9]*\) malformed.*/\1 \2 \3/p' >"$tmp/decoded"
  for f in "$shared"/*/*.pcap; do
    files=$((files + 1))
    a=$("$REPLAY" "$f" 127.0.0.1 9 | sed -n 's/.* datagrams=\([0-9]*\) .*/\1/p')
    b=$(awk -v f="$f" '$1 == f { print $2 + $3 }' "$tmp/decoded")
    [ -n "$a" ] && [ "$a" = "$b" ] || { bad=$((bad + 1)); diag "$(basename "$f"): replay ${a:-nothing}, loader ${b:-nothing}"; }
  done
  is "$bad" 0 "replay takes as many datagrams as the loader decodes from each of the $files shared captures"
else
  skip "the shared captures" "no $shared"
fi

# 4. hostile input: no crash, a plain exit status
python3 - "$tmp" <<'PY'
import os, random, struct, sys
d = sys.argv[1]
random.seed(5)
def pcap(name, payloads, cut=None):
    with open(os.path.join(d, name), "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, p in enumerate(payloads):
            udp = struct.pack(">HHHH", 50000, 6343, 8 + len(p), 0) + p
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, b"\x0a\0\0\1", b"\xc0\0\2\1") + udp
            frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip
            f.write(struct.pack("<IIII", 1700000000, i, len(frame), len(frame)) + frame)
        if cut:
            f.write(b"\x01\x02\x03")
# sFlow v5 headers cut at every length, sample counts and lengths past the end, v2/v4, IPv6 agents
hdr = struct.pack(">IIIIIII", 5, 1, 0x0a000001, 0, 7, 1000, 3)
ps = [hdr[:i] for i in range(len(hdr) + 1)]
ps += [hdr + struct.pack(">II", 1, 0xffffffff) + b"\0" * 8, hdr + struct.pack(">II", 1, 2) + b"\0\0",
       struct.pack(">IIIIII", 2, 1, 0x0a000001, 7, 1000, 9), struct.pack(">II", 4, 2) + b"\0" * 16 + struct.pack(">III", 7, 1000, 0),
       struct.pack(">II", 5, 2) + b"\0" * 16 + struct.pack(">IIII", 0, 7, 1000, 0xffffffff), b""]
ps += [bytes(random.getrandbits(8) for _ in range(random.randrange(0, 200))) for _ in range(300)]
ps += [struct.pack(">II", 5, 1) + bytes(random.getrandbits(8) for _ in range(random.randrange(0, 120))) for _ in range(300)]
pcap("hostile.pcap", ps, cut=True)
with open(os.path.join(d, "hostile.n"), "w") as f:
    print(len(ps), file=f)
with open(os.path.join(d, "random.bin"), "wb") as f:
    f.write(bytes(random.getrandbits(8) for _ in range(5000)))
with open(os.path.join(d, "hdr.pcap"), "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1) + struct.pack("<IIII", 0, 0, 0xffffff, 0xffffff))
PY
"$REPLAY" "$tmp/hostile.pcap" 127.0.0.1 9 --loops 4 --renumber --first-loop 4000000000 >"$tmp/h.out" 2>&1
is "$?" 0 "short datagrams, lengths past the end, cut file, with --renumber: exit 0 ($(cat "$tmp/h.out" | head -1 | cut -c1-60))"
is "$(kv sent "$(cat "$tmp/h.out")")" "$((4 * $(cat "$tmp/hostile.n")))" "every datagram sent, as many times as the loops"
for f in random.bin hdr.pcap; do
  "$REPLAY" "$tmp/$f" 127.0.0.1 9 --renumber >"$tmp/h.out" 2>&1; rc=$?
  ok $([ $rc -eq 0 ] || [ $rc -eq 2 ] && echo 0 || echo 1) "$f: exit $rc, no crash ($(tail -1 "$tmp/h.out" | cut -c1-60))"
done
"$REPLAY" /nonexistent 127.0.0.1 9 >/dev/null 2>&1; is "$?" 2 "a missing capture: exit 2"
"$REPLAY" "$tmp/a.pcap" 127.0.0.1 >/dev/null 2>&1; is "$?" 1 "no port: exit 1"
"$REPLAY" --rate -5 "$tmp/a.pcap" 127.0.0.1 9 >/dev/null 2>&1; is "$?" 1 "a negative rate: exit 1"
"$REPLAY" --batch 5000 "$tmp/a.pcap" 127.0.0.1 9 >/dev/null 2>&1; is "$?" 1 "a batch beyond 1024: exit 1"

for d in $db ${db}_ref ${db}_loops; do dropdb --if-exists $d 2>/dev/null; done
tap_done
