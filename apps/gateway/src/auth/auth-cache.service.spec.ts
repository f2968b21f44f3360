import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AppConfig } from '@gg/config';
import { AuthPattern, type AuthKeyRecord } from '@gg/contracts';
import { generateUserKey, hashUserKey, type RpcClient } from '@gg/nest-common';
import { GatewayMetrics } from '../http/gateway-metrics';
import { AuthCacheService } from './auth-cache.service';

class FakeRpc {
  calls = 0;
  records = new Map<string, AuthKeyRecord>();
  legacyKeys = 1;
  down = false;
  async send<T>(pattern: string, data: { hash: string }): Promise<T> {
    if (pattern === AuthPattern.KeyLegacyCount) return { legacyKeys: this.legacyKeys } as T;
    this.calls++;
    await new Promise((r) => setImmediate(r));
    if (this.down) throw new Error('auth did not answer');
    return (this.records.get(data.hash) ?? null) as T;
  }
}

const config = {
  keyHashSecret: 'test-secret-test-secret-test-secret',
  authCacheTtlMs: 30_000,
  trustedProxies: [],
} as unknown as AppConfig;
const from = (address: string) => ({ socket: { remoteAddress: address }, headers: {} }) as unknown as IncomingMessage;
const client = from('10.0.0.1');

/** What anyone can compute: a body and its plain SHA-256, in either format. */
function attackerKey(format: 'v1' | 'legacy'): string {
  const body = randomBytes(32).toString('base64url');
  const sum = createHash('sha256').update(body).digest();
  return format === 'v1'
    ? `gg1-${body}${sum.subarray(0, 6).toString('base64url')}`
    : `gg-${body}${sum.subarray(0, 4).toString('base64url')}`;
}

