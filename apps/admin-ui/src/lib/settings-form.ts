/**
 * The Settings page's form, as plain functions: the text of each input from the settings in force, the patch of
 * what an operator changed, and each problem (the shared schema's here, the API's after a save) put on its field.
 */
import {
  SETTING_NAMES,
  SETTINGS,
  settingsPatchSchema,
  type SettingName,
  type SettingsPatch,
  type SettingsView,
} from '$contracts';

export interface AliasRow {
  alias: string;
  model: string;
}

/** What the inputs hold: scalar settings as text, hidden models one per line, aliases as rows. */
export interface SettingsDraft {
  scalars: Partial<Record<SettingName, string>>;
  hidden: string;
  aliases: AliasRow[];
}

export const SCALAR_NAMES = SETTING_NAMES.filter((n) => !['hiddenModels', 'modelAliases'].includes(n));
/** the tuning settings, shown in the first card; the catalogue's in the second */
export const TUNING_NAMES = SCALAR_NAMES.filter((n) => n !== 'defaultModel');

export function draftOf(view: SettingsView): SettingsDraft {
  const scalars: Partial<Record<SettingName, string>> = {};
  for (const name of SCALAR_NAMES) scalars[name] = String(view.settings[name].value);
  return {
    scalars,
    hidden: view.settings.hiddenModels.value.join('\n'),
    aliases: Object.entries(view.settings.modelAliases.value).map(([alias, model]) => ({ alias, model })),
  };
}

function hiddenList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function aliasRecord(rows: AliasRow[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) if (r.alias.trim() || r.model.trim()) out[r.alias.trim()] = r.model.trim();
  return out;
}

/** Only what differs from the settings in force (pinned settings are never sent). */
export function patchOf(view: SettingsView, draft: SettingsDraft): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const name of SCALAR_NAMES) {
    const s = view.settings[name];
    const text = (draft.scalars[name] ?? '').trim();
    if (s.pinned || text === String(s.value)) continue;
    patch[name] = SETTINGS[name].kind === 'int' && /^-?\d+$/.test(text) ? Number(text) : text;
  }
  const hidden = hiddenList(draft.hidden);
  if (
    !view.settings.hiddenModels.pinned &&
    JSON.stringify(hidden) !== JSON.stringify(view.settings.hiddenModels.value)
  ) {
    patch['hiddenModels'] = hidden;
  }
  const aliases = aliasRecord(draft.aliases);
  if (
    !view.settings.modelAliases.pinned &&
    JSON.stringify(aliases) !== JSON.stringify(view.settings.modelAliases.value)
  ) {
    patch['modelAliases'] = aliases;
  }
  return patch;
}

export type FieldErrors = Partial<Record<SettingName | 'form', string>>;

/** The shared schema's verdict on a patch, per field; null when it passes. */
export function checkPatch(
  patch: Record<string, unknown>,
): { errors: FieldErrors; patch: SettingsPatch } | FieldErrors {
  const r = settingsPatchSchema.safeParse(patch);
  if (r.success) return { errors: {}, patch: r.data };
  const errors: FieldErrors = {};
  for (const issue of r.error.issues) {
    const field = (SETTING_NAMES as string[]).includes(String(issue.path[0])) ? (issue.path[0] as SettingName) : 'form';
    errors[field] ??= issue.message;
  }
  return errors;
}

/** An API message (`a must …; b is pinned …`) split onto the fields each part names. */
export function apiErrors(message: string): FieldErrors {
  const errors: FieldErrors = {};
  for (const part of message.split('; ')) {
    const field = SETTING_NAMES.find((n) => part.startsWith(n)) ?? 'form';
    errors[field] = errors[field] ? `${errors[field]}; ${part}` : part;
  }
  return errors;
}

/** `300 s`, `7 days`, `50 %`, a list, `fast=gemini-2.5-flash`, or `none`. */
export function withUnit(name: SettingName, value: unknown): string {
  const unit = SETTINGS[name].unit;
  let text: string;
  if (Array.isArray(value)) text = value.join(', ');
  else if (value !== null && typeof value === 'object') {
    text = Object.entries(value as Record<string, string>)
      .map(([alias, model]) => `${alias}=${model}`)
      .join(', ');
  } else text = String(value);
  if (text === '') return 'none';
  return unit ? `${text} ${unit}` : text;
}
