#!/usr/bin/env bash
# bench/enrich.sh: what enrichment adds to a load.
#
# Generates a capture of about a million SMTP rows (tests/gen/spamhints-gen),
# builds ASN and country databases for its networks plus FILLER made-up
# networks, so that the files are the size of the real ones (GeoLite2-ASN
# holds about 500,000 networks), and loads the capture into a throwaway
# cluster RUNS times without enrichment and RUNS times with --asn-db and
# --country-db, alternating, each into a fresh database. Prints the wall
# clock times, their medians and ratio (the figure the issue asks for), and
# the CPU time of each load, the loader's plus its server backend's (read
# from the postmaster's reaped children): on a machine shared with other
# jobs wall-clock times vary by more than enrichment costs, CPU time far
# less. Then the same for --dry-run (decoding only, no database), where
# enrichment's own cost shows most.
#
#   bash bench/enrich.sh                       1,150,000 SMTP packets (about 1.03M port-25 rows)
#   SMTP=3000000 OTHER=3000000 RUNS=5 bash bench/enrich.sh
#
# As root it builds and installs the extension first (as bench/analytics.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

SMTP=${SMTP:-1150000}
OTHER=${OTHER:-1150000}
RUNS=${RUNS:-3}
FILLER=${FILLER:-400000}
SEED=${SEED:-7}

make -s loader generator >/dev/null
if [ -w "$(pg_config --pkglibdir)" ]; then
  make -s spamhints.so sql >/dev/null
  install -m 644 sql/spamhints--*.sql spamhints.control "$(pg_config --sharedir)/extension/"
  install -m 755 spamhints.so "$(pg_config --pkglibdir)/"
fi

WORK=$(mktemp -d /tmp/spamhints-bench.XXXXXX)
chmod 755 "$WORK"
echo "generating the capture and the databases in $WORK..." >&2
tests/gen/spamhints-gen --seed "$SEED" --smtp "$SMTP" --other "$OTHER" \
  -o "$WORK/cap.pcap" -t "$WORK/truth" --networks "$WORK/net"
perl tests/lib/make_mmdb.pl --networks "$WORK/net" --asn "$WORK/asn.mmdb" --country "$WORK/cc.mmdb" \
  --filler "$FILLER"

# shellcheck source=../tests/lib/pgcluster.sh
source tests/lib/pgcluster.sh
# no autovacuum worker may end (and count as the load's CPU) during a load
PG_EXTRA_CONF="autovacuum = off" pg_start
trap 'pg_stop; rm -rf "$WORK"' EXIT
POSTMASTER=$(head -1 "$PG_TMPDIR/data/postmaster.pid")
TICK=$(getconf CLK_TCK)
TIMEFORMAT='%R %U %S'    # of bash's time: wall, user and system seconds

# CPU seconds of the postmaster's ended children (backends, once reaped)
children_cpu() { awk -v t="$TICK" '{ printf "%.2f", ($16 + $17) / t }' "/proc/$POSTMASTER/stat"; }

LOADER=loader/spamhints-load
ENRICH=(--asn-db "$WORK/asn.mmdb" --country-db "$WORK/cc.mmdb")

# one load into a fresh database: "wall-seconds cpu-seconds"
load_once() {  # plain|enriched run
  local db="bench_enrich_$1_$2" c0 c1 wall user sys
  createdb "$db"
  psql -X -q -d "$db" -c 'CREATE EXTENSION spamhints' -c 'CHECKPOINT'
  local args=()
  [ "$1" = enriched ] && args=("${ENRICH[@]}")
  sleep 0.5
  c0=$(children_cpu)
  { time "$LOADER" -d "$db" -q "${args[@]}" "$WORK/cap.pcap" 2>&3; } 3>&2 2>"$WORK/time"
  sleep 0.5               # the backend ends and is reaped
  c1=$(children_cpu)
  read -r wall user sys <"$WORK/time"
  [ "$1" = enriched ] && psql -X -q -At -d "$db" \
    -c "SELECT format('# %s rows, %s addresses looked up, %s%% from the cache, %s ASes', smtp_rows,
                      enrichment->>'lookups',
                      round(100 - 100.0 * (enrichment->>'searches')::bigint / (enrichment->>'lookups')::bigint, 1),
                      enrichment->>'ases') FROM spamhints.load" >"$WORK/lookups"
  dropdb "$db"
  echo "$wall $(awk -v a="$user" -v b="$sys" -v c="$c1" -v d="$c0" 'BEGIN { printf "%.2f", a + b + c - d }')"
}

