/** Public types of the scripted Gemini upstream. */

export interface MockGeminiOptions {
  /** 0 (default) = a random free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** keys accepted; default: any key starting with "AIza" (plus those given to addKeys) */
  validKeys?: string[];
  /**
   * Record every request in `requests` (default true). The benchmark turns this off so that a long run does not
   * grow memory.
   */
  record?: boolean;
  /**
   * The read (`batches.get` by its owner) on which a batch becomes SUCCEEDED (default 1); the reads before it see
   * BATCH_STATE_RUNNING. Deterministic state changes for tests, no timers.
   */
  batchReadsToFinish?: number;
}

/** The API method a request was routed to; what `ScriptRule.method` matches. */
export type MockMethod =
  | 'generateContent'
  | 'streamGenerateContent'
  | 'countTokens'
  | 'embedContent'
  | 'batchEmbedContents'
  | 'predict'
  | 'models.list'
  | 'models.get'
  | 'upload'
  | 'files.list'
  | 'files.get'
  | 'files.delete'
  | 'files.download'
  | 'cachedContents.create'
  | 'cachedContents.list'
  | 'cachedContents.get'
  | 'cachedContents.patch'
  | 'cachedContents.delete'
  | 'batchGenerateContent'
  | 'batches.list'
  | 'batches.get'
  | 'batches.cancel'
  | 'batches.delete'
  | 'fileSearchStores.create'
  | 'fileSearchStores.list'
  | 'fileSearchStores.get'
  | 'fileSearchStores.delete'
  | 'fileSearchStores.importFile'
  | 'fileSearchStores.uploadToFileSearchStore'
  | 'fileSearchStores.documents.list'
  | 'fileSearchStores.documents.get'
  | 'fileSearchStores.documents.delete'
  | 'fileSearchStores.operations.get'
  | 'openai'
  /** the Live API WebSocket; a rule only applies to it when it names this method */
  | 'bidiGenerateContent'
  | 'unknown';

export interface RecordedRequest {
  method: string;
  /** path without the query string, as received */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** the API key seen (x-goog-api-key, ?key= or, on /v1beta/openai/*, Authorization: Bearer); '' when none */
  key: string;
  /** the body as UTF-8 text, capped at 1 MB */
  bodyText: string;
  /** total body size in bytes (not capped) */
  bodyBytes: number;
  /** Date.now() when the request arrived */
  at: number;
  /** the routed API method, e.g. 'generateContent', 'models.list', 'upload' */
  apiMethod: MockMethod;
  /** the model id from the path (without "models/"), '' when none */
  model: string;
  /** the client's port of the connection it came on (which test proxy opened it: TestProxy.ports) */
  remotePort: number;
}

/** One Live API WebSocket session as the mock saw it. */
export interface RecordedLiveSession {
  /** the path asked for, without the query string */
  path: string;
  /** v1beta or v1alpha */
  version: string;
  /** the key of the handshake (`?key=`, else `x-goog-api-key`); '' when none */
  key: string;
  headers: Record<string, string | string[] | undefined>;
  /** the setup's model as sent (`models/…`); '' until the setup arrived */
  model: string;
  /** every client message, parsed, in order (the setup first); a frame that is not JSON is kept as its text */
  messages: unknown[];
  /** the server messages sent, in order */
  sent: unknown[];
  /** the close code once the session ended (the peer's, or the mock's own) */
  closeCode?: number;
  at: number;
  /** the client's port of the connection it came on (which test proxy opened it: TestProxy.ports) */
  remotePort: number;
}

export type ScriptBehaviour =
  /** 429 RESOURCE_EXHAUSTED with QuotaFailure + Help + RetryInfo */
  | { type: 'rateLimit'; retryDelay?: string; quotaId?: string }
  /** 400 INVALID_ARGUMENT API_KEY_INVALID */
  | { type: 'invalidKey' }
  /** 403 PERMISSION_DENIED CONSUMER_SUSPENDED */
  | { type: 'suspended' }
  /** any Google error; statusText defaults from the code (503 → UNAVAILABLE …), message from the code too */
  | { type: 'error'; status: number; statusText?: string; message?: string }
  /** destroy the socket (TCP reset) before any header */
  | { type: 'reset' }
  /** send the headers and n chunks (unary: headers and half the body), then close the socket mid-body */
  | { type: 'resetMidStream'; afterChunks: number }
  /** streams only: n chunks, then a bare {"error": …} object (SSE) / an error element (array), then end */
  | { type: 'errorMidStream'; afterChunks: number }
  /** wait before the first byte, then behave normally */
  | { type: 'delay'; firstByteMs: number }
  /** streams only: these texts as chunks, one every intervalMs (the first right after the headers), each with sentAt */
  | { type: 'stream'; chunks: string[]; intervalMs?: number }
  /** exactly this answer (status, headers, body bytes as given): for answers no real method would produce */
  | { type: 'raw'; status?: number; headers?: Record<string, string>; body: string }
  /** Live only: accept the handshake, then close with this code and reason once the setup arrived */
  | { type: 'liveClose'; code: number; reason: string }
  /** Live only: right after setupComplete send `goAway{timeLeft}`, then close (1000) once that time has passed */
  | { type: 'goAway'; timeLeft: string };

/**
 * On the Live WebSocket (`method: 'bidiGenerateContent'`, which a Live rule must name) `rateLimit`, `invalidKey`,
 * `suspended` and `error` refuse the handshake with that HTTP answer, `reset` cuts the socket. The model is not known
 * at the handshake: a Live rule's `model` is ignored, and one with `bodyContains` never matches.
 */
export type ScriptRule = ScriptBehaviour & {
  /** only requests carrying this API key */
  key?: string;
  /** only this model ("gemini-2.5-flash" or "models/gemini-2.5-flash") */
  model?: string;
  /** only this API method; a prefix before a dot also matches ("files" matches "files.get") */
  method?: MockMethod | 'files' | 'cachedContents' | 'models';
  /** how many requests the rule answers; default 1, Infinity allowed */
  times?: number;
  /** only requests whose body (as UTF-8 text) contains this string: say, a "poison" prompt */
  bodyContains?: string;
};

export interface MockGemini {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** every request received, oldest first (same array for the mock's lifetime) */
  requests: RecordedRequest[];
  clearRequests(): void;
  /** accept these keys too */
  addKeys(...keys: string[]): void;
  /** every Live API WebSocket session, oldest first (same array for the mock's lifetime; `reset` empties it) */
  liveSessions: RecordedLiveSession[];
  /** queue a behaviour override; rules are tried in the order they were added */
  script(rule: ScriptRule): void;
  /** clear scripts, recorded requests, files, upload sessions and cached contents */
  reset(): void;
  close(): Promise<void>;
}
