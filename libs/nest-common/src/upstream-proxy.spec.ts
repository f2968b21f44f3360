import { startHttpProxy, startSocks5Proxy, type TestProxy } from '@gg/testing';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { isUpstreamProxyFailure, proxyDispatcher, UpstreamProxyError } from './upstream-proxy';

const PASSWORD = 'proxy-pw-never-shown';
const auth = { user: 'gg', password: PASSWORD };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A URL nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  const url = await listen(s);
  await new Promise<void>((r) => s.close(() => r()));
  return Number(new URL(url).port);
}

const kinds: [string, (o: { auth?: typeof auth }) => Promise<TestProxy>][] = [
  ['http', startHttpProxy],
  ['socks5', startSocks5Proxy],
];

describe.each(kinds)('proxyDispatcher through a %s proxy', (scheme, start) => {
  let origin: Server;
  let originUrl: string;
  let seen: IncomingHttpHeaders[];
  let proxy: TestProxy;
  let dispatcher: Dispatcher | undefined;

  beforeEach(async () => {
    seen = [];
    origin = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      if (req.url === '/reset') return void req.socket.destroy();
      res.end('ok');
    });
    originUrl = await listen(origin);
    proxy = await start({ auth });
  });

  afterEach(async () => {
    await dispatcher?.destroy().catch(() => undefined);
    dispatcher = undefined;
    await proxy.close();
    origin.closeAllConnections();
    await new Promise<void>((r) => origin.close(() => r()));
  });

  const get = (proxyUrl: string, path = '/x') => {
    dispatcher = proxyDispatcher(proxyUrl, originUrl, { connectTimeoutMs: 2_000 });
    return dispatcher.request({ origin: originUrl, path, method: 'GET' });
  };
  const failure = async (proxyUrl: string, path = '/x'): Promise<unknown> =>
    get(proxyUrl, path).catch((e: unknown) => e);

  it('reaches the origin through a tunnel, on one kept-alive connection, the credentials never passed on', async () => {
    dispatcher = proxyDispatcher(proxy.url, originUrl, { connectTimeoutMs: 2_000, connections: 1 });
    for (let i = 0; i < 3; i++) {
      const r = await dispatcher.request({ origin: originUrl, path: `/x${i}`, method: 'GET' });
      expect([r.statusCode, await r.body.text()]).toEqual([200, 'ok']);
    }
    expect([proxy.tunnels, proxy.forwarded, seen.length]).toEqual([1, 0, 3]);
    expect(proxy.targets).toEqual([new URL(originUrl).host]);
    expect(JSON.stringify(seen)).not.toContain('proxy-authorization');
  });

  it('fails with UpstreamProxyError, the password masked, when the credentials are refused', async () => {
    const e = await failure(proxy.url.replace(PASSWORD, 'wrong'));
    expect(e).toBeInstanceOf(UpstreamProxyError);
    expect(isUpstreamProxyFailure(e)).toBe(true);
    const err = e as UpstreamProxyError;
    expect(err.reason).toBe(scheme === 'http' ? 'HTTP 407' : 'UND_ERR_SOCKS5_AUTH_FAILED');
    expect(err.proxy).toBe(`${scheme}://gg:***@${new URL(proxy.url).host}`);
    expect(err.message).toBe(`upstream proxy ${err.proxy} unreachable (${err.reason})`);
    expect(proxy.refused).toBe(1);
    expect(seen).toHaveLength(0);
  });

  it('fails with UpstreamProxyError when nothing listens at the proxy', async () => {
    const down = new URL(proxy.url);
    down.port = String(await closedPort());
    const e = await failure(down.toString());
    expect(isUpstreamProxyFailure(e)).toBe(true);
    expect((e as UpstreamProxyError).reason).toBe('ECONNREFUSED');
    expect(JSON.stringify(e) + String(e)).not.toContain(PASSWORD);
  });

  it('fails with UpstreamProxyError when the proxy cannot reach the origin', async () => {
    originUrl = `http://127.0.0.1:${await closedPort()}`;
    const e = await failure(proxy.url);
    expect(isUpstreamProxyFailure(e)).toBe(true);
    // 502 from an HTTP proxy; SOCKS5 reply 5: connection refused
    expect((e as UpstreamProxyError).reason).toBe(scheme === 'http' ? 'HTTP 502' : 'UND_ERR_SOCKS5_REPLY_5');
  });

  it("leaves the origin's own failures as they are: a connection it resets is no proxy failure", async () => {
    const e = await failure(proxy.url, '/reset');
    expect(proxy.tunnels).toBe(1);
    expect(isUpstreamProxyFailure(e)).toBe(false);
    expect((e as { code?: string }).code).toBe('UND_ERR_SOCKET');
  });
});

describe('proxyDispatcher through an https proxy', () => {
  it('fails with UpstreamProxyError when the TLS with the proxy fails', async () => {
    // a proxy that speaks no TLS where TLS is expected
    const plain = await startHttpProxy({ auth });
    const dispatcher = proxyDispatcher(plain.url.replace('http://', 'https://'), 'http://127.0.0.1:9', {
      connectTimeoutMs: 2_000,
    });
    try {
      const e = await dispatcher
        .request({ origin: 'http://127.0.0.1:9', path: '/', method: 'GET' })
        .catch((x: unknown) => x);
      expect(isUpstreamProxyFailure(e)).toBe(true);
      expect((e as UpstreamProxyError).reason).toMatch(/^ERR_SSL_|^ERR_TLS_|^ECONNRESET$/);
      expect(String(e)).not.toContain(PASSWORD);
      expect(plain.tunnels).toBe(0);
    } finally {
      await dispatcher.destroy();
      await plain.close();
    }
  });
});

describe('isUpstreamProxyFailure', () => {
  it('holds for its own code only', () => {
    expect(isUpstreamProxyFailure(new UpstreamProxyError('http://p:1', 'ECONNREFUSED'))).toBe(true);
    expect(isUpstreamProxyFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isUpstreamProxyFailure(null)).toBe(false);
  });
});
