import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { appEntry, startMockGemini, Stack, type AppName, type MockGemini } from '@gg/testing';
import { createUserKey, fakeGeminiKey, poll } from './helpers';
import { gatewayInSync } from './pool-support';

jest.setTimeout(60_000);

/** One span as OTLP/JSON carries it, with its resource's service.name and its attributes as a plain object. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
}

/** OTLP's SpanKind numbers */
const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type OtlpAttribute = { key: string; value: OtlpValue };

function attributes(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    out[key] =
      value.stringValue ??
      (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue));
  }
  return out;
}

/** An OTLP/HTTP receiver (the http/json encoding): every body as received, and the spans in them. */
async function startReceiver(): Promise<{
  server: Server;
  url: string;
  bodies: string[];
  protobuf: Buffer[];
  spans: ReceivedSpan[];
}> {
  const bodies: string[] = [];
  const protobuf: Buffer[] = [];
  const spans: ReceivedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (req.headers['content-type'] === 'application/x-protobuf') protobuf.push(Buffer.concat(chunks));
      bodies.push(`${req.method} ${req.url} ${req.headers['content-type']}\n${text}`);
      if (req.url === '/v1/traces' && req.headers['content-type'] === 'application/json') {
        const body = JSON.parse(text) as {
          resourceSpans: {
            resource: { attributes: OtlpAttribute[] };
            scopeSpans: { spans: (Omit<ReceivedSpan, 'service' | 'attributes'> & { attributes: OtlpAttribute[] })[] }[];
          }[];
        };
        for (const rs of body.resourceSpans) {
          const service = String(attributes(rs.resource.attributes)['service.name']);
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              spans.push({ ...s, service, attributes: attributes(s.attributes), links: s.links ?? [] });
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, protobuf, spans };
}

/**
 * With OTEL_EXPORTER_OTLP_ENDPOINT set, one generateContent that carries the client's `traceparent` shows up as one
 * trace: the gateway's span continues the client's, its attempt's span has the GenAI attributes and token counts,
 * auth's key lookup is a child of the gateway's span over the Redis RPC, and auth's usage job and key-pool's outcome
 * batch link to it. Google never sees the trace context; no prompt, answer or key is in any span or log line.
 */
describe('OpenTelemetry: traces over OTLP/HTTP', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let mock: MockGemini;
  let stack: Stack;
  const poolKey = fakeGeminiKey();
  let userKey = '';
  const prompt = `zebra-${randomBytes(6).toString('hex')}`;
  const traceId = randomBytes(16).toString('hex');
  const clientSpanId = randomBytes(8).toString('hex');
  let status = 0;
  let answer = '';

  beforeAll(async () => {
    receiver = await startReceiver();
    mock = await startMockGemini();
    stack = await Stack.start({
      geminiBaseUrl: mock.url,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    const admin = await stack.login();
    expect((await stack.api(admin, 'POST', '/api/keys', { keys: [poolKey] })).status).toBe(201);
    userKey = (await createUserKey(stack, admin, 'otel')).key;
    await gatewayInSync(stack, 1);
    const r = await fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: {
        'x-goog-api-key': userKey,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${clientSpanId}-01`,
        tracestate: 'client=1',
      },
      body: JSON.stringify({ contents: [{ parts: [{ text: prompt }] }] }),
    });
    status = r.status;
    answer = await r.text();
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
    receiver?.server.close();
  });

  const inTrace = (): ReceivedSpan[] => receiver.spans.filter((s) => s.traceId === traceId);
  const serverSpan = (): ReceivedSpan | undefined =>
    inTrace().find((s) => s.service === 'gemini-gateway-gateway' && s.kind === SERVER);

  it("continues the client's trace: the request's span, its attempt's GenAI span, auth's lookup as a child", async () => {
    expect(status).toBe(200);
    expect(answer).toContain(prompt);
    await poll(
      async () => inTrace(),
      (spans) => spans.length >= 3,
      15_000,
      'the gateway and auth spans of the request',
    );
    const server = serverSpan()!;
    expect(server).toBeDefined();
    expect(server.parentSpanId).toBe(clientSpanId);
    expect(server.name).toBe('POST generateContent');
    expect(server.attributes).toMatchObject({
      'gen_ai.operation.name': 'generate_content',
      'gen_ai.request.model': 'gemini-2.5-flash',
      'http.request.method': 'POST',
      'http.response.status_code': 200,
      'gg.attempts': 1,
    });

    const attempt = inTrace().find((s) => s.kind === CLIENT && s.parentSpanId === server.spanId)!;
    expect(attempt).toBeDefined();
    expect(attempt.service).toBe('gemini-gateway-gateway');
    expect(attempt.name).toBe('generate_content gemini-2.5-flash');
    expect(attempt.attributes).toMatchObject({
      'gen_ai.operation.name': 'generate_content',
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.request.model': 'gemini-2.5-flash',
      'server.address': '127.0.0.1',
      'server.port': mock.port,
      'http.response.status_code': 200,
      'gg.attempt': 1,
    });
    expect(attempt.attributes['gg.pool_key.id']).toEqual(expect.any(String));
    // the mock counts words: one word of prompt, "echo: <prompt>" as the answer
    expect(attempt.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(attempt.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(attempt.attributes['error.type']).toBeUndefined();

    const lookup = inTrace().find((s) => s.service === 'gemini-gateway-auth' && s.kind === SERVER)!;
    expect(lookup).toBeDefined();
    expect(lookup.name).toBe('auth.key.verify');
    expect(lookup.parentSpanId).toBe(server.spanId);
  });

  it("auth's usage job and key-pool's outcome batch link to the request; Google never sees the trace context", async () => {
    const linked = (service: AppName): ReceivedSpan | undefined => {
      const id = serverSpan()?.spanId;
      return receiver.spans.find(
        (s) =>
          s.service === `gemini-gateway-${service}` &&
          s.kind === CONSUMER &&
          s.links.some((l) => l.traceId === traceId && l.spanId === id),
      );
    };
    const usage = await poll(async () => linked('auth'), Boolean, 15_000, "auth's usage job span");
    expect(usage!.name).toBe('process usage');
    expect(usage!.traceId).not.toBe(traceId);
    const outcomes = await poll(async () => linked('key-pool'), Boolean, 15_000, "key-pool's outcome span");
    expect(outcomes!.name).toBe('pool.outcome');

    const upstream = mock.requests.filter((r) => r.apiMethod === 'generateContent');
    expect(upstream).toHaveLength(1);
    expect(upstream[0].headers.traceparent).toBeUndefined();
    expect(upstream[0].headers.tracestate).toBeUndefined();
  });

  it("admin's API calls are traced by route pattern, and its RPC to auth continues the trace", async () => {
    const created = await poll(
      async () => receiver.spans.find((s) => s.service === 'gemini-gateway-admin' && s.name === 'POST /api/auth-keys'),
      Boolean,
      10_000,
      "admin's span of the user key's creation",
    );
    expect(created!.kind).toBe(SERVER);
    expect(created!.attributes).toMatchObject({ 'http.route': '/api/auth-keys', 'http.response.status_code': 201 });
    const child = receiver.spans.find(
      (s) =>
        s.service === 'gemini-gateway-auth' && s.traceId === created!.traceId && s.parentSpanId === created!.spanId,
    );
    expect(child?.kind).toBe(SERVER);
  });

  it('a stream and an OpenAI chat get their GenAI spans too, with the counts of the end of the answer', async () => {
    const traceOf = (): { id: string; header: string } => {
      const id = randomBytes(16).toString('hex');
      return { id, header: `00-${id}-${randomBytes(8).toString('hex')}-01` };
    };
    const stream = traceOf();
    const sse = await fetch(`${stack.gatewayUrl}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'x-goog-api-key': userKey, 'content-type': 'application/json', traceparent: stream.header },
      body: JSON.stringify({ contents: [{ parts: [{ text: `${prompt} streamed` }] }] }),
    });
    expect(sse.status).toBe(200);
    await sse.text();
    const chat = traceOf();
    const completion = await fetch(`${stack.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json', traceparent: chat.header },
      body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: `${prompt} chatted` }] }),
    });
    expect(completion.status).toBe(200);
    const attemptOf = (id: string) => async () =>
      receiver.spans.find((s) => s.traceId === id && s.kind === CLIENT && s.service === 'gemini-gateway-gateway');
    const streamed = await poll(attemptOf(stream.id), Boolean, 10_000, "the stream's attempt span");
    expect(streamed!.name).toBe('generate_content gemini-2.5-flash');
    expect(streamed!.attributes).toMatchObject({ 'gg.stream': true, 'http.response.status_code': 200 });
    expect(streamed!.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    const chatted = await poll(attemptOf(chat.id), Boolean, 10_000, "the chat's attempt span");
    expect(chatted!.name).toBe('chat gemini-2.5-flash');
    expect(chatted!.attributes['gen_ai.operation.name']).toBe('chat');
    expect(chatted!.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(chatted!.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
  });

  it('exports over http/protobuf (the default protocol) too, and flushes what is batched at shutdown', async () => {
    // the built telemetry module in a process of its own: start, one span, stop (as an app's shutdown hook does)
    const telemetry = resolve(appEntry('auth'), '../../../../libs/nest-common/src/telemetry.js');
    const name = `flushed-${randomBytes(4).toString('hex')}`;
    const script = `const t = require(${JSON.stringify(telemetry)});
      t.startTelemetry({ otelTraces: { protocol: 'http/protobuf' } }, 'auth').then(async () => {
        const span = t.appTracer().startSpan(${JSON.stringify(name)});
        span.end();
        await t.stopTelemetry();
        process.stdout.write(span.spanContext().traceId);
      });`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
      env: { PATH: process.env.PATH ?? '', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
    });
    const sent = receiver.protobuf.find((b) => b.includes(name));
    expect(sent).toBeDefined();
    expect(sent!.includes('gemini-gateway-auth')).toBe(true);
    expect(sent!.includes(Buffer.from(stdout, 'hex'))).toBe(true);
  });

  it('records no prompt, answer or key: not in any span sent, not in any log line', () => {
    const apps: AppName[] = ['gateway', 'auth', 'key-pool', 'admin'];
    const everything = [...receiver.bodies, ...apps.map((a) => stack.output(a))].join('\n');
    expect(receiver.bodies.length).toBeGreaterThan(0);
    for (const secret of [prompt, userKey, poolKey, stack.adminPassword]) {
      expect(secret.length).toBeGreaterThan(8);
      expect(everything).not.toContain(secret);
    }
  });
});
