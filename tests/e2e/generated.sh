#!/usr/bin/env bash
# tests/e2e/generated.sh: generated captures in sFlow v5, v4, v2 and a mix.
# Each is loaded and its rows compared three ways:
#   - with tshark's decoding of the same file (tests/gen/check_with_tshark.py,
#     which walks tshark's JSON itself: the shared oracle script misses v2/v4);
#   - with the rows the generator recorded (ground truth), exactly;
#   - every count of spamhints.load, load_agent and packet_stats with the
#     generator's truth file.
# Then: another port set, standard input, the same capture twice.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/packets_add_up.sh
LOADER=loader/spamhints-load
GEN=tests/gen/spamhints-gen
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ORACLE=${SPAMHINTS_SHARED:-$(cd .. && pwd)/shared}/data/tshark_sflow_oracle.py

truth() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

# our rows in the generator's --rows format: frame ts_usec agent rate src dst sport dport flags vlan
export_rows() {
  psql -X -d "$1" -Atc "COPY (SELECT frame, (extract(epoch FROM ts) * 1000000)::bigint, host(agent),
      sampling_rate, host(src_ip), host(dst_ip), src_port, dst_port, tcp_flags, vlan
      FROM spamhints.smtp_sample WHERE load_id = $2) TO STDOUT" >"$3"
}

# multiset equality of two row files, addresses normalised
same_rows() {
  python3 - "$1" "$2" <<'EOF'
import collections, ipaddress, sys
def rows(path):
    c = collections.Counter()
    for line in open(path):
        v = line.rstrip("\n").split("\t")
        for i in (2, 4, 5):
            v[i] = ipaddress.ip_address(v[i]).compressed
        c[tuple(v)] += 1
    return c
a, b = rows(sys.argv[1]), rows(sys.argv[2])
if a != b:
    print("# %d rows only in ours, %d only in the truth" % (sum((a - b).values()), sum((b - a).values())))
    for k in list(a - b)[:3]: print("#   ours:  %s" % (k,))
    for k in list(b - a)[:3]: print("#   truth: %s" % (k,))
    sys.exit(1)
EOF
}

