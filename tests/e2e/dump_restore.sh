#!/usr/bin/env bash
# tests/e2e/dump_restore.sh: pg_dump keeps the loaded data (the tables are
# extension configuration tables), and a restore into a new database gives
# the same loads and samples, with the integrity checks in force after it.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_dump
for d in $db ${db}_restored ${db}_plain; do dropdb --if-exists $d 2>/dev/null; done
createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
tests/gen/spamhints-gen --seed 31 --smtp 5000 --other 1000 -o "$tmp/a.pcap" -t "$tmp/ta"
tests/gen/spamhints-gen --seed 32 --smtp 3000 --other 1000 -o "$tmp/b.pcap" -t "$tmp/tb"
loader/spamhints-load -q -d $db "$tmp/a.pcap" "$tmp/b.pcap"
ok $? "two captures load"

fingerprint() {
  psql -X -d "$1" -Atc "SELECT (SELECT string_agg(format('%s %s %s %s', load_id, sha256, smtp_rows, datagrams), ',' ORDER BY load_id)
                                 FROM spamhints.load),
                                (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM spamhints.smtp_sample t),
                                (SELECT count(*) FROM spamhints.load_agent)"
}
before=$(fingerprint $db)
pg_dump -Fc -d $db -f "$tmp/dump" 2>"$tmp/err"
ok $? "pg_dump succeeds"
createdb ${db}_restored && pg_restore -d ${db}_restored "$tmp/dump" 2>"$tmp/err"
ok $? "pg_restore into a new database succeeds"
sed 's/^/# /' "$tmp/err" | head -5
is "$(fingerprint ${db}_restored)" "$before" "the same loads, samples and agents after the restore"

# the day partitions the loads made (not members of the extension: dumped as
# tables, attached again, with their indexes) and the rows in each
partitions() {
  psql -X -d "$1" -Atc "SELECT string_agg(format('%s %s %s %s', p.partition, p.from_ts, p.indexed,
                                                 (xpath('//n/text()', query_to_xml('SELECT count(*) AS n FROM ' || p.partition, false, false, '')))[1]),
                                          ',' ORDER BY p.from_ts NULLS FIRST)
                        FROM spamhints.partitions() p"
}
parts=$(partitions $db)
[ "$(grep -o 'smtp_sample_2' <<<"$parts" | wc -l)" -ge 2 ]
ok $? "the loads made day partitions: $parts"
is "$(partitions ${db}_restored)" "$parts" "the restore has the same partitions, each indexed as it was, with the same rows"
createdb ${db}_plain && pg_dump -d $db | psql -X -q -v ON_ERROR_STOP=1 -d ${db}_plain >/dev/null 2>"$tmp/err"
ok $? "a plain pg_dump restores with psql -v ON_ERROR_STOP=1 $(head -1 "$tmp/err")"
is "$(partitions ${db}_plain)" "$parts" "  with the same partitions and rows"
is "$(fingerprint ${db}_plain)" "$before" "  and the same loads, samples and agents"
dropdb ${db}_plain

psql -qX -d ${db}_restored -c "INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate,
    src_ip, dst_ip, src_port, dst_port) VALUES (999, 1, now(), '10.0.0.1', 1, 1, '10.0.0.2', '10.0.0.3', 1, 25)" 2>"$tmp/err"
grep -q 'load 999 does not exist' "$tmp/err"
ok $? "the restored database still refuses a sample of no load"
loader/spamhints-load -q -d ${db}_restored "$tmp/a.pcap" >"$tmp/out" 2>&1
grep -q 'already loaded' "$tmp/out"
ok $? "and still knows the captures it holds"
tests/gen/spamhints-gen --seed 33 --smtp 500 --other 100 --hours 2 --start 1262304000 -o "$tmp/c.pcap" -t "$tmp/tc" >/dev/null
loader/spamhints-load -q -d ${db}_restored "$tmp/c.pcap" >"$tmp/out" 2>&1
ok $? "a capture of another day loads into the restored database $(head -1 "$tmp/out")"
is "$(psql -X -d ${db}_restored -Atc "SELECT count(*) FROM spamhints.smtp_sample_20100101")" \
   "$(psql -X -d ${db}_restored -Atc "SELECT smtp_rows FROM spamhints.load WHERE file_name LIKE '%c.pcap'")" \
   "  into the new partition of its day"
tap_done
