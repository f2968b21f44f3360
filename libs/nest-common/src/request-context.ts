import { AsyncLocalStorage } from 'node:async_hooks';
import { injectTrace, MAX_LINKS, telemetryEnabled } from './telemetry';

/**
 * What is known about the request being served: its id (the `x-request-id` answered to the client). Never a
 * secret: it travels in RPC messages and lands on every log line written for the request.
 */
export interface RequestContext {
  readonly requestId: string;
}

/**
 * The context as it travels with an RPC message: the packet's `_ctx` field, next to `pattern` and `data` (so no
 * payload schema sees it) and sealed with them. Built and read by `withContext`/`contextOf` only, so that more of
 * it (a W3C `traceparent`) is one field added there.
 */
export interface WireContext {
  requestId?: string;
  /** with tracing on: the sender's span (telemetry.ts) */
  traceparent?: string;
  /** with tracing on: the spans of the requests a batch reports on, to link to */
  links?: string[];
}

/** The packet field that carries the WireContext. */
export const CONTEXT_FIELD = '_ctx';

const storage = new AsyncLocalStorage<RequestContext>();
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Whether a request id from outside (a client's header, a message) is harmless to log and pass on. */
export function isSaneRequestId(v: unknown): v is string {
  return typeof v === 'string' && SANE_ID.test(v);
}

/** Runs `fn` (and everything it starts: promises, timers, callbacks) as work for request `requestId`. */
export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return storage.run({ requestId }, fn);
}

/**
 * Runs `fn` outside any request: for work one request merely triggers on behalf of many (a batch flushed by a
 * timer the first of them armed), which must not carry that request's id.
 */
export function runOutsideRequest<T>(fn: () => T): T {
  return storage.exit(fn);
}

/** The id of the request being served, or undefined outside of one. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/**
 * pino `mixin`: `requestId` on every line written while a request is served, nothing otherwise. One store read
 * per line written; nothing at all per request.
 */
export function requestIdMixin(): { requestId?: string } {
  const store = storage.getStore();
  return store ? { requestId: store.requestId } : {};
}

/** An outgoing RPC packet with the current context in `_ctx`; the packet itself when there is none. */
export function withContext<P extends object>(packet: P): P {
  const requestId = currentRequestId();
  const tracing = telemetryEnabled();
  if (requestId === undefined && !tracing) return packet;
  const ctx: WireContext = requestId === undefined ? {} : { requestId };
  if (tracing) injectTrace(ctx);
  if (ctx.requestId === undefined && ctx.traceparent === undefined && ctx.links === undefined) return packet;
  return { ...packet, [CONTEXT_FIELD]: ctx };
}

/** The context an incoming packet carries (only well-formed values; anything else is ignored). */
export function contextOf(packet: unknown): WireContext {
  const raw = (packet as Record<string, unknown> | null)?.[CONTEXT_FIELD];
  if (!raw || typeof raw !== 'object') return {};
  const { requestId, traceparent, links } = raw as Record<string, unknown>;
  const ctx: WireContext = isSaneRequestId(requestId) ? { requestId } : {};
  if (isTraceparent(traceparent)) ctx.traceparent = traceparent;
  if (Array.isArray(links)) ctx.links = links.filter(isTraceparent).slice(0, MAX_LINKS);
  return ctx;
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

function isTraceparent(v: unknown): v is string {
  return typeof v === 'string' && TRACEPARENT.test(v);
}

/** Runs the handling of an incoming packet in the context it carries (outside any request when it carries none). */
export function runInContextOf<T>(packet: unknown, fn: () => T): T {
  const { requestId } = contextOf(packet);
  return requestId === undefined ? storage.exit(fn) : storage.run({ requestId }, fn);
}
