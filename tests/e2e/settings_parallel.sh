#!/usr/bin/env bash
# tests/e2e/settings_parallel.sh: the database's spamhints.* settings (ALTER
# DATABASE ... SET) and the first use of the module in a session inside a
# parallel plan. Loaded first in a parallel operation, the module cannot
# apply those settings and PostgreSQL warns ("cannot be set during a parallel
# operation"; the values stay). spamhints.refresh(), the scheduled job, loads
# the module before its parallel REFRESH: no warning, the figures refreshed.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_settings_parallel
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
psql -qX -d $db -c "ALTER DATABASE $db SET spamhints.report_from = 'abuse@isp.example'" \
     -c "ALTER DATABASE $db SET spamhints.reporting_mta = 'mx.isp.example'" || exit 1
tests/gen/spamhints-gen --seed 31 --smtp 3000 --other 1000 -o "$tmp/g.pcap" >/dev/null || exit 1
loader/spamhints-load -q -d $db "$tmp/g.pcap" >/dev/null || exit 1
par="-c force_parallel_mode=on -c parallel_setup_cost=0 -c parallel_tuple_cost=0 -c min_parallel_table_scan_size=0"

# a new session: the module is not loaded yet
PGOPTIONS="$par" psql -X -d $db -Atc "SELECT spamhints.refresh()" >"$tmp/out" 2>"$tmp/err"
ok $? "spamhints.refresh() in a new session with parallel plans forced"
! grep -q 'WARNING' "$tmp/err"
ok $? "no warning from the database's settings ($(tr '\n' ' ' <"$tmp/err" | head -c 300))"
is "$(psql -X -d $db -Atc "SELECT sum(samples) FROM spamhints.daily_figures")" \
   "$(psql -X -d $db -Atc "SELECT count(*) FROM spamhints.smtp_sample")" \
   "the daily figures were refreshed: their samples are the table's"
is "$(PGOPTIONS="$par" psql -X -d $db -Atc "SELECT spamhints.setting('report_from')" 2>/dev/null)" "abuse@isp.example" \
   "the setting keeps the database's value in a parallel session"
# the other ways a desk meets the module first in a session: the report's
# candidates and the report (dry run), the purge, the sender score
for sql in "SELECT count(*) FROM spamhints.report_candidates('[2007-03-13, 2007-03-16)')" \
           "SELECT count(*) FROM spamhints.report_queue" \
           "SELECT count(*) FROM spamhints.sender_score('2007-03-13', '2007-03-16')" \
           "SELECT count(*) FROM spamhints.packet_stats"; do
  PGOPTIONS="$par" psql -X -d $db -Atc "$sql" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  ok $([ $rc -eq 0 ] && ! grep -q WARNING "$tmp/err"; echo $?) "a new session's first query, parallel, without a warning: $sql ($(tr '\n' ' ' <"$tmp/err" | head -c 200))"
done
dropdb $db
