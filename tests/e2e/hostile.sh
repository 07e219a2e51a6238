#!/usr/bin/env bash
# tests/e2e/hostile.sh: hostile captures. Each case (tests/e2e/hostile_captures.py
# builds them, with what loading each must give) is a capture with good datagrams
# around something hostile: a file cut short (pcap and pcapng), another link type,
# frames that hold no whole datagram, datagrams that are not sFlow or announce
# absurd sample counts and lengths, sampled headers cut inside IP or TCP, IPv4
# options, IPv6 extension headers, IP fragments, encapsulations (MPLS, PPPoE,
# LLC/SNAP, GRE, IP in IP). For each: the loader's exit status, the rest of the
# capture loaded (its SMTP rows), the hostile part skipped and counted under a
# reason, exactly, in spamhints.load.skipped and in the summary line, every
# sampled packet either a row or under a packet_* reason, and malformed
# datagrams counted. The encapsulated SMTP packets are also compared with
# tshark's decoding of the innermost IP and TCP headers.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/packets_add_up.sh
LOADER=loader/spamhints-load
SHARED=${SHARED:-../shared/data}
# cases of 0.2 whose sFlow tshark decodes whole: compared with tshark's rows and times (IP
# reassembly off, so that tshark dissects a first fragment's TCP header as the loader does). Left
# out, where tshark (4.0) and the loader differ: sample_other_enterprise (tshark does not skip a
# sample of another enterprise by its length and flags the datagram malformed; the sFlow v5 spec
# says skip it), packet_tcp_data_offset_below_5 (tshark gives no flags for a header of bogus length;
# the loader keeps the flags byte, inside the 16 bytes the header claims)
TSHARK_CASES="frame_ipv6_collector frame_ipv6_collector_8021q frame_udp_checksum_wrong frame_ethernet_padding
  pcap_nanosecond pcap_big_endian pcap_times_out_of_order pcapng_link_types pcapng_tsresol
  agent_ipv6 record_other_enterprise counter_samples_mixed packet_ipv4_first_fragment
  packet_ipv6_chain_with_first_fragment packet_tcp_data_offset_past_header sequence_wraps
  pcapng_options_unknown_blocks pcapng_numbered_blocks pcapng_section_other_byte_order
  pcap_caplen_past_snaplen sample_pool_wraps"
TSHARK_CASES=$(echo $TSHARK_CASES)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_hostile
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
q() { psql -X -d $db -Atc "$1"; }

python3 tests/e2e/hostile_captures.py "$tmp" || { ok 1 "hostile captures written"; exit 1; }

