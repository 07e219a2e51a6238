#!/usr/bin/env bash
# tests/e2e/rollups.sh: the rollups (spamhints.address_day) kept with the
# samples answer exactly what the samples answer: ip_census, client_as_top
# and client_cc_top (whole data) and their functions of a period (whole
# days, windows cutting through days, open and empty ones), against the same
# questions asked of the samples in plain SQL here, in serial and parallel
# plans; per day and address against the samples; after a second load, a
# DELETE of a load, a purge() of a week, TRUNCATE. The loader role cannot
# write rollups. address() with a period goes through the B-trees.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
db=spamhints_e2e_rollups
dropdb --if-exists $db 2>/dev/null
createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
q() { PGTZ=UTC psql -qX -d "${2:-$db}" -v ON_ERROR_STOP=1 -Atc "$1"; }
LOADER=loader/spamhints-load
GEN=tests/gen/spamhints-gen
PAR="SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
     SET max_parallel_workers_per_gather = 2; SET force_parallel_mode = on;"

# nine days from 2024-03-01 00:00 UTC, with ASN and country databases
$GEN --seed 71 --smtp 30000 --other 2000 --hours 212 --start 1709251200 \
  -o "$tmp/a.pcap" -t "$tmp/a.truth" --networks "$tmp/net" >/dev/null &&
perl tests/lib/make_mmdb.pl --networks "$tmp/net" --asn "$tmp/asn.mmdb" --country "$tmp/cc.mmdb" --build-epoch 1735689600
ok $? "generated nine days and their ASN and country databases"
$GEN --seed 74 --smtp 4000 --other 500 --hours 42 --start 1709121600 -o "$tmp/c.pcap" -t "$tmp/c.truth" >/dev/null
$GEN --seed 72 --smtp 8000 --other 1000 --hours 50 --start 1709380800 -o "$tmp/b.pcap" -t "$tmp/b.truth" >/dev/null
psql -qX -d $db -c "DROP ROLE IF EXISTS sh_roll_loader" -c "CREATE ROLE sh_roll_loader LOGIN IN ROLE spamhints_loader" 2>/dev/null

