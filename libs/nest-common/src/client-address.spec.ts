import type { IncomingMessage } from 'node:http';
import { clientAddress, compileTrust } from './client-address';

function req(remoteAddress: string, xff?: string): IncomingMessage {
  return {
    socket: { remoteAddress },
    connection: { remoteAddress },
    headers: xff ? { 'x-forwarded-for': xff } : {},
  } as unknown as IncomingMessage;
}

describe('clientAddress', () => {
  it('ignores X-Forwarded-For when no proxy is trusted', () => {
    expect(clientAddress(req('127.0.0.1', '203.0.113.9'), compileTrust([]))).toBe('127.0.0.1');
  });

  it('believes X-Forwarded-For only from a trusted proxy', () => {
    const trust = compileTrust(['10.0.0.0/8']);
    expect(clientAddress(req('10.1.2.3', '203.0.113.9'), trust)).toBe('203.0.113.9');
    expect(clientAddress(req('192.0.2.1', '203.0.113.9'), trust)).toBe('192.0.2.1');
  });

  it('takes the nearest untrusted hop, so a client cannot prepend its own choice', () => {
    const trust = compileTrust(['10.0.0.0/8']);
    expect(clientAddress(req('10.1.2.3', '1.1.1.1, 203.0.113.9, 10.4.4.4'), trust)).toBe('203.0.113.9');
  });

  it('handles IPv6 ranges', () => {
    const trust = compileTrust(['fd00::/8']);
    expect(clientAddress(req('fd00::1', '2001:db8::7'), trust)).toBe('2001:db8::7');
  });
});
