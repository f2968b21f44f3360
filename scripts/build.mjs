#!/usr/bin/env node
// Compile the NestJS apps and libs, one TypeScript program per project, into the layout the apps run from:
// <out>/apps/<app>/src/main.js next to <out>/libs/<lib>/src/*.js, with the @gg/* path aliases rewritten to relative
// requires (tsc-alias). Type errors are the `typecheck` target's job: this emits with --noCheck, which gives the same
// JavaScript as a checked compile.
//
//   node scripts/build.mjs                          apps, the libs they use and the admin UI (dist/out-tsc, dist/apps/admin-ui)
//   node scripts/build.mjs --apps-only --out DIR    apps and libs only, into DIR (end-to-end tests: GG_DIST_DIR=DIR)
//   node scripts/build.mjs --ui-only                the admin UI only
//   node scripts/build.mjs --project NAME [--out DIR]   one project's own files: what `nx build NAME` runs
//   node scripts/build.mjs --project APP --watch    what `nx serve APP` runs: build into dist/serve-APP, start the app,
//                                                   rebuild and restart it on every change
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

const { values: opts } = parseArgs({
  options: {
    out: { type: 'string' },
    project: { type: 'string' },
    'apps-only': { type: 'boolean', default: false },
    'ui-only': { type: 'boolean', default: false },
    watch: { type: 'boolean', default: false },
  },
});

/** what `npm start`, the Docker image and the end-to-end tests run */
const APPS = ['gateway', 'auth', 'key-pool', 'admin'];
/** project name -> { root, tsconfig }: the projects that have a tsconfig.app.json or tsconfig.lib.json */
function projects() {
  const found = {};
  for (const [dir, file] of [
    ['apps', 'tsconfig.app.json'],
    ['libs', 'tsconfig.lib.json'],
  ]) {
    for (const name of readdirNames(join(root, dir))) {
      const projectRoot = `${dir}/${name}`;
      if (!existsSync(join(root, projectRoot, file))) continue;
      const projectJson = JSON.parse(readFileSync(join(root, projectRoot, 'project.json'), 'utf8'));
      found[projectJson.name] = { root: projectRoot, tsconfig: `${projectRoot}/${file}` };
    }
  }
  return found;
}

function readdirNames(dir) {
  return existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
    : [];
}

function fail(message, code = 1) {
  console.error(`build failed: ${message}`);
  process.exit(code);
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...options });
  if (r.status !== 0) fail(`${relative(root, cmd) || cmd} ${args.join(' ')}`, r.status ?? 1);
}

function runAsync(cmd, args) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { cwd: root, stdio: 'inherit' });
    child.on('exit', (code) =>
      code === 0 ? resolvePromise() : fail(`${relative(root, cmd)} ${args.join(' ')}`, code ?? 1),
    );
  });
}

/** staging folders still on disk: removed on exit, also when a compile fails */
const stagings = new Set();
process.on('exit', () => stagings.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** compile one project's program (it pulls in the libs it imports) into a fresh staging folder; returns the folder */
async function compile(project) {
  mkdirSync(join(root, 'dist'), { recursive: true });
  const staging = mkdtempSync(join(root, 'dist', '.build-'));
  stagings.add(staging);
  await runAsync(bin('tsc'), ['-p', project.tsconfig, '--noCheck', '--outDir', staging]);
  await runAsync(bin('tsc-alias'), ['-p', project.tsconfig, '--outDir', staging]);
  return staging;
}

/** copy `paths` (relative folders) from staging to out, replacing what was there */
function publish(staging, out, paths) {
  for (const p of paths) {
    const from = join(staging, p);
    if (!existsSync(from)) continue;
    rmSync(join(out, p), { recursive: true, force: true });
    cpSync(from, join(out, p), { recursive: true });
  }
  rmSync(staging, { recursive: true, force: true });
  stagings.delete(staging);
}

async function buildOne(name, out) {
  const project = projects()[name];
  if (!project) fail(`no project "${name}" with a tsconfig.app.json or tsconfig.lib.json`);
  publish(await compile(project), out, [project.root]);
}

/** the four apps, each its own program, two at a time; each brings the libs it uses */
async function buildApps(out) {
  const all = projects();
  rmSync(out, { recursive: true, force: true });
  const queue = [...APPS];
  const worker = async () => {
    for (let name = queue.shift(); name; name = queue.shift()) {
      const staging = await compile(all[name]);
      publish(staging, out, [all[name].root, ...readdirNames(join(staging, 'libs')).map((l) => `libs/${l}`)]);
    }
  };
  await Promise.all([worker(), worker()]);
}

function buildUi() {
  const ui = join(root, 'apps/admin-ui');
  if (!existsSync(join(ui, 'svelte.config.js'))) return;
  run(bin('svelte-kit'), ['sync'], { cwd: ui });
  run(bin('vite'), ['build', '--logLevel', 'warn'], { cwd: ui });
}

/** `nx serve APP`: tsc --watch into dist/serve-APP (a folder directly under dist/, like dist/out-tsc, so the admin
 *  app finds dist/apps/admin-ui), tsc-alias after every emit, then (re)start the app */
function serve(name) {
  const project = projects()[name];
  // any app under apps/ (APPS is what ships; a freshly generated app can be served before it does)
  if (!project || !project.root.startsWith('apps/')) fail(`--watch needs an app under apps/, got ${name}`);
  const out = join(root, 'dist', `serve-${name}`);
  let app = null;
  const restart = async () => {
    if (
      spawnSync(bin('tsc-alias'), ['-p', project.tsconfig, '--outDir', out], { cwd: root, stdio: 'inherit' }).status !==
      0
    )
      return;
    if (app && app.exitCode === null) {
      const exited = new Promise((r) => app.once('exit', r));
      app.kill('SIGTERM');
      await exited;
    }
    console.log(`[serve] starting ${name}`);
    app = spawn(process.execPath, ['--enable-source-maps', join(out, project.root, 'src/main.js')], {
      cwd: root,
      stdio: 'inherit',
    });
  };
  const tsc = spawn(
    bin('tsc'),
    ['-p', project.tsconfig, '--noCheck', '--outDir', out, '--watch', '--preserveWatchOutput'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  tsc.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    if (/Found 0 errors\. Watching for file changes/.test(chunk.toString())) void restart();
  });
  const stop = () => {
    tsc.kill('SIGTERM');
    if (app && app.exitCode === null) app.once('exit', () => process.exit(0)).kill('SIGTERM');
    else process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

const out = resolve(root, opts.out ?? 'dist/out-tsc');
if (opts.project && opts.watch) serve(opts.project);
else if (opts.project) await buildOne(opts.project, out);
else {
  if (!opts['ui-only']) await buildApps(out);
  if (!opts['apps-only']) buildUi();
}
