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

  const turnEnd = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('sends the failures of a turn as one event at its end, after the successes that came before them', async () => {
    reporter.report(outcome('k1', 'success', 1));
    reporter.report(outcome('k1', 'success', 2));
    reporter.report(outcome('k1', 'transient', 3));
    reporter.report(outcome('k2', 'rate_limited', 4));
    expect(batches()).toHaveLength(0); // not one event per failure
    await turnEnd();
    expect(batches()).toHaveLength(1);
    expect(batches()[0].outcomes.map((o) => [o.keyId, o.kind, o.count ?? 1])).toEqual([
      ['k1', 'success', 2],
      ['k1', 'transient', 1],
      ['k2', 'rate_limited', 1],
    ]);
    await turnEnd();
    expect(batches()).toHaveLength(1); // nothing left to send
  });

  it('keeps a success that follows a failure of the same turn behind it, in order', async () => {
    reporter.report(outcome('k1', 'success', 1));
    reporter.report(outcome('k1', 'transient', 2));
    reporter.report(outcome('k1', 'success', 3));
    reporter.report(outcome('k1', 'success', 4));
    reporter.report(outcome('k2', 'success', 5));
    reporter.report(outcome('k1', 'transient', 6));
    await turnEnd();
    const [batch] = batches();
    expect(batch.outcomes.map((o) => [o.keyId, o.kind, o.count ?? 1, o.at])).toEqual([
      ['k1', 'success', 1, 1],
      ['k1', 'transient', 1, 2],
      ['k1', 'success', 2, 4],
      ['k2', 'success', 1, 5],
      ['k1', 'transient', 1, 6],
    ]);
    // the next turn starts over: successes aggregated again, sent by the timer or the next failure
    reporter.report(outcome('k1', 'success', 7));
    expect(batches()).toHaveLength(1);
    reporter.report(outcome('k2', 'invalid', 8));
    await turnEnd();
    expect(batches()[1].outcomes.map((o) => [o.keyId, o.kind])).toEqual([
      ['k1', 'success'],
      ['k2', 'invalid'],
    ]);
    expect(batches().map((b) => b.seq)).toEqual([1, 2]);
  });

  it('sends pending failures at once when flushed before the turn ends (shutdown)', () => {
    reporter.report(outcome('k1', 'transient', 1));
    reporter.flush();
    expect(batches()).toHaveLength(1);
    expect(batches()[0].outcomes.map((o) => o.kind)).toEqual(['transient']);
  });
});
