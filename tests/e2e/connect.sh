#!/usr/bin/env bash
# tests/e2e/connect.sh: the loader takes psql's connection options.
#   - -h (the socket directory), -p and -U with no PG* variables set, for
#     captures and mail logs; -p and -h win over PGPORT and PGHOST;
#   - -d as a conninfo string or URI together with -h: the loader connects
#     where psql connects with the same arguments (psql is the truth);
#   - a role with a password (a scram-sha-256 line in pg_hba.conf): -w fails
#     with a clear message and no prompt; no terminal, no prompt and a hint;
#     on a terminal (a pty) the loader asks "Password for user ...:" without
#     echo and loads; -W asks first; a wrong password fails; PGPASSWORD needs
#     no prompt.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
source tests/lib/tap.sh
LOADER=${SPAMHINTS_LOADER:-$ROOT/loader/spamhints-load}
PG_TMPDIR=${PG_TMPDIR:-${PGHOST:-}}
SOCK=$PGHOST PORT=${PGPORT:-5432}
tmp=$(mktemp -d); chmod 755 "$tmp"
db=spamhints_e2e_connect
HBA="$PG_TMPDIR/data/pg_hba.conf"
cleanup() {
  [ -f "$tmp/pg_hba.orig" ] && cp "$tmp/pg_hba.orig" "$HBA" && psql -qXAt -c 'SELECT pg_reload_conf()' >/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
q() { psql -X -d $db -Atc "$1"; }
PGOPTIONS="-c client_min_messages=warning" psql -qX -d $db -c "DROP ROLE IF EXISTS sh_conn_loader; DROP ROLE IF EXISTS sh_conn_nobody; DROP ROLE IF EXISTS sh_conn_pw;
  CREATE ROLE sh_conn_loader LOGIN IN ROLE spamhints_loader;
  CREATE ROLE sh_conn_nobody LOGIN;
  CREATE ROLE sh_conn_pw LOGIN PASSWORD 'c0rrect horse' IN ROLE spamhints_loader" >/dev/null || exit 1
GEN=tests/gen/spamhints-gen
for i in 1 2 3 4 5 6 7 8; do
  $GEN --seed $((40 + i)) --smtp 50 --other 20 -o "$tmp/c$i.pcap" -t "$tmp/truth$i" >/dev/null || exit 1
done
LOG=tests/data/maillog/exim-mainlog

# no PG* variable: only the options say where
noenv() { env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE -u PGPASSWORD "$@"; }
run() { "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; echo $?; }
loads() { q "SELECT count(*) FROM spamhints.load"; }

# --- -h, -p, -U ------------------------------------------------------------------
is "$(run noenv "$LOADER" -h "$SOCK" -p "$PORT" -U sh_conn_loader -d $db --no-progress "$tmp/c1.pcap")" 0 \
   "-h SOCKETDIR -p PORT -U ROLE -d DB, no PG* variables: loads"
is "$(q "SELECT count(*) FROM spamhints.load WHERE file_name = '$tmp/c1.pcap'")" 1 "into the cluster -h and -p name"
is "$(run noenv "$LOADER" --db-host="$SOCK" --port="$PORT" --username=sh_conn_loader --dbname=$db \
        --maillog=exim --timezone UTC --year 2007 "$LOG")" 0 "the long forms, with --maillog: loads"
is "$(q "SELECT count(*) FROM spamhints.maillog_load WHERE file_name = '$LOG'")" 1 "the mail log is in the cluster"
is "$(run noenv "$LOADER" -h "$SOCK" -p "$PORT" -U sh_conn_nobody -d $db "$tmp/c2.pcap")" 3 \
   "-U a role that may not load: exit 3"
grep -q 'GRANT spamhints_loader TO sh_conn_nobody' "$tmp/err"; ok $? "the hint names the role -U gave: $(grep hint "$tmp/err" | cut -c1-120)"
is "$(PGPORT=1 PGHOST=/nonexistent run "$LOADER" -h "$SOCK" -p "$PORT" -d $db "$tmp/c2.pcap")" 0 \
   "-h and -p win over PGHOST and PGPORT"
is "$(run noenv "$LOADER" -h "$SOCK" -p 1 -U postgres -d $db "$tmp/c3.pcap")" 3 "-p a port with no server: exit 3"
grep -q "cannot connect.*$SOCK/.s.PGSQL.1\"" "$tmp/err"; ok $? "and the message names the socket of -h and -p: $(head -1 "$tmp/err" | cut -c1-120)"
is "$(run "$LOADER" -h "$SOCK" -p "$PORT" "$tmp/c3.pcap" -x)" 1 "an unknown short option still: exit 1"

# --- -d as a conninfo string or URI, with -h: as psql combines them -------------------
combo() {   # the loader's and psql's exit status (0 or not) for the same connection options
  local f=$1; shift
  noenv "$LOADER" "$@" -U postgres "$f" >"$tmp/out" 2>"$tmp/err" </dev/null; local l=$?
  noenv psql -X -At -U postgres "$@" -c 'SELECT 1' >/dev/null 2>&1 </dev/null; local p=$?
  echo "loader=$([ $l -eq 0 ] && echo ok || echo failed) psql=$([ $p -eq 0 ] && echo ok || echo failed)"
}
is "$(combo "$tmp/c4.pcap" -h /nonexistent -p "$PORT" -d "host=$SOCK dbname=$db")" "loader=ok psql=ok" \
   "-h elsewhere with -d 'host=SOCK dbname=DB': the conninfo's host wins, as in psql"
is "$(combo "$tmp/c5.pcap" -h "$SOCK" -p "$PORT" -d "host=/nonexistent dbname=$db")" "loader=failed psql=failed" \
   "-h SOCK with -d 'host=/nonexistent ...': fails, as psql does"
is "$(combo "$tmp/c5.pcap" -h "$SOCK" -p 1 -d "postgresql:///$db?port=$PORT")" "loader=ok psql=ok" \
   "-p 1 with a URI that gives the port: the URI's port wins, as in psql"
is "$(combo "$tmp/c5.pcap" -h "$SOCK" -p "$PORT" -d "postgresql:///$db")" "loader=ok psql=ok" \
   "a URI without host or port: -h and -p fill them in, as in psql"
is "$(q "SELECT count(*) FROM spamhints.load WHERE file_name IN ('$tmp/c4.pcap', '$tmp/c5.pcap')")" 2 \
   "the loads that connected are there"

# --- a role with a password --------------------------------------------------------------
cp "$HBA" "$tmp/pg_hba.orig"
{ echo "local all sh_conn_pw scram-sha-256"; cat "$tmp/pg_hba.orig"; } >"$HBA"
psql -qXAt -c 'SELECT pg_reload_conf()' >/dev/null
sleep 0.5
noenv psql -X -w -h "$SOCK" -p "$PORT" -U sh_conn_pw -d $db -c 'SELECT 1' >/dev/null 2>&1
is "$?" 2 "setup: psql -w as sh_conn_pw fails (the server asks for a password)"

before=$(loads)
is "$(run noenv timeout 20 "$LOADER" -w -h "$SOCK" -p "$PORT" -U sh_conn_pw -d $db "$tmp/c6.pcap")" 3 \
   "-w, the server asks for a password: exit 3"
grep -q 'no password supplied' "$tmp/err" && grep -q 'hint: the server asks for a password and -w says not to ask' "$tmp/err"
ok $? "with libpq's reason and a hint: $(grep hint "$tmp/err" | cut -c1-110)"
is "$(grep -c . "$tmp/err")" 2 "two lines: the error and the hint (no prompt)"
is "$(run noenv timeout 20 "$LOADER" -h "$SOCK" -p "$PORT" -U sh_conn_pw -d $db "$tmp/c6.pcap")" 3 \
   "no -w, standard input not a terminal: no prompt, exit 3 (not a hang)"
grep -q 'standard input is not a terminal.*-W' "$tmp/err"; ok $? "the hint says -W asks: $(grep hint "$tmp/err" | cut -c1-110)"
is "$(loads)" "$before" "nothing loaded without the password"

# on a terminal: asked, without echo
pw='c0rrect horse'
noenv python3 tests/e2e/pty_answer.py "Password for user sh_conn_pw: " "$pw" "$tmp/tty" -- \
  "$LOADER" -h "$SOCK" -p "$PORT" -U sh_conn_pw -d $db --no-progress "$tmp/c6.pcap"
is "$?" 0 "on a terminal: asks for the password, then loads"
grep -q "Password for user sh_conn_pw: " "$tmp/tty"; ok $? "the prompt names the role, as psql's does"
grep -q "c0rrect" "$tmp/tty"; is "$?" 1 "the password is not echoed"
grep -q "c6.pcap: load [0-9]*:" "$tmp/tty"; ok $? "the summary line follows: $(grep -a 'load [0-9]' "$tmp/tty" | cut -c1-80)"
is "$(q "SELECT count(*) FROM spamhints.load WHERE file_name = '$tmp/c6.pcap'")" 1 "the load is there"

# -W: asked before connecting (also when the files come on standard input)
noenv python3 tests/e2e/pty_answer.py "Password for user sh_conn_pw: " "$pw" "$tmp/tty" -- \
  "$LOADER" -W -h "$SOCK" -p "$PORT" -U sh_conn_pw -d $db --no-progress \
  --maillog=postfix --timezone UTC --year 2007 tests/data/maillog/postfix-maillog
is "$?" 0 "-W on a terminal, a mail log: asked, loads"
noenv python3 tests/e2e/pty_answer.py "Password for user sh_conn_pw: " "wrong" "$tmp/tty" -- \
  "$LOADER" -W -h "$SOCK" -p "$PORT" -U sh_conn_pw -d $db --no-progress "$tmp/c7.pcap"
is "$?" 3 "-W and a wrong password: exit 3"
grep -q 'password authentication failed for user "sh_conn_pw"' "$tmp/tty"; ok $? "the server's reason is said"
is "$(q "SELECT count(*) FROM spamhints.load WHERE file_name = '$tmp/c7.pcap'")" 0 "nothing loaded"

# the password from the environment: no prompt, even with -w
is "$(run noenv env PGPASSWORD="$pw" timeout 20 "$LOADER" -w -h "$SOCK" -p "$PORT" -U sh_conn_pw -d $db "$tmp/c8.pcap")" 0 \
   "PGPASSWORD with -w: loads without asking"
tap_done
