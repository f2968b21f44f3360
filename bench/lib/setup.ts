/** Starts what the bench loads: the mock upstream, the floors, the real stack with a user key and pool keys. */
import { Stack } from '@gg/testing';
import { randomBytes } from 'node:crypto';
import { startChild, type Child } from './child';
import { sleep } from './stats';
import type { Target } from './wrk';

export interface Rig {
  mock: Child<{ url: string; pid: number }>;
  floors: Child<{ name: string; url: string; pid: number }>[];
  stack: Stack;
  gatewayPid: number;
  poolKeys: string[];
  userKey: string;
  direct: Target;
  gateway: Target;
  /** floor name -> target */
  floorTargets: Map<string, Target>;
  stop(): Promise<void>;
}

export const FLOORS: { name: string; script: string; label: string }[] = [
  { name: 'undici', script: 'floors/undici-floor.js', label: 'raw floor: Node http + undici' },
  { name: 'http', script: 'floors/http-floor.js', label: 'floor: Node http pipe (keep-alive agent)' },
  { name: 'axios', script: 'floors/axios-floor.js', label: 'floor: Node http + axios (stream)' },
  { name: 'axios-undici', script: 'floors/axios-undici-adapter-floor.js', label: 'floor: axios + undici adapter' },
];

export interface RigOptions {
  slowChunks: number;
  baselineChunks: number;
  slowIntervalMs: number;
  sseChunks: number;
  /** extra environment for the gateway (the profiler preload) */
  gatewayEnv?: Record<string, string>;
}

const fakeKey = (): string => 'AIza' + randomBytes(27).toString('base64url').slice(0, 35);

export async function startRig(o: RigOptions): Promise<Rig> {
  const mock = await startChild<{ url: string; pid: number }>('mock', 'procs/mock.js', {
    BENCH_SSE_CHUNKS: String(o.sseChunks),
    BENCH_SLOW_CHUNKS: String(o.slowChunks),
    BENCH_BASELINE_CHUNKS: String(o.baselineChunks),
    BENCH_SLOW_INTERVAL_MS: String(o.slowIntervalMs),
  });
  const poolKeys = [fakeKey(), fakeKey(), fakeKey(), fakeKey()];
  const floors = await Promise.all(
    FLOORS.map((f) =>
      startChild<{ name: string; url: string; pid: number }>(f.name, f.script, {
        UPSTREAM: mock.info.url,
        POOL_KEY: poolKeys[0],
      }),
    ),
  );
  // TRANSACTION_LOG passes through, to measure the transaction log's cost (off against the default stdout)
  const transactionLog: Record<string, string> = process.env.TRANSACTION_LOG
    ? { TRANSACTION_LOG: process.env.TRANSACTION_LOG }
    : {};
  const stack = await Stack.start({ geminiBaseUrl: mock.info.url, env: { LOG_LEVEL: 'warn', ...transactionLog } });
  try {
    if (o.gatewayEnv) {
      await stack.signal('gateway', 'SIGTERM');
      await stack.spawn('gateway', 0, o.gatewayEnv);
    }
    const token = await stack.login();
    const added = await stack.api(token, 'POST', '/api/keys', { keys: poolKeys.join('\n') });
    if (added.status >= 300) throw new Error(`adding pool keys: ${added.status} ${JSON.stringify(added.body)}`);
    const created = await stack.api<{ key: string }>(token, 'POST', '/api/auth-keys', { name: 'bench' });
    if (created.status !== 201)
      throw new Error(`creating the user key: ${created.status} ${JSON.stringify(created.body)}`);
    const gatewayPid = stack.procs.find((p) => p.name === 'gateway')?.child.pid;
    if (!gatewayPid) throw new Error('no gateway process');
    const floorTargets = new Map<string, Target>();
    for (const f of floors) floorTargets.set(f.info.name, { name: f.info.name, url: f.info.url, key: 'any-key' });
    const rig: Rig = {
      mock,
      floors,
      stack,
      gatewayPid,
      poolKeys,
      userKey: created.body.key,
      direct: { name: 'direct', url: mock.info.url, key: poolKeys[0] },
      gateway: { name: 'gateway', url: stack.gatewayUrl, key: created.body.key },
      floorTargets,
      stop: async () => {
        await stack.stop().catch((e) => console.error(`stack stop: ${(e as Error).message}`));
        await Promise.all([...floors, mock].map((c) => c.stop()));
      },
    };
    await waitForPool(rig);
    return rig;
  } catch (e) {
    await stack.stop().catch(() => undefined);
    await Promise.all([...floors, mock].map((c) => c.stop()));
    throw e;
  }
}

/** The gateway answers 503 until key-pool's snapshot with the new keys reaches it. */
async function waitForPool(rig: Rig): Promise<void> {
  const deadline = Date.now() + 15_000;
  let last = 0;
  while (Date.now() < deadline) {
    const r = await fetch(`${rig.gateway.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': rig.userKey },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'ready?' }] }] }),
    });
    last = r.status;
    await r.arrayBuffer();
    if (r.status === 200) return;
    await sleep(100);
  }
  throw new Error(`the gateway did not serve a request within 15 s (last status ${last})`);
}
