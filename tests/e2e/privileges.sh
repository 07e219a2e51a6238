#!/usr/bin/env bash
# tests/e2e/privileges.sh: least privilege and search_path safety.
#
#   spamhints_loader   loads captures with spamhints-load (and upserts AS
#                      names); reads nothing else, changes no sample
#   spamhints_analyst  reads the loads, samples, views and aggregates; changes
#                      nothing; never reads the SMTP payload column
#                      (smtp_sample.smtp, endpoint.smtp)
#   a role with neither: nothing at all
#
# Each permission is shown both ways: what a role may do works, what it may
# not is refused with "permission denied". Every role here is an ordinary
# login role (no superuser): nothing in the extension needs one at run time.
# Then a hostile search_path: objects that a user created to stand in for
# pg_catalog's operators and functions are never called by the extension's
# functions, views or the loader, even for a superuser.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=loader/spamhints-load
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_privileges
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1

# login roles for the test (the cluster is a throwaway one)
for r in sh_test_loader sh_test_analyst sh_test_nobody; do
  psql -qX -d $db -c "DROP OWNED BY $r; DROP ROLE $r" >/dev/null 2>&1
done
psql -qX -d $db -c "CREATE ROLE sh_test_loader LOGIN IN ROLE spamhints_loader;
                    CREATE ROLE sh_test_analyst LOGIN IN ROLE spamhints_analyst;
                    CREATE ROLE sh_test_nobody LOGIN;" || exit 1

tests/gen/spamhints-gen --seed 4 --smtp 400 --other 400 -o "$tmp/a.pcap" -t "$tmp/a.truth"
tests/gen/spamhints-gen --seed 5 --smtp 300 --other 300 -o "$tmp/b.pcap" -t "$tmp/b.truth"
rows_a=$(awk '$1 == "smtp_rows" { print $2 }' "$tmp/a.truth")

# as ROLE SQL: run SQL as ROLE; output on stdout, the error in $tmp/err
as() { psql -X -d $db -U "$1" -v ON_ERROR_STOP=1 -Atc "$2" 2>"$tmp/err"; }
q() { psql -X -d $db -Atc "$1"; }

# may ROLE SQL DESC: works;  denied ROLE SQL DESC: refused for want of a privilege
may() {
  as "$1" "$2" >/dev/null
  ok $? "$1 may $3"
  [ -s "$tmp/err" ] && sed 's/^/#   /' "$tmp/err"
  return 0
}
denied() {
  as "$1" "$2" >/dev/null
  local rc=$?
  grep -q 'permission denied' "$tmp/err"
  local found=$?
  ok $(( rc == 0 || found != 0 )) "$1 may not $3 ($(head -1 "$tmp/err" | sed 's/^ERROR: *//'))"
}

# --------------------------------------------------------------------------
# the roles themselves
# --------------------------------------------------------------------------
is "$(q "SELECT string_agg(rolname || ':' || rolcanlogin || ':' || rolsuper, ',' ORDER BY rolname)
         FROM pg_roles WHERE rolname LIKE 'spamhints\_%'")" \
   "spamhints_analyst:false:false,spamhints_loader:false:false" "the install script made both roles, NOLOGIN, not superuser"
createdb ${db}_2 && psql -qX -d ${db}_2 -c 'CREATE EXTENSION spamhints' 2>"$tmp/err"
ok $? "a second database installs the extension: the roles exist already and are reused"
is "$(psql -X -d ${db}_2 -Atc "SELECT has_table_privilege('spamhints_analyst', 'spamhints.packet_stats', 'SELECT'),
                                      has_table_privilege('spamhints_loader', 'spamhints.load_agent', 'INSERT')")" \
   "t|t" "and grants to them there too"
psql -qX -d ${db}_2 -c 'DROP EXTENSION spamhints' -c 'CREATE EXTENSION spamhints'
ok $? "DROP EXTENSION leaves the roles (other databases use them); CREATE EXTENSION again works"
dropdb ${db}_2