seed=11
for version in 5 4 2 mix; do
  seed=$((seed + 1))
  db=spamhints_e2e_gen_$version
  dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
  cap=$tmp/v$version.pcap t=$tmp/v$version.truth
  $GEN --seed $seed --smtp 4000 --other 4000 --agents 4 --loss 20 --version $version \
    -o "$cap" -t "$t" --rows "$tmp/v$version.rows" --networks "$tmp/v$version.net"
  ok $? "v$version: generated"

  $LOADER -d $db --no-progress "$cap" >"$tmp/out" 2>"$tmp/err"
  ok $? "v$version: loads"
  sed 's/^/# /' "$tmp/out" "$tmp/err"
  id=$(psql -X -d $db -Atc "SELECT max(load_id) FROM spamhints.load")

  export_rows $db "$id" "$tmp/ours.tsv"
  if [ -f "$ORACLE" ]; then
    python3 tests/gen/check_with_tshark.py "$cap" "$tmp/ours.tsv" "$t" --networks "$tmp/v$version.net" \
      --oracle "$ORACLE" >"$tmp/chk" 2>&1
    ok $? "v$version: every SMTP row equals tshark's decoding"
    sed 's/^/# /' "$tmp/chk" | tail -5
  else
    skip "v$version: every SMTP row equals tshark's decoding" "no $ORACLE (../shared) on this machine"
  fi
  same_rows "$tmp/ours.tsv" "$tmp/v$version.rows"
  ok $? "v$version: every SMTP row equals the generator's ground truth"

  read -r datagrams malformed flow counter packets smtp lost < <(psql -X -d $db -Atc \
    "SELECT datagrams, malformed, flow_samples, counter_samples, sampled_packets, smtp_rows, lost_datagrams
     FROM spamhints.load WHERE load_id = $id" | tr '|' ' ')
  is "$datagrams" "$(truth valid_datagrams "$t")" "v$version: datagrams"
  is "$malformed" "$(truth malformed_datagrams "$t")" "v$version: malformed datagrams counted, not loaded"
  # each agent's sampling: the configured rate is its samples' sampling_rate; the
  # generator steps the sample pool by rate/2 + a uniform draw below rate (mean
  # rate - 1/2) per flow sample: the effective rate, the mean of some 1,000 to
  # 3,000 such draws here, is within 3% of that (4 standard deviations)
  is "$(psql -X -d $db -Atc "SELECT count(*) FROM spamhints.load_agent a
        WHERE a.load_id = $id AND a.rate_samples > 100
          AND a.configured_rate = (SELECT max(s.sampling_rate) FROM spamhints.smtp_sample s
                                   WHERE s.load_id = a.load_id AND s.agent = a.agent)
          AND abs(a.effective_rate / (a.configured_rate - 0.5) - 1) < 0.03")" \
     "$(psql -X -d $db -Atc "SELECT count(*) FROM spamhints.load_agent WHERE load_id = $id")" \
     "v$version: every agent's configured and effective sampling rates"
  is "$flow" "$(truth flow_samples "$t")" "v$version: flow samples"
  is "$counter" "$(truth counter_samples "$t")" "v$version: counter samples (skipped)"
  is "$packets" "$(truth sampled_packets "$t")" "v$version: sampled packets, SMTP or not"
  is "$smtp" "$(truth smtp_rows "$t")" "v$version: SMTP rows"
  is "$lost" "$(truth lost_datagrams "$t")" "v$version: datagrams lost in transit"
  packets_add_up $db "$id" "v$version"

  is "$(psql -X -d $db -Atc "SELECT smtp_packets, syn, syn_ack, rst, fin, est_packets FROM spamhints.packet_stats")" \
     "$(truth smtp_rows "$t")|$(truth syn "$t")|$(truth syn_ack "$t")|$(truth rst "$t")|$(truth fin "$t")|$(truth est_packets "$t")" \
     "v$version: packet_stats"
  is "$(psql -X -d $db -Atc "SELECT count(*) FILTER (WHERE family(src_ip) = 6), count(*) FILTER (WHERE vlan IS NOT NULL)
                          FROM spamhints.smtp_sample")" \
     "$(truth ipv6_rows "$t")|$(truth vlan_rows "$t")" "v$version: IPv6 and VLAN-tagged rows"
  is "$(psql -X -d $db -Atc "SELECT string_agg(format('%s %s %s %s', host(agent), version, datagrams, lost), ',' ORDER BY host(agent))
                          FROM spamhints.load_agent WHERE load_id = $id")" \
     "$(awk '$1 == "agent" { print $2, $4, $6, $8 }' "$t" | sort | paste -sd,)" \
     "v$version: per agent: version, datagrams, lost in transit"
  is "$(psql -X -d $db -Atc "SELECT string_agg(smtp || ' ' || n, ',' ORDER BY smtp)
                          FROM (SELECT smtp, count(*) n FROM spamhints.smtp_sample WHERE smtp IS NOT NULL GROUP BY smtp) s")" \
     "$(awk '$1 == "smtp_verb" { print $2, $3 }' "$t" | LC_ALL=C sort | paste -sd,)" \
     "v$version: SMTP commands and reply codes"
  is "$(psql -X -d $db -Atc "SELECT sha256 FROM spamhints.load WHERE load_id = $id")" \
     "$(sha256sum "$cap" | cut -d' ' -f1)" "v$version: the content hash is the file's SHA-256"

  # the same capture again: nothing added
  $LOADER -d $db --no-progress "$cap" >"$tmp/out" 2>&1
  ok $? "v$version: loading it again succeeds"
  grep -q "already loaded as load $id" "$tmp/out"
  ok $? "v$version: and says it was already loaded"
  is "$(psql -X -d $db -Atc "SELECT count(*) FROM spamhints.load")|$(psql -X -d $db -Atc "SELECT count(*) FROM spamhints.smtp_sample")" \
     "1|$(truth smtp_rows "$t")" "v$version: and adds nothing"
done

# other SMTP ports, from standard input
db=spamhints_e2e_gen_ports
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
$LOADER -d $db --no-progress --ports 25,465,587 - <"$tmp/vmix.pcap" >"$tmp/out" 2>&1
ok $? "standard input: loads"
is "$(psql -X -d $db -Atc "SELECT smtp_rows, smtp_ports, file_name FROM spamhints.load")" \
   "$(truth smtp_rows_25_465_587 "$tmp/vmix.truth")|{25,465,587}|(standard input)" \
   "--ports 25,465,587: SMTP rows on all three ports"
$LOADER -d $db --no-progress "$tmp/vmix.pcap" >"$tmp/out" 2>&1
grep -q "already loaded" "$tmp/out"
ok $? "the same capture from a file after standard input: already loaded (same hash)"
tap_done
