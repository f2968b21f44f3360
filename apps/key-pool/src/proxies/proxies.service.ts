import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, maskProxyUrl, type AppConfig } from '@gg/config';
import type { PoolKeyProxy, ProxyFailureReport, SnapshotProxy, UpstreamProxy } from '@gg/contracts';
import { DB_MANAGER, type DbManager } from '@gg/db';
import { routeProxy, type ProxyRoute } from '@gg/key-state';
import { DomainError, proxyDispatcher } from '@gg/nest-common';
import type { Dispatcher } from 'undici';
import { CryptoService } from '../secrets/crypto.service';
import { PoolStateService } from '../state/pool-state.service';

/** kv entry holding the proxy list (URLs encrypted) and the keys' explicit bindings, one JSON document */
export const PROXIES_KV_KEY = 'upstream-proxies';

/**
 * How long a failing proxy rests: REST_MIN_MS after a failure, doubled (up to REST_MAX_MS) when it fails again soon
 * after its rest ended (within as long as that rest lasted), back to REST_MIN_MS otherwise.
 */
export const PROXY_REST = { minMs: 30_000, maxMs: 10 * 60_000 };

interface StoredProxies {
  proxies: { id: string; urlEnc: string; createdAt: string }[];
  /** pool key id -> proxy id */
  bindings: Record<string, string>;
}

interface ProxyEntry extends SnapshotProxy {
  urlEnc: string;
  masked: string;
  createdAt: string;
  /** length of the last rest, ms (0: never rested) */
  restMs: number;
  lastError: string | null;
  lastFailureAt: number;
}

/**
 * The upstream proxy list and each pool key's binding: kept in memory, stored in the kv store as one document (URLs
 * encrypted with ENCRYPTION_KEY as pool keys are), handed to PoolStateService for the snapshot. Rests proxies that
 * gateways (or key checks) report failing. Answers and logs name a proxy by its id and masked URL only.
 */
