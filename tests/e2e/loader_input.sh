#!/usr/bin/env bash
# tests/e2e/loader_input.sh: what the loader reads, and what it says of it.
#   - a gzip'd capture loads as the capture itself: the same rows, row for
#     row; the stored SHA-256 and file_bytes are those of zcat FILE |
#     sha256sum and wc -c; the plain file after it (and the gzip from standard
#     input) adds nothing; a gzip of two members (cat a.gz b.gz) is the same
#     capture again; corrupt, truncated and trailing-garbage gzip fail with
#     exit 2 and keep nothing, from a file and from standard input;
#   - a gzip'd mail log likewise (events row for row, hash, members, corrupt);
#   - an empty file, empty standard input, an empty gzip, a directory, a
#     missing and an unreadable file: exit 2 and one line,
#     "spamhints-load: error: PATH: REASON", not libpcap's wording, in both
#     modes;
#   - one line per file: the shared public captures loaded with an ASN
#     database print exactly one line each, the enrichment on it only when
#     there were addresses to enrich.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
source tests/lib/tap.sh
LOADER=${SPAMHINTS_LOADER:-$ROOT/loader/spamhints-load}
SHARED=${SPAMHINTS_SHARED:-$(cd .. && pwd)/shared}/data
tmp=$(mktemp -d); chmod 755 "$tmp"; trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_input
for d in $db ${db}_plain ${db}_bad; do
  dropdb --if-exists $d 2>/dev/null; createdb $d && psql -qX -d $d -c 'CREATE EXTENSION spamhints' || exit 1
done
q() { psql -X -d "${2:-$db}" -Atc "$1"; }
run() { "$LOADER" "$@" >"$tmp/out" 2>"$tmp/err"; echo $?; }
sha() { zcat -f "$1" | sha256sum | cut -d' ' -f1; }

tests/gen/spamhints-gen --seed 7 --smtp 4000 --other 2000 --agents 3 -o "$tmp/cap.pcap" -t "$tmp/truth" >/dev/null || exit 1
gzip -9 -c "$tmp/cap.pcap" >"$tmp/cap.pcap.gz"
smtp_rows=$(awk '$1 == "smtp_rows" { print $2 }' "$tmp/truth")

# every column of every sample but the load id, in one order
samples() {
  q "COPY (SELECT (to_jsonb(s) - 'load_id')::text AS r FROM spamhints.smtp_sample s ORDER BY r) TO STDOUT" "$1"
}

# --- a gzip'd capture ---------------------------------------------------------------------
is "$(run -d $db --no-progress "$tmp/cap.pcap.gz")" 0 "a gzip'd capture loads"
grep -q "cap.pcap.gz: load 1: .* $smtp_rows SMTP rows" "$tmp/out"; ok $? "with the generator's SMTP rows: $(cut -c1-100 "$tmp/out")"
is "$(run -d ${db}_plain --no-progress "$tmp/cap.pcap")" 0 "the same capture, not gzip'd, into another database"
samples $db >"$tmp/gz.rows"; samples ${db}_plain >"$tmp/plain.rows"
is "$(wc -l <"$tmp/gz.rows")" "$smtp_rows" "the gzip'd load has every SMTP row"
cmp -s "$tmp/gz.rows" "$tmp/plain.rows"; ok $? "row for row (every column) the rows of the plain capture"
is "$(q "SELECT sha256 || ' ' || file_bytes FROM spamhints.load")" "$(sha "$tmp/cap.pcap.gz") $(zcat "$tmp/cap.pcap.gz" | wc -c)" \
   "stored SHA-256 and file_bytes: of the decompressed bytes (zcat | sha256sum, wc -c)"
is "$(q "SELECT sha256 FROM spamhints.load" ${db}_plain)" "$(q "SELECT sha256 FROM spamhints.load")" \
   "the same hash as the plain capture's load"
