#!/usr/bin/env bash
# tests/e2e/install.sh: who may install the extension (spamhints.control,
# README "Install"), and the first filter an analyst writes, with the
# default search_path and with the database set up as README says.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
db=spamhints_e2e_install
tmp=$(mktemp -d); trap 'rm -rf "$tmp"; psql -qX -d postgres -c "DROP ROLE IF EXISTS spamhints_e2e_owner, spamhints_e2e_alice" 2>/dev/null' EXIT
PGOPTIONS=-cclient_min_messages=warning psql -qX -d postgres -c "DROP DATABASE IF EXISTS $db" -c "DROP ROLE IF EXISTS spamhints_e2e_owner, spamhints_e2e_alice" \
  -c "CREATE ROLE spamhints_e2e_owner LOGIN" -c "CREATE DATABASE $db OWNER spamhints_e2e_owner" || exit 1

# the control file says a superuser installs it, and so it is
grep -qx 'superuser = true' spamhints.control; ok $? "spamhints.control: superuser = true"
! grep -q '^trusted' spamhints.control; ok $? "  and it is not trusted"
grep -q 'superuser installs the extension' README.md; ok $? "README says a superuser installs it"
psql -X -d $db -U spamhints_e2e_owner -v VERBOSITY=verbose -c 'CREATE EXTENSION spamhints' >"$tmp/out" 2>&1
is "$?" 1 "the database owner (no superuser): CREATE EXTENSION refused"
grep -q 'ERROR:  42501: permission denied to create extension "spamhints"' "$tmp/out"
ok $? "  with 42501 and a clear message: $(grep ERROR "$tmp/out")"
grep -q 'Must be superuser to create this extension' "$tmp/out"; ok $? "  and the hint: $(grep HINT "$tmp/out")"
is "$(psql -XAt -d $db -c "SELECT count(*) FROM pg_extension WHERE extname = 'spamhints'")" 0 "  nothing installed"
psql -qX -d $db -c 'CREATE EXTENSION spamhints'; ok $? "a superuser installs it in that database"

# an analyst, default search_path: the role filters work as text
psql -qX -d $db -c "CREATE ROLE spamhints_e2e_alice LOGIN IN ROLE spamhints_analyst" || exit 1
psql -qX -d $db -c "INSERT INTO spamhints.load (file_name, sha256, finished_at) VALUES ('t', repeat('a', 64), now())" \
  -c "INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port)
      SELECT load_id, 1, now(), '192.0.2.1', 1, 1, '198.51.100.1', '203.0.113.25', 40000, 25 FROM spamhints.load" || exit 1
psql -qX -d $db -c "INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port)
      SELECT load_id, 2, now(), '192.0.2.1', 2, 1, '198.51.100.7', '203.0.113.7', 25, 25 FROM spamhints.load" || exit 1
a() { psql -XAt -d $db -U spamhints_e2e_alice -v VERBOSITY=verbose -c "$1" 2>"$tmp/err"; }
is "$(a 'SHOW search_path')" '"$user", public' "the analyst has the default search_path"
a "SELECT ip FROM spamhints.endpoint WHERE role = 'server'" >/dev/null
grep -q 'ERROR:  42883: operator does not exist: spamhints.smtp_role = unknown' "$tmp/err"
ok $? "without spamhints on the path, role = 'server' is refused (42883), never compared as text: $(head -1 "$tmp/err")"
is "$(a "SELECT ip FROM spamhints.endpoint WHERE role::text = 'client' ORDER BY ip")" 198.51.100.1 "role::text = 'client' works anywhere $(head -1 "$tmp/err")"
grep -qF 'ALTER DATABASE abuse SET search_path = "$user", public, spamhints' README.md; ok $? "README sets the database's search_path up"
psql -qX -d $db -c "ALTER DATABASE $db SET search_path = \"\$user\", public, spamhints" || exit 1
is "$(a "SELECT string_agg(host(ip), ' ' ORDER BY ip) FROM endpoint WHERE role = 'server'")" 203.0.113.25 "then the analyst's WHERE role = 'server' works $(head -1 "$tmp/err")"
is "$(a "SELECT string_agg(host(ip), ' ' ORDER BY ip) FROM endpoint WHERE role >= 'server'")" "198.51.100.7 203.0.113.7 203.0.113.25" "and role >= 'server' is server or both (the type's order, client < server < both) $(head -1 "$tmp/err")"
is "$(a "SELECT count(*) FROM endpoint WHERE role IN ('client', 'server')")" 2 "and role IN ('client', 'server') $(head -1 "$tmp/err")"
is "$(a "SELECT count(*) FROM endpoint WHERE role <> 'client'")" 3 "and role <> 'client' $(head -1 "$tmp/err")"

# README's count of the functions by language is the catalog's
langs=$(psql -XAt -d $db -c "SELECT string_agg(n || ' ' || l, ', ' ORDER BY l) FROM (SELECT l.lanname AS l, count(*) AS n
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.pronamespace = 'spamhints'::regnamespace AND p.prokind = 'f' GROUP BY 1) t")
aggs=$(psql -XAt -d $db -c "SELECT count(*) FROM pg_proc WHERE pronamespace = 'spamhints'::regnamespace AND prokind = 'a'")
read -r nc _ np _ ns _ <<<"${langs//,/}"
readme=$(tr '\n' ' ' <README.md | tr -s ' ')
echo "$readme" | grep -q "$nc are C, $ns SQL and $np PL/pgSQL, plus $aggs aggregates"
ok $? "README counts the functions as pg_proc does: $langs, $aggs aggregates"
psql -qX -d $db -c "DROP EXTENSION spamhints"
psql -qX -d postgres -c "DROP DATABASE $db"
tap_done
