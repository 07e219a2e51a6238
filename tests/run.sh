#!/usr/bin/env bash
# tests/run.sh: the test command (README: "make test"). Installs the Debian
# packages the tests need, builds, installs the extension, starts a throwaway
# PostgreSQL cluster, runs every suite and ends with "N passed, N failed".
#
#   bash tests/run.sh [SUITE...]     suites: unit fuzz regress e2e (default: all)
#
# fuzz is a short run: FUZZ_SECONDS (default 10) per libFuzzer target, after
# replaying every committed regression input; "make fuzz" runs longer.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

bash tests/lib/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

echo "== build"
if ! { make -s all spamhints.so sql && make -s install >/dev/null; }; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

PASSED=0 FAILED=0 SKIPPED=0
LOG=$(mktemp -d /tmp/spamhints-test.XXXXXX)

# count "ok"/"not ok" lines (TAP) of a suite's output
count_tap() {
  local out=$1 p f s
  p=$(grep -cE '^ok [0-9]+' "$out")
  s=$(grep -cE '^ok [0-9]+.*# SKIP' "$out")
  f=$(grep -cE '^not ok [0-9]+' "$out")
  PASSED=$((PASSED + p - s)) SKIPPED=$((SKIPPED + s)) FAILED=$((FAILED + f))
  echo "-- $2: $((p - s)) passed, $f failed, $s skipped"
}

run_suite() {
  local name=$1; shift
  echo "== $name"
  local file="$LOG/${name//\//-}.out"
  "$@" 2>&1 | tee "$file"
  local rc=${PIPESTATUS[0]}
  count_tap "$file" "$name"
  # a suite that dies without a failing test still fails
  if [ "$rc" -ne 0 ] && ! grep -qE "^not ok [0-9]+" "$file"; then
    echo "not ok 1 - $name exited with status $rc" | tee -a "$file"
    FAILED=$((FAILED + 1))
  fi
}

suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit fuzz regress e2e)

source tests/lib/pgcluster.sh
for s in "${suites[@]}"; do
  case $s in
    unit)
      run_suite unit make -s -C tests/unit run ;;
    fuzz)
      run_suite fuzz bash tests/fuzz/run.sh "${FUZZ_SECONDS:-10}" ;;
    regress)
      [ -n "${PG_TMPDIR:-}" ] || pg_start
      # pg_regress says "ok"/"FAILED" per test; make it TAP
      run_suite regress bash -c '
        make -s installcheck > "'"$LOG"'/regress.raw" 2>&1; rc=$?
        n=0
        while read -r line; do
          case $line in
            *" ... ok"*|"ok "*) n=$((n+1)); echo "ok $n - regress: $line" ;;
            *" ... FAILED"*|*"failed"*"("*|"not ok "*) n=$((n+1)); echo "not ok $n - regress: $line" ;;
          esac
        done < <(grep -E "^(test |ok |not ok |     [a-z0-9_]+ +\.\.\.)" "'"$LOG"'/regress.raw")
        [ $rc -eq 0 ] || { cat tests/regress/regression.diffs 2>/dev/null | head -100; cat "'"$LOG"'/regress.raw" | tail -20; }
        exit $rc' ;;
    e2e)
      [ -n "${PG_TMPDIR:-}" ] || pg_start
      for t in tests/e2e/*.sh; do
        run_suite "e2e/$(basename "$t" .sh)" bash "$t"
      done ;;
    *)
      echo "unknown suite $s"; FAILED=$((FAILED + 1)) ;;
  esac
done
pg_stop
rm -rf "$LOG"

echo
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
