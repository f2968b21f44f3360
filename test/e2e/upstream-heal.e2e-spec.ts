import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createUserKey, fakeGeminiKey, poll } from './helpers';
import { gatewayInSync, gauge } from './pool-support';

jest.setTimeout(90_000);

/**
 * A TCP pass-through in front of the scripted upstream that can go down: while down it resets every connection, the
 * open ones at once and new ones as they are accepted, so that a request gets no response at all (a connection-level
 * failure, not an HTTP status). Up again, it passes bytes both ways untouched.
 */
interface Outage {
  url: string;
  down(): void;
  up(): void;
  close(): Promise<void>;
}

async function startOutage(target: string): Promise<Outage> {
  const { hostname, port } = new URL(target);
  let down = false;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (down) return client.resetAndDestroy();
    const upstream = connect(Number(port), hostname);
    open.add(client);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => {
      open.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    down() {
      down = true;
      for (const s of open) s.resetAndDestroy();
    },
    up() {
      down = false;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}

/**
 * The gateway's upstream client heals itself: after a run of connection failures (every connection reset) it replaces
 * its connection pool, counts it in gateway_upstream_client_rebuilds_total and logs one warning; once the upstream
 * is back, requests are served again at once, by the same process.
 */
describe('upstream client healing', () => {
  let mock: MockGemini;
  let outage: Outage;
  let stack: Stack;
  let userKey: string;
  const pool = [fakeGeminiKey(), fakeGeminiKey(), fakeGeminiKey()];

  beforeAll(async () => {
    mock = await startMockGemini();
    outage = await startOutage(mock.url);
    stack = await Stack.start({
      geminiBaseUrl: outage.url,
      // what this test watches is the HTTP client, not the keys: no key may cool down over the outage's failures
      env: { KEY_MAX_FAILURES: '1000' },
    });
    const admin = await stack.login();
    expect((await stack.api(admin, 'POST', '/api/keys', { keys: pool })).status).toBe(201);
    userKey = (await createUserKey(stack, admin, 'heal')).key;
    await gatewayInSync(stack, pool.length);
  });

  afterAll(async () => {
    await stack?.stop();
    await outage?.close();
    await mock?.close();
  });

  const generate = async (text: string): Promise<number> => {
    const r = await fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': userKey, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text }] }] }),
    });
    await r.arrayBuffer();
    return r.status;
  };

  it('replaces its pool while every connection is reset, and serves again within a second of the recovery, without a restart', async () => {
    const metricsUrl = stack.metricsUrlOf('gateway');
    const gateway = stack.procs.find((p) => p.name === 'gateway')!;
    const pid = gateway.child.pid;
    const startedAt = await gauge(metricsUrl, 'process_start_time_seconds');
    // served through the front, on kept-alive connections the outage will reset
    expect(await generate('before')).toBe(200);
    expect(await gauge(metricsUrl, 'gateway_upstream_client_rebuilds_total')).toBe(0);

    outage.down();
    const statuses: number[] = [];
    await poll(
      async () => {
        statuses.push(await generate('during'));
        return gauge(metricsUrl, 'gateway_upstream_client_rebuilds_total');
      },
      (n) => n >= 1,
      10_000,
      'the upstream client to be replaced',
    );
    // and the outage goes on a while past the replacement: the new pool meets it too
    for (let i = 0; i < 3; i++) statuses.push(await generate('still down'));
    // every key tried met a reset: the upstream could not be reached
    expect(new Set(statuses)).toEqual(new Set([502]));

    outage.up();
    const recoveredAt = Date.now();
    await poll(
      () => generate('after'),
      (s) => s === 200,
      1_000,
      'a 200 within a second of the recovery',
    );
    expect(Date.now() - recoveredAt).toBeLessThan(1_000);
    expect(await generate('after, again')).toBe(200);

    expect(await gauge(metricsUrl, 'gateway_upstream_client_rebuilds_total')).toBeGreaterThanOrEqual(1);
    // the same process served before, during and after: no restart
    expect(gateway.child.exitCode).toBeNull();
    expect(stack.procs.find((p) => p.name === 'gateway')!.child.pid).toBe(pid);
    expect(await gauge(metricsUrl, 'process_start_time_seconds')).toBe(startedAt);
    const log = stack.output('gateway');
    expect(log).toMatch(/upstream connection pool to http:\/\/127\.0\.0\.1:\d+ replaced after \d+ connection failures/);
    for (const secret of [...pool, userKey]) expect(log).not.toContain(secret);
  });
});
