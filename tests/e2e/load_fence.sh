#!/usr/bin/env bash
# tests/e2e/load_fence.sh: the loader role may create and finish its own
# unfinished loads, and nothing else.
#
# A committed load (spamhints.load with its samples and agents, or
# spamhints.maillog_load with its mail events) is evidence: "load 1 frame N"
# leads back to a datagram of a capture whose SHA-256 is stored. Each way a
# role holding spamhints_loader could change that evidence is tried here as
# sh_test_loader: un-finishing a load (so that the same capture loads a
# second time), changing or deleting its row, adding rows to it (INSERT and
# COPY), changing or deleting its rows, choosing ids (OVERRIDING SYSTEM
# VALUE), inserting a load already finished or with a hash, committing a load
# unfinished and writing to it later, writing to a load after finishing it in
# the same transaction, and writing to a load another session is writing.
# Each is refused with SQLSTATE 42501 (insufficient_privilege), 23514 (check
# violation) or 23503 (no such load), and after each the committed loads'
# rows and counts are exactly what they were (compared with md5 of every
# row, read as the superuser) and loading the same files again adds nothing.
# The loader's own path and the administrator's (DELETE of a load, purge())
# keep working.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=loader/spamhints-load
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_load_fence
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
for r in sh_test_loader sh_test_loader2; do
  psql -qX -d $db -c "DROP OWNED BY $r; DROP ROLE $r" >/dev/null 2>&1
done
psql -qX -d $db -c "CREATE ROLE sh_test_loader LOGIN IN ROLE spamhints_loader;
                    CREATE ROLE sh_test_loader2 LOGIN IN ROLE spamhints_loader" || exit 1
LOG=tests/data/maillog/exim-mainlog

tests/gen/spamhints-gen --seed 14 --smtp 400 --other 200 -o "$tmp/a.pcap" -t "$tmp/a.truth" >/dev/null || exit 1
tests/gen/spamhints-gen --seed 15 --smtp 300 --other 100 -o "$tmp/b.pcap" -t "$tmp/b.truth" >/dev/null || exit 1
rows_a=$(awk '$1 == "smtp_rows" { print $2 }' "$tmp/a.truth")
rows_b=$(awk '$1 == "smtp_rows" { print $2 }' "$tmp/b.truth")
sha_b=$(sha256sum "$tmp/b.pcap" | cut -c1-64)

# as ROLE SQL: run SQL as ROLE (errors with their SQLSTATE in $tmp/err)
as() { psql -X -d $db -U "$1" -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -Atc "$2" 2>"$tmp/err"; }
q() { PGOPTIONS='-c client_min_messages=warning' psql -X -d $db -Atc "$1"; }
load_as() { # ROLE FILE [OPTIONS]: spamhints-load as ROLE
  local role=$1 file=$2; shift 2
  $LOADER -d "dbname=$db user=$role" --no-progress "$@" "$file" >"$tmp/out" 2>"$tmp/lerr"
}

# Everything a committed load is, read as the superuser: every row of the load
# tables, their agents, samples and events, in a fixed order.
state() {
  q "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) || ' ' || count(*) FROM spamhints.load t" | tr '\n' ' '
  q "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) || ' ' || count(*) FROM spamhints.load_agent t" | tr '\n' ' '
  q "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) || ' ' || count(*) FROM spamhints.smtp_sample t" | tr '\n' ' '
  q "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) || ' ' || count(*) FROM spamhints.maillog_load t" | tr '\n' ' '
  q "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) || ' ' || count(*) FROM spamhints.mail_event t" | tr '\n' ' '
  q "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) || ' ' || count(*) FROM spamhints.maillog_line t"
}

