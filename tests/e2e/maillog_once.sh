#!/usr/bin/env bash
# tests/e2e/maillog_once.sh: mail log lines count once (issue #13, item 3).
# A log loaded in pieces, or again after it grew, or as a rotated (renamed
# and gzipped) copy, or as an overlapping excerpt, ends up with exactly the
# events that loading the whole log once into a fresh database gives: the
# truth here is that fresh load, compared row by row on everything but the
# load and the line number (which differ between files). An event that
# straddles the end of the first piece (its message's arrival in it, its
# verdict and deliveries after) comes out whole. Two genuinely identical
# lines stay two events. Two loads of overlapping logs at once add each
# line and event once. The load rows count the lines already known.
# Then spamhints-load --maillog --follow (see the second half).
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=${LOADER:-loader/spamhints-load}
GEN=tests/gen/spamhints-maillog-gen
tmp=$(mktemp -d); chmod 755 "$tmp"
db=spamhints_e2e_maillog_once
fresh=spamhints_e2e_maillog_once_fresh
cleanup() { rm -rf "$tmp"; }
trap 'cleanup; type pg_stop >/dev/null 2>&1 && pg_stop' EXIT

q() { psql -X -d $db -Atc "$1"; }
newdb() { dropdb --if-exists "$1" 2>/dev/null; createdb "$1" && psql -qX -d "$1" -c 'CREATE EXTENSION spamhints'; }
# the events as rows, without the load and the line number
EVQ="SELECT ts, host, queue_id, client_ip, client_port, client_name, helo, size, sender, recipients, verdict,
            virus, spam_score, reason, encode(line_key, 'hex'), line_count
       FROM spamhints.mail_event ORDER BY 1, 4, 3, 15"
events_of() { psql -X -d "$1" -Atc "$EVQ" >"$2"; }
load() { "$LOADER" -q -d $db "$@"; }
# the events of loading FILE once into a fresh database, into OUT
truth() {
  local out=$1; shift
  newdb $fresh >/dev/null || return 1
  "$LOADER" -q -d $fresh "$@" || return 1
  events_of $fresh "$out"
}
same() { # same FILE DESC: the database's events are FILE's
  events_of $db "$tmp/got"
  if cmp -s "$tmp/got" "$1"; then ok 0 "$2 ($(wc -l <"$1") events)"; else
    ok 1 "$2"; diff "$1" "$tmp/got" | head -10 | sed 's/^/#   /'; fi
}

# two days of logs of the generator: 14 clients, a few messages each
for i in $(seq 1 14); do
  case $((i % 3)) in 0) k=spam ;; 1) k=clean ;; *) k=virus ;; esac
  printf '10.2.0.%d\t%s\t%d\n' "$i" "$k" $((i + 2))
done >"$tmp/clients"
"$GEN" --seed 5 --date 2007-03-14 --timezone UTC --clients "$tmp/clients" --exim "$tmp/mainlog" --postfix "$tmp/maillog"
EX=(--maillog exim --timezone UTC --host mx1)
PF=(--maillog postfix --timezone UTC --year 2007)

# --- the first lines, then the whole log ----------------------------------
# the cut: just after a message's arrival, before its deliveries and
# verdict (Exim's "<=" line, Postfix's smtpd "client=" line)
cut_exim=$(grep -n ' <= ' "$tmp/mainlog" | awk -F: '$1 >= 100 { print $1; exit }')
cut_pf=$(grep -n 'client=' "$tmp/maillog" | awk -F: '$1 >= 100 { print $1; exit }')
qid=$(sed -n "${cut_exim}p" "$tmp/mainlog" | cut -d' ' -f3)
[ "$(grep -c "$qid" "$tmp/mainlog")" -gt 1 ] && [ "$(grep -n "$qid Completed" "$tmp/mainlog" | cut -d: -f1)" -gt "$cut_exim" ]
ok $? "the Exim cut (line $cut_exim) is inside message $qid"

