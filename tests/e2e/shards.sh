#!/usr/bin/env bash
# tests/e2e/shards.sh: a coordinator over two shards (postgres_fdw), three
# clusters: the test's own (the coordinator, and a single node holding the
# whole capture) and two more (the shards, one agent's datagrams each).
#   - every view and function of the coordinator answers as the single node
#     does (full result sets, EXCEPT both ways);
#   - the census runs on the shards: EXPLAIN VERBOSE's Remote SQL holds
#     census_agg, and without the server's extensions option it does not;
#   - an address that is a client on one shard and a server on the other is
#     "both" on the coordinator;
#   - the coordinator refuses loads; a shard down gives an error naming it;
#     a shard of another extension version is refused; detach puts the
#     single-node definitions back.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/pgcluster.sh
LOADER=loader/spamhints-load
GEN=tests/gen/spamhints-gen
tmp=$(mktemp -d)
A=$(pg_start_another) || exit 1
B=$(pg_start_another) || exit 1
trap 'pg_stop_another "$A"; pg_stop_another "$B"; rm -rf "$tmp"' EXIT
coord=spamhints_e2e_coord one=spamhints_e2e_one
for d in $coord $one; do dropdb --if-exists $d 2>/dev/null; createdb $d && psql -qX -d $d -c 'CREATE EXTENSION spamhints' || exit 1; done
for h in "$A" "$B"; do
  createdb -h "$h" shard && psql -qX -h "$h" -d shard -c 'CREATE EXTENSION spamhints' || exit 1
done
q() { PGTZ=UTC psql -X -d "$1" -Atc "$2" 2>&1; }
qa() { PGTZ=UTC psql -X -h "$A" -d shard -Atc "$1" 2>&1; }
qb() { PGTZ=UTC psql -X -h "$B" -d shard -Atc "$1" 2>&1; }

$GEN --seed 15 --smtp 3000 --other 1000 --agents 2 -o "$tmp/g.pcap" -t "$tmp/g.truth" >/dev/null 2>&1
ok $? "generated a capture of two agents"
country=(--country-db /work/shared/data/mmdb/GeoLite2-Country-Test.mmdb --asn-db /work/shared/data/mmdb/GeoLite2-ASN-Test.mmdb)
[ -f "${country[1]}" ] || country=()
$LOADER -q -d $one "${country[@]}" "$tmp/g.pcap"; ok $? "the single node loads the whole capture"
$LOADER -q -d "host=$A dbname=shard" "${country[@]}" --filter 'udp port 6343 and src host 10.10.0.11' "$tmp/g.pcap"
ok $? "shard a loads agent 10.10.0.11's datagrams"
$LOADER -q -d "host=$B dbname=shard" "${country[@]}" --filter 'udp port 6343 and src host 10.10.0.12' "$tmp/g.pcap"
ok $? "shard b loads agent 10.10.0.12's datagrams"
na=$(qa "SELECT count(*) FROM spamhints.smtp_sample") nb=$(qb "SELECT count(*) FROM spamhints.smtp_sample")
n1=$(q $one "SELECT count(*) FROM spamhints.smtp_sample")
ok $([ "$na" -gt 0 ] && [ "$nb" -gt 0 ] && [ $((na + nb)) -eq "$n1" ]; echo $?) "the shards hold $na and $nb samples, the single node $n1"

# an address that is a client on shard a and a server on shard b (and both
# on the single node, which gets the two samples too)
row1="'2007-03-14 10:00+00', '198.51.100.200', 40000, '192.0.2.250', 25"
row2="'2007-03-14 11:00+00', '192.0.2.251', 40001, '198.51.100.200', 25"
ins() {
  echo "WITH l AS (INSERT INTO spamhints.load (file_name, sha256, finished_at) VALUES ('hand', repeat('$2', 64), now()) RETURNING load_id)
        INSERT INTO spamhints.smtp_sample (load_id, frame, sample_seq, ts, src_ip, src_port, dst_ip, dst_port, agent, sampling_rate, tcp_flags, ip_len, ttl, src_cc, dst_cc)
        SELECT load_id, 1, 1, $1, '10.10.0.99', 512, 2, 60, 64, 'ZZ', 'ZZ' FROM l"
}
qa "$(ins "$row1" a)" >/dev/null; qb "$(ins "$row2" b)" >/dev/null
q $one "$(ins "$row1" c)" >/dev/null; q $one "$(ins "$row2" d)" >/dev/null
is "$(qa "SELECT role FROM spamhints.address('198.51.100.200')")|$(qb "SELECT role FROM spamhints.address('198.51.100.200')")" "client|server" \
   "198.51.100.200 is a client on shard a, a server on shard b"

# single-node answers before attaching: the same after the last detach
objects="packet_stats ip_census client_as_top client_cc_top customer_sender"
before=$(for o in $objects; do q $coord "SELECT md5(string_agg(v::text, ',')) FROM spamhints.$o v"; done)
defs="SELECT md5(string_agg(d, '' ORDER BY d)) FROM (SELECT pg_get_viewdef(c.oid) AS d FROM pg_class c WHERE c.relnamespace = 'spamhints'::regnamespace AND c.relkind = 'v'
      UNION ALL SELECT regexp_replace(pg_get_functiondef(p.oid), ' AS \"?[a-z_]+\"?(,?)\$', '\\1', 'gn')
      FROM pg_proc p WHERE p.pronamespace = 'spamhints'::regnamespace AND p.prokind = 'f') x"