# refused ROLE SQL DESC: fails with 42501, 23514 or 23503, and changes nothing
# that was committed: the state is the one recorded in $want
refused() {
  as "$1" "$2" >/dev/null
  local rc=$?
  local code
  code=$(grep -m1 -o '^ERROR:  [0-9A-Z]\{5\}' "$tmp/err" | cut -c9-)
  case "$code" in 42501|23514|23503) ;; *) code="" ;; esac
  ok $(( rc == 0 || ${#code} == 0 )) "$1 may not $3 (${code:-no error}: $(grep -m1 "^ERROR" "$tmp/err" | sed 's/^ERROR: *[0-9A-Z]*: //'))"
  is "$(state)" "$want" "  and every committed load, agent, sample and event is unchanged"
}

# --------------------------------------------------------------------------
# the loader's own path: a capture and a mail log
# --------------------------------------------------------------------------
load_as sh_test_loader "$tmp/a.pcap"
ok $? "sh_test_loader loads a capture"
sed 's/^/#   /' "$tmp/lerr"
load_as sh_test_loader "$LOG" --maillog exim --timezone UTC --year 2007
ok $? "sh_test_loader loads a mail log"
sed 's/^/#   /' "$tmp/lerr"
is "$(q "SELECT load_id, smtp_rows, (SELECT count(*) FROM spamhints.smtp_sample WHERE load_id = 1),
               sha256 IS NOT NULL AND finished_at IS NOT NULL FROM spamhints.load")" "1|$rows_a|$rows_a|t" \
   "load 1 is committed with the generator's $rows_a rows"
events=$(q "SELECT count(*) FROM spamhints.mail_event WHERE maillog_load_id = 1")
is "$(q "SELECT events FROM spamhints.maillog_load WHERE maillog_load_id = 1")" "$events" \
   "mail log load 1 is committed with its $events events"
want=$(state)
q "SELECT frame, agent, ts FROM spamhints.smtp_sample WHERE load_id = 1 ORDER BY frame LIMIT 1" >"$tmp/frame"
IFS='|' read -r frame agent ts <"$tmp/frame"

# --------------------------------------------------------------------------
# a committed capture load, its samples and agents
# --------------------------------------------------------------------------
refused sh_test_loader "UPDATE spamhints.load SET sha256 = NULL, finished_at = NULL WHERE load_id = 1" \
  "un-finish committed load 1 (sha256 and finished_at to NULL)"
refused sh_test_loader "UPDATE spamhints.load SET finished_at = NULL WHERE load_id = 1" "un-finish load 1 keeping its hash"
refused sh_test_loader "UPDATE spamhints.load SET smtp_rows = 0, lost_datagrams = 99 WHERE load_id = 1" "change the counts of load 1"
refused sh_test_loader "UPDATE spamhints.load SET file_name = 'other.pcap'" "rename every load"
refused sh_test_loader "UPDATE spamhints.load SET enrichment = '{}' WHERE load_id = 1" "change the enrichment note of load 1"
refused sh_test_loader "UPDATE spamhints.load SET load_id = DEFAULT WHERE load_id = 1" "change the id of load 1"
refused sh_test_loader "INSERT INTO spamhints.load (file_name, sha256) VALUES ('x', '$(sha256sum "$tmp/a.pcap" | cut -c1-64)')
                        ON CONFLICT (sha256) DO UPDATE SET finished_at = NULL" \
  "un-finish load 1 through INSERT ... ON CONFLICT DO UPDATE"
refused sh_test_loader "DELETE FROM spamhints.load WHERE load_id = 1" "delete load 1"
refused sh_test_loader "INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
                        src_ip, dst_ip, src_port, dst_port)
                        VALUES (1, $frame, '$ts', '$agent', 1, 1, '192.0.2.1', '192.0.2.2', 4000, 25)" \
  "insert a sample into committed load 1 (forged \"load 1 frame $frame\" evidence)"
printf '1\t%s\t%s\t%s\t1\t1\t192.0.2.1\t192.0.2.2\t4000\t25\n' "$frame" "$ts" "$agent" >"$tmp/forged.copy"
refused sh_test_loader "\\copy spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port) FROM '$tmp/forged.copy'" \
  "COPY a sample into committed load 1"
refused sh_test_loader "INSERT INTO spamhints.load_agent VALUES (1, '192.0.2.9', 0, 5, 10, 0, 1, 10, 0, 0)" \
  "add an agent to committed load 1"
refused sh_test_loader "UPDATE spamhints.smtp_sample SET src_ip = '192.0.2.1' WHERE load_id = 1" "change the samples of load 1"
refused sh_test_loader "DELETE FROM spamhints.smtp_sample WHERE load_id = 1" "delete the samples of load 1"
refused sh_test_loader "UPDATE spamhints.load_agent SET lost = 0 WHERE load_id = 1" "change the agents of load 1"
refused sh_test_loader "DELETE FROM spamhints.load_agent WHERE load_id = 1" "delete the agents of load 1"
refused sh_test_loader "TRUNCATE spamhints.smtp_sample" "truncate the samples"

# --------------------------------------------------------------------------
# new load rows: no chosen id, no hash, not finished
# --------------------------------------------------------------------------
refused sh_test_loader "INSERT INTO spamhints.load (load_id, file_name) OVERRIDING SYSTEM VALUE VALUES (1000, 'x')" \
  "choose a load id (OVERRIDING SYSTEM VALUE)"
refused sh_test_loader "INSERT INTO spamhints.load (file_name, sha256) VALUES ('b.pcap', '$sha_b')" \
  "insert a load with a hash (b.pcap's, so that it would be \"already loaded\")"
refused sh_test_loader "INSERT INTO spamhints.load (file_name, sha256, finished_at) VALUES ('b.pcap', '$sha_b', now())" \
  "insert a load already finished"
refused sh_test_loader "INSERT INTO spamhints.load (file_name, finished_at) VALUES ('b.pcap', now())" \
  "insert a load with a finishing time"
refused sh_test_loader "BEGIN; INSERT INTO spamhints.load (file_name) VALUES ('empty.pcap'); COMMIT" \
  "commit a load left unfinished"

# a load committed unfinished by the administrator (or an older loader) is
# not the loader's own: it may not take it over
q "INSERT INTO spamhints.load (load_id, file_name) OVERRIDING SYSTEM VALUE VALUES (900, 'stale.pcap')" >/dev/null
want=$(state)
refused sh_test_loader "INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
                        src_ip, dst_ip, src_port, dst_port)
                        VALUES (900, 1, '$ts', '$agent', 1, 1, '192.0.2.1', '192.0.2.2', 4000, 25)" \
  "add a sample to an unfinished load committed earlier"
refused sh_test_loader "UPDATE spamhints.load SET sha256 = '$sha_b', finished_at = now() WHERE load_id = 900" \
  "finish an unfinished load committed earlier"
q "DELETE FROM spamhints.load WHERE load_id = 900" >/dev/null
want=$(state)

# its own load, once finished, is closed in its own transaction too
refused sh_test_loader "BEGIN;
  INSERT INTO spamhints.load (file_name) VALUES ('own.pcap');
  UPDATE spamhints.load SET sha256 = repeat('d', 64), finished_at = now() WHERE finished_at IS NULL;
  UPDATE spamhints.load SET smtp_rows = 5 WHERE sha256 = repeat('d', 64);
  COMMIT" "change its own load after finishing it, in the same transaction"
refused sh_test_loader "BEGIN;
  INSERT INTO spamhints.load (file_name) VALUES ('own.pcap');
  INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port)
    SELECT load_id, 1, '$ts', '$agent', 1, 1, '192.0.2.1', '192.0.2.2', 4000, 25 FROM spamhints.load WHERE finished_at IS NULL;
  UPDATE spamhints.load SET sha256 = repeat('d', 64), finished_at = now(), smtp_rows = 1 WHERE finished_at IS NULL;
  INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port)
    SELECT load_id, 2, '$ts', '$agent', 1, 1, '192.0.2.1', '192.0.2.2', 4000, 25 FROM spamhints.load WHERE sha256 = repeat('d', 64);
  COMMIT" "add a sample to its own load after finishing it, in the same transaction"
