import { mapMessages, parseDataUri } from './chat-messages';
import { mapChatRequest, mapToolChoice, thinkingFor } from './chat-request';
import { InvalidRequestError } from './openai-errors';

const noFetch = async (): Promise<never> => {
  throw new Error('no fetch expected');
};
const PNG = 'iVBORw0KGgo=';

describe('OpenAI → Gemini request mapping', () => {
  it.each([
    [
      'system and developer → systemInstruction, user text → user turn',
      [
        { role: 'system', content: 'Be terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'No emojis.' }] },
        { role: 'user', content: 'hi' },
      ],
      {
        systemInstruction: { parts: [{ text: 'Be terse.' }, { text: 'No emojis.' }] },
        contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
      },
    ],
    [
      'assistant text → model turn',
      [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'c' },
      ],
      {
        contents: [
          { role: 'user', parts: [{ text: 'a' }] },
          { role: 'model', parts: [{ text: 'b' }] },
          { role: 'user', parts: [{ text: 'c' }] },
        ],
      },
    ],
    [
      'image data URI (image/jpg fixed) and audio → inlineData',
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what?' },
            { type: 'image_url', image_url: { url: `data:image/jpg;base64,${PNG}` } },
            { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'mp3' } },
          ],
        },
      ],
      {
        contents: [
          {
            role: 'user',
            parts: [
              { text: 'what?' },
              { inlineData: { mimeType: 'image/jpeg', data: PNG } },
              { inlineData: { mimeType: 'audio/mp3', data: 'UklGRg==' } },
            ],
          },
        ],
      },
    ],
    [
      'tool calls with thought signature, then tool results merged into one user turn of functionResponse',
      [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'c1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              extra_content: { google: { thought_signature: 'SIG' } },
            },
            { id: 'c2', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'c1', content: '{"tempC":21}' },
        { role: 'tool', tool_call_id: 'c2', content: 'noon' },
      ],
      {
        contents: [
          { role: 'user', parts: [{ text: 'weather?' }] },
          {
            role: 'model',
            parts: [
              { functionCall: { id: 'c1', name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'SIG' },
              { functionCall: { id: 'c2', name: 'get_time', args: {} } },
            ],
          },
          {
            role: 'user',
            parts: [
              { functionResponse: { id: 'c1', name: 'get_weather', response: { tempC: 21 } } },
              { functionResponse: { id: 'c2', name: 'get_time', response: { result: 'noon' } } },
            ],
          },
        ],
      },
    ],
  ])('%s', async (_name, messages, expected) => {
    expect(await mapMessages(messages, noFetch)).toEqual(expected);
  });

  it('fetches http(s) image URLs through the resolver', async () => {
    const seen: string[] = [];
    const out = await mapMessages(
      [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }],
      async (url, param) => {
        seen.push(`${url} ${param}`);
        return { mimeType: 'image/png', data: PNG };
      },
    );
    expect(seen).toEqual(['https://example.com/a.png messages[0].content[0].image_url.url']);
    expect(out.contents[0].parts).toEqual([{ inlineData: { mimeType: 'image/png', data: PNG } }]);
  });

  it('maps options to generationConfig, tools and toolConfig, and ignores unknown fields', async () => {
    const r = await mapChatRequest(
      {
        model: 'models/gemini-2.5-flash',
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
        stream_options: { include_usage: true },
        temperature: 0.5,
        top_p: 0.9,
        max_tokens: 10,
        max_completion_tokens: 20,
        stop: 'END',
        n: 2,
        seed: 7,
        presence_penalty: 0.1,
        frequency_penalty: -0.2,
        reasoning_effort: 'low',
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
        tools: [
          {
            type: 'function',
            function: { name: 'f', description: 'd', parameters: { type: 'object', properties: {} } },
          },
        ],
        tool_choice: { type: 'function', function: { name: 'f' } },
        user: 'ignored',
        logit_bias: { 1: 2 },
        whatever: true,
        extra_body: { google: { cached_content: 'cachedContents/abc', thinking_config: { include_thoughts: true } } },
      },
      noFetch,
    );
    expect(r).toMatchObject({
      model: 'gemini-2.5-flash',
      stream: true,
      includeUsage: true,
      cachedContent: 'cachedContents/abc',
    });
    expect(r.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'x' }] }],
      tools: [
        {
          functionDeclarations: [
            { name: 'f', description: 'd', parametersJsonSchema: { type: 'object', properties: {} } },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } },
      generationConfig: {
        temperature: 0.5,
        topP: 0.9,
        maxOutputTokens: 20,
        candidateCount: 2,
        seed: 7,
        presencePenalty: 0.1,
        frequencyPenalty: -0.2,
        stopSequences: ['END'],
        responseMimeType: 'application/json',
        responseJsonSchema: { type: 'object' },
        thinkingConfig: { thinkingBudget: 1024, includeThoughts: true },
      },
      cachedContent: 'cachedContents/abc',
    });
  });

  it.each([
    ['auto', { functionCallingConfig: { mode: 'AUTO' } }],
    ['none', { functionCallingConfig: { mode: 'NONE' } }],
    ['required', { functionCallingConfig: { mode: 'ANY' } }],
  ])('tool_choice %s', (choice, expected) => expect(mapToolChoice(choice)).toEqual(expected));

  it.each([
    ['gemini-2.5-flash', 'none', { thinkingBudget: 0 }],
    ['gemini-2.5-pro', 'high', { thinkingBudget: 24576 }],
    ['gemini-2.5-flash', 'medium', { thinkingBudget: 8192 }],
    ['gemini-3-flash-preview', 'minimal', { thinkingLevel: 'minimal' }],
    ['gemini-3-pro-preview', 'medium', { thinkingLevel: 'high' }],
  ])('reasoning_effort on %s: %s', (model, effort, expected) => expect(thinkingFor(model, effort)).toEqual(expected));

  it('json_object → responseMimeType only; no stream → includeUsage false', async () => {
    const r = await mapChatRequest(
      {
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'x' }],
        response_format: { type: 'json_object' },
        stream_options: { include_usage: true },
      },
      noFetch,
    );
    expect(r.includeUsage).toBe(false);
    expect(r.body['generationConfig']).toEqual({ responseMimeType: 'application/json' });
  });

  it.each([
    ['no model', { messages: [{ role: 'user', content: 'x' }] }, 'model'],
    ['a model with a path in it', { model: '../files/x', messages: [{ role: 'user', content: 'x' }] }, 'model'],
    ['no messages', { model: 'gemini-2.5-flash' }, 'messages'],
    ['an unknown role', { model: 'gemini-2.5-flash', messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
    [
      'temperature out of range',
      { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }], temperature: 3 },
      'temperature',
    ],
    [
      'max_tokens not an integer',
      { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }], max_tokens: 'ten' },
      'max_tokens',
    ],
    [
      'a bad response_format',
      { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }], response_format: { type: 'yaml' } },
      'response_format.type',
    ],
    [
      'a bad tool_choice',
      { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }], tool_choice: 'sometimes' },
      'tool_choice',
    ],
    [
      'a non-function tool',
      { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'web_search' }] },
      'tools[0]',
    ],
    [
      'a bad reasoning_effort',
      { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'max' },
      'reasoning_effort',
    ],
    [
      'stream not a boolean',
      { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }], stream: 'yes' },
      'stream',
    ],
    [
      'an unknown content part',
      { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: [{ type: 'video', video: {} }] }] },
      'messages[0].content[0].type',
    ],
    [
      'an image URL of another scheme',
      {
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }],
      },
      'messages[0].content[0].image_url.url',
    ],
    [
      'an audio part without format',
      {
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x' } }] }],
      },
      'messages[0].content[0].input_audio',
    ],
    [
      'tool arguments that are no JSON',
      {
        model: 'gemini-2.5-flash',
        messages: [{ role: 'assistant', tool_calls: [{ id: 'a', function: { name: 'f', arguments: '{nope' } }] }],
      },
      'messages[0].tool_calls[0].function.arguments',
    ],
    [
      'a tool result answering no call',
      {
        model: 'gemini-2.5-flash',
        messages: [
          { role: 'user', content: 'x' },
          { role: 'tool', tool_call_id: 'zz', content: '1' },
        ],
      },
      'messages[1].tool_call_id',
    ],
  ])('refuses %s with invalid_request_error naming the parameter', async (_name, body, param) => {
    const e = await mapChatRequest(body, noFetch).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidRequestError);
    expect((e as InvalidRequestError).param).toBe(param);
  });

  it.each([
    ['data:image/png;base64,QUJD', { mimeType: 'image/png', data: 'QUJD' }],
    ['data:image/jpg;name=a.jpg;base64,QUJD', { mimeType: 'image/jpeg', data: 'QUJD' }],
    ['data:image/png,not-base64', null],
  ])('parses %s', (uri, expected) => expect(parseDataUri(uri)).toEqual(expected));
});
