#!/usr/bin/env bash
# tests/e2e/report_forgery.sh: a report about one address never reads as a
# report about another, whatever bytes outsiders put in what reports show.
#   - a mail log whose HELO, sender and rejection text hold every kind of
#     control and format character (C0, DEL, C1, line and paragraph
#     separators, bidirectional marks, embeddings, overrides and isolates),
#     each next to a guessed MIME boundary and a forged Source-IP: the load
#     succeeds with every event, the characters replaced by '?';
#   - the same characters planted by the owner through SQL are refused;
#   - every report parses, with Python's email package and with the
#     extension's parse_arf(), to exactly its three parts, about its own
#     address; boundaries are random.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
LOADER=loader/spamhints-load
tmp=$(mktemp -d); trap "rm -rf $tmp" EXIT
db=spamhints_e2e_forgery
dropdb --if-exists $db 2>/dev/null
createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' \
  -c "ALTER DATABASE $db SET spamhints.report_from = 'abuse@isp.example'" \
  -c "ALTER DATABASE $db SET spamhints.reporting_mta = 'mx.isp.example'" || exit 1
q() { PGTZ=UTC psql -X -d $db -Atc "$1"; }

# the characters, one log line each (a line feed cannot be inside a line)
CHARS="1 9 11 12 13 27 31 127 128 133 159 1564 8206 8207 8232 8233 8234 8235 8236 8237 8238 8294 8295 8296 8297"
# what any of them looks like to PostgreSQL's regular expressions
BAD='[\x01-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]'
python3 - "$tmp/mainlog" $CHARS <<'EOF'
import hashlib, sys
out, chars = sys.argv[1], [int(c) for c in sys.argv[2:]]
with open(out, "w", encoding="utf-8", newline="\n") as f:
    for i, n in enumerate(chars):
        c = chr(n)
        # the boundary report() used to make for the report about this address
        guess = "=_spamhints_" + hashlib.md5(f"<spamhints.1.{i + 1}@mx.isp.example>".encode()).hexdigest()
        forged = f"{c}--{guess}{c}Content-Type: message/feedback-report{c}{c}Source-IP: 203.0.113.66{c}"
        f.write(f"2007-07-14 10:{i:02d}:00 H=(pc{c}forged) [192.0.2.{10 + i}]:{4000 + i} F=<x{c}y@spam.example> "
                f"rejected RCPT <nobody@example.net>: bad{forged}\n")
EOF
n=$(echo $CHARS | wc -w)

"$LOADER" -d $db --maillog exim --timezone UTC "$tmp/mainlog" >"$tmp/out" 2>"$tmp/err"
ok $? "a mail log with control and format characters in its fields loads: $(head -1 "$tmp/err" | tr -cd '[:print:]' | cut -c1-160)"
is "$(q "SELECT count(*), count(DISTINCT client_ip) FROM spamhints.mail_event")|$(q "SELECT lines, events, malformed FROM spamhints.maillog_load")" \
   "$n|$n|$n|$n|0" "every line gave its event: none lost, none malformed"
is "$(q "SELECT count(*) FROM spamhints.mail_event
         WHERE concat_ws(' ', host, queue_id, client_name, helo, sender, array_to_string(recipients, ' '), virus, reason) ~ '$BAD'")" \
   0 "no field the loader wrote holds a control or format character"
is "$(q "SELECT count(*) FROM spamhints.mail_event WHERE helo = 'pc?forged' AND sender = 'x?y@spam.example'
         AND reason LIKE '%bad?--=_spamhints_%?Content-Type: message/feedback-report??Source-IP: 203.0.113.66%'")" \
   "$n" "each was replaced by '?', the rest of the text kept"

# the owner cannot plant them either
cat >"$tmp/plant.sql" <<EOF
CREATE FUNCTION pg_temp.refused(stmt text) RETURNS boolean LANGUAGE plpgsql AS \$\$
BEGIN
    BEGIN
        EXECUTE stmt;
        RAISE SQLSTATE 'ZZ000';
    EXCEPTION
        WHEN check_violation THEN RETURN true;
        WHEN SQLSTATE 'ZZ000' THEN RETURN false;
    END;
END
\$\$;
SELECT count(*) FILTER (WHERE NOT pg_temp.refused(format(
           'INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, client_ip, verdict, %I) VALUES (1, 999, %L, %L, %L, %L)',
           c, '2007-07-14 11:00+00', '192.0.2.99', 'spam', 'x' || chr(n) || 'y'))),
       count(*)
FROM unnest('{host,queue_id,client_name,helo,sender,virus,reason}'::text[]) AS c,
     unnest('{10,$(echo $CHARS | tr ' ' ,)}'::int[]) AS n;
EOF
is "$(PGTZ=UTC psql -X -d $db -At -f "$tmp/plant.sql" | tail -1)" "0|$((7 * (n + 1)))" \
   "the owner's INSERTs of each character (and the line feed) into each text field of a mail event are all refused"