may_own=$(as sh_test_loader "BEGIN;
  INSERT INTO spamhints.load (file_name) VALUES ('own.pcap');
  INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port)
    SELECT load_id, 1, '$ts', '$agent', 1, 1, '192.0.2.1', '192.0.2.2', 4000, 25 FROM spamhints.load WHERE finished_at IS NULL;
  UPDATE spamhints.load SET enrichment = '{}' WHERE finished_at IS NULL;
  UPDATE spamhints.load SET sha256 = repeat('d', 64), finished_at = now(), smtp_rows = 1 WHERE finished_at IS NULL;
  ROLLBACK" 2>&1)
ok $? "while its own load is unfinished, it may add samples, note enrichment and finish it (what spamhints-load does)"
[ -s "$tmp/err" ] && sed 's/^/#   /' "$tmp/err"

# a load another session is writing (not committed yet): invisible, untouchable
psql -X -d $db -Atc "BEGIN; INSERT INTO spamhints.load (load_id, file_name) OVERRIDING SYSTEM VALUE VALUES (901, 'busy.pcap');
                     SELECT pg_sleep(4); ROLLBACK" >/dev/null 2>&1 &
busy=$!
for _ in $(seq 50); do
  [ "$(q "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'load' AND l.mode = 'RowExclusiveLock' AND l.granted")" -gt 0 ] && break
  sleep 0.1
