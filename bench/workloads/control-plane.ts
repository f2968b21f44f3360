/**
 * The control plane's ceiling (issue 14): how many usage records per second auth applies (SQLite, then Redis) and
 * how many attempt outcomes per second key-pool applies, each fed above what it can take, with the CPU of auth,
 * key-pool and Redis sampled from /proc so the figure says what limited it.
 *
 * - usage: the `usage` BullMQ queue is fed directly with jobs in the gateway's own shape (UsageReporterService:
 *   job name JobName.UsageBatch, `{ records }`, the same job options), topped up so that it never runs dry (a
 *   backlog of `backlogJobs` jobs); the rate is the growth of the auth key's callCount (what storage counted) over
 *   the measured window.
 * - outcomes: PoolEvent.Outcome batches in the gateway's format (PoolReporterService: `{ gatewayId, seq, outcomes }`)
 *   published on the sealed transport; at most `windowEvents` are in flight (the `applied` seq of the pool
 *   snapshot acknowledges them), so key-pool's pub/sub buffer never overflows. The rate is the growth of the sum of
 *   the pool keys' totalRequests (every outcome is a success with count 1).
 *
 * Run alone (after `node scripts/build.mjs --apps-only --out dist/h-me`):
 *   npx tsc -p bench/tsconfig.json --outDir dist/h-me/bench && npx tsc-alias -p bench/tsconfig.json --outDir dist/h-me/bench
 *   GG_DIST_DIR=$PWD/dist/h-me node dist/h-me/bench/bench/workloads/control-plane.js [--seconds 10] [--only usage|outcomes] [--db sqlite|redis]
 * GG_DIST_DIR must be absolute here (Stack resolves a relative one against the compiled tree). Prints JSON.
 */
import { readFileSync } from 'node:fs';
import { procTicks, redisPid, TICKS } from '../lib/cpu';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Logger } from '@nestjs/common';
import { ClientProxyFactory, type ClientProxy } from '@nestjs/microservices';
import { Queue } from 'bullmq';
import { firstValueFrom } from 'rxjs';
import {
  JobName,
  nsPattern,
  PoolEvent,
  PoolPattern,
  QueueName,
  type AttemptOutcome,
  type AuthKeyWithSecret,
  type PoolKey,
  type PoolOutcomeBatch,
  type PoolSnapshot,
  type UsageBatchJob,
  type UsageRecord,
} from '@gg/contracts';
import { redisTransport } from '@gg/nest-common';
import { startMockGemini, Stack, testRedisOptions, testRedisUrl } from '@gg/testing';
import { sleep } from '../lib/stats';

export interface ControlPlaneOptions {
  /** measured window per phase, s */
  seconds: number;
  /** fed before the window opens (JIT, caches, BullMQ backlog), s */
  warmupSeconds: number;
  /** records per usage job (the gateway sends up to 500 per job; ~200 is its size under load) */
  recordsPerJob: number;
  /** jobs kept waiting in the queue: the worker never waits for the producer */
  backlogJobs: number;
  /** outcomes per PoolEvent.Outcome event (the gateway sends one event per flush: per turn under load) */
  outcomesPerEvent: number;
  /** outcome events published and not yet acknowledged by key-pool, at most */
  windowEvents: number;
  only?: 'usage' | 'outcomes';
  /** the DATABASE_TYPEs to start a stack with (outcomes are measured on the last one) */
  databases: ('sqlite' | 'redis')[];
  log?: (line: string) => void;
}

/** CPU use during the window, in % of one core (200 = both cores of this machine). */
export interface CpuShare {
  auth?: number;
  keyPool?: number;
  redis?: number;
  /** the bench process itself (producer, publisher) */
  bench: number;
  /** the whole machine, from /proc/stat */
  machine: number;
}

export interface CeilingFigure {
  perSec: number;
  cpu: CpuShare;
  /**
   * CPU µs each party spent per record (or outcome): what the ceiling would be with a core each, and the figure
   * least disturbed by other load on a shared machine
   */
  costUs: { auth?: number; keyPool?: number; redis?: number };
  /** the process at or near one full core, or the machine when both cores were busy */
  limitedBy: string;
}

export interface ControlPlaneResult {
  sqliteUsagePerSec: number;
  redisUsagePerSec: number;
  keyPoolOutcomesPerSec: number;
  /** the same with one outcome per event: the per-message cost of the transport and of key-pool */
  keyPoolOutcomesPerSecSingle: number;
  details: {
    sqliteUsage?: CeilingFigure;
    redisUsage?: CeilingFigure;
    keyPoolOutcomes?: CeilingFigure;
    keyPoolOutcomesSingle?: CeilingFigure;
  };
  settings: string;
}

