# tests/lib/tap.sh: TAP output for the shell test scripts, sourced.
#   ok COND-EXIT-STATUS DESC    e.g.  ok $? "loads"   (0 passes)
#   is GOT EXPECTED DESC
#   skip DESC REASON
# Each line is "ok N - desc", "not ok N - desc" or "ok N - desc # SKIP reason":
# tests/run.sh counts them.

TAP_N=0
TAP_FAILED=0

ok() {
  local status=$1; shift
  TAP_N=$((TAP_N + 1))
  if [ "$status" -eq 0 ]; then
    echo "ok $TAP_N - $*"
  else
    echo "not ok $TAP_N - $*"
    TAP_FAILED=$((TAP_FAILED + 1))
  fi
}

is() {
  local got=$1 expected=$2; shift 2
  if [ "$got" = "$expected" ]; then
    ok 0 "$*"
  else
    ok 1 "$*"
    printf '#   got:      %s\n#   expected: %s\n' "$got" "$expected"
  fi
}

skip() {
  TAP_N=$((TAP_N + 1))
  echo "ok $TAP_N - $1 # SKIP $2"
}

tap_done() {
  [ "$TAP_FAILED" -eq 0 ]
}