done
refused sh_test_loader "INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
                        src_ip, dst_ip, src_port, dst_port)
                        VALUES (901, 1, '$ts', '$agent', 1, 1, '192.0.2.1', '192.0.2.2', 4000, 25)" \
  "add a sample to a load another session is writing"
is "$(as sh_test_loader "UPDATE spamhints.load SET finished_at = now(), sha256 = '$sha_b' WHERE load_id = 901")" "UPDATE 0" \
  "and its UPDATE of that load finds nothing to change"
wait $busy

# --------------------------------------------------------------------------
# a committed mail log load and its events
# --------------------------------------------------------------------------
sha_log=$(sha256sum "$LOG" | cut -c1-64)
refused sh_test_loader "UPDATE spamhints.maillog_load SET sha256 = NULL, finished_at = NULL WHERE maillog_load_id = 1" \
  "un-finish committed mail log load 1"
refused sh_test_loader "UPDATE spamhints.maillog_load SET events = 0 WHERE maillog_load_id = 1" "change the counts of mail log load 1"
refused sh_test_loader "DELETE FROM spamhints.maillog_load WHERE maillog_load_id = 1" "delete mail log load 1"
refused sh_test_loader "INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, client_ip, verdict)
                        VALUES (1, 1, '2007-03-14 10:00+00', '192.0.2.1', 'spam')" \
  "insert a mail event into committed mail log load 1"
printf '1\t1\t2007-03-14 10:00+00\t192.0.2.1\tspam\n' >"$tmp/forged-event.copy"
refused sh_test_loader "\\copy spamhints.mail_event (maillog_load_id, line, ts, client_ip, verdict) FROM '$tmp/forged-event.copy'" \
  "COPY a mail event into committed mail log load 1"
refused sh_test_loader "UPDATE spamhints.mail_event SET verdict = 'virus' WHERE maillog_load_id = 1" "change its events"
refused sh_test_loader "DELETE FROM spamhints.mail_event WHERE maillog_load_id = 1" "delete its events"
refused sh_test_loader "DELETE FROM spamhints.mail_event WHERE maillog_load_id = 1 AND line_key IS NOT NULL" \
  "delete its events that no event of its own open load replaces"
