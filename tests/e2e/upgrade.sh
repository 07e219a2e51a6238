#!/usr/bin/env bash
# tests/e2e/upgrade.sh: every released version updates to the newest one.
# For each frozen install script sql/spamhints--V.sql, with the data that
# release V stored in tests/data/upgrade/V.sql (tests/lib/upgrade_fixture.sh
# says how it was made): install V, restore V's data, ALTER EXTENSION
# spamhints UPDATE. A fresh install of the newest version with the same data
# restored must then hold the same objects (definitions, privileges,
# comments: tests/lib/extension_objects.sql) and give the same answer in
# every view; the newest loader then loads the same capture and mail log
# into both, and their views still agree.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
newest=$(sed -n "s/^default_version = '\(.*\)'/\1/p" spamhints.control)
q() { PGTZ=UTC psql -X -v ON_ERROR_STOP=1 -d "$1" -Atc "$2"; }

# a view's rows as one digest (report_queue's as_of is the time of its refresh)
digest() {
  q "$1" "SELECT count(*) || ' ' || coalesce(md5(string_agg(r, E'\n' ORDER BY r)), '-')
          FROM (SELECT (to_jsonb(t) - 'as_of')::text AS r FROM spamhints.$2 t) s"
}
views_agree() {
  local up=$1 fresh=$2 what=$3 v
  for v in $(q "$fresh" "SELECT relname FROM pg_class WHERE relnamespace = 'spamhints'::regnamespace AND relkind = 'm' ORDER BY 1"); do
    q "$up" "REFRESH MATERIALIZED VIEW spamhints.$v" >/dev/null && q "$fresh" "REFRESH MATERIALIZED VIEW spamhints.$v" >/dev/null
  done
  for v in $(q "$fresh" "SELECT relname FROM pg_class WHERE relnamespace = 'spamhints'::regnamespace AND relkind IN ('v', 'm') ORDER BY 1"); do
    is "$(digest "$up" "$v" 2>&1)" "$(digest "$fresh" "$v" 2>&1)" "$what: $v answers as in a fresh $newest ($(digest "$fresh" "$v" | cut -d' ' -f1) rows)"
  done
}

versions=$(ls sql/spamhints--*.sql | sed -n 's#^sql/spamhints--\([^-]*\)\.sql$#\1#p' | grep -vx "$newest")
[ -n "$versions" ] || { ok 0 "# SKIP no release before $newest"; tap_done; exit; }
for v in $versions; do
  data=tests/data/upgrade/$v.sql
  [ -f "$data" ]; ok $? "$v: its data is in $data"
  up=spamhints_e2e_up_${v//./_} fresh=spamhints_e2e_fresh_${v//./_}
  for d in $up $fresh; do dropdb --if-exists $d 2>/dev/null; createdb $d || exit 1; done

  q $up "CREATE EXTENSION spamhints VERSION '$v'" >/dev/null 2>"$tmp/err"
  ok $? "$v: installs from its frozen script with today's module $(head -1 "$tmp/err")"
  psql -X -q -v ON_ERROR_STOP=1 -d $up -f "$data" >/dev/null 2>"$tmp/err"
  ok $? "$v: its data restores $(head -1 "$tmp/err")"
  q $up "ALTER EXTENSION spamhints UPDATE" >/dev/null 2>"$tmp/err"
  ok $? "$v: ALTER EXTENSION spamhints UPDATE $(head -1 "$tmp/err")"
  is "$(q $up "SELECT extversion FROM pg_extension WHERE extname = 'spamhints'")" "$newest" "$v: is then $newest"

  q $fresh "CREATE EXTENSION spamhints" >/dev/null
  psql -X -q -v ON_ERROR_STOP=1 -d $fresh -f "$data" >/dev/null 2>"$tmp/err"
  ok $? "$v: its data restores into a fresh $newest $(head -1 "$tmp/err")"
  # a data-only dump restores without triggers: the samples without their
  # rollups, which the update makes from the samples; here by hand
  q $fresh "SELECT spamhints.address_day_rebuild()" >/dev/null 2>"$tmp/err"
  ok $? "$v: address_day_rebuild() makes the rollups of the restored samples $(head -1 "$tmp/err")"
  is "$(q $up "SELECT count(*) > 0 FROM spamhints.address_day")" t "$v: the update made the rollups of its samples"

  psql -X -v ON_ERROR_STOP=1 -d $up -f tests/lib/extension_objects.sql >"$tmp/up.objects"
  psql -X -v ON_ERROR_STOP=1 -d $fresh -f tests/lib/extension_objects.sql >"$tmp/fresh.objects"
  diff -u "$tmp/fresh.objects" "$tmp/up.objects" >"$tmp/diff"
  ok $? "$v: updated, every object is as a fresh $newest makes it ($(grep -cE '^(function|relation|type|operator|cast|other) ' "$tmp/fresh.objects") objects: definitions, columns in order, constraints, indexes, triggers, privileges, comments)"
  sed 's/^/# /' "$tmp/diff" | head -30

  views_agree $up $fresh "$v data"

  # the newest loader into both: a capture and a mail log
  tests/gen/spamhints-gen --seed 43 --smtp 1500 --other 500 --agents 2 --start 1174003200 -o "$tmp/c.pcap" -t "$tmp/c.truth" >/dev/null
  cp tests/data/maillog/exim-mainlog "$tmp/exim-again"; echo "2007-03-17 10:00:00 1HxYzA-0001aB-Cd Completed" >>"$tmp/exim-again"
  for d in $up $fresh; do
    (cd "$tmp" && "$OLDPWD/loader/spamhints-load" -q -d $d c.pcap && \
      "$OLDPWD/loader/spamhints-load" -q -d $d --maillog exim --host mx1 --timezone Europe/London exim-again) >"$tmp/out" 2>&1
    ok $? "$v: the $newest loader loads into the $([ $d = $up ] && echo updated || echo fresh) database $(head -1 "$tmp/out")"
    # when a load ran is not data: the same in both
    q $d "UPDATE spamhints.load SET started_at = '2000-01-01', finished_at = '2000-01-01' WHERE file_name = 'c.pcap';
          UPDATE spamhints.maillog_load SET started_at = '2000-01-01', finished_at = '2000-01-01' WHERE file_name = 'exim-again'" >/dev/null
  done
  views_agree $up $fresh "$v data and new loads"
  for d in $up $fresh; do dropdb $d; done
done
tap_done
