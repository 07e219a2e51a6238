#!/usr/bin/env bash
# tests/e2e/settings_preload.sh: what README ("Settings in parallel
# queries") says of the spamhints.* settings and parallel workers. A worker
# that loads the module itself (the session's backend has not) warns
# "cannot be set during a parallel operation" for each such setting of the
# database, and in that worker the workflow settings read after the module
# is loaded are their defaults: spamhints.settings shows report_min_samples
# 3 where the database says 7. Loaded in the session's backend first (LOAD,
# session_preload_libraries in postgresql.conf or per database,
# shared_preload_libraries), the workers know the values: no warning.
# A cluster of its own, whose postgresql.conf the test changes.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/pgcluster.sh
tmp=$(mktemp -d)
H=$(pg_start_another) || exit 1
trap 'pg_stop_another "$H"; rm -rf "$tmp"' EXIT
db=abuse
createdb -h "$H" $db && psql -qX -h "$H" -d $db -c 'CREATE EXTENSION spamhints' \
  -c "ALTER DATABASE $db SET spamhints.report_from = 'abuse@isp.example'" \
  -c "ALTER DATABASE $db SET spamhints.report_min_samples = '7'" \
  -c "CREATE ROLE sh_preload_analyst LOGIN IN ROLE spamhints_analyst" || exit 1
par="-c force_parallel_mode=on -c parallel_setup_cost=0 -c parallel_tuple_cost=0 -c min_parallel_table_scan_size=0"
sql="SELECT string_agg(name || '=' || value, ' ' ORDER BY name) FROM spamhints.settings WHERE name IN ('report_from', 'report_min_samples')"
want="report_from=abuse@isp.example report_min_samples=7"
# ask USER PGOPTIONS SQL...: the last answer of a new session with parallel
# plans forced, then W if it warned
ask() {
  local user=$1 opts=$2; shift 2
  local args=(); for s in "$@"; do args+=(-c "$s"); done
  PGOPTIONS="$par $opts" psql -X -h "$H" -U "$user" -d $db -At "${args[@]}" 2>"$tmp/err" | tail -1
  grep -q 'cannot be set during a parallel operation' "$tmp/err" && echo W
}

is "$(psql -X -h "$H" -d $db -Atc "$sql")" "$want" "the database's settings, in a serial plan"
is "$(psql -X -h "$H" -d $db -Atc "EXPLAIN (COSTS OFF) $sql" -c "SET force_parallel_mode = on" -c "EXPLAIN (COSTS OFF) $sql" | grep -c Gather)" 1 \
   "(with force_parallel_mode the question runs in a worker)"
is "$(ask postgres "" "$sql")" "report_from=abuse@isp.example report_min_samples=3
W" "a new session, the module not loaded, parallel: a warning, and report_min_samples read as its default 3 in the worker"
is "$(ask postgres "" "SELECT 1" "$sql")" "report_from=abuse@isp.example report_min_samples=3
W" "  also as the session's second statement (the backend still has not loaded it)"
is "$(ask sh_preload_analyst "" "$sql")" "report_from=abuse@isp.example report_min_samples=3
W" "  also for an analyst"
is "$(ask postgres "" "LOAD 'spamhints'" "$sql")" "$want" "LOAD 'spamhints' first in the session: the worker knows them, no warning"
is "$(ask postgres "-c session_preload_libraries=spamhints" "$sql")" "$want" "session_preload_libraries for the session: no warning"

# per database (a superuser sets it), for every role
psql -qX -h "$H" -d $db -c "ALTER DATABASE $db SET session_preload_libraries = 'spamhints'" || exit 1
is "$(ask postgres "" "$sql")" "$want" "ALTER DATABASE ... SET session_preload_libraries = 'spamhints': no warning"
is "$(ask sh_preload_analyst "" "$sql")" "$want" "  also for an analyst"
psql -qX -h "$H" -d $db -c "ALTER DATABASE $db RESET session_preload_libraries" || exit 1
is "$(ask postgres "" "$sql")" "report_from=abuse@isp.example report_min_samples=3
W" "(reset: the warning and the default again)"

# in postgresql.conf: session_preload_libraries (a reload), then shared_preload_libraries (a restart)
echo "session_preload_libraries = 'spamhints'" >>"$H/data/postgresql.conf"
pg_as_owner "$PG_BINDIR/pg_ctl" -D "$H/data" -w reload >/dev/null; sleep 1
is "$(ask sh_preload_analyst "" "$sql")" "$want" "session_preload_libraries = 'spamhints' in postgresql.conf (reloaded): no warning"
sed -i "s/^session_preload_libraries = 'spamhints'\$/shared_preload_libraries = 'spamhints'/" "$H/data/postgresql.conf"
pg_as_owner "$PG_BINDIR/pg_ctl" -D "$H/data" -l "$H/server.log" -w -m fast restart >/dev/null
is "$(psql -X -h "$H" -d $db -Atc "SHOW shared_preload_libraries")|$(psql -X -h "$H" -d $db -Atc "SHOW session_preload_libraries")" "spamhints|" \
   "(then shared_preload_libraries instead, restarted)"
is "$(ask sh_preload_analyst "" "$sql")" "$want" "shared_preload_libraries = 'spamhints': no warning"
tap_done
