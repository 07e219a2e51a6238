#!/usr/bin/env bash
# tests/e2e/maillog_refuse.sh: what is not a mail log of the format given is
# refused, with exit 2, a one-line reason and nothing recorded: an empty
# file, /dev/null, a capture given as a mail log, an Exim log read as
# Postfix's and the other way round (the reason names the format that
# fits, and that format then loads); a log whose lines are the format's
# but hold no event loads. The format is part of the duplicate check: a
# file recorded with the wrong format does not stop its load with the
# right one; the same file with the same format adds nothing. Without
# --year the summary says the first and last event times (so their years)
# and where the years came from; events in the future, or more than a year
# from the others, are warned about once per file; Exim's own log without
# --host is warned about once per run. Every expected time is read off the
# sample logs' .expected files or worked out by hand.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=loader/spamhints-load
DATA=tests/data/maillog
SHARED=${SHARED:-../shared/data}
[ -d "$SHARED" ] || SHARED=/work/shared/data
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_maillog_refuse
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1

q() { psql -X -d $db -Atc "$1"; }
run() { "$LOADER" "$@" >"$tmp/out" 2>"$tmp/err"; echo $?; }
loads() { q "SELECT count(*) FROM spamhints.maillog_load"; }
cp "$DATA/exim-mainlog" "$DATA/postfix-maillog" "$tmp/"
touch -d '2008-01-01 01:00:00 +0100' "$tmp/postfix-maillog"

# --- refused: exit 2, one line on standard error, nothing recorded --------
: >"$tmp/empty"
for f in "$tmp/empty" /dev/null; do
  is "$(run -d $db --maillog exim --timezone UTC --host mx1 "$f")" 2 "$f as a mail log: exit 2"
  grep -q "error: $f: empty" "$tmp/err"; ok $? "says it is empty: $(head -1 "$tmp/err")"
  is "$(wc -l <"$tmp/err")|$(loads)" "1|0" "one line, and no maillog_load row"
done
printf '\n\n   \n' >"$tmp/blank"
is "$(run -d $db --maillog postfix --timezone UTC "$tmp/blank")|$(loads)" "2|0" "blank lines only: exit 2, nothing recorded"
is "$(cat "$tmp/empty" | run -d $db --maillog exim --timezone UTC --host mx1 -)|$(loads)" "2|0" "empty standard input: exit 2, nothing recorded"

pcap=$SHARED/sflow/converted/gopacket-SFlowTestPacket1.pcap
if [ -r "$pcap" ]; then
  for fmt in exim postfix; do
    is "$(run -d $db --maillog $fmt --timezone UTC --host mx1 "$pcap")" 2 "a capture (pcap) read as --maillog $fmt: exit 2"
    grep -q "error: $pcap: binary data, not a mail log" "$tmp/err"; ok $? "says it is binary: $(head -1 "$tmp/err")"
    is "$(wc -l <"$tmp/err")|$(loads)" "1|0" "one line, and no maillog_load row"
  done
  is "$(run --dry-run --maillog exim --timezone UTC "$pcap")" 2 "--dry-run refuses it too"
else
  skip "a capture read as a mail log" "no $pcap (../shared/data)"
fi

is "$(run -d $db --maillog postfix --timezone UTC "$tmp/exim-mainlog")" 2 "the Exim log read as postfix: exit 2"
grep -q "error: $tmp/exim-mainlog: 40 lines read, none of them a postfix line" "$tmp/err"
ok $? "says how many lines and that none is postfix's: $(head -1 "$tmp/err")"
grep -q -- "try --maillog=exim" "$tmp/err"; ok $? "and suggests exim"
is "$(wc -l <"$tmp/err")|$(loads)" "1|0" "one line, and no maillog_load row"
is "$(run -d $db --maillog exim --timezone Europe/London --host mx1 "$tmp/exim-mainlog")" 0 "then --maillog exim loads it"
is "$(q "SELECT format, events FROM spamhints.maillog_load")" "exim|11" "with its 11 events"

