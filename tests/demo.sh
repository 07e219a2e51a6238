#!/usr/bin/env bash
# tests/demo.sh: the main job on a demo capture (README: "make demo").
# Installs the packages, builds, starts a throwaway PostgreSQL cluster,
# generates a capture, loads it and prints the answers. Leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/lib/deps.sh
make -s all spamhints.so sql/spamhints--0.1.sql
make -s install >/dev/null

source tests/lib/pgcluster.sh
pg_start
DEMO=$(mktemp -d /tmp/spamhints-demo.XXXXXX)
trap 'rm -rf "$DEMO"; pg_stop' EXIT

psql -qX -c 'CREATE EXTENSION spamhints'

echo "== a demo capture: 25 hours at an exchange, 4 switches (sFlow v5, v4, v2), 1 in 10 samples SMTP"
tests/gen/spamhints-gen --seed 7 --smtp 200000 --other 1800000 --version mix \
  -o "$DEMO/demo.pcap" -t "$DEMO/truth.txt" --networks "$DEMO/networks.tsv"
ls -l "$DEMO/demo.pcap" | awk '{printf "%s bytes\n", $5}'
echo "== ASN and country databases (MaxMind DB format) for the demo's networks"
perl tests/lib/make_mmdb.pl --networks "$DEMO/networks.tsv" \
  --asn "$DEMO/asn.mmdb" --country "$DEMO/country.mmdb"
export SPAMHINTS_ASN_DB="$DEMO/asn.mmdb" SPAMHINTS_COUNTRY_DB="$DEMO/country.mmdb"

echo
echo "== spamhints-load demo.pcap   (enriched from \$SPAMHINTS_ASN_DB and \$SPAMHINTS_COUNTRY_DB)"
loader/spamhints-load "$DEMO/demo.pcap"
echo "== and again: the same capture adds nothing"
loader/spamhints-load "$DEMO/demo.pcap"

# the questions of the seed slides, one statement each (spamhints on the
# search_path for the smtp_role operators; hours of day in UTC)
export PGOPTIONS="-c search_path=spamhints,public -c TimeZone=UTC"
q() { echo; echo "== $1"; echo "$2"; psql -X -P footer=off -c "$2"; }
# a chart reads best without the table around it
qa() { echo; echo "== $1"; echo "$2"; psql -X -At -c "$2"; }

q "SMTP packets and the SYN, SYN/ACK, RST, FIN shares" \
  "SELECT * FROM spamhints.packet_stats;"
q "What was loaded" \
  "SELECT load_id, datagrams, flow_samples, smtp_rows, malformed, lost_datagrams, skipped FROM spamhints.load;"
q "Distinct addresses: client only, server only, both" \
  "SELECT * FROM ip_census;"
q "Client AS top 30 (the first 10 shown), with the AS's name and country" \
  "SELECT rank, asn, as_org, country, clients, servers, \"both\" FROM client_as_top WHERE rank <= 30 LIMIT 10;"
q "The 100th place" \
  "SELECT rank, asn, as_org, country, clients FROM client_as_top ORDER BY rank, asn OFFSET 99 LIMIT 1;"
q "The same by country" \
  "SELECT * FROM client_cc_top LIMIT 5;"
qa "The busiest known open server (answers on port 25 with SYN/ACK): its hour-of-day chart" \
  "SELECT chart(hourly(ts)) FROM endpoint
   WHERE ip = (SELECT ip FROM endpoint WHERE role >= 'server' AND tcp_flags & 18 = 18
               GROUP BY ip ORDER BY count(*) DESC LIMIT 1);"
q "Activity over the first six hours of the capture" \
  "SELECT * FROM activity('2007-03-14 00:00+00', '2007-03-14 06:00+00');"
q "The busiest addresses, whatever their role" \
  "SELECT ip, role_or(role) AS role, count(*) AS samples, sum(sampling_rate) AS est_packets,
          count(DISTINCT peer) AS peers
   FROM endpoint GROUP BY ip ORDER BY samples DESC LIMIT 5;"
q "Rollups: a census per hour, merged (as a materialized view would keep them)" \
  "SELECT (counts(census_union(c))).*
   FROM (SELECT date_trunc('hour', ts) AS hour, census_agg(src_ip, dst_ip, src_port, dst_port) AS c
         FROM smtp_sample GROUP BY 1) AS hourly_census;"

echo
echo "== the generator's ground truth for the same capture"
grep -E '^(valid_datagrams|malformed_datagrams|lost_datagrams|flow_samples|smtp_rows|syn|syn_ack|rst|fin|est_packets|ips|client_only|server_only|both) ' "$DEMO/truth.txt"
echo "the top 10 ASes by client-only addresses (asn client_only server_only both):"
awk '$1 == "as"' "$DEMO/truth.txt" | sort -k3,3nr -k2,2n | head -10 | cut -d' ' -f2-
