import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import express, { type Request } from 'express';
import { securityHeaders } from './security-headers';
import { spaHandlers, UI_NOT_BUILT_HTML } from './spa';
import { STREAM_TICKET, streamTicketFromQuery, type WithStreamTicket } from './stream-token';

/** A bare express app with the admin's middleware and a stand-in for the Nest routes. */
async function serve(uiDir: string): Promise<{ url: string; seen: Request[]; close: () => Promise<void> }> {
  const app = express();
  const seen: Request[] = [];
  app.use(streamTicketFromQuery, securityHeaders, ...spaHandlers(uiDir));
  app.use((req, res) => {
    seen.push(req);
    res.status(404).json({
      from: 'nest',
      url: req.originalUrl,
      authorization: req.headers.authorization ?? null,
      ticket: (req as WithStreamTicket)[STREAM_TICKET] ?? null,
    });
  });
  const server: Server = await new Promise((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('admin HTTP middleware', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'gg-admin-ui-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('answers with a "not built" page when the UI directory is missing, and leaves /api alone', async () => {
    const s = await serve(join(tmp(), 'missing'));
    try {
      const res = await fetch(`${s.url}/`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(UI_NOT_BUILT_HTML);
      const api = await fetch(`${s.url}/api/users`);
      expect(await api.json()).toMatchObject({ from: 'nest' });
      expect(api.headers.get('cache-control')).toBe('no-store');
    } finally {
      await s.close();
    }
  });

  it('serves index.html for client routes with a CSP that allows its inline script by hash', async () => {
    const dir = tmp();
    const inline = 'console.log("boot")';
    writeFileSync(join(dir, 'index.html'), `<!doctype html><html><body><script>${inline}</script></body></html>`);
    const s = await serve(dir);
    try {
      const res = await fetch(`${s.url}/keys/abc`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain(inline);
      const hash = createHash('sha256').update(inline).digest('base64');
      expect(res.headers.get('content-security-policy')).toContain(`script-src 'self' 'sha256-${hash}'`);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect((await fetch(`${s.url}/_app/immutable/missing.js`)).status).toBe(404);
      expect(await (await fetch(`${s.url}/healthz`)).json()).toMatchObject({ from: 'nest' });
    } finally {
      await s.close();
    }
  });

  it('takes ?ticket= and ?access_token= out of every URL; keeps the ticket of a stream request; never believes a token in a URL', async () => {
    const s = await serve(join(tmp(), 'missing'));
    try {
      const stream = await (await fetch(`${s.url}/api/logs/stream?ticket=tick123&x=1`)).json();
      expect(stream).toEqual({ from: 'nest', url: '/api/logs/stream?x=1', authorization: null, ticket: 'tick123' });
      const service = await (await fetch(`${s.url}/api/service-logs/stream?level=warn&ticket=t2`)).json();
      expect(service).toEqual({
        from: 'nest',
        url: '/api/service-logs/stream?level=warn',
        authorization: null,
        ticket: 't2',
      });
      const token = await (await fetch(`${s.url}/api/logs/stream?access_token=tok123`)).json();
      expect(token).toEqual({ from: 'nest', url: '/api/logs/stream', authorization: null, ticket: null });
      const other = await (await fetch(`${s.url}/api/users?access_token=tok123&ticket=t3`)).json();
      expect(other).toEqual({ from: 'nest', url: '/api/users', authorization: null, ticket: null });
    } finally {
      await s.close();
    }
  });
});
