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
log=$(mktemp)
trap 'rm -f "$log"' EXIT
pnpm run test:unit 2>&1 | tee "$log"
pnpm run check:packages

# One closing line over every package's vitest summary, e.g. "tests: 812 passed, 0 failed, 17 skipped".
node -e '
  const text = require("node:fs").readFileSync(process.argv[1], "utf8").replace(/\x1b\[[0-9;]*m/g, "");
  let passed = 0, failed = 0, skipped = 0;
  for (const line of text.split("\n")) {
    const m = /^\S+:test:\s+Tests\s+(.*)$/.exec(line);
    if (!m) continue;
    passed += Number(/(\d+) passed/.exec(m[1])?.[1] ?? 0);
    failed += Number(/(\d+) failed/.exec(m[1])?.[1] ?? 0);
    skipped += Number(/(\d+) skipped/.exec(m[1])?.[1] ?? 0);
  }
  if (passed === 0) { console.error("no test ran"); process.exit(1); }
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$log"
