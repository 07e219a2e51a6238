#!/usr/bin/env bash
# tests/e2e/report_readers.sh: every report we produce parses in an ARF
# reader written by others: Sisimai (libsisimai-perl), whose ARF reader mail
# operators use to sort feedback reports. For a traffic-only report and for
# mail-log reports (spam with the mail addresses, as one agreement allows;
# virus), the fields it extracts (the address it is about, the feedback type,
# the time, the recipient) equal the ones we wrote.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
tmp=$(mktemp -d); trap "rm -rf $tmp" EXIT
db=spamhints_e2e_readers
dropdb --if-exists $db 2>/dev/null
createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' \
  -c "ALTER DATABASE $db SET spamhints.report_from = 'abuse@isp.example'" \
  -c "ALTER DATABASE $db SET spamhints.reporting_mta = 'mx.isp.example'" || exit 1
q() { PGTZ=UTC psql -X -d $db -Atc "$1"; }

perl -MSisimai -e 1 2>/dev/null
ok $? "Sisimai is installed (tests/lib/deps.sh: libsisimai-perl)"

psql -qX -v ON_ERROR_STOP=1 -d $db <<'EOF'
INSERT INTO spamhints.agreement (isp, abuse_address, networks, agreed_at, include_mail_addresses) VALUES
  ('Open ISP', 'abuse@open.example', '{192.0.2.0/24}', '2007-01-01 00:00+00', true);
INSERT INTO spamhints.agreement (isp, abuse_address, networks, agreed_at) VALUES
  ('Default ISP', 'abuse@default.example', '{198.51.100.0/24}', '2007-01-01 00:00+00');
INSERT INTO spamhints.load (file_name, sha256, finished_at) VALUES ('readers.pcap', repeat('a', 64), now());
INSERT INTO spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port, tcp_flags)
SELECT 1, v.frame, v.ts::timestamptz, '192.0.2.250', v.frame, 1000, v.src::inet, '203.0.113.25', v.sp, 25, 2
FROM (VALUES (1, '2007-03-14 09:20:00+00', '198.51.100.7', 5201), (2, '2007-03-14 09:20:30+00', '198.51.100.7', 5202),
             (3, '2007-03-14 09:21:00+00', '198.51.100.7', 5203),
             (4, '2007-03-14 10:00:00+00', '192.0.2.9', 6001)) AS v(frame, ts, src, sp);
INSERT INTO spamhints.maillog_load (file_name, sha256, format, timezone, finished_at)
  VALUES ('mainlog', repeat('b', 64), 'exim', 'UTC', now());
INSERT INTO spamhints.mail_event (maillog_load_id, line, ts, host, client_ip, client_port, helo, size, sender, recipients, verdict, virus, reason)
VALUES (1, 1, '2007-03-14 11:15:42+00', 'mx1', '192.0.2.9', 6010, 'pc9', 1200, 'boss@forged.example', '{alice@example.net}', 'spam', NULL, 'spam'),
       (1, 2, '2007-03-14 12:30:05+00', 'mx1', '192.0.2.10', 7010, 'pc10', 3000, 'x@forged.example', '{bob@example.net}', 'virus', 'Worm.Mydoom.M', 'virus'),
       (1, 3, '2007-03-14 13:00:00+00', 'mx2', '198.51.100.8', 8010, 'pc8', 900, 'y@forged.example', '{carol@example.net}', 'spam', NULL, 'spam');
EOF
ok $? "two agreements (one lets mail addresses through), sampled packets and mail events"

mkdir "$tmp/msg"
q "SELECT host(source_ip) FROM spamhints.report(tstzrange('2007-03-14 00:00+00', '2007-03-15 00:00+00'), at => '2007-03-15 06:00+00')" >"$tmp/ips"
is "$(paste -sd' ' "$tmp/ips")" "198.51.100.7 198.51.100.8 192.0.2.9 192.0.2.10" \
   "four reports: spam with addresses, virus, traffic only, spam without addresses"
for ip in $(cat "$tmp/ips"); do
  q "SELECT message FROM spamhints.report_log WHERE source_ip = '$ip'" >"$tmp/msg/$ip.eml"
done

# what we wrote: the machine-readable part's fields, read by our own reader
q "SELECT host(a.source_ip), a.feedback_type, extract(epoch FROM a.arrival_date)::bigint,
          coalesce((regexp_match(r.message, E'\nOriginal-Rcpt-To: <([^>\n]*)>\n'))[1], '-')
   FROM spamhints.report_log r, spamhints.parse_arf(r.message) AS a ORDER BY 1" >"$tmp/ours"

# what Sisimai reads
cat >"$tmp/sisimai.pl" <<'EOF'
use strict;
use warnings;
use Sisimai;
for my $file (@ARGV) {
    my $records = Sisimai->make($file) || [];
    die "$file: " . scalar(@$records) . " records\n" unless @$records == 1;
    my $r = $records->[0];
    my $rcpt = $r->recipient->address;
    $rcpt = '-' if $rcpt =~ /\Aundisclosed-recipient-in-headers@/;
    printf "%s|%s|%d|%s|%s\n", $r->rhost, $r->feedbacktype, $r->timestamp->epoch, $rcpt, $r->reason;
}
EOF
perl "$tmp/sisimai.pl" "$tmp"/msg/*.eml 2>"$tmp/err" | LC_ALL=C sort >"$tmp/theirs"
ok $? "Sisimai reads each report as one feedback record: $(head -1 "$tmp/err")"
is "$(cut -d'|' -f5 "$tmp/theirs" | sort -u)" "feedback" "Sisimai classifies every report as feedback (ARF)"
LC_ALL=C sort -o "$tmp/ours" "$tmp/ours"
is "$(cut -d'|' -f1-4 "$tmp/theirs")" "$(cat "$tmp/ours")" \
   "Sisimai's address, feedback type, time and recipient equal ours, for each report"
# and both equal the incidents themselves (independent truth: the rows above)
is "$(cat "$tmp/ours")" "$(printf '%s\n' \
   "192.0.2.10|virus|$(date -ud '2007-03-14 12:30:05' +%s)|bob@example.net" \
   "192.0.2.9|abuse|$(date -ud '2007-03-14 11:15:42' +%s)|alice@example.net" \
   "198.51.100.7|abuse|$(date -ud '2007-03-14 09:20:00' +%s)|-" \
   "198.51.100.8|abuse|$(date -ud '2007-03-14 13:00:00' +%s)|-")" \
   "the fields are the incident's: the first mail event, else the first sampled packet; a recipient only where agreed"

[ -n "${KEEP:-}" ] || dropdb $db
tap_done
