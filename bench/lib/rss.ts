/** Resident set size of a process, from /proc/<pid>/status (VmRSS), and a sampler that keeps the peak. */
import { readFileSync } from 'node:fs';

export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export class RssSampler {
  peak = 0;
  last = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs: number,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): number {
    const v = rssMb(this.pid);
    if (Number.isFinite(v)) {
      this.last = v;
      if (v > this.peak) this.peak = v;
    }
    return v;
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}
