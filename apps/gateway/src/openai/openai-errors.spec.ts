import type { ServerResponse } from 'node:http';
import { fromGoogleError, writeOpenAiError } from './openai-errors';

function fakeRes(): ServerResponse & { status: number; headers: Record<string, unknown>; text: string } {
  const r = {
    headersSent: false,
    status: 0,
    headers: {} as Record<string, unknown>,
    text: '',
    writeHead(status: number, headers: Record<string, unknown>) {
      r.status = status;
      r.headers = headers;
      r.headersSent = true;
    },
    end(text: string) {
      r.text = text;
    },
    destroy() {},
  };
  return r as unknown as ServerResponse & { status: number; headers: Record<string, unknown>; text: string };
}

const google = (code: number, status: string, message: string, details?: unknown[]) =>
  JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } }, null, 2);

describe('errors in OpenAI shape', () => {
  it.each([
    [401, 'UNAUTHENTICATED', {}, 'invalid_request_error', 'invalid_api_key', undefined],
    [429, 'RESOURCE_EXHAUSTED', { 'retry-after': '3' }, 'rate_limit_error', 'rate_limit_exceeded', undefined],
    [503, 'UNAVAILABLE', { 'retry-after': '12' }, 'server_error', 'unavailable', undefined],
    [502, 'UNAVAILABLE', {}, 'server_error', 'unavailable', 'false'],
    [504, 'DEADLINE_EXCEEDED', {}, 'server_error', 'timeout', 'false'],
    [413, 'INVALID_ARGUMENT', {}, 'invalid_request_error', 'request_too_large', undefined],
  ] as const)('gateway error %i %s', (code, status, headers, type, errCode, shouldRetry) => {
    const res = fakeRes();
    writeOpenAiError(res, code, status, 'msg', { ...headers });
    expect(res.status).toBe(code);
    expect(JSON.parse(res.text)).toEqual({ error: { message: 'msg', type, param: null, code: errCode } });
    expect(res.headers['x-should-retry']).toBe(shouldRetry);
    for (const [k, v] of Object.entries(headers)) expect(res.headers[k]).toBe(v);
  });

  it.each([
    [
      429,
      google(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota', [
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '46.2s' },
      ]),
      'rate_limit_error',
      'rate_limit_exceeded',
      47,
    ],
    [
      400,
      `[${google(400, 'INVALID_ARGUMENT', 'Function call is missing a thought_signature')}]`,
      'invalid_request_error',
      'invalid_request_error',
      null,
    ],
    [
      404,
      google(404, 'NOT_FOUND', 'models/foo is not found for API version v1beta'),
      'invalid_request_error',
      'model_not_found',
      null,
    ],
    [403, google(403, 'PERMISSION_DENIED', 'Permission denied'), 'permission_error', 'permission_denied', null],
    [500, google(500, 'INTERNAL', 'Internal error encountered.'), 'server_error', 'internal', null],
    [503, google(503, 'UNAVAILABLE', 'The model is overloaded.'), 'server_error', 'unavailable', null],
  ])('upstream %i → OpenAI error', (status, body, type, code, retryAfter) => {
    const out = fromGoogleError(status, Buffer.from(body));
    expect(out.body.error).toMatchObject({ type, code, param: null });
    expect(out.body.error.message).toBe(JSON.parse(body.startsWith('[') ? body.slice(1, -1) : body).error.message);
    expect(out.retryAfter).toBe(retryAfter);
  });

  it('keeps a non-JSON upstream error readable', () => {
    expect(fromGoogleError(502, '<html>Bad Gateway</html>').body.error).toMatchObject({
      message: '<html>Bad Gateway</html>',
      type: 'server_error',
    });
  });
});
