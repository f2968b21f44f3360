import { classifyUpstream } from '@gg/key-state';
import {
  closeAsHttp,
  fitReason,
  liveTargetOf,
  relayedCloseCode,
  setupModelOf,
  upstreamLiveUrl,
  usageOf,
} from './live-wire';

const PATH = '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent';

describe('liveTargetOf', () => {
  it('accepts the Live paths of both versions, with one or two leading slashes, and reads ?key=', () => {
    expect(liveTargetOf(`${PATH}?key=gg-abc`)).toEqual({ version: 'v1beta', constrained: false, queryKey: 'gg-abc' });
    expect(liveTargetOf(`/${PATH.replace('v1beta', 'v1alpha')}`)).toEqual({
      version: 'v1alpha',
      constrained: false,
      queryKey: null,
    });
    expect(liveTargetOf(`${PATH}Constrained?access_token=auth_tokens/x`)).toMatchObject({
      constrained: true,
      queryKey: null,
    });
  });

  it('refuses anything else: other versions, three slashes, extra segments, encoded characters', () => {
    for (const url of [
      PATH.replace('v1beta', 'v1'),
      `//${PATH}`,
      `${PATH}/x`,
      `/v1beta${PATH}`,
      PATH.replace('.Bidi', '%2EBidi'),
      '/ws/other',
    ]) {
      expect(liveTargetOf(url)).toBeNull();
    }
  });
});

describe('upstreamLiveUrl', () => {
  it('maps http(s) to ws(s), keeps a base path, and carries only the pool key', () => {
    expect(upstreamLiveUrl('https://generativelanguage.googleapis.com', 'v1beta', 'AIza+/=')).toBe(
      `wss://generativelanguage.googleapis.com${PATH}?key=AIza%2B%2F%3D`,
    );
    expect(upstreamLiveUrl('http://127.0.0.1:9000/prefix/', 'v1alpha', 'k')).toBe(
      `ws://127.0.0.1:9000/prefix${PATH.replace('v1beta', 'v1alpha')}?key=k`,
    );
  });
});

describe('closeAsHttp', () => {
  const kind = (code: number, reason: string) => {
    const h = closeAsHttp(code, reason);
    return classifyUpstream(h.status, h.body).kind;
  };

  it("reads Google's closes as what they say about the pool key", () => {
    expect(kind(1007, 'API key not valid. Please pass a valid API key.')).toBe('invalid');
    expect(kind(1008, "Permission denied: Consumer 'api_key:x' has been suspended.")).toBe('invalid');
    expect(kind(1011, 'You exceeded your current quota, please check your plan and billing details.')).toBe(
      'rate_limited',
    );
    expect(kind(1011, 'Internal error encountered.')).toBe('transient');
    expect(kind(1006, '')).toBe('transient');
    expect(
      kind(1008, 'models/x is not found for API version v1beta, or is not supported for bidiGenerateContent.'),
    ).toBe('client_error');
  });
});

describe('close codes and reasons', () => {
  it('relays sendable codes as they are and replaces the ones that may not be sent', () => {
    expect(relayedCloseCode(1000)).toBe(1000);
    expect(relayedCloseCode(1008)).toBe(1008);
    expect(relayedCloseCode(4001)).toBe(4001);
    expect(relayedCloseCode(1005)).toBeUndefined();
    expect(relayedCloseCode(1006)).toBe(1014);
    expect(relayedCloseCode(1015)).toBe(1011);
  });

  it('cuts a reason to 123 bytes on a character boundary', () => {
    expect(fitReason('short')).toBe('short');
    const cut = fitReason('é'.repeat(100));
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(123);
    expect(cut).toBe('é'.repeat(61));
  });
});

describe('usageOf and setupModelOf', () => {
  it('sums response or candidates tokens, and parses only messages that carry usageMetadata', () => {
    const msg = (o: unknown) => Buffer.from(JSON.stringify(o));
    expect(usageOf(msg({ usageMetadata: { promptTokenCount: 5, responseTokenCount: 7 } }))).toEqual({
      prompt: 5,
      output: 7,
    });
    expect(usageOf(msg({ usageMetadata: { promptTokenCount: 2, candidatesTokenCount: 3 } }))).toEqual({
      prompt: 2,
      output: 3,
    });
    expect(
      usageOf(
        msg({
          usageMetadata: {
            promptTokenCount: 2,
            toolUsePromptTokenCount: 1,
            responseTokenCount: 3,
            thoughtsTokenCount: 4,
          },
        }),
      ),
    ).toEqual({ prompt: 3, output: 7 });
    expect(usageOf(msg({ serverContent: { turnComplete: true } }))).toBeNull();
    expect(usageOf(Buffer.from('"usageMetadata" but not JSON'))).toBeNull();
  });

  it('reads the model of a setup message only', () => {
    expect(setupModelOf(Buffer.from('{"setup":{"model":"models/gemini-live-2.5-flash-preview"}}'))).toBe(
      'models/gemini-live-2.5-flash-preview',
    );
    expect(setupModelOf(Buffer.from('{"clientContent":{}}'))).toBeNull();
    expect(setupModelOf(Buffer.from('{"setup":{"model":""}}'))).toBeNull();
    expect(setupModelOf(Buffer.from('not json'))).toBeNull();
  });
});