# --------------------------------------------------------------------------
# the loader role
# --------------------------------------------------------------------------
$LOADER -d "dbname=$db user=sh_test_loader" --no-progress "$tmp/a.pcap" >"$tmp/out" 2>"$tmp/err"
ok $? "sh_test_loader (spamhints_loader) runs spamhints-load: INSERT ... RETURNING, COPY of samples and agents, UPDATE"
sed 's/^/#   /' "$tmp/err"
is "$(q "SELECT smtp_rows || ' ' || (SELECT count(*) FROM spamhints.smtp_sample) || ' ' || (finished_at IS NOT NULL)
         FROM spamhints.load")" "$rows_a $rows_a true" "and the load is complete"
$LOADER -d "dbname=$db user=sh_test_loader" --no-progress "$tmp/a.pcap" >"$tmp/out" 2>"$tmp/err"
ok $? "sh_test_loader loads the same capture again: the duplicate check works"
grep -q 'already loaded as load 1' "$tmp/out"
ok $? "and says it was already loaded as load 1"
may sh_test_loader "INSERT INTO spamhints.asn VALUES (64500, 'Example') ON CONFLICT (asn) DO UPDATE SET org = EXCLUDED.org;
                    INSERT INTO spamhints.asn VALUES (64500, 'Example 2') ON CONFLICT (asn) DO UPDATE SET org = EXCLUDED.org" \
    "upsert AS names into spamhints.asn (enrichment)"
is "$(q "SELECT org FROM spamhints.asn WHERE asn = 64500")" "Example 2" "the upsert updated the name"
denied sh_test_loader "SELECT count(*) FROM spamhints.smtp_sample" "count samples"
denied sh_test_loader "SELECT src_ip FROM spamhints.smtp_sample LIMIT 1" "read a sample's address"
denied sh_test_loader "SELECT smtp FROM spamhints.smtp_sample LIMIT 1" "read the SMTP payload column"
denied sh_test_loader "SELECT skipped FROM spamhints.load" "read the loads' other columns"
denied sh_test_loader "SELECT * FROM spamhints.load_agent" "read the agents"
for v in packet_stats ip_census endpoint client_as_top client_cc_top; do
  denied sh_test_loader "SELECT * FROM spamhints.$v" "read the view $v"
done
denied sh_test_loader "SELECT * FROM spamhints.activity(now() - interval '1 day', now())" "run activity() (it reads samples)"
denied sh_test_loader "DELETE FROM spamhints.smtp_sample" "delete samples"
denied sh_test_loader "UPDATE spamhints.smtp_sample SET smtp = NULL" "change samples"
denied sh_test_loader "TRUNCATE spamhints.load CASCADE" "truncate loads"
denied sh_test_loader "DELETE FROM spamhints.load" "delete loads"
denied sh_test_loader "DELETE FROM spamhints.asn" "delete AS names"

# --------------------------------------------------------------------------
# the analyst role
# --------------------------------------------------------------------------
for v in packet_stats ip_census client_as_top client_cc_top; do
  may sh_test_analyst "SELECT * FROM spamhints.$v" "read the view $v"
done
may sh_test_analyst "SELECT * FROM spamhints.load; SELECT * FROM spamhints.load_agent; SELECT * FROM spamhints.asn" \
    "read loads, agents and AS names"
may sh_test_analyst "SELECT load_id, frame, ts, agent, src_ip, dst_ip, src_port, dst_port, tcp_flags, src_mac, vlan
                     FROM spamhints.smtp_sample" "read the samples' columns but smtp"
may sh_test_analyst "SELECT ip, peer, role, side, port, asn, cc, ts, sampling_rate, tcp_flags, load_id, frame
                     FROM spamhints.endpoint" "read the view endpoint's columns but smtp"
