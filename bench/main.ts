/**
 * `npm run bench`: the scripted upstream, the floors and the real stack, loaded with the same requests, interleaved;
 * one table printed and written to bench/results/latest.md. `--profile`: a CPU profile of the gateway under the
 * c=32 workload instead (bench/results/profile.md). Flags: see bench/README.md.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_DIST } from './lib/child';
import { describeMachine, loadAverage } from './lib/machine';
import { summarize, type CpuProfile } from './lib/profile-summary';
import { renderReport } from './lib/report';
import { FLOORS, startRig, type Rig } from './lib/setup';
import { sleep } from './lib/stats';
import { runAutocannon } from './lib/autocannon';
import { runWrk, wrkVersion, type Target } from './lib/wrk';
import { bigBody, runBigBody, type BigBodyResult } from './workloads/big-body';
import { ROUTES, runBodyLimits, type BodyLimitsResult } from './workloads/body-limits';
import { controlPlane, type ControlPlaneResult } from './workloads/control-plane';
import { probe, SSE, UNARY } from './workloads/requests';
import { runSlowStreams, type SlowResult } from './workloads/slow-streams';
import { runRounds, type Runner, type Workload } from './workloads/throughput';
import { cpuSplit, type CpuSplit } from './workloads/cpu-split';
import { redisPid } from './lib/cpu';

const ROOT = join(BENCH_DIST, '../../..');
const number = { type: 'string' } as const;
const flag = { type: 'boolean', default: false } as const;
/** Flags: see bench/README.md. An unknown flag or a number that is not one stops the bench before it starts. */
const { values: args } = parseArgs({
  options: {
    rounds: { ...number, default: '3' },
    seconds: { ...number, default: '3' },
    warmup: { ...number, default: '2' },
    streams: { ...number, default: '5000' },
    'many-streams': { ...number, default: '20000' },
    'many-ramp-ms': { ...number, default: '10000' },
    'slow-seconds': { ...number, default: '30' },
    'baseline-seconds': { ...number, default: '10' },
    'ramp-ms': { ...number, default: '5000' },
    'body-mb': { ...number, default: '20' },
    'limits-mb': { ...number, default: '100' },
    'profile-seconds': { ...number, default: '10' },
    'control-seconds': { ...number, default: '8' },
    profile: flag,
    'skip-rr': flag,
    'skip-slow': flag,
    'skip-big': flag,
    'skip-limits': flag,
    'skip-control': flag,
  },
});
const num = (name: keyof typeof args): number => {
  const n = Number(args[name]);
  if (String(args[name]).trim() === '' || !Number.isFinite(n))
    throw new Error(`bench: --${name} needs a number, got ${String(args[name])}`);
  return n;
};
const opts = {
  rounds: num('rounds'),
  seconds: num('seconds'),
  warmup: num('warmup'),
  streams: num('streams'),
  manyStreams: num('many-streams'),
  manyRampMs: num('many-ramp-ms'),
  slowSeconds: num('slow-seconds'),
  baselineSeconds: num('baseline-seconds'),
  rampMs: num('ramp-ms'),
  bodyMb: num('body-mb'),
  limitsMb: num('limits-mb'),
  profileSeconds: num('profile-seconds'),
  controlSeconds: num('control-seconds'),
};
const log = (s: string): void => void process.stderr.write(`[bench] ${s}\n`);

