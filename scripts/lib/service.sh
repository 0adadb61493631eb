# Shared by the scripts that start local test services (pgbouncer.sh,
# redis-topologies.sh): messages on stderr under the script's name, and a
# health check with a deadline instead of a fixed sleep. Source it after
# setting `service_name` (and optionally `service_log`, named on a timeout).

say() { echo "${service_name}: $*" >&2; }
die() { say "$*"; exit 1; }

# Runs "$@" until it succeeds, at most $1 seconds; $2 says what it waits for.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${seconds}s waiting for ${what}${service_log:+ (log: $service_log)}"
    sleep 0.1
  done
}