refused sh_test_loader "BEGIN;
  INSERT INTO spamhints.maillog_load (file_name, format, timezone) VALUES ('x', 'exim', 'UTC');
  INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, client_ip, verdict, line_key, line_count)
    SELECT (SELECT max(maillog_load_id) FROM spamhints.maillog_load), 1, '2007-03-14 10:00+00', '192.0.2.1', 'virus', line_key, line_count + 1
      FROM spamhints.mail_event WHERE maillog_load_id = 1 AND line_key IS NOT NULL LIMIT 1;
  DELETE FROM spamhints.mail_event WHERE maillog_load_id = 1 AND line_key = (SELECT line_key FROM spamhints.mail_event
    WHERE maillog_load_id = (SELECT max(maillog_load_id) FROM spamhints.maillog_load));
  COMMIT" "replace an event by a load left unfinished"
refused sh_test_loader "INSERT INTO spamhints.maillog_line (line_key, maillog_load_id) VALUES (decode(repeat('ab', 16), 'hex'), 1)" \
  "add a line to committed mail log load 1"
refused sh_test_loader "DELETE FROM spamhints.maillog_line" "delete the lines loaded"
refused sh_test_loader "INSERT INTO spamhints.maillog_load (maillog_load_id, file_name, format, timezone)
                        OVERRIDING SYSTEM VALUE VALUES (1000, 'x', 'exim', 'UTC')" "choose a mail log load id"
refused sh_test_loader "INSERT INTO spamhints.maillog_load (file_name, format, timezone, sha256)
                        VALUES ('x', 'exim', 'UTC', repeat('e', 64))" "insert a mail log load with a hash"
refused sh_test_loader "INSERT INTO spamhints.maillog_load (file_name, format, timezone, sha256, finished_at)
                        VALUES ('x', 'exim', 'UTC', repeat('e', 64), now())" "insert a mail log load already finished"
refused sh_test_loader "BEGIN; INSERT INTO spamhints.maillog_load (file_name, format, timezone) VALUES ('x', 'exim', 'UTC'); COMMIT" \
  "commit a mail log load left unfinished"
refused sh_test_loader2 "UPDATE spamhints.maillog_load SET finished_at = NULL" "(another loader login) un-finish any mail log load"

# --------------------------------------------------------------------------
# a role the administrator granted more than spamhints_loader (UPDATE,
# DELETE, TRUNCATE on every load table) is fenced all the same: the grants
# let it reach the triggers, and they refuse
# --------------------------------------------------------------------------
q "GRANT UPDATE, DELETE, TRUNCATE ON spamhints.load, spamhints.load_agent, spamhints.smtp_sample,
                                     spamhints.maillog_load, spamhints.mail_event, spamhints.maillog_line TO sh_test_loader2;
   GRANT SELECT ON spamhints.load, spamhints.maillog_load, spamhints.smtp_sample, spamhints.load_agent,
                   spamhints.mail_event, spamhints.maillog_line TO sh_test_loader2" >/dev/null
