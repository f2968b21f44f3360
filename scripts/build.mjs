#!/usr/bin/env node
// Build everything `npm start` runs: the four NestJS apps (tsc, path aliases rewritten) and the Svelte admin UI.
// Usage: node scripts/build.mjs [--apps-only|--ui-only] [--out DIR]
//   --out: where the apps go (default dist/out-tsc; tests find them through GG_DIST_DIR)
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const argv = process.argv.slice(2);
const args = new Set(argv);
const outIndex = argv.indexOf('--out');
const outDir = outIndex === -1 ? 'dist/out-tsc' : argv[outIndex + 1];

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`build failed: ${cmd} ${cmdArgs.join(' ')}`);
    process.exit(r.status ?? 1);
  }
}

if (!args.has('--ui-only')) {
  rmSync(join(root, outDir), { recursive: true, force: true });
  run(bin('tsc'), ['-p', 'tsconfig.build.json', '--outDir', outDir]);
  run(bin('tsc-alias'), ['-p', 'tsconfig.build.json', '--outDir', outDir]);
}
if (!args.has('--apps-only')) {
  const ui = join(root, 'apps/admin-ui');
  if (existsSync(join(ui, 'svelte.config.js'))) {
    run(bin('svelte-kit'), ['sync'], { cwd: ui });
    run(bin('vite'), ['build', '--logLevel', 'warn'], { cwd: ui });
  }
}
