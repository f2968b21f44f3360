/**
 * A model overloaded upstream. When several keys answer 503 UNAVAILABLE ("The model is overloaded") for the same
 * model, for requests of several users, within a few seconds, it is the model's state, not the keys': the model
 * rests briefly on every key (the gateway answers 503 with Retry-After for it; other models are still served) and
 * the keys are not penalised. One user alone never makes a model rest.
 */
import type { AttemptOutcome } from '@gg/contracts';
import { normalizeModel } from './model';

export interface ModelRestOptions {
  /** overloaded answers count together within this window (default 10 s) */
  windowMs?: number;
  /** from at least this many distinct pool keys (default 2) */
  minKeys?: number;
  /** for requests of at least this many distinct users (default 2) */
  minUsers?: number;
  /** how long the model rests (default 10 s) */
  restMs?: number;
}

interface Hit {
  keyId: string;
  user: string;
  at: number;
}

/** hits kept per model, whatever the traffic */
const MAX_HITS = 64;

export class ModelRestDetector {
  private readonly windowMs: number;
  private readonly minKeys: number;
  private readonly minUsers: number;
  private readonly restMs: number;
  private readonly hits = new Map<string, Hit[]>();
  private readonly until = new Map<string, number>();

  constructor(opts: ModelRestOptions = {}) {
    this.windowMs = opts.windowMs ?? 10_000;
    this.minKeys = opts.minKeys ?? 2;
    this.minUsers = opts.minUsers ?? 2;
    this.restMs = opts.restMs ?? 10_000;
  }

  /**
   * Records one attempt's outcome; returns the end of a rest it started (epoch ms), else 0. A success for the model
   * withdraws the evidence; only overloaded transient failures not confirmed as the key's count.
   */
  record(outcome: AttemptOutcome, now: number): number {
    const model = normalizeModel(outcome.model);
    if (!model) return 0;
    if (outcome.kind === 'success') {
      this.hits.delete(model);
      return 0;
    }
    if (outcome.kind !== 'transient' || !outcome.overloaded || outcome.blame === 'key') return 0;
    if (this.restingUntil(model, now) > 0) return 0;
    const list = (this.hits.get(model) ?? []).filter((h) => h.at > now - this.windowMs);
    list.push({ keyId: outcome.keyId, user: outcome.user ?? '', at: now });
    if (list.length > MAX_HITS) list.splice(0, list.length - MAX_HITS);
    const keys = new Set(list.map((h) => h.keyId)).size;
    const users = new Set(list.map((h) => h.user)).size;
    if (keys < this.minKeys || users < this.minUsers) {
      this.hits.set(model, list);
      return 0;
    }
    this.hits.delete(model);
    const until = now + this.restMs;
    this.until.set(model, until);
    return until;
  }

  /** When the model's rest ends (epoch ms), 0 when it doesn't rest. */
  restingUntil(model: string, now: number): number {
    const until = this.until.get(model) ?? 0;
    return until > now ? until : 0;
  }

  /** The models resting at `now` -> their end (expired ones are forgotten). */
  active(now: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [model, until] of this.until) {
      if (until > now) out[model] = until;
      else this.until.delete(model);
    }
    return out;
  }

  reset(): void {
    this.hits.clear();
    this.until.clear();
  }
}
