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
  -o "$DEMO/demo.pcap" -t "$DEMO/truth.txt"
ls -l "$DEMO/demo.pcap" | awk '{printf "%s bytes\n", $5}'

echo
echo "== spamhints-load demo.pcap"
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
qa "The busiest known open server (answers on port 25 with SYN/ACK): its hour-of-day chart" \
  "SELECT chart(hourly(ts)) FROM endpoint
   WHERE ip = (SELECT ip FROM endpoint WHERE role >= 'server' AND tcp_flags & 18 = 18
               GROUP BY ip ORDER BY count(*) DESC LIMIT 1);"
q "Activity over the first six hours of the capture" \
  "SELECT * FROM activity('2007-03-14 00:00+00', '2007-03-14 06:00+00');"

echo
echo "== the generator's ground truth for the same capture"
grep -E '^(valid_datagrams|malformed_datagrams|lost_datagrams|flow_samples|smtp_rows|syn|syn_ack|rst|fin|est_packets|ips|client_only|server_only|both) ' "$DEMO/truth.txt"
