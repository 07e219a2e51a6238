#!/usr/bin/env bash
# tests/e2e/workflow.sh: the abuse desk's workflow, end to end.
#   - mail logs (tests/data/maillog): every line parsed to the right fields
#     (the .expected files), malformed lines counted and not loaded, the
#     year of syslog lines from the file's time or --year, standard input,
#     loading twice, the command line;
#   - a generated capture and its ground truth: customers with dynamic and
#     static addresses matched only inside their leases; reports for an
#     agreed ISP checked by Python's email package (ARF parts and fields,
#     every sample's time in UTC); none for an ISP without agreement; a second
#     run reports nothing; the reports read back as incoming ARF;
#   - customers filled from another database through postgres_fdw.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=loader/spamhints-load
GEN=tests/gen/spamhints-gen
DATA=tests/data/maillog
tmp=$(mktemp -d); trap "rm -rf $tmp" EXIT; [ -n "${KEEP_TMP:-}" ] && trap "echo kept $tmp" EXIT
db=spamhints_e2e_workflow
for d in $db ${db}_year ${db}_bare ${db}_crm; do dropdb --if-exists $d 2>/dev/null; done
createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
createdb ${db}_year && psql -qX -d ${db}_year -c 'CREATE EXTENSION spamhints' || exit 1
createdb ${db}_bare || exit 1

q() { PGTZ=UTC psql -X -d "${2:-$db}" -Atc "$1"; }
run() { "$LOADER" "$@" >"$tmp/out" 2>"$tmp/err"; echo $?; }

# the events of a mail log load, as the .expected files hold them
events() {
  PGTZ=UTC psql -X -d "${3:-$db}" -Atc "COPY (SELECT line, ts, host, queue_id, client_ip, client_port, client_name, helo,
      size, sender, recipients, verdict, virus, spam_score, reason
      FROM spamhints.mail_event WHERE maillog_load_id = $1 ORDER BY line, verdict) TO STDOUT" >"$2"
}

# ---------------------------------------------------------------------------
# Mail logs
# ---------------------------------------------------------------------------
cp "$DATA/exim-mainlog" "$DATA/postfix-maillog" "$tmp/"
# the Postfix log was last written just after midnight on New Year's Day 2008, Berlin time
touch -d '2008-01-01 01:00:00 +0100' "$tmp/postfix-maillog"

is "$(run -d $db --maillog exim --timezone Europe/London "$tmp/exim-mainlog")" 0 "exim: loads"
grep -q 'mail log 1: exim, 40 lines, 11 events, 6 malformed' "$tmp/out"; ok $? "exim: the summary says lines, events, malformed: $(cut -c1-120 "$tmp/out")"
events 1 "$tmp/exim.tsv"
diff -u "$DATA/exim-mainlog.expected" "$tmp/exim.tsv" >"$tmp/diff"; ok $? "exim: every event with the right fields (time in UTC from London time, client, HELO, size, sender, recipients, verdict, virus, score, reason)"
sed 's/^/# /' "$tmp/diff" | head -20
is "$(q "SELECT lines, events, malformed, skipped::text, year_source IS NULL, timezone FROM spamhints.maillog_load WHERE maillog_load_id = 1")" \
   '40|11|6|{"binary": 1, "other_line": 7, "malformed_line": 1, "malformed_time": 3, "loopback_client": 1, "local_submission": 1, "malformed_address": 1}|t|Europe/London' \
   "exim: the load's counts and reasons; no year needed"
is "$(q "SELECT count(*) FROM spamhints.mail_event WHERE maillog_load_id = 1 AND line IN (24, 25, 26, 27, 28, 30)")" 0 \
   "exim: the malformed lines (24-28, 30) are counted, not loaded"
is "$(q "SELECT count(*) FROM spamhints.mail_event WHERE client_ip << '127.0.0.0/8'")" 0 "exim: no event from the loopback (webmail)"

