#!/usr/bin/env bash
# tests/e2e/cli.sh: the loader's command line, exit codes and error messages.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=loader/spamhints-load
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_cli
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
createdb ${db}_bare 2>/dev/null
tests/gen/spamhints-gen --seed 2 --smtp 100 --other 100 -o "$tmp/small.pcap" -t "$tmp/truth"

run() { "$LOADER" "$@" >"$tmp/out" 2>"$tmp/err"; echo $?; }

is "$(run --help)" 0 "--help exits 0"
grep -q "Exit status" "$tmp/out"; ok $? "--help documents the exit codes"
is "$(run --version)" 0 "--version exits 0"
grep -qE '^spamhints-load [0-9]+\.[0-9]+' "$tmp/out"; ok $? "--version prints the version"
is "$(run)" 1 "no file: exit 1"
is "$(run --bogus x)" 1 "unknown option: exit 1"
is "$(run --ports 25,abc "$tmp/small.pcap")" 1 "bad port list: exit 1"
grep -q 'error: bad port list' "$tmp/err"; ok $? "with a clear message: $(head -1 "$tmp/err")"
is "$(run --ports 0 "$tmp/small.pcap")" 1 "port 0: exit 1"
is "$(run --retry -1 "$tmp/small.pcap")" 1 "--retry -1: exit 1"
grep -q 'error: bad --retry' "$tmp/err"; ok $? "with a clear message: $(head -1 "$tmp/err")"
is "$(run --retry-wait x "$tmp/small.pcap")" 1 "--retry-wait x: exit 1"
is "$(run -d $db "$tmp/missing.pcap")" 2 "missing file: exit 2"
grep -q 'cannot open' "$tmp/err"; ok $? "with a clear message: $(head -1 "$tmp/err")"
is "$(run -d $db spamhints.control)" 2 "not a capture: exit 2"
grep -q 'is not a pcap or pcapng capture' "$tmp/err"; ok $? "with a clear message: $(head -1 "$tmp/err")"
is "$(run -d $db --filter 'udp port banana' "$tmp/small.pcap")" 2 "bad BPF filter: exit 2"
grep -q 'bad filter' "$tmp/err"; ok $? "with a clear message: $(head -1 "$tmp/err")"
is "$(run -d ${db}_bare "$tmp/small.pcap")" 3 "database without the extension: exit 3"
grep -q 'CREATE EXTENSION spamhints' "$tmp/err"; ok $? "says to create the extension"
is "$(run -d "host=$PGHOST port=1 dbname=$db" "$tmp/small.pcap")" 3 "no server there: exit 3"
grep -q 'cannot connect' "$tmp/err"; ok $? "with a clear message"

# connection settings as psql takes them: URI, conninfo, PG* environment
is "$(run -d "postgresql:///$db?host=$PGHOST" "$tmp/small.pcap")" 0 "a URI works"
is "$(PGDATABASE=$db run --no-progress "$tmp/small.pcap")" 0 "PGDATABASE works (and the capture is already loaded)"
grep -q 'already loaded' "$tmp/out"; ok $? "already loaded"

# a missing file among good ones: the good ones load, exit 2
is "$(run -d ${db} "$tmp/missing.pcap" "$tmp/small.pcap")" 2 "one missing file among others: exit 2"

# --dry-run and --output need no database
is "$(run --dry-run "$tmp/small.pcap")" 0 "--dry-run decodes without a database"
grep -q "$(awk '$1 == "smtp_rows" { print $2 }' "$tmp/truth") SMTP rows" "$tmp/out"; ok $? "and counts the SMTP rows"
is "$(run -o "$tmp/rows.copy" "$tmp/small.pcap")" 0 "--output writes the COPY stream"
head -c 11 "$tmp/rows.copy" | od -c | head -1 | grep -q 'P   G   C   O   P   Y'
ok $? "which starts with the binary COPY signature"
psql -qX -d $db -c "CREATE TEMP TABLE t (LIKE spamhints.smtp_sample); " \
     -c "\\copy t (load_id, frame, ts, agent, sample_seq, sampling_rate, input_if, output_if, src_mac, dst_mac, vlan, src_ip, dst_ip, src_port, dst_port, tcp_flags, ip_len, ttl, smtp, gw_src_as, gw_dst_as) FROM '$tmp/rows.copy' (FORMAT binary)" \
     -c "SELECT count(*) FROM t" -At >"$tmp/n" 2>&1
is "$(tail -1 "$tmp/n")" "$(awk '$1 == "smtp_rows" { print $2 }' "$tmp/truth")" "and PostgreSQL reads it back"
tap_done
