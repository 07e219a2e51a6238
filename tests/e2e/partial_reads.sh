#!/usr/bin/env bash
# tests/e2e/partial_reads.sh: a capture is loaded whole or not at all.
#
# pcapng files that libpcap alone stops reading midway (several sections, in
# both byte orders or of other link types; a packet longer than its
# interface's snapshot length) load every packet, with the frame numbers
# tshark gives; files that no reader can finish fail with exit 2 and keep
# nothing (no load row, no hash). Then the load's edges: a file name that is
# not UTF-8 is stored escaped; a capture already loaded is found before the
# load starts (no load id used up, no ERROR in the server's log); a
# permission error names the missing grant instead of saying to retry.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=loader/spamhints-load
SHARED=${SHARED:-../shared/data}
PG_TMPDIR=${PG_TMPDIR:-${PGHOST:-}}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_partial
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
q() { psql -X -d $db -Atc "$1"; }

python3 tests/e2e/section_captures.py "$tmp" || exit 1
while IFS=$'\t' read -r name exit_status rows skipped what; do
  f="$tmp/$name.pcapng"
  # each case on its own: the cases share datagrams (the same sections), and a
  # database loads a datagram once (tests/e2e/exactly_once.sh)
  q "DELETE FROM spamhints.load" >/dev/null
  before=$(q "SELECT count(*) FROM spamhints.load")
  $LOADER -d $db --no-progress "$f" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  is "$rc" "$exit_status" "$name: exit $exit_status ($what)"
  if [ "$exit_status" -ne 0 ]; then
    is "$(q "SELECT count(*) FROM spamhints.load")" "$before" "$name: no load row, no hash kept"
    is "$(q "SELECT count(*) FROM spamhints.smtp_sample s JOIN spamhints.load l USING (load_id)
             WHERE l.file_name = '$f'")" 0 "$name: no rows kept"
    grep -Eq "error: .*(byte|offset).*[0-9]" "$tmp/err"
    ok $? "$name: the reason names where: $(grep error: "$tmp/err" | head -1)"
    continue
  fi
  sed 's/^/# /' "$tmp/err"
  id=$(q "SELECT load_id FROM spamhints.load WHERE file_name = '$f'")
  [ -n "$id" ] || { ok 1 "$name: has a load row"; continue; }
  is "$(q "SELECT smtp_rows || ' ' || (skipped - 'packet_not_smtp')::text FROM spamhints.load WHERE load_id = $id")" \
     "$rows $skipped" "$name: every datagram loaded, nothing skipped but the samples that are not SMTP$([ "$skipped" = "{}" ] || echo " and $skipped")"
  is "$(q "SELECT smtp_rows + coalesce((skipped->>'packet_not_smtp')::bigint, 0) = flow_samples FROM spamhints.load WHERE load_id = $id")" \
     "t" "$name: SMTP rows and samples that are not SMTP add up to the flow samples"
  is "$(q "SELECT frames FROM spamhints.load WHERE load_id = $id")" "$(tshark -r "$f" 2>/dev/null | wc -l)" \
     "$name: every frame read, as many as tshark reads"
  # the oracle that reads tshark's decode is shared data (../shared/data)
  if [ ! -f "$SHARED/tshark_sflow_oracle.py" ]; then
    skip "$name: rows and frame numbers equal tshark's" "no $SHARED/tshark_sflow_oracle.py on this machine"
    continue
  fi
  tshark -r "$f" -T json --no-duplicate-keys -J "frame sflow" 2>/dev/null \
    | python3 "$SHARED/tshark_sflow_oracle.py" --header --all --ipdata >"$tmp/oracle.tsv"
  q "COPY (SELECT frame, host(agent), sampling_rate, host(src_ip), host(dst_ip),
      src_port, dst_port, tcp_flags, vlan, gw_src_as, gw_dst_as
      FROM spamhints.smtp_sample WHERE load_id = $id) TO STDOUT" >"$tmp/ours.tsv"
  q "COPY (SELECT flow_samples, sampled_packets FROM spamhints.load WHERE load_id = $id) TO STDOUT" >"$tmp/load.tsv"
  python3 tests/e2e/compare_tshark.py "$tmp/oracle.tsv" "$tmp/ours.tsv" "$tmp/load.tsv" 25 0 >"$tmp/cmp"
  ok $? "$name: rows and frame numbers equal tshark's ($(sed -n '1s/^# //p' "$tmp/cmp"))"
