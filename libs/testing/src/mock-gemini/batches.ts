/**
 * Batch mode (`models/{m}:batchGenerateContent`, `batches` list/get/cancel/delete), each batch owned by the key that
 * created it (another key: 404, as Google answers for a batch it does not know). A batch is PENDING when created and
 * advances one step on each read by its owner: RUNNING, then SUCCEEDED on the `readsToFinish`-th read (option
 * `batchReadsToFinish`, default 1: the first read finishes it), so tests can poll without timers. Inline requests are
 * answered in `output.inlinedResponses`; a batch over a JSONL input file (`{"key", "request"}` per line) writes a
 * result file (`{"key", "response"}` or `{"key", "error"}` per line) owned by the batch's key and named in
 * `output.responsesFile`, whose bytes `files/{id}:download` serves.
 */
import { isKnownModel } from './catalog';
import { parseBody, type Json, type Reply, type RequestContext } from './context';
import { GoogleError, googleError, invalidArgument, modelNotFound } from './errors';
import { answer, unaryResponse } from './generate';
import { newId, page, type Store } from './store';

export interface StoredBatch {
  owner: string;
  op: Json;
  /** reads by the owner so far */
  reads: number;
}

const TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch';
const TERMINAL = new Set([
  'BATCH_STATE_SUCCEEDED',
  'BATCH_STATE_FAILED',
  'BATCH_STATE_CANCELLED',
  'BATCH_STATE_EXPIRED',
]);
const batchNotFound = (): GoogleError => googleError(404, 'Requested entity was not found.', 'NOT_FOUND');

export function handleBatches(ctx: RequestContext, store: Store, readsToFinish = 1): Reply {
  if (ctx.apiMethod === 'batchGenerateContent') return create(ctx, store);
  if (ctx.apiMethod === 'batches.list') {
    const mine = [...store.batches.values()].filter((b) => b.owner === ctx.key).map((b) => b.op);
    return { json: page(mine, 'operations', ctx.query['pageSize'], ctx.query['pageToken'], 50, 1000) };
  }
  const b = store.batches.get(ctx.id);
  if (!b || b.owner !== ctx.key) return batchNotFound();
  const meta = b.op['metadata'] as Json;
  if (ctx.apiMethod === 'batches.delete') {
    store.batches.delete(ctx.id);
    return { json: {} };
  }
  if (ctx.apiMethod === 'batches.cancel') {
    if (!TERMINAL.has(meta['state'])) {
      meta['state'] = 'BATCH_STATE_CANCELLED';
      meta['updateTime'] = meta['endTime'] = new Date().toISOString();
      b.op['done'] = true;
    }
    return { json: {} };
  }
  if (!TERMINAL.has(meta['state'])) {
    b.reads++;
    if (b.reads >= readsToFinish) finish(b, store);
    else {
      meta['state'] = 'BATCH_STATE_RUNNING';
      meta['updateTime'] = new Date().toISOString();
    }
  }
  return { json: b.op };
}

function create(ctx: RequestContext, store: Store): Reply {
  if (!isKnownModel(ctx.model)) return modelNotFound(ctx.model, ctx.version, 'batchGenerateContent');
  const body = parseBody(ctx);
  if (body instanceof GoogleError) return body;
  const batch = body?.['batch'] as Json | undefined;
  const input = (batch?.['inputConfig'] ?? batch?.['input_config']) as Json | undefined;
  if (!input)
    return invalidArgument('* BatchGenerateContentRequest.batch.input_config: input_config is not specified\n');
  const fileName = input['fileName'] ?? input['file_name'];
  let count = inlined(input).length;
  if (typeof fileName === 'string') {
    const f = store.fileFor(fileName.replace(/^files\//, ''), ctx.key);
    if (f instanceof GoogleError) return f;
    count = f.bytes ? jsonLines(f.bytes).length : 0;
  }
  for (const r of inlined(input)) {
    const refs = store.checkRefs((r?.['request'] as Json) ?? {}, ctx.key);
    if (refs.error) return refs.error;
  }
  const id = newId();
  const now = new Date().toISOString();
  const op: Json = {
    name: `batches/${id}`,
    metadata: {
      '@type': TYPE,
      model: `models/${ctx.model}`,
      ...(batch?.['displayName'] ? { displayName: batch['displayName'] } : {}),
      inputConfig: input,
      createTime: now,
      updateTime: now,
      batchStats: { requestCount: String(count), pendingRequestCount: String(count) },
      state: 'BATCH_STATE_PENDING',
      name: `batches/${id}`,
    },
  };
  store.batches.set(id, { owner: ctx.key, op, reads: 0 });
  return { json: op };
}

function inlined(input: Json): Json[] {
  const list = (input['requests'] as Json | undefined)?.['requests'];
  return Array.isArray(list) ? list : [];
}

/** The non-blank lines of a JSONL file, each parsed (null when a line is not a JSON object). */
function jsonLines(bytes: Buffer): (Json | null)[] {
  return bytes
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        const v = JSON.parse(l);
        return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
      } catch {
        return null;
      }
    });
}

/** What generateContent would answer for one request of the batch (same echo), or Google's per-line error. */
function respond(request: unknown, model: string, seed: string): { response: Json } | { error: Json } {
  if (!request || typeof request !== 'object' || !Array.isArray((request as Json)['contents'])) {
    return { error: { code: 3, message: 'Request contains an invalid argument.' } };
  }
  return { response: unaryResponse(answer(request as Json, seed), model.replace(/^models\//, ''), seed) };
}

function finish(b: StoredBatch, store: Store): void {
  const meta = b.op['metadata'] as Json;
  const now = new Date().toISOString();
  const input = meta['inputConfig'] as Json;
  const id = String(b.op['name']).slice('batches/'.length);
  const model = String(meta['model']);
  const fileName = input['fileName'] ?? input['file_name'];
  let ok = 0;
  let failed = 0;
  const count = (r: { response: Json } | { error: Json }): void => void ('error' in r ? failed++ : ok++);
  if (typeof fileName === 'string') {
    const source = store.files.get(fileName.replace(/^files\//, ''));
    const lines = source?.bytes ? jsonLines(source.bytes) : [];
    const out = lines.map((line, i) => {
      const r = respond(line?.['request'], model, `${id}-${i}`);
      count(r);
      return JSON.stringify({ ...(line?.['key'] !== undefined ? { key: line['key'] } : {}), ...r });
    });
    const bytes = Buffer.from(out.map((l) => l + '\n').join(''));
    const file = store.addFile(b.owner, 'v1beta', 'application/jsonl', bytes.length, '', `batch-${id}`, bytes);
    file.generated = true;
    file.file['source'] = 'GENERATED';
    meta['output'] = { responsesFile: file.file['name'] };
  } else {
    const responses = inlined(input).map((r, i) => {
      const one = respond(r?.['request'], model, `${id}-${i}`);
      count(one);
      return r?.['metadata'] !== undefined ? { ...one, metadata: r['metadata'] } : one;
    });
    meta['output'] = { inlinedResponses: { inlinedResponses: responses } };
  }
  meta['batchStats'] = {
    requestCount: String(ok + failed),
    successfulRequestCount: String(ok),
    ...(failed ? { failedRequestCount: String(failed) } : {}),
  };
  meta['state'] = 'BATCH_STATE_SUCCEEDED';
  meta['endTime'] = now;
  meta['updateTime'] = now;
  b.op['done'] = true;
}