is "$(run -d $db --maillog=postfix --timezone Europe/Berlin "$tmp/postfix-maillog")" 0 "postfix: loads"
grep -q 'mail log 2: postfix, 50 lines, 10 events, 6 malformed' "$tmp/out"; ok $? "postfix: the summary: $(cut -c1-120 "$tmp/out")"
events 2 "$tmp/postfix.tsv"
diff -u "$DATA/postfix-maillog.expected" "$tmp/postfix.tsv" >"$tmp/diff"; ok $? "postfix: every event with the right fields (amavisd-new and ClamAV verdicts, postscreen, RFC 3339 times)"
sed 's/^/# /' "$tmp/diff" | head -20
is "$(q "SELECT lines, events, malformed, skipped::text, year_source, file_mtime FROM spamhints.maillog_load WHERE maillog_load_id = 2")" \
   '50|10|6|{"other_line": 5, "other_program": 2, "malformed_line": 2, "malformed_time": 3, "loopback_client": 1, "local_submission": 1, "malformed_address": 1}|mtime|2008-01-01 00:00:00+00' \
   "postfix: counts, reasons; the year from the file's modification time"
is "$(q "SELECT min(ts), max(ts) FROM spamhints.mail_event WHERE maillog_load_id = 2")" \
   "2007-12-31 22:58:02+00|2007-12-31 23:10:00+00" "postfix: December's lines in 2007, January's in 2008 (then UTC)"

# loading again: nothing added
is "$(run -d $db --maillog postfix --timezone Europe/Berlin "$tmp/postfix-maillog")" 0 "postfix: loading it again succeeds"
grep -q 'already loaded as mail log 2' "$tmp/out"; ok $? "and says it was already loaded"
is "$(q "SELECT count(*) FROM spamhints.mail_event")|$(q "SELECT count(*) FROM spamhints.maillog_load")" "21|2" "and adds nothing"
is "$(q "SELECT sha256 FROM spamhints.maillog_load WHERE maillog_load_id = 2")" "$(sha256sum "$tmp/postfix-maillog" | cut -d' ' -f1)" \
   "the content hash is the file's SHA-256"

# the year from --year, from standard input; another modification time
is "$(cat "$tmp/postfix-maillog" | run -d ${db}_year --maillog postfix --timezone Europe/Berlin --year 2007 -)" 0 "postfix --year 2007 from standard input: loads"
id=$(q "SELECT max(maillog_load_id) FROM spamhints.maillog_load" ${db}_year)
events "$id" "$tmp/year.tsv" ${db}_year
diff -q "$DATA/postfix-maillog.expected" "$tmp/year.tsv" >/dev/null; ok $? "--year 2007 (the first line's, then December to January) gives the same events"
is "$(q "SELECT file_name, year_source, file_mtime IS NULL FROM spamhints.maillog_load WHERE maillog_load_id = $id" ${db}_year)" \
   "(standard input)|option|t" "recorded as standard input, year from the option"
q "DELETE FROM spamhints.maillog_load" ${db}_year >/dev/null
touch -d '2009-01-01 12:00:00 +0100' "$tmp/postfix-maillog"
is "$(run -d ${db}_year --maillog postfix --timezone Europe/Berlin "$tmp/postfix-maillog")" 0 "the same log, modified a year later: loads"
is "$(q "SELECT min(ts), max(ts) FROM spamhints.mail_event" ${db}_year)" \
   "2007-12-31 23:08:00.123456+00|2008-12-31 23:10:00+00" "then its syslog lines are a year later; the RFC 3339 line keeps its year"

# another time zone: the same lines, other UTC times
q "DELETE FROM spamhints.maillog_load" ${db}_year >/dev/null
is "$(run -d ${db}_year --maillog exim --timezone America/New_York "$tmp/exim-mainlog")" 0 "exim in New York time: loads"
is "$(q "SELECT ts FROM spamhints.mail_event WHERE line = 2" ${db}_year)|$(q "SELECT ts FROM spamhints.mail_event WHERE line = 18" ${db}_year)" \
   "2007-07-14 14:15:01+00|2007-07-14 08:22:00+00" "--timezone converts times without an offset (EDT, -04); a written offset wins"

