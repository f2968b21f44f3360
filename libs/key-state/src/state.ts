/**
 * The state machine of one pool key, as key-pool (its single writer) keeps it. Pure: every function takes the time
 * as a parameter and returns a new state.
 */
import type { AttemptOutcome, PoolKeyStatus } from '@gg/contracts';
import { ALL_MODELS, normalizeModel } from './model';
import { backoffMs, isPerDayReason, rateLimitUntil, type KeyPolicy } from './policy';

export interface ModelCooldownState {
  /** epoch ms */
  until: number;
  reason: string;
  /** consecutive 429s on this model since its last success (drives the backoff when no delay is given) */
  level: number;
}

export interface KeyState {
  disabled: boolean;
  disabledReason: string | null;
  /** consecutive transient failures since the last success (not those blamed on the request) */
  consecutiveFailures: number;
  /**
   * of those, the ones that weigh one each: confirmed by another key serving the same request, or reported with no
   * user (a health check)
   */
  confirmedFailures: number;
  /** the distinct users of the other (unconfirmed) failures since the last success: they weigh once per user */
  failureUsers: string[];
  /** how many key-wide cooldowns in a row (drives their backoff); 0 after a success */
  backoffLevel: number;
  /** epoch ms until which the whole key rests, 0 when it doesn't */
  cooldownUntil: number;
  /** model (bare name, or '*' for all models) -> cooldown */
  modelCooldowns: Record<string, ModelCooldownState>;
  lastError: string | null;
  /** epoch ms */
  lastUsedAt: number | null;
  totalRequests: number;
  totalFailures: number;
}

export function initialKeyState(): KeyState {
  return {
    disabled: false,
    disabledReason: null,
    consecutiveFailures: 0,
    confirmedFailures: 0,
    failureUsers: [],
    backoffLevel: 0,
    cooldownUntil: 0,
    modelCooldowns: {},
    lastError: null,
    lastUsedAt: null,
    totalRequests: 0,
    totalFailures: 0,
  };
}

function outcomeReason(outcome: AttemptOutcome): string {
  return outcome.reason || `HTTP ${outcome.status}`;
}

function onSuccess(state: KeyState, model: string, now: number): KeyState {
  const next: KeyState = { ...state, consecutiveFailures: 0, confirmedFailures: 0, failureUsers: [], backoffLevel: 0 };
  const cd = state.modelCooldowns[model];
  if (cd) {
    const modelCooldowns = { ...state.modelCooldowns };
    // the model answers again: forget its backoff level; an unexpired cooldown (a late report) still runs out
    if (cd.until > now) modelCooldowns[model] = { ...cd, level: 0 };
    else delete modelCooldowns[model];
    next.modelCooldowns = modelCooldowns;
  }
  return next;
}

function onRateLimited(
  state: KeyState,
  model: string,
  outcome: AttemptOutcome,
  now: number,
  policy: KeyPolicy,
  random: () => number,
): KeyState {
  const reason = outcomeReason(outcome);
  const prev = state.modelCooldowns[model];
  // a 429 of a request sent before the model went to rest doesn't raise the level again
  const level = prev && prev.until > now ? Math.max(prev.level, 1) : (prev?.level ?? 0) + 1;
  let until = rateLimitUntil(now, level, outcome.retryDelayMs, isPerDayReason(outcome.reason), policy, random);
  if (prev && prev.until > until) until = prev.until;
  return {
    ...state,
    totalFailures: state.totalFailures + 1,
    lastError: reason,
    modelCooldowns: { ...state.modelCooldowns, [model]: { until, reason, level } },
  };
}

/** at most this many users are remembered per key (more than any KEY_MAX_FAILURES needs) */
const MAX_FAILURE_USERS = 16;

/**
 * How much the failures since the last success say about the key: confirmed ones weigh one each, unconfirmed ones
 * once per user (one user's requests cannot, alone, make a key look bad).
 */
export function failureWeight(state: KeyState): number {
  return state.confirmedFailures + state.failureUsers.length;
}

/**
 * Whether the failures since the last success justify a key-wide rest: they weigh at least `maxFailures`, and
 * they are not all one user's unconfirmed failures (at least one is confirmed, or they come from 2 users or more).
 */
export function restIsWarranted(state: KeyState, maxFailures: number): boolean {
  return failureWeight(state) >= maxFailures && (state.confirmedFailures > 0 || state.failureUsers.length >= 2);
}

function onTransient(
  state: KeyState,
  outcome: AttemptOutcome,
  now: number,
  policy: KeyPolicy,
  random: () => number,
  mayRest: boolean,
): KeyState {
  // the request failed this way on every key it was tried on: its content or the model, not this key
  if (outcome.blame === 'request') return state;
  const next: KeyState = {
    ...state,
    consecutiveFailures: state.consecutiveFailures + 1,
    totalFailures: state.totalFailures + 1,
    lastError: outcomeReason(outcome),
  };
  const user = outcome.user;
  if (outcome.blame === 'key' || user === undefined) next.confirmedFailures = state.confirmedFailures + 1;
  else if (!state.failureUsers.includes(user))
    next.failureUsers = [...state.failureUsers, user].slice(-MAX_FAILURE_USERS);
  // failures of requests already in flight when the key went to rest don't stretch the rest; and no rest beyond
  // the share of the pool that may rest at once (mayRest, decided by the caller who sees the whole pool)
  if (mayRest && restIsWarranted(next, policy.maxFailures) && state.cooldownUntil <= now) {
    next.backoffLevel = state.backoffLevel + 1;
    next.cooldownUntil =
      now + backoffMs(next.backoffLevel, policy.baseBackoffMs, policy.maxBackoffMs, policy.jitter, random);
  }
  return next;
}

