#!/usr/bin/env bash
# tests/lib/upgrade_fixture.sh DB OUT: fill DB (an empty database with the
# extension installed) with the data the upgrade test starts from, with the
# loader and extension of this checkout, and write DB's data-only dump to OUT.
#
# tests/data/upgrade/VERSION.sql is this script's output made with release
# VERSION (its loader, its extension), so that the upgrade test starts from
# data exactly as that release stored it; for 0.1:
#   git worktree add /tmp/v0.1 v0.1 && cp tests/lib/upgrade_fixture.sh /tmp/v0.1/tests/lib/
#   cd /tmp/v0.1 && make && make install
#   createdb f && psql -d f -c 'CREATE EXTENSION spamhints'
#   bash tests/lib/upgrade_fixture.sh f .../tests/data/upgrade/0.1.sql
# Everything in it is generated (seeded) or from tests/data: it holds no
# third-party data.
set -euo pipefail
db=$1 out=$2
cd "$(dirname "$0")/../.."
root=$(pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
q() { psql -X -v ON_ERROR_STOP=1 -d "$db" -Atc "$1"; }

tests/gen/spamhints-gen --seed 41 --smtp 2000 --other 500 --agents 3 -o "$tmp/a.pcap" -t "$tmp/a.truth" \
  --networks "$tmp/a.net" >/dev/null
tests/gen/spamhints-gen --seed 42 --smtp 1000 --other 500 --agents 2 --start 1173916800 \
  -o "$tmp/b.pcap" -t "$tmp/b.truth" >/dev/null
cp tests/data/maillog/exim-mainlog tests/data/maillog/postfix-maillog "$tmp/"
touch -d '2008-01-01 01:00:00 +0100' "$tmp/postfix-maillog"
(
  cd "$tmp"
  "$root/loader/spamhints-load" -q -d "$db" a.pcap b.pcap
  "$root/loader/spamhints-load" -q -d "$db" --maillog exim --timezone Europe/London exim-mainlog
  "$root/loader/spamhints-load" -q -d "$db" --maillog postfix --timezone Europe/Berlin postfix-maillog
)

# customers: the first four networks, one of them handed over at noon
q "INSERT INTO spamhints.ip_assignment (customer_id, network, during)
   SELECT 'cust-' || n, network::cidr,
          CASE WHEN n = 4 THEN tstzrange('2007-03-14 12:00+00', NULL) ELSE tstzrange('2007-03-01', NULL) END
   FROM (SELECT row_number() OVER () AS n, network
         FROM (VALUES $(head -4 "$tmp/a.net" | cut -f1 | sed "s/.*/('&')/" | paste -sd,)) v(network)) c" >/dev/null
# an ISP that agreed to receive reports, for the next three networks, and the reports made for it
q "INSERT INTO spamhints.agreement (isp, abuse_address, networks, agreed_at)
   VALUES ('agreed.example', 'abuse@agreed.example',
           '{$(sed -n 5,7p "$tmp/a.net" | cut -f1 | paste -sd,)}', '2007-01-01')" >/dev/null
psql -X -v ON_ERROR_STOP=1 -d "$db" -Atq -c "SET spamhints.report_from = 'abuse@isp.example'" \
  -c "SET spamhints.reporting_mta = 'mx.isp.example'" \
  -c "SELECT count(*) FROM spamhints.report(tstzrange('2007-03-13', '2007-03-17'))" >/dev/null

pg_dump --data-only --disable-triggers --no-owner -d "$db" | grep -v '^-- Dumped \(from\|by\)' >"$out"