is "$(run -d $db --maillog exim --timezone UTC --host mx1 "$tmp/postfix-maillog")" 2 "the Postfix log read as exim: exit 2"
grep -q "error: $tmp/postfix-maillog: 50 lines read, none of them an exim line" "$tmp/err"
ok $? "says how many lines and that none is Exim's: $(head -1 "$tmp/err")"
grep -q -- "try --maillog=postfix" "$tmp/err"; ok $? "and suggests postfix"
is "$(loads)" 1 "no maillog_load row added"
is "$(run -d $db --maillog postfix --timezone Europe/Berlin "$tmp/postfix-maillog")" 0 "then --maillog postfix loads it"
is "$(q "SELECT format, events FROM spamhints.maillog_load ORDER BY maillog_load_id")" $'exim|11\npostfix|10' "with its 10 events"

# a small file of other programs' lines: refused, whatever its size
printf 'Dec 31 23:58:01 mx2 CRON[1]: (root) CMD (run-parts)\nDec 31 23:59:01 mx2 CRON[2]: (root) CMD (run-parts)\n' >"$tmp/cron"
is "$(run -d $db --maillog postfix --timezone UTC "$tmp/cron")|$(loads)" "2|2" "2 lines of CRON read as postfix: exit 2, nothing recorded"
grep -q "2 lines read, none of them a postfix line" "$tmp/err"; ok $? "$(head -1 "$tmp/err")"
# a small log whose lines are Exim's but hold no event: loaded, 0 events
printf '2007-07-14 10:00:00 exim 4.63 daemon started: pid=2201\n2007-07-14 10:30:00 Start queue run: pid=2301\n' >"$tmp/quiet"
is "$(run -d $db --maillog exim --timezone UTC --host mx1 "$tmp/quiet")" 0 "a quiet Exim log (daemon start, queue run): loads"
is "$(q "SELECT lines, events FROM spamhints.maillog_load WHERE file_name = '$tmp/quiet'")" "2|0" "with its 2 lines and 0 events"

# --- the format is part of the duplicate check -----------------------------
q "DELETE FROM spamhints.maillog_load" >/dev/null
sha=$(sha256sum "$tmp/exim-mainlog" | cut -d' ' -f1)
# what an older loader recorded: the Exim log, loaded as postfix with 0 events
q "INSERT INTO spamhints.maillog_load (file_name, sha256, format, timezone, finished_at)
   VALUES ('$tmp/exim-mainlog', '$sha', 'postfix', 'UTC', now())" >/dev/null
is "$(run -d $db --maillog exim --timezone UTC --host mx1 "$tmp/exim-mainlog")" 0 "a log recorded as postfix loads as exim"
grep -q 'mail log [0-9]*: exim, 40 lines, 11 events' "$tmp/out"; ok $? "its events are loaded, not 'already loaded': $(head -1 "$tmp/out")"
is "$(q "SELECT format || ':' || events FROM spamhints.maillog_load ORDER BY format")" $'exim:11\npostfix:0' "both rows, one per format"
is "$(run -d $db --maillog exim --timezone UTC --host mx1 "$tmp/exim-mainlog")" 0 "the same file and format again: exit 0"
grep -q 'already loaded as mail log' "$tmp/out"; ok $? "says it was loaded before: $(head -1 "$tmp/out")"
is "$(loads)|$(q "SELECT count(*) FROM spamhints.mail_event")" "2|11" "and adds nothing"
is "$(cat "$tmp/exim-mainlog" | run -d $db --maillog exim --timezone UTC --host mx1 -)" 0 "the same from standard input: exit 0"
grep -q 'already loaded as mail log' "$tmp/out"; ok $? "found at the end of its load: $(head -1 "$tmp/out")"
is "$(loads)|$(q "SELECT count(*) FROM spamhints.mail_event")" "2|11" "and adds nothing"

