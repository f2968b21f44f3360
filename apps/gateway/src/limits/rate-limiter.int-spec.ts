import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { loadConfig, type AppConfig } from '@gg/config';
import Redis from 'ioredis';
import { testRedisUrl, waitFor } from '@gg/testing';
import { GatewayMetrics } from '../http/gateway-metrics';
import { RateLimiterService } from './rate-limiter.service';

const REDIS_URL = testRedisUrl();

function configFor(ns: string, env: Record<string, string> = {}): AppConfig {
  return loadConfig({
    REDIS_URL,
    REDIS_NAMESPACE: ns,
    JWT_SECRET: randomBytes(32).toString('hex'),
    KEY_HASH_SECRET: randomBytes(32).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    TRANSPORT_KEY: randomBytes(32).toString('hex'),
    ...env,
  });
}

/**
 * A Redis that connects and then hangs: it answers the client's handshake (CLIENT SETINFO, INFO) and nothing else, so every
 * command waits. `close` drops its connections.
 */
function hangingRedis(): Promise<{ url: string; close: () => void }> {
  const info = '# Server\r\nredis_version:7.0.0\r\nloading:0\r\n';
  return new Promise((resolve) => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', (d) => {
        // the handshake (CLIENT SETINFO, INFO) in order; any other command waits forever
        for (const [, cmd] of d.toString().matchAll(/\r\n(SETINFO|info)\r\n/gi)) {
          socket.write(/^info$/i.test(cmd) ? `$${Buffer.byteLength(info)}\r\n${info}\r\n` : '+OK\r\n');
        }
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address() as { port: number };
      const close = (): void => {
        for (const socket of sockets) socket.destroy();
        server.close();
      };
      resolve({ url: `redis://127.0.0.1:${addr.port}`, close });
    });
  });
}

describe('RateLimiterService (GCRA in Redis)', () => {
  const ns = `t-rl-${randomBytes(4).toString('hex')}`;
  const limiters: RateLimiterService[] = [];
  const redis = new Redis(REDIS_URL);

  /** the limiter's connection has no offline queue: wait until it is up (`hanging`: until it is connected) */
  const ready = async (l: RateLimiterService, hanging = false): Promise<void> => {
    const up = (): boolean => (l as unknown as { redis: Redis }).redis.status === 'ready';
    await waitFor(
      async () => (hanging ? up() : !(await l.hit('warm', 1_000_000)).unavailable),
      5000,
      'the limiter to reach Redis',
      20,
    );
  };

  const limiter = (env: Record<string, string> = {}, metrics = new GatewayMetrics()): RateLimiterService => {
    const l = new RateLimiterService(configFor(ns, env), metrics);
    limiters.push(l);
    return l;
  };

  afterAll(async () => {
    for (const l of limiters) l.onApplicationShutdown();
    const keys = await redis.keys(`${ns}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('admits a burst of N, then one every 60/N s, shared by every replica', async () => {
    const [a, b] = [limiter(), limiter()];
    await Promise.all([ready(a), ready(b)]);
    const N = 5;
    // 2N at once, alternating between two replicas: exactly N go through
    const verdicts = await Promise.all(Array.from({ length: 2 * N }, (_, i) => (i % 2 ? a : b).hit('k1', N)));
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(N);
    const refused = verdicts.filter((v) => !v.allowed);
    // the next request is admitted 60 s / N = 12 s after the burst began
    for (const v of refused) expect(v.retryAfter).toBeGreaterThanOrEqual(11);
    for (const v of refused) expect(v.retryAfter).toBeLessThanOrEqual(12);
    // another key has its own budget
    expect((await a.hit('k2', N)).allowed).toBe(true);
  });

  it('admits again as the budget refills (one per interval), never more', async () => {
    const l = limiter();
    await ready(l);
    // 60 per minute: a burst of 60, then one every second
    const burst = await Promise.all(Array.from({ length: 60 }, () => l.hit('k3', 60)));
    const started = Date.now();
    expect(burst.filter((v) => v.allowed)).toHaveLength(60);
    expect(await l.hit('k3', 60)).toEqual({ allowed: false, retryAfter: 1 });
    // time passing is the behaviour: two refill intervals (and a margin) after the burst
    await new Promise((r) => setTimeout(r, 2100 - (Date.now() - started)));
    const after = await Promise.all(Array.from({ length: 10 }, () => l.hit('k3', 60)));
    expect(after.filter((v) => v.allowed)).toHaveLength(2);
  });

  it('RATE_LIMIT_FAIL_MODE=closed refuses when Redis does not answer in time; open lets through and counts it', async () => {
    const hole = await hangingRedis();
    const closedMetrics = new GatewayMetrics();
    const closed = limiter({ REDIS_URL: hole.url, RATE_LIMIT_FAIL_MODE: 'closed' }, closedMetrics);
    const openMetrics = new GatewayMetrics();
    const open = limiter({ REDIS_URL: hole.url }, openMetrics);
    try {
      await Promise.all([closed, open].map((l) => ready(l, true)));
      const started = Date.now();
      expect(await closed.hit('k4', 5)).toEqual({ allowed: false, retryAfter: 1, unavailable: true });
      expect(await open.hit('k4', 5)).toEqual({ allowed: true, retryAfter: 1, unavailable: true });
      // each waited for the short command timeout (250 ms), no longer
      expect(Date.now() - started).toBeGreaterThanOrEqual(2 * 240);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(await closedMetrics.registry.getSingleMetricAsString('gateway_rate_limit_unenforced_total')).toContain(
        '{mode="closed"} 1',
      );
      expect(await openMetrics.registry.getSingleMetricAsString('gateway_rate_limit_unenforced_total')).toContain(
        '{mode="open"} 1',
      );
    } finally {
      closed.onApplicationShutdown();
      open.onApplicationShutdown();
      hole.close();
    }
  });
});
