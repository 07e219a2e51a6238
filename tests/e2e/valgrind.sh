#!/usr/bin/env bash
# tests/e2e/valgrind.sh: the loader runs clean under valgrind (memcheck, every
# leak kind checked, any error fails): decoding the real captures of
# ../shared/data with --dry-run, generated ones of every sFlow version and a
# capture cut short; writing the COPY stream to a file; loading into the
# database, from a file and from standard input, a capture already loaded,
# and a load whose backend is terminated and retried (--retry): the error and
# reconnect paths too.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=loader/spamhints-load
SHARED=${SPAMHINTS_SHARED:-$(cd .. && pwd)/shared}/data
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_valgrind
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1

if ! command -v valgrind >/dev/null; then
  skip "valgrind" "valgrind is not installed"
  exit 0
fi
VG=(valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=all
    --errors-for-leak-kinds=definite,indirect,possible --track-origins=yes)

# vg DESC ARGS...: the loader under valgrind; any error or leak fails
vg() {
  local desc=$1; shift
  "${VG[@]}" --log-file="$tmp/vg.log" "$LOADER" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [ "$rc" -ne 99 ] && ! grep -q 'ERROR SUMMARY: [1-9]\|definitely lost\|indirectly lost\|possibly lost' "$tmp/vg.log"
  ok $? "valgrind: $desc (exit $rc)"
  [ -s "$tmp/vg.log" ] && head -40 "$tmp/vg.log" | sed 's/^/#   /'
  return $rc
}

for v in 5 4 2 mix; do
  tests/gen/spamhints-gen --seed 3 --smtp 1500 --other 1500 --agents 3 --version $v -o "$tmp/v$v.pcap" -t "$tmp/v$v.truth" >/dev/null
done
head -c 50000 "$tmp/v5.pcap" >"$tmp/cut.pcap"

vg "--dry-run, generated captures v5, v4, v2, mix and one cut short" --dry-run \
   "$tmp/v5.pcap" "$tmp/v4.pcap" "$tmp/v2.pcap" "$tmp/vmix.pcap" "$tmp/cut.pcap"
if [ -d "$SHARED/sflow" ]; then
  mapfile -t shared < <(find "$SHARED/sflow" -name '*.pcap' -not -path '*/input/*' | sort)
  vg "--dry-run, the ${#shared[@]} real captures of ../shared (the fuzzed one too)" --dry-run "${shared[@]}"
else
  skip "valgrind on the real captures" "no $SHARED/sflow on this machine"
fi
vg "--output, the COPY stream to a file" -o "$tmp/rows.copy" "$tmp/vmix.pcap"

vg "loading into the database" -d $db --no-progress "$tmp/vmix.pcap"
is "$(psql -X -d $db -Atc "SELECT smtp_rows FROM spamhints.load")" \
   "$(awk '$1 == "smtp_rows" { print $2 }' "$tmp/vmix.truth")" "valgrind: and every row is loaded"
vg "the same capture again (already loaded)" -d $db --no-progress "$tmp/vmix.pcap"
vg "loading from standard input" -d $db --no-progress - <"$tmp/v4.pcap"
[ -d "$SHARED/sflow" ] && vg "loading the real SMTP captures" -d $db --no-progress "$SHARED"/sflow/generated/*.pcap

# the backend terminated once, at the finishing UPDATE: the error path, then a reconnect
psql -qX -d $db -c "CREATE SEQUENCE public.shots;
  CREATE FUNCTION public.terminate_once() RETURNS trigger LANGUAGE plpgsql AS \$\$
  BEGIN
    IF nextval('public.shots') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); END IF;
    RETURN NEW;
  END \$\$;
  CREATE TRIGGER terminate_once BEFORE UPDATE ON spamhints.load FOR EACH ROW EXECUTE FUNCTION public.terminate_once();"
vg "a load whose backend is terminated, then retried (--retry 1)" -d $db --no-progress --retry 1 --retry-wait 0 "$tmp/v2.pcap"
grep -q 'retrying' "$tmp/err"; ok $? "valgrind: and it was retried"

# mail logs, through the same load
ML=(--maillog=exim --timezone UTC --year 2007 --no-progress)
vg "a mail log, --dry-run" "${ML[@]}" --dry-run tests/data/maillog/exim-mainlog
vg "a mail log, --output" "${ML[@]}" -o "$tmp/events.copy" tests/data/maillog/exim-mainlog
vg "a mail log into the database" -d $db "${ML[@]}" tests/data/maillog/exim-mainlog
vg "the same mail log again (already loaded)" -d $db "${ML[@]}" tests/data/maillog/exim-mainlog
vg "a capture given as a mail log (refused)" -d $db "${ML[@]}" "$tmp/v5.pcap"
vg "an Exim log read as postfix (refused, the other format probed)" -d $db --maillog=postfix --timezone UTC --no-progress \
  tests/data/maillog/exim-mainlog
psql -qX -d $db -c "CREATE SEQUENCE public.ml_shots;
  CREATE FUNCTION public.terminate_once_ml() RETURNS trigger LANGUAGE plpgsql AS \$\$
  BEGIN
    IF nextval('public.ml_shots') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); END IF;
    RETURN NEW;
  END \$\$;
  CREATE TRIGGER terminate_once BEFORE UPDATE ON spamhints.maillog_load FOR EACH ROW EXECUTE FUNCTION public.terminate_once_ml();"
vg "a mail log whose backend is terminated, then retried (--retry 1)" -d $db --maillog=postfix --timezone UTC --year 2007 \
  --no-progress --retry 1 --retry-wait 0 tests/data/maillog/postfix-maillog
grep -q 'retrying' "$tmp/err"; ok $? "valgrind: and the mail log was retried"
tap_done
