/** Types of the admin REST API (docs/api.md §4) and of the messages between apps. Pure TS: safe in a browser. */

import type { PoolKeyProxy, SnapshotProxy } from './proxies';

export type Role = 'admin' | 'user';

export interface User {
  id: string;
  username: string;
  role: Role;
  isActive: boolean;
  createdAt: string;
}

export interface LoginResult {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
}

export interface Me {
  id: string;
  username: string;
  role: Role;
}

export interface AuthKey {
  id: string;
  name: string;
  prefix: string;
  isActive: boolean;
  callCount: number;
  promptTokens: number;
  outputTokens: number;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  /** requests per minute allowed with this key (exact across gateway replicas), or null: no limit */
  rateLimitPerMinute: number | null;
  /** models this key may call (ids like `gemini-2.5-flash`), or null: any model */
  allowedModels: string[] | null;
  /** after a rotation with a grace period: until when the previous secret still works, else null */
  previousKeyExpiresAt: string | null;
}

export type AuthKeyWithSecret = AuthKey & { key: string };

export type PoolKeyStatus = 'active' | 'cooldown' | 'disabled';

export interface ModelCooldown {
  model: string;
  /** ISO time */
  until: string;
  reason: string;
}

export interface PoolKey {
  id: string;
  masked: string;
  status: PoolKeyStatus;
  /** requests in flight on this key, summed over every gateway */
  inUse: number;
  isInUse: boolean;
  failureCount: number;
  cooldownUntil: string | null;
  cooldowns: ModelCooldown[];
  lastUsedAt: string | null;
  lastError: string | null;
  totalRequests: number;
  /** resources (files, cached contents, batches, …) created through the gateway that this key holds now */
  resources?: number;
  /** the upstream proxy its traffic goes through now; null: no proxy list (UPSTREAM_PROXY or direct) */
  proxy?: PoolKeyProxy | null;
}

export interface AddPoolKeysResult {
  added: PoolKey[];
  duplicates: number;
  invalid: number;
}

export interface KeyCheckResult {
  ok: boolean;
  status: number;
  latencyMs: number;
  error?: string;
}

