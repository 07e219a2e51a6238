#!/usr/bin/env bash
# tests/e2e/enrichment.sh: AS numbers, AS names and countries.
#
# ASN and country databases are built here (tests/lib/make_mmdb.pl, with
# MaxMind's writer) from the generator's --networks file, so the generator's
# per-AS ground truth ("as ASN clients servers both") is the answer:
#   - a capture loaded with --asn-db/--country-db: client_as_top (the top 30
#     and every AS) and client_cc_top equal the truth, with names and
#     countries; spamhints.asn holds the names; load.enrichment the files;
#     the sFlow gateway AS numbers agree with the databases;
#   - the SQL functions agree with what was loaded; reenrich() after a
#     database update changes exactly the rows it should; a file replaced
#     under a session is seen at its next statement;
#   - the environment variables, one database only, --output, IPv4-only and
#     unknown database types, addresses in no network (NULL);
#   - a missing, corrupt or wrong-kind database: exit 2 and one message,
#     before connecting, nothing loaded.
# Then the MaxMind test databases of ../shared/data/mmdb (skipped when
# absent): asn(), as_org() and country() agree with mmdblookup on one
# address of every network of their JSON sources, IPv4 and IPv6.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
source tests/lib/tap.sh
LOADER=loader/spamhints-load
GEN=tests/gen/spamhints-gen
MMDB_DIR=${SPAMHINTS_MMDB_DIR:-$ROOT/../shared/data/mmdb}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"    # the server (another user) reads the databases here

newdb() {
  dropdb --if-exists "$1" 2>/dev/null
  createdb "$1" && psql -qX -d "$1" -c 'CREATE EXTENSION spamhints' || exit 1
}
q() { local db=$1; shift; psql -X -q -d "$db" -At -v ON_ERROR_STOP=1 "$@"; }
settings() { echo "SET spamhints.asn_db = '$1'; SET spamhints.country_db = '$2';"; }

# --- the capture, its networks and the databases --------------------------------
$GEN --seed 21 --smtp 20000 --other 10000 --agents 4 --version mix \
  -o "$tmp/cap.pcap" -t "$tmp/truth" --networks "$tmp/gen.net"
ok $? "generated a capture with its networks"

# the busiest client AS gets a name with a quote, a backslash and non-ASCII letters
top_as=$(awk '$1 == "as" { print $3, $2 }' "$tmp/truth" | sort -k1,1nr -k2,2n | head -1 | cut -d' ' -f2)
odd_name='Ünïcødé "Quoted" \Back\slash Net, Ltd.'
python3 - "$tmp/gen.net" "$tmp/net" "$top_as" "$odd_name" <<'EOF'
import sys
src, dst, top, name = sys.argv[1:]
with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
    for line in f:
        v = line.rstrip("\n").split("\t")
        if v[1] == top:
            v[2] = name
        out.write("\t".join(v) + "\n")
EOF

epoch=1735689600    # 2025-01-01
perl tests/lib/make_mmdb.pl --networks "$tmp/net" --asn "$tmp/asn.mmdb" --country "$tmp/cc.mmdb" \
  --build-epoch $epoch
ok $? "built the ASN and country databases with MaxMind::DB::Writer"

