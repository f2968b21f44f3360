import { isUpstreamProxyFailure } from '@gg/nest-common';
import { startHttpProxy, startSocks5Proxy, type TestProxy } from '@gg/testing';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { liveProxyAgent } from './live-proxy-agent';

/**
 * The Live relay's proxy agents between real sockets: a WebSocket echo server, the test HTTP and SOCKS5 proxies with
 * credentials, and proxies that fail in each way the relay must tell from a failure of the upstream.
 */

const auth = { user: 'gg-live', password: 'pw:live@1' };
const CONNECT_TIMEOUT_MS = 500;

/** the URL of `p` with another password: the proxy refuses it (407, or SOCKS5 authentication failed) */
const withWrongPassword = (p: TestProxy): string => p.url.replace(encodeURIComponent(auth.password), 'wrong');

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Opens a WebSocket through `proxy` and sends one message: its echo, or the error that ended it. */
function echo(url: string, proxy: string): Promise<{ echo: string } | { error: Error }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { agent: liveProxyAgent(proxy, CONNECT_TIMEOUT_MS), handshakeTimeout: 5000 });
    ws.on('open', () => ws.send('through'));
    ws.on('message', (d: Buffer) => {
      resolve({ echo: d.toString() });
      ws.close();
    });
    ws.on('error', (error) => resolve({ error }));
  });
}

/** The reason of the proxy failure that ended the socket; fails the test on any other outcome. */
async function proxyFailure(url: string, proxy: string): Promise<string> {
  const r = await echo(url, proxy);
  if (!('error' in r)) throw new Error(`went through: ${JSON.stringify(r)}`);
  if (!isUpstreamProxyFailure(r.error)) throw new Error(`not a proxy failure: ${r.error.message}`);
  expect(r.error.message).not.toContain(auth.password);
  expect(r.error.message).not.toContain(encodeURIComponent(auth.password));
  return r.error.reason;
}

describe('Live proxy agents', () => {
  let wss: WebSocketServer;
  let port: number;
  let http: TestProxy;
  let socks: TestProxy;
  let silent: Server;
  let silentPort: number;
  const held = new Set<Socket>();

  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    wss.on('connection', (ws) => ws.on('message', (d: Buffer) => ws.send(`echo ${d.toString()}`)));
    port = (wss.address() as AddressInfo).port;
    [http, socks] = await Promise.all([startHttpProxy({ auth }), startSocks5Proxy({ auth })]);
    // accepts connections and never answers
    silent = createServer((s) => held.add(s.on('error', () => undefined)));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentPort = (silent.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
    await Promise.all([http.close(), socks.close()]);
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });

  it('opens the WebSocket through an HTTP proxy (CONNECT with its credentials)', async () => {
    expect(await echo(`ws://127.0.0.1:${port}/live`, http.url)).toEqual({ echo: 'echo through' });
    expect([http.tunnels, http.refused, http.targets]).toEqual([1, 0, [`127.0.0.1:${port}`]]);
  });

  it('opens it through a SOCKS5 proxy, which resolves the name (socks5h)', async () => {
    expect(await echo(`ws://localhost:${port}/live`, socks.url)).toEqual({ echo: 'echo through' });
    expect([socks.tunnels, socks.refused, socks.targets]).toEqual([1, 0, [`localhost:${port}`]]);
  });

  it("tells every failure of the proxy from the upstream's, with a short reason and no password", async () => {
    const target = `ws://127.0.0.1:${port}/live`;
    const down = await closedPort();
    expect(await proxyFailure(target, withWrongPassword(http))).toBe('HTTP 407');
    expect(await proxyFailure(target, withWrongPassword(socks))).toBe('UND_ERR_SOCKS5_AUTH_FAILED');
    expect(await proxyFailure(target, `http://127.0.0.1:${down}`)).toBe('ECONNREFUSED');
    expect(await proxyFailure(target, `socks5://127.0.0.1:${down}`)).toBe('ECONNREFUSED');
    // the proxy cannot reach the target: its 502, or the SOCKS5 reply "connection refused"
    expect(await proxyFailure(`ws://127.0.0.1:${down}/live`, http.url)).toBe('HTTP 502');
    expect(await proxyFailure(`ws://127.0.0.1:${down}/live`, socks.url)).toBe('UND_ERR_SOCKS5_REPLY_5');
    // TLS with the origin fails inside the tunnel (here: the origin speaks no TLS)
    expect(await proxyFailure(`wss://127.0.0.1:${port}/live`, http.url)).toMatch(/^ERR_SSL_/);
    expect(await proxyFailure(`wss://127.0.0.1:${port}/live`, socks.url)).toMatch(/^ERR_SSL_/);
    expect(http.refused + socks.refused).toBe(2);
  });

  it('gives up on a proxy that does not answer within the connect timeout', async () => {
    for (const scheme of ['http', 'socks5']) {
      const t0 = Date.now();
      expect(await proxyFailure(`ws://127.0.0.1:${port}/live`, `${scheme}://127.0.0.1:${silentPort}`)).toBe(
        'ETIMEDOUT',
      );
      expect(Date.now() - t0).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 20);
      expect(Date.now() - t0).toBeLessThan(CONNECT_TIMEOUT_MS + 1000);
    }
  });
});
