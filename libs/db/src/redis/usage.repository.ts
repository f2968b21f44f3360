import { usageToRequestLog, type UsageRecord } from '@gg/contracts';
import type { UsageRepository } from '../db-manager';
import { normalizeIso } from '../shared/cursor';
import { WINDOW_BUCKETS } from '../shared/stats-window';
import { LOG_FIELDS, encode } from './codec';
import type { RedisKeys } from './keys';
import type { ScriptedRedis } from './scripts';

/** How long a request id is remembered as applied: longer than any redelivery. */
export const APPLIED_MARKER_TTL_SECONDS = 8 * 86400;

/** The three bucket sizes of the dashboard windows, and how long each bucket is kept (window + margin). */
const BUCKETS = [
  { seconds: WINDOW_BUCKETS['1h'].bucketSeconds, ttl: 2 * 3600 },
  { seconds: WINDOW_BUCKETS['24h'].bucketSeconds, ttl: 25 * 3600 },
  { seconds: WINDOW_BUCKETS['7d'].bucketSeconds, ttl: 8 * 86400 },
];

/**
 * Records per script call. A call is atomic and blocks Redis meanwhile: 250 records keep it to a few ms, and the
 * per-key and per-bucket increments are summed over that many.
 */
const CHUNK = 250;

/** A record as APPLY_USAGE_BATCH reads it (see there). */
type ScriptRecord = [string, string, string, string, string, 0 | 1, number, number, number[], string[]];

export class RedisUsageRepository implements UsageRepository {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly keys: RedisKeys,
  ) {}

  /**
   * One atomic script call per chunk: a record counts where its applied marker is set (SET NX), so a batch applied
   * twice, or two overlapping batches at the same time, count each request once; a call either ran or did not.
   */
  async apply(records: UsageRecord[]): Promise<UsageRecord[]> {
    const k = this.keys;
    // the keys of one record are these followed by its request, user or auth key id (keys.ts joins with ':')
    const prefixes = [k.applied(''), k.log(''), k.logsOfUser(''), k.logsOfKey(''), k.authKey(''), k.logs()];
    const chunks: UsageRecord[][] = [];
    for (let i = 0; i < records.length; i += CHUNK) chunks.push(records.slice(i, i + CHUNK));
    // sent together (one connection: in order, no round trip between them); each call is atomic on its own
    const results = await Promise.all(
      chunks.map(
        (chunk) =>
          this.redis.ggApplyUsageBatch(...prefixes, APPLIED_MARKER_TTL_SECONDS, this.batchJson(chunk)) as Promise<
            number[]
          >,
      ),
    );
    return chunks.flatMap((chunk, c) => chunk.filter((_, j) => Number(results[c]?.[j]) === 1));
  }

  /** The JSON argument of APPLY_USAGE_BATCH: the distinct stats buckets of the chunk, and its records. */
  private batchJson(chunk: UsageRecord[]): string {
    const k = this.keys;
    const buckets: [string, number][] = [];
    const bucketAt = new Map<string, number>();
    const bucket = (id: string, key: () => string, ttl: number): number => {
      let i = bucketAt.get(id);
      if (i === undefined) {
        i = buckets.length;
        buckets.push([key(), ttl]);
        bucketAt.set(id, i);
      }
      return i;
    };
    const rows: ScriptRecord[] = chunk.map((r) => {
      const at = normalizeIso(r.at);
      const ms = Date.parse(at);
      const positions: number[] = [];
      for (const b of BUCKETS) {
        const start = Math.floor(ms / (b.seconds * 1000)) * b.seconds * 1000;
        positions.push(bucket(`all\u0000${b.seconds}\u0000${start}`, () => k.statsBucket(b.seconds, start), b.ttl));
      }
      for (const b of BUCKETS) {
        const start = Math.floor(ms / (b.seconds * 1000)) * b.seconds * 1000;
        positions.push(
          bucket(
            `user\u0000${r.userId}\u0000${b.seconds}\u0000${start}`,
            () => k.userStatsBucket(r.userId, b.seconds, start),
            b.ttl,
          ),
        );
      }
      return [
        r.requestId,
        String(ms),
        at,
        r.userId,
        r.authKeyId,
        r.status >= 400 ? 1 : 0,
        Math.trunc(r.promptTokens),
        Math.trunc(r.outputTokens),
        positions,
        encode(usageToRequestLog(r, at), LOG_FIELDS).set,
      ];
    });
    return JSON.stringify({ b: buckets, r: rows });
  }
}