# the expected views, from the truth and the networks file
expected_views() {   # truth net -> as.expected, cc.expected
  python3 - "$1" "$2" "$tmp" <<'EOF'
import collections, sys
truth, net, out = sys.argv[1:]
org, cc = {}, {}
for line in open(net, encoding="utf-8"):
    v = line.rstrip("\n").split("\t")
    org[int(v[1])], cc[int(v[1])] = v[2], v[3]
rows = []
for line in open(truth):
    v = line.split()
    if v[0] == "as":
        a, c, s, b = map(int, v[1:])
        rows.append((a, c, s, b))
def ranked(rows, key):
    out = []
    for r in rows:
        rank = 1 + sum(1 for x in rows if x[1] > r[1])
        out.append((rank, key(r)) + r)
    return sorted(out, key=lambda x: (x[0], x[1]))
with open(out + "/as.expected", "w", encoding="utf-8") as f:
    for rank, _, a, c, s, b in ranked(rows, lambda r: r[0]):
        f.write("%d|%d|%s|%s|%d|%d|%d|%d\n" % (rank, a, org[a], cc[a], c, s, b, c + s + b))
by_cc = collections.defaultdict(lambda: [0, 0, 0])
for a, c, s, b in rows:
    for i, n in enumerate((c, s, b)):
        by_cc[cc[a]][i] += n
cc_rows = [(k, c, s, b) for k, (c, s, b) in by_cc.items()]
with open(out + "/cc.expected", "w", encoding="utf-8") as f:
    for rank, _, k, c, s, b in ranked(cc_rows, lambda r: r[0]):
        f.write("%d|%s|%d|%d|%d|%d\n" % (rank, k, c, s, b, c + s + b))
EOF
}
expected_views "$tmp/truth" "$tmp/net"
as_top() { q "$1" -c "SELECT rank, asn, as_org, country, clients, servers, \"both\", ips FROM spamhints.client_as_top $2"; }
cc_top() { q "$1" -c "SELECT rank, country, clients, servers, \"both\", ips FROM spamhints.client_cc_top"; }
same() {  # got expected desc
  if cmp -s "$1" "$2"; then ok 0 "$3"; else ok 1 "$3"; diff "$2" "$1" | head -8 | sed 's/^/#   /'; fi
}

# --- loading with both databases ---------------------------------------------------
db=spamhints_e2e_enrich
newdb $db
$LOADER -d $db --no-progress --asn-db "$tmp/asn.mmdb" --country-db "$tmp/cc.mmdb" "$tmp/cap.pcap" \
  >"$tmp/out" 2>"$tmp/err"
ok $? "loads with --asn-db and --country-db"
sed 's/^/# /' "$tmp/out" "$tmp/err"
grep -q "enriched from Spamhints-Test-ASN built 2025-01-01 and Spamhints-Test-Country built 2025-01-01" "$tmp/out"
ok $? "the summary names the databases and their build dates"
[ ! -s "$tmp/err" ]; ok $? "no warnings"

as_top $db "WHERE rank <= 30" >"$tmp/as.top30"
awk -F'|' '$1 <= 30' "$tmp/as.expected" >"$tmp/as.expected30"
[ "$(wc -l <"$tmp/as.top30")" -ge 30 ]; ok $? "client_as_top has 30 ASes or more (ties)"
same "$tmp/as.top30" "$tmp/as.expected30" \
  "client_as_top top 30 = ground truth: rank, AS, name, country, clients only, servers only, both"
as_top $db "" >"$tmp/as.all"
same "$tmp/as.all" "$tmp/as.expected" "client_as_top = ground truth for all $(wc -l <"$tmp/as.expected") ASes"
cc_top $db >"$tmp/cc.all"
same "$tmp/cc.all" "$tmp/cc.expected" "client_cc_top = ground truth per country"
is "$(q $db -c "SELECT as_org FROM spamhints.client_as_top WHERE asn = $top_as")" "$odd_name" \
   "an AS name with quotes, a backslash and non-ASCII letters arrives intact"

is "$(q $db -c "SELECT count(*) FILTER (WHERE src_asn IS NULL OR dst_asn IS NULL OR src_cc IS NULL OR dst_cc IS NULL), count(*)
                FROM spamhints.smtp_sample")" "0|$(awk '$1 == "smtp_rows" { print $2 }' "$tmp/truth")" \
   "every row has both AS numbers and both countries (every address is in a network)"
