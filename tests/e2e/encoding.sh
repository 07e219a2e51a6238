#!/usr/bin/env bash
# tests/e2e/encoding.sh: the extension needs a UTF8 database.
#
# Mail logs and AS names carry text in any script (a HELO in Cyrillic, an AS
# name in Chinese). In a database of another encoding one such line made the
# whole mail log fail, so CREATE EXTENSION refuses any database that is not
# UTF8, and says how to make one that is.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_encoding

for enc in LATIN1 SQL_ASCII; do
  dropdb --if-exists ${db}_$enc 2>/dev/null
  createdb -E $enc -T template0 --locale=C ${db}_$enc || exit 1
  psql -X -d ${db}_$enc -v ON_ERROR_STOP=1 \
    -c '\set VERBOSITY verbose' -c 'CREATE EXTENSION spamhints' >"$tmp/out" 2>"$tmp/err"
  rc=$?
  is "$rc" 1 "CREATE EXTENSION in a $enc database fails"
  grep -q "ERROR:  0A000: spamhints needs a UTF8 database: database \"${db}_$enc\" has encoding $enc" "$tmp/err"
  ok $? "with SQLSTATE 0A000, naming the database and its encoding: $(grep -m1 ERROR "$tmp/err")"
  grep -q 'HINT:  .*createdb -E UTF8 -T template0' "$tmp/err"
  ok $? "and a hint how to create a UTF8 database: $(grep -m1 HINT "$tmp/err")"
  is "$(psql -X -d ${db}_$enc -Atc "SELECT count(*) FROM pg_extension WHERE extname = 'spamhints'") $(psql -X -d ${db}_$enc -Atc "SELECT count(*) FROM pg_namespace WHERE nspname = 'spamhints'")" \
     "0 0" "and leaves nothing behind (no extension, no schema)"
  dropdb ${db}_$enc
done

dropdb --if-exists ${db}_utf8 2>/dev/null
createdb -E UTF8 -T template0 --locale=C ${db}_utf8 || exit 1
psql -X -d ${db}_utf8 -v ON_ERROR_STOP=1 -qc 'CREATE EXTENSION spamhints' 2>"$tmp/err"
ok $? "CREATE EXTENSION in a UTF8 database (locale C) works"
[ -s "$tmp/err" ] && sed 's/^/#   /' "$tmp/err"
tests/gen/spamhints-gen --seed 7 --smtp 50 --other 10 -o "$tmp/a.pcap" -t "$tmp/a.truth" >/dev/null
printf '2007-03-14 10:00:00 H=(\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82.example) [192.0.2.9]:4000 I=[198.51.100.1]:25 F=<a@example.org> rejected RCPT <b@example.net>: relay not permitted\n' >"$tmp/mainlog"
loader/spamhints-load --maillog exim -d "dbname=${db}_utf8" --year 2007 --timezone UTC "$tmp/mainlog" >"$tmp/out" 2>"$tmp/err"
ok $? "there a mail log with a Cyrillic HELO loads"
[ -s "$tmp/err" ] && sed 's/^/#   /' "$tmp/err"
is "$(psql -X -d ${db}_utf8 -Atc "SELECT helo FROM spamhints.mail_event")" "привет.example" "and keeps the HELO as it was"
dropdb ${db}_utf8
tap_done
