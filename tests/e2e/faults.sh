#!/usr/bin/env bash
# tests/e2e/faults.sh: server faults at seeded random points of a load, many
# times; after each, nothing is left behind, and loading again gives exactly
# the generator's ground truth: nothing lost, nothing doubled. Then --retry:
# the loader reconnects and loads the file again by itself.
#
# A fault is placed at an exact point of the load by a trigger the test adds
# to the extension's tables in its own database: when the load row is
# inserted, at the N-th sample row of the COPY (N random), when the agents are
# written, when the load row is finished, at COMMIT (a deferred trigger).
# There the backend either terminates itself, or waits while the test
# terminates it from another session, restarts the cluster (pg_ctl restart
# -m fast), or kills it with SIGKILL (a crash: the server resets every
# backend). tests/e2e/interrupted.sh covers terminations at moments of the
# COPY and a killed loader; this covers the points and the server's side.
#
#   FAULT_SEED=N bash tests/e2e/faults.sh     (the seed is printed; default fixed)
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/pgcluster.sh
LOADER=loader/spamhints-load
PG_TMPDIR=${PG_TMPDIR:-${PGHOST:-}}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_faults
seed=${FAULT_SEED:-1128}
RANDOM=$seed
echo "# seed $seed (FAULT_SEED=$seed bash tests/e2e/faults.sh repeats this run)"

if [ ! -d "$PG_TMPDIR/data" ]; then
  skip "server faults" "not the test command's throwaway cluster (no $PG_TMPDIR/data)"
  exit 0
fi
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
q() { PGOPTIONS='-c client_min_messages=warning' psql -X -d $db -Atc "$1"; }

tests/gen/spamhints-gen --seed 9 --smtp 30000 --other 10000 --agents 4 -o "$tmp/cap.pcap" -t "$tmp/truth" \
  --rows "$tmp/truth.rows" || exit 1
expected=$(awk '$1 == "smtp_rows" { print $2 }' "$tmp/truth")

# --------------------------------------------------------------------------
# the fault machinery: sequences survive the rollback of the load, so a
# fault fires on the first `shots` tries only
# --------------------------------------------------------------------------
q "CREATE SCHEMA fault;
   CREATE SEQUENCE fault.fired; CREATE SEQUENCE fault.rows;
   CREATE FUNCTION fault.act(action text, shots int) RETURNS void LANGUAGE plpgsql AS \$\$
   BEGIN
     IF pg_catalog.nextval('fault.fired') > shots THEN RETURN; END IF;
     IF action = 'terminate' THEN
       PERFORM pg_catalog.pg_terminate_backend(pg_catalog.pg_backend_pid());
     END IF;
     PERFORM pg_catalog.pg_sleep(60);   -- 'pause': the test strikes from outside
   END \$\$;" >/dev/null

disarm() {
  q "DROP TRIGGER IF EXISTS fault_trip ON spamhints.load;
     DROP TRIGGER IF EXISTS fault_trip ON spamhints.smtp_sample;
     DROP TRIGGER IF EXISTS fault_trip ON spamhints.load_agent;" >/dev/null
}

# arm POINT ROW ACTION [SHOTS]
arm() {
  local point=$1 row=$2 action=$3 shots=${4:-1} cond=true on
  disarm
  [ "$point" = row ] && cond="pg_catalog.nextval('fault.rows') = $row"
  case $point in
    insert) on="BEFORE INSERT ON spamhints.load" ;;
    row)    on="BEFORE INSERT ON spamhints.smtp_sample" ;;
    agents) on="BEFORE INSERT ON spamhints.load_agent" ;;
    finish) on="BEFORE UPDATE ON spamhints.load" ;;
    commit) on="AFTER UPDATE ON spamhints.load DEFERRABLE INITIALLY DEFERRED" ;;
  esac
  q "SELECT pg_catalog.setval('fault.fired', 1, false), pg_catalog.setval('fault.rows', 1, false);
     CREATE OR REPLACE FUNCTION fault.trip() RETURNS trigger LANGUAGE plpgsql AS \$\$
     BEGIN
       IF $cond THEN PERFORM fault.act('$action', $shots); END IF;
       RETURN NEW;
     END \$\$;
     CREATE $([ "$point" = commit ] && echo CONSTRAINT) TRIGGER fault_trip $on
       FOR EACH ROW EXECUTE FUNCTION fault.trip();" >/dev/null
}

