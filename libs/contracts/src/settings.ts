/**
 * Runtime settings: what operators tune while the gateway runs (retries, backoff, timeouts, selection, pause
 * thresholds, retention) and the model catalogue (hidden models, aliases, default model). One table describes each
 * setting once (its environment variable, range and default); the admin's HTTP validation, key-pool's RPC
 * validation, the environment parsing of libs/config and the SPA's form are all derived from it.
 *
 * Key-pool owns them: it stores the operator's overrides, validates every change and pushes the result to every
 * app (`settings.changed`); environment variables give the defaults, and `PINNED_SETTINGS` fixes some to them.
 */
import { z } from 'zod';

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

function modelIdField(field: string): z.ZodType<string> {
  const error = `${field} must be a model id (letters, digits, ".", "_", "-"; at most 128), e.g. gemini-2.5-flash`;
  return z
    .string({ error })
    .transform(bareModelId)
    .refine((s) => MODEL_ID_PATTERN.test(s), { error });
}

/** The schema of one setting's value, its messages naming the field. */
function fieldSchema(name: SettingName): z.ZodType {
  const def = SETTINGS[name];
  switch (def.kind) {
    case 'int': {
      const error = `${name} must be an integer from ${def.min} to ${def.max}`;
      return z
        .number({ error })
        .int({ error })
        .min(def.min as number, { error })
        .max(def.max as number, { error });
    }
    case 'choice':
      return z.enum(def.options as [string, ...string[]], {
        error: `${name} must be one of ${(def.options ?? []).join(', ')}`,
      });
    case 'models':
      return z
        .array(modelIdField(name), { error: `${name} must be a list of model ids` })
        .max(MAX_CATALOGUE_ENTRIES, { error: `${name} may list at most ${MAX_CATALOGUE_ENTRIES} models` })
        .transform((list) => [...new Set(list)]);
    case 'aliases':
      return z
        .record(modelIdField(`${name} (an alias)`), modelIdField(name), {
          error: `${name} must be an object of alias -> model id`,
        })
        .refine((m) => Object.keys(m).length <= MAX_CATALOGUE_ENTRIES, {
          error: `${name} may hold at most ${MAX_CATALOGUE_ENTRIES} aliases`,
        });
    case 'model':
      return z.union([z.literal(''), modelIdField(name)], {
        error: `${name} must be a model id, e.g. gemini-2.5-flash, or "" for none`,
      });
  }
}

const patchShape: Record<string, z.ZodType> = {};
for (const name of SETTING_NAMES) patchShape[name] = fieldSchema(name).nullable().optional();

/**
 * `PATCH /api/settings` (key-pool: `settings.update`'s `patch`): any subset of the settings; `null` puts one back
 * to its default. Unknown fields are refused, each problem names its field.
 */
export const settingsPatchSchema = z.strictObject(patchShape) as unknown as z.ZodType<SettingsPatch>;
export type SettingsPatch = { [K in SettingName]?: SettingsValues[K] | null };

/** One value checked alone (a stored override read back, an environment value): its parsed form or the problems. */
export function parseSetting(
  name: SettingName,
  value: unknown,
): { ok: true; value: unknown } | { ok: false; message: string } {
  const r = fieldSchema(name).safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, message: r.error.issues[0]?.message ?? `${name} is invalid` };
}

/** What holds across settings; each problem names the field it is reported on. Empty when all is well. */
export function crossFieldProblems(v: SettingsValues): string[] {
  const problems: string[] = [];
  if (v.backoffMaxSeconds < v.backoffBaseSeconds) {
    problems.push(`backoffMaxSeconds must be at least backoffBaseSeconds (${v.backoffBaseSeconds})`);
  }
  for (const [alias, model] of Object.entries(v.modelAliases)) {
    if (alias === model) problems.push(`modelAliases.${alias} must name another model than itself`);
    else if (model in v.modelAliases) {
      problems.push(`modelAliases.${alias} must name a real model, not another alias (${model})`);
    }
  }
  return problems;
}

// ---- what is stored, pushed and answered ----

/** What key-pool stores (DbManager kv, one document): the operator's overrides only, so defaults stay live. */
export interface StoredSettings {
  /** grows by one on every change; replicas ignore anything older than what they hold */
  version: number;
  updatedAt: string | null;
  overrides: Partial<SettingsValues>;
}

/** The environment's part: defaults (built-in, or from the variables) and which settings it pins. */
export interface SettingsEnv {
  defaults: SettingsValues;
  pinned: readonly SettingName[];
}

