import type { LogQuery, Page, RequestLog, Stats, StatsWindow } from '@gg/contracts';
import type { LogsRepository } from '../db-manager';
import { normalizeIso } from '../shared/cursor';
import { emptySeries, topKeys, windowLayout } from '../shared/stats-window';
import { AUTH_KEY_FIELDS, LOG_FIELDS } from './codec';
import type { RedisKeys } from './keys';
import { loadRows } from './rows';
import { pageNewestFirst } from './time-page';
import { execAll, scriptedPipeline, type ScriptedRedis } from './scripts';

const PURGE_CHUNK = 500;

export class RedisLogsRepository implements LogsRepository {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly keys: RedisKeys,
  ) {}

  /**
   * Walks the most selective sorted set (the key's, the user's or all logs) newest first from the cursor,
   * checking the other filters on the rows, until a page and one more row are found.
   */
  async query(q: LogQuery): Promise<Page<RequestLog>> {
    const zset =
      q.authKeyId !== undefined
        ? this.keys.logsOfKey(q.authKeyId)
        : q.userId !== undefined
          ? this.keys.logsOfUser(q.userId)
          : this.keys.logs();
    return pageNewestFirst<Omit<RequestLog, 'requestId'>>(
      this.redis,
      { zset, rowKey: (id) => this.keys.log(id), fields: LOG_FIELDS },
      q,
      (row) => matches(row, q),
    );
  }

  async purgeBefore(isoTime: string): Promise<number> {
    const max = `(${Date.parse(normalizeIso(isoTime))}`;
    let total = 0;
    for (;;) {
      const ids = await this.redis.zrangebyscore(this.keys.logs(), '-inf', max, 'LIMIT', 0, PURGE_CHUNK);
      if (ids.length === 0) break;
      const read = scriptedPipeline(this.redis);
      ids.forEach((id) => read.hmget(this.keys.log(id), 'userId', 'authKeyId'));
      const owners = (await execAll(read)) as (string | null)[][];
      const indexes = new Set<string>();
      for (const [userId, authKeyId] of owners) {
        if (userId) indexes.add(this.keys.logsOfUser(userId));
        if (authKeyId) indexes.add(this.keys.logsOfKey(authKeyId));
      }
      const write = scriptedPipeline(this.redis, true);
      write.del(...ids.map((id) => this.keys.log(id)));
      write.zrem(this.keys.logs(), ...ids);
      indexes.forEach((key) => write.zremrangebyscore(key, '-inf', max));
      const res = await execAll(write);
      total += Number(res[1]);
    }
    return total;
  }

  /** Sums the buckets pre-aggregated by usage.apply. */
  async stats(window: StatsWindow, now: Date, userId?: string): Promise<Stats> {
    const layout = windowLayout(window, now);
    const b = layout.bucketSeconds;
    const p = scriptedPipeline(this.redis);
    for (const start of layout.starts) {
      p.hgetall(userId !== undefined ? this.keys.userStatsBucket(userId, b, start) : this.keys.statsBucket(b, start));
    }
    const buckets = (await execAll(p)) as Record<string, string>[];
    const series = emptySeries(layout);
    const counts = new Map<string, number>();
    buckets.forEach((h, i) => {
      const point = series[i];
      if (!point) return;
      point.requests = Number(h['req'] ?? 0);
      point.errors = Number(h['err'] ?? 0);
      point.promptTokens = Number(h['pt'] ?? 0);
      point.outputTokens = Number(h['ot'] ?? 0);
      for (const [field, v] of Object.entries(h)) {
        if (field.startsWith('k:')) counts.set(field.slice(2), (counts.get(field.slice(2)) ?? 0) + Number(v));
      }
    });
    const top = topKeys(counts, new Map());
    const keyRows = await loadRows(
      this.redis,
      top.map((t) => this.keys.authKey(t.authKeyId)),
      AUTH_KEY_FIELDS,
    );
    const names = new Map(keyRows.map((k) => [k.id, k.name]));
    return {
      window,
      bucketSeconds: b,
      series,
      topKeys: top.map((t) => ({ ...t, name: names.get(t.authKeyId) ?? '' })),
    };
  }
}

function matches(row: RequestLog, q: LogQuery): boolean {
  if (q.userId !== undefined && row.userId !== q.userId) return false;
  if (q.authKeyId !== undefined && row.authKeyId !== q.authKeyId) return false;
  if (q.status !== undefined && row.status !== q.status) return false;
  if (q.model !== undefined && row.model !== q.model) return false;
  return true;
}
