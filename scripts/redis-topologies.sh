#!/usr/bin/env bash
# Starts (or stops) a local Redis Cluster (3 masters, one replica each) and a
# Sentinel group for the @sessionkit/store-redis topology tests, from the
# redis-server binary. It never touches a Redis it did not start.
#
#   eval "$(bash scripts/redis-topologies.sh)"   # "up" is the default; prints the two exports below
#   pnpm --filter @sessionkit/store-redis test
#   scripts/redis-topologies.sh down
#
# Exports: REDIS_CLUSTER_URLS (comma-separated redis:// node URLs) and
# REDIS_SENTINEL_URL (redis+sentinel://host:port/masterName). Idempotent: when
# the topologies it started are still up and healthy it only prints the exports;
# when some of its Cluster nodes died (a test kills a master to force a
# failover) it restarts just those, which rejoin as replicas, and waits until
# every master has a linked replica again.
# Settings (environment): REDIS_TOPOLOGY_DIR (default /tmp/sessionkit-redis-topologies),
# REDIS_TOPOLOGY_BASE_PORT (default 7100: cluster 7100-7105, primary 7110,
# replica 7111, sentinel 7120), REDIS_TOPOLOGIES (default "cluster sentinel"; "cluster"
# starts only the Cluster and prints only its export). Each server's pid is in
# $REDIS_TOPOLOGY_DIR/<port>/redis.pid.
set -euo pipefail

dir=${REDIS_TOPOLOGY_DIR:-/tmp/sessionkit-redis-topologies}
base=${REDIS_TOPOLOGY_BASE_PORT:-7100}
cluster_ports=("$base" "$((base + 1))" "$((base + 2))" "$((base + 3))" "$((base + 4))" "$((base + 5))")
primary=$((base + 10))
replica=$((base + 11))
sentinel=$((base + 20))
master_name=sessionkit
host=127.0.0.1
with_sentinel=0
case " ${REDIS_TOPOLOGIES:-cluster sentinel} " in *" sentinel "*) with_sentinel=1 ;; esac

service_name=redis-topologies
# shellcheck source=lib/service.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/service.sh"

cli() { redis-cli -h "$host" -p "$1" "${@:2}"; }
answers() { [ "$(cli "$1" ping 2>/dev/null)" = "PONG" ]; }
cluster_ok() { cli "$1" cluster info | grep -q '^cluster_state:ok'; }
# Three masters, each with a replica whose replication link is up, and no node flagged as failing.
cluster_replicated() {
  local nodes
  nodes=$(cli "$base" cluster nodes) || return 1
  ! awk '{ print $3 }' <<<"$nodes" | grep -q 'fail' || return 1
  [ "$(awk '$3 ~ /master/' <<<"$nodes" | wc -l)" = 3 ] || return 1
  [ "$(awk '$3 ~ /slave/' <<<"$nodes" | wc -l)" = 3 ] || return 1
  local port
  for port in "${cluster_ports[@]}"; do
    if cli "$port" info replication | grep -q '^role:slave'; then
      cli "$port" info replication | grep -q '^master_link_status:up' || return 1
    fi
  done
}
# Whether node $2 is not a master with slots in node $1's view of the Cluster.
not_a_master() {
  local view
  view=$(cli "$1" cluster nodes) || return 1
  ! awk -v node="$host:$2@" 'index($2, node) == 1 && $3 ~ /master/ && $9 != ""' <<<"$view" | grep -q .
}
cluster_healthy() {
  local port
  for port in "${cluster_ports[@]}"; do cluster_ok "$port" || return 1; done
  cluster_replicated
}
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
  ((with_sentinel)) || return 0
  echo "export REDIS_SENTINEL_URL=redis+sentinel://$host:$sentinel/$master_name"
}

sentinel_group_ok() {
  ((with_sentinel)) || return 0
  answers "$primary" && answers "$replica" && sentinel_knows
}

healthy() {
  cluster_healthy && sentinel_group_ok
}

cluster_args() { # port
  echo --cluster-enabled yes --cluster-config-file "$dir/$1/nodes.conf" --cluster-node-timeout 2000
}

# Restarts the Cluster nodes of ours that died (their nodes.conf makes them
# rejoin, as replicas of the masters promoted meanwhile), if the rest is intact.
heal() {
  local port restarted=0
  sentinel_group_ok || return 1
  local dead=() live=""
  for port in "${cluster_ports[@]}"; do
    [ -f "$dir/$port/nodes.conf" ] || return 1
    if answers "$port"; then live=${live:-$port}; else dead+=("$port"); fi
  done
  [ -n "$live" ] && ((${#dead[@]} > 0)) || return 1
  # A master restarted before its replica took over would come back empty
  # (no persistence here) and keep its slots: wait for the failover first.
  for port in "${dead[@]}"; do
    wait_for 30 "the replica of dead master $port to take over" not_a_master "$live" "$port"
  done
  for port in "${dead[@]}"; do
    if ! answers "$port"; then
      say "restarting cluster node $port"
      # shellcheck disable=SC2046
      start_server "$port" $(cluster_args "$port")
      restarted=1
    fi
  done
  ((restarted)) || return 1
  wait_for 60 "the cluster to heal (every master with a linked replica)" cluster_healthy
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
    if heal; then
      print_exports
      say "healed (files in $dir)"
      return 0
    fi
    # Left over from an earlier run (a machine reused, a crash): start afresh.
    say "$dir exists but its servers are not healthy: stopping them and starting again"
    down
  fi
  local ports=("${cluster_ports[@]}")
  ((with_sentinel)) && ports+=("$primary" "$replica" "$sentinel")
  for port in "${ports[@]}"; do
    ! answers "$port" || die "port $port is already in use by a Redis"
  done
  mkdir -p "$dir"

  for port in "${cluster_ports[@]}"; do
    # shellcheck disable=SC2046
    start_server "$port" $(cluster_args "$port")
  done
  local nodes=()
  for port in "${cluster_ports[@]}"; do nodes+=("$host:$port"); done
  # The first three become masters (even slot ranges), the last three their replicas.
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$dir/cluster-create.log" 2>&1
  for port in "${cluster_ports[@]}"; do wait_for 30 "cluster state ok on $port" cluster_ok "$port"; done
  wait_for 60 "every cluster master to have a linked replica" cluster_replicated
  if ((with_sentinel)); then start_sentinel_group; fi

  print_exports
  say "up (files in $dir; stop with '$0 down')"
}

start_sentinel_group() {
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