export interface SettingView<T = unknown> {
  value: T;
  /** what it is without an override: the environment variable's value, or the built-in default */
  default: T;
  /** PINNED_SETTINGS fixes it to its default; a change is refused (409) */
  pinned: boolean;
  /** an operator's value is in force (false: the default) */
  overridden: boolean;
  env: string;
}

/**
 * `GET` / `PATCH /api/settings`, `settings.get`, and the payload of `settings.changed`: every setting, each with its
 * value, default, pinned state and variable.
 */
export interface SettingsView {
  version: number;
  updatedAt: string | null;
  settings: { [K in SettingName]: SettingView<SettingsValues[K]> };
}

/** The values in force: defaults, then the valid overrides of settings that are not pinned. */
export function resolveSettings(env: SettingsEnv, stored: StoredSettings | null): SettingsView {
  const settings: Record<string, SettingView> = {};
  const overrides = stored?.overrides ?? {};
  for (const name of SETTING_NAMES) {
    const pinned = env.pinned.includes(name);
    const def = env.defaults[name];
    let value: unknown = def;
    let overridden = false;
    if (!pinned && Object.prototype.hasOwnProperty.call(overrides, name)) {
      const parsed = parseSetting(name, overrides[name]);
      // an override the rules no longer admit (a narrower range after an upgrade) gives way to the default
      if (parsed.ok) {
        value = parsed.value;
        overridden = true;
      }
    }
    settings[name] = { value, default: def, pinned, overridden, env: SETTINGS[name].env };
  }
  return {
    version: stored?.version ?? 0,
    updatedAt: stored?.updatedAt ?? null,
    settings: settings as SettingsView['settings'],
  };
}

export function settingsValues(view: SettingsView): SettingsValues {
  const out: Record<string, unknown> = {};
  for (const name of SETTING_NAMES) out[name] = view.settings[name].value;
  return out as unknown as SettingsValues;
}

export type PatchResult =
  | { ok: true; stored: StoredSettings; view: SettingsView; changed: Partial<SettingsValues> }
  | { ok: false; status: 400 | 409; messages: string[] };

/**
 * A validated patch applied to the stored overrides, all or nothing: a pinned field is a 409 naming it (and its
 * variable), a bad value or a combination that does not hold (backoff cap below its base) a 400 naming the field;
 * then nothing changes. `changed` holds the settings whose value in force changed, with their new values.
 */
export function applySettingsPatch(
  env: SettingsEnv,
  stored: StoredSettings | null,
  patchInput: unknown,
  now: Date,
): PatchResult {
  const parsed = settingsPatchSchema.safeParse(patchInput ?? {});
  if (!parsed.success) {
    return { ok: false, status: 400, messages: [...new Set(parsed.error.issues.map((i) => issueMessage(i)))] };
  }
  const patch = parsed.data as Record<string, unknown>;
  const pinned = Object.keys(patch).filter((n) => env.pinned.includes(n as SettingName));
  if (pinned.length > 0) {
    return {
      ok: false,
      status: 409,
      messages: pinned.map((n) => `${n} is pinned by ${SETTINGS[n as SettingName].env} and cannot be changed here`),
    };
  }
  const before = resolveSettings(env, stored);
  const overrides: Record<string, unknown> = { ...(stored?.overrides ?? {}) };
  for (const [name, value] of Object.entries(patch)) {
    if (value === null || value === undefined) delete overrides[name];
    else overrides[name] = value;
  }
  const next: StoredSettings = {
    version: (stored?.version ?? 0) + 1,
    updatedAt: now.toISOString(),
    overrides: overrides as Partial<SettingsValues>,
  };
  const view = resolveSettings(env, next);
  const problems = crossFieldProblems(settingsValues(view));
  if (problems.length > 0) return { ok: false, status: 400, messages: problems };
  const changed: Record<string, unknown> = {};
  for (const name of SETTING_NAMES) {
    if (JSON.stringify(before.settings[name].value) !== JSON.stringify(view.settings[name].value)) {
      changed[name] = view.settings[name].value;
    }
  }
  return { ok: true, stored: next, view, changed: changed as Partial<SettingsValues> };
}

/** A zod issue as one line that starts with the field's name. */
function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `property ${k} should not exist`).join('; ');
  const field = String(issue.path[0] ?? '');
  return field && !issue.message.startsWith(field) ? `${field}: ${issue.message}` : issue.message;
}

/** `settings.update`: the patch and the admin's caller proof (checked and removed by key-pool's guard). */
export interface SettingsUpdateRequest {
  patch: SettingsPatch;
}

/** The answer of `settings.update`: the settings in force and what changed (for the audit entry). */
export interface SettingsUpdateResult {
  view: SettingsView;
  changed: Partial<SettingsValues>;
}
