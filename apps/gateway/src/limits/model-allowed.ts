/**
 * Whether a key's allow-list lets a request for `model` through. No list: any model. No model in the request
 * (listing models, files, operations): allowed, it uses no model. Entries are model ids, or prefixes ending
 * in `*` (`gemini-2.5-*`).
 */
export function modelAllowed(allowed: readonly string[] | null | undefined, model: string | null): boolean {
  if (!allowed || model === null) return true;
  const id = model.startsWith('models/') ? model.slice(7) : model;
  for (const entry of allowed) {
    if (entry.endsWith('*') ? id.startsWith(entry.slice(0, -1)) : id === entry) return true;
  }
  return false;
}
