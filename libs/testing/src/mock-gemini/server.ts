/** The scripted Gemini upstream: plain Node `http`, no per-request logging, constant bodies precomputed. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { listBody, modelBody } from './catalog';
import { isGoogleError, type Reply, type RequestContext } from './context';
import {
  GoogleError,
  INVALID_KEY,
  MISSING_KEY,
  NOT_FOUND_PATH,
  googleError,
  modelNotFound,
  rateLimited,
  suspended,
} from './errors';
import { pretty } from './google-json';
import { JSON_HEADERS, Prepared, sendError, wantsGzip } from './http-out';
import { ModelMethods } from './model-methods';
import { handleOpenAiCompat } from './openai-compat';
import { handleBatches } from './batches';
import { handleCaches, handleFiles } from './resources';
import { route } from './router';
import { Rules } from './rules';
import { Store } from './store';
import type { Stoppable } from './stream';
import type { MockGemini, MockGeminiOptions, RecordedLiveSession, RecordedRequest, ScriptRule } from './types';
import { handleUpload, isChunkUpload, startStoreUpload } from './upload';
import { handleFileSearchStores } from './file-search-stores';
import { LiveEndpoint } from './live';

const BODY_TEXT_CAP = 1024 * 1024;
const EMPTY = Buffer.alloc(0);
const EMPTY_QUERY: Record<string, string> = Object.freeze({}) as Record<string, string>;

export async function startMockGemini(opts: MockGeminiOptions = {}): Promise<MockGemini> {
  const host = opts.host ?? '127.0.0.1';
  const record = opts.record ?? true;
  const keys = new Set(opts.validKeys ?? []);
  const anyAIza = opts.validKeys === undefined;
  const requests: RecordedRequest[] = [];
  const liveSessions: RecordedLiveSession[] = [];
  const rules = new Rules();
  const store = new Store();
  const live = new Set<Stoppable>();
  const models = new ModelMethods(store, live);
  let baseUrl = '';

  const isValidKey = (k: string): boolean => keys.has(k) || (anyAIza && k.startsWith('AIza'));

  function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? EMPTY_QUERY : Object.fromEntries(new URLSearchParams(url.slice(q + 1)));
    const path = rawPath.includes('%') ? rawPath.replace(/%3A/gi, ':') : rawPath;
    const r = route(req.method ?? 'GET', path);
    const headers = req.headers;
    let key = headers['x-goog-api-key'];
    if (Array.isArray(key)) key = key[0];
    let keyFromQuery = false;
    if (!key && query['key']) {
      key = query['key'];
      keyFromQuery = true;
    }
    if (!key && r.apiMethod === 'openai') key = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1];
    key ??= '';
    if (record) {
      requests.push({
        method: req.method ?? 'GET',
        path: rawPath,
        query: query === EMPTY_QUERY ? {} : query,
        headers,
        key,
        bodyText:
          body.length > BODY_TEXT_CAP ? body.subarray(0, BODY_TEXT_CAP).toString('utf8') : body.toString('utf8'),
        bodyBytes: body.length,
        at: Date.now(),
        apiMethod: r.apiMethod,
        model: r.model,
        remotePort: req.socket.remotePort ?? 0,
      });
    }
    const ctx: RequestContext = {
      req,
      res,
      path,
      query,
      key,
      keyFromQuery,
      body,
      version: r.version,
      apiMethod: r.apiMethod,
      model: r.model,
      id: r.id,
      gzip: wantsGzip(headers['accept-encoding']),
      baseUrl,
      rule: rules.take(key, r.model, r.apiMethod, body),
    };
    const rule = ctx.rule;
    if (rule?.type === 'delay') {
      const pending: Stoppable = { stop: () => clearTimeout(timer) };
      const timer = setTimeout(
        () => {
          live.delete(pending);
          respond(ctx);
        },
        Math.max(0, rule.firstByteMs),
      );
      live.add(pending);
      return;
    }
    respond(ctx);
  }

  function respond(ctx: RequestContext): void {
    if (ctx.res.destroyed) return;
    const arrayWrapped = ctx.apiMethod === 'streamGenerateContent' && ctx.query['alt'] !== 'sse';
    let reply: Reply;
    try {
      reply = scripted(ctx) ?? authorize(ctx) ?? dispatch(ctx);
    } catch {
      reply = googleError(500);
    }
    if (reply === 'streaming') return;
    if (ctx.rule?.type === 'resetMidStream') {
      resetMidBody(ctx.res, toPrepared(reply));
      return;
    }
    if (isGoogleError(reply)) sendError(ctx.res, reply, ctx.gzip, arrayWrapped);
    else toPrepared(reply).send(ctx.res, ctx.gzip, 'json' in reply ? reply.headers : undefined);
  }

  /** Scripted answers that replace the normal one (before authentication, like a failing upstream would). */
  function scripted(ctx: RequestContext): Reply | undefined {
    const rule = ctx.rule;
    switch (rule?.type) {
      case 'rateLimit':
        return rateLimited(ctx.model, rule.retryDelay, rule.quotaId);
      case 'invalidKey':
        return INVALID_KEY;
      case 'suspended':
        return suspended(ctx.key);
      case 'error':
        return googleError(rule.status, rule.message, rule.statusText);
      case 'raw':
        ctx.res.writeHead(rule.status ?? 200, { 'content-length': Buffer.byteLength(rule.body), ...rule.headers });
        ctx.res.end(rule.body);
        return 'streaming';
      case 'reset': {
        const socket = ctx.req.socket as Socket & { resetAndDestroy?: () => void };
        if (socket.resetAndDestroy) socket.resetAndDestroy();
        else socket.destroy();
        return 'streaming';
      }
      default:
        return undefined;
    }
  }

  function authorize(ctx: RequestContext): GoogleError | undefined {
    if (ctx.apiMethod === 'upload' && isChunkUpload(ctx)) return undefined;
    if (!ctx.key) return MISSING_KEY;
    return isValidKey(ctx.key) ? undefined : INVALID_KEY;
  }

  function dispatch(ctx: RequestContext): Reply {
    switch (ctx.apiMethod) {
      case 'models.list':
        return listBody(ctx.query['pageSize'], ctx.query['pageToken']);
      case 'models.get':
        return modelBody(ctx.model) ?? modelNotFound(ctx.model, ctx.version, 'get');
      case 'generateContent':
      case 'streamGenerateContent':
      case 'countTokens':
      case 'embedContent':
      case 'batchEmbedContents':
      case 'predict':
        return models.handle(ctx);
      case 'upload':
        return handleUpload(ctx, store);
      case 'files.list':
      case 'files.get':
      case 'files.delete':
      case 'files.download':
        return handleFiles(ctx, store);
      case 'cachedContents.create':
      case 'cachedContents.list':
      case 'cachedContents.get':
      case 'cachedContents.patch':
      case 'cachedContents.delete':
        return handleCaches(ctx, store);
      case 'batchGenerateContent':
      case 'batches.list':
      case 'batches.get':
      case 'batches.cancel':
      case 'batches.delete':
        return handleBatches(ctx, store, opts.batchReadsToFinish);
      case 'fileSearchStores.uploadToFileSearchStore':
        return startStoreUpload(ctx, store);
      case 'fileSearchStores.create':
      case 'fileSearchStores.list':
      case 'fileSearchStores.get':
      case 'fileSearchStores.delete':
      case 'fileSearchStores.importFile':
      case 'fileSearchStores.documents.list':
      case 'fileSearchStores.documents.get':
      case 'fileSearchStores.documents.delete':
      case 'fileSearchStores.operations.get':
        return handleFileSearchStores(ctx, store);
      case 'openai':
        return handleOpenAiCompat(ctx);
      default:
        return NOT_FOUND_PATH;
    }
  }

  const server = createServer({ noDelay: true, keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      size += c.length;
    });
    req.on('end', () =>
      handle(req, res, size === 0 ? EMPTY : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)),
    );
  });
  const liveEndpoint = new LiveEndpoint({ isValidKey, rules, record, sessions: liveSessions, live });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => liveEndpoint.upgrade(req, socket, head));
  server.keepAliveTimeout = 75_000;
  server.headersTimeout = 76_000;
  server.requestTimeout = 0;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  baseUrl = `http://${urlHost}:${port}`;

  return {
    url: baseUrl,
    port,
    requests,
    liveSessions,
    clearRequests: () => {
      requests.length = 0;
    },
    addKeys: (...more: string[]) => {
      for (const k of more) keys.add(k);
    },
    script: (rule: ScriptRule) => rules.add(rule),
    reset: () => {
      rules.clear();
      requests.length = 0;
      liveSessions.length = 0;
      store.reset();
    },
    close: async () => {
      for (const s of [...live]) s.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function toPrepared(reply: Exclude<Reply, 'streaming'>): Prepared {
  if (reply instanceof Prepared) return reply;
  if (reply instanceof GoogleError) return new Prepared(reply.code, reply.body);
  return new Prepared(reply.status ?? 200, reply.json === null ? '' : pretty(reply.json) + '\n');
}

/** Headers and the first half of the body, then the connection closes: a truncated chunked response. */
function resetMidBody(res: ServerResponse, p: Prepared): void {
  res.writeHead(p.status, [...JSON_HEADERS, 'Transfer-Encoding', 'chunked']);
  res.write(p.plain.subarray(0, Math.floor(p.plain.length / 2)), () => {
    const socket = res.socket;
    if (socket && !socket.destroyed) socket.end(() => socket.destroy());
  });
}
