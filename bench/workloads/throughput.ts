/**
 * The request/response workloads, interleaved: every round runs each (workload, path) pair once, the order of the
 * paths rotated per round, so slow drifts of a shared machine hit every path alike. Ratios are taken within a round,
 * then the median over rounds is reported.
 */
import { median } from '../lib/stats';
import type { Load, Target, WrkResult } from '../lib/wrk';

export type Runner = (target: Target, load: Load, connections: number, seconds: number) => Promise<WrkResult>;

export interface Workload {
  id: string;
  label: string;
  load: Load;
  connections: number;
  targets: Target[];
}

export interface Cell {
  rounds: WrkResult[];
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** workload id -> path name -> cell */
export type Results = Map<string, Map<string, Cell>>;

export async function runRounds(
  run: Runner,
  workloads: Workload[],
  o: { rounds: number; seconds: number; warmupSeconds: number; log: (s: string) => void },
): Promise<Results> {
  if (o.warmupSeconds > 0) {
    const warmed = new Set<string>();
    for (const w of workloads) {
      for (const t of w.targets) {
        const key = `${t.name} ${w.load.path}`;
        if (warmed.has(key)) continue;
        warmed.add(key);
        await run(t, w.load, 32, o.warmupSeconds);
      }
    }
    o.log(`warm-up done (${o.warmupSeconds} s per path and request, c=32)`);
  }
  const raw = new Map<string, Map<string, WrkResult[]>>();
  for (let r = 0; r < o.rounds; r++) {
    for (const w of workloads) {
      const byPath = raw.get(w.id) ?? new Map<string, WrkResult[]>();
      raw.set(w.id, byPath);
      const n = w.targets.length;
      for (let i = 0; i < n; i++) {
        const t = w.targets[(i + r) % n];
        const res = await run(t, w.load, w.connections, o.seconds);
        byPath.set(t.name, [...(byPath.get(t.name) ?? []), res]);
      }
      const line = w.targets.map((t) => {
        const last = byPath.get(t.name)!.at(-1)!;
        return `${t.name} ${Math.round(last.rps)}/s p50 ${last.p50.toFixed(3)}`;
      });
      o.log(`round ${r + 1}/${o.rounds} ${w.label}: ${line.join(' | ')}`);
    }
  }
  const out: Results = new Map();
  for (const [id, byPath] of raw) {
    const cells = new Map<string, Cell>();
    for (const [name, rounds] of byPath) {
      cells.set(name, {
        rounds,
        rps: median(rounds.map((x) => x.rps)),
        p50: median(rounds.map((x) => x.p50)),
        p99: median(rounds.map((x) => x.p99)),
        errors: rounds.reduce((n, x) => n + x.errors, 0),
      });
    }
    out.set(id, cells);
  }
  return out;
}

/** Median over rounds of f(a's round i, b's round i). */
export function pairedMedian(
  a: Cell | undefined,
  b: Cell | undefined,
  f: (x: WrkResult, y: WrkResult) => number,
): number {
  if (!a || !b) return NaN;
  const n = Math.min(a.rounds.length, b.rounds.length);
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(f(a.rounds[i], b.rounds[i]));
  return median(xs);
}
