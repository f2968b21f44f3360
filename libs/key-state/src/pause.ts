/**
 * Pool-wide pause. When Google throttles the server rather than one key (most of the pool gets 429 within a few
 * seconds), cooling keys one after another only burns through the pool; instead the whole pool pauses and the
 * gateway answers 503 UNAVAILABLE with Retry-After until it ends.
 */
import type { OutcomeKind } from '@gg/contracts';

export interface PoolPauseOptions {
  /** 429s count together when they fall within this window (default 10 s) */
  windowMs?: number;
  /** at least this many distinct keys must have had a 429 (default 3) */
  minKeys?: number;
  /** ... and at least this share of the usable keys (default 0.5) */
  fraction?: number;
  /** pause length when none of the 429s gave a retry delay (default 30 s) */
  pauseMs?: number;
  /** shortest pause, whatever the retry delays say (default 1 s) */
  minPauseMs?: number;
  /** longest pause, whatever the retry delays say (default 2 min) */
  maxPauseMs?: number;
}

interface Hit {
  at: number;
  retryDelayMs: number;
}

export class PoolPauseDetector {
  private windowMs!: number;
  private minKeys!: number;
  private fraction!: number;
  private pauseMs!: number;
  private minPauseMs!: number;
  private maxPauseMs!: number;
  /** keyId -> its latest 429 within the window */
  private readonly hits = new Map<string, Hit>();
  private until = 0;
  /** the keys whose 429s started the current (or last) pause */
  evidence: string[] = [];

  constructor(opts: PoolPauseOptions = {}) {
    this.configure(opts);
  }

  /** Takes new thresholds (runtime settings); a pause under way keeps its end, the 429s seen so far stay counted. */
  configure(opts: PoolPauseOptions): void {
    this.windowMs = opts.windowMs ?? 10_000;
    this.minKeys = opts.minKeys ?? 3;
    this.fraction = opts.fraction ?? 0.5;
    this.pauseMs = opts.pauseMs ?? 30_000;
    this.minPauseMs = opts.minPauseMs ?? 1000;
    this.maxPauseMs = Math.max(opts.maxPauseMs ?? 120_000, this.pauseMs);
  }

  /**
   * Records one attempt's outcome. `usableKeyCount` is the number of keys that are not disabled (whether resting
   * or not). A success on a key withdraws its 429. Returns the pause end (epoch ms), 0 when not paused.
   * The pause lasts as long as the longest retry delay Google gave with those 429s (so Google's word is
   * honoured), `pauseMs` when none gave one; within [minPauseMs, maxPauseMs].
   */
  record(keyId: string, kind: OutcomeKind, now: number, usableKeyCount: number, retryDelayMs?: number): number {
    if (this.until > now) return this.until;
    if (kind === 'success') {
      this.hits.delete(keyId);
      return 0;
    }
    if (kind !== 'rate_limited') return 0;
    this.hits.set(keyId, { at: now, retryDelayMs: retryDelayMs !== undefined && retryDelayMs > 0 ? retryDelayMs : 0 });
    let longest = 0;
    for (const [id, hit] of this.hits) {
      if (hit.at <= now - this.windowMs) this.hits.delete(id);
      else if (hit.retryDelayMs > longest) longest = hit.retryDelayMs;
    }
    const count = this.hits.size;
    if (count < this.minKeys || count < this.fraction * usableKeyCount) return 0;
    const length = longest > 0 ? longest : this.pauseMs;
    this.until = now + Math.min(this.maxPauseMs, Math.max(this.minPauseMs, length));
    this.evidence = [...this.hits.keys()];
    // the pause starts afresh: after it, new evidence is needed for another one
    this.hits.clear();
    return this.until;
  }

  /** The pause end (epoch ms) while paused at `now`, else 0. */
  pausedUntil(now: number): number {
    return this.until > now ? this.until : 0;
  }

  /** Resumes a pause that outlived a restart (key-pool persists its end). */
  restore(until: number, now: number): void {
    if (until > now) this.until = Math.min(until, now + this.maxPauseMs);
  }

  reset(): void {
    this.hits.clear();
    this.until = 0;
    this.evidence = [];
  }
}
