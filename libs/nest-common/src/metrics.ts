import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type Observable, tap } from 'rxjs';

/** Probes are scraped every few seconds: counting them would only drown the real traffic. */
const PROBE = /^\/(healthz|readyz|metrics)\/?(\?|$)/;
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

function metric<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/**
 * The route label: the route *pattern* Express matched (`/api/auth-keys/:id`), never the URL (which holds ids,
 * query strings and, on some routes, keys). Requests no route matched are `unmatched`; the admin SPA's files `spa`.
 */
export function routeLabel(req: Pick<Request, 'route' | 'baseUrl'>): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path === 'string') return `${req.baseUrl ?? ''}${path}` || '/';
  return 'unmatched';
}

/** HTTP request counts and latencies by method, route pattern and status. */
export class HttpMetrics {
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route' | 'status'>;

  constructor(registry: Registry) {
    this.requests = metric(
      registry,
      'http_requests_total',
      () =>
        new Counter({
          name: 'http_requests_total',
          help: 'HTTP requests by method, route pattern and status',
          labelNames: ['method', 'route', 'status'],
          registers: [registry],
        }),
    );
    this.duration = metric(
      registry,
      'http_request_duration_seconds',
      () =>
        new Histogram({
          name: 'http_request_duration_seconds',
          help: 'HTTP request latency until the response ends, by method, route pattern and status',
          labelNames: ['method', 'route', 'status'],
          buckets: LATENCY_BUCKETS,
          registers: [registry],
        }),
    );
  }

  /** Express middleware: observes each request when its response finishes (or the client goes). */
  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    if (PROBE.test(req.originalUrl ?? req.url)) return next();
    const started = process.hrtime.bigint();
    let done = false;
    const observe = (): void => {
      if (done) return;
      done = true;
      const labels = {
        method: req.method,
        route: routeLabel(req),
        status: String(res.headersSent ? res.statusCode : 499),
      };
      this.requests.inc(labels);
      this.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    };
    res.once('finish', observe);
    res.once('close', observe);
    next();
  };
}

/** Messages handled over the Redis transport, by pattern name (without REDIS_NAMESPACE) and outcome. */
export class RpcMetricsInterceptor implements NestInterceptor {
  private readonly handled: Counter<'pattern' | 'outcome'>;
  private readonly duration: Histogram<'pattern'>;

  constructor(registry: Registry) {
    this.handled = metric(
      registry,
      'rpc_messages_total',
      () =>
        new Counter({
          name: 'rpc_messages_total',
          help: 'Messages and events handled, by pattern and outcome',
          labelNames: ['pattern', 'outcome'],
          registers: [registry],
        }),
    );
    this.duration = metric(
      registry,
      'rpc_message_duration_seconds',
      () =>
        new Histogram({
          name: 'rpc_message_duration_seconds',
          help: 'Handling time of a message, by pattern',
          labelNames: ['pattern'],
          buckets: LATENCY_BUCKETS,
          registers: [registry],
        }),
    );
  }

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'rpc') return next.handle();
    const pattern = patternOf(ctx);
    const started = process.hrtime.bigint();
    const end = (outcome: 'ok' | 'error'): void => {
      this.handled.inc({ pattern, outcome });
      this.duration.observe({ pattern }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    return next.handle().pipe(tap({ complete: () => end('ok'), error: () => end('error') }));
  }
}

/** `gg:auth.key.verify` -> `auth.key.verify`: pattern names are constants of libs/contracts, never data. */
function patternOf(ctx: ExecutionContext): string {
  const rpc = ctx.switchToRpc().getContext() as { getChannel?: () => string } | undefined;
  const channel = typeof rpc?.getChannel === 'function' ? rpc.getChannel() : '';
  const name = channel.slice(channel.indexOf(':') + 1);
  return /^[a-z0-9._-]{1,80}$/i.test(name) ? name : 'unknown';
}

export type QueueCounts = () => Promise<Record<string, number>>;

/**
 * `gg_queue_jobs{queue, state}`: the depth of a BullMQ queue, read from Redis when Prometheus scrapes (a scrape
 * with Redis away leaves the last values). `counts` is e.g. `() => queue.getJobCounts('waiting', 'active', …)`.
 */
export function registerQueueDepth(registry: Registry, queue: string, counts: QueueCounts): void {
  const sources = metric(registry, 'gg_queue_jobs', () => {
    const byQueue = new Map<string, QueueCounts>();
    const gauge = new Gauge({
      name: 'gg_queue_jobs',
      help: 'Jobs in a BullMQ queue, by state',
      labelNames: ['queue', 'state'],
      registers: [registry],
      async collect() {
        await Promise.all(
          [...byQueue].map(async ([name, read]) => {
            const got = await Promise.race([
              read(),
              new Promise<null>((r) => setTimeout(() => r(null), 1000).unref()),
            ]).catch(() => null);
            if (got) for (const [state, n] of Object.entries(got)) this.set({ queue: name, state }, n);
          }),
        );
      },
    });
    return Object.assign(gauge, { byQueue });
  }) as Gauge & { byQueue: Map<string, QueueCounts> };
  sources.byQueue.set(queue, counts);
}