describe('AuthCacheService', () => {
  let rpc: FakeRpc;
  let cache: AuthCacheService;
  const { key } = generateUserKey(config.keyHashSecret);
  const hash = hashUserKey(key, config.keyHashSecret);
  const legacy = attackerKey('legacy'); // the old algorithm made real keys this way too
  const legacyHash = hashUserKey(legacy, config.keyHashSecret);

  beforeEach(() => {
    rpc = new FakeRpc();
    cache = new AuthCacheService(config, rpc as unknown as RpcClient, new GatewayMetrics());
    rpc.records.set(hash, { id: 'k1', userId: 'u1', isActive: true, expiresAt: null });
    rpc.records.set(legacyHash, { id: 'k-old', userId: 'u1', isActive: true, expiresAt: null });
  });

  it('refuses forged or mistyped keys without any lookup, even with a valid plain checksum', () => {
    const typo = key.slice(0, 10) + (key[10] === 'a' ? 'b' : 'a') + key.slice(11);
    const forged = attackerKey('v1');
    for (const k of [typo, forged, 'AIzaSomething', `gg1-${legacy.slice(3)}`]) {
      expect(cache.authenticate(k, Date.now(), from(`10.1.0.${k.length}`))).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(cache.authenticate(null, Date.now(), client)).toEqual({ ok: false, reason: 'missing' });
    expect(rpc.calls).toBe(0);
    expect(cache.sizes).toEqual({ known: 0, unknown: 0 });
  });

  it('looks up once, then answers from memory synchronously', async () => {
    const [a, b] = await Promise.all([
      cache.authenticate(key, Date.now(), client),
      cache.authenticate(key, Date.now(), client),
    ]);
    expect(a).toMatchObject({ ok: true, record: { id: 'k1' } });
    expect(b).toMatchObject({ ok: true });
    expect(rpc.calls).toBe(1);
    const again = cache.authenticate(key, Date.now(), client);
    expect(again).not.toBeInstanceOf(Promise);
    expect(again).toMatchObject({ ok: true });
  });

  it('legacy-format keys are looked up while auth says some exist, and refused unasked once none are left', async () => {
    expect(await cache.authenticate(legacy, Date.now(), client)).toMatchObject({ ok: true, record: { id: 'k-old' } });
    expect(await cache.authenticate(attackerKey('legacy'), Date.now(), client)).toEqual({
      ok: false,
      reason: 'unknown',
    });
    expect(rpc.calls).toBe(2);

    rpc.legacyKeys = 0;
    await cache.legacy.refresh();
    expect(cache.authenticate(attackerKey('legacy'), Date.now(), client)).toEqual({ ok: false, reason: 'malformed' });
    expect(rpc.calls).toBe(2);
    cache.invalidate({ hashes: [] });
    expect(cache.authenticate(legacy, Date.now(), client)).toEqual({ ok: false, reason: 'malformed' });
    expect(rpc.calls).toBe(2);
  });

  it('200k lookups of unknown keys (valid checksums) and forged ones never push a real key out', async () => {
    await cache.authenticate(key, Date.now(), client);
    for (let i = 0; i < 100; i++) {
      const batch: Promise<unknown>[] = [];
      for (let j = 0; j < 1000; j++) {
        const n = i * 1000 + j;
        const addr = from(`10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`);
        batch.push(Promise.resolve(cache.authenticate(generateUserKey(config.keyHashSecret).key, Date.now(), addr)));
        cache.authenticate(attackerKey('v1'), Date.now(), addr);
      }
      await Promise.all(batch);
    }
    expect(rpc.calls).toBe(100_001); // the forged half made none
    expect(cache.sizes.unknown).toBeLessThanOrEqual(10_000);
    expect(cache.sizes.known).toBe(1);
    const hit = cache.authenticate(key, Date.now(), client);
    expect(hit).not.toBeInstanceOf(Promise);
    expect(hit).toMatchObject({ ok: true, record: { id: 'k1' } });
  }, 120_000);

  it('an address with 20 refused keys in a minute is throttled for a minute; other addresses are not', async () => {
    const t0 = Date.now();
    const attacker = from('203.0.113.7');
    const unknownKey = generateUserKey(config.keyHashSecret).key;
    expect(await cache.authenticate(unknownKey, t0, attacker)).toEqual({ ok: false, reason: 'unknown' });
    for (let i = 1; i < 20; i++)
      expect(cache.authenticate(attackerKey('v1'), t0 + i, attacker)).toMatchObject({ reason: 'malformed' });
    // the 21st try: refused before any work, even with a real key that is not cached yet
    expect(cache.authenticate(key, t0 + 21, attacker)).toEqual({ ok: false, reason: 'throttled', retryAfter: 60 });
    expect(rpc.calls).toBe(1);
    // another address (and another /64) is unaffected, and its success does not lift the block
    expect(await cache.authenticate(key, t0 + 22, from('203.0.113.8'))).toMatchObject({ ok: true });
    expect(cache.authenticate(attackerKey('v1'), t0 + 23, attacker)).toMatchObject({
      reason: 'throttled',
      retryAfter: 60,
    });
    // a key already known is served from memory without looking at the address
    expect(cache.authenticate(key, t0 + 24, attacker)).toMatchObject({ ok: true });
    expect(cache.authenticate(attackerKey('v1'), t0 + 30_019, attacker)).toMatchObject({
      reason: 'throttled',
      retryAfter: 30,
    });
    expect(cache.authenticate(attackerKey('v1'), t0 + 60_019, attacker)).toMatchObject({ reason: 'malformed' });
  });

  it('counts IPv6 clients per /64', () => {
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) cache.authenticate(attackerKey('v1'), t0, from(`2001:db8:1:2::${i.toString(16)}`));
    expect(cache.authenticate(attackerKey('v1'), t0, from('2001:db8:1:2:ffff::1'))).toMatchObject({
      reason: 'throttled',
    });
    expect(cache.authenticate(attackerKey('v1'), t0, from('2001:db8:1:3::1'))).toMatchObject({ reason: 'malformed' });
  });

  it('drops a key on a change event and sees the new state', async () => {
    await cache.authenticate(key, Date.now(), client);
    rpc.records.set(hash, { id: 'k1', userId: 'u1', isActive: false, expiresAt: null });
    cache.invalidate({ hashes: [hash] });
    expect(await cache.authenticate(key, Date.now(), client)).toEqual({ ok: false, reason: 'inactive' });
  });

  it('refuses expired keys and says so when auth is unavailable', async () => {
    rpc.records.set(hash, { id: 'k1', userId: 'u1', isActive: true, expiresAt: Date.now() - 1 });
    expect(await cache.authenticate(key, Date.now(), client)).toEqual({ ok: false, reason: 'expired' });
    cache.invalidate({ hashes: [] });
    rpc.down = true;
    expect(await cache.authenticate(key, Date.now(), client)).toEqual({ ok: false, reason: 'unavailable' });
  });

  it('re-checks after the TTL', async () => {
    await cache.authenticate(key, Date.now(), client);
    expect(cache.authenticate(key, Date.now() + 31_000, client)).toBeInstanceOf(Promise);
  });
});