# the loader's backend, once it waits in the paused trigger
paused_backend() {
  local pid
  for _ in $(seq 200); do
    pid=$(q "SELECT pid FROM pg_catalog.pg_stat_activity
             WHERE application_name = 'spamhints-load' AND wait_event = 'PgSleep'")
    [ -n "$pid" ] && { echo "$pid"; return 0; }
    sleep 0.05
  done
  return 1
}

wait_ready() {
  for _ in $(seq 200); do
    "$PG_BINDIR/pg_isready" -q && return 0
    sleep 0.1
  done
  return 1
}

left_behind() {
  q "SELECT (SELECT count(*) FROM spamhints.load) || ' loads, ' ||
            (SELECT count(*) FROM spamhints.smtp_sample) || ' samples'"
}

# exactly the ground truth: one load, its count, and every row as the generator wrote it
exact() {
  psql -X -d $db -Atc "COPY (SELECT frame, (extract(epoch FROM ts) * 1000000)::bigint, host(agent),
      sampling_rate, host(src_ip), host(dst_ip), src_port, dst_port, tcp_flags, vlan
      FROM spamhints.smtp_sample) TO STDOUT" >"$tmp/ours.rows"
  python3 - "$tmp/ours.rows" "$tmp/truth.rows" <<'EOF'
import collections, ipaddress, sys
def rows(path):
    c = collections.Counter()
    for line in open(path):
        v = line.rstrip("\n").split("\t")
        for i in (2, 4, 5):
            v[i] = ipaddress.ip_address(v[i]).compressed
        c[tuple(v)] += 1
    return c
a, b = rows(sys.argv[1]), rows(sys.argv[2])
if a != b:
    print("# %d rows missing, %d rows extra or doubled" % (sum((b - a).values()), sum((a - b).values())))
    sys.exit(1)
EOF
  [ $? -eq 0 ] && [ "$(left_behind)" = "1 loads, $expected samples" ]
}

reset() { q "TRUNCATE spamhints.load CASCADE" >/dev/null; }

# fault POINT ROW HOW: one load struck at POINT (at sample row ROW), then loaded again.
# HOW: self (the backend terminates itself), terminate (from another session),
#      restart (the cluster), crash (SIGKILL to the backend)
fault() {
  local point=$1 row=$2 how=$3 where rc pid started
  where=$point; [ "$point" = row ] && where="row $row of $expected"
  arm "$point" "$row" "$([ "$how" = self ] && echo terminate || echo pause)"
  started=$(date +%s.%N)
  $LOADER -d $db --no-progress "$tmp/cap.pcap" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  if [ "$how" != self ]; then
    if ! backend=$(paused_backend); then
      ok 1 "$how at $where: the load reached the fault point"; kill $pid; wait $pid; disarm; reset; return
    fi
    case $how in
      terminate) q "SELECT pg_catalog.pg_terminate_backend($backend)" >/dev/null ;;
      restart)   pg_restart ;;
      crash)     kill -KILL "$backend"; sleep 0.3; wait_ready ;;
    esac
  fi
  wait $pid; rc=$?
  is "$rc" 3 "$how at $where: the loader exits 3"
  grep -qE 'error: .*(terminating connection|server closed the connection|connection to the server was lost)' "$tmp/err"
  ok $? "$how at $where: and says the server went away ($(grep -m1 -oE 'terminating connection[^"]*|server closed the connection unexpectedly|the connection to the server was lost' "$tmp/err"))"
  is "$(left_behind)" "0 loads, 0 samples" "$how at $where: nothing is left behind"
  disarm
  $LOADER -d $db --no-progress "$tmp/cap.pcap" >"$tmp/out" 2>&1
  rc=$?
  exact
  ok $(( rc | $? )) "$how at $where: loading again gives exactly the ground truth's $expected rows"
  reset
}

random_row() { echo $(( (RANDOM * 32768 + RANDOM) % expected + 1 )); }

