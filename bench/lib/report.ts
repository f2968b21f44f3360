/** The markdown report: machine, targets (target / measured / met?), and the figures behind them. */
import { fmt, fmtInt } from './stats';
import type { Machine } from './machine';
import { FLOORS } from './setup';
import type { BigBodyResult } from '../workloads/big-body';
import type { BodyLimitsResult } from '../workloads/body-limits';
import type { CeilingFigure, ControlPlaneResult } from '../workloads/control-plane';
import type { CpuSplit } from '../workloads/cpu-split';
import type { SlowResult } from '../workloads/slow-streams';
import { pairedMedian, type Results } from '../workloads/throughput';

export interface Report {
  machine: Machine;
  settings: string;
  unaryBytes: number;
  sseChunks: number;
  results: Results;
  /** CPU µs per request by process at c=32 (gateway stack, http floor); empty when skipped */
  split?: CpuSplit[];
  slow: SlowResult[];
  big: BigBodyResult[];
  /** four concurrent big bodies per route (issue 11 §4); absent when skipped */
  limits?: BodyLimitsResult[];
  /** many concurrent streams held at once (RSS); absent when skipped */
  many?: SlowResult;
  /** the control plane's ceilings; absent when skipped */
  control?: ControlPlaneResult;
  notes: string[];
}

const LABEL: Record<string, string> = {
  direct: 'direct (client → mock)',
  gateway: '**gateway** (real stack)',
  ...Object.fromEntries(FLOORS.map((f) => [f.name, f.label])),
};

const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;
const met = (ok: boolean | null): string => (ok === null ? 'n/a' : ok ? 'yes' : '**NO**');

