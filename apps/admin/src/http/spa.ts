import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { spaCsp } from './security-headers';
import { isServerPath } from './server-paths';

const INLINE_SCRIPT = /<script\b(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script\s*>/gi;
const IMMUTABLE = 'public, max-age=31536000, immutable';

export const UI_NOT_BUILT_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gemini-gateway admin</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>The admin UI is not built</h1>
<p>Build it with <code>npm run build</code> (it writes <code>dist/apps/admin-ui</code>), or point
<code>ADMIN_UI_DIR</code> at a built copy, then reload this page.</p>
<p>The REST API is available under <code>/api</code>.</p>
</body></html>
`;

interface IndexPage {
  html: string;
  csp: string;
}

/** The CSP of a page: its inline scripts allowed by their SHA-256. */
export function cspForHtml(html: string): string {
  const hashes = [...html.matchAll(INLINE_SCRIPT)].map(
    (m) => `sha256-${createHash('sha256').update(m[1]).digest('base64')}`,
  );
  return spaCsp(hashes);
}

/** index.html, re-read when its file changes (a rebuild while the admin runs), or null while there is none. */
class IndexFile {
  private cached?: { mtimeMs: number; page: IndexPage };

  constructor(private readonly path: string) {}

  async read(): Promise<IndexPage | null> {
    const st = await stat(this.path).catch(() => null);
    if (!st?.isFile()) return null;
    if (this.cached?.mtimeMs !== st.mtimeMs) {
      const html = await readFile(this.path, 'utf8');
      this.cached = { mtimeMs: st.mtimeMs, page: { html, csp: cspForHtml(html) } };
    }
    return this.cached.page;
  }
}

/**
 * The built Svelte SPA: its files (hashed `_app/immutable/*` cached for a year, the rest revalidated), and
 * index.html for every other GET outside `/api` and the probes, so client-side routes survive a reload.
 */
export function spaHandlers(uiDir: string): RequestHandler[] {
  const index = new IndexFile(join(uiDir, 'index.html'));
  const files = express.static(uiDir, {
    index: false,
    redirect: false,
    dotfiles: 'ignore',
    setHeaders: (res, path) => {
      const rel = relative(uiDir, path).split(sep).join('/');
      res.setHeader('Cache-Control', rel.startsWith('_app/immutable/') ? IMMUTABLE : 'no-cache');
    },
  });

  const assets: RequestHandler = (req, res, next) => {
    if (isServerPath(req.path) || req.path === '/index.html') return next();
    files(req, res, next);
  };

  const fallback = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || isServerPath(req.path)) return next();
    if (req.path.startsWith('/_app/')) {
      res.status(404).type('text/plain').send('not found');
      return;
    }
    const page = await index.read();
    res.status(200).type('html');
    if (!page) {
      res.setHeader('Cache-Control', 'no-store');
      res.send(UI_NOT_BUILT_HTML);
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Content-Security-Policy', page.csp);
    res.send(page.html);
  };

  return [assets, fallback];
}
