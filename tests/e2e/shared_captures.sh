#!/usr/bin/env bash
# tests/e2e/shared_captures.sh: load every public sFlow capture in
# ../shared/data/sflow and compare each SMTP row, and the counts of flow
# samples and sampled packets, with tshark's decoding of the same file.
# Files that hold malformed datagrams must have them counted, not loaded.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/packets_add_up.sh
SHARED=${SPAMHINTS_SHARED:-$(cd .. && pwd)/shared}/data
LOADER=loader/spamhints-load

if [ ! -d "$SHARED/sflow" ]; then
  skip "public sFlow captures" "no $SHARED/sflow on this machine"
  exit 0
fi

db=spamhints_e2e_shared
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# datagrams a correct decoder must reject, per file (the rest of each file loads):
#   NetFlow v5 sent to 6343 (5 frames), a fuzzed datagram, pmacct's short first
#   sample, a raw header record announcing more bytes than follow, and three
#   gopacket vectors whose record or sample lengths run past their container
#   (the upstream bytes are inconsistent; tshark is lenient with two of them)
declare -A MALFORMED=(
  [tcpdump-sflow_multiple_counter_30_pdus]=5
  [tcpdump-sflow_print-segv]=1
  [pmacct-sfprobe-smtp-ipv6agent]=1
  [telegraf-inputs-sflow-TestIPv4SW]=1
  [gopacket-SFlowTestPacket5]=1
  [gopacket-SFlowTestPacket8]=1
  [gopacket-SFlowTestPacket11]=1
)

while read -r f; do
  name=$(basename "$f" .pcap)
  $LOADER -d $db --no-progress "$f" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  ok $rc "$name: loads (exit $rc)" || true
  [ $rc -eq 0 ] || sed 's/^/# /' "$tmp/err"
  id=$(psql -X -d $db -Atc "SELECT load_id FROM spamhints.load WHERE file_name = '$f'")
  [ -n "$id" ] || { ok 1 "$name: has a load row"; continue; }
  packets_add_up $db "$id" "$name"

  tshark -r "$f" -T json --no-duplicate-keys -J "frame sflow" 2>/dev/null \
    | python3 "$SHARED/tshark_sflow_oracle.py" --header --all --ipdata >"$tmp/oracle.tsv"
  psql -X -d $db -Atc "COPY (SELECT frame, host(agent), sampling_rate, host(src_ip), host(dst_ip),
      src_port, dst_port, tcp_flags, vlan, gw_src_as, gw_dst_as
      FROM spamhints.smtp_sample WHERE load_id = $id) TO STDOUT" >"$tmp/ours.tsv"
  psql -X -d $db -Atc "COPY (SELECT flow_samples, sampled_packets FROM spamhints.load
      WHERE load_id = $id) TO STDOUT" >"$tmp/load.tsv"
  python3 tests/e2e/compare_tshark.py "$tmp/oracle.tsv" "$tmp/ours.tsv" "$tmp/load.tsv" 25 "${MALFORMED[$name]:-0}" >"$tmp/cmp"
  ok $? "$name: SMTP rows and sample counts equal tshark's ($(sed -n '1s/^# //p' "$tmp/cmp"))"
  sed -n '2,$p' "$tmp/cmp"

  is "$(psql -X -d $db -Atc "SELECT malformed FROM spamhints.load WHERE load_id = $id")" \
     "${MALFORMED[$name]:-0}" "$name: malformed datagrams counted"
done < <(find "$SHARED/sflow" -name '*.pcap' -not -path '*/input/*' | sort)

# the two files with SMTP: their rows are there, not just "equal" by both being empty
is "$(psql -X -d $db -Atc "SELECT sum(smtp_rows) FROM spamhints.load WHERE file_name LIKE '%pmacct-sfprobe-smtp-%'")" \
   "149" "the pmacct SMTP captures give 69 + 80 SMTP rows"
tap_done