# (a function restored from pg_get_functiondef names its output columns: SELECT address.ip AS ip)
defs_before=$(q $coord "$defs")

out=$(q $coord "SELECT spamhints.attach_shard('a', 'host=$A port=5432 dbname=shard user=postgres')")
ok $? "attach_shard a: $out"
out=$(q $coord "SELECT spamhints.attach_shard('b', 'host=$B port=5432 dbname=shard user=postgres')")
ok $? "attach_shard b: $out"
defs_attached=$(q $coord "$defs")
is "$(q $coord "SELECT string_agg(name || ':' || shard_no || ':' || extversion, ' ' ORDER BY name) FROM spamhints.shard")" "a:1:0.2 b:2:0.2" "spamhints.shard lists both"

same() {  # same DESC QUERY-ON-spamhints: the coordinator's answer equals the single node's
  local desc=$1 sql=$2
  q $coord "COPY ($sql) TO STDOUT" | sort >"$tmp/c.txt"
  q $one "COPY ($sql) TO STDOUT" | sort >"$tmp/o.txt"
  local n; n=$(wc -l <"$tmp/o.txt")
  cmp -s "$tmp/c.txt" "$tmp/o.txt" && [ "$n" -gt 0 ]
  ok $? "$desc: the coordinator's $n rows equal the single node's"
  diff "$tmp/c.txt" "$tmp/o.txt" | head -5 | sed 's/^/# /'
}
same "packet_stats" "SELECT * FROM spamhints.packet_stats"
same "ip_census" "SELECT * FROM spamhints.ip_census"
same "client_as_top" "SELECT * FROM spamhints.client_as_top"
same "client_cc_top" "SELECT * FROM spamhints.client_cc_top"
# the rollups' functions of a period: whole days from the shards' rollups, the rest from their samples
for period in "(,)" "[2007-03-14, 2007-03-15)" "[2007-03-13 18:30+00, 2007-03-15 07:00+00)"; do
  same "ip_census('$period')" "SELECT * FROM spamhints.ip_census('$period')"
  same "client_as_top('$period')" "SELECT * FROM spamhints.client_as_top('$period')"
  same "client_cc_top('$period')" "SELECT * FROM spamhints.client_cc_top('$period')"
done
same "endpoint (but load_id)" "SELECT ip, peer, role, side, port, peer_port, asn, cc, peer_asn, peer_cc, ts, sampling_rate, tcp_flags, ip_len, ttl, smtp, agent, frame, gw_as FROM spamhints.endpoint"
same "endpoints('{25,587}') (but load_id)" "SELECT ip, peer, role, side, ts, frame FROM spamhints.endpoints('{25,587}')"
same "activity()" "SELECT * FROM spamhints.activity('2007-03-13', '2007-03-16')"
same "address() of every address" "SELECT a.* FROM (SELECT DISTINCT ip FROM spamhints.endpoint) e, spamhints.address(e.ip) a"
same "address() in a period" "SELECT a.* FROM (SELECT DISTINCT ip FROM spamhints.endpoint) e, spamhints.address(e.ip, '[2007-03-14 06:00+00, 2007-03-14 12:00+00)') a"
same "sender_score()" "SELECT * FROM spamhints.sender_score('2007-03-13', '2007-03-16')"
same "evidence (but ref)" "SELECT source_ip, kind, ts, source_port, peer, peer_port, asn, sampling_rate, tcp_flags FROM spamhints.evidence"
q $coord "INSERT INTO spamhints.agreement (isp, abuse_address, networks) VALUES ('all', 'abuse@example.net', '{0.0.0.0/0}')" >/dev/null
q $one "INSERT INTO spamhints.agreement (isp, abuse_address, networks) VALUES ('all', 'abuse@example.net', '{0.0.0.0/0}')" >/dev/null
same "report_candidates()" "SELECT isp, source_ip, asn, evidence, diagnosis, first_ts, last_ts, samples, est_packets, minutes FROM spamhints.report_candidates('[2007-03-13, 2007-03-16)')"
q $coord "INSERT INTO spamhints.ip_assignment VALUES ('c1', '0.0.0.0/1'), ('c2', '128.0.0.0/1')" >/dev/null
q $one "INSERT INTO spamhints.ip_assignment VALUES ('c1', '0.0.0.0/1'), ('c2', '128.0.0.0/1')" >/dev/null
same "customer_sender" "SELECT * FROM spamhints.customer_sender"
# the functions of a period that read the samples (only their days' partitions)
for period in "(,)" "[2007-03-14 06:00+00, 2007-03-14 18:30+00)"; do
  same "customer_sender('$period')" "SELECT * FROM spamhints.customer_sender('$period')"
  same "packet_stats('$period')" "SELECT * FROM spamhints.packet_stats('$period')"
