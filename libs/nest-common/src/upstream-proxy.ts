import { maskProxyUrl } from '@gg/config';
import type { Socket } from 'node:net';
import { buildConnector, Pool, ProxyAgent, Socks5ProxyAgent, type Dispatcher } from 'undici';

/** The code of an error that says the upstream proxy (UPSTREAM_PROXY) failed, not the upstream nor its key. */
export const UPSTREAM_PROXY_FAILURE = 'GG_UPSTREAM_PROXY';

/**
 * The upstream proxy could not be reached or would not open the way to the target: a refused or timed-out connection
 * to it, a TLS failure with it (https://), an answer to CONNECT other than 200 (407: its credentials; 502: it could
 * not reach the target), a SOCKS5 handshake, authentication or CONNECT failure. Its message names the proxy masked
 * and the code of the cause, never the cause's message nor the credentials.
 */
export class UpstreamProxyError extends Error {
  readonly code = UPSTREAM_PROXY_FAILURE;

  constructor(
    /** the proxy, masked (maskProxyUrl) */
    readonly proxy: string,
    /** why, short: an error code or `HTTP 407` */
    readonly reason: string,
  ) {
    super(`upstream proxy ${proxy} unreachable (${reason})`);
    this.name = 'UpstreamProxyError';
  }
}

export function isUpstreamProxyFailure(e: unknown): e is UpstreamProxyError {
  return (e as { code?: unknown } | null)?.code === UPSTREAM_PROXY_FAILURE;
}

function proxyFailure(proxy: string, e: unknown): UpstreamProxyError {
  if (e instanceof UpstreamProxyError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  return new UpstreamProxyError(proxy, typeof code === 'string' ? code : 'connection failed');
}

/**
 * A dispatcher to `origin` through the proxy, with the options of a Pool (connections, keep-alive, timers) applied
 * to the connections to the origin; requests name the origin (`origin` option) as they would to an Agent.
 * `connectTimeoutMs` bounds the connection to the proxy, and through a SOCKS5 one the TLS with the origin (through an
 * http(s) one, undici's 10 s does); undici's SOCKS5 client waits at most 5 s for each of its handshake's answers.
 *
 * Failures of the proxy itself reject with UpstreamProxyError, so that a caller can tell them from the origin's:
 * - http(s) proxies: undici's ProxyAgent, always tunnelling (CONNECT, also for http:// origins: the proxy sees no
 *   request, header nor key); its client to the proxy (clientFactory) turns every failure of the CONNECT into one.
 * - socks5: a Pool whose connections are opened by undici's Socks5ProxyAgent (its createSocks5Connection: handshake,
 *   authentication, CONNECT) and then TLS to the origin by undici's connector. The agent's own dispatch is not used:
 *   it builds its pools with only `connections` and `pipelining`, dropping keep-alive and the timers, and its errors
 *   could not be told from the origin's.
 */
export function proxyDispatcher(
  proxy: string,
  origin: string,
  options: Pool.Options & { connectTimeoutMs: number },
): Dispatcher {
  const masked = maskProxyUrl(proxy);
  const { connectTimeoutMs, ...poolOptions } = options;
  const timeout = connectTimeoutMs;
  if (new URL(proxy).protocol === 'socks5:') {
    const socks = new Socks5ProxyAgent(proxy, { connect: buildConnector({ timeout }) });
    const open = (socks as unknown as { createSocks5Connection?: (host: string, port: number) => Promise<Socket> })
      .createSocks5Connection;
    // not in undici's types: checked here so that an undici without it fails at start, not on the first request
    if (typeof open !== 'function') throw new Error('undici has no Socks5ProxyAgent.createSocks5Connection');
    const tls = buildConnector({ timeout });
    const connect: buildConnector.connector = (opts, callback) => {
      const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
      // an IPv6 origin's hostname is bracketed; SOCKS5 sends the bare address (a bracketed one would go as a name)
      open.call(socks, opts.hostname.replace(/^\[|\]$/g, ''), port).then(
        (socket) => {
          if (opts.protocol !== 'https:') return callback(null, socket);
          // TLS with the origin over the tunnel: its failures are the origin's (or a proxy that tampers: same answer)
          tls({ ...opts, httpSocket: socket }, callback);
        },
        (e: unknown) => callback(proxyFailure(masked, e), null),
      );
    };
    return new Pool(origin, { ...poolOptions, connect });
  }
  return new ProxyAgent({
    ...poolOptions,
    uri: proxy,
    proxyTunnel: true,
    // no requestTls: given, its servername (none) would replace the request's own, which undici takes from the Host
    // header (the image fetcher tunnels to an address and names the host there); the TLS then has undici's 10 s limit
    clientFactory: (url: URL) => new ProxyClient(url, { connect: { timeout } }, masked),
  });
}

/** The client to an http(s) proxy: a CONNECT that fails or is not answered 200 rejects with UpstreamProxyError. */
class ProxyClient extends Pool {
  constructor(
    url: URL,
    options: Pool.Options,
    private readonly masked: string,
  ) {
    super(url, options);
  }

  // ProxyAgent calls connect(options) and awaits it; the callback form is not used on this client
  override connect(options: Dispatcher.ConnectOptions): Promise<Dispatcher.ConnectData>;
  override connect(
    options: Dispatcher.ConnectOptions,
    callback: (err: Error | null, data: Dispatcher.ConnectData) => void,
  ): void;
  override connect(
    options: Dispatcher.ConnectOptions,
    callback?: (err: Error | null, data: Dispatcher.ConnectData) => void,
  ): Promise<Dispatcher.ConnectData> | void {
    const tunnel = super.connect(options).then(
      (data) => {
        if (data.statusCode === 200) return data;
        data.socket.on('error', () => undefined).destroy();
        throw new UpstreamProxyError(this.masked, `HTTP ${data.statusCode}`);
      },
      (e: unknown) => {
        throw proxyFailure(this.masked, e);
      },
    );
    if (!callback) return tunnel;
    tunnel.then(
      (data) => callback(null, data),
      (e: Error) => callback(e, undefined as unknown as Dispatcher.ConnectData),
    );
  }
}
