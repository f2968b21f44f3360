/** The runtime settings as key-pool stores them, pushes them and answers them, and a change applied to them. */
import type { z } from 'zod';
import { crossFieldProblems, parseSetting, settingsPatchSchema, type SettingsPatch } from './schemas/settings';
import { SETTING_NAMES, SETTINGS, type SettingName, type SettingsValues } from './settings';

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

/**
 * The values of a view. With `local` (the environment of the app applying a view another app sent), what that
 * environment pins holds at its own value: PINNED_SETTINGS on one replica fixes the setting there, whatever is pushed.
 */
export function settingsValues(view: SettingsView, local?: SettingsEnv): SettingsValues {
  const out: Record<string, unknown> = {};
  for (const name of SETTING_NAMES) out[name] = view.settings[name].value;
  for (const name of local?.pinned ?? []) out[name] = local?.defaults[name];
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