refused sh_test_loader2 "DELETE FROM spamhints.load WHERE load_id = 1" "(granted DELETE) delete load 1"
refused sh_test_loader2 "DELETE FROM spamhints.maillog_load" "(granted DELETE) delete the mail log loads"
refused sh_test_loader2 "UPDATE spamhints.smtp_sample SET src_ip = '192.0.2.1' WHERE load_id = 1" "(granted UPDATE) change the samples of load 1"
refused sh_test_loader2 "DELETE FROM spamhints.smtp_sample WHERE frame = $frame" "(granted DELETE) delete the sample of load 1 frame $frame"
refused sh_test_loader2 "UPDATE spamhints.load_agent SET lost = 0" "(granted UPDATE) change the agents"
refused sh_test_loader2 "DELETE FROM spamhints.load_agent" "(granted DELETE) delete the agents"
refused sh_test_loader2 "UPDATE spamhints.mail_event SET verdict = 'virus'" "(granted UPDATE) change the mail events"
refused sh_test_loader2 "DELETE FROM spamhints.mail_event" "(granted DELETE) delete the mail events"
refused sh_test_loader2 "DELETE FROM spamhints.maillog_line" "(granted DELETE) delete the lines loaded"
refused sh_test_loader2 "UPDATE spamhints.maillog_line SET maillog_load_id = 1" "(granted UPDATE) change the lines loaded"
refused sh_test_loader2 "TRUNCATE spamhints.maillog_line" "(granted TRUNCATE) truncate the lines loaded"
refused sh_test_loader2 "TRUNCATE spamhints.smtp_sample" "(granted TRUNCATE) truncate the samples"
refused sh_test_loader2 "TRUNCATE spamhints.load CASCADE" "(granted TRUNCATE) truncate the loads"
refused sh_test_loader2 "TRUNCATE spamhints.load_agent" "(granted TRUNCATE) truncate the agents"
refused sh_test_loader2 "TRUNCATE spamhints.mail_event" "(granted TRUNCATE) truncate the mail events"
refused sh_test_loader2 "TRUNCATE spamhints.maillog_load CASCADE" "(granted TRUNCATE) truncate the mail log loads"
refused sh_test_loader2 "SELECT spamhints.purge('0 seconds', '2100-01-01')" "(granted DELETE) run purge()"
q "REVOKE ALL ON spamhints.load, spamhints.load_agent, spamhints.smtp_sample,
                 spamhints.maillog_load, spamhints.mail_event, spamhints.maillog_line FROM sh_test_loader2" >/dev/null

# --------------------------------------------------------------------------
# after all that: the same files add nothing, new ones load
# --------------------------------------------------------------------------
load_as sh_test_loader "$tmp/a.pcap"
ok $? "sh_test_loader loads a.pcap again (exit 0)"
grep -q 'already loaded as load 1' "$tmp/out"; ok $? "and it is already loaded as load 1: nothing added"
load_as sh_test_loader "$LOG" --maillog exim --timezone UTC --year 2007
ok $? "and the mail log again"
grep -q 'already loaded as mail log 1' "$tmp/out"; ok $? "already loaded as mail log 1: nothing added"
is "$(state)" "$want" "every committed load, agent, sample and event is as the loader left it"
load_as sh_test_loader "$tmp/b.pcap"
ok $? "sh_test_loader loads b.pcap (its hash was never planted)"
sed 's/^/#   /' "$tmp/lerr"
is "$(q "SELECT smtp_rows || ' ' || (SELECT count(*) FROM spamhints.smtp_sample s WHERE s.load_id = l.load_id)
         FROM spamhints.load l WHERE sha256 = '$sha_b'")" "$rows_b $rows_b" "with the generator's $rows_b rows"
load_as sh_test_loader "$tmp/b.pcap"
grep -q 'already loaded' "$tmp/out"; ok $? "and loading it once more adds nothing"

# --------------------------------------------------------------------------
# the administrator (the extension's owner) keeps every power
# --------------------------------------------------------------------------
q "UPDATE spamhints.load SET enrichment = '{\"note\": 1}' WHERE load_id = 1" >/dev/null
ok $? "the owner may change a committed load (spamhints.reenrich() does)"
is "$(q "SELECT count(*) FROM spamhints.purge('0 seconds', '2100-01-01')")" 5 "the owner may run purge()"
is "$(q "SELECT count(*) FROM spamhints.smtp_sample") $(q "SELECT count(*) FROM spamhints.load")" "0 2" \
   "purge() deleted the samples and kept the loads"
q "DELETE FROM spamhints.load WHERE sha256 = '$sha_b'" >/dev/null
ok $? "the owner may delete a load"
load_as sh_test_loader "$tmp/b.pcap"
is "$(q "SELECT count(*) FROM spamhints.smtp_sample")" "$rows_b" "and then the loader loads that capture again"
q "TRUNCATE spamhints.smtp_sample, spamhints.mail_event" >/dev/null
is "$(q "SELECT (SELECT count(*) FROM spamhints.load) + (SELECT count(*) FROM spamhints.maillog_load)")" 0 \
   "the owner may truncate the samples and events (their loads go too)"
tap_done
