#!/usr/bin/env bash
# Starts (or stops) a local PgBouncer in transaction pooling mode in front of
# the local PostgreSQL, for the @sessionkit/store-postgres PgBouncer tests. It
# writes its own config in a directory of its own and never touches a
# PgBouncer it did not start.
#
#   eval "$(bash scripts/pgbouncer.sh)"   # "up" is the default; prints the export below
#   pnpm --filter @sessionkit/store-postgres test
#   scripts/pgbouncer.sh down
#
# Exports: PGBOUNCER_URL (postgres://postgres@127.0.0.1:<port>/<database>).
# Idempotent: when the PgBouncer it started is still up and answers a query
# through to PostgreSQL, it only prints the export.
# The upstream PostgreSQL, database and user are those of DATABASE_URL when it
# is set (else 127.0.0.1:5432, database test, user postgres); PostgreSQL must
# accept that user without a password from 127.0.0.1 (trust), as in CI.
# Settings (environment): PGBOUNCER_DIR (default /tmp/sessionkit-pgbouncer),
# PGBOUNCER_PORT (default 6439).
set -euo pipefail

dir=${PGBOUNCER_DIR:-/tmp/sessionkit-pgbouncer}
port=${PGBOUNCER_PORT:-6439}
upstream_host=127.0.0.1
upstream_port=5432
database=test
db_user=postgres
if [ -n "${DATABASE_URL:-}" ]; then
  # host, port, database and user of DATABASE_URL, one a line (never its password).
  mapfile -t parts < <(node -e '
    const u = new URL(process.argv[1]);
    console.log([u.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1", u.port || "5432",
      decodeURIComponent(u.pathname.slice(1)) || "postgres", decodeURIComponent(u.username) || "postgres"].join("\n"));
  ' "$DATABASE_URL") || { echo "pgbouncer: DATABASE_URL is not a valid URL" >&2; exit 1; }
  upstream_host=${parts[0]}
  upstream_port=${parts[1]}
  database=${parts[2]}
  db_user=${parts[3]}
fi
host=127.0.0.1
url="postgres://$db_user@$host:$port/$database"

service_name=pgbouncer
service_log="$dir/pgbouncer.log"
# shellcheck source=lib/service.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/service.sh"

# PgBouncer refuses to run as root: then it runs as the postgres system user
# (created by Debian's postgresql and pgbouncer packages).
run_as=""
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' system user for pgbouncer to run as"
  run_as=postgres
fi
as_owner() { if [ -n "$run_as" ]; then runuser -u "$run_as" -- "$@"; else "$@"; fi; }

# The PID in our pidfile, if that process is alive and is a pgbouncer.
our_pid() {
  local pid
  [ -r "$dir/pgbouncer.pid" ] || return 1
  pid=$(tr -dc '0-9' <"$dir/pgbouncer.pid")
  [ -n "$pid" ] && ps -p "$pid" -o comm= 2>/dev/null | grep -q pgbouncer || return 1
  echo "$pid"
}

# A real query through PgBouncer to PostgreSQL, not just an open port.
answers() { psql "$url" -Atqc 'SELECT 1' 2>/dev/null | grep -qx 1; }
healthy() { our_pid >/dev/null && answers; }

print_exports() { echo "export PGBOUNCER_URL=$url"; }

port_taken() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

stop() {
  local pid
  if pid=$(our_pid); then
    kill -TERM "$pid"
    local deadline=$((SECONDS + 15))
    while kill -0 "$pid" 2>/dev/null; do
      if ((SECONDS >= deadline)); then
        say "pgbouncer (pid $pid) did not stop on SIGTERM within 15s: sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.1
    done
  fi
  rm -rf "$dir"
}

up() {
  command -v pgbouncer >/dev/null 2>&1 ||
    die "the pgbouncer binary is not installed. Install it with: apt-get update && apt-get install -y pgbouncer (Debian/Ubuntu), or brew install pgbouncer (macOS)"
  command -v psql >/dev/null 2>&1 ||
    die "psql is needed for the health check. Install it with: apt-get install -y postgresql-client"
  if [ -e "$dir" ]; then
    if healthy; then
      print_exports
      say "already up on $host:$port (files in $dir)"
      return 0
    fi
    # Left over from an earlier run (a machine reused, a crash): start afresh.
    say "$dir exists but its pgbouncer is not healthy: stopping it and starting again"
    stop
  fi
  port_taken && die "port $port on $host is already in use by another process: set PGBOUNCER_PORT to a free port"

  mkdir -p "$dir"
  # Trust auth matches the local PostgreSQL's; the user names must still be listed.
  printf '"%s" ""\n' "$db_user" postgres root | sort -u >"$dir/userlist.txt"
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=$upstream_host port=$upstream_port

[pgbouncer]
listen_addr = $host
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 1000
; At most 20 server connections, closed after 15 s idle: the tests' direct
; connections share PostgreSQL's max_connections with these.
default_pool_size = 20
max_db_connections = 20
server_idle_timeout = 15
server_reset_query =
ignore_startup_parameters = extra_float_digits
; The tests read SHOW CONFIG on the admin console to check the pooling mode.
admin_users = $db_user
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
  [ -z "$run_as" ] || chown -R "$run_as" "$dir"
  as_owner pgbouncer -d -q "$dir/pgbouncer.ini" ||
    die "pgbouncer did not start (log: $dir/pgbouncer.log)"
  wait_for 30 "pgbouncer on $host:$port to answer a query" healthy
  print_exports
  say "up on $host:$port, transaction pooling, in front of $upstream_host:$upstream_port (files in $dir)"
}

case "${1:-up}" in
  up) up ;;
  down)
    stop
    say "stopped (if it was running) and removed $dir"
    ;;
  *) die "usage: $0 [up|down]" ;;
esac
