/** KeyState as stored by the db (an opaque JSON string). Parsing is tolerant: missing or bad fields get defaults. */
import { initialKeyState, type KeyState, type ModelCooldownState } from './state';

export function serializeState(state: KeyState): string {
  return JSON.stringify(state);
}

type Json = Record<string, unknown>;

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

function strOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function parseCooldowns(v: unknown): Record<string, ModelCooldownState> {
  const out: Record<string, ModelCooldownState> = {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return out;
  for (const [model, raw] of Object.entries(v as Json)) {
    // older or hand-written states may hold a bare epoch ms
    if (typeof raw === 'number' && Number.isFinite(raw)) {
      out[model] = { until: raw, reason: '', level: 1 };
    } else if (typeof raw === 'object' && raw !== null) {
      const c = raw as Json;
      const until = num(c.until, NaN);
      if (Number.isNaN(until)) continue;
      out[model] = { until, reason: strOrNull(c.reason) ?? '', level: num(c.level, 1) };
    }
  }
  return out;
}

/** Parses a stored state; null, empty or unparseable input yields the initial state. Accepts an object too. */
export function parseState(input: string | Json | null | undefined): KeyState {
  const base = initialKeyState();
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = input ? JSON.parse(input) : null;
    } catch {
      raw = null;
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return base;
  const s = raw as Json;
  const lastUsedAt = num(s.lastUsedAt, NaN);
  return {
    disabled: s.disabled === true,
    disabledReason: strOrNull(s.disabledReason),
    consecutiveFailures: num(s.consecutiveFailures, 0),
    // states saved before failures were weighed: every failure counted one
    confirmedFailures: num(s.confirmedFailures, num(s.consecutiveFailures, 0)),
    failureUsers: Array.isArray(s.failureUsers) ? s.failureUsers.filter((u): u is string => typeof u === 'string') : [],
    backoffLevel: num(s.backoffLevel, 0),
    cooldownUntil: num(s.cooldownUntil, 0),
    modelCooldowns: parseCooldowns(s.modelCooldowns),
    lastError: strOrNull(s.lastError),
    lastUsedAt: Number.isNaN(lastUsedAt) ? null : lastUsedAt,
    totalRequests: num(s.totalRequests, 0),
    totalFailures: num(s.totalFailures, 0),
  };
}
