/**
 * Who pays for a request: the CPU each process of a path spent per request at c=32, from /proc, over one run of the
 * unary workload. On this 2-core machine every process shares the same cores, so the throughput ratio of the gateway
 * to a one-process relay is bounded by the ratio of their totals here; this says which process the difference is in.
 */
import type { Runner } from './throughput';
import type { Load, Target } from '../lib/wrk';
import { procTicks, TICKS } from '../lib/cpu';

export interface CpuSplit {
  path: string;
  rps: number;
  /** process name -> CPU µs per request (undefined when it could not be read) */
  usPerRequest: Record<string, number | undefined>;
  totalUs: number;
}

export async function cpuSplit(
  run: Runner,
  target: Target,
  load: Load,
  pids: Record<string, number | undefined>,
  seconds: number,
): Promise<CpuSplit> {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, procTicks(pid)]));
  const r = await run(target, load, 32, seconds);
  const requests = r.requests;
  const usPerRequest: Record<string, number | undefined> = {};
  let totalUs = 0;
  for (const [name, pid] of Object.entries(pids)) {
    const a = before[name];
    const b = procTicks(pid);
    if (a === undefined || b === undefined || requests <= 0) {
      usPerRequest[name] = undefined;
      continue;
    }
    const us = ((b - a) / TICKS / requests) * 1e6;
    usPerRequest[name] = us;
    totalUs += us;
  }
  return { path: target.name, rps: r.rps, usPerRequest, totalUs };
}
