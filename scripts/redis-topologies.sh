#!/usr/bin/env bash
# Starts (or stops) a local Redis Cluster and a Sentinel group for the
# @sessionkit/store-redis topology tests, from the redis-server binary. It
# never touches a Redis it did not start.
#
#   eval "$(bash scripts/redis-topologies.sh)"   # "up" is the default; prints the two exports below
#   pnpm --filter @sessionkit/store-redis test
#   scripts/redis-topologies.sh down
#
# Exports: REDIS_CLUSTER_URLS (comma-separated redis:// node URLs) and
# REDIS_SENTINEL_URL (redis+sentinel://host:port/masterName). Idempotent: when
# the topologies it started are still up and healthy it only prints the exports.
# Settings (environment): REDIS_TOPOLOGY_DIR (default /tmp/sessionkit-redis-topologies),
# REDIS_TOPOLOGY_BASE_PORT (default 7100: cluster 7100-7102, primary 7110,
# replica 7111, sentinel 7120).
set -euo pipefail

dir=${REDIS_TOPOLOGY_DIR:-/tmp/sessionkit-redis-topologies}
base=${REDIS_TOPOLOGY_BASE_PORT:-7100}
cluster_ports=("$base" "$((base + 1))" "$((base + 2))")
primary=$((base + 10))
replica=$((base + 11))
sentinel=$((base + 20))
master_name=sessionkit
host=127.0.0.1

say() { echo "redis-topologies: $*" >&2; }
die() { say "$*"; exit 1; }

# Health check with a deadline: runs "$@" until it succeeds, at most $1 seconds.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${seconds}s waiting for ${what}"
    sleep 0.1
  done
}

cli() { redis-cli -h "$host" -p "$1" "${@:2}"; }
answers() { [ "$(cli "$1" ping 2>/dev/null)" = "PONG" ]; }
cluster_ok() { cli "$1" cluster info | grep -q '^cluster_state:ok'; }
replica_linked() { cli "$replica" info replication | grep -q '^master_link_status:up'; }
sentinel_knows() { cli "$sentinel" sentinel get-master-addr-by-name "$master_name" | grep -q .; }
sentinel_sees_replica() { cli "$sentinel" sentinel replicas "$master_name" | grep -q "$replica"; }

start_server() { # port, extra args...
  local port=$1
  shift
  mkdir -p "$dir/$port"
  redis-server --port "$port" --bind "$host" --dir "$dir/$port" --daemonize yes \
    --pidfile "$dir/$port/redis.pid" --logfile "$dir/$port/redis.log" \
    --save '' --appendonly no "$@"
  wait_for 10 "redis on port $port" answers "$port"
}

print_exports() {
  local urls=()
  for port in "${cluster_ports[@]}"; do urls+=("redis://$host:$port"); done
  echo "export REDIS_CLUSTER_URLS=$(IFS=,; echo "${urls[*]}")"
  echo "export REDIS_SENTINEL_URL=redis+sentinel://$host:$sentinel/$master_name"
}

healthy() {
  for port in "${cluster_ports[@]}"; do cluster_ok "$port" || return 1; done
  answers "$primary" && answers "$replica" && sentinel_knows
}

up() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
    die "redis-server and redis-cli are needed (e.g. apt-get install redis-server, or brew install redis)"
  if [ -e "$dir" ]; then
    if healthy >/dev/null 2>&1; then
      print_exports
      say "already up (files in $dir)"
      return 0
    fi
    # Left over from an earlier run (a machine reused, a crash): start afresh.
    say "$dir exists but its servers are not healthy: stopping them and starting again"
    down
  fi
  for port in "${cluster_ports[@]}" "$primary" "$replica" "$sentinel"; do
    ! answers "$port" || die "port $port is already in use by a Redis"
  done
  mkdir -p "$dir"

  for port in "${cluster_ports[@]}"; do
    start_server "$port" --cluster-enabled yes --cluster-config-file "$dir/$port/nodes.conf" \
      --cluster-node-timeout 2000
  done
  local nodes=()
  for port in "${cluster_ports[@]}"; do nodes+=("$host:$port"); done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$dir/cluster-create.log"
  for port in "${cluster_ports[@]}"; do wait_for 30 "cluster state ok on $port" cluster_ok "$port"; done

  start_server "$primary"
  start_server "$replica" --replicaof "$host" "$primary"
  wait_for 30 "the replica to sync" replica_linked
  mkdir -p "$dir/$sentinel"
  cat >"$dir/$sentinel/sentinel.conf" <<EOF
port $sentinel
bind $host
daemonize yes
pidfile $dir/$sentinel/redis.pid
logfile $dir/$sentinel/redis.log
dir $dir/$sentinel
sentinel monitor $master_name $host $primary 1
sentinel down-after-milliseconds $master_name 1000
sentinel failover-timeout $master_name 5000
EOF
  redis-server "$dir/$sentinel/sentinel.conf" --sentinel
  wait_for 10 "sentinel on port $sentinel" answers "$sentinel"
  wait_for 30 "sentinel to know the primary" sentinel_knows
  wait_for 30 "sentinel to see the replica" sentinel_sees_replica

  print_exports
  say "up (files in $dir; stop with '$0 down')"
}

down() {
  [ -d "$dir" ] || { say "nothing to stop ($dir does not exist)"; return 0; }
  # Only the processes this script started, by the pid files it wrote.
  for pidfile in "$dir"/*/redis.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
  done
  for pidfile in "$dir"/*/redis.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    wait_for 10 "process $pid to exit" bash -c "! kill -0 $pid"
  done
  rm -rf "$dir"
  say "down"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) die "usage: $0 up|down" ;;
esac
