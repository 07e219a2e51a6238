#!/usr/bin/env bash
# bench/analytics.sh: the slide questions with the extension against the
# plain SQL an analyst would write without it, serial and with 2 parallel
# workers, on SQL-generated samples (bench/gen.sql) in a throwaway cluster.
#
#   bash bench/analytics.sh                 2,000,000 samples, best of 3 runs
#   ROWS=5000000 RUNS=5 bash bench/analytics.sh
#   CAPTURE=x.pcap [LOADER_ARGS=...] bash bench/analytics.sh
#                                           the samples of a capture, loaded by
#                                           spamhints-load, instead (bench/run.sh
#                                           generates one starting 2024-03-01, the
#                                           day activity_by_hour asks about)
#
# The extension is built and installed first when the PostgreSQL directories
# are writable (as root); otherwise it must be installed already.  work_mem is 256MB so that the plain SQL's hash aggregates stay in
# memory: the comparison is with the plain SQL at its best.  Prints one
# table: times in ms (the best of RUNS), the speedup of the extension over
# the plain SQL, of 2 workers over serial, and whether the answers agree
# (extension = plain SQL, serial = parallel).  Outputs are kept in bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-2000000}
RUNS=${RUNS:-3}
OUT=${ANALYTICS_OUT:-bench/out}
CAPTURE=${CAPTURE:-}
mkdir -p "$OUT"

if [ -w "$(pg_config --pkglibdir)" ]; then
  make -s spamhints.so sql >/dev/null
  install -m 644 sql/spamhints--*.sql spamhints.control "$(pg_config --sharedir)/extension/"
  install -m 755 spamhints.so "$(pg_config --pkglibdir)/"
fi

# shellcheck source=../tests/lib/pgcluster.sh
source tests/lib/pgcluster.sh
PG_EXTRA_CONF="work_mem = '256MB'
max_parallel_workers_per_gather = 2
jit = off" pg_start

psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION spamhints' >/dev/null
if [ -n "$CAPTURE" ]; then
  echo "loading $CAPTURE..." >&2
  make -s loader
  # shellcheck disable=SC2086
  loader/spamhints-load -q --no-progress ${LOADER_ARGS:-} -d "$PGDATABASE" "$CAPTURE"
else
  echo "generating $ROWS samples..." >&2
  psql -X -q -v ON_ERROR_STOP=1 -1 -v rows="$ROWS" -f bench/gen.sql >/dev/null
fi
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
-- "known open servers": a fixed list of 2,000 server addresses
CREATE TABLE known_server AS
SELECT DISTINCT dst_ip AS ip FROM spamhints.smtp_sample WHERE dst_port = 25 ORDER BY 1 LIMIT 2000;
ALTER TABLE known_server ADD PRIMARY KEY (ip);
VACUUM ANALYZE;
SQL

# run_sql NAME WORKERS SQL: time SQL RUNS times (after one warm-up), keep its
# output in $OUT/NAME.WORKERS.out, print the best time in ms
run_sql() {
  local name=$1 workers=$2 sql=$3 i script
  script="$OUT/$name.$workers.sql"
  {
    echo "SET search_path = spamhints, public;"
    echo "SET TimeZone = 'UTC';"
    echo "SET max_parallel_workers_per_gather = $workers;"
    echo "\\o $OUT/$name.$workers.out"
    echo "$sql;"
    echo "\\o /dev/null"
    echo "\\timing on"
    for ((i = 0; i < RUNS; i++)); do echo "$sql;"; done
  } >"$script"
  psql -X -q -A -t -v ON_ERROR_STOP=1 -f "$script" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -n | head -1
}

same() { cmp -s "$OUT/$1" "$OUT/$2" && echo yes || echo NO; }

