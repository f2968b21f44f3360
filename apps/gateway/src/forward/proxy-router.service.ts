import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { maskProxyUrl } from '@gg/config';
import { PoolEvent, type ProxyFailureReport, type SnapshotKey, type SnapshotProxy } from '@gg/contracts';
import { routeProxy } from '@gg/key-state';
import { isUpstreamProxyFailure, RpcClient } from '@gg/nest-common';
import { Counter, Gauge } from 'prom-client';
import type { Dispatcher } from 'undici';
import { GatewayMetrics } from '../http/gateway-metrics';
import { PoolSnapshotService } from '../pool/pool-snapshot.service';
import { UpstreamService } from './upstream.service';

/**
 * How long this gateway keeps a proxy it saw fail out of its routes on its own, until key-pool's snapshot says it
 * rests (key-pool's shortest rest: a report that reached it is covered by then).
 */
export const LOCAL_REST_MS = 30_000;

/** What an attempt goes through: a proxy of the list and its connection pool. */
interface Via {
  id: string;
  dispatcher: Dispatcher;
}

/**
 * Routes each attempt through its pool key's proxy of the list (explicit binding, else rendezvous hashing: see
 * libs/key-state proxy-ring), one connection pool per proxy. A proxy that fails is reported to key-pool (which rests
 * it) and left out here at once; the attempt goes again through the key's next proxy, the key not blamed. With no
 * list, attempts use UpstreamService's own pool (UPSTREAM_PROXY or direct), as before the list existed.
 */
@Injectable()
export class ProxyRouter implements OnApplicationShutdown {
  private readonly logger = new Logger(ProxyRouter.name);
  /** connection pools per proxy id (a proxy's URL never changes: a new URL is a new proxy) */
  private readonly pools = new Map<string, Dispatcher>();
  /** proxy id -> epoch ms: proxies this gateway saw fail, left out until then */
  private readonly localRests = new Map<string, number>();
  /** the snapshot's list as last seen, and that list with the local rests applied */
  private seen: readonly SnapshotProxy[] = [];
  private routable: readonly SnapshotProxy[] = [];
  private routableUntil = 0;
  private readonly failures: Counter;

  constructor(
    private readonly pool: PoolSnapshotService,
    private readonly upstream: UpstreamService,
    private readonly rpc: RpcClient,
    metrics: GatewayMetrics,
  ) {
    this.failures = new Counter({
      name: 'gateway_proxy_failures_total',
      help: 'Failures of an upstream proxy of the list, by proxy id (reported to key-pool, which rests the proxy)',
      labelNames: ['proxy'],
      registers: [metrics.registry],
    });
    const proxies = (now: number): readonly SnapshotProxy[] => this.proxies(now);
    new Gauge({
      name: 'gateway_upstream_proxies',
      help: "Upstream proxies of the list in this replica's copy, by status (resting: key-pool's rest or a failure seen here)",
      labelNames: ['status'],
      registers: [metrics.registry],
      collect() {
        const now = Date.now();
        const list = proxies(now);
        const resting = list.filter((p) => p.restingUntil > now).length;
        this.set({ status: 'active' }, list.length - resting);
        this.set({ status: 'resting' }, resting);
      },
    });
  }

  /**
   * Runs `send` through the key's proxy (undefined: no list, UpstreamService's own pool). When the proxy fails and
   * `retry` allows (the body can be sent again), again through the key's next proxy, until none is left: then the last
   * proxy failure is thrown.
   */
  async send<T>(
    key: SnapshotKey,
    retry: boolean,
    signal: { aborted: boolean },
    send: (dispatcher: Dispatcher | undefined) => Promise<T>,
  ): Promise<T> {
    if (this.pool.proxies.length === 0) return send(undefined);
    const tried = new Set<string>();
    for (;;) {
      // never null: the list is not empty, and a proxy is tried again only when route() found one left
      const via = this.route(key, tried) as Via;
      try {
        return await send(via.dispatcher);
      } catch (e) {
        if (!isUpstreamProxyFailure(e) || signal.aborted) throw e;
        this.failed(via.id, e.reason);
        tried.add(via.id);
        if (!retry || !this.route(key, tried)) throw e;
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.pools.values()].map((d) => d.close().catch(() => undefined)));
  }

  /**
   * The proxy of the list the key goes through now, leaving out `tried`: null when the list is empty or every proxy
   * was tried. For callers that open their own connections through it (the Live relay's WebSockets).
   */
  proxyFor(key: SnapshotKey, tried: ReadonlySet<string>): SnapshotProxy | null {
    const now = Date.now();
    return routeProxy(key.id, key.proxyId, this.proxies(now), now, tried)?.proxy ?? null;
  }

  private route(key: SnapshotKey, tried: ReadonlySet<string>): Via | null {
    const proxy = this.proxyFor(key, tried);
    if (!proxy) return null;
    let dispatcher = this.pools.get(proxy.id);
    if (!dispatcher) {
      dispatcher = this.upstream.proxyPool(proxy.url);
      this.pools.set(proxy.id, dispatcher);
    }
    return { id: proxy.id, dispatcher };
  }

  /** The snapshot's list with this gateway's local rests applied; pools of proxies gone from the list are closed. */
  private proxies(now: number): readonly SnapshotProxy[] {
    const list = this.pool.proxies;
    if (list === this.seen && now < this.routableUntil) return this.routable;
    if (list !== this.seen) this.closeRemoved(list);
    this.seen = list;
    let until = Infinity;
    for (const [id, end] of this.localRests) {
      if (end <= now) this.localRests.delete(id);
      else until = Math.min(until, end);
    }
    this.routable =
      this.localRests.size === 0
        ? list
        : list.map((p) => {
            const local = this.localRests.get(p.id) ?? 0;
            return local > p.restingUntil ? { ...p, restingUntil: local } : p;
          });
    this.routableUntil = until;
    return this.routable;
  }

  /** A proxy of the list failed (`reason`: UpstreamProxyError's): reported to key-pool, left out here for a while. */
  failed(id: string, reason: string): void {
    const now = Date.now();
    this.localRests.set(id, now + LOCAL_REST_MS);
    this.routableUntil = 0;
    this.failures.inc({ proxy: id });
    this.rpc.emit(PoolEvent.ProxyFailure, { proxyId: id, reason, at: now } satisfies ProxyFailureReport);
    const p = this.seen.find((x) => x.id === id);
    this.logger.warn(
      `upstream proxy ${id} (${p ? maskProxyUrl(p.url) : '?'}) failed (${reason}): its keys go elsewhere`,
    );
  }

  private closeRemoved(list: readonly SnapshotProxy[]): void {
    for (const [id, d] of this.pools) {
      if (list.some((p) => p.id === id)) continue;
      this.pools.delete(id);
      // requests in flight finish first
      d.close().catch(() => undefined);
      this.logger.log(`upstream proxy ${id} left the list: its connections close`);
    }
  }
}
