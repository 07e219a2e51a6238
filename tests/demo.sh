#!/usr/bin/env bash
# tests/demo.sh: the main job on a demo capture (README: "make demo").
# Installs the packages, builds, starts a throwaway PostgreSQL cluster,
# generates a capture, loads it and prints the answers, and writes them with
# their charts (SVG) to demo.html (DEMO_HTML=path for another place). Leaves
# nothing else behind.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/lib/deps.sh
make -s all spamhints.so sql
make -s install >/dev/null

source tests/lib/pgcluster.sh
# with pg_cron when it is installed, to show the schedule
if [ -f "$(pg_config --pkglibdir)/pg_cron.so" ]; then
  PG_EXTRA_CONF="shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on"
fi
pg_start
DEMO=$(mktemp -d /tmp/spamhints-demo.XXXXXX)
trap 'rm -rf "$DEMO"; pg_stop' EXIT
DEMO_HTML=$(realpath -m "${DEMO_HTML:-demo.html}")
# everything printed is also kept for the page
exec > >(tee "$DEMO/output.txt")

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

# the questions, one statement each, in a database set up as README says
# (spamhints on every session's search_path, for the smtp_role operators:
# WHERE role = 'server'); hours of day in UTC
psql -qX -c "ALTER DATABASE \"$PGDATABASE\" SET search_path = \"\$user\", public, spamhints"
export PGOPTIONS="-c TimeZone=UTC"
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
q "The servers an analyst filters first (the database's search_path finds the role operators)" \
  "SELECT count(DISTINCT ip) AS servers FROM endpoint WHERE role = 'server';"
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
awk '$1 == "as"' "$DEMO/truth.txt" | sort -k3,3nr -k2,2n | sed -n 1,10p | cut -d' ' -f2-

# ---------------------------------------------------------------------------
# A day at the abuse desk (README): customers, mail logs, reports.
# ---------------------------------------------------------------------------
export PGTZ=UTC
LOAD="$(pwd)/loader/spamhints-load"
MAILGEN="$(pwd)/tests/gen/spamhints-maillog-gen"
step() { echo; echo "=== $1"; }
sql() { echo "\$ psql -c \"$1\""; psql -X -P footer=off -c "$1"; }
sql_raw() { echo "\$ psql -At -c \"$1\""; psql -X -At -c "$1"; }

# The demo's own customer database and mail logs, made from the capture:
# the network that sends most mail is ours; the next two agree to receive
# reports; our mail servers heard from some of the senders.
psql -qX -c "CREATE SCHEMA demo" -c "CREATE TABLE demo.network (network cidr, asn bigint, org text, cc text)" \
  -c "\\copy demo.network FROM '$DEMO/networks.tsv'"
psql -qX -f tests/demo_day.sql
psql -X -c "COPY (SELECT customer_id, network, during FROM demo.lease ORDER BY network, during) TO STDOUT (FORMAT csv)" >"$DEMO/leases.csv"
psql -X -c "COPY (SELECT host(ip), kind, messages FROM demo.mail ORDER BY 1, 2) TO STDOUT (DELIMITER ' ')" >"$DEMO/clients.tsv"
psql -X -At -c "SELECT org, domain, asn, networks FROM demo.agreed ORDER BY rank" >"$DEMO/agreements.txt"
"$MAILGEN" --seed 7 --date 2007-03-14 --timezone Europe/London \
  --clients "$DEMO/clients.tsv" --exim "$DEMO/mainlog" --postfix "$DEMO/maillog"
cd "$DEMO"

step "1. Load the night's captures (above; again, it adds nothing)"
echo "\$ spamhints-load demo.pcap"
"$LOAD" demo.pcap

step "2. Load the mail servers' logs: mx1 (Exim), mx2 (Postfix with amavisd-new)"
echo "\$ spamhints-load --maillog exim --timezone Europe/London --host mx1 mainlog"
"$LOAD" --maillog exim --timezone Europe/London --host mx1 mainlog
echo "\$ spamhints-load --maillog postfix --timezone Europe/London --year 2007 maillog"
"$LOAD" --maillog postfix --timezone Europe/London --year 2007 maillog

step "3. Who held which address when: an export of the customer database"
echo "\$ head -3 leases.csv"
head -3 leases.csv
echo "\$ psql -c \"\\copy spamhints.ip_assignment FROM 'leases.csv' (FORMAT csv)\""
psql -X -c "\\copy spamhints.ip_assignment FROM 'leases.csv' (FORMAT csv)"

step "4. Which customers send mail directly"
sql "SELECT customer_id, addresses, first_seen, last_seen, samples, est_packets, servers, caught FROM spamhints.customer_sender LIMIT 8;"

step "5. How many, and how many the mail logs already caught"
sql "SELECT count(*) AS sending_directly, count(*) FILTER (WHERE caught) AS already_caught, count(*) FILTER (WHERE NOT caught) AS still_to_go FROM spamhints.customer_sender;"

step "5b. The customers ranked by sender_score (the features sampled packets support; at least 10 client samples)"
sql "SELECT rank() OVER (ORDER BY score DESC) AS rank, customer_id, host(ip) AS ip, client_samples AS samples, client_only, server_networks AS networks, round(syn_share::numeric, 3) AS syn, round(rst_share::numeric, 3) AS rst, round(hour_spread::numeric, 2) AS hours, dynamic, score FROM spamhints.sender_score('2007-03-14 00:00+00', '2007-03-15 00:00+00') WHERE customer_id IS NOT NULL AND NOT abstained ORDER BY score DESC, ip LIMIT 8;"

