import type { AppConfig } from '@gg/config';
import type { AuthKeyRecord } from '@gg/contracts';
import { generateUserKey, hashUserKey, type RpcClient } from '@gg/nest-common';
import { AuthCacheService } from './auth-cache.service';

class FakeRpc {
  calls = 0;
  records = new Map<string, AuthKeyRecord>();
  down = false;
  async send<T>(_pattern: string, data: { hash: string }): Promise<T> {
    this.calls++;
    await new Promise((r) => setImmediate(r));
    if (this.down) throw new Error('auth did not answer');
    return (this.records.get(data.hash) ?? null) as T;
  }
}

const config = { keyHashSecret: 'test-secret-test-secret-test-secret', authCacheTtlMs: 30_000 } as AppConfig;

describe('AuthCacheService', () => {
  let rpc: FakeRpc;
  let cache: AuthCacheService;
  const { key } = generateUserKey();
  const hash = hashUserKey(key, config.keyHashSecret);

  beforeEach(() => {
    rpc = new FakeRpc();
    cache = new AuthCacheService(config, rpc as unknown as RpcClient);
    rpc.records.set(hash, { id: 'k1', userId: 'u1', isActive: true, expiresAt: null });
  });

  it('rejects a forged or mistyped key without any lookup', () => {
    const typo = key.slice(0, 10) + (key[10] === 'a' ? 'b' : 'a') + key.slice(11);
    expect(cache.authenticate(typo, Date.now())).toEqual({ ok: false, reason: 'malformed' });
    expect(cache.authenticate('AIzaSomething', Date.now())).toEqual({ ok: false, reason: 'malformed' });
    expect(cache.authenticate(null, Date.now())).toEqual({ ok: false, reason: 'missing' });
    expect(rpc.calls).toBe(0);
  });

  it('looks up once, then answers from memory synchronously', async () => {
    const [a, b] = await Promise.all([cache.authenticate(key, Date.now()), cache.authenticate(key, Date.now())]);
    expect(a).toMatchObject({ ok: true, record: { id: 'k1' } });
    expect(b).toMatchObject({ ok: true });
    expect(rpc.calls).toBe(1);
    const again = cache.authenticate(key, Date.now());
    expect(again).not.toBeInstanceOf(Promise);
    expect(again).toMatchObject({ ok: true });
  });

  it('drops a key on a change event and sees the new state', async () => {
    await cache.authenticate(key, Date.now());
    rpc.records.set(hash, { id: 'k1', userId: 'u1', isActive: false, expiresAt: null });
    cache.invalidate({ hashes: [hash] });
    expect(await cache.authenticate(key, Date.now())).toEqual({ ok: false, reason: 'inactive' });
  });

  it('refuses expired keys and says so when auth is unavailable', async () => {
    rpc.records.set(hash, { id: 'k1', userId: 'u1', isActive: true, expiresAt: Date.now() - 1 });
    expect(await cache.authenticate(key, Date.now())).toEqual({ ok: false, reason: 'expired' });
    cache.invalidate({ hashes: [] });
    rpc.down = true;
    expect(await cache.authenticate(key, Date.now())).toEqual({ ok: false, reason: 'unavailable' });
  });

  it('re-checks after the TTL', async () => {
    await cache.authenticate(key, Date.now());
    expect(cache.authenticate(key, Date.now() + 31_000)).toBeInstanceOf(Promise);
  });
});
