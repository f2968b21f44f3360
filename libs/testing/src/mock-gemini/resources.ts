/** files.list/get/delete/download (`/{v}/files/{id}:download` and `/download/{v}/…`) and cachedContents create/list/get/patch/delete, with per-key ownership. */
import { GoogleError, invalidArgument } from './errors';
import { parseBody, type Json, type Reply, type RequestContext } from './context';
import { promptWords } from './generate';
import { newId, page, type Store } from './store';

export function handleFiles(ctx: RequestContext, store: Store): Reply {
  if (ctx.apiMethod === 'files.list') {
    const mine = [...store.files.values()].filter((f) => f.owner === ctx.key).map((f) => f.file);
    return { json: page(mine, 'files', ctx.query['pageSize'], ctx.query['pageToken'], 10, 100) };
  }
  const found = store.fileFor(ctx.id, ctx.key);
  if (found instanceof GoogleError) return found;
  if (ctx.apiMethod === 'files.delete') {
    store.files.delete(ctx.id);
    return { json: {} };
  }
  if (ctx.apiMethod === 'files.download') {
    // only generated files (a batch's results) have bytes to serve, raw, whatever `alt` says
    if (!found.generated || !found.bytes) return invalidArgument('Only generated files can be downloaded.');
    ctx.res.writeHead(200, {
      'content-type': String(found.file['mimeType'] ?? 'application/octet-stream'),
      'content-length': found.bytes.length,
    });
    ctx.res.end(found.bytes);
    return 'streaming';
  }
  return { json: found.file };
}

/** "300s" / "1.5s" → ms; undefined when absent or malformed. */
function durationMs(ttl: unknown): number | undefined {
  if (typeof ttl !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)s$/.exec(ttl);
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}

function expiry(body: Json, now: number): string | GoogleError | undefined {
  const expire = body['expireTime'] ?? body['expire_time'];
  if (typeof expire === 'string') {
    return Number.isNaN(Date.parse(expire)) ? invalidArgument('Invalid expireTime.') : new Date(expire).toISOString();
  }
  const ttl = body['ttl'];
  if (ttl === undefined) return undefined;
  const ms = durationMs(ttl);
  return ms === undefined
    ? invalidArgument(`Invalid value at 'cached_content.ttl' (type.googleapis.com/google.protobuf.Duration), "${ttl}"`)
    : new Date(now + ms).toISOString();
}

export function handleCaches(ctx: RequestContext, store: Store): Reply {
  switch (ctx.apiMethod) {
    case 'cachedContents.create':
      return create(ctx, store);
    case 'cachedContents.list': {
      const mine = [...store.caches.values()].filter((c) => c.owner === ctx.key).map((c) => c.cache);
      return { json: page(mine, 'cachedContents', ctx.query['pageSize'], ctx.query['pageToken'], 50, 1000) };
    }
    default:
      break;
  }
  const found = store.cacheFor(ctx.id, ctx.key);
  if (found instanceof GoogleError) return found;
  if (ctx.apiMethod === 'cachedContents.delete') {
    store.caches.delete(ctx.id);
    return { json: {} };
  }
  if (ctx.apiMethod === 'cachedContents.patch') {
    const body = parseBody(ctx) ?? {};
    if (body instanceof GoogleError) return body;
    const now = Date.now();
    const expireTime = expiry(body, now);
    if (expireTime instanceof GoogleError) return expireTime;
    if (expireTime) found.cache['expireTime'] = expireTime;
    found.cache['updateTime'] = new Date(now).toISOString();
  }
  return { json: found.cache };
}

function create(ctx: RequestContext, store: Store): Reply {
  const body = parseBody(ctx);
  if (body instanceof GoogleError) return body;
  if (!body || typeof body['model'] !== 'string') {
    return invalidArgument('* CachedContent.model: model is not specified\n');
  }
  const refs = store.checkRefs(body, ctx.key);
  if (refs.error) return refs.error;
  const now = Date.now();
  const expireTime = expiry(body, now) ?? new Date(now + 3600_000).toISOString();
  if (expireTime instanceof GoogleError) return expireTime;
  const id = newId();
  const tokens = promptWords(body);
  const cache: Json = {
    name: `cachedContents/${id}`,
    model: body['model'].startsWith('models/') ? body['model'] : `models/${body['model']}`,
  };
  const displayName = body['displayName'] ?? body['display_name'];
  if (displayName) cache['displayName'] = displayName;
  Object.assign(cache, {
    createTime: new Date(now).toISOString(),
    updateTime: new Date(now).toISOString(),
    expireTime,
    usageMetadata: { totalTokenCount: tokens },
  });
  store.caches.set(id, { owner: ctx.key, cache, tokens });
  return { json: cache };
}
