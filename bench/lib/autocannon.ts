/** The fallback load generator when wrk is not installed: autocannon in its own process, --json output. */
import { spawn } from 'node:child_process';
import type { Load, Target, WrkResult } from './wrk';

const BIN = require.resolve('autocannon/autocannon.js');

export function runAutocannon(target: Target, load: Load, connections: number, seconds: number): Promise<WrkResult> {
  const args = [
    BIN,
    '--json',
    '-c',
    String(connections),
    '-d',
    String(seconds),
    '-m',
    'POST',
    '-H',
    'content-type=application/json',
    '-H',
    `x-goog-api-key=${target.key}`,
    '-b',
    load.body,
    target.url + load.path,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      try {
        const r = JSON.parse(out) as {
          requests: { average: number; total: number };
          latency: { p50: number; p75: number; p90: number; p99: number };
          non2xx: number;
          errors: number;
          duration: number;
        };
        resolve({
          rps: r.requests.total / r.duration,
          p50: r.latency.p50,
          p75: r.latency.p75,
          p90: r.latency.p90,
          p99: r.latency.p99,
          requests: r.requests.total,
          errors: r.non2xx + r.errors,
        });
      } catch {
        reject(new Error(`autocannon exited with ${code}: ${out.slice(0, 500)}`));
      }
    });
  });
}