async function main(): Promise<void> {
  const wrk = await wrkVersion();
  const run: Runner = wrk ? runWrk : runAutocannon;
  const loader = wrk ? `wrk ${wrk} (1 thread)` : 'autocannon (wrk not installed)';
  const machine = describeMachine(loader);
  log(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${loader}`);
  if (args['profile']) return profile(run);

  const t0 = Date.now();
  const rig = await startRig({
    slowChunks: opts.slowSeconds,
    baselineChunks: opts.baselineSeconds,
    slowIntervalMs: 1000,
    sseChunks: 5,
  });
  log(`rig up in ${Date.now() - t0} ms: mock ${rig.mock.info.url}, gateway ${rig.gateway.url}`);
  const notes: string[] = [];
  try {
    const floors = FLOORS.map((f) => rig.floorTargets.get(f.name)!);
    const all: Target[] = [rig.direct, ...floors, rig.gateway];
    let shape = { unaryBytes: 0, sseChunks: 0 };
    for (const t of all) shape = await probe(t.url, t.key);

    // 1. the 20 MB body first, on a fresh gateway (no heap left over from the load runs to hide growth)
    const big: BigBodyResult[] = [];
    if (!args['skip-big']) {
      const body = bigBody(opts.bodyMb * 1024 * 1024);
      big.push(await runBigBody(rig.gateway, rig.gatewayPid, body));
      const undiciFloor = rig.floors.find((f) => f.info.name === 'undici')!;
      big.push(await runBigBody(rig.floorTargets.get('undici')!, undiciFloor.info.pid, body));
      log(`big body: ${big.map((b) => `${b.path} ${b.status} +${b.growthMb.toFixed(1)} MB`).join(', ')}`);
    }

    // 1b. four concurrent big bodies per route, the gateway with its default limits (normal requests meanwhile)
    const limits: BodyLimitsResult[] = [];
    if (!args['skip-limits']) {
      for (const route of ROUTES) {
        const l = await runBodyLimits(
          rig.gateway,
          rig.gatewayPid,
          route,
          route.body(opts.limitsMb * 1024 * 1024),
          'defaults',
        );
        limits.push(l);
        log(
          `limits ${l.route} (defaults): ${JSON.stringify(l.statuses)} RSS ${l.beforeMb.toFixed(0)} → ${l.peakMb.toFixed(0)} → ${l.afterMb.toFixed(0)} MB, normal ${l.normalOk} ok / ${l.normalOther} not`,
        );
      }
    }

    // 2. request/response workloads, interleaved
    const sseTargets = [rig.direct, rig.floorTargets.get('undici')!, rig.gateway];
    const workloads: Workload[] = [
      { id: 'c1', label: 'unary c=1', load: UNARY, connections: 1, targets: all },
      { id: 'c32', label: 'unary c=32', load: UNARY, connections: 32, targets: all },
      { id: 'sse', label: 'SSE c=32', load: SSE, connections: 32, targets: sseTargets },
    ];
    const results = args['skip-rr']
      ? new Map()
      : await runRounds(run, workloads, {
          rounds: opts.rounds,
          seconds: opts.seconds,
          warmupSeconds: opts.warmup,
          log,
        });

    // 2b. who pays for a request at c=32: CPU µs per request by process, the gateway's stack and the http floor
    const split: CpuSplit[] = [];
    if (!args['skip-rr']) {
      const stackPid = (name: string): number | undefined => rig.stack.procs.find((p) => p.name === name)?.child.pid;
      const shared = { redis: await redisPid(), mock: rig.mock.info.pid };
      // /proc counts in 10 ms ticks: a run of at least 5 s keeps each figure within about 1 µs per request
      const splitSeconds = Math.max(5, opts.seconds);
      const httpFloor = rig.floors.find((f) => f.info.name === 'http')!;
      split.push(
        await cpuSplit(
          run,
          rig.gateway,
          UNARY,
          {
            relay: rig.gatewayPid,
            auth: stackPid('auth'),
            'key-pool': stackPid('key-pool'),
            admin: stackPid('admin'),
            ...shared,
          },
          splitSeconds,
        ),
        await cpuSplit(
          run,
          rig.floorTargets.get('http')!,
          UNARY,
          { relay: httpFloor.info.pid, ...shared },
          splitSeconds,
        ),
      );
      for (const c of split) {
        log(
          `CPU per request, ${c.path}: ${Object.entries(c.usPerRequest)
            .map(([k, v]) => `${k} ${v === undefined ? 'n/a' : v.toFixed(0)}`)
            .join(', ')} µs (total ${c.totalUs.toFixed(0)})`,
        );
      }
    }

    // 3. slow streams: direct (what the measurement itself adds), then through the gateway
    const slow: SlowResult[] = [];
    if (!args['skip-slow'] && opts.streams > 0) {
      const o = { streams: opts.streams, intervalMs: 1000, rampMs: opts.rampMs };
      if (opts.baselineSeconds > 0) {
        // the same client against the mock itself, shorter (gemini-3-flash-preview streams baselineSeconds chunks)
        const path = '/v1beta/models/gemini-3-flash-preview:streamGenerateContent?alt=sse';
        slow.push(await runSlowStreams(rig.direct, null, { ...o, chunks: opts.baselineSeconds, path }));
        log(
          `slow streams direct: p99 ${slow[0].p99.toFixed(2)} ms (all open ${slow[0].steadyP99.toFixed(2)}); per second: ${slow[0].timelineP99.join(' ')}`,
        );
      }
      await sleep(1000);
      const s = await runSlowStreams(rig.gateway, rig.gatewayPid, { ...o, chunks: opts.slowSeconds });
      slow.push(s);
      log(
        `slow streams gateway: ${s.ended}/${s.streams} ended, ${s.chunks} chunks, p99 ${s.p99.toFixed(2)} ms (all open ${s.steadyP99.toFixed(2)}), RSS peak ${s.rssPeakMb.toFixed(0)} MB`,
      );
      log(`  p99 per second: ${s.timelineP99.join(' ')}`);
    }

    // 3b. many streams held at once: what each costs in memory (the relay delay is not a target at this count)
    let many: SlowResult | undefined;
    if (!args['skip-slow'] && opts.manyStreams > 0) {
      await sleep(1000);
      // the gateway holds two descriptors per stream (client and upstream side): no more than its limit allows
      const fdLimit = openFileLimit(rig.gatewayPid);
      const streams = Math.min(opts.manyStreams, Math.floor((fdLimit - 1024) / 2));
      if (streams < opts.manyStreams) {
        notes.push(
          `Many streams: ${opts.manyStreams.toLocaleString('en-US')} asked, ${streams.toLocaleString('en-US')} run: the gateway may open ${fdLimit.toLocaleString('en-US')} files on this machine (a hard limit the bench cannot raise without CAP_SYS_RESOURCE) and holds two per stream. The RSS per 1,000 streams is what to scale from.`,
        );
        log(`many streams: capped at ${streams} by the gateway's open-file limit (${fdLimit})`);
      }
      many = await runSlowStreams(rig.gateway, rig.gatewayPid, {
        streams,
        intervalMs: 1000,
        rampMs: opts.manyRampMs,
        chunks: opts.slowSeconds,
      });
      log(
        `many streams: ${many.peakOpen} open at once, ${many.ended}/${many.streams} ended, ${many.failed} failed ${JSON.stringify(many.errors)}, RSS ${many.rssBeforeMb.toFixed(0)} → ${many.rssPeakMb.toFixed(0)} MB`,
      );
    }

    // 3c. the control plane's ceilings, on stacks of their own (the rig's is idle meanwhile)
    let control: ControlPlaneResult | undefined;
    if (!args['skip-control']) {
      control = await controlPlane({ seconds: opts.controlSeconds, log });
      log(
        `control plane: usage on SQLite ${Math.round(control.sqliteUsagePerSec)}/s, on Redis ${Math.round(control.redisUsagePerSec)}/s; key-pool outcomes ${Math.round(control.keyPoolOutcomesPerSec)}/s (one per event ${Math.round(control.keyPoolOutcomesPerSecSingle)}/s)`,
      );
    }

    // 4. the big bodies again with the buffered routes' limits raised to admit them: the body budget bounds memory
    if (!args['skip-limits']) limits.push(...(await raisedLimits(rig)));

    notes.push(
      `Each (workload, path) ran ${opts.seconds} s per round, ${opts.rounds} rounds, the order of paths rotated per round, after a ${opts.warmup} s warm-up per path; figures are medians over rounds, ratios are taken within a round.`,
      'Every process is on the same 2-core machine: the load generator, the mock, the relay under test (and, for the gateway, Redis, auth and key-pool taking the usage batches). Absolute numbers are lower than on a dedicated box; the ratios are what counts.',
      'The raw floor forwards with undici and streams both bodies; the gateway buffers the request body (retry on another key) and does auth, key choice, metrics and usage records.',
    );
    machine.loadAfter = loadAverage();
    const report = renderReport({
      machine,
      settings: `${opts.rounds} rounds × ${opts.seconds} s, ${opts.warmup} s warm-up; ${opts.streams} slow streams × ${opts.slowSeconds} chunks, ramp ${opts.rampMs} ms; ${opts.manyStreams} streams held (ramp ${opts.manyRampMs} ms); ${opts.bodyMb} MB body`,
      unaryBytes: shape.unaryBytes,
      sseChunks: shape.sseChunks,
      results,
      split,
      slow,
      big,
      limits,
      many,
      control,
      notes,
    });
    process.stdout.write('\n' + report);
    const outDir = join(ROOT, 'bench/results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'latest.md'), report);
    log(`written to bench/results/latest.md (${((Date.now() - t0) / 1000).toFixed(0)} s in all)`);
  } finally {
    await rig.stop();
  }
}