export interface RequestLog {
  id: string;
  at: string;
  userId: string;
  authKeyId: string;
  poolKeyId: string | null;
  method: string;
  model: string | null;
  stream: boolean;
  status: number;
  attempts: number;
  latencyMs: number;
  ttfbMs: number | null;
  promptTokens: number;
  outputTokens: number;
  error?: string;
  /**
   * The `x-request-id` the gateway answered (its service-log lines carry it), set by the admin API. `id` is the
   * same unless the client sent its own id: that gets a suffix in `id` so that a reused one still counts once.
   */
  requestId?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface LogQuery {
  limit?: number;
  cursor?: string;
  status?: number;
  model?: string;
  authKeyId?: string;
  since?: string;
  /** set by admin from the caller: restricts to one user (always set for non-admins) */
  userId?: string;
}

export type StatsWindow = '1h' | '24h' | '7d';

export interface StatsPoint {
  t: string;
  requests: number;
  errors: number;
  promptTokens: number;
  outputTokens: number;
}

export interface Stats {
  window: StatsWindow;
  bucketSeconds: number;
  series: StatsPoint[];
  topKeys: { authKeyId: string; name: string; requests: number }[];
}

/* ---------- gateway <-> auth ---------- */

/** What the gateway caches per user key hash. */
export interface AuthKeyRecord {
  id: string;
  userId: string;
  isActive: boolean;
  /** epoch ms, or null */
  expiresAt: number | null;
  /** requests per minute (exact across replicas, one Redis counter per key and minute); null/absent: no limit */
  rateLimitPerMinute?: number | null;
  /** model ids this key may call; null/absent: any model */
  allowedModels?: string[] | null;
}

export interface KeyVerifyRequest {
  /** keyed hash (hex) of the presented user key */
  hash: string;
}

export interface KeyChangedEvent {
  /** hashes to drop from the cache; empty means drop everything */
  hashes: string[];
}

/**
 * One client request, as counted: a RequestLog whose id is the request id. Exactly one per authenticated request;
 * `requestId` makes applying it idempotent.
 */
export type UsageRecord = Omit<RequestLog, 'id'> & { requestId: string };

export interface UsageBatchJob {
  records: UsageRecord[];
  /** W3C traceparents of the records' requests, with tracing on: the consumer's span links to them */
  traces?: string[];
}

/* ---------- gateway <-> key-pool ---------- */

/** A pool key as the gateway holds it: the secret plus the state that selection needs. */
export interface SnapshotKey {
  id: string;
  secret: string;
  status: PoolKeyStatus;
  /** epoch ms until which the whole key rests, or 0 */
  cooldownUntil: number;
  /** model -> epoch ms until which the key rests for that model */
  modelCooldowns: Record<string, number>;
  /** the proxy the admin bound it to (PoolSnapshot.proxies); absent: consistent hashing over the list */
  proxyId?: string;
}

export interface PoolSnapshot {
  /** grows with each change; a gateway ignores a snapshot older than the one it has */
  version: number;
  /**
   * gatewayId -> the highest outcome batch `seq` of that gateway this snapshot already reflects. A gateway re-applies
   * its own newer outcomes on top, so a push that left key-pool before them cannot undo a fresh cooldown.
   */
  applied?: Record<string, number>;
  /** epoch ms until which the whole pool pauses (Google throttling the server), or 0 */
  pausedUntil: number;
  /** model -> epoch ms until which that model rests on every key (Google overloaded for it); absent: none */
  modelPausedUntil?: Record<string, number>;
  keys: SnapshotKey[];
  /** the upstream proxy list (full URLs: the transport is sealed); absent or empty: UPSTREAM_PROXY or direct */
  proxies?: SnapshotProxy[];
}

export type OutcomeKind = 'success' | 'rate_limited' | 'invalid' | 'transient' | 'affinity' | 'client_error';

export interface AttemptOutcome {
  keyId: string;
  model: string | null;
  kind: OutcomeKind;
  status: number;
  /** from RetryInfo.retryDelay or Retry-After, in ms */
  retryDelayMs?: number;
  /** short reason, never a secret */
  reason?: string;
  at: number;
  /** how many attempts this outcome stands for: gateways send successes aggregated per key and model (default 1) */
  count?: number;
  /** the user whose request the attempt served: failures nothing confirms weigh once per user */
  user?: string;
  /**
   * transient failures only: 'key' when another key then served the same request (the key's fault); 'request' when
   * the request failed this way on every key it was tried on (its content or the model, not the keys); absent when
   * there was nothing to compare with
   */
  blame?: AttemptBlame;
  /** a 503 UNAVAILABLE / overloaded answer: evidence about the model rather than the key */
  overloaded?: boolean;
  /** failures only: the request the attempt served, named on the lines key-pool logs about this outcome */
  requestId?: string;
}

export type AttemptBlame = 'key' | 'request';

export interface PoolOutcomeBatch {
  gatewayId: string;
  /** grows by one per batch of this gateway (acknowledged in PoolSnapshot.applied) */
  seq?: number;
  outcomes: AttemptOutcome[];
}

export interface InFlightReport {
  gatewayId: string;
  /** keyId -> requests in flight on that gateway */
  inFlight: Record<string, number>;
  /** the report is valid until this epoch ms (lease) */
  expiresAt: number;
}

/** One line of an app's log, from the capped `${REDIS_NAMESPACE}:service-logs` stream (secrets redacted). */
export interface ServiceLogLine {
  /** stream entry id, increasing */
  id: string;
  app: string;
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  time: string;
  msg: string;
  /** the rest of the line (request id, context, error, …) */
  fields: Record<string, unknown>;
}
