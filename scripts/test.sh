#!/usr/bin/env bash
# `npm test`: every project's build, lint, typecheck, unit (test), integration (int) and end-to-end (e2e) targets
# through `nx run-many`, with Nx's cache: a task whose inputs have not changed since a run that passed is replayed
# from .nx/cache ("[local cache]"), so a second run with nothing changed takes seconds. Integration and end-to-end
# tests use the real Redis (REDIS_URL, default 127.0.0.1:6379) and real SQLite files, one task at a time.
# NX_SKIP_NX_CACHE=true runs everything again.
set -euo pipefail
cd "$(dirname "$0")/.."
export TZ=UTC
export NX_DAEMON=false NX_NO_CLOUD=true

step() { printf '\n== %s ==\n' "$*"; }

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "install"
  npm ci --no-audit --no-fund
fi

if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  step "install chromium (browser tests)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium could not be installed; browser tests will fail"
fi

start=$(date +%s)

step "format (Prettier, the whole tree)"
npx prettier --check . --cache --log-level warn

# Files that belong to no Nx project: the repository's own scripts and tool configs (and bench/ until it has a
# project.json). Not cached by Nx, but small.

step "lint and typecheck files outside the projects"
outside=(scripts tools ./*.js ./*.mjs)
[ -f bench/project.json ] || outside+=(bench)
npx eslint --max-warnings=0 "${outside[@]}"
[ -f bench/project.json ] || npx tsc -p bench/tsconfig.json --noEmit

step "build, lint, typecheck, unit, integration and end-to-end tests of every project (nx run-many)"
# int and e2e targets have "parallelism": false (nx.json): each runs alone; int files one at a time (--runInBand),
# e2e files two at a time (test/run-e2e.sh).
# The output is kept to add up Jest's own counts (cached tasks replay theirs) into one closing line.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
npx nx run-many -t build lint typecheck test int e2e --outputStyle=static 2>&1 | tee "$log" || status=$?
counts=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '
  /^Tests: / { for (i = 2; i <= NF; i++) { n = $i + 0; w = $(i + 1); sub(/,$/, "", w);
                 if (w == "passed") p += n; else if (w == "failed") f += n; else if (w == "skipped") s += n } }
  END { printf "%d passed, %d failed, %d skipped", p, f, s }')
printf '\n== npm test %s in %ss ==\n' "$([ "$status" = 0 ] && echo passed || echo FAILED)" "$(($(date +%s) - start))"
printf 'tests: %s\n' "$counts"
exit "$status"