dry_once() {  # plain|enriched
  local args=() wall user sys
  [ "$1" = enriched ] && args=("${ENRICH[@]}")
  { time "$LOADER" --dry-run -q "${args[@]}" "$WORK/cap.pcap" 2>&3; } 3>&2 2>"$WORK/time"
  read -r wall user sys <"$WORK/time"
  echo "$wall"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -a load_plain load_enriched cpu_plain cpu_enriched dry_plain dry_enriched
for ((i = 1; i <= RUNS; i++)); do
  echo "run $i of $RUNS..." >&2
  # alternate which goes first, so that drift on a busy machine hits both
  for mode in $( ((i % 2)) && echo plain enriched || echo enriched plain); do
    read -r wall cpu < <(load_once "$mode" "$i")
    [ -n "${cpu:-}" ] || { echo "the $mode load failed" >&2; exit 1; }
    if [ "$mode" = plain ]; then
      load_plain+=("$wall"); cpu_plain+=("$cpu"); dry_plain+=("$(dry_once plain)")
    else
      load_enriched+=("$wall"); cpu_enriched+=("$cpu"); dry_enriched+=("$(dry_once enriched)")
    fi
  done
done

lp=$(median "${load_plain[@]}"); le=$(median "${load_enriched[@]}")
cp=$(median "${cpu_plain[@]}"); ce=$(median "${cpu_enriched[@]}")
dp=$(median "${dry_plain[@]}"); de=$(median "${dry_enriched[@]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f (%+.1f%%)", b / a, 100 * (b / a - 1) }'; }

printf '%-22s' "seconds"; for ((i = 1; i <= RUNS; i++)); do printf '%9s' "run$i"; done; printf '%9s\n' median
row() { local name=$1 med=$2; shift 2; printf '%-22s' "$name"; for v in "$@"; do printf '%9.2f' "$v"; done; printf '%9.2f\n' "$med"; }
row "load" "$lp" "${load_plain[@]}"
row "load, enriched" "$le" "${load_enriched[@]}"
row "load CPU" "$cp" "${cpu_plain[@]}"
row "load CPU, enriched" "$ce" "${cpu_enriched[@]}"
row "dry-run" "$dp" "${dry_plain[@]}"
row "dry-run, enriched" "$de" "${dry_enriched[@]}"
echo "load time: enriched / plain = $(ratio "$lp" "$le")"
echo "load CPU (loader + backend): enriched / plain = $(ratio "$cp" "$ce")"
echo "dry-run (no database): enriched / plain = $(ratio "$dp" "$de")"
cat "$WORK/lookups"
echo "# capture: $(du -m "$WORK/cap.pcap" | cut -f1) MB, $(awk '$1 == "smtp_rows" { print $2 }' "$WORK/truth") SMTP rows, $(awk '$1 == "flow_samples" { print $2 }' "$WORK/truth") flow samples; databases: ASN $(du -m "$WORK/asn.mmdb" | cut -f1) MB, country $(du -m "$WORK/cc.mmdb" | cut -f1) MB ($(wc -l <"$WORK/net") + $FILLER filler networks)"
echo "# $(nproc) CPUs, $(psql -X -At -c 'SELECT version()' | cut -d, -f1)"