export const CONTROL_PLANE_DEFAULTS: ControlPlaneOptions = {
  seconds: 10,
  warmupSeconds: 3,
  recordsPerJob: 200,
  backlogJobs: 40,
  outcomesPerEvent: 20,
  windowEvents: 2000,
  databases: ['sqlite', 'redis'],
};

const fakeKey = (): string => 'AIza' + randomBytes(27).toString('base64url').slice(0, 35);

export async function controlPlane(partial: Partial<ControlPlaneOptions> = {}): Promise<ControlPlaneResult> {
  const o: ControlPlaneOptions = { ...CONTROL_PLANE_DEFAULTS, ...partial };
  const log = o.log ?? ((s: string) => void process.stderr.write(`[control-plane] ${s}\n`));
  const details: ControlPlaneResult['details'] = {};
  const mock = await startMockGemini({ record: false });
  try {
    for (const db of o.databases) {
      const transportKey = randomBytes(32).toString('hex');
      const stack = await Stack.start({
        geminiBaseUrl: mock.url,
        databaseType: db,
        env: { LOG_LEVEL: 'warn', TRANSPORT_KEY: transportKey },
      });
      try {
        // the gateway would add its own usage jobs and outcome events: only the bench's are measured
        await stack.signal('gateway', 'SIGTERM');
        const token = await stack.login();
        if (o.only !== 'outcomes') {
          const f = await usagePhase(stack, token, o);
          details[db === 'sqlite' ? 'sqliteUsage' : 'redisUsage'] = f;
          log(
            `usage on ${db}: ${Math.round(f.perSec)} records/s, ${describeCpu(f.cpu)}, µs/record ${JSON.stringify(f.costUs)}; limited by ${f.limitedBy}`,
          );
        }
        // key-pool applies outcomes in memory (states persisted debounced, whatever the database): measured once
        if (o.only !== 'usage' && db === o.databases[o.databases.length - 1]) {
          const batched = await outcomePhase(stack, token, transportKey, o, o.outcomesPerEvent);
          details.keyPoolOutcomes = batched;
          log(
            `key-pool, ${o.outcomesPerEvent} outcomes/event: ${Math.round(batched.perSec)} outcomes/s, ${describeCpu(batched.cpu)}, µs/outcome ${JSON.stringify(batched.costUs)}; limited by ${batched.limitedBy}`,
          );
          const single = await outcomePhase(stack, token, transportKey, o, 1);
          details.keyPoolOutcomesSingle = single;
          log(
            `key-pool, 1 outcome/event: ${Math.round(single.perSec)} outcomes/s, ${describeCpu(single.cpu)}, µs/outcome ${JSON.stringify(single.costUs)}; limited by ${single.limitedBy}`,
          );
        }
      } finally {
        await stack.stop().catch((e) => log(`stack stop: ${(e as Error).message}`));
      }
    }
  } finally {
    await mock.close();
  }
  return {
    sqliteUsagePerSec: details.sqliteUsage?.perSec ?? NaN,
    redisUsagePerSec: details.redisUsage?.perSec ?? NaN,
    keyPoolOutcomesPerSec: details.keyPoolOutcomes?.perSec ?? NaN,
    keyPoolOutcomesPerSecSingle: details.keyPoolOutcomesSingle?.perSec ?? NaN,
    details,
    settings: `${o.seconds} s window after ${o.warmupSeconds} s warm-up; usage jobs of ${o.recordsPerJob} records, backlog ${o.backlogJobs} jobs; outcome events of ${o.outcomesPerEvent} (and 1) outcomes, ${o.windowEvents} events in flight at most`,
  };
}

/* ---------------- usage ---------------- */

