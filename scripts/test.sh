#!/usr/bin/env bash
# `pnpm test`: everything a contributor must keep green — lint (Biome and the
# README-example check), typecheck, every package's tests against real Redis
# and PostgreSQL, and the packaging check of every published package.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Redis Cluster and Sentinel tests need their own local topologies; start
# them (idempotent) unless the caller points at running ones.
if [ -z "${REDIS_CLUSTER_URLS:-}" ] || [ -z "${REDIS_SENTINEL_URL:-}" ]; then
  eval "$(bash scripts/redis-topologies.sh up)"
fi

pnpm run lint
pnpm run typecheck
pnpm run test:unit
pnpm run check:packages