# --------------------------------------------------------------------------
# the faults: every point once each way, and random rows
# --------------------------------------------------------------------------
for point in insert agents finish commit; do
  fault $point 0 self
done
for _ in 1 2 3 4; do fault row "$(random_row)" self; done
points=(insert row agents finish commit)
for how in terminate terminate restart restart restart crash; do
  point=${points[$((RANDOM % ${#points[@]}))]}
  fault "$point" "$(random_row)" $how
done
fault row "$(random_row)" restart
fault commit 0 restart

# --------------------------------------------------------------------------
# --retry: the loader reconnects and loads the file again by itself
# --------------------------------------------------------------------------
row=$(random_row)
arm row "$row" terminate
$LOADER -d $db --no-progress --retry 3 --retry-wait 0.1 "$tmp/cap.pcap" >"$tmp/out" 2>"$tmp/err"
rc=$?
is "$rc" 0 "--retry 3, backend terminated at row $row: the load completes (exit 0)"
grep -q 'retrying in 0.1 s (retry 1 of 3)' "$tmp/err"
ok $? "--retry: says it retries: $(grep -m1 'retrying' "$tmp/err")"
exact; ok $? "--retry: exactly the ground truth's rows"
disarm; reset

arm agents 0 pause
$LOADER -d $db --no-progress --retry 5 --retry-wait 0.2 "$tmp/cap.pcap" >"$tmp/out" 2>"$tmp/err" &
pid=$!
paused_backend >/dev/null && pg_restart
wait $pid; rc=$?
is "$rc" 0 "--retry 5, cluster restarted while the agents were written: the load completes"
exact; ok $? "--retry after a restart: exactly the ground truth's rows"
disarm; reset

arm commit 0 terminate 3
$LOADER -d $db --no-progress --retry 2 --retry-wait 0.1 "$tmp/cap.pcap" >"$tmp/out" 2>"$tmp/err"
rc=$?
is "$rc" 3 "--retry 2, the backend terminated at COMMIT on all 3 tries: exit 3"
is "$(grep -c 'retrying in' "$tmp/err")" 2 "--retry 2: two retries, 0.1 s then 0.2 s ($(grep 'retrying in' "$tmp/err" | sed 's/.*retrying in //' | paste -sd' '))"
is "$(left_behind)" "0 loads, 0 samples" "--retry exhausted: nothing is left behind"
disarm

arm row "$(random_row)" terminate
$LOADER -d $db --no-progress --retry 3 - <"$tmp/cap.pcap" >"$tmp/out" 2>"$tmp/err"
rc=$?
is "$rc" 3 "--retry with standard input: the backend terminated, exit 3"
grep -q 'standard input cannot be read a second time' "$tmp/err"
ok $? "--retry with standard input: says why it does not retry"
is "$(left_behind)" "0 loads, 0 samples" "--retry with standard input: nothing is left behind"
disarm; reset

# the server down when the loader starts, up a moment later
pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TMPDIR/data" -w -m fast stop >/dev/null
$LOADER -d $db --no-progress --retry 8 --retry-wait 0.2 "$tmp/cap.pcap" >"$tmp/out" 2>"$tmp/err" &
pid=$!
sleep 1
pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TMPDIR/data" -l "$PG_TMPDIR/server.log" -w -t 60 start >/dev/null
wait $pid; rc=$?
is "$rc" 0 "--retry 8, server down at the start and up a second later: the load completes"
grep -q 'the server cannot be reached: retrying' "$tmp/err"
ok $? "--retry: says it waits for the server"
exact; ok $? "--retry after waiting for the server: exactly the ground truth's rows"
reset

pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TMPDIR/data" -w -m fast stop >/dev/null
$LOADER -d $db --no-progress "$tmp/cap.pcap" >"$tmp/out" 2>"$tmp/err"
rc=$?
pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TMPDIR/data" -l "$PG_TMPDIR/server.log" -w -t 60 start >/dev/null
is "$rc" 3 "no --retry, no server: exit 3 at once"
grep -q 'cannot connect to the database' "$tmp/err"
ok $? "with a clear message"
tap_done
