/**
 * How a route names the model it runs, which decides how the key's allow-list is applied:
 * - `named`: the route knows it before the body is read (from the path); null means it cannot be determined;
 * - `body`: the body names it (checked once the body is read; a model the path names too is checked at once);
 * - `none`: the route runs no model by nature (listing models, files, operations, uploads, reading or deleting
 *   cached contents and batches): any key may call it.
 */
export type ModelSource = 'named' | 'body' | 'none';

const sources = new WeakMap<object, ModelSource>();

/** Say how this request names its model, before the pipeline starts; undeclared requests are `named`. */
export function declareModelSource(req: object, source: ModelSource): void {
  if (source !== 'named') sources.set(req, source);
}

export function modelSourceOf(req: object): ModelSource {
  return sources.get(req) ?? 'named';
}

/** `models/Gemini-2.5-Flash` → `gemini-2.5-flash`: compared without the prefix and without regard to case. */
export function normalModel(model: string): string {
  const id = model.trim().toLowerCase();
  return id.startsWith('models/') ? id.slice(7) : id;
}

/** What a model id may look like for an allow-list to match it (a tuned model, `tunedModels/x`, never does). */
const MODEL_ID = /^[a-z0-9][a-z0-9._-]*$/;

/**
 * Whether a key's allow-list lets a request for `model` through. No list: any model. A list fails closed: a
 * request whose model is unknown (null) or not a plain model id is refused. Entries are model ids, or prefixes
 * ending in `*` (`gemini-2.5-*`); both sides compare without `models/` and without regard to case (either way
 * Google reads them, no other model can match). Routes that run no model never ask (see ModelSource).
 */
export function modelAllowed(allowed: readonly string[] | null | undefined, model: string | null): boolean {
  if (!allowed) return true;
  if (model === null) return false;
  const id = normalModel(model);
  if (!MODEL_ID.test(id)) return false;
  for (const raw of allowed) {
    const entry = normalModel(raw);
    if (entry.endsWith('*') ? id.startsWith(entry.slice(0, -1)) : id === entry) return true;
  }
  return false;
}