async function usagePhase(stack: Stack, token: string, o: ControlPlaneOptions): Promise<CeilingFigure> {
  const created = await stack.api<AuthKeyWithSecret>(token, 'POST', '/api/auth-keys', { name: 'control-plane' });
  if (created.status !== 201) throw new Error(`POST /api/auth-keys: ${created.status}`);
  const keyId = created.body.id;
  const callCount = async (): Promise<number> => {
    const r = await stack.api<{ id: string; callCount: number }[]>(token, 'GET', '/api/auth-keys');
    const k = r.body.find((x) => x.id === keyId);
    if (!k) throw new Error('the bench auth key is gone');
    return k.callCount;
  };
  // the gateway's queue options (UsageReporterService)
  const queue = new Queue<UsageBatchJob>(QueueName.Usage, {
    connection: testRedisOptions({ maxRetriesPerRequest: null }),
    prefix: `${stack.namespace}:bull`,
    defaultJobOptions: {
      attempts: 20,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: 1000,
      removeOnFail: 5000,
    },
  });
  const runId = randomBytes(4).toString('hex');
  let n = 0;
  const record = (at: string): UsageRecord => {
    n++;
    return {
      requestId: `cp-${runId}-${n}`,
      at,
      userId: 'bench-user',
      authKeyId: keyId,
      poolKeyId: 'bench-pool-key',
      method: 'generateContent',
      model: 'gemini-2.5-flash',
      stream: false,
      // one in 20 an upstream 429, as a loaded pool answers some
      status: n % 20 === 0 ? 429 : 200,
      attempts: 1,
      latencyMs: 120 + (n % 50),
      ttfbMs: 80,
      promptTokens: 12,
      outputTokens: 34,
      ...(n % 20 === 0 ? { error: 'RESOURCE_EXHAUSTED' } : {}),
    };
  };
  let stop = false;
  const feeder = (async () => {
    while (!stop) {
      const waiting = await queue.getWaitingCount();
      const missing = o.backlogJobs - waiting;
      if (missing > 0) {
        const at = new Date().toISOString();
        await queue.addBulk(
          Array.from({ length: missing }, () => ({
            name: JobName.UsageBatch,
            data: { records: Array.from({ length: o.recordsPerJob }, () => record(at)) },
          })),
        );
      }
      await sleep(10);
    }
  })();
  try {
    await sleep(o.warmupSeconds * 1000);
    const { value: perSec, cpu } = await measure(stack, o.seconds, callCount);
    return { perSec, cpu, costUs: costUs(cpu, perSec), limitedBy: limitedBy(cpu) };
  } finally {
    stop = true;
    await feeder.catch(() => undefined);
    await queue.close();
  }
}

/* ---------------- outcomes ---------------- */

async function outcomePhase(
  stack: Stack,
  token: string,
  transportKey: string,
  o: ControlPlaneOptions,
  perEvent: number,
): Promise<CeilingFigure> {
  const keys = await poolKeys(stack, token);
  const client: ClientProxy = ClientProxyFactory.create(
    redisTransport({ redisUrl: testRedisUrl(), transportKey: Buffer.from(transportKey, 'hex') }),
  );
  await client.connect();
  const gatewayId = `bench-${randomBytes(4).toString('hex')}`;
  const outcomePattern = nsPattern(stack.namespace, PoolEvent.Outcome);
  const snapshotPattern = nsPattern(stack.namespace, PoolPattern.Snapshot);
  let seq = 0;
  let acked = 0;
  let stop = false;
  const totalRequests = async (): Promise<number> => {
    const r = await stack.api<PoolKey[]>(token, 'GET', '/api/keys');
    return r.body.reduce((s, k) => s + k.totalRequests, 0);
  };
  // acknowledgements: the last batch seq key-pool applied for this gateway id
  const acker = (async () => {
    while (!stop) {
      const snap = await firstValueFrom(client.send<PoolSnapshot>(snapshotPattern, {})).catch(() => null);
      if (snap) acked = Math.max(acked, snap.applied?.[gatewayId] ?? 0);
      await sleep(10);
    }
  })();
  const publisher = (async () => {
    let k = 0;
    while (!stop) {
      const room = o.windowEvents - (seq - acked);
      for (let i = 0; i < room; i++) {
        const at = Date.now();
        const outcomes: AttemptOutcome[] = [];
        for (let j = 0; j < perEvent; j++) {
          // successes, as most outcomes are: the key states stay usable however long the run
          outcomes.push({
            keyId: keys[k++ % keys.length],
            model: 'gemini-2.5-flash',
            kind: 'success',
            status: 200,
            at,
          });
        }
        const batch: PoolOutcomeBatch = { gatewayId, seq: ++seq, outcomes };
        client.emit(outcomePattern, batch).subscribe({ error: () => undefined });
      }
      // let the sockets write and the acknowledgements arrive
      await new Promise((r) => setImmediate(r));
      if (room <= 0) await sleep(1);
    }
  })();
  try {
    await sleep(o.warmupSeconds * 1000);
    const { value: perSec, cpu } = await measure(stack, o.seconds, totalRequests);
    return { perSec, cpu, costUs: costUs(cpu, perSec), limitedBy: limitedBy(cpu) };
  } finally {
    stop = true;
    await Promise.all([publisher, acker]).catch(() => undefined);
    await client.close();
  }
}

/** Four pool keys, added through the admin API (key-pool drops outcomes of keys it does not know). */
async function poolKeys(stack: Stack, token: string): Promise<string[]> {
  const listed = await stack.api<PoolKey[]>(token, 'GET', '/api/keys');
  if (listed.body.length >= 4) return listed.body.map((k) => k.id);
  const added = await stack.api<{ added: PoolKey[] }>(token, 'POST', '/api/keys', {
    keys: [fakeKey(), fakeKey(), fakeKey(), fakeKey()].join('\n'),
  });
  if (added.status >= 300) throw new Error(`adding pool keys: ${added.status} ${JSON.stringify(added.body)}`);
  return added.body.added.map((k) => k.id);
}

/* ---------------- measuring ---------------- */

