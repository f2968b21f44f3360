/** Reads a Google `google.rpc.Status` error body, tolerant of the array-wrapped variant and of bodies that aren't JSON. */
import { parseDurationMs } from './retry-delay';

export interface GoogleErrorInfo {
  /** `error.message`, or the text of a body that isn't JSON */
  message: string;
  /** `error.status`, e.g. RESOURCE_EXHAUSTED */
  status: string | null;
  /** `ErrorInfo.reason` values, e.g. API_KEY_INVALID */
  reasons: string[];
  /** `QuotaFailure.violations[].quotaId` values */
  quotaIds: string[];
  /** `RetryInfo.retryDelay` in ms */
  retryDelayMs?: number;
  /** true when the body was a Google error JSON */
  json: boolean;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** Finds the `error` object: `{"error":{…}}`, `[{"error":{…}}]`, or (SSE) `data: {"error":{…}}`. */
function findErrorObject(body: string): Json | null {
  let text = body.trim();
  if (text.startsWith('data:')) text = text.slice(5).trim();
  if (!text.startsWith('{') && !text.startsWith('[')) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!isObject(first)) return null;
  if (isObject(first.error)) return first.error;
  return null;
}

function readDetails(details: unknown, out: GoogleErrorInfo): void {
  if (!Array.isArray(details)) return;
  for (const d of details) {
    if (!isObject(d)) continue;
    const type = str(d['@type']) ?? '';
    const reason = str(d.reason);
    if (reason && (type.endsWith('ErrorInfo') || !type)) out.reasons.push(reason);
    if (d.retryDelay !== undefined) {
      const ms = parseDurationMs(d.retryDelay);
      if (ms !== undefined) out.retryDelayMs = ms;
    }
    if (Array.isArray(d.violations)) {
      for (const v of d.violations) {
        const quotaId = isObject(v) ? str(v.quotaId) : null;
        if (quotaId) out.quotaIds.push(quotaId);
      }
    }
  }
}

export function parseGoogleError(body: string | undefined): GoogleErrorInfo {
  const out: GoogleErrorInfo = { message: '', status: null, reasons: [], quotaIds: [], json: false };
  if (!body) return out;
  const error = findErrorObject(body);
  if (!error) {
    out.message = body;
    return out;
  }
  out.json = true;
  out.message = str(error.message) ?? '';
  out.status = str(error.status);
  readDetails(error.details, out);
  return out;
}
