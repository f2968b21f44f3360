import { Logger } from '@nestjs/common';
import { loadConfig, type AppConfig } from '@gg/config';
import { currentRequestId, isUpstreamProxyFailure, runWithRequestId, type UpstreamProxyError } from '@gg/nest-common';
import { startHttpProxy, startSocks5Proxy, type TestProxy } from '@gg/testing';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayMetrics } from '../http/gateway-metrics';
import { RequestAbort } from './request-abort';
import { ConnectionHealth, HEAL, isConnectionFailure, UpstreamService } from './upstream.service';

const SECRET = 'AIzaTestSecretKeyThatMustNeverBeLogged01';

type Mode = 'ok' | 'reset' | '500' | 'hang';

/**
 * A real HTTP origin whose behaviour the test switches: `reset` destroys every connection (kept-alive ones at once,
 * new ones as they are accepted: the request gets no response), `ok` answers 200, `500` answers 500, `hang` never
 * answers; `/slow` is held until the test releases it, and its connection survives a reset.
 */
class Origin {
  private current: Mode = 'ok';
  /** connections accepted and kept (not reset) */
  accepted = 0;
  slow: { req: IncomingMessage; res: ServerResponse } | null = null;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor() {
    this.server = createServer((req, res) => {
      req.resume();
      if (req.url === '/slow') {
        this.slow = { req, res };
        return;
      }
      if (this.current === 'hang') return;
      res.writeHead(this.current === '500' ? 500 : 200, { 'content-type': 'text/plain' }).end(this.current);
    });
    this.server.on('connection', (s: Socket) => {
      if (this.current === 'reset') {
        s.destroy();
        return;
      }
      this.accepted++;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  set mode(mode: Mode) {
    this.current = mode;
    if (mode !== 'reset') return;
    for (const s of this.sockets) if (s !== this.slow?.req.socket) s.destroy();
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** connections still open (idle keep-alive ones included) */
  get open(): number {
    return this.sockets.size;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** An address nothing listens on: connections to it are refused. */
async function refusingUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

function configFor(url: string, extra: Partial<AppConfig> = {}): AppConfig {
  const dataDir = mkdtempSync(join(tmpdir(), 'gg-upstream-'));
  return { ...loadConfig({ DATA_DIR: dataDir, GEMINI_BASE_URL: url }), ...extra };
}

async function rebuilds(metrics: GatewayMetrics): Promise<number> {
  return (await metrics.upstreamClientRebuilds.get()).values[0]?.value ?? 0;
}

/** Waits (polling every 10 ms, at most 5 s) until `ok` holds. */
async function until(ok: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5_000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('UpstreamService heals itself', () => {
  let origin: Origin;
  let metrics: GatewayMetrics;
  let upstream: UpstreamService | undefined;
  let warn: jest.SpyInstance;

  beforeEach(() => {
    origin = new Origin();
    metrics = new GatewayMetrics();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    warn.mockRestore();
    await upstream?.onApplicationShutdown();
    upstream = undefined;
    await origin.close();
  });

  const send = (path = '/x', extra: { signal?: RequestAbort; headersTimeout?: number } = {}) =>
    upstream!.request({
      method: 'POST',
      path,
      headers: { 'x-goog-api-key': SECRET, 'content-type': 'application/json' },
      body: [Buffer.from('{}')],
      signal: extra.signal ?? new RequestAbort(),
      headersTimeout: extra.headersTimeout,
    });
  /** `n` requests one after another, each expected to fail on its connection */
  const fail = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const e = (await send().catch((x: unknown) => x)) as { code?: string };
      expect(isConnectionFailure(e)).toBe(true);
    }
  };
  const succeed = async (status = 200) => {
    const up = await send();
    expect(up.statusCode).toBe(status);
    await up.body.text();
  };

  it('replaces the pool after HEAL.failures refused connections in a row, not before, and at most once per interval', async () => {
    upstream = new UpstreamService(configFor(await refusingUrl()), metrics);
    await fail(HEAL.failures - 1);
    expect(await rebuilds(metrics)).toBe(0);
    expect(warn).not.toHaveBeenCalled();
    await fail(1);
    expect(await rebuilds(metrics)).toBe(1);
    expect(warn).toHaveBeenCalledTimes(1);
    const line = String(warn.mock.calls[0][0]);
    expect(line).toMatch(/replaced after 5 connection failures in a row \(last: ECONNREFUSED\)/);
    expect(line).not.toContain(SECRET);
    // the next run comes at once, within the interval: no second replacement
    await fail(2 * HEAL.failures);
    expect(await rebuilds(metrics)).toBe(1);
  });

  it('counts resets before any response; a success, even a 5xx, starts the count again', async () => {
    upstream = new UpstreamService(configFor(await origin.listen()), metrics);
    origin.mode = 'reset';
    await fail(HEAL.failures - 1);
    origin.mode = 'ok';
    await succeed();
    origin.mode = 'reset';
    await fail(HEAL.failures - 1);
    origin.mode = '500';
    // a connection that carried an HTTP answer works, whatever the status
    await succeed(500);
    origin.mode = 'reset';
    await fail(HEAL.failures - 1);
    expect(await rebuilds(metrics)).toBe(0);
    await fail(1);
    expect(await rebuilds(metrics)).toBe(1);
  });

  it("neither counts nor forgives the gateway's own aborts and headers timeouts", async () => {
    upstream = new UpstreamService(configFor(await origin.listen()), metrics);
    origin.mode = 'reset';
    await fail(HEAL.failures - 1);
    origin.mode = 'hang';
    // with HEAL.failures - 1 in a row, any one of these counted would replace the pool
    for (let i = 0; i < 2; i++) {
      const e = (await send('/x', { headersTimeout: 100 }).catch((x: unknown) => x)) as { code?: string };
      expect(e.code).toBe('UND_ERR_HEADERS_TIMEOUT');
      const abort = new RequestAbort();
      const pending = send('/x', { signal: abort }).catch((x: unknown) => x);
      setImmediate(() => abort.abort());
      expect(((await pending) as { name?: string }).name).toBe('AbortError');
    }
    expect(await rebuilds(metrics)).toBe(0);
    // still HEAL.failures - 1 in a row: one more reset completes the run
    origin.mode = 'reset';
    await fail(1);
    expect(await rebuilds(metrics)).toBe(1);
  });

  it('lets a request in flight on the replaced pool finish, sends new ones on fresh connections, then closes the old ones', async () => {
    upstream = new UpstreamService(configFor(await origin.listen()), metrics);
    const pending = send('/slow');
    await until(() => origin.slow !== null, 'the slow request to arrive');
    origin.slow!.res.writeHead(200, { 'content-type': 'text/plain' }).write('first half, ');
    const slow = await pending;
    expect(slow.statusCode).toBe(200);
    origin.mode = 'reset';
    await fail(HEAL.failures);
    expect(await rebuilds(metrics)).toBe(1);
    origin.mode = 'ok';
    const before = origin.accepted;
    await succeed();
    expect(origin.accepted).toBe(before + 1);
    // the slow answer still streams over the old pool's connection, to its end
    origin.slow!.res.end('second half');
    expect(await slow.body.text()).toBe('first half, second half');
    // drained: the old pool closed its connection; the new pool keeps its one idle connection
    await until(() => origin.open === 1, 'the old connection to close');
  });

  it('destroys a replaced pool whose request outlives every deadline', async () => {
    // a 100 ms deadline: the old pool is destroyed 100 ms + DEADLINE_BACKSTOP_MS after the replacement
    upstream = new UpstreamService(configFor(await origin.listen(), { requestTimeoutMs: 100 }), metrics);
    // no deadline of its own here (the gateway would have aborted it): only the destruction ends it
    const stuck = send('/slow', { headersTimeout: 60_000 }).catch((x: unknown) => x);
    await until(() => origin.slow !== null, 'the stuck request to arrive');
    origin.mode = 'reset';
    await fail(HEAL.failures);
    expect(await rebuilds(metrics)).toBe(1);
    expect(((await stuck) as { code?: string }).code).toBe('UND_ERR_DESTROYED');
  });
});

describe('UpstreamService connection settings', () => {
  let origin: Origin;
  let upstream: UpstreamService;

  afterEach(async () => {
    await upstream.onApplicationShutdown();
    await origin.close();
  });

  const get = async () => {
    const up = await upstream.request({
      method: 'GET',
      path: '/x',
      headers: {},
      body: null,
      signal: new RequestAbort(),
    });
    return up.body.text();
  };

  it('opens at most UPSTREAM_CONNECTIONS connections: requests past it wait for one', async () => {
    origin = new Origin();
    upstream = new UpstreamService(configFor(await origin.listen(), { upstreamConnections: 1 }), new GatewayMetrics());
    expect(await Promise.all([get(), get(), get()])).toEqual(['ok', 'ok', 'ok']);
    expect(origin.accepted).toBe(1);
  });

  it('closes an idle connection after UPSTREAM_KEEPALIVE_SECONDS', async () => {
    origin = new Origin();
    upstream = new UpstreamService(
      configFor(await origin.listen(), { upstreamKeepAliveMs: 1_000 }),
      new GatewayMetrics(),
    );
    expect(await get()).toBe('ok');
    expect(origin.open).toBe(1);
    // the default keeps it 30 s: gone within the 5 s of until(), it was the setting
    await until(() => origin.open === 0, 'the idle connection to close');
  });
});

describe('isConnectionFailure', () => {
  it.each([
    'ECONNREFUSED',
    'ECONNRESET',
    'EPIPE',
    'ENOTFOUND',
    'EAI_AGAIN',
    'UND_ERR_SOCKET',
    'UND_ERR_CONNECT_TIMEOUT',
    'UND_ERR_CLOSED',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'ERR_SSL_WRONG_VERSION_NUMBER',
    'CERT_HAS_EXPIRED',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'GG_UPSTREAM_PROXY',
  ])('counts %s', (code) => {
    expect(isConnectionFailure(Object.assign(new Error('x'), { code }))).toBe(true);
  });

  it.each(['UND_ERR_ABORTED', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_INVALID_ARG', undefined])(
    'leaves out %s',
    (code) => {
      expect(isConnectionFailure(Object.assign(new Error('x'), { code }))).toBe(false);
    },
  );

  it('leaves out an AbortError and anything without a code', () => {
    expect(isConnectionFailure(new DOMException('aborted', 'AbortError'))).toBe(false);
    expect(isConnectionFailure(null)).toBe(false);
    expect(isConnectionFailure('ECONNRESET')).toBe(false);
  });
});

describe('ConnectionHealth', () => {
  const policy = { failures: 3, windowMs: 10_000, minIntervalMs: 5_000, maxIntervalMs: 20_000 };

  it('wants a run of failures within the window', () => {
    const h = new ConnectionHealth(policy);
    expect([h.failure(0), h.failure(6_000)]).toEqual([0, 0]);
    // the failure at 0 has left the window: 2 in it
    expect(h.failure(10_000)).toBe(0);
    expect(h.failure(11_000)).toBe(4);
  });

  it('waits longer after each replacement no success followed, and the least again after a success', () => {
    const h = new ConnectionHealth(policy);
    const run = (t: number) => [h.failure(t), h.failure(t), h.failure(t)].some((n) => n > 0);
    expect(run(0)).toBe(true);
    expect(run(4_999)).toBe(false);
    expect(run(5_000)).toBe(true);
    // then 10 s, 20 s, and never more than 20 s
    expect(run(14_999)).toBe(false);
    expect(run(15_000)).toBe(true);
    expect(run(34_999)).toBe(false);
    expect(run(35_000)).toBe(true);
    expect(run(55_000)).toBe(true);
    h.success();
    expect(run(60_000)).toBe(true);
    expect(run(65_000)).toBe(true);
  });
});

describe.each([
  ['http', startHttpProxy],
  ['socks5', startSocks5Proxy],
] as const)('UpstreamService through an UPSTREAM_PROXY of %s', (scheme, start) => {
  const PASSWORD = 'proxy-pw-never-logged';
  let origin: Origin;
  let proxy: TestProxy;
  let upstream: UpstreamService | undefined;
  let metrics: GatewayMetrics;
  let warn: jest.SpyInstance;

  beforeEach(async () => {
    origin = new Origin();
    proxy = await start({ auth: { user: 'gg', password: PASSWORD } });
    metrics = new GatewayMetrics();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    warn.mockRestore();
    await upstream?.onApplicationShutdown();
    upstream = undefined;
    await proxy.close();
    await origin.close();
  });

  const through = async (extra: Partial<AppConfig> = {}, proxyUrl = proxy.url) =>
    (upstream = new UpstreamService(configFor(await origin.listen(), { upstreamProxy: proxyUrl, ...extra }), metrics));
  const send = (headersTimeout?: number) =>
    upstream!.request({
      method: 'GET',
      path: '/x',
      headers: { 'x-goog-api-key': SECRET },
      body: null,
      signal: new RequestAbort(),
      headersTimeout,
    });
  const get = async () => (await send()).body.text();

  it('opens at most UPSTREAM_CONNECTIONS tunnels and keeps them alive for the next request', async () => {
    await through({ upstreamConnections: 1 });
    expect(await Promise.all([get(), get(), get()])).toEqual(['ok', 'ok', 'ok']);
    expect(await get()).toBe('ok');
    expect([proxy.tunnels, origin.accepted]).toEqual([1, 1]);
  });

  it('closes an idle tunnel after UPSTREAM_KEEPALIVE_SECONDS', async () => {
    await through({ upstreamKeepAliveMs: 1_000 });
    expect(await get()).toBe('ok');
    expect(origin.open).toBe(1);
    const idleSince = Date.now();
    await until(() => origin.open === 0, 'the idle tunnel to close');
    // undici's own default is 4 s (and the gateway's 30 s): closed well before, it was the setting (timers ~1 s precise)
    expect(Date.now() - idleSince).toBeLessThan(3_000);
  });

  it("keeps the request's own headers timeout", async () => {
    await through();
    origin.mode = 'hang';
    const e = (await send(100).catch((x: unknown) => x)) as { code?: string };
    expect(e.code).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(isUpstreamProxyFailure(e)).toBe(false);
  });

  it('tells a proxy that is down from the origin, and heals through it as through a direct connection', async () => {
    const down = new URL(proxy.url);
    down.port = new URL(await refusingUrl()).port;
    await through({}, down.toString());
    for (let i = 0; i < HEAL.failures; i++) {
      const e = await send().catch((x: unknown) => x);
      expect(isUpstreamProxyFailure(e)).toBe(true);
      expect(isConnectionFailure(e)).toBe(true);
      expect((e as UpstreamProxyError).proxy).toBe(`${scheme}://gg:***@${down.host}`);
    }
    expect(await rebuilds(metrics)).toBe(1);
    const line = String(warn.mock.calls[0][0]);
    expect(line).toContain(`via ${scheme}://gg:***@${down.host} replaced after 5 connection failures`);
    expect(line).toContain('(last: GG_UPSTREAM_PROXY)');
    expect(line).not.toContain(PASSWORD);
  });
});

describe('UpstreamService and the request context', () => {
  it("a kept-alive connection's events never run as the request that opened it", async () => {
    // three chunks 10 ms apart: the later ones arrive from the connection's own events
    const server = createServer((req, res) => {
      req.resume();
      let n = 0;
      const t = setInterval(() => {
        res.write('chunk');
        if (++n === 3) {
          clearInterval(t);
          res.end();
        }
      }, 10);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const upstream = new UpstreamService(configFor(url, { upstreamConnections: 1 }), new GatewayMetrics());
    const one = (id: string): Promise<{ after?: string; seen: (string | undefined)[] }> =>
      runWithRequestId(id, async () => {
        const signal = new AbortController().signal;
        const up = await upstream.request({ method: 'GET', path: '/', headers: {}, body: null, signal });
        const seen: (string | undefined)[] = [];
        up.body.on('data', () => seen.push(currentRequestId()));
        await new Promise((r) => up.body.on('end', r));
        return { after: currentRequestId(), seen };
      });
    try {
      expect((await one('first')).after).toBe('first');
      const second = await one('second');
      expect(second.after).toBe('second');
      expect(second.seen.length).toBeGreaterThan(1);
      expect(second.seen).not.toContain('first');
    } finally {
      await upstream.onApplicationShutdown();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
