import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The gateway's Prometheus metrics. No label ever carries a secret. */
@Injectable()
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'gateway_requests_total',
    help: 'Client requests by final status',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly attempts = new Counter({
    name: 'gateway_upstream_attempts_total',
    help: 'Upstream attempts by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly overhead = new Histogram({
    name: 'gateway_overhead_seconds',
    help: "Time the gateway itself adds before the response head (not spent waiting on the upstream)",
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [this.registry],
  });
  readonly open = new Gauge({ name: 'gateway_open_requests', help: 'Requests in progress', registers: [this.registry] });

  private readonly requestsByStatus = new Map<number, { inc(): void }>();
  private readonly attemptsByOutcome = new Map<string, { inc(): void }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Labelled children are cached: no label-key building on the hot path. */
  countRequest(status: number): void {
    let c = this.requestsByStatus.get(status);
    if (!c) this.requestsByStatus.set(status, (c = this.requests.labels(String(status))));
    c.inc();
  }

  countAttempt(outcome: string): void {
    let c = this.attemptsByOutcome.get(outcome);
    if (!c) this.attemptsByOutcome.set(outcome, (c = this.attempts.labels(outcome)));
    c.inc();
  }
}
