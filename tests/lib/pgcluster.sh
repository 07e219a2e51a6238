# tests/lib/pgcluster.sh: a throwaway PostgreSQL cluster, sourced by scripts.
#
#   pg_start        initdb + start in a new directory (owned by the postgres
#                   user when we are root: PostgreSQL refuses to run as root);
#                   exports PGHOST, PGPORT, PGUSER, PGDATABASE for psql/libpq.
#   pg_stop         stop it and remove the directory (also run on exit).
#   pg_restart      restart it (fault tests).
#   pg_as_owner CMD run CMD as the cluster's owner.

PG_BINDIR=$(pg_config --bindir)

pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_start() {
  PG_TMPDIR=$(mktemp -d /tmp/spamhints-pg.XXXXXX)
  chmod 755 "$PG_TMPDIR"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_TMPDIR"
  pg_as_owner "$PG_BINDIR/initdb" -D "$PG_TMPDIR/data" -U postgres -A trust \
    --no-sync -E UTF8 --locale=C.UTF-8 >"$PG_TMPDIR/initdb.log" 2>&1 \
    || { cat "$PG_TMPDIR/initdb.log" >&2; return 1; }
  cat >>"$PG_TMPDIR/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$PG_TMPDIR'
port = 5432
fsync = off
full_page_writes = off
max_wal_size = 4GB
shared_buffers = 512MB
max_worker_processes = 8
max_parallel_workers = 4
max_parallel_workers_per_gather = 2
${PG_EXTRA_CONF:-}
CONF
  pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TMPDIR/data" -l "$PG_TMPDIR/server.log" -w -t 60 start >/dev/null \
    || { cat "$PG_TMPDIR/server.log" >&2; return 1; }
  export PGHOST="$PG_TMPDIR" PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
  trap pg_stop EXIT
}

pg_restart() {
  pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TMPDIR/data" -l "$PG_TMPDIR/server.log" -w -t 60 -m fast restart >/dev/null
}

pg_stop() {
  if [ -n "${PG_TMPDIR:-}" ] && [ -d "$PG_TMPDIR" ]; then
    pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TMPDIR/data" -w -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_TMPDIR"
  fi
  PG_TMPDIR=
}

# pg_start_another: one more throwaway cluster beside the first (shards);
# prints its socket directory (port 5432 there); pg_stop_another DIR ends it.
pg_start_another() {
  local dir
  dir=$(mktemp -d /tmp/spamhints-pg.XXXXXX)
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  pg_as_owner "$PG_BINDIR/initdb" -D "$dir/data" -U postgres -A trust \
    --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = 5432
fsync = off
full_page_writes = off
shared_buffers = 128MB
CONF
  pg_as_owner "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
    || { cat "$dir/server.log" >&2; return 1; }
  echo "$dir"
}

pg_stop_another() {
  [ -n "${1:-}" ] && [ -d "$1" ] || return 0
  pg_as_owner "$PG_BINDIR/pg_ctl" -D "$1/data" -w -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$1"
}
