import type { AppConfig } from '@gg/config';
import type { AttemptOutcome, PoolOutcomeBatch } from '@gg/contracts';
import type { RpcClient } from '@gg/nest-common';
import { PoolReporterService } from './pool-reporter.service';
import type { PoolSnapshotService } from './pool-snapshot.service';

class FakeRpc {
  sent: { pattern: string; data: unknown }[] = [];
  emit(pattern: string, data: unknown): void {
    this.sent.push({ pattern, data });
  }
}

const outcome = (
  keyId: string,
  kind: AttemptOutcome['kind'],
  at: number,
  model: string | null = 'gemini-2.5-flash',
): AttemptOutcome => ({
  keyId,
  model,
  kind,
  status: kind === 'success' ? 200 : 503,
  at,
});

describe('PoolReporterService', () => {
  let rpc: FakeRpc;
  let reporter: PoolReporterService;

  beforeEach(() => {
    rpc = new FakeRpc();
    reporter = new PoolReporterService(
      {} as AppConfig,
      rpc as unknown as RpcClient,
      { gatewayId: 'g1', stamp: () => undefined } as unknown as PoolSnapshotService,
    );
  });

  const batches = () => rpc.sent.filter((s) => s.pattern === 'pool.outcome').map((s) => s.data as PoolOutcomeBatch);

  it('sends successes aggregated per key and model, with their count', () => {
    for (let i = 0; i < 5; i++) reporter.report(outcome('k1', 'success', 1000 + i));
    reporter.report(outcome('k2', 'success', 2000));
    reporter.report(outcome('k1', 'success', 3000, 'gemini-2.5-pro'));
    expect(batches()).toHaveLength(0); // batched, not one event per request
    reporter.flush();
    const [batch] = batches();
    expect(batch.outcomes).toEqual([
      expect.objectContaining({ keyId: 'k1', model: 'gemini-2.5-flash', count: 5, at: 1004 }),
      expect.objectContaining({ keyId: 'k2', count: 1 }),
      expect.objectContaining({ keyId: 'k1', model: 'gemini-2.5-pro', count: 1 }),
    ]);
  });

  it('sends a failure at once, after the successes that came before it', () => {
    reporter.report(outcome('k1', 'success', 1));
    reporter.report(outcome('k1', 'success', 2));
    reporter.report(outcome('k1', 'transient', 3));
    const [batch] = batches();
    expect(batch.outcomes.map((o) => [o.kind, o.count ?? 1])).toEqual([
      ['success', 2],
      ['transient', 1],
    ]);
  });
});
