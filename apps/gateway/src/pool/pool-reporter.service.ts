import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { PoolEvent, type AttemptOutcome, type InFlightReport, type PoolOutcomeBatch } from '@gg/contracts';
import { RpcClient, runOutsideRequest, withTraceLinks } from '@gg/nest-common';
import { PoolSnapshotService } from './pool-snapshot.service';

const FLUSH_MS = 100;
const INFLIGHT_MS = 500;
const LEASE_MS = 3_000;

/**
 * Reports to key-pool by event, never waiting for it: attempt outcomes (failures at the end of the event-loop turn
 * they happened in, successes in small batches) and this gateway's in-flight counts per key as a lease that expires
 * if the gateway dies. Under load a turn holds many failures (a burst of 429s): they go as one event, not one each.
 */
@Injectable()
export class PoolReporterService implements OnModuleInit {
  private seq = 0;
  private outcomes: AttemptOutcome[] = [];
  /** with tracing on: the traceparents of the requests whose outcomes wait (key-pool's span links to them) */
  private traces: string[] = [];
  /** successes since the last flush, one per key and model, with a count */
  private readonly successes = new Map<string, AttemptOutcome>();
  private flushTimer?: NodeJS.Timeout;
  /** a failure is pending: the outcomes go at the end of this event-loop turn */
  private turnFlush = false;
  private inFlightTimer?: NodeJS.Timeout;
  private lastReportedVersion = -1;
  private lastReportAt = 0;

  constructor(
    @Inject(APP_CONFIG) readonly config: AppConfig,
    private readonly rpc: RpcClient,
    private readonly pool: PoolSnapshotService,
  ) {}

  onModuleInit(): void {
    this.inFlightTimer = setInterval(() => this.reportInFlight(), INFLIGHT_MS / 2);
    this.inFlightTimer.unref();
  }

  report(outcome: AttemptOutcome, traceparent?: string): void {
    if (traceparent && this.traces[this.traces.length - 1] !== traceparent) this.traces.push(traceparent);
    if (outcome.kind === 'success') {
      // after a failure of this turn: kept in order behind it (key-pool weighs a success after a failure
      // differently from one before it)
      if (this.turnFlush) return this.appendSuccess(outcome);
      return this.countSuccess(outcome);
    }
    this.outcomes.push(outcome);
    if (outcome.kind !== 'client_error') {
      if (!this.turnFlush) {
        this.turnFlush = true;
        setImmediate(this.onTurnEnd);
      }
    } else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  private readonly onTurnEnd = (): void => {
    this.flush();
  };

  /** A success after a pending failure: merged with the outcome before it when that is a success of the same key. */
  private appendSuccess(outcome: AttemptOutcome): void {
    const last = this.outcomes[this.outcomes.length - 1];
    if (last && last.kind === 'success' && last.keyId === outcome.keyId && last.model === outcome.model) {
      last.count = (last.count ?? 1) + 1;
      last.at = outcome.at;
      last.status = outcome.status;
    } else {
      this.outcomes.push({ ...outcome, count: 1 });
    }
  }

  private countSuccess(outcome: AttemptOutcome): void {
    const id = outcome.model === null ? outcome.keyId : `${outcome.keyId}\u0000${outcome.model}`;
    const seen = this.successes.get(id);
    if (seen) {
      seen.count = (seen.count ?? 1) + 1;
      seen.at = outcome.at;
      seen.status = outcome.status;
    } else {
      this.successes.set(id, { ...outcome, count: 1 });
    }
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  flush(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    // a setImmediate still pending finds nothing to send
    this.turnFlush = false;
    if (this.outcomes.length === 0 && this.successes.size === 0) return;
    // successes first: every aggregated success happened before the first pending failure (later ones are in order
    // in `outcomes`)
    const outcomes = this.successes.size > 0 ? [...this.successes.values(), ...this.outcomes] : this.outcomes;
    this.successes.clear();
    const seq = ++this.seq;
    this.pool.stamp(seq);
    const batch: PoolOutcomeBatch = { gatewayId: this.pool.gatewayId, seq, outcomes };
    this.outcomes = [];
    const traces = this.traces;
    this.traces = [];
    // the batch is many requests' (its failures name theirs), not the one whose timer happened to flush it: it
    // carries no request's id nor span, and links to the traces of all of them
    runOutsideRequest(() => withTraceLinks(traces, () => this.rpc.emit(PoolEvent.Outcome, batch)));
  }

  private reportInFlight(): void {
    const now = Date.now();
    const changed = this.pool.inFlightVersion !== this.lastReportedVersion;
    if (!changed && now - this.lastReportAt < LEASE_MS / 3) return;
    this.lastReportedVersion = this.pool.inFlightVersion;
    this.lastReportAt = now;
    const report: InFlightReport = {
      gatewayId: this.pool.gatewayId,
      inFlight: this.pool.inFlightCounts(),
      expiresAt: now + LEASE_MS,
    };
    this.rpc.emit(PoolEvent.InFlight, report);
  }

  /** Called by the server once it has drained: last outcomes, and no key left in use by this gateway. */
  close(): void {
    clearInterval(this.inFlightTimer);
    this.flush();
    this.rpc.emit(PoolEvent.InFlight, {
      gatewayId: this.pool.gatewayId,
      inFlight: {},
      expiresAt: Date.now(),
    } satisfies InFlightReport);
  }
}
