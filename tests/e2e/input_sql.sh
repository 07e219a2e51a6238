#!/usr/bin/env bash
# tests/e2e/input_sql.sh: the types' input functions inside the server, with
# randomized input. The fuzz targets (tests/fuzz) run the parsers themselves
# outside the server; this drives the server's side of them: the text input
# (census_in, hist24_in, smtp_role_in) and the binary input through COPY
# (FORMAT binary), which calls census_recv, hist24_recv and smtp_role_recv on
# the bytes of a field, with seeded random mutations of valid values. Every
# input must be either accepted, and then print and read back the same, or
# refused with an input error (22P02 bad text, 22P03 bad binary, 22003 out of
# range), never another error, and the server must stay up.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
db=spamhints_e2e_input
seed=${INPUT_SEED:-0.42}
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
echo "# seed $seed (INPUT_SEED=$seed repeats this run)"

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
psql -X -d $db -v ON_ERROR_STOP=1 -qAt >"$tmp/out" 2>"$tmp/err" <<EOF
SET client_min_messages = warning;
SELECT setseed($seed);

-- one random change to a string: a byte changed, dropped, inserted or doubled, or the text cut
CREATE FUNCTION pg_temp.mutate(s text) RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE
  n int := length(s);
  i int := 1 + floor(random() * greatest(n, 1))::int;
  c text := substr('{}:,=-0123456789abcdef.xX /client server both 9223372036854775807 ::1 ', 1 + floor(random() * 72)::int, 1 + floor(random() * 3)::int);
BEGIN
  CASE floor(random() * 5)::int
    WHEN 0 THEN RETURN overlay(s placing c from i for 1);
    WHEN 1 THEN RETURN overlay(s placing '' from i for 1 + floor(random() * 4)::int);
    WHEN 2 THEN RETURN overlay(s placing c from i for 0);
    WHEN 3 THEN RETURN s || substr(s, i);
    ELSE RETURN substr(s, 1, i);
  END CASE;
END \$\$;

CREATE FUNCTION pg_temp.mutate(b bytea) RETURNS bytea LANGUAGE plpgsql AS \$\$
DECLARE
  n int := length(b);
  i int := floor(random() * greatest(n, 1))::int;
BEGIN
  IF n = 0 THEN RETURN '\x01'::bytea; END IF;
  CASE floor(random() * 5)::int
    WHEN 0 THEN RETURN set_byte(b, i, floor(random() * 256)::int);
    WHEN 1 THEN RETURN substr(b, 1, i);
    WHEN 2 THEN RETURN b || substr(b, i + 1);
    WHEN 3 THEN RETURN overlay(b placing '\xffffffff'::bytea from i + 1 for 4);
    ELSE RETURN overlay(b placing '\x00000001'::bytea from i + 1 for 4);
  END CASE;
END \$\$;

CREATE TABLE input_log (kind text, accepted bool, sqlstate text, input text);

-- text: mutate seeds a few times each, cast, print, cast back
DO \$\$
DECLARE
  seeds text[][] := ARRAY[
    ['spamhints.census', '{192.0.2.1=client,192.0.2.2=both,2001:db8::25=server}'],
    ['spamhints.census', ' { 10.0.0.2 = client , 10.0.0.1=server,2001:DB8::1=both } '],
    ['spamhints.hist24', '{0:12,1:0,23:5}'],
    ['spamhints.hist24', '{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24}'],
    ['spamhints.smtp_role', 'client'],
    ['spamhints.smtp_role', 'BOTH']];
  s text;
  printed text;
  again text;
  st text;
BEGIN
  FOR k IN 1 .. 4000 LOOP
    s := seeds[1 + (k % 6)][2];
    FOR m IN 0 .. floor(random() * 4)::int LOOP
      s := pg_temp.mutate(s);
    END LOOP;
    BEGIN
      EXECUTE format('SELECT %L::%s::text', s, seeds[1 + (k % 6)][1]) INTO printed;
      EXECUTE format('SELECT %L::%s::text', printed, seeds[1 + (k % 6)][1]) INTO again;
      IF again IS DISTINCT FROM printed THEN
        RAISE EXCEPTION 'round trip of % changed % into %', seeds[1 + (k % 6)][1], printed, again;
      END IF;
      INSERT INTO input_log VALUES (seeds[1 + (k % 6)][1] || ' text', true, NULL, s);
    EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
      GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
      INSERT INTO input_log VALUES (seeds[1 + (k % 6)][1] || ' text', false, st, s);
    END;
  END LOOP;