while IFS=$'\t' read -r name files exit_status rows malformed skipped check what; do
  q "SET client_min_messages = warning; TRUNCATE spamhints.load CASCADE" >/dev/null
  args=()
  IFS=, read -ra names <<<"$files"
  for f in "${names[@]}"; do args+=("$tmp/$f"); done
  $LOADER -d $db --no-progress "${args[@]}" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  is "$rc" "$exit_status" "$name: exit $exit_status ($what)"
  if [ "$rc" -ne 0 ]; then
    grep -q 'error:' "$tmp/err"
    ok $? "$name: says why: $(grep -m1 'error:' "$tmp/err")"
  fi
  if [ "$skipped" = "-" ]; then
    is "$(q "SELECT count(*) FROM spamhints.load")" 0 "$name: nothing loaded"
    continue
  fi
  id=$(q "SELECT load_id FROM spamhints.load")
  [ -n "$id" ] || { ok 1 "$name: a load row"; sed 's/^/# /' "$tmp/err"; continue; }
  is "$(q "SELECT smtp_rows || ' ' || (SELECT count(*) FROM spamhints.smtp_sample WHERE load_id = $id) || ' ' || malformed
          FROM spamhints.load")" "$rows $rows $malformed" \
     "$name: the rest is loaded ($rows SMTP rows) and $malformed malformed datagram(s) counted"
  is "$(q "SELECT skipped = '$skipped'::jsonb FROM spamhints.load")" t \
     "$name: spamhints.load.skipped is $skipped"
  [ "$(q "SELECT skipped FROM spamhints.load")" = "$skipped" ] || q "SELECT '#   got: ' || skipped FROM spamhints.load"
  packets_add_up $db "$id" "$name"
  if [ "$skipped" != "{}" ]; then
    said=$(grep -o 'skipped {[^}]*}' "$tmp/out" | sed 's/^skipped //')
    is "$(q "SELECT '${said:-null}'::jsonb = '$skipped'::jsonb")" t "$name: and the summary line says so"
    if grep -q capture_ <<<"$skipped"; then
      grep -q 'warning:.*loading the packets before it' "$tmp/err"
      ok $? "$name: with a warning: $(grep -m1 'warning:' "$tmp/err" | cut -c1-150)"
    fi
  fi
  if [ "$check" != "-" ]; then
    is "$(q "SELECT $check FROM spamhints.smtp_sample s WHERE s.load_id = $id")" t "$name: $check"
  fi
  # the new cases tshark decodes as the loader must: rows, frame numbers and times equal tshark's
  # (-Y frame: tshark's JSON of a custom block has no frame layer, which the oracle needs)
  if [[ " $TSHARK_CASES " == *" $name "* ]]; then
    if command -v tshark >/dev/null && [ -f "$SHARED/tshark_sflow_oracle.py" ]; then
      f=$tmp/$files
      tshark -o ip.defragment:FALSE -o ipv6.defragment:FALSE -r "$f" -Y frame -T json --no-duplicate-keys -J "frame sflow" 2>/dev/null \
        | python3 "$SHARED/tshark_sflow_oracle.py" --header --all --ipdata >"$tmp/oracle.tsv"
      q "COPY (SELECT frame, host(agent), sampling_rate, host(src_ip), host(dst_ip),
          src_port, dst_port, tcp_flags, vlan, gw_src_as, gw_dst_as
          FROM spamhints.smtp_sample WHERE load_id = $id) TO STDOUT" >"$tmp/ours.tsv"
      q "COPY (SELECT flow_samples, sampled_packets FROM spamhints.load WHERE load_id = $id) TO STDOUT" >"$tmp/load.tsv"
      python3 tests/e2e/compare_tshark.py "$tmp/oracle.tsv" "$tmp/ours.tsv" "$tmp/load.tsv" 25 "$malformed" >"$tmp/cmp"
      ok $? "$name: rows and frame numbers equal tshark's ($(sed -n '1s/^# //p' "$tmp/cmp"))" || sed 's/^/# /' "$tmp/cmp" | head -5
      is "$(q "SELECT string_agg(DISTINCT frame || ' ' || to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), ',')
               FROM spamhints.smtp_sample WHERE load_id = $id")" \
         "$(tshark -r "$f" -T fields -e frame.number -e frame.time_epoch 2>/dev/null \
            | python3 -c 'import sys, datetime, decimal
rows = set(int(l) for l in open(sys.argv[1]).read().split())
out = []
for line in sys.stdin:
    if len(line.split()) != 2:
        continue  # a custom block: a frame number, no time
    n, t = line.split()
    if int(n) in rows:
        d = decimal.Decimal(t).quantize(decimal.Decimal("0.000001"), rounding=decimal.ROUND_DOWN)
        s = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=int(d), microseconds=int((d % 1) * 1000000))
        out.append("%s %s" % (n, s.strftime("%Y-%m-%d %H:%M:%S.%f")))
print(",".join(sorted(out)))' <(q "SELECT DISTINCT frame FROM spamhints.smtp_sample WHERE load_id = $id"))" \
         "$name: the frames' times equal tshark's, to the microsecond"
    else
      skip "$name: rows equal tshark's" "no tshark or no $SHARED/tshark_sflow_oracle.py on this machine"
    fi
  fi
  if [[ $name == packet_encap_* ]]; then
    if command -v tshark >/dev/null; then
      is "$(q "SELECT host(src_ip) || ' ' || host(dst_ip) || ' ' || src_port || ' ' || dst_port
               FROM spamhints.smtp_sample WHERE load_id = $id AND frame = 3 ORDER BY 1")" \
         "$(tshark -r "$tmp/$files" -T json --no-duplicate-keys -J "frame sflow" 2>/dev/null \
            | python3 tests/e2e/tshark_inner.py 3)" \
         "$name: the row equals tshark's innermost IP and TCP headers"
    else
      skip "$name: the row equals tshark's decoding" "no tshark on this machine"
    fi
  fi
done <"$tmp/cases.tsv"

# a pcapng cut short, from standard input: read to its end all the same
q "SET client_min_messages = warning; TRUNCATE spamhints.load CASCADE" >/dev/null
$LOADER -d $db --no-progress - <"$tmp/pcapng_cut_in_block.pcapng" >"$tmp/out" 2>"$tmp/err"
ok $? "standard input cut inside a pcapng block: loads"
is "$(q "SELECT smtp_rows || ' ' || (skipped = '{\"capture_truncated\": 1, \"packet_not_smtp\": 3}') || ' ' ||
               (sha256 = '$(sha256sum "$tmp/pcapng_cut_in_block.pcapng" | cut -d' ' -f1)')
        FROM spamhints.load")" '6 true true' \
   "standard input cut short: the rest loaded, counted, and hashed whole"
tap_done
