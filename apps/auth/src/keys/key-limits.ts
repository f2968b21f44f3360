import { DomainError } from '@gg/nest-common';
import { RATE_LIMIT_MAX } from '@gg/contracts';

/** A model id, optionally ending in `*` (a prefix: `gemini-2.5-*`). */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\*?$/;

/** The allow-list as stored: ids without `models/`, trimmed, each once; null: any model. */
export function validModels(models: string[] | null | undefined): string[] | null | undefined {
  if (models === undefined || models === null) return models;
  const ids = [...new Set(models.map((m) => m.trim().replace(/^models\//, '')))];
  if (ids.length === 0)
    throw DomainError.badRequest('allowedModels must list at least one model, or be null for any model');
  const bad = ids.find((m) => !MODEL_ID.test(m));
  if (bad !== undefined) {
    throw DomainError.badRequest(
      `allowedModels: "${bad.slice(0, 64)}" is not a model id (e.g. gemini-2.5-flash or gemini-2.5-*)`,
    );
  }
  return ids;
}

export function validRate(rate: number | null | undefined): number | null | undefined {
  if (rate === undefined || rate === null) return rate;
  if (!Number.isInteger(rate) || rate < 1 || rate > RATE_LIMIT_MAX) {
    throw DomainError.badRequest(`rateLimitPerMinute must be an integer from 1 to ${RATE_LIMIT_MAX}, or null`);
  }
  return rate;
}

/** A future ISO time, normalised; null/undefined pass through. */
export function futureTime(iso: string | null | undefined): string | null | undefined {
  if (iso === undefined || iso === null) return iso;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw DomainError.badRequest('expiresAt must be an ISO-8601 time');
  if (t <= Date.now()) throw DomainError.badRequest('expiresAt must be in the future');
  return new Date(t).toISOString();
}
