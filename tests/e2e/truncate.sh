#!/usr/bin/env bash
# tests/e2e/truncate.sh: every natural way to empty the samples and their
# loads (and the mail events and theirs), together or apart, with or without
# CASCADE, in either order, leaves a consistent state: no sample without its
# load, no load without its samples, and the same files load again.
# TRUNCATE of a load table alone, without CASCADE, is refused by PostgreSQL
# (0A000: a foreign key refers to it) and changes nothing.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=loader/spamhints-load
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_truncate
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
q() { PGOPTIONS='-c client_min_messages=warning' psql -X -d $db -Atc "$1" 2>"$tmp/sqlerr"; }
tests/gen/spamhints-gen --seed 5 --smtp 300 --other 50 -o "$tmp/c.pcap" -t "$tmp/truth" >/dev/null || exit 1
LOG=tests/data/maillog/exim-mainlog
counts() {
  q "SELECT (SELECT count(*) FROM spamhints.load) || ' ' || (SELECT count(*) FROM spamhints.load_agent)
     || ' ' || (SELECT count(*) FROM spamhints.smtp_sample) || ' ' || (SELECT smtp_packets FROM spamhints.packet_stats)
     || ' ' || (SELECT count(*) FROM spamhints.maillog_load) || ' ' || (SELECT count(*) FROM spamhints.mail_event)"
}
load_both() {
  "$LOADER" -q -d $db "$tmp/c.pcap" >"$tmp/out" 2>&1 &&
    "$LOADER" -q -d $db --maillog=exim --timezone UTC --year 2007 "$LOG" >>"$tmp/out" 2>&1
}
load_both || { cat "$tmp/out"; exit 1; }
full=$(counts)
read -r nl na ns np nm ne <<<"$full"
[ "$nl" = 1 ] && [ "$na" -ge 1 ] && [ "$ns" -gt 0 ] && [ "$np" = "$ns" ] && [ "$nm" = 1 ] && [ "$ne" = 11 ]
ok $? "one capture and one mail log loaded: loads agents samples packets maillogs events = $full"

# every TRUNCATE that empties both sides, then the same files load again
S=spamhints.smtp_sample L=spamhints.load A=spamhints.load_agent E=spamhints.mail_event M=spamhints.maillog_load
for stmt in "TRUNCATE $S" "TRUNCATE $S CASCADE" "TRUNCATE $L CASCADE" "TRUNCATE $L, $A" \
            "TRUNCATE $S, $L CASCADE" "TRUNCATE $L, $S CASCADE" "TRUNCATE $S, $L, $A" "TRUNCATE $A, $L, $S" \
            "TRUNCATE $L, $A, $S" "TRUNCATE TABLE ONLY $L, $S CASCADE" "DELETE FROM $L"; do
  for mstmt in "TRUNCATE $E" "TRUNCATE $M CASCADE" "TRUNCATE $E, $M" "TRUNCATE $M, $E" "TRUNCATE $E, $M CASCADE" "DELETE FROM $M"; do
    case "$stmt|$mstmt" in
      # every capture form with two mail forms, every mail form with two capture forms
      "TRUNCATE $S|"*|"TRUNCATE $L CASCADE|"*|*"|TRUNCATE $E"|*"|TRUNCATE $M CASCADE") ;;
      *) continue ;;
    esac
    q "$stmt; $mstmt" >/dev/null
    ok $? "$stmt; $mstmt: no error $(head -1 "$tmp/sqlerr")"
    is "$(counts)" "0 0 0 0 0 0" "  empties loads, agents, samples, packet_stats, mail logs and events"
    load_both
    ok $? "  the same capture and mail log load again: $(grep -m1 'already' "$tmp/out")"
    is "$(counts)" "$full" "  with the same counts as the first time"
  done
done

# one statement, both sides, and inside a transaction
q "BEGIN; TRUNCATE $S, $E; TRUNCATE $L, $M CASCADE; COMMIT" >/dev/null
ok $? "TRUNCATE samples and events, then their loads, in one transaction: no error $(head -1 "$tmp/sqlerr")"
is "$(counts)" "0 0 0 0 0 0" "  empties everything"
load_both; is "$(counts)" "$full" "  and everything loads again"
q "TRUNCATE $L, $S, $A, $M, $E" >/dev/null
ok $? "TRUNCATE of all five tables in one statement: no error $(head -1 "$tmp/sqlerr")"
is "$(counts)" "0 0 0 0 0 0" "  empties everything"
load_both; is "$(counts)" "$full" "  and everything loads again"

# refused by PostgreSQL's own rule (a foreign key refers to the table): nothing changes
for stmt in "TRUNCATE $L" "TRUNCATE $S, $L" "TRUNCATE $M"; do
  q "$stmt" >/dev/null
  is "$?" 1 "$stmt (no CASCADE, a foreign key refers to it): refused"
  grep -q 'cannot truncate a table referenced in a foreign key constraint' "$tmp/sqlerr"
  ok $? "  with PostgreSQL's message: $(head -1 "$tmp/sqlerr")"
  is "$(counts)" "$full" "  and nothing changed"
done
psql -X -d $db -v VERBOSITY=verbose -c "TRUNCATE $L" 2>&1 | grep -q 'ERROR:  0A000'
ok $? "  SQLSTATE 0A000 (feature not supported)"
# ONLY the partitioned samples table: refused by PostgreSQL (its rows are in
# its partitions), nothing changes
q "TRUNCATE ONLY $S, $L CASCADE" >/dev/null
is "$?" 1 "TRUNCATE ONLY $S (partitioned): refused"
grep -q 'cannot truncate only a partitioned table' "$tmp/sqlerr"
ok $? "  with PostgreSQL's message: $(head -1 "$tmp/sqlerr")"
is "$(counts)" "$full" "  and nothing changed"

# a cursor open on the samples: TRUNCATE of the loads still leaves no sample behind
q "BEGIN; DECLARE c CURSOR FOR SELECT * FROM $S; FETCH 1 FROM c; TRUNCATE $L CASCADE; CLOSE c; COMMIT" >/dev/null
ok $? "TRUNCATE loads CASCADE while a cursor reads the samples: no error $(head -1 "$tmp/sqlerr")"
is "$(counts | cut -d' ' -f1-4)" "0 0 0 0" "  and no sample is left without its load"

# purge (DELETE of old samples) keeps the loads on purpose: a purged file is not loaded again
load_both >/dev/null 2>&1
q "SELECT * FROM spamhints.purge('0 s', now() + interval '1 day')" >/dev/null
is "$(counts | cut -d' ' -f1,3,5,6)" "1 0 1 0" "spamhints.purge() deletes samples and events but keeps the loads"
load_both; grep -q 'already loaded' "$tmp/out"; ok $? "  so a purged file is not loaded again"
dropdb $db
tap_done
