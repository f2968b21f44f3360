import {
  bareModelId,
  crossFieldProblems,
  parseSetting,
  SETTING_NAMES,
  SETTINGS,
  builtInSettings,
  type SettingName,
  type SettingsEnv,
} from '@gg/contracts';

type Env = Record<string, string | undefined>;

/** Thrown as ConfigError by loadConfig: the variable and its problem. */
export interface SettingsEnvProblem {
  variable: string;
  problem: string;
}

/** `a=b, c=d` (commas or newlines) → `{a: 'b', c: 'd'}`; null when an entry has no `=`. */
function parseAliases(raw: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const entry of raw.split(/[\n,]+/)) {
    const t = entry.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    if (eq <= 0) return null;
    out[bareModelId(t.slice(0, eq))] = bareModelId(t.slice(eq + 1));
  }
  return out;
}

/** One variable's value in the setting's own type, before the schema checks it. */
function fromEnv(name: SettingName, raw: string): unknown {
  switch (SETTINGS[name].kind) {
    case 'int':
      return /^-?\d+$/.test(raw) ? Number(raw) : raw;
    case 'models':
      return raw.split(/[\s,]+/).filter((s) => s.length > 0);
    case 'aliases':
      return parseAliases(raw);
    default:
      return raw;
  }
}

/**
 * The environment's part of the runtime settings: each setting's variable gives its default (built in when unset),
 * and `PINNED_SETTINGS` (variable names, comma separated, or `*` for all) fixes those settings to it, so that no
 * operator can change them at runtime. Throws the first problem, naming the variable.
 */
export function settingsEnvFrom(env: Env): SettingsEnv | SettingsEnvProblem {
  const defaults = builtInSettings() as unknown as Record<string, unknown>;
  for (const name of SETTING_NAMES) {
    const variable = SETTINGS[name].env;
    const raw = env[variable]?.trim();
    if (raw === undefined || raw === '') continue;
    const parsed = parseSetting(name, fromEnv(name, raw));
    if (!parsed.ok) return { variable, problem: parsed.message.replace(name, 'the value') };
    defaults[name] = parsed.value;
  }
  const typed = defaults as unknown as SettingsEnv['defaults'];
  for (const problem of crossFieldProblems(typed)) {
    const name = SETTING_NAMES.find((n) => problem.startsWith(n)) ?? 'maxAttempts';
    return { variable: SETTINGS[name].env, problem };
  }
  const pinned: SettingName[] = [];
  const byVariable = new Map(SETTING_NAMES.map((n) => [SETTINGS[n].env, n]));
  for (const entry of (env['PINNED_SETTINGS'] ?? '').split(/[\s,]+/).filter((s) => s.length > 0)) {
    if (entry === '*') {
      pinned.push(...SETTING_NAMES);
      continue;
    }
    const name = byVariable.get(entry) ?? (SETTING_NAMES as string[]).find((n) => n === entry);
    if (!name) {
      return {
        variable: 'PINNED_SETTINGS',
        problem: `"${entry.slice(0, 64)}" is not a runtime setting; use the variable names, e.g. MAX_ATTEMPTS`,
      };
    }
    pinned.push(name as SettingName);
  }
  return { defaults: typed, pinned: [...new Set(pinned)] };
}