# The answers of the samples, asked here in plain SQL over the samples (the
# views' definitions of 0.1): WHERE is a condition on ts.
raw_census() {
  echo "SELECT (c).ips || ' ' || (c).client_only || ' ' || (c).server_only || ' ' || (c).both
        FROM (SELECT spamhints.smtp_census(s.src_ip, s.dst_ip, s.src_port, s.dst_port, l.smtp_ports) AS c
              FROM spamhints.smtp_sample s JOIN spamhints.load l ON l.load_id = s.load_id WHERE $1) t"
}
raw_as() {
  echo "SELECT md5(coalesce(string_agg(concat_ws(',', rank, asn, as_org, country, clients, servers, \"both\", ips, as_source), ';' ORDER BY rank, asn), ''))
        FROM (WITH by_cc AS (
                SELECT coalesce(e.asn, nullif(e.gw_as, 0)) AS asn, e.cc, e.asn IS NOT NULL AS mmdb,
                       spamhints.census_agg(e.ip, e.role) AS c
                FROM spamhints.endpoint e
                WHERE coalesce(e.asn, nullif(e.gw_as, 0)) IS NOT NULL AND ($1)
                GROUP BY 1, e.cc, 3
              ), by_as AS (
                SELECT b.asn,
                       CASE WHEN bool_and(b.mmdb) THEN 'mmdb' WHEN NOT bool_or(b.mmdb) THEN 'sflow gateway'
                            ELSE 'mmdb, sflow gateway' END AS as_source,
                       spamhints.counts(spamhints.census_union(b.c)) AS n,
                       (array_agg(b.cc ORDER BY (spamhints.counts(b.c)).ips DESC, b.cc) FILTER (WHERE b.cc IS NOT NULL))[1] AS country
                FROM by_cc b GROUP BY b.asn)
              SELECT rank() OVER (ORDER BY (a.n).client_only DESC) AS rank, a.asn, o.org AS as_org, a.country,
                     (a.n).client_only AS clients, (a.n).server_only AS servers, (a.n).both AS both, (a.n).ips AS ips, a.as_source
              FROM by_as a LEFT JOIN spamhints.asn o ON o.asn = a.asn) t"
}
raw_cc() {
  echo "SELECT md5(coalesce(string_agg(concat_ws(',', rank, country, clients, servers, \"both\", ips), ';' ORDER BY rank, country), ''))
        FROM (SELECT rank() OVER (ORDER BY (t.n).client_only DESC) AS rank, t.cc AS country,
                     (t.n).client_only AS clients, (t.n).server_only AS servers, (t.n).both AS both, (t.n).ips AS ips
              FROM (SELECT e.cc, spamhints.smtp_census(e.ip, e.role) AS n FROM spamhints.endpoint e
                    WHERE e.cc IS NOT NULL AND ($1) GROUP BY e.cc) t) u"
}
# the same from the rollups: FROM is a view or a function of a period
roll_census() { echo "SELECT ips || ' ' || client_only || ' ' || server_only || ' ' || \"both\" FROM $1"; }
roll_as() { echo "SELECT md5(coalesce(string_agg(concat_ws(',', rank, asn, as_org, country, clients, servers, \"both\", ips, as_source), ';' ORDER BY rank, asn), '')) FROM $1"; }
roll_cc() { echo "SELECT md5(coalesce(string_agg(concat_ws(',', rank, country, clients, servers, \"both\", ips), ';' ORDER BY rank, country), '')) FROM $1"; }
# the rollups of each day and address against the samples of that day
per_day() {
  echo "SELECT count(*) FROM (
          SELECT (ts AT TIME ZONE 'UTC')::date AS day, ip, asn, gw_as, cc, spamhints.role_or(role) AS role,
                 count(*) AS samples, sum(sampling_rate)::bigint AS est, count(*) FILTER (WHERE side = 'src') AS src,
                 min(ts) AS first_seen, max(ts) AS last_seen, spamhints.hourly(ts)::text AS hourly,
                 bit_or(CASE WHEN role::text <> 'server' THEN 1::bigint << extract(hour FROM ts)::int ELSE 0 END)
                 | bit_or(CASE WHEN role::text <> 'client' THEN 1::bigint << (24 + extract(hour FROM ts)::int) ELSE 0 END) AS role_hours
          FROM spamhints.endpoint GROUP BY 1, 2, 3, 4, 5) e
        FULL JOIN (SELECT day, ip, asn, gw_as, cc, role, samples, est_packets AS est, as_source AS src,
                          first_seen, last_seen, hourly::text AS hourly, role_hours FROM spamhints.address_day) r
          ON (e.day, e.ip) = (r.day, r.ip) AND e.asn IS NOT DISTINCT FROM r.asn
         AND e.gw_as IS NOT DISTINCT FROM r.gw_as AND e.cc IS NOT DISTINCT FROM r.cc
        WHERE e.day IS NULL OR r.day IS NULL OR (e.role::text, e.samples, e.est, e.src, e.first_seen, e.last_seen, e.hourly, e.role_hours)
              IS DISTINCT FROM (r.role::text, r.samples, r.est, r.src, r.first_seen, r.last_seen, r.hourly, r.role_hours)"
}

