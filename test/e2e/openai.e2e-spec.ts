import OpenAI from 'openai';
import type { AddPoolKeysResult } from '@gg/contracts';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createUserKey, fakeGeminiKey, poll, userKey } from './helpers';

jest.setTimeout(60_000);

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather of a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('OpenAI-compatible API end to end (official openai SDK, only baseURL changed)', () => {
  let mock: MockGemini;
  let stack: Stack;
  let token: string;
  let secret: string;
  let client: OpenAI;
  const pool = [fakeGeminiKey(), fakeGeminiKey(), fakeGeminiKey()];
  const upstreamBody = (i = 0): Json => JSON.parse(mock.requests[i].bodyText);

  beforeAll(async () => {
    mock = await startMockGemini();
    stack = await Stack.start({ geminiBaseUrl: mock.url, databaseType: 'sqlite' });
    token = await stack.login();
    const added = await stack.api<AddPoolKeysResult>(token, 'POST', '/api/keys', { keys: pool.join('\n') });
    expect(added.status).toBe(201);
    secret = (await createUserKey(stack, token, 'openai-e2e')).key;
    client = new OpenAI({ apiKey: secret, baseURL: `${stack.gatewayUrl}/v1`, maxRetries: 0 });
    await stack.gatewayReady();
  });

  afterAll(async () => {
    await stack?.stop();
    await mock?.close();
  });

  beforeEach(() => mock.reset());

  it('answers a plain chat completion from generateContent, system prompt in systemInstruction', async () => {
    const r = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'hello there' },
      ],
      temperature: 0.2,
      max_completion_tokens: 50,
    });
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0].message).toMatchObject({ role: 'assistant', content: 'echo: hello there' });
    expect(r.choices[0].finish_reason).toBe('stop');
    expect(r.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(r.usage?.total_tokens).toBe((r.usage?.prompt_tokens ?? 0) + (r.usage?.completion_tokens ?? 0));
    expect(mock.requests).toHaveLength(1);
    const seen = mock.requests[0];
    expect(seen.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(pool).toContain(seen.key);
    expect(JSON.stringify(seen.headers)).not.toContain(secret);
    expect(upstreamBody()).toMatchObject({
      systemInstruction: { parts: [{ text: 'Be terse.' }] },
      contents: [{ role: 'user', parts: [{ text: 'hello there' }] }],
      generationConfig: { temperature: 0.2, maxOutputTokens: 50 },
    });
  });

  it('streams chunk by chunk as Gemini sends them, with include_usage and [DONE]', async () => {
    mock.script({
      type: 'stream',
      chunks: ['one ', 'two ', 'three'],
      intervalMs: 400,
      method: 'streamGenerateContent',
    });
    const stream = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const started = Date.now();
    const arrivals: number[] = [];
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const c of stream) {
      if (c.choices[0]?.delta?.content) arrivals.push(Date.now() - started);
      chunks.push(c);
    }
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('one two three');
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('stop');
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(last.usage?.completion_tokens).toBe(3);
    // had the gateway buffered, the three deltas would arrive together
    expect(arrivals).toHaveLength(3);
    expect(arrivals[1] - arrivals[0]).toBeGreaterThan(250);
    expect(arrivals[2] - arrivals[1]).toBeGreaterThan(250);
    expect(mock.requests[0].path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent');
    expect(mock.requests[0].query).toEqual({ alt: 'sse' });
  });

  it('ends a stream that fails upstream after the first byte with an error chunk the SDK throws on', async () => {
    mock.script({ type: 'errorMidStream', afterChunks: 1, method: 'streamGenerateContent' });
    const stream = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'a b c d' }],
      stream: true,
    });
    const texts: string[] = [];
    const e = await (async () => {
      for await (const c of stream) texts.push(c.choices[0]?.delta?.content ?? '');
    })().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect((e as InstanceType<typeof OpenAI.APIError>).message).toMatch(/Internal error/);
    expect(texts.join('')).toBe('echo:');
    expect(mock.requests).toHaveLength(1); // never retried once bytes went to the client
  });

  it('runs a two-turn tool call: the thought signature goes to the client and back upstream', async () => {
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'call get_weather {"city":"Paris"}' },
    ];
    const r1 = await client.chat.completions.create({
      model: 'gemini-3-flash-preview',
      messages,
      tools: [WEATHER_TOOL],
      tool_choice: 'auto',
    });
    expect(r1.choices[0].finish_reason).toBe('tool_calls');
    const call = r1.choices[0].message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall &
      Json;
    expect(call.function).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    const signature = call['extra_content']?.google?.thought_signature as string;
    expect(Buffer.from(signature, 'base64').toString()).toMatch(/^mock-thought-signature:get_weather:/);
    expect(upstreamBody(0)).toMatchObject({
      tools: [
        { functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: WEATHER_TOOL.function.parameters }] },
      ],
      toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
    });

    messages.push(r1.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '{"tempC":21}' });
    const r2 = await client.chat.completions.create({
      model: 'gemini-3-flash-preview',
      messages,
      tools: [WEATHER_TOOL],
    });
    expect(r2.choices[0].finish_reason).toBe('stop');
    expect(r2.choices[0].message.content).toMatch(/^echo:/);
    expect(upstreamBody(1).contents).toEqual([
      { role: 'user', parts: [{ text: 'call get_weather {"city":"Paris"}' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { id: call.id, name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: signature },
        ],
      },
      { role: 'user', parts: [{ functionResponse: { id: call.id, name: 'get_weather', response: { tempC: 21 } } }] },
    ]);
  });

  it('streams a tool call with index, signature and finish_reason tool_calls', async () => {
    const stream = await client.chat.completions.create({
      model: 'gemini-3-flash-preview',
      messages: [{ role: 'user', content: 'call get_weather {"city":"Oslo"}' }],
      tools: [WEATHER_TOOL],
      stream: true,
    });
    const chunks: Json[] = [];
    for await (const c of stream) chunks.push(c);
    const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      index: 0,
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
    });
    expect(calls[0].extra_content.google.thought_signature).toBeTruthy();
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['tool_calls']);
  });

  it('sends an image (data URI) and an audio part upstream as inlineData', async () => {
    const r = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'describe' },
            { type: 'image_url', image_url: { url: `data:image/jpg;base64,${PNG}` } },
            { type: 'input_audio', input_audio: { data: 'UklGRiQAAABXQVZF', format: 'wav' } },
          ],
        },
      ],
    });
    expect(r.choices[0].message.content).toBe('echo: describe');
    expect(upstreamBody().contents[0].parts).toEqual([
      { text: 'describe' },
      { inlineData: { mimeType: 'image/jpeg', data: PNG } },
      { inlineData: { mimeType: 'audio/wav', data: 'UklGRiQAAABXQVZF' } },
    ]);
  });

  it('refuses an image URL on a private or loopback address with 400, before any upstream call', async () => {
    for (const url of [`${mock.url}/secret.png`, 'http://10.0.0.1/x.png', 'http://[::1]/x.png']) {
      const e = await client.chat.completions
        .create({
          model: 'gemini-2.5-flash',
          messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }],
        })
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OpenAI.BadRequestError);
      expect((e as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages[0].content[0].image_url.url');
    }
    expect(mock.requests).toHaveLength(0);
  });

  it('maps embeddings to batchEmbedContents (SDK default base64 and floats) with dimensions', async () => {
    const r = await client.embeddings.create({
      model: 'gemini-embedding-001',
      input: ['a text', 'another'],
      dimensions: 4,
    });
    expect(r.object).toBe('list');
    expect(r.model).toBe('gemini-embedding-001');
    expect(r.data.map((d) => d.index)).toEqual([0, 1]);
    expect(mock.requests[0].path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(upstreamBody().requests[1]).toEqual({
      model: 'models/gemini-embedding-001',
      content: { parts: [{ text: 'another' }] },
      outputDimensionality: 4,
    });
    const direct = (await (
      await fetch(`${mock.url}/v1beta/models/gemini-embedding-001:batchEmbedContents`, {
        method: 'POST',
        headers: { 'x-goog-api-key': pool[0] },
        body: mock.requests[0].bodyText,
      })
    ).json()) as { embeddings: { values: number[] }[] };
    r.data.forEach((d, i) => {
      expect(d.embedding).toHaveLength(4);
      d.embedding.forEach((v, j) => expect(v).toBeCloseTo(direct.embeddings[i].values[j], 5));
    });
    const floats = await client.embeddings.create({
      model: 'gemini-embedding-001',
      input: 'a text',
      dimensions: 4,
      encoding_format: 'float',
    });
    expect(floats.data[0].embedding).toEqual(direct.embeddings[0].values);
  });

  it('lists and gets models in OpenAI shape, while the Gemini-style /v1/models keeps the native answer', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-embedding-001']));
    expect(mock.requests[0]).toMatchObject({ path: '/v1beta/models', query: { pageSize: '1000' } });
    const one = await client.models.retrieve('gemini-2.5-pro');
    expect(one).toMatchObject({ id: 'gemini-2.5-pro', object: 'model', owned_by: 'google' });
    const missing = await client.models.retrieve('no-such-model').catch((x: unknown) => x);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);

    const native = await fetch(`${stack.gatewayUrl}/v1/models`, { headers: { 'x-goog-api-key': secret } });
    expect(native.status).toBe(200);
    const body = (await native.json()) as { models: { name: string }[] };
    expect(body.models.map((m) => m.name)).toContain('models/gemini-2.5-flash');
  });

  it('refuses a bad user key with 401 invalid_api_key in OpenAI shape', async () => {
    const bad = new OpenAI({
      apiKey: secret.slice(0, -3) + (secret.endsWith('AAA') ? 'BBB' : 'AAA'),
      baseURL: `${stack.gatewayUrl}/v1`,
      maxRetries: 0,
    });
    const e = (await bad.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] })
      .catch((x: unknown) => x)) as InstanceType<typeof OpenAI.APIError>;
    expect(e).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(e.code).toBe('invalid_api_key');
    expect(e.requestID ?? e.headers?.get('x-request-id')).toBeTruthy();
    expect(mock.requests).toHaveLength(0);
  });

  it('refuses an invalid body with 400 invalid_request_error naming the parameter', async () => {
    const e = (await client.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }], temperature: 5 })
      .catch((x: unknown) => x)) as InstanceType<typeof OpenAI.APIError>;
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'temperature' });
    const raw = await fetch(`${stack.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as Json).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_request_error',
    });
    expect(mock.requests).toHaveLength(0);
  });

  it('maps an upstream 500 (after the retries) to 500 in OpenAI shape, and asks the SDK not to retry', async () => {
    mock.script({ type: 'error', status: 500, times: 3 });
    const e = (await client.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] })
      .catch((x: unknown) => x)) as InstanceType<typeof OpenAI.APIError>;
    expect(e).toBeInstanceOf(OpenAI.InternalServerError);
    expect(e.status).toBe(500);
    expect(e.type).toBe('server_error');
    expect(e.headers?.get('x-should-retry')).toBe('false');
    expect(mock.requests).toHaveLength(3);
  });

  it('answers 429 rate_limit_exceeded when every key is rate-limited, then 503 with Retry-After while none can serve', async () => {
    mock.script({ type: 'rateLimit', retryDelay: '3s', model: 'gemini-2.5-pro', times: Infinity });
    const e = (await client.chat.completions
      .create({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'x' }] })
      .catch((x: unknown) => x)) as InstanceType<typeof OpenAI.APIError>;
    expect(e).toBeInstanceOf(OpenAI.RateLimitError);
    expect(e).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'rate_limit_error' });
    expect(e.message).toMatch(/exceeded your current quota/);
    expect(e.headers?.get('x-should-retry')).toBe('false');
    expect(new Set(mock.requests.map((r) => r.key))).toEqual(new Set(pool));

    // every key is now resting (cooling for this model, or the whole pool paused): the gateway answers at once
    mock.clearRequests();
    const e2 = (await client.chat.completions
      .create({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'x' }] })
      .catch((x: unknown) => x)) as InstanceType<typeof OpenAI.APIError>;
    expect(e2).toBeInstanceOf(OpenAI.InternalServerError);
    expect(e2.status).toBe(503);
    expect(e2.error).toMatchObject({ type: 'server_error', code: 'unavailable' });
    const retryAfter = Number(e2.headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(4);
    expect(mock.requests).toHaveLength(0);

    mock.reset();
    await stack.api(token, 'POST', '/api/keys/reset');
    await poll(
      () =>
        client.chat.completions.create({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'x' }] }).then(
          () => 200,
          (x: { status?: number }) => x.status ?? 0,
        ),
      (s) => s === 200,
      8000,
      'pool usable again',
    );
  });

  it('counts every OpenAI call exactly once, with tokens', async () => {
    const k = await createUserKey(stack, token, 'openai-counted');
    const c = new OpenAI({ apiKey: k.key, baseURL: `${stack.gatewayUrl}/v1`, maxRetries: 0 });
    await c.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'one two three' }],
    });
    for await (const _ of await c.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'four' }],
      stream: true,
    }))
      void _;
    await c.embeddings.create({ model: 'gemini-embedding-001', input: 'five' });
    await c.models.list();
    await c.chat.completions.create({ model: 'gemini-2.5-flash', messages: [] }).catch(() => undefined);
    const calls = 5;
    const counted = await poll(
      () => userKey(stack, token, k.id),
      (x) => (x?.callCount ?? 0) >= calls,
      5000,
      'call count',
    );
    expect(counted?.promptTokens).toBeGreaterThan(0);
    expect(counted?.outputTokens).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 500)); // nothing more may arrive: a fixed window proves an absence
    expect((await userKey(stack, token, k.id))?.callCount).toBe(calls);
  });
  it("enforces the key's model allow-list on chat and embeddings before any upstream call", async () => {
    const r = await stack.api<{ id: string; key: string }>(token, 'POST', '/api/auth-keys', {
      name: 'only-pro',
      allowedModels: ['gemini-2.5-pro'],
    });
    expect(r.status).toBe(201);
    const limited = new OpenAI({ apiKey: r.body.key, baseURL: `${stack.gatewayUrl}/v1`, maxRetries: 0 });
    await expect(
      limited.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 403 });
    await expect(limited.embeddings.create({ model: 'gemini-embedding-001', input: 'x' })).rejects.toMatchObject({
      status: 403,
    });
    expect(mock.requests).toHaveLength(0);
    const ok = await limited.chat.completions.create({
      model: 'gemini-2.5-pro',
      messages: [{ role: 'user', content: 'allowed' }],
    });
    expect(ok.choices[0].message.content).toContain('allowed');
  });
});