done
is "$(q $coord "SELECT role, samples FROM spamhints.address('198.51.100.200')")" "both|2" \
   "address(): the client of shard a and server of shard b is both, on the coordinator"
is "$(q $coord "SELECT count(*) FROM (SELECT spamhints.census_agg(ip, role) FROM spamhints.endpoint) x")" "1" "(a census of the whole is one value)"
both1=$(q $one "SELECT \"both\" FROM spamhints.ip_census") bothc=$(q $coord "SELECT \"both\" FROM spamhints.ip_census")
sumb=$(( $(qa "SELECT \"both\" FROM spamhints.ip_census") + $(qb "SELECT \"both\" FROM spamhints.ip_census") ))
ok $([ "$bothc" = "$both1" ] && [ "$bothc" != "$sumb" ]; echo $?) "ip_census: both is $bothc as on one node, not the shards' sum $sumb"

# the census runs on the shards
plan=$(q $coord "EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM spamhints.ip_census")
n=$(echo "$plan" | grep -c 'Remote SQL: SELECT spamhints.census_agg(')
is "$n" 2 "ip_census: the Remote SQL of each shard holds spamhints.census_agg"
n=$(q $coord "EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM spamhints.client_cc_top" | grep -c 'Remote SQL: SELECT .*spamhints.census_agg(.*GROUP BY')
is "$n" 2 "client_cc_top: census_agg per country on each shard"
echo "$plan" | grep -q 'Async Foreign Scan'; ok $? "the shards are scanned asynchronously"
q $coord "ALTER SERVER spamhints_shard_a OPTIONS (DROP extensions)" >/dev/null
n=$(q $coord "EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM spamhints.ip_census" | grep -c 'Remote SQL: SELECT spamhints.census_agg(')
is "$n" 1 "without the extensions option, shard a's Remote SQL has no census_agg (it ships rows)"
same "ip_census without push-down" "SELECT * FROM spamhints.ip_census"
q $coord "ALTER SERVER spamhints_shard_a OPTIONS (ADD extensions 'spamhints')" >/dev/null

# loads are refused
$LOADER -q -d $coord "$tmp/g.pcap" >"$tmp/out" 2>"$tmp/err"; rc=$?
is "$rc" 3 "the loader into the coordinator fails (exit 3)"
grep -q 'is a coordinator of shards' "$tmp/err" && grep -qi 'load into the shard directly' "$tmp/err"
ok $? "with the reason and the hint: $(head -c 300 "$tmp/err" | tr '\n' ' ')"
is "$(q $coord "SELECT count(*) FROM ONLY spamhints.load")" 0 "nothing was loaded into the coordinator"

# a shard down
pg_as_owner "$PG_BINDIR/pg_ctl" -D "$B/data" -w -m fast stop >/dev/null
out=$(q $coord "SELECT * FROM spamhints.ip_census")
echo "$out" | grep -q 'spamhints_shard_b'; ok $? "shard b down: the error names it: $(echo "$out" | head -2 | tr '\n' ' ')"
out=$(q $coord "SELECT spamhints.attach_shard('c', 'host=$B port=5432 dbname=shard user=postgres')")
echo "$out" | grep -q 'shard "c" cannot be reached'; ok $? "attaching a shard that is down: $(echo "$out" | head -1)"
pg_as_owner "$PG_BINDIR/pg_ctl" -D "$B/data" -l "$B/server.log" -w start >/dev/null

# another version
createdb -h "$B" old && psql -qX -h "$B" -d old -c "CREATE EXTENSION spamhints VERSION '0.1'" >/dev/null
out=$(q $coord "SELECT spamhints.attach_shard('old', 'host=$B dbname=old user=postgres')")
echo "$out" | grep -q 'shard "old" has spamhints 0.1, this coordinator 0.2'; ok $? "a shard of another version is refused: $(echo "$out" | head -1)"
is "$(q $coord "SELECT count(*) FROM spamhints.shard")|$(q $coord "SELECT count(*) FROM pg_foreign_server WHERE srvname = 'spamhints_shard_old'")" "2|0" "and nothing of it is left"

# detach
q $coord "SELECT spamhints.detach_shard('b')" >/dev/null
is "$(q $coord "SELECT samples FROM spamhints.address('198.51.100.200')")" 1 "after detaching b: its rows are gone from the coordinator"
q $coord "SELECT spamhints.detach_shard('a')" >/dev/null
after=$(for o in $objects; do q $coord "SELECT md5(string_agg(v::text, ',')) FROM spamhints.$o v"; done)
is "$after" "$before" "after the last detach the coordinator answers as before"
is "$(q $coord "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'spamhints_%'")|$(q $coord "SELECT count(*) FROM spamhints.shard_saved")" "0|0" "no schema of the shards is left"
is "$(q $coord "$defs")" "$defs_before" "every view and function of the extension is defined as before attaching"
ok $([ "$defs_attached" != "$defs_before" ]; echo $?) "(while attached, they were not)"
$LOADER -q -d $coord "$tmp/g.pcap"; ok $? "a single node again, it takes loads"
for d in $coord $one; do dropdb $d; done
tap_done
