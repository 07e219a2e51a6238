#!/usr/bin/env bash
# tests/e2e/analytics.sh: on a generated capture, the analytics views and
# aggregates give exactly the generator's ground truth (the census of
# client-only, server-only and both addresses; the hour-of-day histogram),
# serially and with forced parallel plans.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_analytics
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1

tests/gen/spamhints-gen --seed 21 --smtp 60000 --other 20000 --version mix -o "$tmp/c.pcap" -t "$tmp/t"
loader/spamhints-load -q -d $db "$tmp/c.pcap"
ok $? "generated capture loads"
truth() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/t"; }
census="$(truth ips)|$(truth client_only)|$(truth server_only)|$(truth both)"
hours="{$(awk '$1 == "hour" { print $3 }' "$tmp/t" | paste -sd,)}"

for mode in serial parallel; do
  if [ $mode = parallel ]; then
    settings="SET force_parallel_mode = on; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
              SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2;"
  else
    settings="SET max_parallel_workers_per_gather = 0;"
  fi
  q() { psql -X -d $db -Atc "SET TimeZone = 'UTC'; SET search_path = spamhints; $settings $1" | tail -1; }

  is "$(q 'SELECT ips, client_only, server_only, "both" FROM ip_census')" "$census" \
     "$mode: ip_census equals the ground truth ($census)"
  is "$(q 'SELECT (c).ips, (c).client_only, (c).server_only, (c).both FROM (SELECT smtp_census(ip, role) c FROM endpoint) s')" \
     "$census" "$mode: smtp_census(ip, role) over endpoint equals it too"
  is "$(q 'SELECT (c).ips, (c).client_only, (c).server_only, (c).both
           FROM (SELECT counts(census_union(d)) c FROM (SELECT census_agg(src_ip, dst_ip, src_port, dst_port) d
                 FROM smtp_sample GROUP BY date_trunc('"'hour'"', ts)) x) s')" \
     "$census" "$mode: per-hour census summaries unioned give the same census"
  is "$(q 'SELECT hourly(ts)::bigint[] FROM smtp_sample')" "$hours" \
     "$mode: hourly(ts) equals the ground truth's SMTP rows per UTC hour"
done

# the plain SQL an analyst would write agrees as well (independent of our C code)
is "$(psql -X -d $db -Atc "SELECT count(*), count(*) FILTER (WHERE c AND NOT s), count(*) FILTER (WHERE s AND NOT c),
        count(*) FILTER (WHERE c AND s)
      FROM (SELECT ip, bool_or(c) c, bool_or(s) s FROM (
              SELECT src_ip ip, dst_port = 25 c, src_port = 25 s FROM spamhints.smtp_sample
              UNION ALL SELECT dst_ip, src_port = 25, dst_port = 25 FROM spamhints.smtp_sample) e GROUP BY ip) t")" \
   "$census" "plain SQL census equals the ground truth"
tap_done
