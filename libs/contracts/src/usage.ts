import type { RequestLog, UsageRecord } from './types';

/**
 * The `x-request-id` of a request-log row: its id without the `.<12 hex>` the gateway appends to a client's own id
 * (apps/gateway usageIdFor); an id the gateway made (a UUID, no dot) is the request id itself.
 */
export function requestIdOfLog(id: string): string {
  return id.replace(/\.[0-9a-f]{12}$/, '');
}

/** A request-log row as the admin API answers it: with its `requestId`. */
export function withRequestId(log: RequestLog): RequestLog {
  return { ...log, requestId: requestIdOfLog(log.id) };
}

/** The request-log row of a usage record: the same fields, keyed by the request id (an absent error stays absent). */
export function usageToRequestLog(r: UsageRecord, at: string = r.at): RequestLog {
  return {
    id: r.requestId,
    at,
    userId: r.userId,
    authKeyId: r.authKeyId,
    poolKeyId: r.poolKeyId,
    method: r.method,
    model: r.model,
    stream: r.stream,
    status: r.status,
    attempts: r.attempts,
    latencyMs: r.latencyMs,
    ttfbMs: r.ttfbMs,
    promptTokens: r.promptTokens,
    outputTokens: r.outputTokens,
    ...(r.error !== undefined ? { error: r.error } : {}),
  };
}

/**
 * The usage journal (docs/architecture.md, "Usage: the journal and the queue"). Each gateway process appends its usage
 * records to a Redis list of its own within about a millisecond of each answer (one RPUSH per event-loop turn), and
 * every USAGE_JOB_EVERY_MS turns what it journaled into one job of the usage queue, then trims those entries. A
 * process that dies leaves its list behind; once its heartbeat has lapsed, auth turns the list into jobs. Applying
 * usage is idempotent by request id, so a record journaled and queued twice counts once.
 */
export const usageJournalKeys = {
  /** set of the ids of the processes that keep (or kept) a journal */
  journals: (ns: string): string => `${ns}:usage:journals`,
  /** list of JSON usage records, oldest first */
  journal: (ns: string, id: string): string => `${ns}:usage:journal:${id}`,
  /** set with a TTL of USAGE_JOURNAL_ALIVE_MS and refreshed while the process lives */
  alive: (ns: string, id: string): string => `${ns}:usage:alive:${id}`,
  /** held by the auth replica reclaiming a journal, so that two do not */
  reclaiming: (ns: string, id: string): string => `${ns}:usage:reclaiming:${id}`,
};

/** How often a gateway turns its journaled records into a job (sooner when USAGE_JOB_MAX_RECORDS are waiting). */
export const USAGE_JOB_EVERY_MS = 100;
/** Records per usage job at most. */
export const USAGE_JOB_MAX_RECORDS = 500;
/** A gateway's heartbeat lapses this long after its last refresh (it refreshes every USAGE_JOURNAL_HEARTBEAT_MS). */
export const USAGE_JOURNAL_ALIVE_MS = 5000;
export const USAGE_JOURNAL_HEARTBEAT_MS = 1000;

/** The options of every usage job: retried with backoff while auth's store is away; a retry counts nothing twice. */
export const USAGE_JOB_OPTIONS = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: 1000,
  removeOnFail: 5000,
} as const;
