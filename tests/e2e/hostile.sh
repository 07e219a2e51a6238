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