for fmt in exim postfix; do
  if [ $fmt = exim ]; then f=$tmp/mainlog; cut=$cut_exim; opts=("${EX[@]}"); else f=$tmp/maillog; cut=$cut_pf; opts=("${PF[@]}"); fi
  truth "$tmp/truth.$fmt" "${opts[@]}" "$f" || { ok 1 "the truth of $fmt"; continue; }
  newdb $db >/dev/null
  head -n "$cut" "$f" >"$tmp/head.$fmt"
  load "${opts[@]}" "$tmp/head.$fmt"; ok $? "$fmt: the first $cut lines load"
  partial=$(q "SELECT line_count FROM spamhints.mail_event WHERE line = $cut")
  load "${opts[@]}" "$f"; ok $? "$fmt: then the whole log loads"
  same "$tmp/truth.$fmt" "$fmt: the first $cut lines, then the whole log: the events of the whole log loaded once"
  is "$(q "SELECT count(*) = count(DISTINCT line_key) FROM spamhints.mail_event")" t "$fmt: no line gave two events"
  whole=$(q "SELECT e.line_count FROM spamhints.mail_event e JOIN spamhints.maillog_load l USING (maillog_load_id)
             WHERE l.maillog_load_id = 2 AND e.line = $cut")
  [ -n "$partial" ] && [ -n "$whole" ] && [ "$partial" -lt "$whole" ]
  ok $? "$fmt: the message cut in two ($partial lines in the first piece) is the second load's, whole ($whole lines)"
  keyed1=$(q "SELECT count(*) FROM spamhints.maillog_line WHERE maillog_load_id = 1")
  is "$(q "SELECT lines_known FROM spamhints.maillog_load WHERE maillog_load_id = 2")" "$keyed1" \
     "$fmt: the second load counts the first one's $keyed1 lines as known"
  is "$(q "SELECT (SELECT sum(events) FROM spamhints.maillog_load) > (SELECT count(*) FROM spamhints.mail_event)")" t \
     "$fmt: the loads' events are more than the rows (the partial ones were replaced)"

  # an overlapping excerpt from the middle, before and after the whole log
  n=$(wc -l <"$f")
  sed -n "$((n / 3)),$((2 * n / 3))p" "$f" >"$tmp/mid.$fmt"
  load "${opts[@]}" "$tmp/mid.$fmt"
  same "$tmp/truth.$fmt" "$fmt: then an excerpt from the middle adds nothing"
  is "$(q "SELECT events, lines_known > 0, (SELECT count(*) FROM spamhints.maillog_line WHERE maillog_load_id = 3)
           FROM spamhints.maillog_load WHERE maillog_load_id = 3" | tr '|' ' ')" "0 t 0" "$fmt: and adds no line"
  newdb $db >/dev/null
  load "${opts[@]}" "$tmp/mid.$fmt" && load "${opts[@]}" "$f"
  same "$tmp/truth.$fmt" "$fmt: the middle excerpt first, then the whole log: the whole log's events"

  # a log loaded in two halves, then its rotated copy, renamed and gzipped
  newdb $db >/dev/null
  head -n $((n / 2)) "$f" >"$tmp/a.$fmt"; tail -n +$((n / 2 + 1)) "$f" >"$tmp/b.$fmt"
  load "${opts[@]}" "$tmp/a.$fmt" && load "${opts[@]}" "$tmp/b.$fmt"
  ok $? "$fmt: its two halves load"
  cp "$f" "$tmp/$fmt.log.1" && gzip -9 "$tmp/$fmt.log.1"
  before=$(q "SELECT count(*) FROM spamhints.mail_event")
  load "${opts[@]}" "$tmp/$fmt.log.1.gz"; ok $? "$fmt: then the rotated copy ($fmt.log.1.gz) loads"
  is "$(q "SELECT count(*) FROM spamhints.maillog_load WHERE file_name LIKE '%.gz' AND events = 0
             AND lines_known = (SELECT count(*) FROM spamhints.maillog_line)")" 1 \
     "$fmt: the rotated copy adds no event, and knows all its lines"
  # the halves' events: the message cut at the middle is whole only if the second half saw its client
  same "$tmp/truth.$fmt" "$fmt: halves then rotated copy: the whole log's events"
  [ "$before" -le "$(wc -l <"$tmp/truth.$fmt")" ]; ok $? "$fmt: (the halves had $before events)"
done

# --- two identical lines are two ------------------------------------------
newdb $db >/dev/null
r='2007-03-15 09:00:00 H=(x) [192.0.2.9]:1000 F=<a@example.org> rejected RCPT <b@example.net>: relay not permitted'
printf '%s\n%s\n%s\n' "2007-03-15 08:59:59 Start queue run: pid=1" "$r" "$r" >"$tmp/twins"
load "${EX[@]}" "$tmp/twins"
is "$(q "SELECT count(*), count(DISTINCT line_key) FROM spamhints.mail_event" | tr '|' ' ')" "2 2" "two identical lines: two events"
head -2 "$tmp/twins" >"$tmp/twin1"
load "${EX[@]}" "$tmp/twin1"
is "$(q "SELECT count(*) FROM spamhints.mail_event")" 2 "the first of them alone adds nothing"
{ cat "$tmp/twins"; echo "2007-03-15 09:00:01 End queue run: pid=1"; } >"$tmp/twins+"
load "${EX[@]}" "$tmp/twins+"
is "$(q "SELECT count(*) FROM spamhints.mail_event")|$(q "SELECT lines_known FROM spamhints.maillog_load ORDER BY 1 DESC LIMIT 1")" \
   "2|3" "the log grown by a line: its 3 known lines add nothing"
{ cat "$tmp/twins+"; echo "2007-03-15 09:00:02 Start queue run: pid=2"; } >"$tmp/twins-mx2"
load --maillog exim --timezone UTC --host mx2 "$tmp/twins-mx2"
is "$(q "SELECT count(*) FROM spamhints.mail_event WHERE host = 'mx2'")" 2 "the same lines of another server (--host mx2) are other lines"

# --- two loads of overlapping logs at once --------------------------------
newdb $db >/dev/null
f=$tmp/maillog; n=$(wc -l <"$f")
head -n $((2 * n / 3)) "$f" >"$tmp/p1"; tail -n +$((n / 3)) "$f" >"$tmp/p2"
# a session holds the lock the loads take before they add, so that both
# have read and sent everything before either adds a line
psql -X -d $db -qc "BEGIN; SELECT pg_advisory_xact_lock(hashtext('spamhints.maillog_line')); SELECT pg_sleep(3); COMMIT" >/dev/null &
hold=$!
sleep 0.5
load "${PF[@]}" "$tmp/p1" & a=$!
load "${PF[@]}" "$tmp/p2" & b=$!
wait $a; ra=$?; wait $b; rb=$?; wait $hold
is "$ra|$rb" "0|0" "two overlapping logs loaded at once"
same "$tmp/truth.postfix" "at once: the whole log's events, each once"
is "$(q "SELECT count(*) FROM spamhints.maillog_line")" "$(psql -X -d $fresh -Atc "SELECT count(*) FROM spamhints.maillog_line")" \
   "at once: each line once (as many as the whole log's)"
is "$(q "SELECT count(*) FILTER (WHERE lines_known > 0) FROM spamhints.maillog_load")" 1 "at once: the load that settled second found the overlap known"

# --- --follow --------------------------------------------------------------
# The Postfix log written in pieces as a server would: appended to, the
# follower killed (-9) and started again, rotated by renaming (and written
# to after the rename), rotated by copytruncate, then SIGTERM: the events
# are the whole log's loaded once. Each step waits (at most 15 s) until a
# batch has read the file to its end.
newdb $db >/dev/null
f=$tmp/maillog; log=$tmp/follow/log
mkdir "$tmp/follow"
last_bytes() { q "SELECT file_bytes FROM spamhints.maillog_load WHERE finished_at IS NOT NULL ORDER BY maillog_load_id DESC LIMIT 1"; }
wait_bytes() { # wait_bytes FILE: until the latest batch ends at FILE's end
  local want; want=$(stat -c %s "$1")
  for _ in $(seq 150); do [ "$(last_bytes)" = "$want" ] && return 0; sleep 0.1; done
  return 1
}
follow() { "$LOADER" -d $db "${PF[@]}" --follow --interval 0.3 "$log" >>"$tmp/follow.out" 2>>"$tmp/follow.err" & fpid=$!; }
sed -n 1,200p "$f" >"$log"
follow
wait_bytes "$log"; ok $? "--follow loads the log's first 200 lines"
sed -n 201,300p "$f" >>"$log"
wait_bytes "$log"; ok $? "and the 100 appended to it"
kill -KILL $fpid; wait $fpid 2>/dev/null
sed -n 301,400p "$f" >>"$log"
follow
wait_bytes "$log"; ok $? "killed (-9) and started again: it reads the log again, to its end"
mv "$log" "$log.1"
sed -n 401,450p "$f" >>"$log.1"
wait_bytes "$log.1"; ok $? "rotated (renamed): it reads the old file on, while the path is missing"
sed -n 451,550p "$f" >"$log"
wait_bytes "$log"; ok $? "then the new file at the path, from its start"
cp "$log" "$log.2"; : >"$log"; sed -n 551,999p "$f" >>"$log"
wait_bytes "$log"; ok $? "rotated by copytruncate: the truncated file, from its start"
kill -TERM $fpid; wait $fpid
is "$?" 0 "SIGTERM: exit 0"
same "$tmp/truth.postfix" "followed through appends, a restart, a rename and a copytruncate: the whole log's events, once"
is "$(q "SELECT count(*) FROM spamhints.maillog_line")" "$(psql -X -d $fresh -Atc "SELECT count(*) FROM spamhints.maillog_line")" \
   "and its lines, once"
grep -q 'error' "$tmp/follow.err"; is "$?" 1 "no error on the way$(head -c 300 "$tmp/follow.err" | tr '\n' ' ')"
follow; sleep 1; kill -TERM $fpid; wait $fpid
is "$?|$(q "SELECT count(*) FROM spamhints.mail_event")" "0|$(wc -l <"$tmp/truth.postfix")" "started again on the same log: nothing added"
load "${PF[@]}" "$log.1" "$log.2"
same "$tmp/truth.postfix" "the rotated copies loaded afterwards add nothing"
"$LOADER" -d $db "${PF[@]}" --follow "$log" "$log.1" 2>"$tmp/err"; is "$?" 1 "--follow takes one file (exit 1)"
"$LOADER" -d $db "${PF[@]}" --interval 2 "$log" 2>"$tmp/err"; is "$?" 1 "--interval without --follow: exit 1"

dropdb --if-exists $db; dropdb --if-exists $fresh
tap_done