# the months folded (address_month) against the days folded (rollup_folded)
# of address_day, grouped by month; and no day folded that has no rollups
per_month() {
  echo "SELECT (SELECT count(*) FROM (
          SELECT date_trunc('month', day)::date AS month, ip, asn, gw_as, cc, spamhints.role_or(role)::text AS role
          FROM spamhints.address_day WHERE day IN (SELECT day FROM spamhints.rollup_folded) GROUP BY 1, 2, 3, 4, 5) d
        FULL JOIN (SELECT month, ip, asn, gw_as, cc, role::text AS role FROM spamhints.address_month) m
          ON (d.month, d.ip) = (m.month, m.ip) AND d.asn IS NOT DISTINCT FROM m.asn
         AND d.gw_as IS NOT DISTINCT FROM m.gw_as AND d.cc IS NOT DISTINCT FROM m.cc
        WHERE d.month IS NULL OR m.month IS NULL OR d.role <> m.role)
        + (SELECT count(*) FROM spamhints.rollup_folded f WHERE NOT EXISTS (SELECT FROM spamhints.address_day r WHERE r.day = f.day))"
}
folded() { q "SELECT coalesce(string_agg(DISTINCT to_char(day, 'YYYY-MM'), ' '), 'none') || ' ' || count(*) FROM spamhints.rollup_folded" "${1:-$db}"; }

# the whole-data views against the samples, serial and parallel; $1 says when
check_whole() {
  local when=$1 mode set
  for mode in serial parallel; do
    set=""; [ $mode = parallel ] && set=$PAR
    is "$(q "$set $(roll_census spamhints.ip_census)")" "$(q "$(raw_census true)")" "$when, $mode: ip_census is the samples' census"
    is "$(q "$set $(roll_as spamhints.client_as_top)")" "$(q "$(raw_as true)")" "$when, $mode: client_as_top is the samples'"
    is "$(q "$set $(roll_cc spamhints.client_cc_top)")" "$(q "$(raw_cc true)")" "$when, $mode: client_cc_top is the samples'"
  done
}

# every answer against the samples; $1 says when. Then the days before
# 2024-03-05 folded into months, and then every day: the views again.
check_all() {
  local when=$1
  is "$(q "$(per_day)")" 0 "$when: each day's rollup of each address is that of its samples (role, samples, estimate, source count, first and last seen, hours, roles by hour)"
  check_whole "$when ($(folded) days folded)"
  local mode set
  # periods: whole days, windows cutting through days, open, exclusive at midnight, one instant, empty,
  # whole hours, minutes within one hour, an hour, a second either side of hours
  local p cond
  while IFS='|' read -r p cond; do
    set=""; [ $((RANDOM % 2)) = 0 ] && set=$PAR
    is "$(q "$set $(roll_census "spamhints.ip_census('$p')")") / $(q "$set $(roll_as "spamhints.client_as_top('$p')")") / $(q "$set $(roll_cc "spamhints.client_cc_top('$p')")")" \
       "$(q "$(raw_census "$cond")") / $(q "$(raw_as "$cond")") / $(q "$(raw_cc "$cond")")" \
       "$when: census, AS top and country top of $p are the samples' ($([ -n "$set" ] && echo parallel || echo serial))"
  done <<'EOF'
[2024-03-02,2024-03-05)|ts >= '2024-03-02' AND ts < '2024-03-05'
[2024-03-01 06:30,2024-03-04 13:15)|ts >= '2024-03-01 06:30' AND ts < '2024-03-04 13:15'
(2024-03-02,2024-03-03]|ts > '2024-03-02' AND ts <= '2024-03-03'
[2024-03-03 01:00,2024-03-03 23:00]|ts >= '2024-03-03 01:00' AND ts <= '2024-03-03 23:00'
[2024-03-04 12:00,)|ts >= '2024-03-04 12:00'
(,2024-03-06 18:00)|ts < '2024-03-06 18:00'
(,)|true
empty|false
[2024-03-01 06:00,2024-03-04 13:00)|ts >= '2024-03-01 06:00' AND ts < '2024-03-04 13:00'
(2024-03-02 05:00,2024-03-02 17:00]|ts > '2024-03-02 05:00' AND ts <= '2024-03-02 17:00'
[2024-03-05 10:20,2024-03-05 10:40)|ts >= '2024-03-05 10:20' AND ts < '2024-03-05 10:40'
[2024-03-05 22:59:59,2024-03-06 01:00:01)|ts >= '2024-03-05 22:59:59' AND ts < '2024-03-06 01:00:01'
[2024-03-06 07:00,2024-03-06 08:00)|ts >= '2024-03-06 07:00' AND ts < '2024-03-06 08:00'
(2024-03-03 23:00,2024-03-04 00:00]|ts > '2024-03-03 23:00' AND ts <= '2024-03-04 00:00'
EOF
  q "SELECT spamhints.rollup_fold('2024-03-05')" >/dev/null
  is "$(q "$(per_month)")" 0 "$when, the days before 2024-03-05 folded ($(folded)): each month's fold of each address is that of its folded days"
  check_whole "$when, folded before 2024-03-05"
  q "SELECT spamhints.rollup_fold(NULL)" >/dev/null
  is "$(q "$(per_month)")" 0 "$when, every day folded ($(folded)): each month's fold is that of its days"
  is "$(q "SELECT count(*) FROM spamhints.address_day WHERE day NOT IN (SELECT day FROM spamhints.rollup_folded)")" 0 "  no day left unfolded"
  check_whole "$when, all folded"
}

