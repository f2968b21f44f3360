import type { IncomingMessage } from 'node:http';
import { plainRequestBytes } from './plain-upgrade';

describe('plainRequestBytes', () => {
  it('rebuilds the request without its upgrade headers, keeps the rest and what followed the head', () => {
    const req = {
      method: 'POST',
      url: '/v1beta/models/gemini-2.5-flash:generateContent?alt=sse',
      httpVersion: '1.1',
      rawHeaders: [
        'Host',
        'gw',
        'Connection',
        'Upgrade, HTTP2-Settings, keep-alive',
        'Upgrade',
        'h2c',
        'HTTP2-Settings',
        'AAMAAABk',
        'x-goog-api-key',
        'gg1-x',
        'Content-Length',
        '7',
      ],
    } as unknown as IncomingMessage;
    expect(plainRequestBytes(req, Buffer.from('{"a":1}')).toString('latin1')).toBe(
      'POST /v1beta/models/gemini-2.5-flash:generateContent?alt=sse HTTP/1.1\r\n' +
        'Host: gw\r\nConnection: keep-alive\r\nx-goog-api-key: gg1-x\r\nContent-Length: 7\r\n\r\n{"a":1}',
    );
  });

  it('drops a Connection header that named only the upgrade', () => {
    const req = {
      method: 'GET',
      url: '/v1beta/models',
      httpVersion: '1.1',
      rawHeaders: ['Host', 'gw', 'Connection', 'Upgrade', 'Upgrade', 'h2c'],
    } as unknown as IncomingMessage;
    expect(plainRequestBytes(req, Buffer.alloc(0)).toString('latin1')).toBe(
      'GET /v1beta/models HTTP/1.1\r\nHost: gw\r\n\r\n',
    );
  });
});