/** The soft open-file limit of a process (/proc/<pid>/limits), or 1,024 when it cannot be read. */
function openFileLimit(pid: number): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return m ? Number(m[1]) : 1024;
  } catch {
    return 1024;
  }
}

/**
 * The gateway restarted, per buffered route, with that route's limit above the body size and the smallest budget
 * the configuration accepts for it (the default 128 MB; 4 × the limit for the OpenAI route): the budget bounds memory.
 */
async function raisedLimits(rig: Rig): Promise<BodyLimitsResult[]> {
  const mb = opts.limitsMb + 1;
  const out: BodyLimitsResult[] = [];
  const runs: [string, Record<string, string>][] = [
    ['generateContent', { MAX_REQUEST_BODY_MB: String(mb), BODY_MEMORY_BUDGET_MB: String(Math.max(128, mb)) }],
    ['chat.completions', { MAX_OPENAI_BODY_MB: String(mb), BODY_MEMORY_BUDGET_MB: String(4 * mb) }],
  ];
  for (const [name, env] of runs) {
    const route = ROUTES.find((r) => r.route === name)!;
    const target = await restartGateway(rig, env);
    const pid = rig.stack.procs.find((p) => p.name === 'gateway')?.child.pid ?? 0;
    const config = Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    const l = await runBodyLimits(target, pid, route, route.body(opts.limitsMb * 1024 * 1024), config);
    out.push(l);
    log(
      `limits ${l.route} (${config}): ${JSON.stringify(l.statuses)} RSS ${l.beforeMb.toFixed(0)} → ${l.peakMb.toFixed(0)} → ${l.afterMb.toFixed(0)} MB, normal ${l.normalOk} ok / ${l.normalOther} not`,
    );
  }
  return out;
}

