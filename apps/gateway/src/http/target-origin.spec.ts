import type { IncomingMessage } from 'node:http';
import { compileTrust } from '@gg/nest-common';
import { publicOrigin } from './target-origin';

function req(peer: string, headers: Record<string, string>): IncomingMessage {
  return { headers, socket: { remoteAddress: peer } } as unknown as IncomingMessage;
}

const forwarded = { host: 'gw.internal:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'gemini.example.com' };

describe('publicOrigin', () => {
  it('uses PUBLIC_BASE_URL when it is set, whatever the request says', () => {
    expect(
      publicOrigin(req('10.0.0.1', forwarded), 'https://public.example/gw/', compileTrust(['10.0.0.0/8']), 'x'),
    ).toBe('https://public.example/gw');
  });

  it('believes X-Forwarded-* only from a trusted proxy', () => {
    expect(publicOrigin(req('10.0.0.1', forwarded), null, compileTrust(['10.0.0.0/8']), 'x')).toBe(
      'https://gemini.example.com',
    );
    expect(publicOrigin(req('203.0.113.9', forwarded), null, compileTrust(['10.0.0.0/8']), 'x')).toBe(
      'http://gw.internal:8080',
    );
    expect(publicOrigin(req('10.0.0.1', forwarded), null, compileTrust([]), 'x')).toBe('http://gw.internal:8080');
  });

  it('never puts a malformed host in a URL', () => {
    expect(
      publicOrigin(req('127.0.0.1', { host: 'evil.example/path?x=' }), null, compileTrust([]), '127.0.0.1:8080'),
    ).toBe('http://127.0.0.1:8080');
    expect(publicOrigin(req('127.0.0.1', { host: '[::1]:8080' }), null, compileTrust([]), 'x')).toBe(
      'http://[::1]:8080',
    );
    expect(
      publicOrigin(
        req('10.0.0.1', { host: 'h', 'x-forwarded-proto': 'javascript' }),
        null,
        compileTrust(['10.0.0.1']),
        'x',
      ),
    ).toBe('http://h');
  });
});
