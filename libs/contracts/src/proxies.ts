/**
 * Upstream proxies (the proxy list): managed by the admin (`/api/proxies`), owned by key-pool, sent to gateways in
 * the pool snapshot. A proxy URL may carry credentials: every answer and log shows it masked (`http://user:***@host`),
 * only the snapshot (over the sealed transport) carries it whole.
 */

export type UpstreamProxyStatus = 'active' | 'resting';

/** A proxy as the admin API shows it. */
export interface UpstreamProxy {
  id: string;
  /** masked: the password (or a user name standing alone, a token) replaced by `***` */
  url: string;
  /** `resting`: it failed (unreachable, TLS, 407, SOCKS5 refusal) and carries no traffic until `restingUntil` */
  status: UpstreamProxyStatus;
  /** ISO time the rest ends, or null */
  restingUntil: string | null;
  /** the last failure, short (an error code or `HTTP 407`), or null */
  lastError: string | null;
  /** ISO time of the last failure, or null */
  lastFailureAt: string | null;
  /** pool keys whose traffic goes through it now (explicitly bound or by hashing) */
  keyCount: number;
  /** pool keys bound to it explicitly (they go elsewhere while it rests) */
  boundKeys: number;
  createdAt: string;
}

/** The proxy a pool key's traffic goes through, on `PoolKey.proxy`. */
export interface PoolKeyProxy {
  id: string;
  /** masked */
  url: string;
  /** `explicit`: bound by the admin (PATCH /api/keys/{id}); `hash`: chosen by consistent hashing */
  binding: 'explicit' | 'hash';
  /** explicit binding to a resting proxy: the key goes through `id` (another proxy) until it is back */
  boundTo?: string;
}

/** A proxy as the gateways hold it (in PoolSnapshot.proxies). */
export interface SnapshotProxy {
  id: string;
  /** the full URL, with its credentials */
  url: string;
  /** epoch ms until which it rests, or 0 */
  restingUntil: number;
}

/** event from a gateway: a proxy failed (payload of `PoolEvent.ProxyFailure`) */
export interface ProxyFailureReport {
  proxyId: string;
  /** short: an error code or `HTTP 407`, never a message nor a URL */
  reason: string;
  /** epoch ms */
  at: number;
}

/** `pool.proxies.add` */
export interface AddProxyRequest {
  url: string;
}

/** `pool.proxies.bind`: the key's proxy, or null (back to consistent hashing) */
export interface BindProxyRequest {
  id: string;
  proxyId: string | null;
}
