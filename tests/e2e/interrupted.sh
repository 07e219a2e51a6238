#!/usr/bin/env bash
# tests/e2e/interrupted.sh: a load interrupted midway leaves nothing behind,
# and running it again loads exactly the right rows. Interruptions: the
# server terminates the loader's backend (at several points of the COPY), and
# the loader itself is killed.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=loader/spamhints-load
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_interrupted
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1

tests/gen/spamhints-gen --seed 5 --smtp 1500000 --other 300000 -o "$tmp/big.pcap" -t "$tmp/truth"
expected=$(awk '$1 == "smtp_rows" { print $2 }' "$tmp/truth")

# wait until the loader's COPY is running, then a little longer
wait_for_copy() {
  for _ in $(seq 200); do
    [ "$(psql -X -d $db -Atc "SELECT count(*) FROM pg_stat_activity
          WHERE application_name = 'spamhints-load' AND query LIKE 'COPY spamhints.smtp_sample%'")" = 1 ] && break
    sleep 0.05
  done
  sleep "$1"
}

left_behind() {
  psql -X -d $db -Atc "SELECT (SELECT count(*) FROM spamhints.load) || ' loads, ' ||
                              (SELECT count(*) FROM spamhints.smtp_sample) || ' samples'"
}

for delay in 0 0.3 0.8; do
  $LOADER -d $db --no-progress "$tmp/big.pcap" >"$tmp/out" 2>&1 &
  pid=$!
  wait_for_copy $delay
  terminated=$(psql -X -d $db -Atc "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                  WHERE application_name = 'spamhints-load' AND query LIKE 'COPY%') t")
  wait $pid; rc=$?
  is "$terminated" 1 "backend terminated ${delay}s into the COPY (a capture big enough to be caught loading)"
  is "$rc" 3 "the loader exits 3 (database error)"
  grep -q "error:" "$tmp/out"
  ok $? "with a clear message: $(grep -m1 'error:' "$tmp/out")"
  is "$(left_behind)" "0 loads, 0 samples" "nothing is left behind"
done

$LOADER -d $db --no-progress "$tmp/big.pcap" >"$tmp/out" 2>&1 &
pid=$!
wait_for_copy 0.2
kill -KILL $pid; wait $pid 2>/dev/null
sleep 0.5   # the server notices the closed connection and rolls back
is "$(left_behind)" "0 loads, 0 samples" "loader killed mid-COPY: nothing is left behind"

$LOADER -d $db --no-progress "$tmp/big.pcap" >"$tmp/out" 2>&1
ok $? "running the load again succeeds"
is "$(left_behind)" "1 loads, $expected samples" "and loads exactly the ground truth's rows"
tap_done
