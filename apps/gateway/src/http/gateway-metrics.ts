import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The gateway's Prometheus metrics. No label ever carries a secret. */
@Injectable()
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'gateway_requests_total',
    help: 'Client requests by route and final status',
    labelNames: ['route', 'status'],
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'gateway_request_duration_seconds',
    help: 'Client request duration by route (to the last byte of the answer)',
    labelNames: ['route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  readonly attempts = new Counter({
    name: 'gateway_upstream_attempts_total',
    help: 'Upstream attempts by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly firstByteTimeouts = new Counter({
    name: 'gateway_upstream_first_byte_timeouts_total',
    help: 'Attempts abandoned for no response headers within UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS (then retried on another key)',
    registers: [this.registry],
  });
  readonly upstreamClientRebuilds = new Counter({
    name: 'gateway_upstream_client_rebuilds_total',
    help: 'Times the upstream connection pool was replaced after a run of connection failures (the old one drains)',
    registers: [this.registry],
  });
  readonly upstreamProxyFailures = new Counter({
    name: 'gateway_upstream_proxy_failures_total',
    help: 'Upstream attempts that failed at UPSTREAM_PROXY (unreachable, TLS, 407 or another CONNECT answer, SOCKS5 handshake): answered 502, not counted against the key',
    registers: [this.registry],
  });
  readonly overhead = new Histogram({
    name: 'gateway_overhead_seconds',
    help: 'Time the gateway itself adds before the response head (not spent waiting on the upstream)',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [this.registry],
  });
  readonly open = new Gauge({
    name: 'gateway_open_requests',
    help: 'Requests in progress',
    registers: [this.registry],
  });
  readonly rateLimitUnenforced = new Counter({
    name: 'gateway_rate_limit_unenforced_total',
    help: 'Requests of rate-limited keys Redis could not check in time, by RATE_LIMIT_FAIL_MODE (open: let through, closed: refused 503)',
    labelNames: ['mode'],
    registers: [this.registry],
  });

  private readonly requestsByRoute = new Map<string, { inc(): void }>();
  private readonly durationByRoute = new Map<string, { observe(v: number): void }>();
  private readonly attemptsByOutcome = new Map<string, { inc(): void }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Labelled children are cached: no label-key building on the hot path. */
  countRequest(method: string, status: number, seconds?: number): void {
    const route = routeLabel(method);
    const id = `${route} ${status}`;
    let c = this.requestsByRoute.get(id);
    if (!c) this.requestsByRoute.set(id, (c = this.requests.labels(route, String(status))));
    c.inc();
    if (seconds === undefined) return;
    let h = this.durationByRoute.get(route);
    if (!h) this.durationByRoute.set(route, (h = this.duration.labels(route)));
    h.observe(seconds);
  }

  countAttempt(outcome: string): void {
    let c = this.attemptsByOutcome.get(outcome);
    if (!c) this.attemptsByOutcome.set(outcome, (c = this.attempts.labels(outcome)));
    c.inc();
  }
}

const KNOWN = new Set([
  'generateContent',
  'streamGenerateContent',
  'countTokens',
  'embedContent',
  'batchEmbedContents',
  'predict',
  'predictLongRunning',
  'batchGenerateContent',
  'chat.completions',
  'embeddings',
  'models.list',
  'models.get',
  'bidiGenerateContent',
]);
const RESOURCE =
  /^(GET|POST|PATCH|PUT|DELETE) \/(?:upload\/)?v1(?:beta|alpha)?\/(models|files|cachedContents|operations|batches|tunedModels|openai)$/;

/** A bounded label for the route: known methods and resource kinds by name, anything else `other`. */
export function routeLabel(method: string): string {
  if (KNOWN.has(method)) return method;
  if (method.includes(' /upload/')) return 'upload';
  const m = RESOURCE.exec(method);
  return m ? `${m[1]} ${m[2]}` : 'other';
}