$LOADER -q -d "dbname=$db user=sh_roll_loader" --asn-db "$tmp/asn.mmdb" --country-db "$tmp/cc.mmdb" "$tmp/a.pcap" >"$tmp/out" 2>&1
ok $? "a loader login loads nine days with enrichment $(head -1 "$tmp/out")"
is "$(q "SELECT count(DISTINCT day) || ' ' || (count(*) > 1000) FROM spamhints.address_day")" "9 true" "rollups of its nine days are kept at load"
check_all "one load"

# folded, the whole-data views read no row of address_day, fewer of address_month
rows_read() {   # the rows the plan of $1 read from relation $2
  q "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $1" |
    awk -v rel="$2" '$0 ~ (" on " rel " ") { if (match($0, /rows=[0-9]+/)) n += substr($0, RSTART + 5, RLENGTH - 5) } END { print n + 0 }'
}
for v in ip_census client_as_top client_cc_top; do
  is "$(rows_read "SELECT * FROM spamhints.$v" address_day)" 0 "folded, $v reads no row of address_day"
done
is "$(q "SELECT (SELECT count(*) FROM spamhints.address_month) < (SELECT count(*) FROM spamhints.address_day) * 2 / 3")" t \
   "  address_month holds fewer rows than address_day ($(q "SELECT count(*) FROM spamhints.address_month") against $(q "SELECT count(*) FROM spamhints.address_day"))"
is "$(q "SELECT spamhints.rollup_fold()")" 0 "rollup_fold() with nothing left to fold folds 0 days"
psql -X -d $db -v ON_ERROR_STOP=1 -qc "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT spamhints.rollup_fold(NULL); COMMIT" >"$tmp/out" 2>&1
grep -q 'READ COMMITTED' "$tmp/out" && ! grep -q '^ *0$' "$tmp/out"
ok $? "rollup_fold() refuses REPEATABLE READ: $(grep ERROR "$tmp/out" | head -1)"
is "$(psql -X -d $db -qAt -c "\\set VERBOSITY verbose" -c "BEGIN ISOLATION LEVEL SERIALIZABLE" -c "SELECT spamhints.rollup_fold()" 2>&1 | grep -o '0A000' | head -1)" 0A000 "  and SERIALIZABLE, SQLSTATE 0A000"

# a period of whole hours reads no sample: the rollups' roles by hour answer
# for the hours of the days it cuts through; one cutting minutes reads the
# samples of those minutes only
sample_rows() {   # the rows the plan of ip_census($1) read from the day partitions
  q "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT * FROM spamhints.ip_census('$1')" |
    awk '/smtp_sample_/ { if (match($0, /rows=[0-9]+/)) n += substr($0, RSTART + 5, RLENGTH - 5) } END { print n + 0 }'
}
is "$(sample_rows '[2024-03-01 06:00,2024-03-04 13:00)')" 0 "ip_census() of a period of whole hours cutting two days reads no sample"
is "$(sample_rows '[2024-03-01 06:30,2024-03-04 13:15)')" \
   "$(q "SELECT count(*) * 2 FROM spamhints.smtp_sample WHERE (ts >= '2024-03-01 06:30' AND ts < '2024-03-01 07:00') OR (ts >= '2024-03-04 13:00' AND ts < '2024-03-04 13:15')")" \
   "  and one cutting minutes reads the samples of those minutes only, each from both sides"

