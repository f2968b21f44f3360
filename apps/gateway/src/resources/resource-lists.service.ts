import { Injectable } from '@nestjs/common';
import type { ResourceKind } from '@gg/contracts';
import { classifyUpstream } from '@gg/key-state';
import { writeGoogleError } from '../http/google-error';
import { scrubSecret } from '../forward/attempt-runner.service';
import type { Exchange } from '../forward/exchange';
import { ProxyRouter } from '../forward/proxy-router.service';
import { UpstreamService } from '../forward/upstream.service';
import { PoolSnapshotService } from '../pool/pool-snapshot.service';
import { decodePageToken, encodePageToken, pageSizeOf } from './page-token';
import { OwnershipService } from './ownership.service';
import { LIST_SHAPE } from './resource-names';
import { ResourceStore, type StoredResource } from './resource-store.service';

const MAX_ITEM_BYTES = 1024 * 1024;

type Fetched =
  | { kind: 'item'; json: unknown }
  | { kind: 'gone' }
  | { kind: 'skip' }
  | { kind: 'error'; status: number; body: Buffer; headers: Record<string, unknown> };

/**
 * `files.list`, `cachedContents.list`, `batches.list`, … answered with the caller's own resources only, wherever
 * they are: the page is cut from the caller's records (oldest first, an opaque gateway page token holding the
 * position), and each item is read fresh from the pool key that holds it. An item Google no longer has is dropped,
 * and so is its record. Listing each key upstream and filtering would cost a scan of every other user's resources
 * on a shared key per page, and make pages across keys hard to cut.
 */
@Injectable()
export class ResourceLists {
  constructor(
    private readonly store: ResourceStore,
    private readonly upstream: UpstreamService,
    private readonly pool: PoolSnapshotService,
    private readonly ownership: OwnershipService,
    private readonly proxies: ProxyRouter,
  ) {}

  async answer(ex: Exchange, kind: ResourceKind, version: string, query: URLSearchParams): Promise<void> {
    const userId = ex.record?.userId;
    if (!userId) return this.fail(ex, 404, 'NOT_FOUND', 'Requested entity was not found.');
    const shape = LIST_SHAPE[kind];
    const size = pageSizeOf(query.get('pageSize') ?? query.get('page_size'), shape.defaultSize);
    const rawToken = query.get('pageToken') ?? query.get('page_token');
    const after = rawToken ? decodePageToken(rawToken, kind) : null;
    if (rawToken && !after) return this.fail(ex, 400, 'INVALID_ARGUMENT', 'Invalid page token.');
    const rows = await this.store.page(userId, kind, after, size + 1);
    const page = rows.slice(0, size);
    const fetched = await Promise.all(page.map((r) => this.fetch(ex, version, r.record)));
    const error = fetched.find((f): f is Extract<Fetched, { kind: 'error' }> => f.kind === 'error');
    if (error) {
      ex.status = error.status;
      ex.res.writeHead(error.status, {
        'content-type': 'application/json; charset=UTF-8',
        'content-length': error.body.length,
      });
      ex.res.end(error.body);
      return;
    }
    const items: unknown[] = [];
    await Promise.all(
      fetched.map(async (f, i) => {
        if (f.kind === 'gone') await this.store.remove(page[i].record).catch(() => undefined);
      }),
    );
    fetched.forEach((f) => f.kind === 'item' && items.push(f.json));
    const out: Record<string, unknown> = {};
    if (items.length) out[shape.field] = items;
    if (rows.length > size) out['nextPageToken'] = encodePageToken(kind, page[page.length - 1].pos);
    const text = JSON.stringify(out, null, 2) + '\n';
    ex.status = 200;
    ex.res.writeHead(200, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(text),
    });
    ex.res.end(text);
  }

  /** One item from the key that holds it; a key gone from the pool leaves its items out (their records stay). */
  private async fetch(ex: Exchange, version: string, r: StoredResource): Promise<Fetched> {
    const key = this.pool.keys.find((k) => k.id === r.keyId);
    if (!key || key.status === 'disabled') return { kind: 'skip' };
    ex.attempts++;
    ex.poolKeyId ??= key.id;
    const up = await this.proxies
      .send(key, true, ex.abort, (dispatcher) =>
        this.upstream.request({
          method: 'GET',
          path: `/${version}/${r.name}`,
          headers: { 'x-goog-api-key': key.secret, 'accept-encoding': 'identity', 'x-request-id': ex.requestId },
          body: null,
          signal: ex.abort,
          dispatcher,
        }),
      )
      .catch(() => null);
    if (!up)
      return {
        kind: 'error',
        status: 502,
        body: errorBody(502, 'UNAVAILABLE', 'The upstream could not be reached.'),
        headers: {},
      };
    const body = scrubSecret(await readCapped(up.body), key.secret);
    if (up.statusCode === 200) {
      const text = body.toString('utf8');
      // a job that finished meanwhile names its result files: the caller's, as when read directly
      if (r.kind === 'batch' || r.kind === 'operation') await this.ownership.adopt(ex, text, key.id);
      try {
        return { kind: 'item', json: JSON.parse(text) };
      } catch {
        return {
          kind: 'error',
          status: 502,
          body: errorBody(502, 'UNAVAILABLE', 'The upstream answered with no JSON.'),
          headers: {},
        };
      }
    }
    const c = classifyUpstream(up.statusCode, body.toString('utf8'));
    if (up.statusCode === 404 || c.kind === 'affinity') return { kind: 'gone' };
    return { kind: 'error', status: up.statusCode, body, headers: up.headers };
  }

  private fail(ex: Exchange, code: number, status: 'NOT_FOUND' | 'INVALID_ARGUMENT', message: string): void {
    ex.status = code;
    ex.error = message;
    writeGoogleError(ex.res, code, status, message);
  }
}

function errorBody(code: number, status: string, message: string): Buffer {
  return Buffer.from(JSON.stringify({ error: { code, message, status } }));
}

async function readCapped(body: AsyncIterable<unknown> & { destroy(): void }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    const b = c as Buffer;
    n += b.length;
    if (n > MAX_ITEM_BYTES) {
      body.destroy();
      break;
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