@Injectable()
export class ProxiesService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ProxiesService.name);
  /** in the order they were added */
  private readonly proxies = new Map<string, ProxyEntry>();
  /** the same, as the array routing takes (rebuilt when the list changes, not for every key routed) */
  private ordered: ProxyEntry[] = [];
  private readonly bindings = new Map<string, string>();
  /** key checks' dispatchers, per proxy id (a proxy's URL never changes: a new URL is a new proxy) */
  private readonly dispatchers = new Map<string, Dispatcher>();
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DB_MANAGER) private readonly db: DbManager,
    private readonly crypto: CryptoService,
    private readonly pool: PoolStateService,
  ) {}

  async onModuleInit(): Promise<void> {
    const raw = await this.db.kv.get(PROXIES_KV_KEY);
    const stored = raw ? (JSON.parse(raw) as StoredProxies) : { proxies: [], bindings: {} };
    for (const p of stored.proxies) {
      try {
        this.proxies.set(p.id, this.entry(p.id, this.crypto.decrypt(p.urlEnc), p.urlEnc, p.createdAt));
      } catch (e) {
        // left out until the right ENCRYPTION_KEY is back; the next save drops it, so the admin is told
        this.logger.error(
          { proxyId: p.id, err: (e as Error).message },
          'upstream proxy skipped: its URL cannot be read',
        );
      }
    }
    for (const [keyId, proxyId] of Object.entries(stored.bindings)) {
      if (this.proxies.has(proxyId)) this.bindings.set(keyId, proxyId);
    }
    this.publish();
    if (this.proxies.size > 0) this.logger.log({ proxies: this.proxies.size }, 'upstream proxy list loaded');
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.dispatchers.values()].map((d) => d.close().catch(() => undefined)));
  }

  list(now = Date.now()): UpstreamProxy[] {
    const counts = new Map<string, number>();
    const bound = new Map<string, number>();
    for (const e of this.pool.all()) {
      const route = this.routeOf(e.id, now);
      if (route) counts.set(route.proxy.id, (counts.get(route.proxy.id) ?? 0) + 1);
    }
    for (const [keyId, proxyId] of this.bindings) {
      if (this.pool.get(keyId)) bound.set(proxyId, (bound.get(proxyId) ?? 0) + 1);
    }
    return [...this.proxies.values()].map((p) => this.view(p, now, counts.get(p.id) ?? 0, bound.get(p.id) ?? 0));
  }

  async add(url: string): Promise<UpstreamProxy> {
    for (const p of this.proxies.values()) {
      if (p.url === url) throw DomainError.conflict(`this proxy is in the list already (${p.id})`);
    }
    const entry = this.entry(randomUUID(), url, this.crypto.encrypt(url), new Date().toISOString());
    await this.commit(() => this.proxies.set(entry.id, entry));
    this.logger.log({ proxyId: entry.id, proxy: entry.masked }, 'upstream proxy added');
    return this.list().find((p) => p.id === entry.id) as UpstreamProxy;
  }

  async delete(id: string): Promise<UpstreamProxy> {
    const view = this.list().find((p) => p.id === id);
    if (!view) throw DomainError.notFound('proxy not found');
    await this.commit(() => {
      this.proxies.delete(id);
      for (const [keyId, proxyId] of this.bindings) if (proxyId === id) this.bindings.delete(keyId);
    });
    const d = this.dispatchers.get(id);
    this.dispatchers.delete(id);
    d?.close().catch(() => undefined);
    this.logger.log({ proxyId: id, proxy: view.url }, 'upstream proxy deleted');
    return view;
  }

  /** Binds a pool key to a proxy, or (null) back to consistent hashing. */
  async bind(keyId: string, proxyId: string | null): Promise<void> {
    if (!this.pool.get(keyId)) throw DomainError.notFound('pool key not found');
    if (proxyId !== null && !this.proxies.has(proxyId)) throw DomainError.badRequest('proxyId: no such proxy');
    await this.commit(() => (proxyId === null ? this.bindings.delete(keyId) : this.bindings.set(keyId, proxyId)));
    this.logger.log({ keyId, proxyId }, proxyId ? 'pool key bound to a proxy' : 'pool key back to proxy hashing');
  }

  /** The proxy of a pool key now, or null when the list is empty. */
  routeOf(keyId: string, now = Date.now(), exclude?: ReadonlySet<string>): ProxyRoute<ProxyEntry> | null {
    return routeProxy(keyId, this.bindings.get(keyId), this.ordered, now, exclude);
  }

  /** `PoolKey.proxy` of a key. */
  keyProxy(keyId: string, now = Date.now()): PoolKeyProxy | null {
    const route = this.routeOf(keyId, now);
    if (!route) return null;
    const view: PoolKeyProxy = { id: route.proxy.id, url: route.proxy.masked, binding: 'hash' };
    const bound = this.bindings.get(keyId);
    if (route.explicit) view.binding = 'explicit';
    else if (bound) view.boundTo = bound;
    return view;
  }

  /** A key check's dispatcher (through the key's proxy) and that proxy's id; null when the list is empty. */
  dispatcherFor(keyId: string): { proxyId: string; dispatcher: Dispatcher } | null {
    const route = this.routeOf(keyId);
    if (!route) return null;
    const { id, url } = route.proxy;
    let dispatcher = this.dispatchers.get(id);
    if (!dispatcher) {
      dispatcher = proxyDispatcher(url, new URL(this.config.geminiBaseUrl).origin, {
        connectTimeoutMs: this.config.connectTimeoutMs,
      });
      this.dispatchers.set(id, dispatcher);
    }
    return { proxyId: id, dispatcher };
  }

  /**
   * A proxy failed (a gateway's report or a key check): it rests, and its keys go through the other proxies until the
   * rest ends. Reports of a proxy already resting are of requests that left before the rest was known: ignored.
   */
  failed(report: ProxyFailureReport, now = Date.now()): void {
    const p = this.proxies.get(report.proxyId);
    if (!p || p.restingUntil > now) return;
    const restEnded = p.restingUntil;
    const again = p.restMs > 0 && now - restEnded < p.restMs;
    p.restMs = again ? Math.min(p.restMs * 2, PROXY_REST.maxMs) : PROXY_REST.minMs;
    p.restingUntil = now + p.restMs;
    p.lastError = report.reason.slice(0, 64);
    p.lastFailureAt = Math.min(report.at, now);
    this.publish();
    this.logger.warn(
      { proxyId: p.id, proxy: p.masked, reason: p.lastError, restSeconds: p.restMs / 1000 },
      'upstream proxy failed: it rests and its keys go through the other proxies',
    );
  }

  private entry(id: string, url: string, urlEnc: string, createdAt: string): ProxyEntry {
    return {
      id,
      url,
      urlEnc,
      masked: maskProxyUrl(url),
      createdAt,
      restingUntil: 0,
      restMs: 0,
      lastError: null,
      lastFailureAt: 0,
    };
  }

  private view(p: ProxyEntry, now: number, keyCount: number, boundKeys: number): UpstreamProxy {
    const resting = p.restingUntil > now;
    return {
      id: p.id,
      url: p.masked,
      status: resting ? 'resting' : 'active',
      restingUntil: resting ? new Date(p.restingUntil).toISOString() : null,
      lastError: p.lastError,
      lastFailureAt: p.lastFailureAt > 0 ? new Date(p.lastFailureAt).toISOString() : null,
      keyCount,
      boundKeys,
      createdAt: p.createdAt,
    };
  }

  /** The list and the bindings to the snapshot (which carries the bindings of keys in the pool only). */
  private publish(): void {
    this.ordered = [...this.proxies.values()];
    const proxies = [...this.proxies.values()].map(({ id, url, restingUntil }) => ({ id, url, restingUntil }));
    this.pool.setProxies(proxies, new Map(this.bindings));
  }

  /** Applies an admin's change, stores it and publishes it; undone when it could not be stored. */
  private async commit(change: () => void): Promise<void> {
    const proxies = [...this.proxies];
    const bindings = [...this.bindings];
    change();
    try {
      await this.save();
    } catch (e) {
      this.proxies.clear();
      proxies.forEach(([id, p]) => this.proxies.set(id, p));
      this.bindings.clear();
      bindings.forEach(([keyId, proxyId]) => this.bindings.set(keyId, proxyId));
      throw e;
    } finally {
      this.publish();
    }
  }

  /** Writes the whole document, one write at a time (in the order the changes were made). */
  private save(): Promise<void> {
    const doc: StoredProxies = {
      proxies: [...this.proxies.values()].map(({ id, urlEnc, createdAt }) => ({ id, urlEnc, createdAt })),
      bindings: Object.fromEntries([...this.bindings].filter(([keyId]) => this.pool.get(keyId))),
    };
    const write = this.writes.then(() => this.db.kv.set(PROXIES_KV_KEY, JSON.stringify(doc)));
    this.writes = write.catch(() => undefined);
    return write;
  }
}