# the loader role writes no rollup by itself, nor makes them again
psql -X -d "dbname=$db user=sh_roll_loader" -v ON_ERROR_STOP=1 -qc \
  "INSERT INTO spamhints.address_day VALUES ('2024-03-01', '192.0.2.1', NULL, NULL, NULL, 'client', 1, 1, 1, now(), now(), '{}')" >"$tmp/err" 2>&1
grep -q 'permission denied' "$tmp/err"
ok $? "the loader role cannot insert a rollup: $(head -1 "$tmp/err")"
psql -X -d "dbname=$db user=sh_roll_loader" -v ON_ERROR_STOP=1 -qc "SELECT spamhints.address_day_roll('2024-03-01')" >"$tmp/err" 2>&1
grep -q 'permission denied' "$tmp/err"
ok $? "nor run address_day_roll(): $(head -1 "$tmp/err")"
psql -X -d "dbname=$db user=sh_roll_loader" -v ON_ERROR_STOP=1 -qc "SELECT spamhints.rollup_fold()" >"$tmp/err" 2>&1
grep -q 'permission denied' "$tmp/err"
ok $? "nor fold the rollups: $(head -1 "$tmp/err")"

# a load across February and March: March, folded, stays folded, the roles of
# the new rows merged into it; February is new, not folded
$LOADER -q -d "dbname=$db user=sh_roll_loader" --asn-db "$tmp/asn.mmdb" --country-db "$tmp/cc.mmdb" "$tmp/c.pcap" >"$tmp/out" 2>&1
ok $? "a load of 2024-02-28 12:00 to 2024-03-01 06:00 $(head -1 "$tmp/out")"
is "$(folded)" "2024-03 9" "  March stays folded, February is not"
is "$(q "$(per_month)")" 0 "  and March's fold is that of its days, the load's rows with them"
check_all "a load across two months"

# a second load over some of the same days, without enrichment (sFlow's AS)
$LOADER -q -d "dbname=$db user=sh_roll_loader" "$tmp/b.pcap" >"$tmp/out" 2>&1
ok $? "a second load over three of the days $(head -1 "$tmp/out")"
is "$(folded)" "2024-02 2024-03 11" "  every day stays folded"
is "$(q "$(per_month)")" 0 "  and each month's fold is that of its days"
check_all "two loads"

# samples inserted otherwise than by a load's COPY, so that rollups must be
# merged with those already kept: the rows of two days (both loads have
# some) taken out, then put back by three statements: one over both loads,
# then the rest of each load alone (whose rollups exist by then)
q "CREATE TABLE roll_moved AS SELECT * FROM spamhints.smtp_sample WHERE ts >= '2024-03-03' AND ts < '2024-03-05'" >/dev/null
q "DELETE FROM spamhints.smtp_sample WHERE ts >= '2024-03-03' AND ts < '2024-03-05'" >/dev/null
is "$(q "SELECT count(DISTINCT load_id) FROM roll_moved") $(q "SELECT count(*) FROM spamhints.address_day WHERE day IN ('2024-03-03', '2024-03-04')")" "2 0" \
   "two days of both loads taken out, their rollups gone"
q "INSERT INTO spamhints.smtp_sample SELECT * FROM roll_moved WHERE frame % 3 = 0;
   INSERT INTO spamhints.smtp_sample SELECT * FROM roll_moved WHERE frame % 3 <> 0 AND load_id = (SELECT min(load_id) FROM roll_moved);
   INSERT INTO spamhints.smtp_sample SELECT * FROM roll_moved WHERE frame % 3 <> 0 AND load_id = (SELECT max(load_id) FROM roll_moved)" >"$tmp/err" 2>&1
