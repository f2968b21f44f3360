/** A description of the machine the figures come from. */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  kernel: string;
  loader: string;
  date: string;
  loadBefore: string;
  /** filled at the end of the run */
  loadAfter?: string;
}

export function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

export function describeMachine(loader: string): Machine {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    // not Linux
  }
  return {
    cpu,
    cores: cpus().length,
    memoryGb: totalmem() / 1024 ** 3,
    node: process.version,
    kernel: release(),
    loader,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    loadBefore: loadAverage(),
  };
}
