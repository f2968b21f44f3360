import type { Json } from './chat-messages';
import { ChatStreamTranslator, SseEventParser } from './chat-stream';

/** Recorded-style Gemini SSE: CRLF CRLF separators, Google's one-line JSON with ': '. */
function sse(...events: object[]): string {
  return events.map((e) => `data: ${JSON.stringify(e).replace(/":/g, '": ')}\r\n\r\n`).join('');
}

/** Feed the bytes in small random-ish slices (splitting inside events and inside UTF-8 characters). */
function translate(bytes: string, includeUsage = false, sizes = [1, 7, 3, 50, 2]): { chunks: Json[]; raw: string } {
  const parser = new SseEventParser();
  const tr = new ChatStreamTranslator('gemini-2.5-flash', includeUsage, 1767225600_000, () => 'call_gen');
  const buf = Buffer.from(bytes, 'utf8');
  let raw = '';
  for (let at = 0, i = 0; at < buf.length; i++) {
    const n = sizes[i % sizes.length];
    for (const p of parser.push(buf.subarray(at, at + n))) raw += tr.event(JSON.parse(p));
    at += n;
  }
  for (const p of parser.end()) raw += tr.event(JSON.parse(p));
  raw += tr.end();
  const chunks = raw
    .split('\n\n')
    .filter(Boolean)
    .map((l) => l.slice('data: '.length))
    .filter((d) => d !== '[DONE]')
    .map((d) => JSON.parse(d));
  return { chunks, raw };
}

const usage = (c: number) => ({
  promptTokenCount: 4,
  candidatesTokenCount: c,
  thoughtsTokenCount: 2,
  totalTokenCount: 6 + c,
});

describe('Gemini SSE → chat.completion.chunk', () => {
  it('streams text deltas with the role first, finish_reason, then [DONE]', () => {
    const { chunks, raw } = translate(
      sse(
        {
          candidates: [{ content: { parts: [{ text: 'Hé' }], role: 'model' }, index: 0 }],
          usageMetadata: usage(1),
          responseId: 'r1',
        },
        {
          candidates: [{ content: { parts: [{ text: 'llo ✓' }], role: 'model' }, index: 0 }],
          usageMetadata: usage(2),
          responseId: 'r1',
        },
        {
          candidates: [{ content: { parts: [{ text: '' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
          usageMetadata: usage(2),
          responseId: 'r1',
        },
      ),
    );
    expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta)).toEqual([
      { role: 'assistant', content: 'Hé' },
      { content: 'llo ✓' },
      {},
    ]);
    expect(chunks.map((c) => c.choices[0]?.finish_reason)).toEqual([null, null, 'stop']);
    for (const c of chunks)
      expect(c).toMatchObject({
        id: 'chatcmpl-r1',
        object: 'chat.completion.chunk',
        created: 1767225600,
        model: 'gemini-2.5-flash',
      });
    expect(chunks.some((c) => 'usage' in c)).toBe(false);
  });

  it('streams a tool call with index and thought signature; the later STOP becomes tool_calls; usage last when asked', () => {
    const { chunks } = translate(
      sse(
        {
          candidates: [
            {
              content: {
                parts: [
                  {
                    functionCall: { id: 'abc', name: 'get_weather', args: { city: 'Paris' } },
                    thoughtSignature: 'U0lH',
                  },
                ],
              },
              index: 0,
            },
          ],
          usageMetadata: usage(3),
        },
        {
          candidates: [{ content: { parts: [{ functionCall: { name: 'get_time', args: {} } }] }, index: 0 }],
          usageMetadata: usage(5),
        },
        {
          candidates: [{ content: { parts: [{ text: '' }] }, finishReason: 'STOP', index: 0 }],
          usageMetadata: usage(5),
        },
      ),
      true,
    );
    expect(chunks[0].choices[0].delta).toEqual({
      role: 'assistant',
      content: '',
      tool_calls: [
        {
          index: 0,
          id: 'abc',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          extra_content: { google: { thought_signature: 'U0lH' } },
        },
      ],
    });
    expect(chunks[1].choices[0].delta.tool_calls).toEqual([
      { index: 1, id: 'call_gen', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
    expect(chunks[2].choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'tool_calls' });
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({
      prompt_tokens: 4,
      completion_tokens: 7,
      total_tokens: 11,
      completion_tokens_details: { reasoning_tokens: 2 },
      prompt_tokens_details: { cached_tokens: 0 },
    });
    for (const c of chunks.slice(0, -1)) expect(c.usage).toBeNull();
  });

  it('sends thoughts as reasoning_content and closes a stream that ended without finishReason', () => {
    const { chunks } = translate(
      sse({ candidates: [{ content: { parts: [{ text: 'hmm', thought: true }, { text: 'ok' }] }, index: 0 }] }),
    );
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: 'ok', reasoning_content: 'hmm' });
    expect(chunks[1].choices[0].finish_reason).toBe('stop');
  });

  it.each([
    ['MAX_TOKENS', 'length'],
    ['SAFETY', 'content_filter'],
  ])('maps a streamed %s to %s', (reason, expected) => {
    const { chunks } = translate(
      sse({ candidates: [{ content: { parts: [{ text: 'a' }] }, finishReason: reason, index: 0 }] }),
    );
    expect(chunks[chunks.length - 1].choices[0].finish_reason).toBe(expected);
  });

  it('finds a bare mid-stream error object (no data: prefix) as its own payload', () => {
    const p = new SseEventParser();
    const got = [
      ...p.push(Buffer.from(sse({ candidates: [{ content: { parts: [{ text: 'a' }] } }] }))),
      ...p.push(Buffer.from('{"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}}')),
      ...p.end(),
    ];
    expect(got.map((x) => JSON.parse(x))).toEqual([
      { candidates: [{ content: { parts: [{ text: 'a' }] } }] },
      { error: { code: 500, message: 'Internal error', status: 'INTERNAL' } },
    ]);
  });

  it('ignores comments and LF-only framing', () => {
    const p = new SseEventParser();
    expect(p.push(Buffer.from(': keep-alive\n\ndata: {"a":1}\n\ndata: {"b":'))).toEqual(['{"a":1}']);
    expect(p.push(Buffer.from('2}\n\n'))).toEqual(['{"b":2}']);
  });

  it('reads event:/id:/retry: fields, CR-only lines, a BOM and multi-line data without mixing them into payloads', () => {
    const p = new SseEventParser();
    expect(p.push(Buffer.from('\uFEFFevent: message\nid: 7\nretry: 1000\ndata: {"a":\ndata: 1}\n\n'))).toEqual([
      '{"a":\n1}',
    ]);
    expect(p.push(Buffer.from('data: {"b":2}\r\rdata: {"c":3}\r\n\r\n'))).toEqual(['{"b":2}', '{"c":3}']);
  });

  it('passes on an event the upstream did not close with a blank line when the stream ends', () => {
    const p = new SseEventParser();
    expect(p.push(Buffer.from('data: {"a":1}\r\n\r\ndata: {"b":2}'))).toEqual(['{"a":1}']);
    expect(p.end()).toEqual(['{"b":2}']);
  });
});
