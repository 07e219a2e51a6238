#!/usr/bin/env bash
# tests/e2e/loader_modes.sh: both kinds of input, captures and mail logs
# (--maillog), take the same load options and are loaded the same way:
# --retry, --progress, --quiet, -o/--output, standard input, --dry-run; the
# options of one kind are refused with the other; the mode may be given
# after the files.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=loader/spamhints-load
PG_TMPDIR=${PG_TMPDIR:-${PGHOST:-}}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_modes
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
q() { PGOPTIONS='-c client_min_messages=warning' psql -X -d $db -Atc "$1"; }
LOG=tests/data/maillog/exim-mainlog
ML=(--maillog=exim --timezone UTC --year 2007 --host mx1.example.net)
tests/gen/spamhints-gen --seed 3 --smtp 200 --other 100 -o "$tmp/small.pcap" -t "$tmp/truth" >/dev/null || exit 1

run() { "$LOADER" "$@" >"$tmp/out" 2>"$tmp/err"; echo $?; }
events() { q "SELECT count(*) FROM spamhints.mail_event"; }

# the mode after the files
is "$(run -d $db "$LOG" --maillog=exim --timezone UTC --year 2007)" 0 "FILE --maillog=exim: the mode may follow the file"
grep -q 'mail log 1: exim, 40 lines, 11 events' "$tmp/out"; ok $? "and it is loaded as a mail log: $(head -1 "$tmp/out")"
is "$(run -d $db "$LOG" --maillog exim --timezone UTC --year 2007)" 0 "FILE --maillog exim: loaded before, exit 0"
grep -q 'already loaded as mail log 1 (' "$tmp/out"; ok $? "says it was loaded before: $(head -1 "$tmp/out")"

# options of the other kind of input
for o in "--ports 25" "--filter udp" "--asn-db x.mmdb" "--country-db x.mmdb"; do
  is "$(run "${ML[@]}" $o --dry-run "$LOG")" 1 "$o with --maillog: exit 1"
  grep -q "error: ${o%% *} is for captures" "$tmp/err"; ok $? "with a one-line reason: $(head -1 "$tmp/err")"
done
for o in "--timezone UTC" "--host mx1" "--year 2007"; do
  is "$(run $o --dry-run "$tmp/small.pcap")" 1 "$o without --maillog: exit 1"
  grep -q "error: ${o%% *} is for mail logs" "$tmp/err"; ok $? "with a one-line reason: $(head -1 "$tmp/err")"
done
SPAMHINTS_ASN_DB=/nonexistent.mmdb run "${ML[@]}" --dry-run "$LOG" >/dev/null
grep -q 'exim, 40 lines' "$tmp/out"; ok $? "SPAMHINTS_ASN_DB is for captures only: a mail log ignores it"
is "$(run "${ML[@]}" -o "$tmp/x" --dry-run "$LOG")" 1 "--maillog -o with --dry-run: exit 1"
is "$(run "${ML[@]}" --retry x "$LOG")" 1 "--maillog --retry x: exit 1"
grep -q 'error: bad --retry' "$tmp/err"; ok $? "with a clear message: $(head -1 "$tmp/err")"
is "$(run "${ML[@]}" --version)" 0 "--maillog --version: exit 0"
grep -qE '^spamhints-load [0-9]+\.[0-9]+' "$tmp/out"; ok $? "prints the version"
is "$(run "${ML[@]}" --help)" 0 "--maillog --help: exit 0"
grep -q -- '--retry=N' "$tmp/out" && grep -q -- '--output=FILE' "$tmp/out" && grep -q -- '--progress' "$tmp/out"
ok $? "the mail-log help documents --retry, --output and --progress"

# -o: the text COPY stream of spamhints.mail_event, no database
is "$(run "${ML[@]}" -o "$tmp/events.copy" "$LOG")" 0 "--maillog -o FILE: exit 0 without a database"
is "$(wc -l <"$tmp/events.copy")" 11 "-o FILE holds the 11 events, one line each"
is "$(awk -F'\t' '{ print NF }' "$tmp/events.copy" | sort -u)" 18 "each with the 18 columns of mail_event the loader writes (line_key and line_count last)"
grep -q 'exim, 40 lines, 11 events' "$tmp/out"; ok $? "and the summary on standard output"
is "$(run "${ML[@]}" -o - "$LOG")" 0 "--maillog -o -: exit 0"
cmp -s "$tmp/out" "$tmp/events.copy"; ok $? "-o - writes the same stream to standard output"
grep -q 'exim, 40 lines, 11 events' "$tmp/err"; ok $? "and the summary to standard error"
is "$(run "${ML[@]}" -o "$tmp/nodir/x" "$LOG")" 2 "--maillog -o into a missing directory: exit 2"