is "$(run -d $db --no-progress "$tmp/cap.pcap")" 0 "the plain capture after its gzip: exit 0"
grep -q 'already loaded as load 1 ("'"$tmp"'/cap.pcap.gz"' "$tmp/out"; ok $? "says it was loaded as the gzip: $(cut -c1-110 "$tmp/out")"
is "$(run -d $db --no-progress - <"$tmp/cap.pcap.gz")" 0 "the gzip from standard input: exit 0"
grep -q 'already loaded as load 1' "$tmp/out"; ok $? "and already loaded"
is "$(run -d ${db}_plain --no-progress "$tmp/cap.pcap.gz")" 0 "the gzip after the plain capture: exit 0"
grep -q 'already loaded as load 1' "$tmp/out"; ok $? "already loaded: the hash looked up first is the decompressed one"
is "$(q "SELECT count(*) || ' ' || sum(smtp_rows) FROM spamhints.load")" "1 $smtp_rows" "still one load"
is "$(run --dry-run - <"$tmp/cap.pcap.gz")" 0 "--dry-run of the gzip from standard input"
grep -q " $smtp_rows SMTP rows" "$tmp/out"; ok $? "decodes every SMTP row"

# two members: cat a.gz b.gz, split inside a record
size=$(stat -c %s "$tmp/cap.pcap")
head -c $((size / 3)) "$tmp/cap.pcap" | gzip -c >"$tmp/two.gz"
tail -c +$((size / 3 + 1)) "$tmp/cap.pcap" | gzip -1 -c >>"$tmp/two.gz"
is "$(zcat "$tmp/two.gz" | cmp - "$tmp/cap.pcap" && echo same)" same \
   "setup: a gzip of two members that zcat reads as the capture"
is "$(run -d $db --no-progress "$tmp/two.gz")" 0 "two members: exit 0"
grep -q 'already loaded as load 1' "$tmp/out"; ok $? "the same capture (same hash): $(cut -c1-100 "$tmp/out")"
is "$(run --dry-run "$tmp/two.gz")" 0 "two members, --dry-run"
grep -q " $smtp_rows SMTP rows" "$tmp/out"; ok $? "every SMTP row read, across the members"

