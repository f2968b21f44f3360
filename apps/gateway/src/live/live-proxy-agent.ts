import { maskProxyUrl } from '@gg/config';
import { UpstreamProxyError } from '@gg/nest-common';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { once } from 'node:events';
import type { Agent, ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { SocksProxyAgent } from 'socks-proxy-agent';

/** what agent-base hands an agent's connect(): the request's host, port, TLS options and `secureEndpoint` */
type ConnectOptions = Parameters<HttpsProxyAgent<string>['connect']>[1];

/**
 * The Node agent a Live session's upstream WebSocket (ws) is opened with to go through `proxy`: https-proxy-agent for
 * http:// and https:// proxies (a CONNECT tunnel, Basic credentials from the URL, also to a ws:// origin),
 * socks-proxy-agent for socks5:// ones (username/password from the URL). The target's name is resolved by the proxy
 * (socks5h semantics for socks5://), as on the HTTP path, whose undici SOCKS5 client sends the name too: the gateway
 * needs no DNS of its own for Google, and the name resolves where the traffic leaves.
 *
 * Until the WebSocket handshake can start, every failure is the proxy's and rejects with UpstreamProxyError (its
 * reason: an error code, `HTTP 407`, or the SOCKS5 failure in undici's code words, as the HTTP path reports them):
 * no connection to the proxy, TLS with an https:// proxy, a CONNECT answered other than 200, a SOCKS5 handshake,
 * authentication or CONNECT refused, the TLS with the origin through the tunnel (a tunnel that breaks it is a
 * tampering or broken proxy; the origin's certificate is the same by every way), and all of it not done within
 * `connectTimeoutMs` (ws's own handshake timer starts only once a socket is there).
 */
export function liveProxyAgent(proxy: string, connectTimeoutMs: number): Agent {
  const masked = maskProxyUrl(proxy);
  const u = new URL(proxy);
  if (u.protocol === 'socks5:') {
    u.protocol = 'socks5h:';
    return new SocksTunnelAgent(u.href, masked, connectTimeoutMs);
  }
  return new HttpTunnelAgent(proxy, masked, connectTimeoutMs);
}

class HttpTunnelAgent extends HttpsProxyAgent<string> {
  constructor(
    proxy: string,
    private readonly masked: string,
    private readonly timeoutMs: number,
  ) {
    super(proxy);
  }

  override connect(req: ClientRequest, opts: ConnectOptions): Promise<Socket> {
    return tunnel(req, opts, this.masked, this.timeoutMs, () => super.connect(req, opts));
  }
}

class SocksTunnelAgent extends SocksProxyAgent {
  // no `timeout` option: socks-proxy-agent would also set it as the idle timeout of the tunnel, and cut a quiet session
  constructor(
    proxy: string,
    private readonly masked: string,
    private readonly timeoutMs: number,
  ) {
    super(proxy);
  }

  override connect(req: ClientRequest, opts: ConnectOptions): Promise<Socket> {
    return tunnel(req, opts, this.masked, this.timeoutMs, () => super.connect(req, opts));
  }
}

/**
 * Runs the agent's own connect (`open`) and waits until its socket is ready for the HTTP upgrade: the CONNECT
 * answered 200 (https-proxy-agent tells it by a `proxyConnect` event on the request and otherwise hands back a socket
 * that replays the proxy's answer, which ws would take for the origin's), and the TLS with a wss:// origin done.
 * A socket that arrives after the time limit is destroyed. A proxy that accepts the connection and never answers
 * keeps that socket until it closes it: the agents give no handle on it (the proxy rests meanwhile, see ProxyRouter).
 */
async function tunnel(
  req: ClientRequest,
  opts: ConnectOptions,
  masked: string,
  timeoutMs: number,
  open: () => Promise<Socket>,
): Promise<Socket> {
  let status = 200;
  const onProxyConnect = (answer: { statusCode?: number }): void => {
    status = answer.statusCode ?? 0;
  };
  req.once('proxyConnect', onProxyConnect);
  let socket: Socket | null = null;
  let abandoned = false;
  let timer: NodeJS.Timeout | undefined;
  const ready = (async (): Promise<Socket> => {
    const s = await open();
    if (abandoned) {
      s.destroy();
      return s;
    }
    socket = s;
    if (status !== 200) throw new UpstreamProxyError(masked, `HTTP ${status}`);
    // rejects with the TLS error if the handshake fails
    if (opts.secureEndpoint && s instanceof TLSSocket) await once(s, 'secureConnect');
    return s;
  })();
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UpstreamProxyError(masked, 'ETIMEDOUT')), timeoutMs);
  });
  try {
    return await Promise.race([ready, deadline]);
  } catch (e) {
    abandoned = true;
    (socket as Socket | null)?.destroy();
    throw e instanceof UpstreamProxyError ? e : new UpstreamProxyError(masked, reasonOf(e));
  } finally {
    clearTimeout(timer);
    req.off('proxyConnect', onProxyConnect);
  }
}

/** SOCKS5 replies (RFC 1928) by the names the socks package gives them */
const SOCKS5_REPLIES = [
  'Granted',
  'Failure',
  'NotAllowed',
  'NetworkUnreachable',
  'HostUnreachable',
  'ConnectionRefused',
  'TTLExpired',
  'CommandNotSupported',
  'AddressNotSupported',
];

/**
 * A short reason for a proxy's failure, never its message (it may name addresses): the error's code; for the socks
 * package, whose errors carry only a message (its socket errors' codes included), the code word undici's SOCKS5
 * client gives the same failure on the HTTP path, so that the proxy list shows one reason whichever path met it.
 */
export function reasonOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const message = String((e as { message?: unknown } | null)?.message ?? '');
  const system = /\b(E[A-Z]{3,})\b/.exec(message);
  if (system) return system[1];
  if (message.startsWith('Socks5 Authentication failed')) return 'UND_ERR_SOCKS5_AUTH_FAILED';
  if (message.includes('no accepted authentication type')) return 'UND_ERR_SOCKS5_AUTH_REJECTED';
  const reply = /^Socks5 proxy rejected connection - (\w+)/.exec(message);
  if (reply && SOCKS5_REPLIES.includes(reply[1])) return `UND_ERR_SOCKS5_REPLY_${SOCKS5_REPLIES.indexOf(reply[1])}`;
  if (message === 'Proxy connection timed out') return 'ETIMEDOUT';
  return 'connection failed';
}