done <"$tmp/cases.tsv"

# the same from standard input: the sections are found in a stream too
$LOADER -d $db --no-progress - <"$tmp/sections_three.pcapng" >"$tmp/out" 2>&1
ok $? "three sections from standard input: exit 0 ($(head -1 "$tmp/out"))"
$LOADER -o - - <"$tmp/sections_three.pcapng" 2>/dev/null >"$tmp/copy.bin"
$LOADER -o - "$tmp/sections_three.pcapng" 2>/dev/null >"$tmp/copy2.bin"
cmp -s "$tmp/copy.bin" "$tmp/copy2.bin"; ok $? "standard input gives the same rows as the file"
# a failing file among others: the others load, the exit status is 2
$LOADER -d $db --no-progress "$tmp/corrupt_block_midway.pcapng" >"$tmp/out" 2>"$tmp/err"
is $? 2 "loading a file that cannot be read to its end again: exit 2 again (no hash was stored)"

# --------------------------------------------------------------------------
# a file name that is not UTF-8: stored with its invalid bytes as \xNN
# --------------------------------------------------------------------------
tests/gen/spamhints-gen --seed 21 --smtp 50 --other 50 -o "$tmp/a.pcap" -t "$tmp/a.truth" || exit 1
tests/gen/spamhints-gen --seed 22 --smtp 50 --other 50 -o "$tmp/b.pcap" -t "$tmp/b.truth" || exit 1
latin=$(printf '%s/caf\xe9 \xff.pcap' "$tmp")
cp "$tmp/a.pcap" "$latin"
$LOADER -d $db --no-progress "$latin" >"$tmp/out" 2>"$tmp/err"
is $? 0 "a file name that is not UTF-8: loads"
sed 's/^/# /' "$tmp/err"
is "$(q "SELECT count(*) FROM spamhints.load WHERE file_name = '$tmp/caf\\xe9 \\xff.pcap'")" 1 \
   "stored with \\xNN for its invalid bytes"
latin_ml=$(printf '%s/mail\xe9.log' "$tmp"); cp tests/data/maillog/exim-mainlog "$latin_ml"
$LOADER -d $db --no-progress --maillog exim "$latin_ml" >"$tmp/out" 2>"$tmp/err"
is $? 0 "a mail log whose name is not UTF-8: loads"
is "$(q "SELECT count(*) FROM spamhints.maillog_load WHERE file_name = '$tmp/mail\\xe9.log'")" 1 \
   "stored escaped in maillog_load too"

# --------------------------------------------------------------------------
# already loaded: found before BEGIN; no load id used, no ERROR logged
# --------------------------------------------------------------------------
$LOADER -d $db --no-progress "$tmp/b.pcap" >"$tmp/out" 2>&1 || ok 1 "b.pcap loads"
last=$(q "SELECT max(load_id) FROM spamhints.load")
log_before=$(grep -c 'ERROR' "$PG_TMPDIR/server.log" 2>/dev/null || echo 0)
$LOADER -d $db --no-progress "$tmp/b.pcap" >"$tmp/out" 2>"$tmp/err"
is $? 0 "the same capture again: exit 0"
grep -q "already loaded as load $last (" "$tmp/out"; ok $? "says so: $(head -1 "$tmp/out")"
$LOADER -d $db --no-progress --maillog exim "$latin_ml" >"$tmp/out" 2>&1
grep -q "already loaded as mail log" "$tmp/out"; ok $? "a mail log again: $(head -1 "$tmp/out")"
if [ -f "$PG_TMPDIR/server.log" ]; then
  is "$(grep -c 'ERROR' "$PG_TMPDIR/server.log")" "$log_before" "no ERROR in the server's log"
