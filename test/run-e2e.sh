#!/usr/bin/env bash
# The end-to-end suite (`nx e2e e2e`): three files at a time (three Jest workers: the suite mostly waits on processes,
# timers and sockets, so three stacks fit the 2 cores CI has — 387 s with two workers, 312 s with three on a machine
# half as fast as the one that first ran it two at a time — and every file keeps to its own REDIS_NAMESPACE, ports
# and DATA_DIR), then, alone, the files that watch every command Redis receives (MONITOR): another file's traffic would
# reach their monitor; and the file that kills a gateway under load and counts what its usage lost (another file's stack
# competing for the 2 cores stretches the window it measures: in CI it once lost 5 answers of 284 that way; alone
# it loses 0–3 of 500–900). With arguments (a --testPathPatterns, say), just the files they select, one at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
run() { npx jest -c test/jest.e2e.config.js --ci "$@"; }
if [ "$#" -gt 0 ]; then
  run --runInBand "$@"
  exit
fi
alone='/test/e2e/(redis-secrets|forged-keys|usage-crash)\.e2e-spec\.ts$'
run --maxWorkers=3 --testPathIgnorePatterns '/node_modules/' '/dist/' "$alone"
run --runInBand --testPathPatterns "$alone"
