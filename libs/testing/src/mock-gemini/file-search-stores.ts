/**
 * File search stores as `@google/genai` drives them: `fileSearchStores` create/list/get/delete (`?force=true` for a
 * store with documents), `{store}:importFile` of an uploaded file, `/upload/{v}/{store}:uploadToFileSearchStore`
 * (the resumable protocol of files; the finalize answers an operation), `{store}/documents` list/get/delete and the
 * operations those answer (`{store}/operations/{id}`, `{store}/upload/operations/{id}`), done at once. A store and
 * all under it belong to the key that created it; another key gets 403 PERMISSION_DENIED, as for files.
 */
import { parseBody, type Json, type Reply, type RequestContext } from './context';
import { GoogleError, googleError, invalidArgument } from './errors';
import { newId, page, type Store } from './store';

export interface StoredSearchStore {
  owner: string;
  store: Json;
  documents: Map<string, Json>;
  operations: Map<string, Json>;
}

const TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1main.';

const denied = (name: string): GoogleError =>
  googleError(403, `You do not have permission to access the FileSearchStore ${name} or it may not exist.`);

export function handleFileSearchStores(ctx: RequestContext, store: Store): Reply {
  if (ctx.apiMethod === 'fileSearchStores.list') {
    const mine = [...store.searchStores.values()].filter((s) => s.owner === ctx.key).map((s) => s.store);
    return { json: page(mine, 'fileSearchStores', ctx.query['pageSize'], ctx.query['pageToken'], 10, 20) };
  }
  if (ctx.apiMethod === 'fileSearchStores.create') return create(ctx, store);
  // id: `{store}`, `{store}/documents[/{doc}]`, `{store}/operations/{op}`, `{store}/upload/operations/{op}`
  const [storeId, ...under] = ctx.id.replace(/:importFile$/, '').split('/');
  const found = store.searchStores.get(storeId);
  if (!found || found.owner !== ctx.key) return denied(`fileSearchStores/${storeId}`);
  switch (ctx.apiMethod) {
    case 'fileSearchStores.get':
      return { json: found.store };
    case 'fileSearchStores.delete':
      if (found.documents.size > 0 && ctx.query['force'] !== 'true') {
        return googleError(
          400,
          'Cannot delete a FileSearchStore that has documents without force.',
          'FAILED_PRECONDITION',
        );
      }
      store.searchStores.delete(storeId);
      return { json: {} };
    case 'fileSearchStores.importFile':
      return importFile(ctx, store, found);
    case 'fileSearchStores.documents.list':
      return {
        json: page([...found.documents.values()], 'documents', ctx.query['pageSize'], ctx.query['pageToken'], 10, 20),
      };
    case 'fileSearchStores.documents.get':
    case 'fileSearchStores.documents.delete': {
      const doc = found.documents.get(under[1]);
      if (!doc) return googleError(404, 'Requested entity was not found.', 'NOT_FOUND');
      if (ctx.apiMethod === 'fileSearchStores.documents.get') return { json: doc };
      found.documents.delete(under[1]);
      count(found);
      return { json: {} };
    }
    case 'fileSearchStores.operations.get': {
      const op = found.operations.get(ctx.id);
      return op ? { json: op } : googleError(404, 'Requested entity was not found.', 'NOT_FOUND');
    }
    default:
      return googleError(404, 'Requested entity was not found.', 'NOT_FOUND');
  }
}

function create(ctx: RequestContext, store: Store): Reply {
  const body = parseBody(ctx) ?? {};
  if (body instanceof GoogleError) return body;
  const id = `${newId()}-${newId()}`;
  const now = new Date().toISOString();
  const s: Json = { name: `fileSearchStores/${id}` };
  const displayName = body['displayName'] ?? body['display_name'];
  if (displayName) s['displayName'] = displayName;
  Object.assign(s, { createTime: now, updateTime: now });
  store.searchStores.set(id, { owner: ctx.key, store: s, documents: new Map(), operations: new Map() });
  return { json: s };
}

function importFile(ctx: RequestContext, store: Store, target: StoredSearchStore): Reply {
  const body = parseBody(ctx) ?? {};
  if (body instanceof GoogleError) return body;
  const fileName = body['fileName'] ?? body['file_name'];
  if (typeof fileName !== 'string')
    return invalidArgument('* ImportFileRequest.file_name: file_name is not specified\n');
  const file = store.fileFor(fileName.replace(/^files\//, ''), ctx.key);
  if (file instanceof GoogleError) return file;
  const doc = addDocument(target, {
    displayName: file.file['displayName'] ?? fileName,
    mimeType: file.file['mimeType'],
    sizeBytes: file.file['sizeBytes'],
    customMetadata: body['customMetadata'] ?? body['custom_metadata'],
  });
  return { json: operation(target, 'operations', 'ImportFileResponse', doc) };
}

/** The finalize of an upload session opened on `{store}:uploadToFileSearchStore`: a document, and its operation. */
export function uploadedToStore(store: Store, storeId: string, mimeType: string, size: number, meta: Json): Reply {
  const target = store.searchStores.get(storeId);
  if (!target) return denied(`fileSearchStores/${storeId}`);
  const doc = addDocument(target, {
    displayName: meta['displayName'],
    mimeType,
    sizeBytes: String(size),
    customMetadata: meta['customMetadata'],
  });
  return {
    json: operation(target, 'upload/operations', 'UploadToFileSearchStoreResponse', doc),
    headers: ['X-Goog-Upload-Status', 'final'],
  };
}

function addDocument(target: StoredSearchStore, fields: Json): Json {
  const id = `${newId()}-${newId()}`;
  const now = new Date().toISOString();
  const doc: Json = { name: `${target.store['name']}/documents/${id}` };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null) doc[k] = v;
  Object.assign(doc, { state: 'STATE_ACTIVE', createTime: now, updateTime: now });
  target.documents.set(id, doc);
  count(target);
  return doc;
}

function count(target: StoredSearchStore): void {
  const n = target.documents.size;
  if (n) target.store['activeDocumentsCount'] = String(n);
  else delete target.store['activeDocumentsCount'];
  target.store['updateTime'] = new Date().toISOString();
}

function operation(target: StoredSearchStore, under: string, type: string, doc: Json): Json {
  const storeName = String(target.store['name']);
  const name = `${storeName}/${under}/${newId()}`;
  const op: Json = {
    name,
    done: true,
    response: { '@type': TYPE + type, parent: storeName, documentName: doc['name'] },
  };
  target.operations.set(name.slice('fileSearchStores/'.length), op);
  return op;
}
