#!/usr/bin/env bash
# tests/e2e/score_roc.sh: bench/score.sh on a small labelled run (one seed,
# 40,000 SMTP samples, 500 re-samplings a bucket): it finishes, prints the
# detection table, writes the ROC SVG (well-formed XML) and has headless
# Chromium draw it, every curve's colour in the screenshot (the script fails
# otherwise). The figures themselves are bench/RESULTS.md's, at full size.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
out=$(mktemp); trap 'rm -f "$out"' EXIT
SEEDS=16 SMTP=40000 OTHER=20000 COVERAGE_R=500 bash bench/score.sh >"$out" 2>&1
rc=$?
ok $([ $rc = 0 ]; echo $?) "bench/score.sh on a small run exits 0"
grep -q '^16    labels, leases' "$out"
ok $? "it prints the detection rates of seed 16"
grep -q 'well-formed XML' "$out"
ok $? "the ROC SVG parses as XML"
if command -v chromium >/dev/null; then
  grep -q '^ROC rendered by headless Chromium' "$out"
  ok $? "headless Chromium draws the ROC, every curve's colour in the screenshot"
else
  ok 0 "# SKIP chromium is not installed (tests/lib/deps.sh installs it)"
fi
[ $rc = 0 ] || sed 's/^/# /' "$out" | tail -20
tap_done
