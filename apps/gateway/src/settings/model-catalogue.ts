import type { SettingsValues } from '@gg/contracts';

type Json = Record<string, unknown>;

/**
 * The model catalogue of the runtime settings, as the data plane uses it: an alias resolves to its real model
 * (allow-lists, the request log, key affinity and the upstream all see the real one), a hidden model is left out of
 * lists and refused by name, and an OpenAI request with no model gets the default. Built once per change of the
 * settings; every method is a map lookup. Names are compared without regard to case, as the allow-lists compare
 * them: `Gemini-2.5-Pro` is no way around a hidden `gemini-2.5-pro`.
 */
export class ModelCatalogue {
  /** false: nothing to do (no hidden model, no alias): lists pass through untouched */
  readonly active: boolean;
  /** the model of an OpenAI request that names none; null: none (the request is refused as before) */
  readonly defaultModel: string | null;
  private readonly hidden: ReadonlySet<string>;
  private readonly aliases: ReadonlyMap<string, string>;

  constructor(v: Pick<SettingsValues, 'hiddenModels' | 'modelAliases' | 'defaultModel'>) {
    this.hidden = new Set(v.hiddenModels.map((m) => m.toLowerCase()));
    this.aliases = new Map(Object.entries(v.modelAliases).map(([alias, model]) => [alias.toLowerCase(), model]));
    this.defaultModel = v.defaultModel || null;
    this.active = this.hidden.size > 0 || this.aliases.size > 0;
  }

  /** The real model of a name asked for (bare id): its alias's target, or itself. */
  resolve(name: string): string {
    return this.aliases.get(name.toLowerCase()) ?? name;
  }

  /** A name that is not offered: hidden, and not an alias (an alias is an offer, whatever it points at). */
  refuses(name: string): boolean {
    const key = name.toLowerCase();
    return this.hidden.has(key) && !this.aliases.has(key);
  }

  /**
   * A Google `models.list` page as the catalogue shows it: hidden models left out, and on the last page (no
   * `nextPageToken`) one entry per alias, a copy of its model's entry under the alias's name when that entry is on
   * the page, else a short one naming it.
   */
  listPage(page: Json): Json {
    const models = Array.isArray(page['models']) ? (page['models'] as Json[]) : [];
    const kept = models.filter((m) => !this.hidden.has(bare(m['name']).toLowerCase()));
    if (!page['nextPageToken']) {
      const byId = new Map(models.map((m) => [bare(m['name']).toLowerCase(), m]));
      for (const [alias, model] of this.aliases) {
        if (this.hidden.has(alias)) continue;
        const real = byId.get(model.toLowerCase());
        kept.push(
          real
            ? { ...real, name: `models/${alias}`, displayName: alias }
            : { name: `models/${alias}`, displayName: alias, description: `Alias of models/${model}` },
        );
      }
    }
    return { ...page, models: kept };
  }
}

function bare(name: unknown): string {
  return typeof name === 'string' ? name.replace(/^models\//, '') : '';
}

/**
 * The path with its model segment (`/{v}/models/{model}[:method]`, after an optional `/upload`) naming `model`
 * instead: the upstream gets the real model of an alias. Model ids need no escaping (MODEL_ID_PATTERN).
 */
export function withModel(path: string, model: string, method: string | null): string {
  const segs = path.split('/');
  const at = segs[1] === 'upload' || segs[1] === 'download' ? 4 : 3;
  if (segs.length <= at) return path;
  segs[at] = method === null ? model : `${model}:${method}`;
  return segs.join('/');
}
