import { parseGoogleError } from './google-error';

describe('parseGoogleError', () => {
  it('reads message, status, ErrorInfo reasons, quota ids and retry delay', () => {
    const body = JSON.stringify({
      error: {
        code: 429,
        message: 'quota',
        status: 'RESOURCE_EXHAUSTED',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'RATE_LIMIT_EXCEEDED',
            domain: 'googleapis.com',
          },
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [{ quotaId: 'A' }, { quotaId: 'B' }, 'junk'],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3.2s' },
          null,
        ],
      },
    });
    expect(parseGoogleError(body)).toEqual({
      message: 'quota',
      status: 'RESOURCE_EXHAUSTED',
      reasons: ['RATE_LIMIT_EXCEEDED'],
      quotaIds: ['A', 'B'],
      retryDelayMs: 3200,
      json: true,
    });
  });

  it('reads the array-wrapped and SSE-framed variants', () => {
    const inner = { error: { code: 400, message: 'm', status: 'INVALID_ARGUMENT' } };
    expect(parseGoogleError(JSON.stringify([inner]))).toMatchObject({ message: 'm', json: true });
    expect(parseGoogleError(`data: ${JSON.stringify(inner)}\n\n`)).toMatchObject({ message: 'm', json: true });
  });

  it('keeps the text of a body that is not a Google error', () => {
    expect(parseGoogleError('<html>oops</html>')).toMatchObject({
      message: '<html>oops</html>',
      json: false,
      status: null,
    });
    expect(parseGoogleError('{"ok":true}')).toMatchObject({ json: false });
    expect(parseGoogleError(undefined)).toMatchObject({ message: '', json: false });
  });
});
