import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import type { SnapshotKey, SnapshotProxy } from '@gg/contracts';
import type { UpstreamProxyError } from '@gg/nest-common';
import type { Agent } from 'node:http';
import { ProxyRouter } from '../forward/proxy-router.service';
import { GatewayMetrics } from '../http/gateway-metrics';
import { PoolSnapshotService } from '../pool/pool-snapshot.service';
import { liveProxyAgent } from './live-proxy-agent';

/** The way a Live session's upstream socket goes: a proxy of the list, or (id null) UPSTREAM_PROXY or direct. */
export interface LiveVia {
  /** the proxy of the list, or null */
  proxyId: string | null;
  /** the agent to give ws; undefined: a direct connection */
  agent: Agent | undefined;
}

/**
 * The upstream proxies of Live sessions, chosen as for every other upstream connection of a pool key: its proxy of
 * the list (ProxyRouter: explicit binding, else rendezvous hashing, leaving out the proxies that rest or failed here);
 * with an empty list, UPSTREAM_PROXY, else a direct connection. One agent per proxy, built when first used; an agent
 * holds no connection (each WebSocket has its own tunnel), so one of a proxy gone from the list is just dropped and
 * its sessions go on.
 */
@Injectable()
export class LiveProxies {
  private readonly connectTimeoutMs: number;
  /** UPSTREAM_PROXY's agent, or undefined: direct */
  private readonly fallback: Agent | undefined;
  /** proxy id -> its URL and agent */
  private readonly agents = new Map<string, { url: string; agent: Agent }>();
  private seen: readonly SnapshotProxy[] = [];

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly pool: PoolSnapshotService,
    private readonly router: ProxyRouter,
    private readonly metrics: GatewayMetrics,
  ) {
    this.connectTimeoutMs = config.connectTimeoutMs;
    this.fallback = config.upstreamProxy ? liveProxyAgent(config.upstreamProxy, this.connectTimeoutMs) : undefined;
  }

  /**
   * The way for `key`, leaving out the proxies of the list in `tried`; null when none is left. With an empty list
   * there is one way, tried once (`tried` not empty: it failed).
   */
  via(key: SnapshotKey, tried: ReadonlySet<string>): LiveVia | null {
    const list = this.pool.proxies;
    if (list.length === 0) return tried.size === 0 ? { proxyId: null, agent: this.fallback } : null;
    if (list !== this.seen) this.forgetRemoved(list);
    const proxy = this.router.proxyFor(key, tried);
    if (!proxy) return null;
    let entry = this.agents.get(proxy.id);
    if (!entry || entry.url !== proxy.url) {
      entry = { url: proxy.url, agent: liveProxyAgent(proxy.url, this.connectTimeoutMs) };
      this.agents.set(proxy.id, entry);
    }
    return { proxyId: proxy.id, agent: entry.agent };
  }

  /**
   * The way failed by a fault of its proxy. One of the list is reported as on the HTTP path (key-pool rests it, this
   * gateway leaves it out at once); `last`: no way is left, the session is refused (counted like the HTTP path's 502).
   */
  failed(via: LiveVia, e: UpstreamProxyError, last: boolean): void {
    if (via.proxyId !== null) this.router.failed(via.proxyId, e.reason);
    if (last) this.metrics.upstreamProxyFailures.inc();
  }

  private forgetRemoved(list: readonly SnapshotProxy[]): void {
    this.seen = list;
    for (const id of this.agents.keys()) if (!list.some((p) => p.id === id)) this.agents.delete(id);
  }
}
