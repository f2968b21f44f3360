#!/usr/bin/env node
// `npm start`: everything on one machine. Installs what is missing, runs the Nx build targets of the apps and the
// admin UI (cached: nothing is rebuilt when nothing changed), finds the Redis at REDIS_URL or starts a local
// redis-server, starts auth, key-pool, gateway and admin from dist/out-tsc, prints the URLs.
// Ctrl-C stops everything it started.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
const redisUrl = new URL(env.REDIS_URL || 'redis://127.0.0.1:6379');
const dataDir = env.DATA_DIR || join(root, 'data');
const children = [];
let stopping = false;

const say = (msg) => process.stdout.write(`[start] ${msg}\n`);

function ensureInstalled() {
  if (existsSync(join(root, 'node_modules/.package-lock.json'))) return;
  say('installing dependencies (npm ci)…');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** the build targets of what this starts (Nx replays them from its cache when nothing changed) */
function ensureBuilt() {
  const r = spawnSync(
    join(root, 'node_modules/.bin/nx'),
    ['run-many', '-t', 'build', '-p', 'gateway,auth,key-pool,admin,admin-ui', '--outputStyle=static'],
    {
      cwd: root,
      stdio: 'inherit',
      env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', ...env },
    },
  );
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function redisAnswers() {
  return new Promise((resolve) => {
    const sock = createConnection({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (d) => done(d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH')));
  });
}

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

async function ensureRedis() {
  if (await redisAnswers()) return say(`using Redis at ${redisUrl.host}`);
  const local = ['127.0.0.1', 'localhost', '::1'].includes(redisUrl.hostname);
  if (!local) {
    console.error(`Redis at ${redisUrl.host} does not answer: start it or set REDIS_URL.`);
    process.exit(1);
  }
  if (!which('redis-server')) {
    if (process.getuid?.() === 0 && which('apt-get')) {
      say('installing redis-server (apt-get)…');
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
      const r = spawnSync('apt-get', ['install', '-y', '-qq', 'redis-server'], {
        stdio: 'inherit',
        env: { ...env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      if (r.status !== 0) process.exit(1);
    } else {
      console.error(
        'Redis is not running and redis-server is not installed: install it (e.g. "sudo apt-get install redis-server") or set REDIS_URL.',
      );
      process.exit(1);
    }
  }
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = redisUrl.port || '6379';
  say(`starting redis-server on port ${port} (data in ${dir})`);
  const child = spawn(
    'redis-server',
    ['--port', port, '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  children.push({ name: 'redis', child, last: true });
  for (let i = 0; i < 100 && !(await redisAnswers()); i++) await new Promise((r) => setTimeout(r, 100));
}

const LEVELS = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
// Nest's own start-up chatter: kept in the JSON logs, left out of this console view (LOG_LEVEL=debug shows it)
const QUIET = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
  'NestMicroservice',
  'Server',
  'ServerRedis',
]);
const verbose = (env.LOG_LEVEL || 'info') === 'debug' || env.LOG_LEVEL === 'trace';

/** a transaction line (TRANSACTION_LOG=stdout) as one short line: status, what, how long, tokens, which keys */
function transaction(name, o) {
  if (name === 'admin') {
    const who = o.userId ? ` user=${o.userId}` : '';
    return `[admin] ${o.status} ${o.method} ${o.route} ${o.durationMs}ms${who}`;
  }
  const tokens = o.promptTokens || o.outputTokens ? ` ${o.promptTokens}+${o.outputTokens} tok` : '';
  const keys = (o.attempts ?? []).map((a) => (a.outcome === 'success' ? a.keyId : `${a.keyId}:${a.outcome}`));
  const key = keys.length ? ` key=${keys.join(',')}` : '';
  const error = o.error && o.status >= 400 ? ` (${o.error})` : '';
  return `[${name}] ${o.status} ${o.method}${o.model ? ` ${o.model}` : ''} ${o.durationMs}ms${tokens}${key}${error}`;
}

function pretty(name, line) {
  if (!line.startsWith('{')) return `[${name}] ${line}`;
  try {
    const o = JSON.parse(line);
    if (o.log === 'transaction') return transaction(name, o);
    if (
      !verbose &&
      o.level <= 30 &&
      (QUIET.has(o.context) ||
        /^(Connected to Redis|Nest (application|microservice) successfully started)/.test(o.msg ?? ''))
    )
      return null;
    const extra = o.err ? ` ${o.err.message ?? ''}` : '';
    return `[${name}] ${LEVELS[o.level] ?? o.level} ${o.msg ?? ''}${extra}`;
  } catch {
    return `[${name}] ${line}`;
  }
}

function startApp(name) {
  const child = spawn(process.execPath, [join(root, `dist/out-tsc/apps/${name}/src/main.js`)], {
    cwd: root,
    env: { ...env, DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream.on('data', (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const text = pretty(name, buf.slice(0, nl));
        if (text !== null) process.stdout.write(text + '\n');
        buf = buf.slice(nl + 1);
      }
    });
  }
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`[start] ${name} exited (${code}); stopping everything`);
      void stop(1);
    }
  });
  children.push({ name, child });
}

async function waitReady(name, port) {
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not become ready on port ${port}`);
}

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  const apps = children.filter((c) => !c.last);
  await Promise.all(
    apps.map(
      ({ child }) =>
        new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM')))),
    ),
  );
  for (const { child } of children.filter((c) => c.last)) child.kill('SIGTERM');
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

ensureInstalled();
ensureBuilt();
await ensureRedis();
startApp('auth');
startApp('key-pool');
await Promise.all([
  waitReady('auth', env.AUTH_HTTP_PORT || 8082),
  waitReady('key-pool', env.KEY_POOL_HTTP_PORT || 8083),
]);
startApp('gateway');
startApp('admin');
const gatewayPort = env.GATEWAY_PORT || 8080;
const adminPort = env.ADMIN_PORT || 8081;
// their probes are on the internal METRICS_PORT (defaults 8090 and 8091), not on the public ports
await Promise.all([waitReady('gateway', env.METRICS_PORT || 8090), waitReady('admin', env.METRICS_PORT || 8091)]);
say(`gateway: http://127.0.0.1:${gatewayPort}   (Gemini API: /v1beta/… and /v1/…)`);
say(`admin:   http://127.0.0.1:${adminPort}   (log in as ${env.ADMIN_USERNAME || 'admin'})`);
say('Ctrl-C stops everything.');