read -r gw agree < <(q $db -c "SELECT count(*), count(*) FILTER (WHERE gw_src_as = src_asn AND gw_dst_as = dst_asn)
                              FROM spamhints.smtp_sample WHERE gw_src_as IS NOT NULL" | tr '|' ' ')
[ "$gw" -gt 0 ] && [ "$gw" = "$agree" ]
ok $? "the sFlow gateway's source and destination AS ($gw rows) equal the databases' src_asn and dst_asn"

q $db -c "SELECT asn || '|' || coalesce(org, '') FROM spamhints.asn ORDER BY asn" >"$tmp/names"
q $db -c "SELECT DISTINCT a FROM spamhints.smtp_sample, LATERAL (VALUES (src_asn), (dst_asn)) AS v(a) ORDER BY 1" \
  >"$tmp/seen"
python3 - "$tmp/net" "$tmp/seen" >"$tmp/names.expected" <<'EOF'
import sys
org = {}
for line in open(sys.argv[1], encoding="utf-8"):
    v = line.rstrip("\n").split("\t")
    org[int(v[1])] = v[2]
for line in open(sys.argv[2]):
    print("%s|%s" % (line.strip(), org[int(line)]))
EOF
same "$tmp/names" "$tmp/names.expected" "spamhints.asn: every AS of the load with its name"

is "$(q $db -c "SELECT e->'asn'->>'database_type', e->'asn'->>'ip_version', e->'asn'->>'build_epoch', e->'asn'->>'built',
                       e->'asn'->>'file', e->'country'->>'database_type', e->>'by', (e->>'lookups')::bigint >= 2 * smtp_rows
                FROM spamhints.load, LATERAL (SELECT enrichment) AS x(e)")" \
   "Spamhints-Test-ASN|6|$epoch|2025-01-01T00:00:00Z|$tmp/asn.mmdb|Spamhints-Test-Country|spamhints-load|t" \
   "spamhints.load.enrichment: each file, its type, IP version and build time"

# the same capture again: already loaded, nothing changes
$LOADER -d $db --no-progress --asn-db "$tmp/asn.mmdb" --country-db "$tmp/cc.mmdb" "$tmp/cap.pcap" >"$tmp/out" 2>&1
grep -q "already loaded" "$tmp/out"; ok $? "loading it again adds nothing"

# --- the SQL functions on the same files ----------------------------------------------
is "$(q $db -c "$(settings "$tmp/asn.mmdb" "$tmp/cc.mmdb")" -c "
      SELECT count(*) FILTER (WHERE spamhints.asn(src_ip) IS DISTINCT FROM src_asn
                                 OR spamhints.asn(dst_ip) IS DISTINCT FROM dst_asn
                                 OR spamhints.country(src_ip) IS DISTINCT FROM src_cc
                                 OR spamhints.country(dst_ip) IS DISTINCT FROM dst_cc
                                 OR spamhints.as_org(src_ip) IS DISTINCT FROM (SELECT org FROM spamhints.asn a WHERE a.asn = src_asn))
      FROM spamhints.smtp_sample")" "0" "asn(), country() and as_org() agree with the loader on every row"
is "$(q $db -c "$(settings "$tmp/asn.mmdb" "$tmp/cc.mmdb")" -c "
      SELECT spamhints.asn('192.0.2.1'), spamhints.as_org('192.0.2.1'), spamhints.country('2001:db8::1')")" "||" \
   "an address in no network: NULL"
is "$(q $db -c "$(settings "$tmp/asn.mmdb" "$tmp/cc.mmdb")" -c "
      SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
      SET min_parallel_table_scan_size = 0;
      SELECT count(*) FILTER (WHERE spamhints.asn(src_ip) = src_asn AND spamhints.country(dst_ip) = dst_cc) = count(*)
      FROM spamhints.smtp_sample")" "t" "and in parallel workers"
is "$(q $db -c "$(settings "$tmp/asn.mmdb" "$tmp/cc.mmdb")" -c "SELECT spamhints.reenrich()")" "0" \
   "reenrich() with the same files changes nothing"

# a new release: one AS renumbered, one AS's networks gone (in no network: NULL)
gone_as=$(sed -n 2p "$tmp/as.expected" | cut -d'|' -f2)
awk -F'\t' -v OFS='\t' -v top="$top_as" -v gone="$gone_as" \
  '$2 == top { $2 = "4200000001" } $2 != gone { print }' "$tmp/net" >"$tmp/net2"
perl tests/lib/make_mmdb.pl --networks "$tmp/net2" --asn "$tmp/asn2.mmdb" --country "$tmp/cc2.mmdb"
read -r n_top n_gone n_either < <(q $db -c "
   SELECT count(*) FILTER (WHERE $top_as IN (src_asn, dst_asn)), count(*) FILTER (WHERE $gone_as IN (src_asn, dst_asn)),
          count(*) FILTER (WHERE src_asn IN ($top_as, $gone_as) OR dst_asn IN ($top_as, $gone_as))
   FROM spamhints.smtp_sample" | tr '|' ' ')
is "$(q $db -c "$(settings "$tmp/asn2.mmdb" "$tmp/cc2.mmdb")" -c "SELECT spamhints.reenrich()")" "$n_either" \
   "after a database update, reenrich() changes the rows of the two changed ASes ($n_top + $n_gone rows) and returns how many"
is "$(q $db -c "SELECT count(*) FILTER (WHERE 4200000001 IN (src_asn, dst_asn)), count(*) FILTER (WHERE $gone_as IN (src_asn, dst_asn)),
                       count(*) FILTER (WHERE src_asn IS NULL OR dst_asn IS NULL)
                FROM spamhints.smtp_sample")" "$n_top|0|$n_gone" \
   "the renumbered AS has its new number, the gone one's rows have NULL"
is "$(q $db -c "SELECT org FROM spamhints.asn WHERE asn = 4200000001")|$(q $db -c "SELECT enrichment->>'by' FROM spamhints.load")" \
   "$odd_name|spamhints.reenrich" "reenrich() upserts the names and records itself in load.enrichment"
is "$(q $db -c "$(settings "$tmp/asn.mmdb" "$tmp/cc.mmdb")" -c "SELECT spamhints.reenrich(1)" -c "SELECT spamhints.reenrich(2)" | paste -sd'|')" \
   "$n_either|0" "reenrich(load_id) back to the first release: the same rows again; another load: none"
as_top $db "" >"$tmp/as.back"
same "$tmp/as.back" "$tmp/as.expected" "and client_as_top is the ground truth again"

# a file replaced under a running session: seen at the next statement
cp "$tmp/asn.mmdb" "$tmp/live.mmdb"
ip=$(q $db -c "SELECT host(src_ip) FROM spamhints.smtp_sample WHERE src_asn = $top_as LIMIT 1")
is "$(q $db <<SQL
SET spamhints.asn_db = '$tmp/live.mmdb';
SELECT spamhints.asn('$ip');
\! cp "$tmp/asn2.mmdb" "$tmp/live.new" && mv "$tmp/live.new" "$tmp/live.mmdb"
SELECT spamhints.asn('$ip');
SQL
)" "$top_as
4200000001" "a database file replaced (renamed over) is reopened at the session's next statement"

# blocks split between networks (/25s inside a /24, a /49 inside a /48): the
# loader's per-block cache must fall back to its per-address one
python3 - "$tmp/net" >"$tmp/net-split" <<'EOF'
import ipaddress, sys
for line in open(sys.argv[1], encoding="utf-8"):
    v = line.rstrip("\n").split("\t")
    print("\t".join(v))
    n = ipaddress.ip_network(v[0])
    half = ipaddress.ip_network("%s/%d" % (n.network_address + (128 if n.version == 4 else 0), 25 if n.version == 4 else 49))
    print("\t".join([str(half), str(4000000000 + int(v[1])), "Split of " + v[2], "ZZ"]))
EOF
perl tests/lib/make_mmdb.pl --networks "$tmp/net-split" --asn "$tmp/asn-split.mmdb" --country "$tmp/cc-split.mmdb"
newdb ${db}_split
$LOADER -d ${db}_split -q --asn-db "$tmp/asn-split.mmdb" --country-db "$tmp/cc-split.mmdb" "$tmp/cap.pcap"
ok $? "loads with databases whose /24s and /48s are split between networks"
read -r split4 split6 differ < <(q ${db}_split -c "$(settings "$tmp/asn-split.mmdb" "$tmp/cc-split.mmdb")" -c "
   SELECT count(*) FILTER (WHERE src_asn > 4000000000 AND family(src_ip) = 4),
          count(*) FILTER (WHERE src_asn > 4000000000 AND family(src_ip) = 6),
          count(*) FILTER (WHERE spamhints.asn(src_ip) IS DISTINCT FROM src_asn OR spamhints.asn(dst_ip) IS DISTINCT FROM dst_asn
                              OR spamhints.country(src_ip) IS DISTINCT FROM src_cc OR spamhints.country(dst_ip) IS DISTINCT FROM dst_cc)
   FROM spamhints.smtp_sample" | tr '|' ' ')
[ "$split4" -gt 0 ] && [ "$split6" -gt 0 ] && [ "$differ" = 0 ]
ok $? "the loader agrees with asn() and country() on every row ($split4 IPv4 and $split6 IPv6 rows in the split halves)"

# --- environment variables, one database, --output ---------------------------------------
db2=spamhints_e2e_enrich_env
newdb $db2
SPAMHINTS_ASN_DB=$tmp/asn.mmdb SPAMHINTS_COUNTRY_DB=$tmp/cc.mmdb $LOADER -d $db2 -q "$tmp/cap.pcap"
ok $? "loads with SPAMHINTS_ASN_DB and SPAMHINTS_COUNTRY_DB"
as_top $db2 "" >"$tmp/as.env"
same "$tmp/as.env" "$tmp/as.expected" "the same client_as_top"

newdb $db2
SPAMHINTS_ASN_DB=$tmp/asn.mmdb $LOADER -d $db2 -q --asn-db '' --country-db "$tmp/cc.mmdb" "$tmp/cap.pcap"
ok $? "--asn-db '' overrides the environment: countries only"
is "$(q $db2 -c "SELECT count(src_asn) + count(dst_asn), count(src_cc) = count(*), count(*) > 0 FROM spamhints.smtp_sample")|$(q $db2 -c "SELECT count(*) FROM spamhints.asn")|$(q $db2 -c "SELECT enrichment ? 'asn', enrichment ? 'country' FROM spamhints.load")" \
   "0|t|t|0|f|t" "no AS numbers, no names; every country; load.enrichment has the country file only"

$LOADER -q --asn-db "$tmp/asn.mmdb" --country-db "$tmp/cc.mmdb" -o "$tmp/rows.copy" "$tmp/cap.pcap"
ok $? "--output with enrichment"
is "$(q $db2 -c "CREATE TEMP TABLE t (LIKE spamhints.smtp_sample)" \
       -c "\\copy t (load_id, frame, ts, agent, sample_seq, sampling_rate, input_if, output_if, src_mac, dst_mac, vlan, src_ip, dst_ip, src_port, dst_port, tcp_flags, ip_len, ttl, smtp, gw_src_as, gw_dst_as, src_asn, dst_asn, src_cc, dst_cc) FROM '$tmp/rows.copy' (FORMAT binary)" \
       -c "SELECT count(*) FILTER (WHERE src_asn IS NOT NULL AND dst_cc IS NOT NULL) FROM t" | tail -1)" \
   "$(awk '$1 == "smtp_rows" { print $2 }' "$tmp/truth")" "the COPY stream has the four columns, and PostgreSQL reads them"

# --- IPv4-only and unknown database types ---------------------------------------------------
perl tests/lib/make_mmdb.pl --networks "$tmp/net" --asn "$tmp/asn4.mmdb" --ip-version 4 --record-size 24 \
  --asn-type 'Acme-Networks-Lite'
newdb $db2
$LOADER -d $db2 --no-progress --asn-db "$tmp/asn4.mmdb" "$tmp/cap.pcap" >"$tmp/out" 2>"$tmp/err"
ok $? "an IPv4-only database of an unknown type loads"
grep -q 'warning: ASN database ".*asn4.mmdb": unknown database type "Acme-Networks-Lite"' "$tmp/err"
ok $? "with a warning about the type"
grep -q 'holds IPv4 networks only: IPv6 addresses get no AS' "$tmp/err"
ok $? "and one about IPv6"
is "$(q $db2 -c "SELECT count(*) FILTER (WHERE family(src_ip) = 4 AND src_asn IS NULL),
                        count(*) FILTER (WHERE family(src_ip) = 6 AND src_asn IS NOT NULL),
                        count(*) FILTER (WHERE family(src_ip) = 6) > 0
                 FROM spamhints.smtp_sample")" "0|0|t" "IPv4 addresses get their AS, IPv6 ones NULL"

# --- broken databases: exit 2, one message, before connecting, nothing loaded ----------------
head -c 3000 "$tmp/asn.mmdb" >"$tmp/cut.mmdb"
head -c 20000 /dev/urandom >"$tmp/random.mmdb"
cp "$tmp/asn.mmdb" "$tmp/zeroed.mmdb"
# the metadata section is at the end of the file: blank it
size=$(stat -c %s "$tmp/zeroed.mmdb")
dd if=/dev/zero of="$tmp/zeroed.mmdb" bs=1 seek=$((size - 200)) count=200 conv=notrunc 2>/dev/null
loads_before=$(q $db -c "SELECT count(*) FROM spamhints.load")
bad() {  # description, expected message, loader arguments...
  local desc=$1 msg=$2; shift 2
  $LOADER -d "host=$PGHOST port=1 dbname=$db" --no-progress "$@" "$tmp/cap.pcap" >"$tmp/out" 2>"$tmp/err"
  is "$?" 2 "$desc: exit 2 before connecting (no server there)"
  [ "$(grep -c 'error' "$tmp/err")" = 1 ] && grep -q "$msg" "$tmp/err"
  ok $? "$desc: one clear message: $(head -1 "$tmp/err")"
}
bad "missing ASN database" 'error: ASN database "/nonexistent/x.mmdb": cannot open: No such file or directory' \
  --asn-db /nonexistent/x.mmdb
bad "missing country database" 'error: country database ".*": cannot open' --country-db "$tmp/nope.mmdb"
bad "a directory" 'not a regular file' --asn-db "$tmp"
bad "a cut file" 'not a valid MaxMind DB file' --asn-db "$tmp/cut.mmdb"
bad "random bytes" 'not a valid MaxMind DB file' --country-db "$tmp/random.mmdb"
bad "blanked metadata" 'not a valid MaxMind DB file' --asn-db "$tmp/zeroed.mmdb"
bad "a country database as the ASN one" 'is a "Spamhints-Test-Country" database, not an ASN database' \
  --asn-db "$tmp/cc.mmdb"
bad "an ASN database as the country one" 'is a "Spamhints-Test-ASN" database, not a country database' \
  --country-db "$tmp/asn.mmdb"
SPAMHINTS_ASN_DB=/nonexistent/env.mmdb $LOADER -d $db -q "$tmp/cap.pcap" >"$tmp/out" 2>"$tmp/err"
is "$?" 2 "a missing database named by SPAMHINTS_ASN_DB: exit 2"
grep -q 'hint: SPAMHINTS_ASN_DB and SPAMHINTS_COUNTRY_DB name the databases' "$tmp/err"
ok $? "and the hint names the variables"
# an unreadable file (as root, read by an unprivileged user)
cp "$tmp/asn.mmdb" "$tmp/unreadable.mmdb"; chmod 000 "$tmp/unreadable.mmdb"
as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(runuser -u nobody --)
"${as_user[@]}" "$ROOT/$LOADER" --dry-run --asn-db "$tmp/unreadable.mmdb" "$tmp/cap.pcap" >"$tmp/out" 2>"$tmp/err"
is "$?" 2 "an unreadable file: exit 2"
is "$(cat "$tmp/err")" "spamhints-load: error: ASN database \"$tmp/unreadable.mmdb\": cannot read: Permission denied" \
   "an unreadable file: one clear message"
is "$(q $db -c "SELECT count(*) FROM spamhints.load")" "$loads_before" "nothing was loaded"

# the same files in SQL: one clear error each
sqlerr() { psql -X -d $db -At -c "SET spamhints.$1 = '$2'" -c "$3" 2>&1 | grep ERROR; }
is "$(sqlerr asn_db "$tmp/cut.mmdb" "SELECT spamhints.asn(src_ip) FROM spamhints.smtp_sample")" \
   "ERROR:  \"$tmp/cut.mmdb\" (spamhints.asn_db) is not a valid MaxMind DB file: The MaxMind DB file contains invalid metadata" \
   "SQL: a cut file, one error for the whole query (XX001)"
is "$(sqlerr asn_db "$tmp/unreadable.mmdb" "SELECT spamhints.as_org(src_ip) FROM spamhints.smtp_sample")" \
   "ERROR:  could not read MaxMind database \"$tmp/unreadable.mmdb\" (spamhints.asn_db): Permission denied" \
   "SQL: an unreadable file"
is "$(sqlerr country_db "$tmp/asn.mmdb" "SELECT spamhints.country(src_ip) FROM spamhints.smtp_sample")" \
   "ERROR:  \"$tmp/asn.mmdb\" (spamhints.country_db) is a Spamhints-Test-ASN database, not a country database" \
   "SQL: the wrong kind of database"

# --- the MaxMind test databases: the SQL functions against mmdblookup ---------------------------
if [ ! -d "$MMDB_DIR" ] || [ ! -f "$MMDB_DIR/GeoLite2-ASN-Test.mmdb" ]; then
  skip "MaxMind test databases" "$MMDB_DIR is absent"
  tap_done; exit
fi
cp "$MMDB_DIR"/*.mmdb "$MMDB_DIR"/*.json "$tmp/"

newdb $db2
$LOADER -d $db2 --no-progress --asn-db "$tmp/GeoLite2-ASN-Test.mmdb" --country-db "$tmp/GeoIP2-Country-Test.mmdb" \
  "$tmp/cap.pcap" >"$tmp/out" 2>"$tmp/err"
ok $? "loads with MaxMind's GeoLite2-ASN and GeoIP2-Country test databases"
[ ! -s "$tmp/err" ]; ok $? "their types are known: no warnings"
is "$(q $db2 -c "SELECT enrichment->'asn'->>'database_type', enrichment->'asn'->>'built', enrichment->'country'->>'database_type'
                 FROM spamhints.load")" \
   "GeoLite2-ASN|$(mmdblookup --file "$tmp/GeoLite2-ASN-Test.mmdb" --verbose --ip 1.0.0.1 | sed -n 's/.*Build epoch: *[0-9]* (\([0-9-]*\) \([0-9:]*\) UTC).*/\1T\2Z/p')|GeoIP2-Country" \
   "their metadata in load.enrichment (the build time as mmdblookup --verbose says)"

# one address per network of each JSON source, and what mmdblookup says of it
oracle() {  # json mmdb kind -> addresses.tsv (ip) and oracle.tsv (ip|asn|org or ip|cc)
  python3 - "$@" <<'EOF'
import ipaddress, json, subprocess, sys
src, mmdb, kind, out = sys.argv[1:]
def look(ip, *path):
    p = subprocess.run(["mmdblookup", "--file", mmdb, "--ip", ip] + list(path),
                       capture_output=True, text=True)
    if p.returncode != 0:       # not in the database, or no such key
        return ""
    v = p.stdout.strip()
    v = v.rsplit(" <", 1)[0]
    return v[1:-1] if v.startswith('"') else v
with open(out, "w", encoding="utf-8") as f:
    for entry in json.load(open(src, encoding="utf-8")):
        for net in entry:
            n = ipaddress.ip_network(net, strict=False)
            ip = n.network_address
            # "::81.2.69.142/127" is IPv4 space in an IPv6 tree: ask for the IPv4 address
            if n.version == 6 and n.prefixlen >= 96 and n.subnet_of(ipaddress.ip_network("::/96")):
                ip = ipaddress.IPv4Address(int(ip))
            ip = str(ip)
            if kind == "asn":
                f.write("%s|%s|%s\n" % (ip, look(ip, "autonomous_system_number"),
                                        look(ip, "autonomous_system_organization")))
            else:
                f.write("%s|%s\n" % (ip, look(ip, "country", "iso_code")))
EOF
}
check_sql() {  # json mmdb kind setting
  local name; name=$(basename "$1" .json)
  oracle "$tmp/$1" "$tmp/$2" "$3" "$tmp/$name.oracle"
  cut -d'|' -f1 "$tmp/$name.oracle" >"$tmp/$name.ips"
  local sel="coalesce(spamhints.asn(ip)::text, '') || '|' || coalesce(spamhints.as_org(ip), '')"
  [ "$3" = cc ] && sel="coalesce(spamhints.country(ip), '')"
  q $db2 -c "SET spamhints.$4 = '$tmp/$2'" -c "CREATE TEMP TABLE a (n serial, ip inet)" \
    -c "\\copy a (ip) FROM '$tmp/$name.ips'" \
    -c "SELECT host(ip) || '|' || $sel FROM a ORDER BY n" >"$tmp/$name.sql" 2>&1
  local n v4 v6
  n=$(wc -l <"$tmp/$name.oracle"); v6=$(grep -c ':' "$tmp/$name.ips"); v4=$((n - v6))
  python3 - "$tmp/$name.sql" "$tmp/$name.oracle" <<'EOF'
import ipaddress, sys
def rows(path):
    out = []
    for line in open(path, encoding="utf-8"):
        v = line.rstrip("\n").split("|", 1)
        out.append((ipaddress.ip_address(v[0]).compressed, v[1] if len(v) > 1 else None))
    return out
a, b = rows(sys.argv[1]), rows(sys.argv[2])
bad = [(x, y) for x, y in zip(a, b) if x != y]
if len(a) != len(b) or bad:
    print("# %d rows from SQL, %d from mmdblookup, %d differ" % (len(a), len(b), len(bad)))
    for x, y in bad[:5]: print("#   sql %s, mmdblookup %s" % (x, y))
    sys.exit(1)
EOF
  ok $? "$name: $4 functions = mmdblookup for one address of each of its $n networks ($v4 IPv4, $v6 IPv6)"
  is "$(cut -d'|' -f2- "$tmp/$name.oracle" | grep -vc '^|*$')" "$(cut -d'|' -f2- "$tmp/$name.sql" | grep -vc '^|*$')" \
     "$name: found for the same number of addresses ($(cut -d'|' -f2- "$tmp/$name.oracle" | grep -vc '^|*$'))"
}
check_sql GeoLite2-ASN-Test.json GeoLite2-ASN-Test.mmdb asn asn_db
check_sql GeoLite2-Country-Test.json GeoLite2-Country-Test.mmdb cc country_db
check_sql GeoIP2-Country-Test.json GeoIP2-Country-Test.mmdb cc country_db
is "$(q $db2 -c "SET spamhints.asn_db = '$tmp/GeoLite2-ASN-Test.mmdb'" -c "SET spamhints.country_db = '$tmp/GeoLite2-Country-Test.mmdb'" \
     -c "SELECT spamhints.asn('1.0.0.1'), spamhints.as_org('12.81.92.1'), spamhints.asn('2600:6000::1'), spamhints.asn('10.0.0.1'),
               spamhints.country('81.2.69.160'), spamhints.country('::ffff:81.2.69.160')")" \
   "15169|AT&T Services|237||GB|GB" "the answers PROVENANCE.md lists, IPv4-mapped IPv6 too"
tap_done
