import type { LogQuery, Page, RequestLog, Stats, StatsWindow } from '@gg/contracts';
import type { DataSource, Repository } from 'typeorm';
import type { LogsRepository } from '../db-manager';
import { clampLimit, decodeCursor, encodeCursor, normalizeIso } from '../shared/cursor';
import { emptySeries, topKeys, windowLayout } from '../shared/stats-window';
import { RequestLogSchema, type RequestLogEntity } from './entities';
import type { Mutex } from '@gg/nest-common';

interface BucketRow {
  bucket: number;
  requests: number;
  errors: number;
  promptTokens: number;
  outputTokens: number;
}

export class SqliteLogsRepository implements LogsRepository {
  private readonly repo: Repository<RequestLogEntity>;

  constructor(
    private readonly ds: DataSource,
    private readonly lock: Mutex,
  ) {
    this.repo = ds.getRepository(RequestLogSchema);
  }

  async query(q: LogQuery): Promise<Page<RequestLog>> {
    const limit = clampLimit(q.limit);
    const qb = this.repo.createQueryBuilder('l');
    if (q.userId !== undefined) qb.andWhere('l.userId = :userId', { userId: q.userId });
    if (q.authKeyId !== undefined) qb.andWhere('l.authKeyId = :authKeyId', { authKeyId: q.authKeyId });
    if (q.status !== undefined) qb.andWhere('l.status = :status', { status: q.status });
    if (q.model !== undefined) qb.andWhere('l.model = :model', { model: q.model });
    if (q.since !== undefined) qb.andWhere('l.at >= :since', { since: normalizeIso(q.since) });
    const cursor = decodeCursor(q.cursor);
    if (cursor) {
      qb.andWhere('(l.at < :cAt OR (l.at = :cAt AND l.id < :cId))', {
        cAt: cursor.at,
        cId: cursor.id,
      });
    }
    const rows = await qb
      .orderBy('l.at', 'DESC')
      .addOrderBy('l.id', 'DESC')
      .take(limit + 1)
      .getMany();
    const items = rows.slice(0, limit).map(toRequestLog);
    const last = items[items.length - 1];
    const nextCursor = rows.length > limit && last ? encodeCursor({ at: last.at, id: last.id }) : null;
    return { items, nextCursor };
  }

  async purgeBefore(isoTime: string): Promise<number> {
    const before = normalizeIso(isoTime);
    const res = await this.lock.run(() =>
      this.repo.createQueryBuilder().delete().where('at < :before', { before }).execute(),
    );
    return res.affected ?? 0;
  }

  async stats(window: StatsWindow, now: Date, userId?: string): Promise<Stats> {
    const layout = windowLayout(window, now);
    const fromIso = new Date(layout.fromMs).toISOString();
    const toIso = new Date(layout.toMs).toISOString();
    const userCond = userId !== undefined ? ' AND l."userId" = ?' : '';
    const params: unknown[] = [fromIso, toIso, ...(userId !== undefined ? [userId] : [])];
    const buckets: BucketRow[] = await this.ds.query(
      `SELECT (CAST(strftime('%s', l."at") AS INTEGER) - CAST(? AS INTEGER)) / CAST(? AS INTEGER) AS bucket, COUNT(*) AS requests,
        SUM(CASE WHEN l."status" >= 400 THEN 1 ELSE 0 END) AS errors,
        SUM(l."promptTokens") AS promptTokens, SUM(l."outputTokens") AS outputTokens
       FROM "request_logs" l WHERE l."at" >= ? AND l."at" < ?${userCond} GROUP BY bucket`,
      [layout.fromMs / 1000, layout.bucketSeconds, ...params],
    );
    const series = emptySeries(layout);
    for (const b of buckets) {
      const point = series[Number(b.bucket)];
      if (!point) continue;
      point.requests = Number(b.requests);
      point.errors = Number(b.errors);
      point.promptTokens = Number(b.promptTokens);
      point.outputTokens = Number(b.outputTokens);
    }
    const perKey: {
      authKeyId: string;
      requests: number;
      name: string | null;
    }[] = await this.ds.query(
      `SELECT l."authKeyId" AS authKeyId, COUNT(*) AS requests, k."name" AS name
       FROM "request_logs" l LEFT JOIN "auth_keys" k ON k."id" = l."authKeyId"
       WHERE l."at" >= ? AND l."at" < ?${userCond} GROUP BY l."authKeyId"`,
      params,
    );
    const counts = new Map(perKey.map((r) => [r.authKeyId, Number(r.requests)]));
    const names = new Map(perKey.map((r) => [r.authKeyId, r.name ?? '']));
    return {
      window,
      bucketSeconds: layout.bucketSeconds,
      series,
      topKeys: topKeys(counts, names),
    };
  }
}

function toRequestLog(e: RequestLogEntity): RequestLog {
  const { error, ...rest } = e;
  return error === null || error === undefined ? rest : { ...rest, error };
}
