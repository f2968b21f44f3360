import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import { waitFor } from '../poll';
import { testRedisUrl } from '../redis';
import { freePort } from './ports';

export type AppName = 'auth' | 'key-pool' | 'gateway' | 'admin';

export interface StackOptions {
  geminiBaseUrl: string;
  databaseType?: 'sqlite' | 'redis';
  redisUrl?: string;
  /** extra environment for every app */
  env?: Record<string, string>;
  /** REDIS_NAMESPACE (default: a fresh random one) */
  namespace?: string;
  /** how many gateway replicas (default 1) */
  gateways?: number;
  /** print the apps' logs (default: only when STACK_LOGS=1) */
  logs?: boolean;
}

interface Proc {
  name: AppName;
  index: number;
  child: ChildProcess;
  port: number;
  /** the internal port of /metrics, /healthz, /readyz (auth and key-pool: their only port) */
  metricsPort: number;
  output: string[];
}

const ROOT = resolve(__dirname, '../../../..');
/** the built apps: `npm run build` puts them in dist/out-tsc; GG_DIST_DIR points elsewhere (relative to the repo) */
const DIST = join(resolve(ROOT, process.env.GG_DIST_DIR ?? 'dist/out-tsc'), 'apps');

export function appEntry(name: AppName): string {
  return join(DIST, name, 'src/main.js');
}

/**
 * A whole gemini-gateway stack of real processes (auth, key-pool, N gateways, admin) on the real Redis, with its
 * own REDIS_NAMESPACE and DATA_DIR, pointed at a scripted upstream. Needs the build (`npm run build`).
 */
