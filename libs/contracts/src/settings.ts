/**
 * Runtime settings: what operators tune while the gateway runs (retries, backoff, timeouts, selection, pause
 * thresholds, retention) and the model catalogue (hidden models, aliases, default model). One table describes each
 * setting once (its environment variable, range and default); the admin's HTTP validation, key-pool's RPC
 * validation, the environment parsing of libs/config and the SPA's form are all derived from it.
 *
 * Key-pool owns them: it stores the operator's overrides, validates every change and pushes the result to every
 * app (`settings.changed`); environment variables give the defaults, and `PINNED_SETTINGS` fixes some to them.
 */

export const KEY_SELECTION_MODES = ['least-busy', 'round-robin', 'random'] as const;
export type KeySelectionMode = (typeof KEY_SELECTION_MODES)[number];

/** The values in force. Times in whole seconds, as the environment variables give them. */
export interface SettingsValues {
  maxAttempts: number;
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
  keyMaxFailures: number;
  /** 0: no first-byte limit, only the request's own deadline */
  firstByteTimeoutSeconds: number;
  requestTimeoutSeconds: number;
  keySelection: KeySelectionMode;
  /** 0: unlimited */
  keyMaxConcurrency: number;
  healthCheckIntervalSeconds: number;
  pauseMinKeys: number;
  pausePercent: number;
  pauseWindowSeconds: number;
  logRetentionDays: number;
  auditRetentionDays: number;
  /** model ids (no `models/`) left out of every model list and refused with 404 when asked for by name */
  hiddenModels: string[];
  /** alias -> real model id, on the native and OpenAI routes */
  modelAliases: Record<string, string>;
  /** the model of an OpenAI request that names none; '' for none (such a request is refused) */
  defaultModel: string;
}
export type SettingName = keyof SettingsValues;

export type SettingKind = 'int' | 'choice' | 'models' | 'aliases' | 'model';

export interface SettingDef {
  kind: SettingKind;
  /** the environment variable that gives the default (and pins it when listed in PINNED_SETTINGS) */
  env: string;
  label: string;
  /** one sentence for operators: what it does, and what 0 means where it means something */
  help: string;
  /** built-in default, when the environment says nothing */
  default: SettingsValues[SettingName];
  min?: number;
  max?: number;
  unit?: 's' | 'days' | '%';
  options?: readonly string[];
}

/** Longest list of hidden models, and most aliases (each a short model id). */
export const MAX_CATALOGUE_ENTRIES = 200;
/** a model id as Google spells them: `gemini-2.5-flash`, `text-embedding-004`; `models/` is accepted and dropped */
export const MODEL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function int(
  env: string,
  label: string,
  help: string,
  def: number,
  min: number,
  max: number,
  unit?: SettingDef['unit'],
): SettingDef {
  return { kind: 'int', env, label, help, default: def, min, max, ...(unit ? { unit } : {}) };
}

export const SETTINGS: { readonly [K in SettingName]: SettingDef } = {
  maxAttempts: int(
    'MAX_ATTEMPTS',
    'Attempts per request',
    'Pool keys tried for one request before the first byte.',
    3,
    1,
    20,
  ),
  backoffBaseSeconds: int(
    'KEY_BACKOFF_BASE_SECONDS',
    'Backoff base',
    'First rest of a failing key (and of a key rate-limited with no retry delay); doubles each time.',
    30,
    1,
    86_400,
    's',
  ),
  backoffMaxSeconds: int(
    'KEY_BACKOFF_MAX_SECONDS',
    'Backoff cap',
    'Longest computed rest of a key.',
    1800,
    1,
    604_800,
    's',
  ),
  keyMaxFailures: int(
    'KEY_MAX_FAILURES',
    'Failures before rest',
    'Consecutive transient failures (5xx, network, timeout) before a key rests.',
    3,
    1,
    1000,
  ),
  firstByteTimeoutSeconds: int(
    'UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS',
    'First-byte timeout',
    'An attempt with no response headers by then fails its key and is retried on another; 0: no limit.',
    0,
    0,
    86_400,
    's',
  ),
  requestTimeoutSeconds: int(
    'REQUEST_TIMEOUT_SECONDS',
    'Total timeout',
    'Deadline of one client request.',
    300,
    1,
    86_400,
    's',
  ),
  keySelection: {
    kind: 'choice',
    env: 'KEY_SELECTION',
    label: 'Selection mode',
    help: 'How a pool key is picked among the usable ones.',
    default: 'least-busy',
    options: KEY_SELECTION_MODES,
  },
  keyMaxConcurrency: int(
    'KEY_MAX_CONCURRENCY',
    'Per-key concurrency',
    'Requests in flight on one pool key at most, per gateway; 0: unlimited.',
    0,
    0,
    100_000,
  ),
  healthCheckIntervalSeconds: int(
    'HEALTH_CHECK_INTERVAL_SECONDS',
    'Health-check interval',
    'How often disabled and resting keys are checked again.',
    300,
    1,
    86_400,
    's',
  ),
  pauseMinKeys: int(
    'POOL_PAUSE_MIN_KEYS',
    'Pause: keys rate-limited',
    'The whole pool pauses when at least this many keys got a 429 within the window…',
    3,
    1,
    10_000,
  ),
  pausePercent: int(
    'POOL_PAUSE_PERCENT',
    'Pause: share of keys',
    '…and they are at least this share of the usable keys.',
    50,
    1,
    100,
    '%',
  ),
  pauseWindowSeconds: int(
    'POOL_PAUSE_WINDOW_SECONDS',
    'Pause: window',
    '429s count together within this window.',
    10,
    1,
    3600,
    's',
  ),
  logRetentionDays: int(
    'LOG_RETENTION_DAYS',
    'Request log retention',
    'Request log rows older than this are deleted.',
    7,
    1,
    3650,
    'days',
  ),
  auditRetentionDays: int(
    'AUDIT_RETENTION_DAYS',
    'Audit log retention',
    'Audit entries older than this are deleted.',
    365,
    1,
    36_500,
    'days',
  ),
  hiddenModels: {
    kind: 'models',
    env: 'HIDDEN_MODELS',
    label: 'Hidden models',
    help: 'Left out of every model list; asked for by name, answered 404 as for a model that does not exist.',
    default: [],
  },
  modelAliases: {
    kind: 'aliases',
    env: 'MODEL_ALIASES',
    label: 'Model aliases',
    help: 'A name clients may use for a real model (native and OpenAI routes); the environment spells them alias=model,….',
    default: {},
  },
  defaultModel: {
    kind: 'model',
    env: 'DEFAULT_MODEL',
    label: 'Default model',
    help: 'The model of an OpenAI request that names none (an alias may be used); empty: such a request is refused.',
    default: '',
  },
};

export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

/** The built-in defaults, before the environment. */
export function builtInSettings(): SettingsValues {
  const out: Record<string, unknown> = {};
  for (const name of SETTING_NAMES) out[name] = structuredClone(SETTINGS[name].default);
  return out as unknown as SettingsValues;
}

/** `models/x` → `x`: the catalogue keeps bare ids, as the gateway's request model does. */
export function bareModelId(name: string): string {
  return name.trim().replace(/^models\//, '');
}
