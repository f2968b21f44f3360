import { context, SpanKind, trace } from '@opentelemetry/api';
import {
  appTracer,
  errorType,
  extractTrace,
  injectTrace,
  linksTo,
  MAX_LINKS,
  startTelemetry,
  stopTelemetry,
  telemetryEnabled,
  traceHandler,
  withTraceLinks,
  type TraceCarrier,
} from './telemetry';

/** The SDK packages loaded so far in this file (their module factories run on first require only). */
const loaded: string[] = [];
const SDK = [
  '@opentelemetry/sdk-trace-node',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/resources',
  '@opentelemetry/core',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/exporter-trace-otlp-proto',
];
jest.mock('@opentelemetry/sdk-trace-node', () => {
  loaded.push('@opentelemetry/sdk-trace-node');
  return jest.requireActual('@opentelemetry/sdk-trace-node');
});
jest.mock('@opentelemetry/resources', () => {
  loaded.push('@opentelemetry/resources');
  return jest.requireActual('@opentelemetry/resources');
});
jest.mock('@opentelemetry/core', () => {
  loaded.push('@opentelemetry/core');
  return jest.requireActual('@opentelemetry/core');
});
jest.mock('@opentelemetry/exporter-trace-otlp-http', () => {
  loaded.push('@opentelemetry/exporter-trace-otlp-http');
  return jest.requireActual('@opentelemetry/exporter-trace-otlp-http');
});
jest.mock('@opentelemetry/exporter-trace-otlp-proto', () => {
  loaded.push('@opentelemetry/exporter-trace-otlp-proto');
  return jest.requireActual('@opentelemetry/exporter-trace-otlp-proto');
});

const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('telemetry, off (no OTLP endpoint)', () => {
  it('loads no SDK module, makes no span, and runs handlers as they are', async () => {
    expect(await startTelemetry({ otelTraces: null }, 'gateway')).toBe(false);
    expect(telemetryEnabled()).toBe(false);
    expect(loaded).toEqual([]);
    expect(Object.keys(require.cache).filter((m) => SDK.some((p) => m.includes(`${p}/`)))).toEqual([]);
    const carrier: TraceCarrier = {};
    const remote = trace.wrapSpanContext({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
    });
    injectTrace(carrier, trace.setSpan(context.active(), remote));
    expect(carrier).toEqual({});
    await expect(traceHandler('x', SpanKind.SERVER, { traceparent: PARENT }, async () => 7)).resolves.toBe(7);
    expect(withTraceLinks([PARENT], () => context.active())).toBe(context.active());
    expect(appTracer().startSpan('x').isRecording()).toBe(false);
  });
});

describe('telemetry, on (http/protobuf, the default protocol)', () => {
  const env = { ...process.env };
  beforeAll(async () => {
    // the export itself is checked end to end (test/e2e/otel.e2e-spec.ts): nothing listens here
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://127.0.0.1:9';
    process.env.OTEL_EXPORTER_OTLP_TIMEOUT = '200';
    process.env.OTEL_SERVICE_NAME = '';
    expect(await startTelemetry({ otelTraces: { protocol: 'http/protobuf' } }, 'key-pool')).toBe(true);
  });
  afterAll(async () => {
    await stopTelemetry();
    process.env = env;
  });

  it('loads the SDK and the exporter of the protocol only', () => {
    expect(telemetryEnabled()).toBe(true);
    expect(loaded).toContain('@opentelemetry/sdk-trace-node');
    expect(loaded).toContain('@opentelemetry/exporter-trace-otlp-proto');
    expect(loaded).not.toContain('@opentelemetry/exporter-trace-otlp-http');
  });

  it("names the service after the app and continues a sender's traceparent across a hop", async () => {
    const span = appTracer().startSpan('request');
    expect(
      (span as unknown as { resource: { attributes: Record<string, unknown> } }).resource.attributes,
    ).toMatchObject({
      'service.name': 'gemini-gateway-key-pool',
    });
    const carrier: TraceCarrier = {};
    context.with(trace.setSpan(context.active(), span), () => injectTrace(carrier));
    const sent = span.spanContext();
    expect(carrier.traceparent).toBe(`00-${sent.traceId}-${sent.spanId}-01`);
    // the receiving side: a SERVER span is the sender's child and the active span inside the handler
    const inside = await traceHandler('auth.key.verify', SpanKind.SERVER, carrier, async () =>
      trace.getSpan(context.active()),
    );
    expect(inside?.spanContext().traceId).toBe(sent.traceId);
    expect((inside as unknown as { parentSpanContext?: { spanId: string } }).parentSpanContext?.spanId).toBe(
      sent.spanId,
    );
    span.end();
  });

  it('starts no span for a message that continues no trace; links an event to its sender and the listed requests', async () => {
    expect(
      await traceHandler('pool.snapshot', SpanKind.CONSUMER, undefined, async () => trace.getSpan(context.active())),
    ).toBeUndefined();
    const other = '00-11111111111111111111111111111111-2222222222222222-01';
    const carrier: TraceCarrier = {};
    withTraceLinks([PARENT, other], () => injectTrace(carrier));
    // sent outside any request's span: links only, no parent
    expect(carrier).toEqual({ links: [PARENT, other] });
    const span = await traceHandler('pool.outcome', SpanKind.CONSUMER, carrier, async () =>
      trace.getSpan(context.active()),
    );
    const links = (span as unknown as { links: { context: { traceId: string } }[] }).links;
    expect(links.map((l) => l.context.traceId)).toEqual([
      '0af7651916cd43dd8448eb211c80319c',
      '11111111111111111111111111111111',
    ]);
    expect(span?.spanContext().traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('marks a failed handler with the error class, never its message', async () => {
    let span: ReturnType<typeof trace.getSpan>;
    const failing = traceHandler('auth.key.verify', SpanKind.SERVER, { traceparent: PARENT }, async () => {
      span = trace.getSpan(context.active());
      throw new TypeError('the prompt was: secret words');
    });
    await expect(failing).rejects.toThrow(TypeError);
    const attributes = (span! as unknown as { attributes: Record<string, unknown> }).attributes;
    expect(attributes['error.type']).toBe('TypeError');
    expect(JSON.stringify(attributes)).not.toContain('secret');
  });

  it('keeps the valid traceparents as links, at most MAX_LINKS', () => {
    expect(linksTo(['garbage', undefined, PARENT])).toHaveLength(1);
    const many = Array.from({ length: MAX_LINKS + 5 }, () => PARENT);
    expect(linksTo(many)).toHaveLength(MAX_LINKS);
    expect(trace.getSpanContext(extractTrace({ traceparent: 'garbage' }))).toBeUndefined();
  });

  it('is off after the shutdown: a span begun then is a no-op one', async () => {
    await stopTelemetry();
    expect(telemetryEnabled()).toBe(false);
    expect(appTracer().startSpan('after').isRecording()).toBe(false);
  });
});

describe('error types', () => {
  it('names an error by its code or class', () => {
    expect(errorType(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(errorType(new RangeError('x'))).toBe('RangeError');
    expect(errorType('text')).toBe('_OTHER');
  });
});
