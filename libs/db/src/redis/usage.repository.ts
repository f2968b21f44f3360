import { usageToRequestLog, type UsageRecord } from '@gg/contracts';
import type { UsageRepository } from '../db-manager';
import { normalizeIso } from '../shared/cursor';
import { WINDOW_BUCKETS } from '../shared/stats-window';
import { LOG_FIELDS, encode } from './codec';
import type { RedisKeys } from './keys';
import { execAll, scriptedPipeline, type ScriptedRedis } from './scripts';

/** How long a request id is remembered as applied: longer than any redelivery. */
export const APPLIED_MARKER_TTL_SECONDS = 8 * 86400;

/** The three bucket sizes of the dashboard windows, and how long each bucket is kept (window + margin). */
const BUCKETS = [
  { seconds: WINDOW_BUCKETS['1h'].bucketSeconds, ttl: 2 * 3600 },
  { seconds: WINDOW_BUCKETS['24h'].bucketSeconds, ttl: 25 * 3600 },
  { seconds: WINDOW_BUCKETS['7d'].bucketSeconds, ttl: 8 * 86400 },
];

/** Sent to Redis in pipelines of this many records (each record is applied atomically by one script). */
const CHUNK = 500;

export class RedisUsageRepository implements UsageRepository {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly keys: RedisKeys,
  ) {}

  async apply(records: UsageRecord[]): Promise<UsageRecord[]> {
    const applied: UsageRecord[] = [];
    for (let i = 0; i < records.length; i += CHUNK) {
      const chunk = records.slice(i, i + CHUNK);
      const p = scriptedPipeline(this.redis);
      for (const r of chunk) p.ggApplyUsage(...this.args(r));
      const results = await execAll(p);
      chunk.forEach((r, j) => {
        if (Number(results[j]) === 1) applied.push(r);
      });
    }
    return applied;
  }

  private args(r: UsageRecord): (string | number)[] {
    const at = normalizeIso(r.at);
    const ms = Date.parse(at);
    const k = this.keys;
    const starts = BUCKETS.map((b) => Math.floor(ms / (b.seconds * 1000)) * b.seconds * 1000);
    const row = encode(usageToRequestLog(r, at), LOG_FIELDS);
    return [
      k.applied(r.requestId),
      k.log(r.requestId),
      k.logs(),
      k.logsOfUser(r.userId),
      k.logsOfKey(r.authKeyId),
      k.authKey(r.authKeyId),
      ...BUCKETS.map((b, i) => k.statsBucket(b.seconds, starts[i] as number)),
      ...BUCKETS.map((b, i) => k.userStatsBucket(r.userId, b.seconds, starts[i] as number)),
      r.requestId,
      ms,
      APPLIED_MARKER_TTL_SECONDS,
      at,
      r.authKeyId,
      r.status >= 400 ? 1 : 0,
      Math.trunc(r.promptTokens),
      Math.trunc(r.outputTokens),
      ...BUCKETS.map((b) => b.ttl),
      ...row.set,
    ];
  }
}