declare -a QUESTIONS
# name | extension SQL | plain SQL (same output)
QUESTIONS+=("census|SELECT * FROM ip_census|
SELECT count(*), count(*) FILTER (WHERE c AND NOT s), count(*) FILTER (WHERE s AND NOT c), count(*) FILTER (WHERE c AND s)
FROM (SELECT ip, bool_or(client) AS c, bool_or(server) AS s
      FROM (SELECT src_ip AS ip, dst_port = 25 AS client, src_port = 25 AS server FROM smtp_sample WHERE 25 IN (src_port, dst_port)
            UNION ALL
            SELECT dst_ip, src_port = 25, dst_port = 25 FROM smtp_sample WHERE 25 IN (src_port, dst_port)) AS e
      GROUP BY ip) AS t")
QUESTIONS+=("client_as_top_30|SELECT rank, asn, country, clients, servers, \"both\" FROM client_as_top ORDER BY rank, asn LIMIT 30|
WITH e AS (SELECT src_ip AS ip, src_asn AS asn, src_cc AS cc, dst_port = 25 AS client, src_port = 25 AS server
           FROM smtp_sample WHERE 25 IN (src_port, dst_port)
           UNION ALL
           SELECT dst_ip, dst_asn, dst_cc, src_port = 25, dst_port = 25
           FROM smtp_sample WHERE 25 IN (src_port, dst_port)),
     per_ip AS (SELECT asn, ip, bool_or(client) AS c, bool_or(server) AS s FROM e WHERE asn IS NOT NULL GROUP BY asn, ip),
     per_cc AS (SELECT asn, cc, count(DISTINCT ip) AS n FROM e WHERE asn IS NOT NULL AND cc IS NOT NULL GROUP BY asn, cc),
     country AS (SELECT DISTINCT ON (asn) asn, cc FROM per_cc ORDER BY asn, n DESC, cc)
SELECT rank() OVER (ORDER BY count(*) FILTER (WHERE c AND NOT s) DESC), p.asn, min(k.cc),
       count(*) FILTER (WHERE c AND NOT s), count(*) FILTER (WHERE s AND NOT c), count(*) FILTER (WHERE c AND s)
FROM per_ip p LEFT JOIN country k USING (asn) GROUP BY p.asn ORDER BY 1, 2 LIMIT 30")
QUESTIONS+=("client_cc_top|SELECT rank, country, clients, servers, \"both\" FROM client_cc_top ORDER BY rank, country|
WITH e AS (SELECT src_ip AS ip, src_cc AS cc, dst_port = 25 AS client, src_port = 25 AS server
           FROM smtp_sample WHERE 25 IN (src_port, dst_port)
           UNION ALL
           SELECT dst_ip, dst_cc, src_port = 25, dst_port = 25
           FROM smtp_sample WHERE 25 IN (src_port, dst_port))
SELECT rank() OVER (ORDER BY count(*) FILTER (WHERE c AND NOT s) DESC), cc,
       count(*) FILTER (WHERE c AND NOT s), count(*) FILTER (WHERE s AND NOT c), count(*) FILTER (WHERE c AND s)
FROM (SELECT cc, ip, bool_or(client) AS c, bool_or(server) AS s FROM e WHERE cc IS NOT NULL GROUP BY cc, ip) AS t
GROUP BY cc ORDER BY 1, 2")
QUESTIONS+=("hourly_packets|SELECT hourly(ts, sampling_rate)::bigint[] FROM smtp_sample|
SELECT array_agg(coalesce(n, 0) ORDER BY h)
FROM generate_series(0, 23) AS h
LEFT JOIN (SELECT extract(hour FROM ts)::int AS hh, sum(sampling_rate)::bigint AS n FROM smtp_sample GROUP BY 1) AS x ON x.hh = h")
QUESTIONS+=("hourly_known_servers|SELECT hourly(ts)::bigint[] FROM smtp_sample WHERE dst_ip IN (SELECT ip FROM known_server)|
SELECT array_agg(coalesce(n, 0) ORDER BY h)
FROM generate_series(0, 23) AS h
LEFT JOIN (SELECT extract(hour FROM ts)::int AS hh, count(*) AS n FROM smtp_sample
           WHERE dst_ip IN (SELECT ip FROM known_server) GROUP BY 1) AS x ON x.hh = h")
QUESTIONS+=("activity_by_hour|SELECT * FROM activity('2024-03-01 00:00+00', '2024-03-02 01:00+00')|
WITH e AS (SELECT date_bin('1 hour', ts, '2024-03-01') AS b, src_ip AS ip, dst_port = 25 AS client, src_port = 25 AS server
           FROM smtp_sample WHERE ts >= '2024-03-01 00:00+00' AND ts < '2024-03-02 01:00+00' AND 25 IN (src_port, dst_port)
           UNION ALL
           SELECT date_bin('1 hour', ts, '2024-03-01'), dst_ip, src_port = 25, dst_port = 25
           FROM smtp_sample WHERE ts >= '2024-03-01 00:00+00' AND ts < '2024-03-02 01:00+00' AND 25 IN (src_port, dst_port)),
     roles AS (SELECT b, count(*) FILTER (WHERE c) AS clients, count(*) FILTER (WHERE s) AS servers
               FROM (SELECT b, ip, bool_or(client) AS c, bool_or(server) AS s FROM e GROUP BY b, ip) AS t GROUP BY b),
     counts AS (SELECT date_bin('1 hour', ts, '2024-03-01') AS b, count(*) AS samples, sum(sampling_rate)::bigint AS est,
                       count(*) FILTER (WHERE tcp_flags & 18 = 2) AS syn
                FROM smtp_sample WHERE ts >= '2024-03-01 00:00+00' AND ts < '2024-03-02 01:00+00' GROUP BY 1)
SELECT g.b, coalesce(samples, 0), coalesce(est, 0), coalesce(syn, 0), coalesce(clients, 0), coalesce(servers, 0)
FROM generate_series('2024-03-01 00:00+00'::timestamptz, '2024-03-02 00:59:59+00', '1 hour') AS g(b)
LEFT JOIN counts USING (b) LEFT JOIN roles USING (b) ORDER BY g.b")

printf '%-22s %10s %10s %8s %12s %9s %11s %11s\n' \
  question plain_ms ext_ms speedup ext_2wk_ms par_gain "ext=plain" "serial=par"
for q in "${QUESTIONS[@]}"; do
  name=${q%%|*}
  rest=${q#*|}
  ext=${rest%%|*}
  plain=${rest#*|}
  t_plain=$(run_sql "$name.plain" 0 "$plain")
  t_ext=$(run_sql "$name.ext" 0 "$ext")
  t_par=$(run_sql "$name.ext" 2 "$ext")
  printf '%-22s %10.1f %10.1f %7.1fx %12.1f %8.1fx %11s %11s\n' "$name" "$t_plain" "$t_ext" \
    "$(awk -v a="$t_plain" -v b="$t_ext" 'BEGIN { print a / b }')" "$t_par" "$(awk -v a="$t_ext" -v b="$t_par" 'BEGIN { print a / b }')" \
    "$(same "$name.plain.0.out" "$name.ext.0.out")" "$(same "$name.ext.0.out" "$name.ext.2.out")"
done

psql -X -q -A -t -c "SELECT 'samples: ' || count(*) || ', addresses: ' || (SELECT ips FROM spamhints.ip_census) || ', CPUs: $(nproc), PostgreSQL ' || current_setting('server_version') FROM spamhints.smtp_sample"