# --host names the server of a log that does not
q "DELETE FROM spamhints.maillog_load" ${db}_year >/dev/null
is "$(run -d ${db}_year --maillog exim --timezone UTC --host mx1.example.net "$tmp/exim-mainlog")" 0 "exim with --host: loads"
is "$(q "SELECT string_agg(DISTINCT host, ',') FROM spamhints.mail_event" ${db}_year)" "mx1.example.net" "--host names the server of every event"

# the command line
is "$(run --maillog sendmail "$tmp/exim-mainlog")" 1 "an unknown format: exit 1"
grep -q 'unknown mail log format "sendmail"' "$tmp/err"; ok $? "with a clear message: $(head -1 "$tmp/err")"
is "$(run --maillog exim --timezone Mars/Olympus "$tmp/exim-mainlog")" 1 "an unknown time zone: exit 1"
grep -q 'unknown time zone' "$tmp/err"; ok $? "with a clear message: $(head -1 "$tmp/err")"
is "$(run --maillog postfix --year 99 "$tmp/postfix-maillog")" 1 "a bad year: exit 1"
is "$(run --maillog exim)" 1 "no file: exit 1"
is "$(run -d $db --maillog exim --timezone UTC "$tmp/missing")" 2 "a missing file: exit 2"
grep -q 'cannot open' "$tmp/err"; ok $? "with a clear message: $(head -1 "$tmp/err")"
is "$(run -d ${db}_bare --maillog exim --timezone UTC "$tmp/exim-mainlog")" 3 "a database without the extension: exit 3"
grep -q 'CREATE EXTENSION spamhints' "$tmp/err"; ok $? "says to create the extension"
is "$(run --maillog exim --timezone UTC --dry-run "$tmp/exim-mainlog")" 0 "--dry-run needs no database"
grep -q 'exim, 40 lines, 11 events, 6 malformed' "$tmp/out"; ok $? "and counts the same"
is "$(run --maillog exim --help)" 0 "--maillog --help exits 0"
grep -q -- '--timezone=ZONE' "$tmp/out" && grep -q -- '--year=YEAR' "$tmp/out"; ok $? "and documents --timezone and --year"
run --help >/dev/null; grep -q -- '--maillog=exim|postfix' "$tmp/out"; ok $? "the loader's --help points to --maillog"

# ---------------------------------------------------------------------------
# A generated capture: customers, and reports for an agreed ISP
# ---------------------------------------------------------------------------
$GEN --seed 21 --smtp 20000 --other 20000 --agents 4 -o "$tmp/g.pcap" -t "$tmp/g.truth" \
  --rows "$tmp/g.rows" --networks "$tmp/g.net" >/dev/null
ok $? "generated a capture with its ground truth"
is "$(run -d $db --no-progress "$tmp/g.pcap")" 0 "and loaded it"

# From the ground truth: our customers (the network with most mail clients),
# half of their addresses static, half dynamic with a hand-over at 12:30;
# an agreed ISP and one without agreement, with the addresses to report.
python3 - "$tmp" <<'EOF'
import collections, datetime, ipaddress, sys
tmp = sys.argv[1]
nets = collections.defaultdict(list)             # org -> prefixes
for line in open(f"{tmp}/g.net"):
    net, asn, org, cc = line.rstrip("\n").split("\t")
    nets[org].append(ipaddress.ip_network(net))
rows = []
for line in open(f"{tmp}/g.rows"):
    frame, usec, agent, rate, src, dst, sport, dport, flags, vlan = line.rstrip("\n").split("\t")
    rows.append((int(usec), ipaddress.ip_address(src), ipaddress.ip_address(dst), int(sport), int(dport), int(rate), int(frame), int(flags)))
def org_of(ip):
    for org, prefixes in nets.items():
        if any(ip in p for p in prefixes):
            return org
clients = collections.defaultdict(set)           # org -> client addresses (to port 25)
for r in rows:
    if r[4] == 25:
        clients[org_of(r[1])].add(r[1])
