#!/usr/bin/env node
// `npm run bench`: build the apps (unless --no-build), compile the bench (bench/tsconfig.json -> dist/bench), run it.
// The apps go to GG_DIST_DIR (default dist/out-tsc), where the bench's Stack finds them. Every other flag is passed to
// the bench (bench/README.md). The bench runs under `ulimit -n` raised as far as allowed: 20,000 streams held through
// the gateway take ~40,000 descriptors in the gateway alone (client side and upstream side of each).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const argv = process.argv.slice(2);
const distDir = resolve(root, process.env.GG_DIST_DIR ?? 'dist/out-tsc');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`bench: ${cmd} ${args.join(' ')} failed`);
    process.exit(r.status ?? 1);
  }
}

function haveWrk() {
  return spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status === 0;
}

if (
  !haveWrk() &&
  process.getuid?.() === 0 &&
  spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0
) {
  console.error('bench: installing wrk (apt-get)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (spawnSync('apt-get', ['install', '-y', '-qq', 'wrk'], { stdio: 'ignore', env }).status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    spawnSync('apt-get', ['install', '-y', '-qq', 'wrk'], { stdio: 'ignore', env });
  }
  if (!haveWrk()) console.error('bench: wrk not available, using autocannon');
}

if (!argv.includes('--no-build'))
  run(process.execPath, [join(root, 'scripts/build.mjs'), '--apps-only', '--out', distDir]);
rmSync(join(root, 'dist/bench'), { recursive: true, force: true });
run(bin('tsc'), ['-p', 'bench/tsconfig.json']);
run(bin('tsc-alias'), ['-p', 'bench/tsconfig.json']);

const benchArgs = argv
  .filter((a) => a !== '--no-build')
  .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
  .join(' ');
const main = join(root, 'dist/bench/bench/main.js');
const r = spawnSync(
  'bash',
  [
    '-c',
    `ulimit -n 262144 2>/dev/null || ulimit -n 65535 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "${process.execPath}" "${main}" ${benchArgs}`,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, GG_DIST_DIR: distDir } },
);
process.exit(r.status ?? 1);
