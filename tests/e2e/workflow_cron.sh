#!/usr/bin/env bash
# tests/e2e/workflow_cron.sh: the documented pg_cron schedule, in a cluster of
# its own with pg_cron loaded (shared_preload_libraries, cron.database_name).
# The jobs of spamhints.cron_jobs() are scheduled as the README says; one of
# them, made to run every minute, must refresh the daily figures: this takes
# up to a minute. Skipped, saying so, when pg_cron is not installed.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/pgcluster.sh

if [ ! -f "$(pg_config --pkglibdir)/pg_cron.so" ] || [ ! -f "$(pg_config --sharedir)/extension/pg_cron.control" ]; then
  skip "pg_cron schedule" "pg_cron is not installed for this PostgreSQL (Debian: postgresql-15-cron)"
  exit 0
fi

db=spamhints_cron
PG_EXTRA_CONF="shared_preload_libraries = 'pg_cron'
cron.database_name = '$db'
cron.use_background_workers = on
shared_buffers = 128MB"
pg_start || { ok 1 "a cluster with pg_cron loaded starts"; exit 1; }
ok 0 "a cluster with pg_cron loaded starts"
createdb $db && psql -qX -d $db -c 'CREATE EXTENSION pg_cron' -c 'CREATE EXTENSION spamhints'
ok $? "CREATE EXTENSION pg_cron and spamhints in cron.database_name"

# the schedule, as the README gives it
is "$(psql -X -d $db -Atc "SELECT count(cron.schedule(jobname, schedule, command)) FROM spamhints.cron_jobs()")" 4 \
   "SELECT cron.schedule(jobname, schedule, command) FROM spamhints.cron_jobs() schedules four jobs"
is "$(psql -X -d $db -Atc "SELECT string_agg(jobname || ' ' || schedule || ' ' || command, '; ' ORDER BY jobid) FROM cron.job")" \
   "spamhints-refresh 5 * * * * SELECT spamhints.refresh(); spamhints-report 30 0 * * * SELECT count(*) FROM spamhints.report(); spamhints-purge 0 3 * * * SELECT * FROM spamhints.purge(); spamhints-fold 45 * * * * SELECT spamhints.rollup_fold()" \
   "cron.job holds them"
is "$(psql -X -d $db -Atc "SELECT count(cron.schedule(jobname, schedule, command)) FROM spamhints.cron_jobs()")|$(psql -X -d $db -Atc "SELECT count(*) FROM cron.job")" \
   "4|4" "scheduling again replaces them (same names)"

# a day of samples, then the refresh job every minute: pg_cron must run it
psql -qX -d $db <<'EOF'
INSERT INTO spamhints.load (file_name, sha256, finished_at) VALUES ('cron.pcap', repeat('1', 64), now());
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port)
SELECT load_id, n, '2007-03-14 00:00+00'::timestamptz + n * interval '1 hour', '192.0.2.250', n, 1000,
       '198.51.100.7', '203.0.113.25', 40000 + n, 25
FROM spamhints.load, generate_series(0, 9) AS n;
EOF
is "$(psql -X -d $db -Atc "SELECT count(*) FROM spamhints.daily_figures")" 0 "the daily figures are not refreshed yet"
psql -qX -d $db -Atc "SELECT cron.schedule('spamhints-refresh-now', '* * * * *', 'SELECT spamhints.refresh()')" >/dev/null
ok $? "the refresh job, every minute"
status=
for i in $(seq 1 80); do
  status=$(psql -X -d $db -Atc "SELECT d.status FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                                WHERE j.jobname = 'spamhints-refresh-now' AND d.status IN ('succeeded', 'failed') LIMIT 1")
  [ -n "$status" ] && break
  sleep 1
done
is "$status" "succeeded" "pg_cron ran it (within $i s)"
psql -X -d $db -Atc "SELECT return_message FROM cron.job_run_details ORDER BY runid DESC LIMIT 1" | sed 's/^/# /'
is "$(psql -X -d $db -Atc "SELECT day, samples, est_packets FROM spamhints.daily_figures")" "2007-03-14|10|10000" \
   "and the daily figures are refreshed"
pg_stop
tap_done
