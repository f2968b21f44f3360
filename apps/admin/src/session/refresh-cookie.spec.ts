import type { Request } from 'express';
import { cookieIsSecure } from './refresh-cookie';

describe('refresh cookie Secure flag', () => {
  const req = (secure: boolean) => ({ secure }) as Request;

  it('is Secure over https (as the trusted proxy says) and whenever PUBLIC_BASE_URL is https', () => {
    expect(cookieIsSecure(req(true), null)).toBe(true);
    expect(cookieIsSecure(req(false), 'https://gemini.example.com')).toBe(true);
    expect(cookieIsSecure(req(false), 'HTTPS://gemini.example.com/admin')).toBe(true);
    expect(cookieIsSecure(req(false), 'http://localhost:8081')).toBe(false);
    expect(cookieIsSecure(req(false), null)).toBe(false);
  });
});