export function renderReport(r: Report): string {
  const c1 = r.results.get('c1');
  const c32 = r.results.get('c32');
  const sse = r.results.get('sse');
  const gw32 = c32?.get('gateway');
  const floor32 = c32?.get('undici');
  // the yardstick of the targets: a raw Node http relay with a keep-alive agent, measured in the same run
  const relay32 = c32?.get('http');
  const ratio = pairedMedian(gw32, relay32, (g, f) => g.rps / f.rps);
  const ratioUndici = pairedMedian(gw32, floor32, (g, f) => g.rps / f.rps);
  const p99Ratio = pairedMedian(gw32, relay32, (g, f) => g.p99 / f.p99);
  const addP50 = pairedMedian(c1?.get('gateway'), c1?.get('direct'), (g, d) => g.p50 - d.p50);
  const addP99 = pairedMedian(c1?.get('gateway'), c1?.get('direct'), (g, d) => g.p99 - d.p99);
  const slowGw = r.slow.find((s) => s.path === 'gateway');
  const bigGw = r.big.find((b) => b.path === 'gateway');
  const allRelayed = slowGw ? slowGw.ended === slowGw.streams && slowGw.chunks === slowGw.expectedChunks : null;

  const out: string[] = [];
  out.push('# gemini-gateway bench', '');
  const m = r.machine;
  out.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${fmt(m.memoryGb, 1)} GB RAM, Node ${m.node}, Linux ${m.kernel}; ` +
      `load generator ${m.loader}; load average (1/5/15 min) before the run ${m.loadBefore}, after ${m.loadAfter ?? 'n/a'}; ${m.date}.`,
    '',
    `Settings: ${r.settings}. Unary answer ${r.unaryBytes} bytes; SSE answer ${r.sseChunks} chunks.`,
    '',
  );
  out.push('## Targets (ratios from this run)', '');
  out.push(row(['figure', 'target', 'measured', 'met?']), row(['---', '---', '---', '---']));
  const perRound = (f: (g: { rps: number; p99: number }, x: { rps: number; p99: number }) => number): string =>
    gw32 && relay32
      ? gw32.rounds
          .map((g, i) => (relay32.rounds[i] ? fmt(f(g, relay32.rounds[i])) : '–'))
          .filter(Boolean)
          .join(', ')
      : '–';
  out.push(
    row([
      'throughput c=32, gateway / raw Node http relay (keep-alive agent)',
      '≥ 0.75',
      `${fmt(ratio)} (${fmtInt(gw32?.rps ?? NaN)} / ${fmtInt(relay32?.rps ?? NaN)} req/s; rounds ${perRound((g, x) => g.rps / x.rps)}; ÷ undici floor ${fmt(ratioUndici)})`,
      met(Number.isFinite(ratio) ? ratio >= 0.75 : null),
    ]),
    row([
      'latency c=32 p99, gateway / raw Node http relay',
      '≤ 1.5',
      `${fmt(p99Ratio)} (${fmt(gw32?.p99 ?? NaN)} / ${fmt(relay32?.p99 ?? NaN)} ms; rounds ${perRound((g, x) => g.p99 / x.p99)})`,
      met(Number.isFinite(p99Ratio) ? p99Ratio <= 1.5 : null),
    ]),
    row([
      'added latency c=1, p50 over direct',
      '≤ 0.15 ms',
      `${fmt(addP50, 3)} ms`,
      met(Number.isFinite(addP50) ? addP50 <= 0.15 : null),
    ]),
    row([
      'added latency c=1, p99 over direct',
      '≤ 1 ms',
      `${fmt(addP99, 3)} ms`,
      met(Number.isFinite(addP99) ? addP99 <= 1 : null),
    ]),
    row([
      "Portkey's open-source gateway, side by side",
      'gateway ≥ 10 × its throughput',
      'not run: this bench runs only what the repository installs (see bench/README.md)',
      'n/a',
    ]),
  );
  if (slowGw) {
    out.push(
      row([
        `${fmtInt(slowGw.streams)} slow streams: all relayed`,
        `${fmtInt(slowGw.streams)} streams, ${fmtInt(slowGw.expectedChunks)} chunks`,
        `${fmtInt(slowGw.ended)} ended, ${fmtInt(slowGw.chunks)} chunks` +
          (slowGw.failed ? `, ${slowGw.failed} failed ${JSON.stringify(slowGw.errors)}` : ''),
        met(allRelayed),
      ]),
      row([
        'slow streams: chunk relay delay p99, all chunks (ramp included)',
        '≤ 5 ms',
        `${fmt(slowGw.p99)} ms (p50 ${fmt(slowGw.p50)}, max ${fmt(slowGw.max)})`,
        met(slowGw.p99 <= 5),
      ]),
      row([
        "slow streams: no periodic stall (the worst second's p99)",
        '≤ 5 ms',
        `${fmt(Math.max(...slowGw.timelineP99))} ms`,
        met(slowGw.timelineP99.length > 0 && Math.max(...slowGw.timelineP99) <= 5),
      ]),
      row([
        'slow streams: chunk relay delay p99, all streams open',
        '≤ 5 ms',
        `${fmt(slowGw.steadyP99)} ms (p50 ${fmt(slowGw.steadyP50)}, max ${fmt(slowGw.steadyMax)}; ${fmtInt(slowGw.steadyChunks)} chunks)`,
        met(slowGw.steadyP99 <= 5),
      ]),
      row([
        'slow streams: gateway RSS (peak)',
        '< 400 MB',
        `${fmt(slowGw.rssPeakMb, 0)} MB`,
        met(slowGw.rssPeakMb < 400),
      ]),
    );
  }
  if (r.many) {
    const m = r.many;
    out.push(
      row([
        `20,000 concurrent streams held: gateway RSS (peak)`,
        `all open at once, < 1 GB`,
        `${fmtInt(m.streams)} run: ${fmtInt(m.peakOpen)} open at once, ${fmtInt(m.ended)} ended, ${m.failed} failed; ${fmt(m.rssPeakMb, 0)} MB (${fmt((m.rssPeakMb - m.rssBeforeMb) / (m.streams / 1000), 1)} MB per 1,000 streams)`,
        m.streams < 20_000 ? 'n/a (see notes)' : met(m.peakOpen === m.streams && m.failed === 0 && m.rssPeakMb < 1024),
      ]),
    );
  }
  if (bigGw) {
    out.push(
      row([
        `${fmt(bigGw.bodyMb, 0)} MB body: gateway RSS growth`,
        '< 40 MB',
        `${fmt(bigGw.growthMb, 1)} MB (${fmt(bigGw.beforeMb, 0)} → peak ${fmt(bigGw.peakMb, 0)} → ${fmt(bigGw.afterMb, 0)} after; status ${bigGw.status})`,
        met(bigGw.status === 200 && bigGw.growthMb < 40),
      ]),
    );
  }

  const cp = r.control;
  if (cp) {
    const ceilings: [string, number, CeilingFigure | undefined][] = [
      ['control plane: auth applies usage records, SQLite', cp.sqliteUsagePerSec, cp.details.sqliteUsage],
      ['control plane: auth applies usage records, Redis', cp.redisUsagePerSec, cp.details.redisUsage],
      ['control plane: key-pool applies attempt outcomes', cp.keyPoolOutcomesPerSec, cp.details.keyPoolOutcomes],
    ];
    for (const [label, perSec, d] of ceilings) {
      out.push(
        row([
          label,
          '≥ 20,000 / s',
          `${fmtInt(perSec)} / s${d ? ` (limited by ${d.limitedBy})` : ''}`,
          met(Number.isFinite(perSec) ? perSec >= 20_000 : null),
        ]),
      );
    }
  }

  for (const l of (r.limits ?? []).filter((x) => x.config === 'defaults')) {
    const growth = l.peakMb - l.beforeMb;
    out.push(
      row([
        `${l.concurrent} × ${fmt(l.bodyMb, 0)} MB on ${l.route}: RSS growth, back within 64 MB, normal requests served`,
        '< 256 MB; yes; all',
        `${fmt(growth, 0)} MB; ${Number.isFinite(l.settleS) ? `${fmt(l.settleS, 1)} s` : 'no'}; ${l.normalOk} ok, ${l.normalOther} not`,
        met(growth < 256 && Number.isFinite(l.settleS) && l.normalOther === 0),
      ]),
    );
  }

  out.push('', '## Request/response paths (medians over rounds; latency in ms)', '');
  out.push(
    row([
      'path',
      'c=1 p50',
      'c=1 p99',
      'c=1 req/s',
      'c=32 p50',
      'c=32 p99',
      'c=32 req/s',
      'c=32 ÷ raw floor',
      'SSE c=32 req/s',
      'SSE p50 / p99',
      'errors',
    ]),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  );
  const names = ['direct', ...FLOORS.map((f) => f.name), 'gateway'];
  for (const n of names) {
    const a = c1?.get(n);
    const b = c32?.get(n);
    const s = sse?.get(n);
    if (!a && !b) continue;
    const rel = n === 'undici' ? '1.00' : fmt(pairedMedian(b, floor32, (x, y) => x.rps / y.rps));
    const errors = (a?.errors ?? 0) + (b?.errors ?? 0) + (s?.errors ?? 0);
    out.push(
      row([
        LABEL[n] ?? n,
        fmt(a?.p50 ?? NaN, 3),
        fmt(a?.p99 ?? NaN, 3),
        fmtInt(a?.rps ?? NaN),
        fmt(b?.p50 ?? NaN, 3),
        fmt(b?.p99 ?? NaN, 3),
        fmtInt(b?.rps ?? NaN),
        rel,
        s ? fmtInt(s.rps) : '–',
        s ? `${fmt(s.p50, 2)} / ${fmt(s.p99, 2)}` : '–',
        String(errors),
      ]),
    );
  }
  if (gw32)
    out.push(
      '',
      `c=32 req/s per round — gateway: ${gw32.rounds.map((x) => fmtInt(x.rps)).join(', ')}; raw floor: ${floor32?.rounds.map((x) => fmtInt(x.rps)).join(', ')}.`,
    );

  if (r.split?.length) out.push(...cpuSplitSection(r.split));

  if (r.slow.length) {
    out.push('', '## Slow streams (a chunk a second; delay = client receive time − mock `sentAt`, ms)', '');
    out.push(
      row([
        'path',
        'streams ended',
        'chunks',
        'p50',
        'p99',
        'p99.9',
        'max',
        'p99 all open',
        'client loop p99',
        'relay RSS before → peak',
      ]),
      row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    );
    for (const s of r.slow) {
      out.push(
        row([
          LABEL[s.path] ?? s.path,
          `${fmtInt(s.ended)} / ${fmtInt(s.streams)}`,
          `${fmtInt(s.chunks)} / ${fmtInt(s.expectedChunks)}`,
          fmt(s.p50),
          fmt(s.p99),
          fmt(s.p999),
          fmt(s.max),
          fmt(s.steadyP99),
          fmt(s.clientLoopP99Ms),
          Number.isFinite(s.rssPeakMb) ? `${fmt(s.rssBeforeMb, 0)} → ${fmt(s.rssPeakMb, 0)} MB` : '–',
        ]),
      );
    }
  }
  for (const s of r.slow) out.push('', `p99 delay per second of the run, ${s.path} (ms): ${s.timelineP99.join(' ')}`);
  if (r.big.length) {
    out.push('', '## 20 MB request body (RSS in MB)', '');
    out.push(
      row(['path', 'status', 'time ms', 'before', 'peak', 'after', 'growth']),
      row(['---', '---:', '---:', '---:', '---:', '---:', '---:']),
    );
    for (const b of r.big) {
      out.push(
        row([
          LABEL[b.path] ?? b.path,
          b.status,
          fmt(b.ms, 0),
          fmt(b.beforeMb, 0),
          fmt(b.peakMb, 0),
          fmt(b.afterMb, 0),
          fmt(b.growthMb, 1),
        ]),
      );
    }
  }
  if (r.limits?.length) {
    out.push('', '## Big bodies, four at once per route, normal requests meanwhile (RSS in MB)', '');
    out.push(
      row([
        'route',
        'config',
        'statuses',
        'time ms',
        'before',
        'peak',
        'growth',
        'after',
        'back within 64 MB',
        'normal ok / not',
        'normal p99 ms',
      ]),
      row(['---', '---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    );
    for (const l of r.limits) {
      const statuses = Object.entries(l.statuses)
        .map(([s, n]) => `${n}× ${s}`)
        .join(', ');
      out.push(
        row([
          l.route,
          l.config,
          statuses,
          fmt(l.ms, 0),
          fmt(l.beforeMb, 0),
          fmt(l.peakMb, 0),
          fmt(l.peakMb - l.beforeMb, 0),
          fmt(l.afterMb, 0),
          Number.isFinite(l.settleS) ? `${fmt(l.settleS, 1)} s` : 'no (10 s)',
          `${l.normalOk} / ${l.normalOther}`,
          fmt(l.normalP99Ms, 1),
        ]),
      );
    }
  }
  if (cp) out.push(...controlPlaneSection(cp, gw32?.rps ?? NaN));
  if (r.notes.length) out.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`));
  return out.join('\n') + '\n';
}