may sh_test_analyst "SET search_path = spamhints, public; SET TimeZone = 'UTC';
                     SELECT chart(hourly(ts)) FROM smtp_sample;
                     SELECT (smtp_census(src_ip, dst_ip, src_port, dst_port)).* FROM smtp_sample;
                     SELECT counts(census_agg(ip, role)), hourly(ts, sampling_rate::bigint) FROM endpoint;
                     SELECT hist24_union(h) FROM (SELECT hourly(ts) AS h FROM smtp_sample GROUP BY load_id) t;
                     SELECT ip, role_or(role) FROM endpoint GROUP BY ip;
                     SELECT * FROM activity('2007-03-14', '2007-03-15')" \
    "run the aggregates and functions (hourly, chart, smtp_census, census_agg, role_or, activity)"
is "$(as sh_test_analyst "SELECT smtp_packets FROM spamhints.packet_stats")" "$rows_a" "the analyst sees every sample in packet_stats"
denied sh_test_analyst "SELECT smtp FROM spamhints.smtp_sample" "read the SMTP payload column of smtp_sample"
denied sh_test_analyst "SELECT * FROM spamhints.smtp_sample" "SELECT * from smtp_sample (it holds smtp)"
denied sh_test_analyst "SELECT count(*) FROM spamhints.smtp_sample WHERE smtp = 'EHLO'" "filter on the SMTP payload column"
denied sh_test_analyst "COPY spamhints.smtp_sample TO STDOUT" "COPY smtp_sample out"
denied sh_test_analyst "SELECT smtp FROM spamhints.endpoint" "read the SMTP payload column of the view endpoint"
denied sh_test_analyst "SELECT * FROM spamhints.endpoint" "SELECT * from endpoint (it shows smtp)"
denied sh_test_analyst "SELECT count(*) FROM spamhints.endpoints('{25,587}')" "run endpoints(ports) (it shows smtp)"
denied sh_test_analyst "INSERT INTO spamhints.load (file_name) VALUES ('x')" "add a load"
denied sh_test_analyst "UPDATE spamhints.load SET file_name = 'x'" "change a load"
denied sh_test_analyst "DELETE FROM spamhints.smtp_sample" "delete samples"
denied sh_test_analyst "UPDATE spamhints.smtp_sample SET src_asn = 1" "change samples"
denied sh_test_analyst "TRUNCATE spamhints.smtp_sample" "truncate samples"
denied sh_test_analyst "INSERT INTO spamhints.asn VALUES (1, 'x')" "add AS names"
denied sh_test_analyst "DELETE FROM spamhints.load_agent" "delete agents"
$LOADER -d "dbname=$db user=sh_test_analyst" --no-progress "$tmp/b.pcap" >"$tmp/out" 2>"$tmp/err"
rc=$?
is "$rc" 3 "the analyst cannot load a capture (exit 3)"
grep -q 'permission denied' "$tmp/err"; ok $? "with a clear message: $(grep -m1 'permission denied' "$tmp/err")"

# --------------------------------------------------------------------------
# the abuse desk workflow: mail logs and reports hold personal data
# --------------------------------------------------------------------------
$LOADER --maillog exim -d "dbname=$db user=sh_test_loader" --year 2007 tests/data/maillog/exim-mainlog >"$tmp/out" 2>"$tmp/err"
ok $? "sh_test_loader loads a mail log (--maillog exim)"
[ -s "$tmp/err" ] && sed 's/^/#   /' "$tmp/err"
is "$(q "SELECT count(*) > 0 FROM spamhints.mail_event")" t "and its events are there"
denied sh_test_loader "SELECT sender, recipients, helo FROM spamhints.mail_event" "read the mail events it loaded (only their load and time)"
for v in customer_sender detections_per_day incoming_reports_per_day customers_caught_per_day \
         daily_figures report_queue agreement ip_assignment settings maillog_load; do
  may sh_test_analyst "SELECT * FROM spamhints.$v" "read $v"
done
may sh_test_analyst "SELECT ts, client_ip, helo, size, verdict, virus FROM spamhints.mail_event" \
    "read the mail events' times, clients, HELO, sizes and verdicts"
may sh_test_analyst "SELECT source_ip, kind, ts, peer, asn, sampling_rate FROM spamhints.evidence" \
    "read the evidence but its personal fields"