ok $? "and put back by three INSERTs $(head -1 "$tmp/err")"
q "DROP TABLE roll_moved" >/dev/null
check_all "samples put back by INSERTs merging rollups"

# DELETE of the first load: the months of its days unfold (roles may shrink)
q "DELETE FROM spamhints.load WHERE file_name LIKE '%a.pcap'" >/dev/null
is "$(folded)" "2024-02 2" "deleting a load unfolds the month of its days (March), not February"
is "$(q "SELECT count(*) FROM spamhints.address_day r WHERE NOT EXISTS (SELECT FROM spamhints.smtp_sample s WHERE s.ts >= r.day AND s.ts < r.day + 1)")" 0 \
   "deleting a load deletes the rollups of the days only it had"
check_all "after DELETE of a load"

# the first load again, then purge() a week: the days before the cutoff go
$LOADER -q -d $db --asn-db "$tmp/asn.mmdb" --country-db "$tmp/cc.mmdb" "$tmp/a.pcap" >"$tmp/out" 2>&1
ok $? "the first capture loads again $(head -1 "$tmp/out")"
q "SELECT * FROM spamhints.purge('1 day', '2024-03-09 14:45+00')" >/dev/null
is "$(q "SELECT count(*) FROM spamhints.smtp_sample WHERE ts < '2024-03-08 14:45+00'") $(q "SELECT count(*) FROM spamhints.address_day WHERE first_seen < '2024-03-08 14:45+00'")" "0 0" \
   "purge() of a week and a half day: no sample and no rollup before the cutoff"
is "$(q "SELECT string_agg(DISTINCT day::text, ' ') FROM spamhints.address_day")" "2024-03-08 2024-03-09" "the rollups of the boundary day and the one after stay"
check_all "after purge()"

# TRUNCATE
q "TRUNCATE spamhints.smtp_sample" >/dev/null
is "$(q "SELECT count(*) FROM spamhints.address_day") $(q "SELECT count(*) FROM spamhints.address_month") $(q "SELECT count(*) FROM spamhints.rollup_folded")" "0 0 0" \
   "TRUNCATE of the samples empties the rollups, the months and the days folded"
$LOADER -q -d $db "$tmp/b.pcap" >/dev/null 2>&1 && q "TRUNCATE spamhints.load CASCADE" >/dev/null
is "$(q "SELECT count(*) FROM spamhints.address_day")" 0 "TRUNCATE of the loads too"

