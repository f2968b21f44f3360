/** The rules of the runtime settings (`../settings.ts`), checked alike by the admin, key-pool and the SPA. */
import { z } from 'zod';
import {
  bareModelId,
  MAX_CATALOGUE_ENTRIES,
  MODEL_ID_PATTERN,
  SETTING_NAMES,
  SETTINGS,
  type SettingName,
  type SettingsValues,
} from '../settings';

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
