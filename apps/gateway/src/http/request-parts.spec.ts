import { credentialOf, downstreamHeaders, parseTarget, upstreamHeaders } from './request-parts';

describe('parseTarget', () => {
  it('finds model and method, keeps the query but the key', () => {
    const t = parseTarget('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=gg-secret&x=1');
    expect(t).toEqual({
      path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
      query: 'alt=sse&x=1',
      queryKey: 'gg-secret',
      model: 'gemini-2.5-flash',
      method: 'streamGenerateContent',
      sse: true,
    });
  });

  it('tolerates a percent-encoded colon and tuned models', () => {
    expect(parseTarget('/v1/models/gemini-2.5-pro%3AgenerateContent')).toMatchObject({ model: 'gemini-2.5-pro', method: 'generateContent' });
    expect(parseTarget('/v1beta/tunedModels/my-model:generateContent')).toMatchObject({ model: 'my-model', method: 'generateContent' });
  });

  it('has no model on other paths and no sse without alt=sse', () => {
    expect(parseTarget('/v1beta/files/abc?pageSize=2')).toMatchObject({ model: null, method: null, query: 'pageSize=2', sse: false });
    expect(parseTarget('/v1beta/models/gemini-2.5-flash')).toMatchObject({ model: 'gemini-2.5-flash', method: null });
  });
});

describe('credentialOf', () => {
  it('takes x-goog-api-key, then ?key=, then Authorization: Bearer', () => {
    expect(credentialOf({ 'x-goog-api-key': 'a', authorization: 'Bearer c' }, 'b')).toBe('a');
    expect(credentialOf({ authorization: 'Bearer c' }, 'b')).toBe('b');
    expect(credentialOf({ authorization: 'bearer c' }, null)).toBe('c');
    expect(credentialOf({ authorization: 'Basic c' }, null)).toBeNull();
    expect(credentialOf({}, null)).toBeNull();
  });
});

describe('headers', () => {
  it('never forwards the client credentials', () => {
    const h = upstreamHeaders(
      { 'x-goog-api-key': 'gg-user', authorization: 'Bearer gg-user', cookie: 'c', 'content-type': 'application/json', 'x-goog-api-client': 'sdk', connection: 'keep-alive', host: 'gw' },
      'rid',
    );
    expect(h).toEqual({
      'content-type': 'application/json',
      'x-goog-api-client': 'sdk',
      'accept-encoding': 'identity',
      'x-request-id': 'rid',
    });
  });

  it('drops hop-by-hop headers and Alt-Svc on the way back', () => {
    expect(
      downstreamHeaders({ 'content-type': 'text/event-stream', 'transfer-encoding': 'chunked', 'alt-svc': 'h3', connection: 'close', vary: 'Origin' }),
    ).toEqual({ 'content-type': 'text/event-stream', vary: 'Origin' });
  });
});
