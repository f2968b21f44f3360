import { transformSync } from '@swc/core';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEscaped } from './escaped-errors';

describe('describeEscaped', () => {
  it('keeps the error name, code and first frames, and masks anything shaped like a key', () => {
    const e = Object.assign(
      new TypeError('bad header for AIzaSyA1234567890abcdefghijklmnop and gg-abcdefghijklmnopqrstuvwxyz012'),
      { code: 'ERR_X' },
    );
    const text = describeEscaped(e);
    expect(text).toContain('TypeError: bad header for AIza…');
    expect(text).toContain('gg-a…');
    expect(text).toContain('[ERR_X]');
    expect(text).not.toMatch(/AIzaSyA1234567890|gg-abcdefghijklmnop/);
  });

  it('describes a rejection with a value that is not an Error', () => {
    expect(describeEscaped('plain')).toBe('plain');
    expect(describeEscaped(undefined)).toBe('undefined');
  });
});

describe('installEscapedErrorHandlers', () => {
  /**
   * In a process of its own (jest has handlers of its own): a throw in a timer and a rejection nobody handles are
   * logged without secrets and counted, and the process keeps running. Without the handlers it dies at the throw.
   */
  it('keeps the process alive through an uncaught exception and an unhandled rejection, counting and logging both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gg-escaped-'));
    try {
      const src = readFileSync(join(__dirname, 'escaped-errors.ts'), 'utf8');
      writeFileSync(
        join(dir, 'escaped-errors.js'),
        transformSync(src, {
          jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
          module: { type: 'commonjs' },
        }).code,
      );
      const child = `
        const { Registry } = require('prom-client');
        const { installEscapedErrorHandlers } = require('./escaped-errors.js');
        const registry = new Registry();
        const lines = [];
        installEscapedErrorHandlers(registry, { error: (m) => lines.push(m) });
        setTimeout(() => { throw new TypeError('thrown in a listener with AIzaSyA1234567890abcdefghijklmnop'); }, 0);
        Promise.reject(new Error('rejected, nobody listening'));
        setTimeout(async () => {
          process.stdout.write(JSON.stringify({ metrics: await registry.metrics(), lines }));
        }, 20);
      `;
      const r = spawnSync(process.execPath, ['-e', child], {
        cwd: dir,
        env: { ...process.env, NODE_PATH: join(__dirname, '../../../../node_modules') },
        encoding: 'utf8',
        timeout: 10_000,
      });
      expect({ status: r.status, stderr: r.stderr.slice(0, 300) }).toEqual({ status: 0, stderr: '' });
      const out = JSON.parse(r.stdout) as { metrics: string; lines: string[] };
      expect(out.metrics).toContain('gateway_escaped_errors_total{kind="uncaughtException"} 1');
      expect(out.metrics).toContain('gateway_escaped_errors_total{kind="unhandledRejection"} 1');
      expect(out.lines.join('\n')).toContain(
        'uncaughtException (the gateway keeps serving): TypeError: thrown in a listener with AIza…',
      );
      expect(out.lines.join('\n')).toContain(
        'unhandledRejection (the gateway keeps serving): Error: rejected, nobody listening',
      );
      expect(out.lines.join('\n')).not.toContain('AIzaSyA1234567890');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