# gzip that cannot be read to its end: nothing kept, from a file or standard input
gz_size=$(stat -c %s "$tmp/cap.pcap.gz")
python3 - "$tmp/cap.pcap.gz" "$tmp/corrupt.gz" <<'EOF'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
for i in range(len(d) // 2, len(d) // 2 + 64):
    d[i] ^= 0x5a
open(sys.argv[2], "wb").write(d)
EOF
head -c $((gz_size * 2 / 3)) "$tmp/cap.pcap.gz" >"$tmp/truncated.gz"
{ cat "$tmp/cap.pcap.gz"; printf 'not gzip'; } >"$tmp/garbage.gz"
for f in corrupt truncated garbage; do
  is "$(run -d ${db}_bad --no-progress "$tmp/$f.gz")" 2 "$f gzip: exit 2"
  is "$(grep -c . "$tmp/err")" 1 "$f gzip: one line: $(head -1 "$tmp/err" | cut -c1-150)"
  grep -q "^spamhints-load: error: $tmp/$f.gz: .*gzip" "$tmp/err"; ok $? "$f gzip: the line names the file and says gzip"
  is "$(run -d ${db}_bad --no-progress - <"$tmp/$f.gz")" 2 "$f gzip from standard input: exit 2"
  grep -q "gzip.*nothing of it is loaded" "$tmp/err"; ok $? "$f gzip from standard input: nothing loaded: $(head -1 "$tmp/err" | cut -c1-150)"
done
is "$(q "SELECT count(*) FROM spamhints.load" ${db}_bad) $(q "SELECT count(*) FROM spamhints.smtp_sample" ${db}_bad)" "0 0" \
   "nothing kept of any of them: no load row, no sample"

# --- a gzip'd mail log ------------------------------------------------------------------
ML=(--maillog=exim --timezone UTC --year 2007)
LOG=tests/data/maillog/exim-mainlog
gzip -c "$LOG" >"$tmp/mainlog.gz"
events() {
  q "COPY (SELECT (to_jsonb(e) - 'maillog_load_id')::text AS r FROM spamhints.mail_event e ORDER BY r) TO STDOUT" "$1"
}
is "$(run -d $db "${ML[@]}" "$tmp/mainlog.gz")" 0 "a gzip'd mail log loads"
grep -q 'mail log 1: exim, 40 lines, 11 events, 6 malformed' "$tmp/out"; ok $? "with the plain log's counts: $(cut -c1-100 "$tmp/out")"
is "$(run -d ${db}_plain "${ML[@]}" "$LOG")" 0 "the plain log, into another database"
events $db >"$tmp/gz.events"; events ${db}_plain >"$tmp/plain.events"
is "$(wc -l <"$tmp/gz.events")" 11 "eleven events"
cmp -s "$tmp/gz.events" "$tmp/plain.events"; ok $? "row for row the plain log's events"
is "$(q "SELECT sha256 || ' ' || file_bytes FROM spamhints.maillog_load")" "$(sha "$LOG") $(wc -c <"$LOG")" \
   "stored SHA-256 and file_bytes: the log's own (zcat | sha256sum)"
is "$(run -d $db "${ML[@]}" "$LOG")" 0 "the plain log after its gzip: exit 0"
grep -q 'already loaded as mail log 1' "$tmp/out"; ok $? "already loaded"
is "$(run -d $db "${ML[@]}" - <"$tmp/mainlog.gz")" 0 "the gzip from standard input"
grep -q 'already loaded as mail log 1' "$tmp/out"; ok $? "already loaded"
{ head -c 1000 "$LOG" | gzip -c; tail -c +1001 "$LOG" | gzip -c; } >"$tmp/mainlog2.gz"
is "$(run -d $db "${ML[@]}" "$tmp/mainlog2.gz")" 0 "a mail log of two gzip members"
grep -q 'already loaded as mail log 1' "$tmp/out"; ok $? "is the same log"
head -c 300 "$tmp/mainlog.gz" >"$tmp/mainlog-cut.gz"
is "$(run -d ${db}_bad "${ML[@]}" "$tmp/mainlog-cut.gz")" 2 "a truncated gzip'd mail log: exit 2"
is "$(run -d ${db}_bad "${ML[@]}" - <"$tmp/mainlog-cut.gz")" 2 "the same from standard input: exit 2"
is "$(q "SELECT count(*) FROM spamhints.maillog_load" ${db}_bad) $(q "SELECT count(*) FROM spamhints.mail_event" ${db}_bad)" "0 0" \
   "nothing kept"

# --- files that cannot be loaded: one line each ------------------------------------------------
: >"$tmp/empty"
gzip -c </dev/null >"$tmp/empty.gz"
mkdir "$tmp/adir"
cp "$tmp/cap.pcap" "$tmp/unreadable"; chmod 000 "$tmp/unreadable"
as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(runuser -u nobody --)
one_line() {   # NAME EXPECTED-REASON-REGEX ARGS...: exit 2, exactly one line, as said
  local name=$1 want=$2 path=$3; shift 3
  local rc
  "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
  is "$rc" 2 "$name: exit 2"
  is "$(grep -c . "$tmp/err")" 1 "$name: one line: $(head -1 "$tmp/err")"
  grep -Eq "^spamhints-load: error: $path: $want\$" "$tmp/err"; ok $? "$name: \"spamhints-load: error: PATH: $want\""
  grep -Eqi 'truncated dump file|unknown file format|libpcap' "$tmp/err"; is $? 1 "$name: not libpcap's wording"
}
for mode in capture maillog; do
  m=(); [ $mode = maillog ] && m=("${ML[@]}")
  one_line "$mode, empty file" "empty file \(0 bytes\): nothing to load" "$tmp/empty" "$LOADER" -d $db "${m[@]}" "$tmp/empty"
  one_line "$mode, empty standard input" "empty: .*nothing to load" "-" "$LOADER" -d $db "${m[@]}" - </dev/null
  one_line "$mode, gzip of nothing" "empty: .*nothing to load" "$tmp/empty.gz" "$LOADER" -d $db "${m[@]}" "$tmp/empty.gz"
  one_line "$mode, a directory" "is a directory, not a file" "$tmp/adir" "$LOADER" -d $db "${m[@]}" "$tmp/adir"
  one_line "$mode, a missing file" "cannot open: No such file or directory" "$tmp/missing" "$LOADER" -d $db "${m[@]}" "$tmp/missing"
  if [ ${#as_user[@]} -gt 0 ] || [ ! -r "$tmp/unreadable" ]; then
    one_line "$mode, an unreadable file" "cannot open: Permission denied" "$tmp/unreadable" \
      "${as_user[@]}" "$LOADER" --dry-run "${m[@]}" "$tmp/unreadable"
  else
    skip "$mode, an unreadable file" "running as a user who can read a mode-000 file"
  fi
done
is "$(q "SELECT count(*) FROM spamhints.load") $(q "SELECT count(*) FROM spamhints.maillog_load")" "1 1" \
   "none of them added a load"

# --- one line per file ----------------------------------------------------------------------
ASN_DB=$SHARED/mmdb/GeoLite2-ASN-Test.mmdb
if [ -d "$SHARED/sflow" ] && [ -f "$ASN_DB" ]; then
  mapfile -t files < <(find "$SHARED/sflow" -name '*.pcap' -not -path '*/input/*' | sort)
  n=${#files[@]}
  SPAMHINTS_ASN_DB=$ASN_DB "$LOADER" -d ${db}_bad --no-progress "${files[@]}" >"$tmp/out" 2>"$tmp/err"
  ok $? "the $n shared captures load with an ASN database"
  is "$(wc -l <"$tmp/out")" "$n" "$n files: $n lines on standard output"
  bad=0
  for f in "${files[@]}"; do
    [ "$(grep -cF "spamhints-load: $f: " "$tmp/out")" -eq 1 ] || { bad=1; echo "# not one line: $f"; }
  done
  ok $bad "each file has exactly one line"
  grep -q ': 0 addresses' "$tmp/out"; is $? 1 "no line says \"0 addresses\""
  # the files with SMTP rows looked addresses up: they say so, on their own line
  with=$(q "SELECT count(*) FROM spamhints.load WHERE smtp_rows > 0" ${db}_bad)
  is "$(grep -c '; enriched from GeoLite2-ASN built [0-9-]*: [1-9][0-9]* addresses' "$tmp/out")" "$with" \
     "the $with files with SMTP rows carry the enrichment on their one line"
  is "$(grep -c . "$tmp/err")" "$(grep -c 'warning' "$tmp/err")" "standard error holds only warnings: $(grep -c . "$tmp/err") lines"
else
  skip "one line per shared capture" "no $SHARED/sflow or $ASN_DB on this machine"
fi
# --------------------------------------------------------------------------
# sFlow sent to another port: without --filter it loads as on 6343 (its
# payload starts as sFlow); a --filter that takes none of its frames loads
# it empty, every frame counted as frame_filtered, and the summary says so
# and how to load it
# --------------------------------------------------------------------------
tests/gen/spamhints-gen --seed 41 --smtp 40 --other 10 -o "$tmp/port.pcap" >/dev/null || exit 1
python3 - "$tmp/port.pcap" "$tmp/port9999.pcap" <<'PY'
import struct, sys
src = open(sys.argv[1], 'rb').read()
out = bytearray(src[:24]); i = 24
while i < len(src):
    incl = struct.unpack('<I', src[i + 8:i + 12])[0]
    rec = bytearray(src[i:i + 16 + incl]); f = 16
    ethertype = struct.unpack('>H', rec[f + 12:f + 14])[0]   # the generator's frames: Ethernet
    if ethertype == 0x0800 and rec[f + 23] == 17:           # IPv4 + UDP
        udp = f + 14 + (rec[f + 14] & 15) * 4
        for port in (udp, udp + 2):                          # either end at sFlow's port
            if struct.unpack('>H', rec[port:port + 2])[0] == 6343:
                struct.pack_into('>H', rec, port, 9999)
        struct.pack_into('>H', rec, udp + 6, 0)              # no UDP checksum
    elif ethertype == 0x86dd and rec[f + 20] == 17:         # IPv6 + UDP
        udp = f + 14 + 40
        for port in (udp, udp + 2):
            if struct.unpack('>H', rec[port:port + 2])[0] == 6343:
                csum = struct.unpack('>H', rec[udp + 6:udp + 8])[0]
                x = (~csum & 0xffff) + (~6343 & 0xffff) + 9999   # RFC 1624: HC' = ~(~HC + ~m + m')
                x = (x & 0xffff) + (x >> 16); x = (x & 0xffff) + (x >> 16)
                struct.pack_into('>H', rec, port, 9999)
                struct.pack_into('>H', rec, udp + 6, (~x & 0xffff) or 0xffff)
    out += rec; i += 16 + incl
open(sys.argv[2], 'wb').write(out)
PY
dropdb --if-exists ${db}_port 2>/dev/null; createdb ${db}_port && psql -qX -d ${db}_port -c 'CREATE EXTENSION spamhints'
dropdb --if-exists ${db}_port0 2>/dev/null; createdb ${db}_port0 && psql -qX -d ${db}_port0 -c 'CREATE EXTENSION spamhints'
# the same datagrams to port 6343, loaded with the default filter: the truth
$LOADER -d ${db}_port0 --no-progress "$tmp/port.pcap" >/dev/null 2>&1
want=$(q "SELECT smtp_rows || ' ' || datagrams FROM spamhints.load" ${db}_port0)
frames=$(tshark -r "$tmp/port9999.pcap" 2>/dev/null | wc -l)
sflow9999=$(tshark -r "$tmp/port9999.pcap" -d udp.port==9999,sflow -Y 'udp.port == 9999' 2>/dev/null | wc -l)
$LOADER -d ${db}_port --no-progress "$tmp/port9999.pcap" >"$tmp/out" 2>"$tmp/err"; rc=$?
is "$rc" 0 "a capture of sFlow to port 9999 loads (exit 0)"
got=$(q "SELECT smtp_rows || ' ' || datagrams FROM spamhints.load" ${db}_port)
ok $([ -n "$want" ] && [ "${want%% *}" -gt 0 ] && [ "$got" = "$want" ]; echo $?) \
   "without --filter its rows and datagrams load as the same datagrams to port 6343 give: $got ($want)"
grep -q "$sflow9999 frames taken as sFlow to a port other than 6343" "$tmp/out" "$tmp/err"
ok $? "the summary says $sflow9999 frames (tshark's UDP to 9999) were taken by their content"
is "$(q "SELECT frames - datagrams - malformed - coalesce((skipped->>'frame_filtered')::int, 0) FROM spamhints.load" ${db}_port)" 0 \
   "every frame is a datagram, malformed or frame_filtered ($frames frames)"
q "TRUNCATE spamhints.load CASCADE" ${db}_port >/dev/null
$LOADER -d ${db}_port --no-progress --filter 'udp port 9998' "$tmp/port9999.pcap" >"$tmp/out" 2>"$tmp/err"; rc=$?
is "$rc" 0 "with a --filter that takes none of its frames it loads (exit 0), empty"
is "$(q "SELECT datagrams || ' ' || skipped FROM spamhints.load" ${db}_port)" "0 {\"frame_filtered\": $frames}" \
   "its $frames frames are counted in load.skipped as frame_filtered"
grep -q "no sFlow datagram in its $frames frames (the filter \"udp port 9998\" took 0 of them, the other $frames are skipped as frame_filtered)" "$tmp/out" "$tmp/err"
ok $? "the summary says no sFlow datagram is in its $frames frames, with the filter: $(cat "$tmp/out" "$tmp/err" | tr '\n' ' ' | head -c 400)"
grep -q -- "--filter" "$tmp/out" "$tmp/err"; ok $? "and names --filter"
id=$(q "SELECT load_id FROM spamhints.load" ${db}_port)
grep -q "DELETE FROM spamhints.load WHERE load_id = $id" "$tmp/out" "$tmp/err"; ok $? "and how to load it again (its load $id deleted first)"
q "DELETE FROM spamhints.load WHERE load_id = $id" ${db}_port >/dev/null
$LOADER -d ${db}_port --no-progress --filter 'udp port 9999' "$tmp/port9999.pcap" >"$tmp/out" 2>"$tmp/err"
got=$(q "SELECT smtp_rows || ' ' || datagrams FROM spamhints.load" ${db}_port)
ok $([ -n "$want" ] && [ "$got" = "$want" ]; echo $?) \
   "with --filter 'udp port 9999' its rows load, as the same datagrams to port 6343 give: $got ($want)"
dropdb ${db}_port0
grep -q 'no sFlow datagram in' "$tmp/out" "$tmp/err"; is $? 1 "a capture the filter takes says nothing of it"
dropdb ${db}_port
tap_done
