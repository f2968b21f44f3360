import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';

export type TrustFn = (addr: string, hop: number) => boolean;

/** The trust function for TRUSTED_PROXIES: nothing is trusted when the list is empty. */
export function compileTrust(trustedProxies: readonly string[]): TrustFn {
  return trustedProxies.length === 0 ? () => false : proxyAddr.compile([...trustedProxies]);
}

/**
 * The client's address: the socket's peer, or, when that peer is a trusted proxy, the nearest address in
 * `X-Forwarded-For` that is not itself trusted. A client that is not behind a trusted proxy cannot change it.
 */
export function clientAddress(req: IncomingMessage, trust: TrustFn): string {
  if (!req.socket.remoteAddress) return 'unknown';
  return proxyAddr(req, trust);
}
