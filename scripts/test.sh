#!/usr/bin/env bash
# `npm test`: installs what it needs, builds, then lint, typecheck, unit, integration and end-to-end tests
# against the real Redis (REDIS_URL, default 127.0.0.1:6379) and real SQLite files.
set -euo pipefail
cd "$(dirname "$0")/.."
export TZ=UTC
export NX_DAEMON=false NX_NO_CLOUD=true NX_SKIP_NX_CACHE=false

step() { printf '\n== %s ==\n' "$*"; }

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "install"
  npm ci --no-audit --no-fund
fi

if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  step "install chromium (browser tests)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium could not be installed; browser tests will fail"
fi

step "build"
node scripts/build.mjs

step "lint"
npx nx show projects >/dev/null   # computes the project graph the module-boundaries rule needs
npx eslint --max-warnings=0 .

step "typecheck"
npx tsc -p tsconfig.json --noEmit
(cd apps/admin-ui && npx svelte-check --tsconfig ./tsconfig.json --threshold error --output machine | tail -n 3)

step "unit"
npx jest --selectProjects unit --ci

step "integration"
npx jest --selectProjects int --ci --runInBand

step "end-to-end"
npx jest --selectProjects e2e --ci --runInBand