else
  skip "no ERROR in the server's log" "not the test command's cluster"
fi
$LOADER -d $db --no-progress "$tmp/a.pcap" >"$tmp/out" 2>&1   # a copy of caf\xe9: already loaded
cp "$tmp/b.pcap" "$tmp/b2.pcap"; printf '\0' >>"$tmp/b2.pcap"
$LOADER -d $db --no-progress "$tmp/b2.pcap" >"$tmp/out" 2>&1
is "$(q "SELECT load_id FROM spamhints.load WHERE file_name = '$tmp/b2.pcap'")" "$((last + 1))" \
   "the next new capture gets the next load id: none was used up"

# --------------------------------------------------------------------------
# hints: a missing grant is named, not "run the same command again"
# --------------------------------------------------------------------------
psql -qX -d $db -c "DROP ROLE IF EXISTS sh_part_nobody" >/dev/null 2>&1
psql -qX -d $db -c "CREATE ROLE sh_part_nobody LOGIN" || exit 1
tests/gen/spamhints-gen --seed 23 --smtp 20 --other 20 -o "$tmp/c.pcap" -t "$tmp/c.truth" || exit 1
$LOADER -d "dbname=$db user=sh_part_nobody" --no-progress "$tmp/c.pcap" >"$tmp/out" 2>"$tmp/err"
is $? 3 "a role without spamhints_loader: exit 3"
grep -q 'GRANT spamhints_loader TO sh_part_nobody' "$tmp/err"; ok $? "names the grant: $(grep hint "$tmp/err")"
! grep -q 'run the same command again' "$tmp/err"; ok $? "and does not say to run it again"
$LOADER -d "dbname=$db user=sh_part_nobody" --no-progress --maillog exim tests/data/maillog/exim-mainlog >"$tmp/out" 2>"$tmp/err"
grep -q 'GRANT spamhints_loader TO sh_part_nobody' "$tmp/err"; ok $? "a mail log too: $(grep hint "$tmp/err")"
psql -qX -d $db -c "DROP ROLE sh_part_nobody" >/dev/null 2>&1

# other classes, raised by a trigger on the load row with their SQLSTATE:
# only what a retry can cure says to run the command again
psql -qX -d $db -c "CREATE SCHEMA hintfault;
  CREATE TABLE hintfault.state (code text);
  CREATE FUNCTION hintfault.raise() RETURNS trigger LANGUAGE plpgsql AS \$\$
  BEGIN RAISE EXCEPTION 'provoked %', (SELECT code FROM hintfault.state)
        USING ERRCODE = (SELECT code FROM hintfault.state); END \$\$;
  CREATE TRIGGER hintfault BEFORE INSERT ON spamhints.load FOR EACH ROW EXECUTE FUNCTION hintfault.raise();" \
  || exit 1
for c in 40001:retry 40P01:retry 53100:retry 57P01:retry 23514:no 22023:no 0A000:no 42501:grant; do
  code=${c%%:*} want=${c#*:}
  q "DELETE FROM hintfault.state; INSERT INTO hintfault.state VALUES ('$code')" >/dev/null
  $LOADER -d $db --no-progress "$tmp/c.pcap" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  grep -q "provoked $code" "$tmp/err" || { ok 1 "SQLSTATE $code provoked: $(head -1 "$tmp/err")"; continue; }
  case $want in
    retry) grep -q 'run the same command again' "$tmp/err" ;;
    no)    ! grep -q 'run the same command again' "$tmp/err" && grep -q 'hint: nothing of .* was kept' "$tmp/err" ;;
    grant) grep -q "GRANT spamhints_loader TO $(psql -X -d $db -Atc 'SELECT current_user')" "$tmp/err" ;;
  esac
  ok $? "SQLSTATE $code (exit $rc): hint $want: $(grep hint: "$tmp/err")"
done
PGOPTIONS="-c client_min_messages=warning" psql -qX -d $db -c "DROP TRIGGER hintfault ON spamhints.load; DROP SCHEMA hintfault CASCADE" >/dev/null

tap_done