denied sh_test_analyst "SELECT sender FROM spamhints.mail_event" "read the envelope senders of mail events"
denied sh_test_analyst "SELECT recipients FROM spamhints.mail_event" "read the recipients of mail events"
denied sh_test_analyst "SELECT recipients FROM spamhints.evidence" "read the recipients through the view evidence"
denied sh_test_analyst "SELECT smtp FROM spamhints.evidence" "read the SMTP payload through the view evidence"
denied sh_test_analyst "SELECT message FROM spamhints.report_log" "read the reports sent (they quote mail addresses)"
denied sh_test_analyst "SELECT * FROM spamhints.report_items(spamhints.yesterday())" "run report_items() (it reads the mail addresses)"
denied sh_test_analyst "SELECT spamhints.report_message(i, spamhints.yesterday(), now(), '<x>') FROM spamhints.report_items(spamhints.yesterday()) AS i" \
    "build a report from report_items()"
denied sh_test_analyst "DELETE FROM spamhints.mail_event" "delete mail events"
denied sh_test_analyst "INSERT INTO spamhints.agreement (isp, abuse_address) VALUES ('x', 'x@x')" "add an agreement"

# Every column of every table and view, from the catalog, so that a new column
# cannot slip through: the analyst reads it, or, for the mail addresses (and
# the texts that quote them: rejection reasons, reports) and the SMTP payload,
# is refused. Relations the analyst has no grant on at all are refused whole.
withheld=" smtp_sample.smtp endpoint.smtp evidence.smtp evidence.sender evidence.recipients evidence.reason
 mail_event.sender mail_event.recipients mail_event.reason report_log.message
 incoming_report.reporter incoming_report.original_mail_from incoming_report.original_rcpt_to incoming_report.message"
withheld=" $(echo $withheld) "
q "SELECT c.relname || '.' || a.attname || ' ' || has_table_privilege('spamhints_analyst', c.oid, 'SELECT')::text
            || ' ' || pg_catalog.has_any_column_privilege('spamhints_analyst', c.oid, 'SELECT')::text
   FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
   WHERE c.relnamespace = 'spamhints'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
   ORDER BY 1" >"$tmp/columns"
