#!/usr/bin/env bash
# bench/filtered.sh: what counting the frames the filter does not take, and
# taking sFlow to other ports by its content, cost the decode (issue 13,
# "nothing vanishes"). Ratios of CPU seconds (user+sys) of spamhints-load
# --dry-run, median of RUNS, the loaders run interleaved in one run:
#
#   mixed     a generated sFlow capture with OTHER non-sFlow frames among it
#             (UDP to 53 and 443 and TCP, Ethernet): every one of them now
#             goes through the content check and is counted (frame_filtered),
#             against BASE_LOADER (a build without it, e.g. main's) on the
#             same file
#   sniffed   the same sFlow datagrams sent to port 9995 (taken by their
#             content) against them on 6343 (taken by BPF), this loader
#
#   BASE_LOADER=/path/to/main/loader/spamhints-load bash bench/filtered.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LOADER=${LOADER:-loader/spamhints-load}
BASE_LOADER=${BASE_LOADER:-}
RUNS=${RUNS:-5}
SMTP=${SMTP:-100000}
OTHER=${OTHER:-1000000}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
tests/gen/spamhints-gen --seed 5 --smtp "$SMTP" --other $((SMTP * 4)) --hours 2 -o "$tmp/sflow.pcap" >/dev/null
python3 - "$tmp/sflow.pcap" "$tmp/other.pcap" "$tmp/p9995.pcap" "$OTHER" <<'PY'
import struct, sys
src, other, moved, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
data = open(src, 'rb').read()
hdr = data[:24]
# the same capture with sFlow's port 6343 made 9995 (IPv4 UDP checksum zeroed; IPv6 frames kept)
out = bytearray(hdr); at = 24
while at + 16 <= len(data):
    incl = struct.unpack_from('<I', data, at + 8)[0]
    rec = bytearray(data[at:at + 16 + incl]); f = 16
    if len(rec) > f + 34 and rec[f + 12:f + 14] == b'\x08\x00' and rec[f + 23] == 17:
        udp = f + 14 + (rec[f + 14] & 15) * 4
        if struct.unpack_from('>H', rec, udp + 2)[0] == 6343:
            struct.pack_into('>HH', rec, udp + 2, 9995, struct.unpack_from('>H', rec, udp + 4)[0])
            struct.pack_into('>H', rec, udp + 6, 0)
    out += rec; at += 16 + incl
open(moved, 'wb').write(out)
# non-sFlow frames, stamped within the capture's first second
out = bytearray(hdr)
eth = b'\x00\x11\x22\x33\x44\x55\x00\x66\x77\x88\x99\xaa\x08\x00'
ts = struct.unpack_from('<I', data, 24)[0]
for i in range(n):
    kind = i % 3
    payload = bytes((i * 7 + k) & 0xff for k in range(60 + i % 200))
    if kind < 2:
        l4 = struct.pack('>HHHH', 40000 + i % 1000, 53 if kind == 0 else 443, 8 + len(payload), 0) + payload
        proto = 17
    else:
        l4 = struct.pack('>HHIIBBHHH', 40000 + i % 1000, 80, i, 0, 0x50, 0x18, 512, 0, 0) + payload
        proto = 6
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), i & 0xffff, 0, 64, proto, 0,
                     bytes([10, 1, i >> 8 & 0xff, i & 0xff]), bytes([10, 2, 0, 1])) + l4
    frame = eth + ip
    out += struct.pack('<IIII', ts, i % 1000000, len(frame), len(frame)) + frame
open(other, 'wb').write(out)
PY
mergecap -F pcap -w "$tmp/mixed.pcap" "$tmp/sflow.pcap" "$tmp/other.pcap"

cpu() {	# LOADER FILE: CPU seconds of a --dry-run decode
  /usr/bin/time -f '%U %S' -o "$tmp/t" "$1" --dry-run --no-progress "$2" >/dev/null 2>&1
  awk '{ printf "%.3f\n", $1 + $2 }' "$tmp/t"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
: >"$tmp/mine"; : >"$tmp/base"; : >"$tmp/sniff"; : >"$tmp/bpf"
for _ in $(seq "$RUNS"); do
  cpu "$LOADER" "$tmp/mixed.pcap" >>"$tmp/mine"
  [ -n "$BASE_LOADER" ] && cpu "$BASE_LOADER" "$tmp/mixed.pcap" >>"$tmp/base"
  cpu "$LOADER" "$tmp/p9995.pcap" >>"$tmp/sniff"
  cpu "$LOADER" "$tmp/sflow.pcap" >>"$tmp/bpf"
done
frames=$(capinfos -c -M "$tmp/mixed.pcap" | awk '/Number of packets/ { print $NF }')
m=$(median <"$tmp/mine"); s=$(median <"$tmp/sniff"); b6343=$(median <"$tmp/bpf")
echo "mixed capture: $frames frames ($OTHER not sFlow), --dry-run CPU s (median of $RUNS): this loader $m"
if [ -n "$BASE_LOADER" ]; then
  b=$(median <"$tmp/base")
  echo "  base loader $b; ratio this/base $(awk -v a="$m" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
fi
echo "sFlow to 9995 (content) $s against 6343 (BPF) $b6343: ratio $(awk -v a="$s" -v b="$b6343" 'BEGIN { printf "%.2f", a / b }')"
