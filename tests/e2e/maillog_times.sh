#!/usr/bin/env bash
# tests/e2e/maillog_times.sh: mail log times where the clocks change, end to
# end (tests/data/maillog/*-london-october, Europe/London): the repeated hour
# of October told by the lines around it (Exim's mainlog, Postfix's syslog),
# or skipped as ambiguous_time; a time of the hour skipped in March counted
# as malformed; quoted addresses kept whole. Every UTC time below is worked
# out by hand: BST is UTC+1, GMT is UTC; on 25 October 2026 (and 31 October
# 2027) 01:00-01:59 local is first BST, then GMT; on 28 March 2027 01:00-01:59
# local does not exist.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=loader/spamhints-load
DATA=tests/data/maillog
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_maillog_times
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1

q() { psql -X -d $db -Atc "$1"; }
run() { "$@" >"$tmp/out" 2>"$tmp/err"; echo $?; }
# the events of a load: client, UTC time, sender, recipients
events() {
  q "SELECT string_agg(format('%s %s %s %s', client_ip, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
       sender, recipients), E'\n' ORDER BY line) FROM spamhints.mail_event WHERE maillog_load_id = $1"
}

exim_expected='192.0.2.1 2026-10-24 23:58:10 a@x.example {r1@ex.net}
192.0.2.2 2026-10-25 00:15:00 "q\"x"@ex.net {"\"sp ace\"@ex.net"}
192.0.2.3 2026-10-25 00:59:30  {"\"a>b\"@ex.net"}
192.0.2.4 2026-10-25 01:00:20 d@x.example {r4@ex.net}
192.0.2.5 2026-10-25 01:45:00 e@x.example {r5@ex.net}
192.0.2.6 2026-10-25 02:10:00 f@x.example {r6@ex.net}
192.0.2.8 2027-03-28 01:30:00 h@x.example {r8@ex.net}
192.0.2.10 2027-10-31 02:30:00 j@x.example {r10@ex.net}'
postfix_expected='192.0.2.21 2026-10-24 23:59:58 a@x.example {r1@ex.net}
192.0.2.22 2026-10-25 00:20:00 "q\"x, size=9"@ex.net {"\"a>b c\"@ex.net"}
192.0.2.23 2026-10-25 00:58:00 c@x.example {r3@ex.net}
192.0.2.24 2026-10-25 01:02:00 d@x.example {r4@ex.net}
192.0.2.25 2026-10-25 02:05:00 e@x.example {r5@ex.net}'

# The parser asks the C library about the zone the loader gives it (a NULL
# zone is the process's own, TZ): here both are Europe/London.
is "$(TZ=Europe/London run "$LOADER" -d $db --maillog exim --timezone Europe/London "$DATA/exim-mainlog-london-october")" 0 \
  "exim: loads"
is "$(events 1)" "$exim_expected" "exim: each time in UTC, the repeated hour told by the times going back; quoted addresses whole"
is "$(q "SELECT lines, events, malformed, skipped::text FROM spamhints.maillog_load WHERE maillog_load_id = 1")" \
  '12|8|1|{"ambiguous_time": 1, "malformed_time": 1}' \
  "exim: 01:30 of 28 March 2027 is malformed; 01:30 of 31 October 2027 (no going back) is ambiguous, not guessed"
grep -q '8 events, 1 malformed.*"ambiguous_time": 1' "$tmp/out"; ok $? "exim: the summary line says so: $(cat "$tmp/out")"

is "$(TZ=Europe/London run "$LOADER" -d $db --maillog postfix --year 2026 --timezone Europe/London "$DATA/postfix-maillog-london-october")" 0 \
  "postfix: loads"
is "$(events 2)" "$postfix_expected" "postfix: syslog times told the same way; quoted addresses whole"
is "$(q "SELECT lines, events, malformed FROM spamhints.maillog_load WHERE maillog_load_id = 2")" '8|5|0' "postfix: the counts"

# --timezone, not the process's TZ, is the zone the parser asks about
q "DELETE FROM spamhints.maillog_load" >/dev/null
is "$(TZ=America/New_York run "$LOADER" -d $db --maillog exim --timezone Europe/London "$DATA/exim-mainlog-london-october")" 0 \
  "exim, TZ=America/New_York --timezone Europe/London: loads"
id=$(q "SELECT max(maillog_load_id) FROM spamhints.maillog_load")
is "$(events "$id")" "$exim_expected" "and gives the same UTC times"

dropdb $db
tap_done
