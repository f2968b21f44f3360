import type { AppConfig } from '@gg/config';
import type { AttemptOutcome, PoolSnapshot, SnapshotKey } from '@gg/contracts';
import type { RpcClient } from '@gg/nest-common';
import { GatewayMetrics } from '../http/gateway-metrics';
import { PoolSnapshotService } from './pool-snapshot.service';

const config = { keySelection: 'least-busy', keyMaxConcurrency: 0, keyMaxFailures: 3 } as AppConfig;
const key = (id: string): SnapshotKey => ({
  id,
  secret: `AIza-${id}`,
  status: 'active',
  cooldownUntil: 0,
  modelCooldowns: {},
});
const snapshot = (version: number, applied?: Record<string, number>): PoolSnapshot => ({
  version,
  pausedUntil: 0,
  keys: [key('a'), key('b')],
  ...(applied ? { applied } : {}),
});
const rateLimited = (keyId: string): AttemptOutcome => ({
  keyId,
  model: 'gemini-2.5-flash',
  kind: 'rate_limited',
  status: 429,
  retryDelayMs: 40_000,
  at: Date.now(),
});

describe('PoolSnapshotService', () => {
  let pool: PoolSnapshotService;

  beforeEach(() => {
    pool = new PoolSnapshotService(config, {} as RpcClient, new GatewayMetrics());
    pool.accept(snapshot(1));
  });

  it('avoids a key at once after a local 429, before key-pool says anything', () => {
    pool.applyLocal(rateLimited('a'));
    const now = Date.now();
    expect([pool.pick('gemini-2.5-flash', now), pool.pick('gemini-2.5-flash', now)].map((k) => k?.id)).toEqual([
      'b',
      'b',
    ]);
    expect(pool.pick('gemini-2.5-pro', now)).not.toBeNull();
  });

  it('keeps a local penalty over a push that left key-pool before it, and drops it once acknowledged', () => {
    pool.applyLocal(rateLimited('a'));
    pool.stamp(7);
    pool.accept(snapshot(2, { [pool.gatewayId]: 6 })); // key-pool had applied up to batch 6: the 429 is not in it
    expect(pool.keys.find((k) => k.id === 'a')?.modelCooldowns['gemini-2.5-flash']).toBeGreaterThan(Date.now());
    pool.accept(snapshot(3, { [pool.gatewayId]: 7 })); // applied; key-pool's word (here: reset) wins from now on
    expect(pool.keys.find((k) => k.id === 'a')?.modelCooldowns).toEqual({});
  });

  it('picks no key for a model that rests (overloaded upstream), other models still; Retry-After from its end', () => {
    const now = Date.now();
    pool.accept({ ...snapshot(2), modelPausedUntil: { 'gemini-2.5-pro': now + 8000 } });
    expect(pool.pick('models/gemini-2.5-pro', now)).toBeNull();
    expect(pool.modelPausedUntil('gemini-2.5-pro', now)).toBe(now + 8000);
    expect(pool.nextAvailableAt('gemini-2.5-pro', now)).toBe(now + 8000);
    expect(pool.pick('gemini-2.5-flash', now)).not.toBeNull();
    expect(pool.pick('gemini-2.5-pro', now + 8000)).not.toBeNull();
  });

  it('ignores a snapshot older than the one it holds', () => {
    pool.accept(snapshot(5));
    pool.accept({ ...snapshot(4), keys: [] });
    expect(pool.keys).toHaveLength(2);
  });
});