ncols=0; wrong=""
while read -r col whole any; do
  ncols=$((ncols + 1))
  rel=${col%%.*} att=${col#*.}
  as sh_test_analyst "SELECT \"$att\" FROM spamhints.\"$rel\" LIMIT 1" >/dev/null
  rc=$?
  if [ "$any" = false ] || [[ "$withheld" == *" $col "* ]]; then
    { [ $rc -ne 0 ] && grep -q 'permission denied' "$tmp/err"; } || wrong="$wrong $col(readable)"
  else
    [ $rc -eq 0 ] || wrong="$wrong $col(refused)"
  fi
done <"$tmp/columns"
is "${wrong:-none}" none "each of the $ncols columns of the extension's tables and views: the analyst reads it, but for the mail addresses, the texts quoting them and the SMTP payload"
is "$(as sh_test_analyst "SELECT count(*) FROM spamhints.mail_event WHERE helo ~ '@'")" 0 "and the mail events' HELO the analyst reads hold no mail address here"
is "$(q "SELECT count(*) > 0 FROM spamhints.mail_event WHERE reason ~ '<[^>]*@'")" t "(while their reasons do: \"rejected RCPT <...@...>\")"

# --------------------------------------------------------------------------
# a role with neither
# --------------------------------------------------------------------------
denied sh_test_nobody "SELECT * FROM spamhints.packet_stats" "read the views"
denied sh_test_nobody "SELECT count(*) FROM spamhints.load" "read the loads"
denied sh_test_nobody "SELECT spamhints.chart('{}'::spamhints.hist24)" "even use the extension's types (no USAGE on the schema)"
$LOADER -d "dbname=$db user=sh_test_nobody" --no-progress "$tmp/b.pcap" >"$tmp/out" 2>"$tmp/err"
is "$?" 3 "a role with neither cannot load a capture (exit 3)"
is "$(q "SELECT count(*) FROM spamhints.load")" 1 "and nothing was added by the refused loads"

# --------------------------------------------------------------------------
# search_path: what the extension's functions can be made to call
# --------------------------------------------------------------------------
is "$(q "SELECT string_agg(p.oid::regprocedure::text || ' ' || coalesce(array_to_string(p.proconfig, ','), 'no search_path'), '; ' ORDER BY 1)
         FROM pg_proc p
         JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
         JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'spamhints'
         WHERE p.prosecdef")" \
   "spamhints.ensure_partitions(timestamp with time zone,timestamp with time zone) search_path=pg_catalog, spamhints; spamhints.maintain_partitions() search_path=pg_catalog, spamhints; spamhints.address_day_roll(date) search_path=pg_catalog, spamhints,TimeZone=UTC,work_mem=128MB; spamhints.address_day_kept() search_path=pg_catalog, spamhints,TimeZone=UTC,work_mem=128MB" \
   "the only SECURITY DEFINER functions are the two that make and index the day partitions and the two that keep the rollups (address_day), each with its own search_path"
denied sh_test_analyst "SELECT spamhints.ensure_partitions('2030-01-01', '2030-01-01')" "make a day partition"
denied sh_test_nobody "SELECT spamhints.maintain_partitions()" "maintain the partitions"
denied sh_test_analyst "SELECT * FROM spamhints.maintain_partitions()" "maintain the partitions"
may sh_test_loader "SELECT spamhints.ensure_partitions('2030-01-01', '2030-01-01')" "make the partition of a day it loads"
is "$(q "SELECT count(*) FROM spamhints.partitions() WHERE from_ts = '2030-01-01 00:00+00'")" 1 "  which is there"
as sh_test_loader "SELECT spamhints.ensure_partitions('2030-01-01', '2031-02-05')" >/dev/null
grep -q 'at most 400 days' "$tmp/err"
ok $? "  and not more than 400 days at a time: $(head -1 "$tmp/err")"
part=$(q "SELECT partition FROM spamhints.partitions() WHERE from_ts IS NOT NULL ORDER BY from_ts LIMIT 1")
denied sh_test_analyst "SELECT count(*) FROM $part" "read a day partition directly (only through spamhints.smtp_sample)"
denied sh_test_loader "SELECT count(*) FROM $part" "read a day partition"
denied sh_test_loader "DELETE FROM $part" "delete from a day partition"
as sh_test_loader "DROP TABLE $part" >/dev/null
grep -q 'must be owner of table' "$tmp/err"
ok $? "sh_test_loader may not drop a day partition ($(head -1 "$tmp/err" | sed 's/^ERROR: *//'))"
is "$(q "SELECT coalesce(string_agg(p.oid::regprocedure::text, ', '), 'none') FROM pg_proc p
         JOIN pg_language l ON l.oid = p.prolang
         JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
         JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'spamhints'
         WHERE l.lanname NOT IN ('c', 'internal') AND p.prosqlbody IS NULL
           AND NOT coalesce(array_to_string(p.proconfig, ',') LIKE '%search_path=%', false)")" none \
   "every SQL or PL function of the extension has a SQL-standard body (bound at CREATE EXTENSION) or its own search_path"

# A user who may create objects plants stand-ins for pg_catalog's operators and
# functions that the extension's SQL uses; each raises an error when called.
q "CREATE SCHEMA evil AUTHORIZATION sh_test_nobody" >/dev/null
as sh_test_nobody "
CREATE FUNCTION evil.trap_ii(integer, integer) RETURNS integer LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'trapped: an operator on integers'; END\$\$;
CREATE FUNCTION evil.trap_bool_ii(integer, integer) RETURNS boolean LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'trapped: a comparison of integers'; END\$\$;
CREATE FUNCTION evil.trap_bool_tt(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'trapped: a comparison of timestamps'; END\$\$;
CREATE FUNCTION evil.trap_ti(timestamptz, interval) RETURNS timestamptz LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'trapped: timestamp - interval'; END\$\$;
CREATE OPERATOR evil.& (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.trap_ii);
CREATE OPERATOR evil.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.trap_bool_ii);
CREATE OPERATOR evil.<> (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.trap_bool_ii);
CREATE OPERATOR evil.>= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.trap_bool_tt);
CREATE OPERATOR evil.< (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.trap_bool_tt);
CREATE OPERATOR evil.- (LEFTARG = timestamptz, RIGHTARG = interval, FUNCTION = evil.trap_ti);
CREATE FUNCTION evil.date_bin(interval, timestamptz, timestamptz) RETURNS timestamptz LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'trapped: date_bin'; END\$\$;
CREATE FUNCTION evil.generate_series(timestamptz, timestamptz, interval) RETURNS SETOF timestamptz LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'trapped: generate_series'; END\$\$;
CREATE FUNCTION evil.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'trapped: clock_timestamp'; END\$\$;
CREATE FUNCTION evil.set_config(text, text, boolean) RETURNS text LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'trapped: set_config'; END\$\$;
CREATE FUNCTION evil.host(inet) RETURNS text LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'trapped: host'; END\$\$;
GRANT USAGE ON SCHEMA evil TO PUBLIC;" >/dev/null
ok $? "a user plants operators and functions in schema evil"
hostile="SET search_path = evil, pg_catalog, public, spamhints"
as postgres "$hostile; SELECT 1 & 1" >/dev/null
grep -q 'trapped' "$tmp/err"
ok $? "with search_path = evil, pg_catalog: an unqualified 1 & 1 calls the plant (the trap works)"
q "CREATE FUNCTION public.syn_only(flags integer) RETURNS boolean LANGUAGE sql AS \$\$ SELECT flags & 18 = 2 \$\$" >/dev/null
as postgres "$hostile; SELECT public.syn_only(2)" >/dev/null
grep -q 'trapped' "$tmp/err"
ok $? "a SQL function with a string body, as activity() had, calls the plant (what BEGIN ATOMIC prevents)"

