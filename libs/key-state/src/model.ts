/** Model names as the pool keys its per-model cooldowns. */

/** The pseudo-model of a cooldown that covers every model (a 429 on a request that names no model). */
export const ALL_MODELS = '*';

/** `models/gemini-2.5-flash` and `gemini-2.5-flash` are the same model; cooldowns use the bare name. */
export function normalizeModel(model: string | null | undefined): string | null {
  if (!model) return null;
  return model.startsWith('models/') ? model.slice(7) : model;
}