printf -v helo 'x\n--=_spamhints_%s\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nSource-IP: 203.0.113.66\n' \
  "$(printf '<spamhints.1.1@mx.isp.example>' | md5sum | cut -d' ' -f1)"
psql -X -v ON_ERROR_STOP=1 -d $db -v helo="$helo" >"$tmp/out" 2>&1 <<'EOF'
INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, client_ip, client_port, helo, verdict)
  VALUES (1, 1000, '2007-07-14 11:00+00', '192.0.2.10', 4000, :'helo', 'spam');
EOF
is "$(q "SELECT count(*) FROM spamhints.mail_event WHERE line = 1000") $(grep -o 'violates check constraint "[a-z_]*"' "$tmp/out")" '0 violates check constraint "mail_event_helo_check"' \
   "a HELO with line breaks, the boundary and a forged Source-IP is refused"

# the reports
q "INSERT INTO spamhints.agreement (isp, abuse_address, networks, agreed_at)
   VALUES ('Agreed ISP', 'abuse@agreed.example', '{192.0.2.0/24}', '2007-01-01 00:00+00'),
          ('Other ISP', 'abuse@other.example', '{203.0.113.0/24}', '2007-01-01 00:00+00')" >/dev/null
PGTZ=UTC psql -X -d $db -Atc "COPY (SELECT host(source_ip), message_id, message FROM spamhints.report(tstzrange('2007-07-14 00:00+00', '2007-07-15 00:00+00'),
                                     at => '2007-07-15 06:00+00')) TO STDOUT (FORMAT csv)" >"$tmp/reports.csv"
ok $? "report() runs"
python3 - "$tmp/reports.csv" $n <<'EOF' >"$tmp/mime.out" 2>&1
import csv, email, email.policy, hashlib, re, sys
bad = re.compile("[\x01-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
rows = list(csv.reader(open(sys.argv[1], newline="")))
problems = []
if len(rows) != int(sys.argv[2]):
    problems.append(f"{len(rows)} reports, not {sys.argv[2]}")
for ip, message_id, message in rows:
    m = email.message_from_string(message, policy=email.policy.default)
    if m.get_content_type() != "multipart/report" or m.get_param("report-type") != "feedback-report":
        problems.append(f"{ip}: {m.get_content_type()}")
        continue
    boundary = m.get_boundary()
    if boundary == "=_spamhints_" + hashlib.md5(message_id.encode()).hexdigest():
        problems.append(f"{ip}: the boundary is md5 of the Message-ID")
    delimiters = [l for l in message.split("\n") if l.startswith("--" + boundary)]
    if delimiters != ["--" + boundary] * 3 + ["--" + boundary + "--"]:
        problems.append(f"{ip}: delimiters {delimiters}")
    parts = list(m.iter_parts())
    if [p.get_content_type() for p in parts] != ["text/plain", "message/feedback-report", "text/rfc822-headers"]:
        problems.append(f"{ip}: parts {[p.get_content_type() for p in parts]}")
        continue
    if m.defects or any(p.defects for p in parts):
        problems.append(f"{ip}: defects {m.defects} {[p.defects for p in parts]}")
    report = parts[1].get_payload()
    fields = report[0] if isinstance(report, list) else email.message_from_string(report)
    if fields.get_all("Source-IP") != [ip]:
        problems.append(f"{ip}: Source-IP {fields.get_all('Source-IP')}")
    if "203.0.113.66" in parts[1].as_string() or "203.0.113.66" in parts[2].as_string():
        problems.append(f"{ip}: the forged address outside the human-readable part")
    if f"Abuse report about {ip}\n" not in parts[0].get_content():
        problems.append(f"{ip}: the human-readable part is about another address")
    if bad.search(message):
        problems.append(f"{ip}: a control or format character in the message")
print("\n".join(problems) or "fine")
EOF
is "$(cat "$tmp/mime.out")" "fine" \
   "Python's email package reads each report as one about its own address: 3 parts, its Source-IP alone, random boundaries, no control characters"
is "$(q "SELECT count(*), count(*) FILTER (WHERE a.source_ip = r.source_ip AND a.feedback_type = 'abuse')
         FROM spamhints.report_log r, spamhints.parse_arf(r.message) AS a")" \
   "$n|$n" "parse_arf reads each logged report as about its own address"
is "$(q "SELECT count(DISTINCT substring(spamhints.report_message(i, tstzrange('2007-07-14 00:00+00', '2007-07-15 00:00+00'), now(), '<same@localhost>')
                                  from 'boundary=\"([^\"]*)\"'))
         FROM spamhints.report_items(tstzrange('2007-07-14 00:00+00', '2007-07-15 00:00+00'), at => '2007-08-15 00:00+00') AS i,
              generate_series(1, 5)")" \
   "$((5 * n))" "the same reports made again five times: a new boundary every time"

dropdb $db
tap_done