/** `count()` before and after `seconds`, per second, and the CPU of the parties meanwhile. */
async function measure(
  stack: Stack,
  seconds: number,
  count: () => Promise<number>,
): Promise<{ value: number; cpu: CpuShare }> {
  const pids = {
    auth: stack.procs.find((p) => p.name === 'auth')?.child.pid,
    keyPool: stack.procs.find((p) => p.name === 'key-pool')?.child.pid,
    redis: await redisPid(),
  };
  const c0 = await count();
  const t0 = performance.now();
  const cpu0 = cpuSample(pids);
  await sleep(seconds * 1000);
  const c1 = await count();
  const t1 = performance.now();
  const cpu1 = cpuSample(pids);
  const elapsed = (t1 - t0) / 1000;
  const share = (a?: number, b?: number): number | undefined =>
    a === undefined || b === undefined ? undefined : (100 * (b - a)) / TICKS / elapsed;
  return {
    value: (c1 - c0) / elapsed,
    cpu: {
      auth: share(cpu0.auth, cpu1.auth),
      keyPool: share(cpu0.keyPool, cpu1.keyPool),
      redis: share(cpu0.redis, cpu1.redis),
      bench: share(cpu0.bench, cpu1.bench) ?? NaN,
      machine: (100 * (cpu1.machineBusy - cpu0.machineBusy)) / TICKS / elapsed,
    },
  };
}

function cpuSample(pids: { auth?: number; keyPool?: number; redis?: number }) {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
  const machineBusy = line.slice(0, 8).reduce((s, x, i) => (i === 3 || i === 4 ? s : s + x), 0);
  return {
    auth: procTicks(pids.auth),
    keyPool: procTicks(pids.keyPool),
    redis: procTicks(pids.redis),
    bench: procTicks(process.pid),
    machineBusy,
  };
}

function costUs(cpu: CpuShare, perSec: number): CeilingFigure['costUs'] {
  const us = (share?: number): number | undefined =>
    share === undefined || perSec <= 0 ? undefined : Math.round((share / 100 / perSec) * 1e6 * 10) / 10;
  return { auth: us(cpu.auth), keyPool: us(cpu.keyPool), redis: us(cpu.redis) };
}

function limitedBy(cpu: CpuShare): string {
  const parties: [string, number | undefined][] = [
    ['auth', cpu.auth],
    ['key-pool', cpu.keyPool],
    ['redis', cpu.redis],
  ];
  const [name, top] = parties.reduce((a, b) => ((b[1] ?? 0) > (a[1] ?? 0) ? b : a));
  // one Node or Redis thread does the work: ~one core is its ceiling, whatever the machine has left
  if ((top ?? 0) >= 85) return `${name} CPU (${Math.round(top ?? 0)} % of a core)`;
  if (cpu.machine >= 180) return `the machine (both cores busy: ${Math.round(cpu.machine)} %)`;
  return `no process at a full core (top: ${name} ${Math.round(top ?? 0)} %): waiting (I/O, round trips, locks)`;
}

function describeCpu(c: CpuShare): string {
  const p = (x?: number): string => (x === undefined ? 'n/a' : `${Math.round(x)} %`);
  return `CPU auth ${p(c.auth)}, key-pool ${p(c.keyPool)}, redis ${p(c.redis)}, bench ${p(c.bench)}, machine ${p(c.machine)}`;
}

/* ---------------- alone ---------------- */

if (require.main === module) {
  // the transport client's connection notices would interleave with the JSON on stdout
  Logger.overrideLogger(false);
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: String(CONTROL_PLANE_DEFAULTS.seconds) },
      warmup: { type: 'string', default: String(CONTROL_PLANE_DEFAULTS.warmupSeconds) },
      'records-per-job': { type: 'string', default: String(CONTROL_PLANE_DEFAULTS.recordsPerJob) },
      'outcomes-per-event': { type: 'string', default: String(CONTROL_PLANE_DEFAULTS.outcomesPerEvent) },
      only: { type: 'string' },
      db: { type: 'string' },
    },
  });
  const num = (name: keyof typeof values): number => {
    const v = Number(values[name]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
    return v;
  };
  const only = values.only;
  if (only !== undefined && only !== 'usage' && only !== 'outcomes') throw new Error('--only usage|outcomes');
  const db = values.db;
  if (db !== undefined && db !== 'sqlite' && db !== 'redis') throw new Error('--db sqlite|redis');
  controlPlane({
    ...(db ? { databases: [db] } : {}),
    seconds: num('seconds'),
    warmupSeconds: num('warmup'),
    recordsPerJob: num('records-per-job'),
    outcomesPerEvent: num('outcomes-per-event'),
    only,
  })
    .then((r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'))
    .catch((e) => {
      console.error(e);
      process.exitCode = 1;
    });
}
