/**
 * `POST /upload/{v}/files`: the resumable protocol of @google/genai (start → upload … → upload, finalize), the
 * legacy multipart protocol and raw uploads (docs/gemini-wire.md §2.7). Bytes are hashed; only small files keep
 * them (KEPT_BYTES_CAP), for a batch to read its JSONL input.
 */
import { createHash } from 'node:crypto';

import { parseBody, type Json, type Reply, type RequestContext } from './context';
import { GoogleError, googleError, invalidArgument } from './errors';
import { uploadedToStore } from './file-search-stores';
import { KEPT_BYTES_CAP, type Store } from './store';

const CHUNK_GRANULARITY = String(8 * 1024 * 1024);

function header(ctx: RequestContext, name: string): string {
  const v = ctx.req.headers[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

function fileReply(file: Json): Reply {
  return { json: { file }, headers: ['X-Goog-Upload-Status', 'final'] };
}

/** Chunk uploads carry the session id; the key is optional there, but a different key than the owner's is refused. */
export function isChunkUpload(ctx: RequestContext): boolean {
  return ctx.query['upload_id'] !== undefined;
}

export function handleUpload(ctx: RequestContext, store: Store): Reply {
  if (isChunkUpload(ctx)) return chunk(ctx, store);
  const protocol = header(ctx, 'x-goog-upload-protocol').toLowerCase();
  const contentType = header(ctx, 'content-type');
  if (protocol === 'resumable') return start(ctx, store);
  if (protocol === 'multipart' || contentType.startsWith('multipart/')) return multipart(ctx, store, contentType);
  return raw(ctx, store, contentType);
}

/** `POST /upload/{v}/fileSearchStores/{s}:uploadToFileSearchStore`: the store must be the key's; resumable only. */
export function startStoreUpload(ctx: RequestContext, store: Store): Reply {
  const target = store.searchStores.get(ctx.id);
  if (!target || target.owner !== ctx.key) {
    return googleError(
      403,
      `You do not have permission to access the FileSearchStore fileSearchStores/${ctx.id} or it may not exist.`,
    );
  }
  if (header(ctx, 'x-goog-upload-protocol').toLowerCase() !== 'resumable') {
    return invalidArgument('Only resumable uploads are supported to a FileSearchStore.');
  }
  return start(ctx, store, ctx.id);
}

function start(ctx: RequestContext, store: Store, searchStore?: string): Reply {
  if (header(ctx, 'x-goog-upload-command').toLowerCase() !== 'start') {
    return invalidArgument('Invalid X-Goog-Upload-Command for a new resumable upload: expected "start".');
  }
  const body = parseBody(ctx);
  if (body instanceof GoogleError) return body;
  // a file's metadata is under `file`; a store upload's is the body itself
  const meta: Json = (searchStore ? body : body?.['file']) ?? {};
  const mimeType =
    meta['mimeType'] ??
    meta['mime_type'] ??
    (header(ctx, 'x-goog-upload-header-content-type') || 'application/octet-stream');
  const id = store.startSession(ctx.key, ctx.version, mimeType, meta['displayName'] ?? meta['display_name']);
  if (searchStore) store.sessions.get(id)!.searchStore = { id: searchStore, meta };
  const keyEcho = ctx.keyFromQuery ? `key=${encodeURIComponent(ctx.key)}&` : '';
  const url = `${ctx.baseUrl}/upload/${ctx.version}/files?${keyEcho}upload_id=${id}&upload_protocol=resumable`;
  // prettier-ignore
  return {
    json: null,
    headers: [
      'X-Goog-Upload-Status', 'active',
      'X-Goog-Upload-URL', url,
      'X-Goog-Upload-Control-URL', url,
      'X-Goog-Upload-Chunk-Granularity', CHUNK_GRANULARITY,
      'X-GUploader-UploadID', id,
    ],
  };
}

function chunk(ctx: RequestContext, store: Store): Reply {
  const id = ctx.query['upload_id'];
  const session = store.sessions.get(id);
  if (!session) return googleError(404, 'Upload session not found or expired.', 'NOT_FOUND');
  if (ctx.key && ctx.key !== session.owner) {
    return googleError(403, 'The caller does not have permission to use this upload session.', 'PERMISSION_DENIED');
  }
  const commands = header(ctx, 'x-goog-upload-command')
    .toLowerCase()
    .split(',')
    .map((c) => c.trim());
  const received = (): string[] => ['X-Goog-Upload-Size-Received', String(session.received)];
  if (commands.includes('cancel')) {
    store.sessions.delete(id);
    return { json: null, headers: ['X-Goog-Upload-Status', 'cancelled'] };
  }
  if (commands.includes('query')) return { json: null, headers: ['X-Goog-Upload-Status', 'active', ...received()] };
  if (!commands.includes('upload') && !commands.includes('finalize')) {
    return invalidArgument('Invalid X-Goog-Upload-Command.');
  }
  if (commands.includes('upload')) {
    const offset = header(ctx, 'x-goog-upload-offset');
    if (offset !== '' && Number(offset) !== session.received) {
      return { json: null, status: 400, headers: ['X-Goog-Upload-Status', 'active', ...received()] };
    }
    session.hash.update(ctx.body);
    session.received += ctx.body.length;
    if (session.chunks && session.received <= KEPT_BYTES_CAP) session.chunks.push(ctx.body);
    else session.chunks = undefined;
  }
  if (!commands.includes('finalize')) return { json: null, headers: ['X-Goog-Upload-Status', 'active', ...received()] };
  store.sessions.delete(id);
  if (session.searchStore) {
    const { id: storeId, meta } = session.searchStore;
    return uploadedToStore(store, storeId, session.mimeType, session.received, meta);
  }
  const hex = session.hash.digest('hex');
  const bytes = session.chunks ? Buffer.concat(session.chunks) : undefined;
  return fileReply(
    store.addFile(session.owner, session.version, session.mimeType, session.received, hex, session.displayName, bytes)
      .file,
  );
}

function raw(ctx: RequestContext, store: Store, contentType: string): Reply {
  const mimeType = contentType.split(';')[0].trim() || 'application/octet-stream';
  const hex = createHash('sha256').update(ctx.body).digest('hex');
  return fileReply(store.addFile(ctx.key, ctx.version, mimeType, ctx.body.length, hex, undefined, ctx.body).file);
}

/** multipart/related: part 1 = `{"file": {…}}`, part 2 = the bytes (with their Content-Type). */
function multipart(ctx: RequestContext, store: Store, contentType: string): Reply {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) return invalidArgument('Missing multipart boundary.');
  const parts = splitMultipart(ctx.body, boundary);
  if (parts.length < 2) return invalidArgument('A multipart upload needs a metadata part and a media part.');
  let meta: Json = {};
  try {
    meta = JSON.parse(parts[0].body.toString('utf8'))?.['file'] ?? {};
  } catch {
    return invalidArgument('Invalid JSON payload received in the metadata part.');
  }
  const media = parts[1];
  const mimeType = meta['mimeType'] ?? meta['mime_type'] ?? media.contentType ?? 'application/octet-stream';
  const hex = createHash('sha256').update(media.body).digest('hex');
  const displayName = meta['displayName'] ?? meta['display_name'];
  return fileReply(store.addFile(ctx.key, ctx.version, mimeType, media.body.length, hex, displayName, media.body).file);
}

function splitMultipart(body: Buffer, boundary: string): { contentType?: string; body: Buffer }[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const out: { contentType?: string; body: Buffer }[] = [];
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    const startOfPart = pos + delimiter.length;
    if (body.subarray(startOfPart, startOfPart + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, startOfPart);
    if (next < 0) break;
    const part = body.subarray(startOfPart, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      let content = part.subarray(headerEnd + 4);
      if (content.subarray(-2).toString() === '\r\n') content = content.subarray(0, -2);
      out.push({ contentType: /content-type:\s*([^\r\n;]+)/i.exec(headers)?.[1]?.trim(), body: content });
    }
    pos = next;
  }
  return out;
}