/**
 * Applies one attempt's outcome. Every outcome counts a request and the last use; failures of the key
 * (rate_limited, invalid, transient) count a failure and set lastError; affinity, client_error and transient
 * failures blamed on the request leave the key as it was. `random` ([0, 1)) is the jitter source. `mayRest` false:
 * transient failures may not start a key-wide rest (the share of the pool that may rest at once is taken).
 */
export function applyOutcome(
  state: KeyState,
  outcome: AttemptOutcome,
  now: number,
  policy: KeyPolicy,
  random: () => number = Math.random,
  mayRest = true,
): KeyState {
  const counted: KeyState = { ...state, totalRequests: state.totalRequests + (outcome.count ?? 1), lastUsedAt: now };
  const model = normalizeModel(outcome.model) ?? ALL_MODELS;
  switch (outcome.kind) {
    case 'success':
      return onSuccess(counted, model, now);
    case 'rate_limited':
      return onRateLimited(counted, model, outcome, now, policy, random);
    case 'invalid': {
      const reason = outcomeReason(outcome);
      return {
        ...counted,
        disabled: true,
        // the first reason a key was disabled for is the informative one
        disabledReason: state.disabled ? state.disabledReason : reason,
        totalFailures: counted.totalFailures + 1,
        lastError: reason,
      };
    }
    case 'transient':
      return onTransient(counted, outcome, now, policy, random, mayRest);
    case 'affinity':
    case 'client_error':
      return counted;
  }
}

/**
 * A 429 that arrives while the whole pool pauses (Google throttling the server, not this key): the request, the
 * failure and the error are counted, but the key gets no cooldown of its own; the pause covers it.
 */
export function applyThrottled(state: KeyState, outcome: AttemptOutcome, now: number): KeyState {
  return {
    ...state,
    totalRequests: state.totalRequests + 1,
    totalFailures: state.totalFailures + 1,
    lastUsedAt: now,
    lastError: outcomeReason(outcome),
  };
}

/**
 * The pool pauses until `pauseUntil`: the model cooldowns that would end by then came from the throttling, not from
 * the key, so they are lifted with their backoff levels, and the key is usable again as soon as the pause ends.
 * Longer ones (a per-day quota, a longer retry delay) stay. Returns the same object when nothing changed.
 */
export function liftCooldownsWithin(state: KeyState, pauseUntil: number): KeyState {
  let modelCooldowns: Record<string, ModelCooldownState> | null = null;
  for (const model in state.modelCooldowns) {
    if (state.modelCooldowns[model].until <= pauseUntil) {
      modelCooldowns ??= { ...state.modelCooldowns };
      delete modelCooldowns[model];
    }
  }
  return modelCooldowns ? { ...state, modelCooldowns } : state;
}

function hasActiveModelCooldown(state: KeyState, now: number): boolean {
  for (const model in state.modelCooldowns) {
    if (state.modelCooldowns[model].until > now) return true;
  }
  return false;
}

/** 'disabled'; 'cooldown' while a key-wide or any model cooldown runs; else 'active'. */
export function statusOf(state: KeyState, now: number): PoolKeyStatus {
  if (state.disabled) return 'disabled';
  if (state.cooldownUntil > now || hasActiveModelCooldown(state, now)) return 'cooldown';
  return 'active';
}

/** Back to active (the admin's "reset" or a passing health check): failures and cooldowns cleared, totals kept. */
export function resetState(state: KeyState): KeyState {
  return {
    ...state,
    disabled: false,
    disabledReason: null,
    consecutiveFailures: 0,
    confirmedFailures: 0,
    failureUsers: [],
    backoffLevel: 0,
    cooldownUntil: 0,
    modelCooldowns: {},
    lastError: null,
  };
}

/**
 * Drops cooldowns that have run out. A model cooldown is kept for `keepLevelMs` after it ends (default 30 min) so
 * that a new 429 soon after still backs off further; after that its level is forgotten. Returns the same object
 * when nothing changed.
 */
export function pruneExpired(state: KeyState, now: number, keepLevelMs = 30 * 60_000): KeyState {
  let modelCooldowns: Record<string, ModelCooldownState> | null = null;
  for (const model in state.modelCooldowns) {
    if (state.modelCooldowns[model].until + keepLevelMs <= now) {
      modelCooldowns ??= { ...state.modelCooldowns };
      delete modelCooldowns[model];
    }
  }
  const cooldownExpired = state.cooldownUntil !== 0 && state.cooldownUntil <= now;
  if (!modelCooldowns && !cooldownExpired) return state;
  return {
    ...state,
    cooldownUntil: cooldownExpired ? 0 : state.cooldownUntil,
    modelCooldowns: modelCooldowns ?? state.modelCooldowns,
  };
}
