/**
 * Batch mode (`models/{m}:batchGenerateContent`, `batches` list/get/cancel/delete), each batch owned by the key that
 * created it (another key: 404, as Google answers for a batch it does not know). A batch is PENDING when created and
 * SUCCEEDED from its first read on; one made from an input file then names a result file (`files/…`) that belongs
 * to the batch's key.
 */
import { isKnownModel } from './catalog';
import { parseBody, type Json, type Reply, type RequestContext } from './context';
import { GoogleError, googleError, invalidArgument, modelNotFound } from './errors';
import { newId, page, type Store } from './store';

export interface StoredBatch {
  owner: string;
  op: Json;
}

const TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch';
const batchNotFound = (): GoogleError => googleError(404, 'Requested entity was not found.', 'NOT_FOUND');

export function handleBatches(ctx: RequestContext, store: Store): Reply {
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
    if (meta['state'] === 'BATCH_STATE_PENDING') meta['state'] = 'BATCH_STATE_CANCELLED';
    return { json: {} };
  }
  if (meta['state'] === 'BATCH_STATE_PENDING') finish(b, store);
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
  if (typeof fileName === 'string') {
    const id = fileName.replace(/^files\//, '');
    const f = store.fileFor(id, ctx.key);
    if (f instanceof GoogleError) return f;
  }
  for (const r of ((input['requests'] as Json | undefined)?.['requests'] as Json[] | undefined) ?? []) {
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
      state: 'BATCH_STATE_PENDING',
      name: `batches/${id}`,
    },
  };
  store.batches.set(id, { owner: ctx.key, op });
  return { json: op };
}

function finish(b: StoredBatch, store: Store): void {
  const meta = b.op['metadata'] as Json;
  const now = new Date().toISOString();
  const input = meta['inputConfig'] as Json;
  if (typeof (input['fileName'] ?? input['file_name']) === 'string') {
    const file = store.addFile(
      b.owner,
      'v1beta',
      'application/jsonl',
      2,
      '',
      `batch-${String(b.op['name']).slice(8)}-results`,
    );
    meta['output'] = { responsesFile: file['name'] };
  } else {
    const n = ((input['requests'] as Json | undefined)?.['requests'] as unknown[] | undefined)?.length ?? 0;
    const responses = Array.from({ length: n }, () => ({
      response: { candidates: [{ content: { role: 'model', parts: [{ text: 'done' }] } }] },
    }));
    meta['output'] = { inlinedResponses: { inlinedResponses: responses } };
  }
  meta['state'] = 'BATCH_STATE_SUCCEEDED';
  meta['endTime'] = now;
  meta['updateTime'] = now;
  b.op['done'] = true;
}
