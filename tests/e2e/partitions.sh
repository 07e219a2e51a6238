#!/usr/bin/env bash
# tests/e2e/partitions.sh: the loader makes the day partitions of
# spamhints.smtp_sample as the rows arrive, none is made by hand: a capture
# across midnight UTC makes two, each holding exactly its day's rows (the
# generator's own row list says which); a load that is rolled back leaves
# no partition; a loader login makes them too; deleting a load, purge();
# everything about one address through the indexes on the loaded data.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
db=spamhints_e2e_partitions
dropdb --if-exists $db 2>/dev/null
createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
q() { PGTZ=UTC psql -X -d $db -v ON_ERROR_STOP=1 -Atc "$1"; }
LOADER=loader/spamhints-load

is "$(q "SELECT string_agg(partition::text, ' ') FROM spamhints.partitions()")" "spamhints.smtp_sample_default" \
   "a new install has only the default partition"

# 25 hours from 2024-03-01 00:00 UTC: two days
tests/gen/spamhints-gen --seed 61 --smtp 4000 --other 1000 --hours 25 --start 1709251200 \
  -o "$tmp/a.pcap" -t "$tmp/a.truth" --rows "$tmp/a.rows" >/dev/null
$LOADER -q -d $db "$tmp/a.pcap" >"$tmp/out" 2>&1
ok $? "a capture across midnight UTC loads $(head -1 "$tmp/out")"
is "$(q "SELECT string_agg(partition::text || ':' || indexed, ' ' ORDER BY from_ts) FROM spamhints.partitions() WHERE from_ts IS NOT NULL")" \
   "spamhints.smtp_sample_20240301:true spamhints.smtp_sample_20240302:true" \
   "it made the partitions of its two days, indexed once complete"
is "$(q "SELECT count(*) FROM spamhints.smtp_sample_default")" 0 "nothing landed in the default partition"
# the generator's rows (port 25, with their capture time in microseconds) per UTC day
want=$(awk -F'\t' '{ d = int($2 / 1000000 / 86400); n[d]++ } END { for (d in n) print d, n[d] }' "$tmp/a.rows" | sort -n |
       while read -r d n; do printf '%s:%s ' "$(date -u -d "@$((d * 86400))" +%Y%m%d)" "$n"; done)
got=$(q "SELECT string_agg(substr(tableoid::regclass::text, 23) || ':' || n, ' ' ORDER BY 1) || ' '
         FROM (SELECT tableoid, count(*) AS n FROM spamhints.smtp_sample WHERE dst_port = 25 OR src_port = 25 GROUP BY 1) t")
is "$got" "$want" "each partition holds exactly its UTC day's rows (generator: $want)"
is "$(q "SELECT count(*) FROM spamhints.smtp_sample s WHERE s.tableoid::regclass::text <> 'spamhints.smtp_sample_' || to_char(s.ts, 'YYYYMMDD')")" 0 \
   "no row is in another day's partition"
is "$(q "SELECT count(*) FROM spamhints.smtp_sample")" "$(q "SELECT smtp_rows FROM spamhints.load")" "every row the load counted is there"

# a load rolled back at its end (the same capture again, from standard input:
# "already loaded" only when its hash is known, after its rows were sent)
q "SELECT count(*) FROM spamhints.purge('0', '2030-01-01')" >/dev/null
is "$(q "SELECT count(*) FROM spamhints.partitions() WHERE from_ts IS NOT NULL")" 0 "purge() at a late time drops both partitions (the load record stays)"
$LOADER -d $db - <"$tmp/a.pcap" >"$tmp/out" 2>&1
grep -q 'already loaded' "$tmp/out"
ok $? "the same capture from standard input is refused at its end: $(head -1 "$tmp/out")"
is "$(q "SELECT count(*) FROM spamhints.partitions() WHERE from_ts IS NOT NULL")" 0 "and the partitions it made are rolled back with it"
is "$(q "SELECT count(*) FROM spamhints.smtp_sample")" 0 "with its rows"

# a loader login (spamhints_loader, not the owner) makes them too
psql -qX -d $db -c "DROP ROLE IF EXISTS sh_part_loader" -c "CREATE ROLE sh_part_loader LOGIN IN ROLE spamhints_loader" 2>/dev/null
tests/gen/spamhints-gen --seed 62 --smtp 20000 --other 2000 --hours 60 --start 1709251200 -o "$tmp/b.pcap" -t "$tmp/b.truth" >/dev/null
$LOADER -q -d "dbname=$db user=sh_part_loader" "$tmp/b.pcap" >"$tmp/out" 2>&1
ok $? "a loader login loads a capture of three days $(head -1 "$tmp/out")"
is "$(q "SELECT string_agg(to_char(from_ts, 'MMDD') || ':' || indexed, ' ' ORDER BY from_ts) FROM spamhints.partitions() WHERE from_ts IS NOT NULL")" \
   "0301:true 0302:true 0303:true" "  making their three partitions, indexed as the owner's"
is "$(q "SELECT count(*) FROM spamhints.smtp_sample")" "$(q "SELECT smtp_rows FROM spamhints.load WHERE file_name LIKE '%b.pcap'")" "  with every row"
is "$(q "SELECT string_agg(DISTINCT pg_get_userbyid(c.relowner), ' ') FROM spamhints.partitions() p JOIN pg_class c ON c.oid = p.partition")" \
   "$(q "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'spamhints.smtp_sample'::regclass")" "  owned by the table's owner, not the loader"

# everything about one address, through the indexes, on the loaded rows
ip=$(q "SELECT src_ip FROM spamhints.smtp_sample GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
q "ANALYZE spamhints.smtp_sample" >/dev/null
is "$(q "SELECT samples || ' ' || first_seen || ' ' || last_seen || ' ' || peers FROM spamhints.address('$ip')")" \
   "$(q "SELECT count(*) || ' ' || min(ts) || ' ' || max(ts) || ' ' || count(DISTINCT CASE WHEN src_ip = '$ip' THEN dst_ip ELSE src_ip END)
         FROM spamhints.smtp_sample WHERE src_ip = '$ip' OR dst_ip = '$ip'")" \
   "address($ip) agrees with a scan of the table: samples, first and last seen, peers"
plan=$(q "EXPLAIN (FORMAT JSON) SELECT * FROM spamhints.address('$ip')")
# (the planner may read a partition of one page whole: as many pages as an index scan)
big=$(q "SELECT coalesce(string_agg(relname, ' '), '') FROM pg_class WHERE relname LIKE 'smtp\_sample\_2%' AND relkind = 'r' AND relpages > 1")
seq=$(jq -r '[.. | objects | select(."Node Type" == "Seq Scan") | ."Relation Name"] | unique | join(" ")' <<<"$plan")
is "$(comm -12 <(tr ' ' '\n' <<<"$seq" | sort) <(tr ' ' '\n' <<<"$big" | sort) | tr '\n' ' ')" "" \
   "address(): no sequential scan of a day partition of more than one page ($big; enable_seqscan on)"
grep -q 'smtp_sample_20240302_src_ip' <<<"$plan" && grep -q 'smtp_sample_20240302_dst_ip' <<<"$plan"
ok $? "  the B-trees on src_ip and dst_ip of each day"

# deleting the load deletes its rows in every partition
q "DELETE FROM spamhints.load" >/dev/null
is "$(q "SELECT count(*) FROM spamhints.smtp_sample")" 0 "deleting the loads deletes their rows in all partitions"
dropdb $db; psql -qX -c "DROP ROLE sh_part_loader" 2>/dev/null
tap_done
