import { credentialOf, downstreamHeaders, upstreamHeaders } from './request-parts';

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
      {
        'x-goog-api-key': 'gg-user',
        authorization: 'Bearer gg-user',
        cookie: 'c',
        'content-type': 'application/json',
        'x-goog-api-client': 'sdk',
        connection: 'keep-alive',
        host: 'gw',
      },
      'rid',
    );
    expect(h).toEqual({
      'content-type': 'application/json',
      'x-goog-api-client': 'sdk',
      'accept-encoding': 'identity',
      'x-request-id': 'rid',
    });
  });

  it("drops what the Connection header names, the client's hops, origin, referer, method overrides, trace context", () => {
    const h = upstreamHeaders(
      {
        connection: 'keep-alive, X-Trace-Hop, x-other',
        'x-trace-hop': 'secret-hop',
        'x-other': '1',
        forwarded: 'for=10.0.0.1',
        'x-forwarded-for': '10.0.0.1',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
        'x-real-ip': '10.0.0.1',
        via: '1.1 proxy',
        origin: 'https://app.example',
        referer: 'https://app.example/page',
        'x-http-method-override': 'POST',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        tracestate: 'vendor=1',
        baggage: 'user=1',
        'content-type': 'application/json',
        'x-goog-api-client': 'sdk',
      },
      'rid',
    );
    expect(h).toEqual({
      'content-type': 'application/json',
      'x-goog-api-client': 'sdk',
      'accept-encoding': 'identity',
      'x-request-id': 'rid',
    });
  });

  it('keeps every end-to-end header when Connection names none', () => {
    expect(upstreamHeaders({ connection: 'close', 'x-custom': 'v' }, 'r')).toEqual({
      'x-custom': 'v',
      'accept-encoding': 'identity',
      'x-request-id': 'r',
    });
  });

  it('drops hop-by-hop headers and Alt-Svc on the way back', () => {
    expect(
      downstreamHeaders({
        'content-type': 'text/event-stream',
        'transfer-encoding': 'chunked',
        'alt-svc': 'h3',
        connection: 'close',
        vary: 'Origin',
      }),
    ).toEqual({ 'content-type': 'text/event-stream', vary: 'Origin' });
  });
});