async function restartGateway(rig: Rig, env: Record<string, string>): Promise<Target> {
  await rig.stack.signal('gateway', 'SIGTERM');
  await rig.stack.spawn('gateway', 0, env);
  const target: Target = { name: 'gateway', url: rig.stack.gatewayUrl, key: rig.userKey };
  for (let i = 0; i < 150; i++) {
    const r = await fetch(`${target.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': target.key },
      body: '{"contents":[{"parts":[{"text":"ready?"}]}]}',
    }).catch(() => null);
    await r?.arrayBuffer();
    if (r?.status === 200) break;
    await sleep(100);
  }
  return target;
}

/** The gateway under the c=32 unary workload with the V8 profiler on; summary to bench/results/profile.md. */
async function profile(run: Runner): Promise<void> {
  const file = join(ROOT, 'bench/results/gateway.cpuprofile');
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  // a profile left by an earlier run must not pass for this one when the gateway is slow to write it
  rmSync(file, { force: true });
  const preload = join(BENCH_DIST, 'procs/cpu-profile-preload.js');
  const rig: Rig = await startRig({
    slowChunks: 1,
    baselineChunks: 1,
    slowIntervalMs: 0,
    sseChunks: 5,
    gatewayEnv: { NODE_OPTIONS: `--require ${preload}`, BENCH_CPU_PROFILE: file },
  });
  try {
    await run(rig.gateway, UNARY, 32, opts.warmup);
    process.kill(rig.gatewayPid, 'SIGWINCH');
    const r = await run(rig.gateway, UNARY, 32, opts.profileSeconds);
    process.kill(rig.gatewayPid, 'SIGWINCH');
    for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(100);
    await sleep(500);
    const text = summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    const head = `# Gateway CPU profile, unary generateContent at c=32\n\n${opts.profileSeconds} s under load: ${Math.round(r.rps)} req/s, p50 ${r.p50.toFixed(3)} ms (profiler on). Raw profile: bench/results/gateway.cpuprofile (not committed).\n\n`;
    writeFileSync(join(ROOT, 'bench/results/profile.md'), head + text);
    process.stdout.write(head + text);
  } finally {
    await rig.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