ranked = sorted((o for o in clients if o), key=lambda o: (-len(clients[o]), o))
ours, agreed, other = ranked[0], ranked[1], ranked[2]
start = datetime.datetime(2007, 3, 14, tzinfo=datetime.timezone.utc)
handover = start + datetime.timedelta(hours=12, minutes=30)
def ts(usec):
    return datetime.datetime.fromtimestamp(usec // 1000000, datetime.timezone.utc).replace(microsecond=usec % 1000000)
def utc_text(t):
    s = t.strftime("%Y-%m-%d %H:%M:%S")
    return s + (".%06d" % t.microsecond if t.microsecond else "")
# leases and the customer of each of our client samples
leases, cust = [], {}
def order(a):
    return (a.version, int(a))
mine = sorted(clients[ours], key=order)
for i, ip in enumerate(mine):
    if i % 2 == 0:
        leases.append((f"static-{i}", ip, "(,)"))
    else:
        leases.append((f"dyn-{i}-a", ip, f"[{start.isoformat()},{handover.isoformat()})"))
        leases.append((f"dyn-{i}-b", ip, f"[{handover.isoformat()},)"))
with open(f"{tmp}/leases.csv", "w") as f:
    for c, ip, during in leases:
        f.write(f'{c},{ip},"{during}"\n')
per = collections.defaultdict(list)
for r in rows:
    if r[4] == 25 and org_of(r[1]) == ours:
        i = mine.index(r[1])
        c = f"static-{i}" if i % 2 == 0 else (f"dyn-{i}-a" if ts(r[0]) < handover else f"dyn-{i}-b")
        per[c].append(r)
with open(f"{tmp}/customers.expected", "w") as f:
    for c in sorted(per):
        rs = per[c]
        f.write("%s|%d|%s|%s|%d|%d\n" % (c, len(rs), utc_text(ts(min(r[0] for r in rs))), utc_text(ts(max(r[0] for r in rs))),
                                         sum(r[5] for r in rs), len({r[2] for r in rs})))
# the agreement and what must be reported: every client address of theirs
with open(f"{tmp}/agreed.sql", "w") as f:
    f.write("INSERT INTO spamhints.agreement (isp, abuse_address, networks, agreed_at) VALUES ('%s', 'abuse@agreed.example', '{%s}', '2007-01-01');\n"
            % (agreed.replace("'", "''"), ",".join(str(p) for p in nets[agreed])))
with open(f"{tmp}/other.txt", "w") as f:
    f.write("\n".join(str(p) for p in nets[other]) + "\n")
# reported: the client addresses of theirs with at least 3 sampled packets in
# at least 2 different minutes (the settings' defaults)
count, minutes = collections.Counter(), collections.defaultdict(set)
for r in rows:
    if r[4] == 25 and r[1] in clients[agreed]:
        count[r[1]] += 1
        minutes[r[1]].add(r[0] // 60000000)
reported = {ip for ip in clients[agreed] if count[ip] >= 3 and len(minutes[ip]) >= 2}
with open(f"{tmp}/reported.expected", "w") as f:
    for ip in sorted(reported, key=order):
        f.write(f"{ip}\n")
# each reported address's sampled packets, as the report must list them
with open(f"{tmp}/evidence.expected", "w") as f:
    for r in sorted(rows, key=lambda r: (r[0], r[6])):
        if r[4] == 25 and r[1] in reported:
            src = f"[{r[1]}]" if r[1].version == 6 else str(r[1])
            dst = f"[{r[2]}]" if r[2].version == 6 else str(r[2])
            f.write(f"{r[1]}\t  {utc_text(ts(r[0]))} UTC  {src}:{r[3]} -> {dst}:25\n")
print(f"# ours: {ours} ({len(clients[ours])} client addresses), agreed: {agreed} ({len(clients[agreed])}, {len(reported)} to report), other: {other} ({len(clients[other])})")
EOF
ok $? "ground truth: our customers, an agreed ISP, one without agreement"

psql -qX -d $db -c "\\copy spamhints.ip_assignment (customer_id, network, during) FROM '$tmp/leases.csv' (FORMAT csv)"
ok $? "customers loaded with COPY: $(wc -l <"$tmp/leases.csv") assignments"
q "SELECT customer_id, samples, spamhints.utc_text(first_seen), spamhints.utc_text(last_seen), est_packets, servers
   FROM spamhints.customer_sender" | LC_ALL=C sort >"$tmp/customers.got"
LC_ALL=C sort -o "$tmp/customers.expected" "$tmp/customers.expected"
diff -u "$tmp/customers.expected" "$tmp/customers.got" >"$tmp/diff"; ok $? "customer_sender: every customer's samples, first and last seen, estimate, servers, equal the ground truth"
sed 's/^/# /' "$tmp/diff" | head -10
is "$(q "SELECT count(*) FROM spamhints.customer_sender WHERE customer_id LIKE 'dyn-%-a' AND last_seen >= '2007-03-14 12:30+00'")|$(q "SELECT count(*) FROM spamhints.customer_sender WHERE customer_id LIKE 'dyn-%-b' AND first_seen < '2007-03-14 12:30+00'")" \
   "0|0" "a dynamic address's samples go to each holder only inside its lease"

psql -qX -d $db -f "$tmp/agreed.sql" && ok 0 "an agreement with one ISP" || ok 1 "an agreement with one ISP"
psql -qX -d $db -Atc "SELECT count(*) FROM spamhints.report(tstzrange('2007-03-13', '2007-03-16'))" >/dev/null 2>"$tmp/err"
grep -q 'spamhints.report_from and spamhints.reporting_mta must be set' "$tmp/err"
ok $? "report() refuses to run before report_from and reporting_mta are set: $(head -1 "$tmp/err")"
psql -qX -d $db -c "ALTER DATABASE $db SET spamhints.report_from = 'abuse@isp.example'" \
  -c "ALTER DATABASE $db SET spamhints.reporting_mta = 'mx.isp.example'"
PGTZ=UTC psql -qX -d $db -Atc "SET spamhints.report_max_items = 100000" \
  -c "COPY (SELECT source_ip, message FROM spamhints.report(tstzrange('2007-03-13', '2007-03-16'))) TO STDOUT (FORMAT csv)" >"$tmp/reports.csv"
ok $? "report() for the capture's days"
python3 - "$tmp" <<'EOF' >"$tmp/mime.out" 2>&1
import collections, csv, email, email.policy, ipaddress, sys
tmp = sys.argv[1]
expected = [l.strip() for l in open(f"{tmp}/reported.expected")]
evidence = collections.defaultdict(list)
for line in open(f"{tmp}/evidence.expected"):
    ip, text = line.rstrip("\n").split("\t")
    evidence[ip].append(text)
other = [ipaddress.ip_network(l.strip()) for l in open(f"{tmp}/other.txt") if l.strip()]
got, bad = [], []
for ip, message in csv.reader(open(f"{tmp}/reports.csv")):
    got.append(ip)
    m = email.message_from_string(message, policy=email.policy.default)
    if m.get_content_type() != "multipart/report" or m.get_param("report-type") != "feedback-report":
        bad.append(f"{ip}: not multipart/report; report-type=feedback-report")
        continue
    parts = [p.get_content_type() for p in m.iter_parts()]
    if parts != ["text/plain", "message/feedback-report", "text/rfc822-headers"]:
        bad.append(f"{ip}: parts {parts}")
        continue
    human = list(m.iter_parts())[0].get_content()
    report = list(m.iter_parts())[1].get_payload()
    # Python reads a message/* part as the message (here: the fields) it holds
    fields = report[0] if isinstance(report, list) else email.message_from_string(report)
    if fields["Source-IP"] != ip or fields["Feedback-Type"] != "abuse" or fields["Version"] != "1" or not fields["Arrival-Date"]:
        bad.append(f"{ip}: fields {dict(fields)}")
    if int(fields["Incidents"]) != len(evidence[ip]):
        bad.append(f"{ip}: Incidents {fields['Incidents']}, samples {len(evidence[ip])}")
    for line in evidence[ip]:
        if line not in human:
            bad.append(f"{ip}: no line {line!r}")
    if "WARNING: PERSONAL DATA" not in human or "Every time below is UTC" not in human:
        bad.append(f"{ip}: no warning or no time zone")
    if any(ipaddress.ip_address(ip) in n for n in other):
        bad.append(f"{ip}: reported though its ISP did not agree")
print(f"# {len(got)} reports, {sum(len(v) for v in evidence.values())} sampled packets listed")
for b in bad[:10]:
    print("# " + b)
sys.exit(1 if bad else 0)
EOF
ok $? "every report is ARF (multipart/report, three parts, Source-IP, Incidents), lists every sampled packet of its address timed in UTC, and warns about personal data"
cat "$tmp/mime.out"
cut -d, -f1 "$tmp/reports.csv" | grep -E '^[0-9a-f.:]+$' | sort -u >"$tmp/reported.got"
sort -u "$tmp/reported.expected" >"$tmp/reported.exp"
diff -q "$tmp/reported.exp" "$tmp/reported.got" >/dev/null; ok $? "exactly the agreed ISP's sending addresses are reported ($(wc -l <"$tmp/reported.exp"))"
is "$(q "SELECT count(*) FROM spamhints.report_log r WHERE EXISTS (SELECT 1 FROM unnest('{$(paste -sd, "$tmp/other.txt")}'::cidr[]) n WHERE r.source_ip <<= n)")" 0 \
   "the ISP without an agreement gets none"
is "$(q "SELECT count(*) FROM spamhints.report(tstzrange('2007-03-13', '2007-03-16'))")" 0 "a second run inside the window reports nothing new"
is "$(q "SELECT count(*) FROM spamhints.report_log")" "$(wc -l <"$tmp/reported.exp")" "each report logged once"
is "$(q "SELECT count(*) FROM (SELECT spamhints.receive_arf(message) FROM spamhints.report_log) s")|$(q "SELECT count(*) FROM spamhints.incoming_report i JOIN spamhints.report_log r USING (source_ip)")" \
   "$(wc -l <"$tmp/reported.exp")|$(wc -l <"$tmp/reported.exp")" "our reports read back as incoming ARF reports, each with its address"

# ---------------------------------------------------------------------------
# Customers from another database, through postgres_fdw
# ---------------------------------------------------------------------------
createdb ${db}_crm && psql -qX -d ${db}_crm -c "CREATE TABLE lease (account int, ip inet, started timestamptz, stopped timestamptz);
  INSERT INTO lease VALUES (1, '192.0.2.7', '2007-03-14 08:00+00', '2007-03-14 12:00+00'),
                           (2, '192.0.2.7', '2007-03-14 12:00+00', NULL), (3, '192.0.2.64/26', NULL, NULL)"
psql -qX -d $db -v ON_ERROR_STOP=1 >"$tmp/fdw" 2>&1 <<EOF
CREATE EXTENSION postgres_fdw;
CREATE SERVER crm FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$PGHOST', port '$PGPORT', dbname '${db}_crm');
CREATE USER MAPPING FOR CURRENT_USER SERVER crm OPTIONS (user '$PGUSER');
CREATE SCHEMA crm;
IMPORT FOREIGN SCHEMA public LIMIT TO (lease) FROM SERVER crm INTO crm;
CREATE VIEW crm.assignments AS
  SELECT 'crm-' || account AS customer_id, ip AS network, tstzrange(started, stopped) AS during FROM crm.lease;
EOF
ok $? "postgres_fdw: the CRM's lease table as a foreign table, and a view over it"
sed 's/^/# /' "$tmp/fdw" | grep -i error
is "$(q "SELECT spamhints.replace_assignments('crm.assignments')")" 3 "replace_assignments() copies it"
is "$(q "SELECT spamhints.customer_at('192.0.2.7', '2007-03-14 09:00+00'), spamhints.customer_at('192.0.2.7', '2007-03-14 13:00+00'), spamhints.customer_at('192.0.2.100', now())")" \
   "crm-1|crm-2|crm-3" "and who held an address when comes from it"

for d in ${db}_year ${db}_bare; do dropdb --if-exists $d 2>/dev/null; done
tap_done
