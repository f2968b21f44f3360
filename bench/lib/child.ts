/** Child processes of the bench: each prints one `READY {json}` line on stdout when it is listening. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface Child<T> {
  name: string;
  child: ChildProcess;
  info: T;
  stop(): Promise<void>;
}

/** dist/bench/bench: where the compiled bench scripts live */
export const BENCH_DIST = join(__dirname, '..');

export async function startChild<T>(
  name: string,
  script: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<Child<T>> {
  const child = spawn(process.execPath, [...nodeArgs, join(BENCH_DIST, script)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const info = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 20 s:\n${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^READY (.*)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(JSON.parse(m[1]) as T);
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
      if (process.env.BENCH_LOGS === '1') process.stderr.write(`[${name}] ${d}`);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${out}`));
    });
  });
  return {
    name,
    child,
    info,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Print the ready line (in a child). */
export function announce(info: unknown): void {
  process.stdout.write(`READY ${JSON.stringify(info)}\n`);
}
