/** Runs wrk (one thread, --latency) with a Lua script for the POST, and parses its report. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Target {
  /** how the path is named in the table */
  name: string;
  /** origin, e.g. http://127.0.0.1:1234 */
  url: string;
  /** the key this target expects (user key for the gateway, a pool key for direct, anything for floors) */
  key: string;
}

export interface Load {
  /** e.g. /v1beta/models/gemini-2.5-flash:generateContent */
  path: string;
  body: string;
}

export interface WrkResult {
  rps: number;
  p50: number;
  p75: number;
  p90: number;
  p99: number;
  requests: number;
  /** non-2xx answers plus socket errors */
  errors: number;
}

const dir = mkdtempSync(join(tmpdir(), 'gg-bench-wrk-'));
let scripts = 0;

function luaScript(target: Target, load: Load): string {
  const file = join(dir, `s${scripts++}.lua`);
  const q = (s: string): string => `[==[${s}]==]`;
  writeFileSync(
    file,
    [
      'wrk.method = "POST"',
      `wrk.body = ${q(load.body)}`,
      'wrk.headers["Content-Type"] = "application/json"',
      `wrk.headers["x-goog-api-key"] = ${q(target.key)}`,
      '',
    ].join('\n'),
  );
  return file;
}

/** wrk prints 64.00us, 1.23ms, 2.00s */
function ms(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 'ms' ? v : m[2] === 's' ? v * 1000 : v * 60_000;
}

export function parseWrk(out: string): WrkResult {
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(out);
    return m ? ms(m[1]) : NaN;
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const sockErrors = sock ? sock.slice(1).reduce((n, x) => n + Number(x), 0) : 0;
  return { rps, p50: pct('50'), p75: pct('75'), p90: pct('90'), p99: pct('99'), requests, errors: non2xx + sockErrors };
}

export function runWrk(target: Target, load: Load, connections: number, seconds: number): Promise<WrkResult> {
  const script = luaScript(target, load);
  const args = [
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '--latency',
    '--timeout',
    '10s',
    '-s',
    script,
    target.url + load.path,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited with ${code}: ${out}`));
      const r = parseWrk(out);
      if (!Number.isFinite(r.rps)) return reject(new Error(`could not parse wrk output:\n${out}`));
      resolve(r);
    });
  });
}

export async function wrkVersion(): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn('wrk', ['-v'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', () => resolve(null));
    child.once('exit', () => resolve(/wrk\s+(\S+)/.exec(out)?.[1] ?? (out.trim().split('\n')[0] || null)));
  });
}
