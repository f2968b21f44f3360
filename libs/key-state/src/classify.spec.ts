import { classifyUpstream } from './classify';

function googleError(code: number, status: string, message: string, details: unknown[] = []): string {
  return JSON.stringify({ error: { code, message, status, details } }, null, 2);
}

const QUOTA_MESSAGE = 'You exceeded your current quota, please check your plan and billing details.';

function rateLimitBody(quotaId: string, retryDelay?: string): string {
  const details: unknown[] = [
    {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId }],
    },
    {
      '@type': 'type.googleapis.com/google.rpc.Help',
      links: [{ description: 'quotas', url: 'https://ai.google.dev' }],
    },
  ];
  if (retryDelay) details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay });
  return googleError(429, 'RESOURCE_EXHAUSTED', QUOTA_MESSAGE, details);
}

const KEY = 'AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW';

describe('classifyUpstream', () => {
  it('treats 2xx as success', () => {
    expect(classifyUpstream(200, '{"candidates":[]}').kind).toBe('success');
    expect(classifyUpstream(204, undefined).kind).toBe('success');
  });

  describe('429 RESOURCE_EXHAUSTED', () => {
    it('is rate_limited with RetryInfo.retryDelay in ms', () => {
      const c = classifyUpstream(429, rateLimitBody('GenerateRequestsPerMinutePerProjectPerModel-FreeTier', '47s'));
      expect(c).toMatchObject({ kind: 'rate_limited', retryDelayMs: 47_000 });
      expect(c.perDay).toBeUndefined();
      expect(c.reason).toContain('GenerateRequestsPerMinutePerProjectPerModel-FreeTier');
    });

    it.each([
      ['3.2s', 3200],
      ['0.5s', 500],
      ['500ms', 500],
      ['1.25s', 1250],
      ['2m', 120_000],
    ])('parses the fractional/unit duration %s', (delay, ms) => {
      expect(classifyUpstream(429, rateLimitBody('X', delay)).retryDelayMs).toBe(ms);
    });

    it('falls back to the Retry-After header in seconds, whatever its case', () => {
      const body = googleError(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).');
      expect(classifyUpstream(429, body, { 'Retry-After': '12' }).retryDelayMs).toBe(12_000);
      expect(classifyUpstream(429, body, { 'retry-after': ['7'] }).retryDelayMs).toBe(7_000);
    });

    it('prefers RetryInfo over Retry-After', () => {
      expect(classifyUpstream(429, rateLimitBody('X', '47s'), { 'retry-after': '5' }).retryDelayMs).toBe(47_000);
    });

    it('reads an HTTP-date Retry-After relative to the Date header, or to the given now', () => {
      const headers = { date: 'Wed, 01 Jan 2025 00:00:00 GMT', 'retry-after': 'Wed, 01 Jan 2025 00:01:30 GMT' };
      expect(classifyUpstream(429, '', headers).retryDelayMs).toBe(90_000);
      const now = Date.parse('Wed, 01 Jan 2025 00:01:00 GMT');
      expect(classifyUpstream(429, '', { 'retry-after': headers['retry-after'] }, now).retryDelayMs).toBe(30_000);
      // no reference time: the date is ignored rather than compared with a clock
      expect(classifyUpstream(429, '', { 'retry-after': headers['retry-after'] }).retryDelayMs).toBeUndefined();
    });

    it('has no retry delay when neither is given', () => {
      const c = classifyUpstream(429, googleError(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted.'));
      expect(c.kind).toBe('rate_limited');
      expect(c.retryDelayMs).toBeUndefined();
    });

    it('flags a per-day quota and names it in the reason', () => {
      const body = JSON.stringify({
        error: {
          code: 429,
          status: 'RESOURCE_EXHAUSTED',
          message: QUOTA_MESSAGE,
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
              violations: [
                { quotaId: 'GenerateRequestsPerMinutePerProjectPerModel' },
                { quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier' },
              ],
            },
            { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '21s' },
          ],
        },
      });
      const c = classifyUpstream(429, body);
      expect(c).toMatchObject({ kind: 'rate_limited', perDay: true, retryDelayMs: 21_000 });
      expect(c.reason).toContain('GenerateRequestsPerDayPerProjectPerModel-FreeTier');
    });

    it('is rate_limited even with an empty or HTML body', () => {
      expect(classifyUpstream(429, '').kind).toBe('rate_limited');
      expect(classifyUpstream(429, '<html><body>Too Many Requests</body></html>').kind).toBe('rate_limited');
    });
  });

  describe('bad keys are invalid', () => {
    it.each([
      ['API key not valid. Please pass a valid API key.'],
      ['API Key not found. Please pass a valid API key.'],
      ['API key expired. Please renew the API key.'],
    ])('400 "%s"', (message) => {
      expect(classifyUpstream(400, googleError(400, 'INVALID_ARGUMENT', message)).kind).toBe('invalid');
    });

    it('400 with ErrorInfo reason API_KEY_INVALID, reason kept', () => {
      const body = googleError(400, 'INVALID_ARGUMENT', 'Something else.', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' },
      ]);
      const c = classifyUpstream(400, body);
      expect(c.kind).toBe('invalid');
      expect(c.reason).toContain('API_KEY_INVALID');
    });

    it('401 whatever the body', () => {
      expect(
        classifyUpstream(401, googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'))
          .kind,
      ).toBe('invalid');
      expect(classifyUpstream(401, '').kind).toBe('invalid');
    });

    it.each([
      'CONSUMER_SUSPENDED',
      'SERVICE_DISABLED',
      'API_KEY_SERVICE_BLOCKED',
      'API_KEY_IP_ADDRESS_BLOCKED',
      'API_KEY_HTTP_REFERRER_BLOCKED',
    ])('403 PERMISSION_DENIED %s', (reason) => {
      const body = googleError(403, 'PERMISSION_DENIED', 'Permission denied.', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason },
      ]);
      const c = classifyUpstream(403, body);
      expect(c.kind).toBe('invalid');
      expect(c.reason).toContain(reason);
    });

    it('403 "has been suspended", without leaking the key from the message', () => {
      const body = googleError(
        403,
        'PERMISSION_DENIED',
        `Permission denied: Consumer 'api_key:${KEY}' has been suspended.`,
      );
      const c = classifyUpstream(403, body);
      expect(c.kind).toBe('invalid');
      expect(c.reason).toContain('has been suspended');
      expect(c.reason).not.toContain(KEY);
      expect(c.reason).not.toMatch(/AIza/);
    });
    it.each([
      [
        'SERVICE_DISABLED',
        'Generative Language API has not been used in project 1234 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/generativelanguage.googleapis.com/overview?project=1234 then retry.',
      ],
      [
        'API_KEY_SERVICE_BLOCKED',
        'Requests to this API generativelanguage.googleapis.com method google.ai.generativelanguage.v1beta.GenerativeService.GenerateContent are blocked.',
      ],
      ['API_KEY_HTTP_REFERRER_BLOCKED', 'Requests from referer <empty> are blocked.'],
    ])('403 %s recognised by its message when no ErrorInfo came with it', (_reason, message) => {
      expect(classifyUpstream(403, googleError(403, 'PERMISSION_DENIED', message)).kind).toBe('invalid');
      // the same words on another status are not a key fault
      expect(classifyUpstream(400, googleError(400, 'INVALID_ARGUMENT', message)).kind).toBe('client_error');
    });
  });

  describe('transient', () => {
    it.each([500, 502, 503, 504])('%i', (status) => {
      const c = classifyUpstream(
        status,
        googleError(status, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'),
      );
      expect(c.kind).toBe('transient');
      expect(c.reason).toMatch(new RegExp(`^${status}`));
    });

    it('a 503, or a 5xx that says overloaded, is marked overloaded (the model, not the key); other 5xx are not', () => {
      expect(
        classifyUpstream(503, googleError(503, 'UNAVAILABLE', 'The service is currently unavailable.')).overloaded,
      ).toBe(true);
      expect(classifyUpstream(503, '').overloaded).toBe(true);
      expect(classifyUpstream(500, googleError(500, 'INTERNAL', 'The model is overloaded.')).overloaded).toBe(true);
      expect(
        classifyUpstream(500, googleError(500, 'INTERNAL', 'Internal error encountered.')).overloaded,
      ).toBeUndefined();
      expect(classifyUpstream(0, 'ECONNRESET').overloaded).toBeUndefined();
    });

    it('status 0 (network error, timeout), with the error text if given', () => {
      expect(classifyUpstream(0, undefined)).toEqual({ kind: 'transient', reason: 'network error or timeout' });
      expect(classifyUpstream(0, 'ECONNRESET').reason).toBe('network error: ECONNRESET');
    });

    it('an HTML 502 page becomes a short text reason', () => {
      const html = `<!DOCTYPE html><html><head><title>Error 502 (Server Error)!!1</title><style>body{margin:0}</style></head>
        <body><p><b>502.</b> That’s an error.</p><p>The server encountered a temporary error.${'x'.repeat(5000)}</p></body></html>`;
      const c = classifyUpstream(502, html);
      expect(c.kind).toBe('transient');
      expect(c.reason).not.toMatch(/[<>]/);
      expect(c.reason).toContain('Error 502 (Server Error)');
      expect(c.reason.length).toBeLessThanOrEqual(160);
    });
  });

  it('403 on a file or cached content of another key is affinity (not retried elsewhere)', () => {
    const file = googleError(
      403,
      'PERMISSION_DENIED',
      'You do not have permission to access the File abc123 or it may not exist.',
    );
    expect(classifyUpstream(403, file).kind).toBe('affinity');
    const cache = googleError(403, 'PERMISSION_DENIED', 'CachedContent not found (or permission denied)');
    expect(classifyUpstream(403, cache).kind).toBe('affinity');
    const upload = googleError(
      403,
      'PERMISSION_DENIED',
      'The caller does not have permission to use this upload session.',
    );
    expect(classifyUpstream(403, upload).kind).toBe('affinity');
  });

  it('403 "unregistered callers" is a proxy bug, not the key\'s fault', () => {
    const body = googleError(
      403,
      'PERMISSION_DENIED',
      "Method doesn't allow unregistered callers (callers without established identity).",
    );
    expect(classifyUpstream(403, body)).toMatchObject({ kind: 'client_error', proxyBug: true });
  });

  it.each([
    [400, googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unknown name "x"')],
    [400, googleError(400, 'FAILED_PRECONDITION', 'User location is not supported for the API use.')],
    [403, googleError(403, 'PERMISSION_DENIED', 'Some other permission problem.')],
    [404, googleError(404, 'NOT_FOUND', 'models/x is not found for API version v1beta')],
    [413, ''],
    [501, ''],
  ])('any other answer (%i) is a client_error, answered as is', (status, body) => {
    const c = classifyUpstream(status, body);
    expect(c.kind).toBe('client_error');
    expect(c.proxyBug).toBeUndefined();
  });

  describe('parsing', () => {
    it('reads the array-wrapped error of streaming and OpenAI-compat answers', () => {
      const body = JSON.stringify([
        {
          error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT' },
        },
      ]);
      expect(classifyUpstream(400, body).kind).toBe('invalid');
      const rl = JSON.stringify([JSON.parse(rateLimitBody('X', '9s'))]);
      expect(classifyUpstream(429, rl).retryDelayMs).toBe(9000);
    });

    it('survives empty, truncated and non-error JSON bodies', () => {
      expect(classifyUpstream(400, undefined)).toEqual({ kind: 'client_error', reason: '400' });
      expect(classifyUpstream(400, '')).toEqual({ kind: 'client_error', reason: '400' });
      expect(classifyUpstream(400, '{"error": {"code": 400, "mess').kind).toBe('client_error');
      expect(classifyUpstream(400, '[]').kind).toBe('client_error');
      expect(classifyUpstream(400, 'null').kind).toBe('client_error');
      expect(classifyUpstream(503, '{"foo":1}').kind).toBe('transient');
    });

    it('ignores a malformed retryDelay', () => {
      expect(classifyUpstream(429, rateLimitBody('X', 'soon')).retryDelayMs).toBeUndefined();
    });

    it('never puts a key in the reason, whatever form it takes', () => {
      const body = googleError(
        400,
        'INVALID_ARGUMENT',
        `Bad request for ${KEY} at https://x/y?key=${KEY}&alt=sse api_key:secret123`,
      );
      const reason = classifyUpstream(400, body).reason;
      expect(reason).not.toContain(KEY);
      expect(reason).not.toContain('secret123');
      expect(reason).toContain('alt=sse');
    });
  });
});