for query in "SELECT * FROM spamhints.activity('2007-03-14 00:00+00', '2007-03-15 00:00+00')" \
             "SELECT * FROM spamhints.activity('2007-03-14 00:00+00', '2007-03-15 00:00+00', '30 minutes', '{25,587}')" \
             "SELECT * FROM spamhints.endpoints('{25,587}') ORDER BY load_id, frame, side" \
             "SELECT * FROM spamhints.endpoint ORDER BY load_id, frame, side" \
             "SELECT * FROM spamhints.packet_stats" \
             "SELECT * FROM spamhints.ip_census" \
             "SELECT * FROM spamhints.client_as_top" \
             "SELECT * FROM spamhints.client_cc_top" \
             "SELECT spamhints.counts(spamhints.census_agg(src_ip, dst_ip, src_port, dst_port, '{25}')) FROM spamhints.smtp_sample"; do
  want=$(as postgres "SET TimeZone = 'UTC'; $query" | grep -v '^SET$' | md5sum)
  got=$(as postgres "$hostile; SET TimeZone = 'UTC'; $query" | grep -v '^SET$' | md5sum)
  grep -q 'trapped' "$tmp/err" && got="trapped: $(grep -m1 -o 'trapped.*' "$tmp/err")"
  is "$got" "$want" "hostile search_path, as a superuser: $(cut -c1-80 <<<"$query") calls no plant, same answer"
done

q "SET client_min_messages = warning; TRUNCATE spamhints.load CASCADE" >/dev/null
PGOPTIONS="-c search_path=evil,pg_catalog,public" \
  $LOADER -d "dbname=$db user=sh_test_loader" --no-progress "$tmp/a.pcap" >"$tmp/out" 2>"$tmp/err"
ok $? "spamhints-load with a hostile search_path (PGOPTIONS) loads and calls no plant"
grep -m1 'trapped' "$tmp/err" | sed 's/^/#   /'
is "$(q "SELECT smtp_rows FROM spamhints.load")" "$rows_a" "and loads every row"
tap_done
