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
# The store-postgres tests also run through PgBouncer in transaction pooling
# mode; start it (idempotent) unless the caller points at a running one.
if [ -z "${PGBOUNCER_URL:-}" ]; then
  pgbouncer_exports=$(bash scripts/pgbouncer.sh up) # a failure stops the run here (set -e)
  eval "$pgbouncer_exports"
fi

pnpm run lint
pnpm run typecheck
# Reports of an earlier run must not count in this one's summary.
rm -f packages/*/.vitest-report.json examples/*/.vitest-report.json bench/.vitest-report.json
pnpm run test:unit
pnpm run check:packages
# The newcomer test: every README example, from the packed tarballs, installed
# with plain npm outside the workspace, on Node 20, 22 and 24 (built above).
node scripts/newcomer/run.mjs --skip-build

# One closing line over every package's vitest run, with distinct tests apart
# from parameterised runs of them (scripts/test-summary.mjs).
node scripts/test-summary.mjs