/**
 * How many gateways one auth and one key-pool serve: each gateway request is one usage record, and at most one
 * outcome per attempt when Google fails (successes reach key-pool aggregated per key, a few events a second).
 */
/** Who pays for a request: every process shares the 2 cores, so the totals bound the throughput ratio. */
function cpuSplitSection(split: CpuSplit[]): string[] {
  const parties = ['relay', 'auth', 'key-pool', 'admin', 'redis', 'mock'];
  const us = (v: number | undefined): string => (v === undefined ? '–' : fmtInt(v));
  const out = [
    '',
    '## Who pays for a request (unary c=32, one run after the rounds; CPU µs per request by process, from /proc)',
    '',
    row(['path', 'req/s', 'relay process', 'auth', 'key-pool', 'admin', 'redis', 'mock', 'total']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  ];
  for (const c of split) {
    out.push(
      row([
        LABEL[c.path] ?? c.path,
        fmtInt(c.rps),
        ...parties.map((p) => (p in c.usPerRequest ? us(c.usPerRequest[p]) : '–')),
        fmtInt(c.totalUs),
      ]),
    );
  }
  const [gw, floor] = split;
  if (gw && floor && floor.totalUs > 0) {
    out.push(
      '',
      `Both paths share this machine's 2 cores with the load generator (not counted here), so their throughput ratio at saturation is about the inverse ratio of their totals: ${fmt(floor.totalUs / gw.totalUs)} here (measured ${fmt(gw.rps / floor.rps)}). The gateway process alone costs ${fmt((gw.usPerRequest.relay ?? NaN) / (floor.usPerRequest.relay ?? NaN))} × the relay's CPU per request.`,
    );
  }
  return out;
}

function controlPlaneSection(cp: ControlPlaneResult, gatewayRps: number): string[] {
  const out: string[] = ['', `## The control plane's ceiling (${cp.settings})`, ''];
  out.push(
    row(['service', 'sustained', "gateways served at this run's c=32 rate", 'CPU µs per record', 'what limits it']),
    row(['---', '---:', '---:', '---:', '---']),
  );
  const served = (perSec: number): string =>
    Number.isFinite(gatewayRps) && gatewayRps > 0 ? fmt(perSec / gatewayRps, 1) : '–';
  const cost = (d?: CeilingFigure): string =>
    d
      ? Object.entries(d.costUs)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k} ${fmt(v as number, 1)}`)
          .join(', ')
      : '–';
  const rows: [string, number, CeilingFigure | undefined, string][] = [
    ['auth, usage on SQLite', cp.sqliteUsagePerSec, cp.details.sqliteUsage, 'one record per request'],
    ['auth, usage on Redis', cp.redisUsagePerSec, cp.details.redisUsage, 'one record per request'],
    [
      'key-pool, outcomes (20 per event)',
      cp.keyPoolOutcomesPerSec,
      cp.details.keyPoolOutcomes,
      'every request failing over once',
    ],
    [
      'key-pool, outcomes (1 per event)',
      cp.keyPoolOutcomesPerSecSingle,
      cp.details.keyPoolOutcomesSingle,
      'every request failing over once, one event each',
    ],
  ];
  for (const [name, perSec, d, per] of rows) {
    out.push(row([name, `${fmtInt(perSec)} / s`, `${served(perSec)} (${per})`, cost(d), d?.limitedBy ?? '–']));
  }
  const first = rows
    .slice(0, 3)
    .filter(([, perSec]) => Number.isFinite(perSec))
    .sort((a, b) => a[1] - b[1])[0];
  if (first) out.push('', `First to saturate in this run: ${first[0]} (${fmtInt(first[1])} / s).`);
  return out;
}
