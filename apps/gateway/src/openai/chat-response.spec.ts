import { mapFinishReason, mapUsage, toChatCompletion } from './chat-response';

describe('Gemini → OpenAI answer mapping', () => {
  it.each([
    ['STOP', false, 'stop'],
    ['STOP', true, 'tool_calls'],
    ['MAX_TOKENS', false, 'length'],
    ['SAFETY', false, 'content_filter'],
    ['RECITATION', false, 'content_filter'],
    ['PROHIBITED_CONTENT', false, 'content_filter'],
    ['SPII', false, 'content_filter'],
    ['IMAGE_SAFETY', false, 'content_filter'],
    ['MALFORMED_FUNCTION_CALL', false, 'stop'],
    ['OTHER', false, 'stop'],
    [undefined, false, 'stop'],
  ])('finishReason %s (tool call seen: %s) → %s', (reason, saw, expected) =>
    expect(mapFinishReason(reason, saw)).toBe(expected),
  );

  it('counts thinking tokens as completion tokens, so prompt + completion = total', () => {
    expect(
      mapUsage({
        promptTokenCount: 161,
        candidatesTokenCount: 16,
        thoughtsTokenCount: 45,
        totalTokenCount: 222,
        cachedContentTokenCount: 100,
      }),
    ).toEqual({
      prompt_tokens: 161,
      completion_tokens: 61,
      total_tokens: 222,
      completion_tokens_details: { reasoning_tokens: 45 },
      prompt_tokens_details: { cached_tokens: 100 },
    });
    expect(mapUsage(undefined)).toMatchObject({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });

  it('answers chat.completion with text, thoughts as reasoning_content, and usage', () => {
    const out = toChatCompletion(
      {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [{ text: 'thinking…', thought: true }, { text: 'Hello' }, { text: ' world' }],
            },
            finishReason: 'MAX_TOKENS',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
        responseId: 'resp1',
      },
      'gemini-2.5-flash',
      1767225600_000,
    );
    expect(out).toEqual({
      id: 'chatcmpl-resp1',
      object: 'chat.completion',
      created: 1767225600,
      model: 'gemini-2.5-flash',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello world', refusal: null, reasoning_content: 'thinking…' },
          logprobs: null,
          finish_reason: 'length',
        },
      ],
      usage: mapUsage({ promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 }),
    });
  });

  it('answers tool calls with the thought signature in extra_content and finish_reason tool_calls', () => {
    const out = toChatCompletion(
      {
        candidates: [
          {
            content: {
              parts: [
                {
                  functionCall: { id: 'up3kf30e', name: 'get_weather', args: { city: 'Oslo' } },
                  thoughtSignature: 'U0lH',
                },
                { functionCall: { name: 'get_time', args: {} } },
              ],
            },
            finishReason: 'STOP',
          },
        ],
      },
      'gemini-3-flash-preview',
      0,
      () => 'call_generated',
    );
    expect(out['choices'][0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [
          {
            id: 'up3kf30e',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
            extra_content: { google: { thought_signature: 'U0lH' } },
          },
          { id: 'call_generated', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    });
  });

  it('answers a blocked prompt (no candidates) with empty content and content_filter', () => {
    const out = toChatCompletion(
      { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 4, totalTokenCount: 4 } },
      'm',
    );
    expect(out['choices']).toEqual([
      {
        index: 0,
        message: { role: 'assistant', content: '', refusal: null },
        logprobs: null,
        finish_reason: 'content_filter',
      },
    ]);
    expect(out['usage']).toMatchObject({ prompt_tokens: 4, total_tokens: 4 });
  });
});