# --- the summary says the events' dates without --year --------------------
first_last() { cut -f2 "$1" | sed 's/\.[0-9]*//; s/+00$//' | sort | sed -n '1p;$p' | paste -sd'|'; }
IFS='|' read -r first last < <(first_last "$DATA/exim-mainlog.expected")
run --dry-run --maillog exim --timezone Europe/London --host mx1 "$tmp/exim-mainlog" >/dev/null
grep -qF "events from $first UTC to $last UTC, years from the lines" "$tmp/out"
ok $? "exim: the first and last event times ($first, $last UTC): $(cut -c1-60 "$tmp/out")...$(grep -o 'events from.*' "$tmp/out")"
IFS='|' read -r first last < <(first_last "$DATA/postfix-maillog.expected")
run --dry-run --maillog postfix --timezone Europe/Berlin "$tmp/postfix-maillog" >/dev/null
grep -qF "events from $first UTC to $last UTC, years from the file's modification time" "$tmp/out"
ok $? "postfix: the range ($first, $last UTC) and where the years came from: $(grep -o 'events from.*' "$tmp/out")"
run --dry-run --maillog postfix --timezone Europe/Berlin --year 2007 "$tmp/postfix-maillog" >/dev/null
grep -q "events from" "$tmp/out"; ok $((!$?)) "with --year: no range (the analyst gave the year)"
is "$(cat "$tmp/err")" "" "and no warning: its dates are neither in the future nor far apart"

# --- warnings about dates ---------------------------------------------------
sed 's/^2007-07-14/2099-07-14/' "$tmp/exim-mainlog" >"$tmp/future-exim"
is "$(run --dry-run --maillog exim --timezone UTC --host mx1 "$tmp/future-exim")" 0 "an Exim log of 2099: loads (a warning only)"
grep -q "warning: $tmp/future-exim: 11 events are in the future, the latest at 2099-07-14 10:30:00 UTC" "$tmp/err"
ok $? "warns that its 11 events are in the future: $(head -1 "$tmp/err")"
is "$(grep -c warning "$tmp/err")" 1 "once"
cp "$tmp/postfix-maillog" "$tmp/future-postfix"; touch -d '2099-01-01 01:00:00 +0100' "$tmp/future-postfix"
run --dry-run --maillog postfix --timezone Europe/Berlin "$tmp/future-postfix" >/dev/null
grep -q "events from 2007-12-31 23:08:00 UTC to 2098-12-31 23:10:00 UTC" "$tmp/out"
ok $? "a Postfix log modified in 2099: its Dec 31 lines get 2098, its RFC 3339 line keeps 2007: $(grep -o 'events from.*' "$tmp/out")"
grep -q "warning: $tmp/future-postfix: 9 events are in the future" "$tmp/err"
ok $? "warns (the 9 syslog-dated events; the RFC 3339 line keeps 2007): $(head -1 "$tmp/err")"
sed '2s/^2007-07-14/2005-07-14/' "$tmp/exim-mainlog" >"$tmp/far-exim"
is "$(run --dry-run --maillog exim --timezone UTC --host mx1 "$tmp/far-exim")" 0 "an Exim log with one line of 2005: loads"
grep -q "warning: $tmp/far-exim: 1 event is more than a year from the others (2005-07-14 10:15:01 UTC; the rest from 2007-07-14" "$tmp/err"
ok $? "warns about the event two years from the others: $(head -1 "$tmp/err")"
is "$(grep -c warning "$tmp/err")" 1 "once"

# --- Exim's own log without --host: one warning a run ----------------------
cp "$DATA/exim-mainlog-london-october" "$tmp/"
is "$(run --dry-run --maillog exim --timezone Europe/London "$tmp/exim-mainlog" "$tmp/exim-mainlog-london-october" "$tmp/exim-mainlog")" 0 \
  "three Exim logs without --host: load"
is "$(grep -c -- '--host' "$tmp/err")" 1 "one warning for the run, not one a file"
grep -q "warning: Exim's own log names no mail server: .*--host=NAME" "$tmp/err"; ok $? "which says how to name it: $(head -1 "$tmp/err")"
is "$(run --dry-run --maillog exim --timezone Europe/London --host mx1 "$tmp/exim-mainlog"; cat "$tmp/err")" 0 "with --host: no warning"
is "$(run --dry-run --maillog postfix --timezone Europe/Berlin "$tmp/postfix-maillog"; cat "$tmp/err")" 0 "postfix (syslog names its hosts): no warning"

dropdb $db
tap_done