# --progress and --quiet
is "$(run "${ML[@]}" --dry-run --progress "$LOG")" 0 "--maillog --progress: exit 0"
grep -q $'\r'".*\] 100% .* events, " "$tmp/err"; ok $? "draws the progress bar on standard error"
is "$(run "${ML[@]}" --dry-run --no-progress "$LOG"; cat "$tmp/err")" 0 "--maillog --no-progress: nothing on standard error"
is "$(run "${ML[@]}" --dry-run -q "$LOG"; cat "$tmp/out" "$tmp/err")" 0 "--maillog -q: no summary, no progress"
is "$(run --dry-run --progress "$tmp/small.pcap")" 0 "a capture with --progress: exit 0"

# standard input
is "$(run -d $db --maillog=postfix --timezone UTC --year 2007 --retry 2 - <tests/data/maillog/postfix-maillog)" 0 "--maillog --retry 2 -: standard input loads (nothing to retry)"

# --retry: the server cannot be reached
is "$(run -d "host=${PGHOST:-/tmp} port=1 dbname=$db" "${ML[@]}" --retry 1 --retry-wait 0 "$LOG")" 3 \
  "--maillog --retry 1, no server there: exit 3"
grep -q 'the server cannot be reached: retrying in 0.0 s (retry 1 of 1)' "$tmp/err"
ok $? "--maillog --retry: retries the connection: $(grep -m1 retrying "$tmp/err")"

# --retry: the backend terminated in the middle of the COPY, once
q "DELETE FROM spamhints.maillog_load" >/dev/null
q "CREATE SCHEMA fault; CREATE SEQUENCE fault.fired;
   CREATE FUNCTION fault.trip() RETURNS trigger LANGUAGE plpgsql AS \$\$
   BEGIN
     IF pg_catalog.nextval('fault.fired') = 5 THEN
       PERFORM pg_catalog.pg_terminate_backend(pg_catalog.pg_backend_pid());
     END IF;
     RETURN NEW;
   END \$\$;
   CREATE TRIGGER fault_trip BEFORE INSERT ON spamhints.mail_event FOR EACH ROW EXECUTE FUNCTION fault.trip();" >/dev/null
is "$(run -d $db "${ML[@]}" --no-progress --retry 2 --retry-wait 0.1 "$LOG")" 0 \
  "--maillog --retry 2, backend terminated at the 5th event: the load completes (exit 0)"
grep -q "$LOG: retrying in 0.1 s (retry 1 of 2)" "$tmp/err"; ok $? "says it retries: $(grep -m1 retrying "$tmp/err")"
is "$(events)|$(q "SELECT count(*) FROM spamhints.maillog_load")" "11|1" "exactly the log's events, once"
q "SELECT pg_catalog.setval('fault.fired', 1, false)" >/dev/null
q "DELETE FROM spamhints.maillog_load" >/dev/null
is "$(run -d $db "${ML[@]}" --no-progress "$LOG")" 3 "without --retry, the same fault: exit 3"
grep -q 'hint: nothing of .* was kept' "$tmp/err"; ok $? "with the hint that nothing was kept"
is "$(events)|$(q "SELECT count(*) FROM spamhints.maillog_load")" "0|0" "and nothing is left behind"
q "DROP SCHEMA fault CASCADE" >/dev/null

# --retry: the server down when the loader starts, up a moment later
if [ -d "$PG_TMPDIR/data" ]; then
  source tests/lib/pgcluster.sh
  pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TMPDIR/data" -w -m fast stop >/dev/null
  $LOADER -d $db "${ML[@]}" --no-progress --retry 8 --retry-wait 0.2 "$LOG" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  sleep 1
  pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TMPDIR/data" -l "$PG_TMPDIR/server.log" -w -t 60 start >/dev/null
  wait $pid; rc=$?
  is "$rc" 0 "--maillog --retry 8, server down at the start and up a second later: the log loads"
  grep -q 'the server cannot be reached: retrying' "$tmp/err"; ok $? "--maillog --retry: says it waits for the server"
  is "$(events)" 11 "and its events are in"
else
  skip "--maillog --retry with the server down" "not the test command's throwaway cluster (no $PG_TMPDIR/data)"
fi

dropdb $db
tap_done