END \$\$;

-- binary: a bytea written to a binary COPY file is read back as the type
CREATE TABLE crafted_in (b bytea);
CREATE TABLE as_census (v spamhints.census);
CREATE TABLE as_hist24 (v spamhints.hist24);
CREATE TABLE as_role (v spamhints.smtp_role);
DO \$\$
DECLARE
  f text := current_setting('data_directory') || '/spamhints-input-' || pg_backend_pid() || '.bin';
  seeds bytea[] := ARRAY[
    spamhints.census_send('{192.0.2.1=client,192.0.2.2=both,::1=server}'),
    '\x01000000020000000100000000000000000000000000000000c0000202c0000201c0000202'::bytea,
    spamhints.hist24_send('{0:1,23:-2}'),
    '\x02'::bytea];
  tables text[] := ARRAY['as_census', 'as_census', 'as_hist24', 'as_role'];
  b bytea;
  st text;
  printed text;
  again text;
BEGIN
  FOR k IN 1 .. 600 LOOP
    b := seeds[1 + (k % 4)];
    FOR m IN 0 .. floor(random() * 3)::int LOOP
      b := pg_temp.mutate(b);
    END LOOP;
    TRUNCATE crafted_in;
    INSERT INTO crafted_in VALUES (b);
    EXECUTE format('COPY crafted_in TO %L (FORMAT binary)', f);
    EXECUTE format('TRUNCATE %I', tables[1 + (k % 4)]);
    BEGIN
      EXECUTE format('COPY %I FROM %L (FORMAT binary)', tables[1 + (k % 4)], f);
      EXECUTE format('SELECT v::text FROM %I', tables[1 + (k % 4)]) INTO printed;
      EXECUTE format('SELECT v::text::%s::text FROM %I',
                     CASE tables[1 + (k % 4)] WHEN 'as_census' THEN 'spamhints.census'
                          WHEN 'as_hist24' THEN 'spamhints.hist24' ELSE 'spamhints.smtp_role' END,
                     tables[1 + (k % 4)]) INTO again;
      IF again IS DISTINCT FROM printed THEN
        RAISE EXCEPTION 'binary value % does not read back as text', printed;
      END IF;
      INSERT INTO input_log VALUES (tables[1 + (k % 4)] || ' binary', true, NULL, b::text);
    EXCEPTION WHEN invalid_binary_representation THEN
      GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
      INSERT INTO input_log VALUES (tables[1 + (k % 4)] || ' binary', false, st, b::text);
    END;
  END LOOP;
  EXECUTE format('COPY (SELECT) TO PROGRAM %L', 'cat >/dev/null; rm -f ' || f);
END \$\$;

SELECT kind || ': ' || count(*) || ' inputs, ' || count(*) FILTER (WHERE accepted) || ' accepted, '
       || count(*) FILTER (WHERE NOT accepted) || ' refused ('
       || coalesce(string_agg(DISTINCT sqlstate, ' '), 'none') || ')'
FROM input_log GROUP BY kind ORDER BY kind;
EOF
rc=$?
ok $rc "randomized text and binary input: every input accepted (and round-tripped) or refused with an input error"
[ $rc -eq 0 ] || sed 's/^/#   /' "$tmp/err" | head -20
sed 's/^/# /' "$tmp/out"
for kind in "spamhints.census text" "spamhints.hist24 text" "spamhints.smtp_role text" \
            "as_census binary" "as_hist24 binary" "as_role binary"; do
  line=$(grep "^$kind:" "$tmp/out")
  [[ "$line" =~ ([0-9]+)\ accepted,\ ([0-9]+)\ refused ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] && [ "${BASH_REMATCH[2]}" -gt 0 ]
  ok $? "$kind: some inputs accepted, some refused (the mutations reach both sides)"
done
is "$(psql -X -d $db -Atc "SELECT 'up'")" up "the server is still up"
tap_done