export class Stack {
  readonly namespace: string;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'gg-stack-'));
  readonly adminUsername = 'admin';
  readonly adminPassword = `pw-${randomBytes(9).toString('base64url')}`;
  readonly procs: Proc[] = [];
  private readonly redisUrl: string;
  private readonly baseEnv: Record<string, string>;

  private constructor(readonly opts: StackOptions) {
    this.namespace = opts.namespace ?? Stack.newNamespace();
    this.redisUrl = opts.redisUrl ?? testRedisUrl();
    this.baseEnv = {
      NODE_ENV: 'test',
      TZ: 'UTC',
      REDIS_URL: this.redisUrl,
      REDIS_NAMESPACE: this.namespace,
      DATA_DIR: this.dataDir,
      DATABASE_TYPE: opts.databaseType ?? 'sqlite',
      GEMINI_BASE_URL: opts.geminiBaseUrl,
      ADMIN_USERNAME: this.adminUsername,
      ADMIN_PASSWORD: this.adminPassword,
      BCRYPT_COST: '4',
      LOG_LEVEL: process.env.STACK_LOG_LEVEL ?? 'warn',
      ...opts.env,
    };
  }

  /** A fresh REDIS_NAMESPACE, as every stack gets unless told one. */
  static newNamespace(): string {
    return `t-${randomBytes(5).toString('hex')}`;
  }

  static async start(opts: StackOptions): Promise<Stack> {
    for (const app of ['auth', 'key-pool', 'gateway', 'admin'] as AppName[]) {
      if (!existsSync(appEntry(app))) throw new Error(`${appEntry(app)} is missing: run "npm run build" first`);
    }
    const stack = new Stack(opts);
    try {
      await Promise.all([stack.spawn('auth'), stack.spawn('key-pool')]);
      const gateways = [];
      for (let i = 0; i < (opts.gateways ?? 1); i++) gateways.push(stack.spawn('gateway', i));
      await Promise.all([...gateways, stack.spawn('admin')]);
    } catch (e) {
      await stack.stop();
      throw e;
    }
    return stack;
  }

  get gatewayUrl(): string {
    return this.urlOf('gateway', 0);
  }

  get adminUrl(): string {
    return this.urlOf('admin', 0);
  }

  urlOf(name: AppName, index = 0): string {
    const p = this.procs.find((x) => x.name === name && x.index === index);
    if (!p) throw new Error(`${name}#${index} is not running`);
    return `http://127.0.0.1:${p.port}`;
  }

  /** The internal address of an app's /metrics, /healthz and /readyz (METRICS_PORT for gateway and admin). */
  metricsUrlOf(name: AppName, index = 0): string {
    const p = this.procs.find((x) => x.name === name && x.index === index);
    if (!p) throw new Error(`${name}#${index} is not running`);
    return `http://127.0.0.1:${p.metricsPort}`;
  }

  /**
   * Waits until a gateway replica can serve: its /readyz answers 200 once it holds a pool snapshot with a key (the
   * pool is learnt by push, after the keys were added).
   */
  async gatewayReady(index = 0, timeoutMs = 10_000): Promise<void> {
    const url = `${this.metricsUrlOf('gateway', index)}/readyz`;
    await waitFor(async () => (await fetch(url)).status === 200, timeoutMs, `gateway#${index} ready`);
  }

  /**
   * Start one app (again) and wait for its /readyz. A port taken between its choice and the app's listen (the choice
   * can only be a guess) is not the app's failure: it starts again on other ports, twice at most.
   */
  async spawn(name: AppName, index = 0, extraEnv: Record<string, string> = {}): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        return await this.spawnOnce(name, index, extraEnv);
      } catch (e) {
        if (tries === 3 || !(e as Error).message.includes('EADDRINUSE')) throw e;
        const i = this.procs.findIndex((x) => x.name === name && x.index === index);
        if (i >= 0) this.procs.splice(i, 1);
      }
    }
  }

  private async spawnOnce(name: AppName, index: number, extraEnv: Record<string, string>): Promise<void> {
    const port = await freePort();
    const internal = name === 'gateway' || name === 'admin';
    const metricsPort = internal ? await freePort() : port;
    const portVar = {
      auth: 'AUTH_HTTP_PORT',
      'key-pool': 'KEY_POOL_HTTP_PORT',
      gateway: 'GATEWAY_PORT',
      admin: 'ADMIN_PORT',
    }[name];
    const child = spawn(process.execPath, [appEntry(name)], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        ...this.baseEnv,
        ...extraEnv,
        [portVar]: String(port),
        ...(internal ? { METRICS_PORT: String(metricsPort) } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc: Proc = { name, index, child, port, metricsPort, output: [] };
    const show = this.opts.logs ?? process.env.STACK_LOGS === '1';
    const collect = (d: Buffer): void => {
      const text = d.toString();
      proc.output.push(text);
      if (proc.output.length > 2000) proc.output.splice(0, 1000);
      if (show) process.stderr.write(`[${name}#${index}] ${text}`);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    this.procs.push(proc);
    let closed = false;
    child.once('close', () => (closed = true));
    try {
      // an app that exited ends the wait at once (its output says why), rather than at the timeout
      await waitFor(
        async () => {
          if (child.exitCode !== null || child.signalCode !== null) return true;
          const r = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => null);
          return r?.status === 200;
        },
        30_000,
        `${name} to be ready`,
      );
      if (child.exitCode !== null || child.signalCode !== null) {
        // its last words (EADDRINUSE, a config error) may still be in the pipe
        if (!closed) await new Promise((r) => child.once('close', r));
        throw new Error(`${name} exited with ${child.exitCode ?? child.signalCode}`);
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- ${name} output ---\n${proc.output.join('').slice(-4000)}`);
    }
  }

  /** Everything an app printed so far. */
  output(name: AppName, index = 0): string {
    return this.procs
      .filter((p) => p.name === name && p.index === index)
      .flatMap((p) => p.output)
      .join('');
  }

  /** Send a signal to an app and wait for it to exit (SIGTERM: graceful; SIGKILL: a crash). */
  async signal(name: AppName, sig: NodeJS.Signals, index = 0, timeoutMs = 30_000): Promise<number | null> {
    const i = this.procs.findIndex((x) => x.name === name && x.index === index);
    if (i === -1) return null;
    const p = this.procs[i];
    this.procs.splice(i, 1);
    if (p.child.exitCode !== null) return p.child.exitCode;
    const exited = new Promise<number | null>((r) => p.child.once('exit', (code) => r(code)));
    p.child.kill(sig);
    const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  /* ---------- admin API helpers ---------- */

  async login(username = this.adminUsername, password = this.adminPassword): Promise<string> {
    const r = await fetch(`${this.adminUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (r.status !== 200) throw new Error(`login failed: ${r.status} ${await r.text()}`);
    return ((await r.json()) as { access_token: string }).access_token;
  }

  /** Call the admin API; returns status and parsed JSON (or null). */
  async api<T = unknown>(
    token: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const r = await fetch(`${this.adminUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : null) as T };
  }

  async stop(): Promise<void> {
    await Promise.all([...this.procs].map((p) => this.signal(p.name, 'SIGTERM', p.index, 10_000)));
    const redis = new Redis(this.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.namespace}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
