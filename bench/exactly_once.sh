#!/usr/bin/env bash
# bench/exactly_once.sh: what the exactly-once check of sFlow datagrams
# (spamhints.load_seqs) costs a load, as ratios against a baseline measured
# in the same run, median of RUNS loads each:
#
#   baseline   the capture into a database where no load took a datagram:
#              the check asks once (lock_datagrams()) and nothing more
#   asked      the same capture into a database holding PRIOR earlier
#              captures of the same agents on other days (other boots):
#              every agent is asked for, its ranges come back, none is known
#   known      its pcapng conversion after it: every datagram known, none added
#   main       with BASE_LOADER=/path/to/a loader without the check (main's
#              build), the baseline's load by that loader
#
#   bash bench/exactly_once.sh                 SMTP=200000 PRIOR=5 RUNS=3
# Needs a running cluster (PGHOST), as tests/lib/pgcluster.sh starts.
set -euo pipefail
cd "$(dirname "$0")/.."
LOADER=${LOADER:-loader/spamhints-load}
RUNS=${RUNS:-3}
SMTP=${SMTP:-200000}
PRIOR=${PRIOR:-5}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_bench_once
gen() { tests/gen/spamhints-gen --seed 3 --smtp "$SMTP" --other $((SMTP * 4)) --hours 2 --agents 8 --start "$1" -o "$2" >/dev/null; }
newdb() { dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints'; }
# wall seconds of one load of $2 by loader $1
timed() { local t0 t1; t0=$(date +%s.%N); "$1" -q -d $db "$2" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

gen 1300000000 "$tmp/c.pcap"
editcap -F pcapng "$tmp/c.pcap" "$tmp/c.pcapng"
for i in $(seq "$PRIOR"); do gen $((1300000000 - i * 86400)) "$tmp/p$i.pcap"; done

for r in $(seq "$RUNS"); do
  newdb; timed "$LOADER" "$tmp/c.pcap" >>"$tmp/baseline"
  timed "$LOADER" "$tmp/c.pcapng" >>"$tmp/known"
  newdb; for i in $(seq "$PRIOR"); do "$LOADER" -q -d $db "$tmp/p$i.pcap" >/dev/null; done
  timed "$LOADER" "$tmp/c.pcap" >>"$tmp/asked"
  if [ -n "${BASE_LOADER:-}" ]; then newdb; timed "$BASE_LOADER" "$tmp/c.pcap" >>"$tmp/main"; fi
done
rows=$(psql -X -d $db -Atc "SELECT smtp_rows FROM spamhints.load ORDER BY load_id DESC LIMIT 1")
b=$(median <"$tmp/baseline")
printf '%-10s %10s %8s  %s\n' part seconds ratio what
printf '%-10s %10.3f %8s  %s\n' baseline "$b" 1.00 "load of $rows SMTP rows, nothing to ask"
for p in asked known main; do
  [ -s "$tmp/$p" ] || continue
  m=$(median <"$tmp/$p")
  printf '%-10s %10.3f %8.2f  %s\n' $p "$m" "$(echo "$m / $b" | bc -l)" \
    "$(case $p in asked) echo "after $PRIOR captures of the same agents on other days";;
                  known) echo "its pcapng copy: every datagram known";; main) echo "BASE_LOADER, no check";; esac)"
done
dropdb $db
