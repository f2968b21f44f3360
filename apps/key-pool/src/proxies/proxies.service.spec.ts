import { randomBytes, randomUUID } from 'node:crypto';
import type { AppConfig } from '@gg/config';
import type { SnapshotProxy } from '@gg/contracts';
import type { DbManager } from '@gg/db';
import { ErrorCode } from '@gg/contracts';
import { CryptoService } from '../secrets/crypto.service';
import type { PoolStateService } from '../state/pool-state.service';
import { PROXIES_KV_KEY, PROXY_REST, ProxiesService } from './proxies.service';

const T0 = 1_800_000_000_000;
const PASSWORD = 'proxy-pw-0123456789';

/** The pool as the proxy list sees it: key ids, and what was last handed over for the snapshot. */
class FakePool {
  readonly keys = new Set<string>();
  published: { list: SnapshotProxy[]; bindings: ReadonlyMap<string, string> } | null = null;
  all(): { id: string }[] {
    return [...this.keys].map((id) => ({ id }));
  }
  get(id: string): { id: string } | undefined {
    return this.keys.has(id) ? { id } : undefined;
  }
  setProxies(list: SnapshotProxy[], bindings: ReadonlyMap<string, string>): void {
    this.published = { list, bindings };
  }
}

describe('ProxiesService', () => {
  const kv = new Map<string, string>();
  let kvDown = false;
  const db = {
    kv: {
      get: (k: string) => Promise.resolve(kv.get(k) ?? null),
      set: (k: string, v: string) =>
        kvDown ? Promise.reject(new Error('database unreachable')) : Promise.resolve(void kv.set(k, v)),
    },
  } as unknown as DbManager;
  const config = { geminiBaseUrl: 'https://upstream.example', connectTimeoutMs: 1000 } as AppConfig;
  const crypto = new CryptoService({ encryptionKey: randomBytes(32) });
  let pool: FakePool;
  let service: ProxiesService;

  async function start(): Promise<ProxiesService> {
    const s = new ProxiesService(config, db, crypto, pool as unknown as PoolStateService);
    await s.onModuleInit();
    return s;
  }

  beforeEach(async () => {
    kv.clear();
    kvDown = false;
    pool = new FakePool();
    ['k1', 'k2', 'k3'].forEach((k) => pool.keys.add(k));
    service = await start();
  });

  afterEach(() => service.onApplicationShutdown());

  it('stores URLs encrypted, answers them masked, and hands them whole to the snapshot only', async () => {
    const added = await service.add(`http://user:${PASSWORD}@proxy.example:3128`);
    expect(added).toMatchObject({ url: 'http://user:***@proxy.example:3128', status: 'active', keyCount: 3 });
    expect(kv.get(PROXIES_KV_KEY)).not.toContain(PASSWORD);
    expect(JSON.stringify(service.list())).not.toContain(PASSWORD);
    expect(pool.published?.list.map((p) => p.url)).toEqual([`http://user:${PASSWORD}@proxy.example:3128`]);
    await expect(service.add(`http://user:${PASSWORD}@proxy.example:3128`)).rejects.toMatchObject({
      code: ErrorCode.Conflict,
    });
  });

  it('binds keys, keeps list and bindings across a restart, and unbinds the keys of a deleted proxy', async () => {
    const a = await service.add('socks5://a.example:1080');
    const b = await service.add('http://b.example:8080');
    await service.bind('k1', b.id);
    expect(service.keyProxy('k1')).toEqual({ id: b.id, url: 'http://b.example:8080', binding: 'explicit' });
    await expect(service.bind('nope', b.id)).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(service.bind('k1', randomUUID())).rejects.toMatchObject({ code: ErrorCode.BadRequest });

    const again = await start();
    expect(again.list().map((p) => [p.id, p.url, p.boundKeys])).toEqual([
      [a.id, 'socks5://a.example:1080', 0],
      [b.id, 'http://b.example:8080', 1],
    ]);
    expect(pool.published?.bindings.get('k1')).toBe(b.id);
    await again.onApplicationShutdown();

    expect((await service.delete(b.id)).boundKeys).toBe(1);
    expect(service.keyProxy('k1')).toEqual({ id: a.id, url: 'socks5://a.example:1080', binding: 'hash' });
    expect(pool.published?.bindings.size).toBe(0);
  });

  it('undoes a change it could not store: the list and the snapshot stay as they were', async () => {
    const a = await service.add('http://a.example:8080');
    kvDown = true;
    await expect(service.add('http://b.example:8080')).rejects.toThrow('database unreachable');
    await expect(service.bind('k1', a.id)).rejects.toThrow('database unreachable');
    await expect(service.delete(a.id)).rejects.toThrow('database unreachable');
    expect(service.list().map((p) => [p.id, p.boundKeys])).toEqual([[a.id, 0]]);
    expect(pool.published?.list.map((p) => p.id)).toEqual([a.id]);
    expect(pool.published?.bindings.size).toBe(0);
  });

  it('rests a failing proxy: its keys move, bound ones too; reports during the rest are ignored', async () => {
    const a = await service.add('http://a.example:8080');
    const b = await service.add('http://b.example:8080');
    await service.bind('k1', a.id);
    service.failed({ proxyId: a.id, reason: 'ECONNREFUSED', at: T0 }, T0);
    service.failed({ proxyId: a.id, reason: 'HTTP 407', at: T0 + 1 }, T0 + 1);
    const view = service.list(T0 + 1).find((p) => p.id === a.id)!;
    expect(view).toMatchObject({
      status: 'resting',
      restingUntil: new Date(T0 + PROXY_REST.minMs).toISOString(),
      lastError: 'ECONNREFUSED',
      keyCount: 0,
      boundKeys: 1,
    });
    expect(service.keyProxy('k1', T0 + 1)).toEqual({
      id: b.id,
      url: 'http://b.example:8080',
      binding: 'hash',
      boundTo: a.id,
    });
    expect(pool.published?.list.find((p) => p.id === a.id)?.restingUntil).toBe(T0 + PROXY_REST.minMs);
    // back when the rest ends
    expect(service.keyProxy('k1', T0 + PROXY_REST.minMs)?.binding).toBe('explicit');
  });

  it('doubles the rest of a proxy that fails again soon after one, up to the cap, and starts over after a quiet spell', async () => {
    const a = await service.add('http://a.example:8080');
    let now = T0;
    const rests: number[] = [];
    for (let i = 0; i < 7; i++) {
      service.failed({ proxyId: a.id, reason: 'ETIMEDOUT', at: now }, now);
      const until = Date.parse(service.list(now)[0].restingUntil!);
      rests.push((until - now) / 1000);
      now = until + 1000;
    }
    expect(rests).toEqual([30, 60, 120, 240, 480, 600, 600]);
    now += 10 * 60_000;
    service.failed({ proxyId: a.id, reason: 'ETIMEDOUT', at: now }, now);
    expect(Date.parse(service.list(now)[0].restingUntil!) - now).toBe(PROXY_REST.minMs);
  });
});
