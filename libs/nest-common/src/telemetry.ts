import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import {
  context,
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { AppConfig, OtlpProtocol } from '@gg/config';

/** The apps, as named in `service.name` (gemini-gateway-<app>) unless OTEL_SERVICE_NAME says otherwise. */
export type TelemetryApp = 'gateway' | 'auth' | 'key-pool' | 'admin';

/** What the running SDK offers to shut down (a NodeTracerProvider). */
interface RunningSdk {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

let sdk: RunningSdk | null = null;
let tracer: Tracer | null = null;

/** At most this many span links on one consumer span (a usage job holds up to 500 requests). */
export const MAX_LINKS = 128;

/**
 * Starts the OpenTelemetry SDK when the configuration turns traces on (AppConfig.otelTraces), before the app's
 * modules are loaded. With traces off it returns at once and not one SDK module is loaded: `@opentelemetry/api`
 * alone is a no-op, and the per-request code checks `telemetryEnabled()` once and skips every span.
 */
export async function startTelemetry(config: Pick<AppConfig, 'otelTraces'>, app: TelemetryApp): Promise<boolean> {
  const traces = config.otelTraces;
  if (!traces || sdk) return sdk !== null;
  // imported here only: with traces off, none of these modules is ever loaded
  const [{ NodeTracerProvider, BatchSpanProcessor }, resources, { W3CTraceContextPropagator }, exporter] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/core'),
      loadExporter(traces.protocol),
    ]);
  // service.name defaults per app; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over it
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': `gemini-gateway-${app}` }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  // the sampler (OTEL_TRACES_SAMPLER) and the batch's delays and sizes (OTEL_BSP_*) are read by the SDK
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  // W3C trace context only: baggage is the client's business and never crosses the gateway
  provider.register({ propagator: new W3CTraceContextPropagator() });
  sdk = provider;
  tracer = trace.getTracer('gemini-gateway');
  return true;
}

/** The OTLP/HTTP exporter of the protocol; it reads OTEL_EXPORTER_OTLP_*ENDPOINT, _HEADERS, _TIMEOUT itself. */
async function loadExporter(protocol: OtlpProtocol): Promise<import('@opentelemetry/sdk-trace-node').SpanExporter> {
  if (protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter();
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter();
}

/** Whether spans are made at all: the one check of the hot path. */
export function telemetryEnabled(): boolean {
  return tracer !== null;
}

/** The tracer of our spans (a no-op one before the start and after the shutdown). */
export function appTracer(): Tracer {
  return tracer ?? trace.getTracer('gemini-gateway');
}

/** Sends the spans still batched and stops the SDK (the apps' shutdown; a no-op with traces off). */
export async function stopTelemetry(): Promise<void> {
  const running = sdk;
  if (!running) return;
  sdk = null;
  tracer = null;
  await running.shutdown().catch(() => undefined);
  // a span begun after this is a no-op one
  trace.disable();
  propagation.disable();
  context.disable();
}

/** Flushes the spans at application shutdown, after the app's own hooks have ended theirs. */
@Injectable()
export class TelemetryShutdown implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    await stopTelemetry();
  }
}

/**
 * What crosses a hop (an RPC message, a job) beside its payload: the W3C `traceparent` of the sender's span, and
 * for a message that reports on many requests (a batch of outcomes), theirs to link to.
 */
export interface TraceCarrier {
  traceparent?: string;
  links?: string[];
}

const LINKS = createContextKey('gemini-gateway trace links');

/**
 * Runs `fn` (which sends a message) outside any request's span, with `traceparents` to link to: a batch sent from a
 * timer would otherwise carry whichever request's context the timer happened to be created in.
 */
export function withTraceLinks<T>(traceparents: string[], fn: () => T): T {
  if (tracer === null) return fn();
  return context.with(traceparents.length > 0 ? ROOT_CONTEXT.setValue(LINKS, traceparents) : ROOT_CONTEXT, fn);
}

/** Puts the active context (or `ctx`) into `carrier`: its span's traceparent, its links; nothing with tracing off. */
export function injectTrace(carrier: TraceCarrier, ctx: Context = context.active()): void {
  if (tracer === null) return;
  const links = ctx.getValue(LINKS) as string[] | undefined;
  if (links) carrier.links = links.slice(0, MAX_LINKS);
  if (trace.getSpanContext(ctx)) propagation.inject(ctx, carrier);
}

/** The context a carrier names (ROOT_CONTEXT when it names none or a malformed one). */
export function extractTrace(carrier: unknown): Context {
  const traceparent = (carrier as TraceCarrier | null | undefined)?.traceparent;
  if (typeof traceparent !== 'string') return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** The `traceparent` of a span, for a carrier written later (a batch of jobs). */
export function traceparentOf(span: Span | undefined): string | undefined {
  if (!span) return undefined;
  const carrier: TraceCarrier = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return carrier.traceparent;
}

/** Span links to the contexts of these traceparents (the valid ones, at most MAX_LINKS). */
export function linksTo(traceparents: readonly (string | undefined)[]): Link[] {
  const links: Link[] = [];
  for (const traceparent of traceparents) {
    if (links.length >= MAX_LINKS) break;
    const sc = trace.getSpanContext(extractTrace({ traceparent }));
    if (sc) links.push({ context: sc });
  }
  return links;
}

/**
 * Runs `fn` (a message handler) inside a span: SERVER, child of the sender's context, for a request; CONSUMER,
 * linked to it, for an event or a job (it may hold the work of many requests). Only when a sender's context came
 * with the message or `links` are given: internal traffic that continues no trace starts none. Ends when `fn`
 * settles; a rejection marks it failed with the error's class name (never its message).
 */
export function traceHandler<T>(
  name: string,
  kind: SpanKind.SERVER | SpanKind.CONSUMER,
  carrier: TraceCarrier | undefined,
  fn: () => Promise<T>,
  links: Link[] = [],
): Promise<T> {
  if (tracer === null) return fn();
  const sender = extractTrace(carrier);
  const senderSpan = trace.getSpanContext(sender);
  if (Array.isArray(carrier?.links)) links = [...links, ...linksTo(carrier.links)];
  if (!senderSpan && links.length === 0) return fn();
  const parent = kind === SpanKind.SERVER ? sender : ROOT_CONTEXT;
  if (kind === SpanKind.CONSUMER && senderSpan) links = [{ context: senderSpan }, ...links];
  const span = tracer.startSpan(name, { kind, links, attributes: { 'messaging.operation.name': name } }, parent);
  return context.with(trace.setSpan(parent, span), fn).then(
    (v) => {
      span.end();
      return v;
    },
    (e: unknown) => {
      span.setAttribute('error.type', errorType(e));
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      throw e;
    },
  );
}

/** A low-cardinality name for an error: its code or class, never its message (which may quote data). */
export function errorType(e: unknown): string {
  const err = e as { code?: unknown; name?: unknown } | null;
  if (typeof err?.code === 'string' && err.code) return err.code.slice(0, 64);
  if (typeof err?.name === 'string' && err.name) return err.name.slice(0, 64);
  return '_OTHER';
}
