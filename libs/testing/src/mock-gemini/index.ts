/**
 * A scripted stand-in for https://generativelanguage.googleapis.com (docs/gemini-wire.md), for e2e tests and the bench.
 *
 *   const mock = await startMockGemini();              // http://127.0.0.1:<random port>
 *   new GoogleGenAI({ apiKey: 'AIza…', httpOptions: { baseUrl: mock.url } });
 *   mock.script({ type: 'rateLimit', key: 'AIzaPoolKey1', retryDelay: '30s', times: 2 });
 *
 * Default behaviour (no script rule):
 * - Auth: `x-goog-api-key`, `?key=` (and `Authorization: Bearer` under /v1beta/openai/*). No key → 403 "Method
 *   doesn't allow unregistered callers…"; a key not accepted → 400 API_KEY_INVALID. Accepted: any "AIza…" key, or
 *   only `validKeys` when given; `addKeys()` adds more. Upload chunks (`?upload_id=`) need no key, but a key other
 *   than the session owner's gets 403.
 * - /v1beta, /v1 (and /v1alpha): models list/get (gemini-2.5-flash, gemini-2.5-pro, gemini-3-flash-preview,
 *   gemini-embedding-001, imagen-4.0-generate-001; other models → 404 NOT_FOUND on every model method),
 *   :generateContent → "echo: <last user text>" (tokens = words), or a functionCall (id + thoughtSignature) when
 *   `tools` declare a function and the last user text says "call <name> [{json args}]";
 *   :streamGenerateContent (?alt=sse → `data: <line>\r\n\r\n`; no alt → `[{…}\n,\r\n{…}\n]`), 3 chunks by default,
 *   cumulative usage, finishReason on the last chunk only; :countTokens, :embedContent, :batchEmbedContents
 *   (deterministic vectors, dimension outputDimensionality or 8), :predict (1x1 PNGs).
 * - Every stream element carries an extra top-level field `"sentAt": <epoch ms with fraction>`, taken from
 *   `performance.timeOrigin + performance.now()` right before the element is written: a client on the same machine
 *   measures relay delay as `its own performance.timeOrigin + performance.now()` minus `sentAt`.
 * - Files (resumable, multipart and raw uploads; list/get/delete) and cachedContents (create/list/get/patch/delete)
 *   belong to the key that created them; other keys get 403 PERMISSION_DENIED, also when a generate/count body
 *   references them (`fileData.fileUri`, `cachedContent`).
 * - Batches (`models/{m}:batchGenerateContent`, `batches` list/get/cancel/delete) belong to the key that created
 *   them (other keys: 404); a batch is PENDING when made, SUCCEEDED from its first read on, and one made from an
 *   input file then names a result file (`files/…`) of the same key.
 * - `Accept-Encoding: gzip` → gzip bodies (`Transfer-Encoding: chunked`), streams sync-flushed per element.
 * - Errors on a no-alt stream request come array-wrapped (`[{"error": …}]`), as Google sends them.
 * - /v1beta/openai/* is authenticated but not implemented (404).
 * - The Live API WebSocket (`/ws/google.ai.generativelanguage.{v}.GenerativeService.BidiGenerateContent`, also `//ws/…`):
 *   setup → setupComplete; each complete text turn → "echo: <text>" in 2+ serverContent messages, generationComplete,
 *   turnComplete, then usageMetadata; "call <name>" with a declared function → toolCall, and after its toolResponse
 *   a text turn; an unknown key → close 1007 after the setup. Sessions are in `liveSessions` (see live.ts).
 */
export { startMockGemini } from './server';
export type {
  MockGemini,
  MockGeminiOptions,
  MockMethod,
  RecordedLiveSession,
  RecordedRequest,
  ScriptBehaviour,
  ScriptRule,
} from './types';
