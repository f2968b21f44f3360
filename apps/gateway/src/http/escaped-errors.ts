import type { Logger } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';

const SECRETS = /AIza[0-9A-Za-z_-]{20,}|gg-[0-9A-Za-z_-]{20,}/g;

let installed: { counter: Counter<'kind'> } | null = null;

/**
 * The last line of defence: an error no request chain caught (`unhandledRejection`, `uncaughtException`) is
 * logged, without secrets, and counted in `gateway_escaped_errors_total{kind}`, and the replica keeps serving
 * every other request and stream. Each request chain ends in its own handler, so this counter should stay at 0:
 * alert on any increase, it is a bug.
 */
export function installEscapedErrorHandlers(registry: Registry, logger: Logger): Counter<'kind'> {
  if (installed) return installed.counter;
  const counter = new Counter({
    name: 'gateway_escaped_errors_total',
    help: 'Errors no request handler caught (unhandledRejection, uncaughtException); the process kept running',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const report = (kind: 'unhandledRejection' | 'uncaughtException', e: unknown): void => {
    counter.inc({ kind });
    try {
      logger.error(`${kind} (the gateway keeps serving): ${describeEscaped(e)}`);
    } catch {
      // a logger that throws must not turn this handler into a crash
    }
  };
  process.on('unhandledRejection', (e) => report('unhandledRejection', e));
  process.on('uncaughtException', (e) => report('uncaughtException', e));
  installed = { counter };
  return counter;
}

/** The error's name, code, message and first frames, with anything shaped like a key masked. */
export function describeEscaped(e: unknown): string {
  const err = e as { stack?: unknown; message?: unknown; code?: unknown } | null;
  const text =
    typeof err?.stack === 'string' ? err.stack.split('\n').slice(0, 6).join(' | ') : String(err?.message ?? e);
  const code = typeof err?.code === 'string' ? ` [${err.code}]` : '';
  return (text + code).replace(SECRETS, (m) => `${m.slice(0, 4)}…`).slice(0, 1000);
}