# per-address questions with a period, through the indexes
$LOADER -q -d $db --asn-db "$tmp/asn.mmdb" --country-db "$tmp/cc.mmdb" "$tmp/a.pcap" >/dev/null 2>&1
check_all "loaded again after TRUNCATE"
q "ANALYZE spamhints.smtp_sample" >/dev/null
ip=$(q "SELECT src_ip FROM spamhints.smtp_sample GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
is "$(q "SELECT samples || ' ' || first_seen || ' ' || last_seen FROM spamhints.address('$ip', '[2024-03-02 10:00,2024-03-05)')")" \
   "$(q "SELECT count(*) || ' ' || min(ts) || ' ' || max(ts) FROM spamhints.smtp_sample
         WHERE (src_ip = '$ip' OR dst_ip = '$ip') AND ts >= '2024-03-02 10:00' AND ts < '2024-03-05'")" \
   "address($ip, period) is what the samples of the period say"
plan=$(q "EXPLAIN (FORMAT JSON) SELECT * FROM spamhints.address('$ip', '[2024-03-02 10:00,2024-03-05)')")
seq=$(jq -r '[.. | objects | select(."Node Type" == "Seq Scan") | ."Relation Name"] | unique | join(" ")' <<<"$plan")
big=$(q "SELECT coalesce(string_agg(relname, ' '), '') FROM pg_class WHERE relname LIKE 'smtp\_sample\_2%' AND relkind = 'r' AND relpages > 1")
is "$(comm -12 <(tr ' ' '\n' <<<"$seq" | sort) <(tr ' ' '\n' <<<"$big" | sort) | tr '\n' ' ')" "" \
   "address(ip, period): no sequential scan of a day partition"
parts=$(jq -r '[.. | objects | select(."Relation Name"? // "" | startswith("smtp_sample_")) | ."Relation Name"] | unique | join(" ")' <<<"$plan")
is "$parts" "smtp_sample_20240302 smtp_sample_20240303 smtp_sample_20240304" "  and only the partitions of the period's days"

roll_digest() { PGTZ=UTC psql -qX -d "$1" -Atc "SELECT count(*) || ' ' || md5(string_agg(concat_ws(',', day, ip, asn, gw_as, cc, role, samples, est_packets, as_source, first_seen, last_seen, hourly), ';' ORDER BY day, ip, asn, gw_as, cc)) FROM spamhints.address_day"; }
# a collector's loads: a file a minute. The rollups are per day and address over all loads, so
# 1,441 loads of a day make no more rollup rows than one load of it (they were a row per load)
$GEN --seed 73 --smtp 3000 --other 500 --hours 24 --start 1710460800 -o "$tmp/day.pcap" -t "$tmp/day.truth" >/dev/null
mkdir -p "$tmp/min"; editcap -i 60 "$tmp/day.pcap" "$tmp/min/m.pcap" >/dev/null
q "CREATE DATABASE ${db}_one" >/dev/null; q "CREATE DATABASE ${db}_min" >/dev/null
q "CREATE EXTENSION spamhints" ${db}_one >/dev/null; q "CREATE EXTENSION spamhints" ${db}_min >/dev/null
$LOADER -q -d ${db}_one "$tmp/day.pcap" && ls "$tmp"/min/m_*.pcap | xargs -n 300 $LOADER -q -d ${db}_min
ok $? "a day loaded whole, and as $(ls "$tmp"/min | wc -l) one-minute files"
rollrows() { q "SELECT (SELECT count(*) FROM spamhints.load) || ' loads, ' || count(*) || ' rollup rows' FROM spamhints.address_day" "$1"; }
is "$(rollrows ${db}_min | sed 's/.* loads, //')" "$(rollrows ${db}_one | sed 's/.* loads, //')" \
   "the one-minute loads ($(rollrows ${db}_min)) make the rollup rows of the whole day's one load ($(rollrows ${db}_one))"
is "$(roll_digest ${db}_min)" "$(roll_digest ${db}_one)" "  and the same rollups"
dropdb ${db}_one; dropdb ${db}_min

# pg_dump and restore: the rollups come back as they were, not doubled by
# the triggers (pg_dump restores each partition's rows into the partition)
dropdb --if-exists ${db}_restored 2>/dev/null
pg_dump $db >"$tmp/dump.sql" && createdb ${db}_restored && psql -qX -v ON_ERROR_STOP=1 -d ${db}_restored -f "$tmp/dump.sql" >/dev/null 2>"$tmp/err"
ok $? "pg_dump and restore $(head -1 "$tmp/err")"
is "$(roll_digest ${db}_restored)" "$(roll_digest $db)" "  the rollups restored are the dumped ones"
month_digest() { PGTZ=UTC psql -qX -d "$1" -Atc "SELECT count(*) || ' ' || md5(string_agg(concat_ws(',', month, ip, asn, gw_as, cc, role), ';' ORDER BY month, ip, asn, gw_as, cc)) FROM spamhints.address_month"; }
is "$(month_digest ${db}_restored) $(folded ${db}_restored)" "$(month_digest $db) $(folded $db)" "  and the months folded"
dropdb ${db}_restored
q "DROP ROLE IF EXISTS sh_roll_loader" >/dev/null 2>&1
dropdb $db
tap_done