step "6. The busiest one not caught yet, hour by hour (UTC)"
sql_raw "SELECT customer_id || E'\\n' || spamhints.chart(hourly, 6) FROM spamhints.customer_sender WHERE NOT caught ORDER BY samples DESC, customer_id LIMIT 1;"

step "7. What the mail logs caught"
sql "SELECT * FROM spamhints.detections_per_day;"
sql "SELECT * FROM spamhints.customers_caught_per_day;"

step "8. Where replies go and the host that makes the reports (report() refuses to run without them), and the ISPs that agreed to receive reports"
sql "DO \$\$ BEGIN EXECUTE format('ALTER DATABASE %I SET spamhints.report_from = %L', current_database(), 'abuse@isp.example'); EXECUTE format('ALTER DATABASE %I SET spamhints.reporting_mta = %L', current_database(), 'mx.isp.example'); END \$\$;"
while IFS='|' read -r org domain asn nets; do
  sql "INSERT INTO spamhints.agreement (isp, abuse_address, asns, networks, agreed_at, reference, min_samples) VALUES ('$org', 'abuse@$domain', '{$asn}', '$nets', '2007-03-01', 'letter of 2007-03-01', 20);"
done < agreements.txt

step "9. What would be reported for the day"
sql "SELECT isp, diagnosis, count(*) AS addresses, sum(items) AS items FROM spamhints.report_candidates(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00')) GROUP BY 1, 2 ORDER BY 1, 2;"
sql "SELECT isp, source_ip, evidence, diagnosis, items FROM spamhints.report_candidates(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00')) ORDER BY cardinality(evidence) DESC, items DESC, source_ip LIMIT 8;"

step "10. Produce the reports"
sql "SELECT isp, abuse_address, count(*) AS reports, sum(items) AS evidence_items FROM spamhints.report(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00')) GROUP BY 1, 2 ORDER BY 1;"

step "11. One of them"
sql_raw "SELECT message FROM spamhints.report_log ORDER BY cardinality(evidence) DESC, items, source_ip LIMIT 1;"

step "12. The same again: nothing new to report"
sql "SELECT count(*) FROM spamhints.report(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'));"

if psql -X -qc 'CREATE EXTENSION pg_cron' 2>/dev/null; then
  step "13. The schedule (pg_cron)"
  sql "SELECT cron.schedule(jobname, schedule, command) FROM spamhints.cron_jobs();"
  sql "SELECT jobid, jobname, schedule, command FROM cron.job ORDER BY jobid;"
else
  step "13. The schedule (pg_cron is not installed here: skipped)"
fi

step "14. The daily figures"
sql "SELECT spamhints.refresh();"
sql "SELECT * FROM spamhints.daily_figures ORDER BY day;"

# the charts for the page, drawn before the purge below empties the tables
svg() { psql -X -At -c "$2" >"$DEMO/$1.svg"; }
svg open_server "SELECT chart_svg(hourly(ts), 'the busiest known open server: samples by hour of day (UTC)') FROM endpoint
   WHERE ip = (SELECT ip FROM endpoint WHERE role >= 'server' AND tcp_flags & 18 = 18
               GROUP BY ip ORDER BY count(*) DESC LIMIT 1);"
svg clients_per_hour "SELECT bars_svg(array_agg(to_char(bin_start AT TIME ZONE 'UTC', 'DD HH24') ORDER BY bin_start),
                         array_agg(clients ORDER BY bin_start), 'distinct client addresses per hour (day hour, UTC)')
   FROM activity('2007-03-14 00:00+00', '2007-03-15 01:00+00');"
svg detections "SELECT bars_svg(array_agg(day::text || ' ' || kind ORDER BY day, kind), array_agg(n ORDER BY day, kind),
                         'mail-log detections per day: spam, virus, rejected')
   FROM detections_per_day, LATERAL (VALUES ('spam', spam), ('virus', virus), ('rejected', rejected)) v(kind, n);"

step "15. Personal data past the retention period (90 days; the demo's day is long past)"
sql "SELECT * FROM spamhints.purge();"

# The page: the charts, then every answer above as printed
python3 - "$DEMO" "$DEMO_HTML" <<'PY'
import html, sys
demo, out = sys.argv[1], sys.argv[2]
charts = "".join(f"<figure>{open(f'{demo}/{n}.svg').read()}</figure>\n"
                 for n in ("open_server", "clients_per_hour", "detections"))
text = html.escape(open(f"{demo}/output.txt", encoding="utf-8", errors="replace").read())
with open(out, "w", encoding="utf-8") as f:
    f.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>spamhints demo</title>"
            "<style>body{font-family:sans-serif;margin:2em} pre{font-size:12px;background:#f6f6f6;padding:1em}"
            "figure{margin:1em 0}</style></head><body>\n<h1>spamhints demo</h1>\n"
            + charts + "<h2>The answers, as make demo printed them</h2>\n<pre>" + text + "</pre>\n</body></html>\n")
PY
echo "wrote $DEMO_HTML (the charts and these answers)"
