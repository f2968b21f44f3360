import type { AuditEntry, AuditQuery, Page } from '@gg/contracts';
import type { Mutex } from '@gg/nest-common';
import type { DataSource, Repository } from 'typeorm';
import type { AuditRepository } from '../db-manager';
import { clampLimit, decodeCursor, encodeCursor, normalizeIso } from '../shared/cursor';
import { AuditEntrySchema } from './entities';

export class SqliteAuditRepository implements AuditRepository {
  private readonly repo: Repository<AuditEntry>;

  constructor(
    ds: DataSource,
    private readonly lock: Mutex,
  ) {
    this.repo = ds.getRepository(AuditEntrySchema);
  }

  async insert(entry: AuditEntry): Promise<void> {
    const row = { ...entry, at: normalizeIso(entry.at) };
    await this.lock.run(() => this.repo.insert(row));
  }

  async query(q: AuditQuery): Promise<Page<AuditEntry>> {
    const limit = clampLimit(q.limit);
    const qb = this.repo.createQueryBuilder('a');
    if (q.actor !== undefined) qb.andWhere('(a.actorId = :actor OR a.actorName = :actor)', { actor: q.actor });
    if (q.action !== undefined) qb.andWhere('a.action = :action', { action: q.action });
    if (q.targetId !== undefined) qb.andWhere('a.targetId = :targetId', { targetId: q.targetId });
    if (q.since !== undefined) qb.andWhere('a.at >= :since', { since: normalizeIso(q.since) });
    const cursor = decodeCursor(q.cursor);
    if (cursor) {
      qb.andWhere('(a.at < :cAt OR (a.at = :cAt AND a.id < :cId))', { cAt: cursor.at, cId: cursor.id });
    }
    const rows = await qb
      .orderBy('a.at', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .take(limit + 1)
      .getMany();
    const items = rows.slice(0, limit).map(toEntry);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor({ at: last.at, id: last.id }) : null };
  }

  async purgeBefore(isoTime: string): Promise<number> {
    const before = normalizeIso(isoTime);
    const res = await this.lock.run(() =>
      this.repo.createQueryBuilder().delete().where('at < :before', { before }).execute(),
    );
    return res.affected ?? 0;
  }
}

/** The row with exactly the entry's fields (nullable columns come back as null, never undefined). */
function toEntry(e: AuditEntry): AuditEntry {
  return {
    id: e.id,
    at: e.at,
    actorId: e.actorId,
    actorName: e.actorName,
    address: e.address,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId ?? null,
    targetName: e.targetName ?? null,
    changes: e.changes ?? null,
  };
}
