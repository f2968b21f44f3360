/** Helpers of the pool end-to-end tests (test/e2e/pool*.e2e-spec.ts). */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import type { PoolKey } from '@gg/contracts';
import type { MockGemini, Stack } from '@gg/testing';
import { maskOf, poll, poolKeys } from './helpers';

/**
 * A pass-through in front of the scripted upstream that can answer a 429 the way the mock cannot: with a
 * `Retry-After` header and no RetryInfo in the body. Everything else goes on to the mock unchanged.
 */
export interface Front {
  url: string;
  /** pool key -> Retry-After value: requests with that key get the 429 */
  retryAfter: Map<string, string>;
  /** keys of the requests the front answered itself */
  answered: string[];
  close(): Promise<void>;
}

const BARE_429 = JSON.stringify(
  { error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' } },
  null,
  2,
);

export async function startFront(target: string): Promise<Front> {
  const retryAfter = new Map<string, string>();
  const answered: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const key = String(req.headers['x-goog-api-key'] ?? '');
    const after = retryAfter.get(key);
    if (after !== undefined) {
      answered.push(key);
      req.resume();
      res.writeHead(429, { 'content-type': 'application/json; charset=UTF-8', 'retry-after': after }).end(BARE_429);
      return;
    }
    const up = httpRequest(`${target}${req.url}`, { method: req.method, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      // an upstream that breaks mid-body breaks the answer here too
      pipeline(upRes, res, (e) => e && res.destroy());
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    retryAfter,
    answered,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function keyOf(keys: PoolKey[], secret: string): PoolKey {
  const k = keys.find((x) => x.masked === maskOf(secret));
  if (!k) throw new Error(`pool key ${maskOf(secret)} not listed`);
  return k;
}

/** Polls GET /api/keys until the pool key of `secret` satisfies `ok`. */
export async function waitForKey(
  stack: Stack,
  token: string,
  secret: string,
  ok: (k: PoolKey) => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<PoolKey> {
  const keys = await poll(
    () => poolKeys(stack, token),
    (ks) => ok(keyOf(ks, secret)),
    timeoutMs,
    what,
  );
  return keyOf(keys, secret);
}

/** The pool keys the upstream saw since `from` (an index into mock.requests), in order. */
export function keysSince(mock: MockGemini, from: number): string[] {
  return mock.requests.slice(from).map((r) => r.key);
}

/**
 * Sends requests one after another until the upstream has seen each of `secrets` `times` more times (keys are
 * taken in turn, so they come round within a few requests). Returns the HTTP statuses the client got.
 */
export async function sendUntilSeen(
  mock: MockGemini,
  secrets: string | string[],
  send: () => Promise<Response>,
  times = 1,
  maxRequests = 20,
): Promise<number[]> {
  const list = Array.isArray(secrets) ? secrets : [secrets];
  const count = (s: string) => mock.requests.filter((r) => r.key === s).length;
  const targets = list.map((s) => count(s) + times);
  const statuses: number[] = [];
  while (list.some((s, i) => count(s) < targets[i])) {
    if (statuses.length >= maxRequests) {
      const seen = mock.requests.slice(-maxRequests).map((r) => maskOf(r.key));
      throw new Error(
        `the upstream never saw ${list.map(maskOf).join(', ')} ${times} more time(s); statuses ${statuses.join(',')}; it saw ${seen.join(' ')}`,
      );
    }
    const r = await send();
    await r.arrayBuffer().catch(() => undefined);
    statuses.push(r.status);
  }
  return statuses;
}

/** A gauge of an app's /metrics (the first series of that name and labels), NaN when absent. */
export async function gauge(url: string, series: string): Promise<number> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : NaN;
}

/** Waits until a gateway replica's copy of the pool shows `active` keys active and no pause (after a reset). */
export async function gatewayInSync(stack: Stack, active: number, gateway = 0): Promise<void> {
  const url = stack.metricsUrlOf('gateway', gateway);
  await poll(
    async () => [
      await gauge(url, 'gateway_pool_keys{status="active"}'),
      await gauge(url, 'gateway_pool_paused_seconds'),
    ],
    ([a, p]) => a === active && p === 0,
    3000,
    `gateway ${gateway} to see ${active} active keys`,
  );
}

/** Waits until a gateway replica's copy of the pool has `n` keys of that status (key-pool's push reached it). */
export async function gatewaySees(
  stack: Stack,
  status: 'active' | 'cooldown' | 'disabled',
  n: number,
  gateway = 0,
): Promise<void> {
  const url = stack.metricsUrlOf('gateway', gateway);
  await poll(
    () => gauge(url, `gateway_pool_keys{status="${status}"}`),
    (v) => v === n,
    3000,
    `gateway ${gateway} to see ${n} ${status} key(s)`,
  );
}

/** Milliseconds from now until an ISO time. */
export function msUntil(iso: string | null): number {
  return iso ? Date.parse(iso) - Date.now() : NaN;
}
