import type { AuditEntry, AuditQuery, Page } from '@gg/contracts';
import type { AuditRepository } from '../db-manager';
import { clampLimit, decodeCursor, encodeCursor, normalizeIso } from '../shared/cursor';
import { encode, type Schema } from './codec';
import type { RedisKeys } from './keys';
import { loadRows } from './rows';
import { execAll, scriptedPipeline, type ScriptedRedis } from './scripts';

export const AUDIT_FIELDS: Schema<AuditEntry> = {
  id: 'str',
  at: 'str',
  actorId: 'str',
  actorName: 'str',
  address: 'str',
  action: 'str',
  targetType: 'str',
  targetId: 'str?',
  targetName: 'str?',
  changes: 'json?',
};

const SCAN_CHUNK = 200;
const PURGE_CHUNK = 500;

/**
 * The audit log in Redis: one hash per entry and one sorted set of ids scored by time (epoch ms). Admin actions are
 * few, so the filters are checked on the rows while walking the set newest first; retention (purgeBefore) is what
 * caps its size.
 */
export class RedisAuditRepository implements AuditRepository {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly keys: RedisKeys,
  ) {}

  async insert(entry: AuditEntry): Promise<void> {
    const at = normalizeIso(entry.at);
    const { set } = encode<AuditEntry>({ ...entry, at }, AUDIT_FIELDS);
    const p = scriptedPipeline(this.redis, true);
    p.hset(this.keys.auditEntry(entry.id), ...set);
    p.zadd(this.keys.auditLog(), Date.parse(at), entry.id);
    await execAll(p);
  }

  async query(q: AuditQuery): Promise<Page<AuditEntry>> {
    const limit = clampLimit(q.limit);
    const zset = this.keys.auditLog();
    const cursor = decodeCursor(q.cursor);
    const cursorMs = cursor ? Date.parse(cursor.at) : null;
    const min = q.since !== undefined ? String(Date.parse(normalizeIso(q.since))) : '-inf';
    let anchor = cursorMs !== null ? String(cursorMs) : '+inf';
    let offset = 0;
    const found: AuditEntry[] = [];
    while (found.length <= limit) {
      const flat = await this.redis.zrevrangebyscore(zset, anchor, min, 'WITHSCORES', 'LIMIT', offset, SCAN_CHUNK);
      const entries: { id: string; score: number }[] = [];
      for (let i = 0; i < flat.length; i += 2) entries.push({ id: flat[i] as string, score: Number(flat[i + 1]) });
      if (entries.length === 0) break;
      // ZREVRANGEBYSCORE orders members of one score by member descending: the (at desc, id desc) order
      const candidates = entries.filter((e) => !(cursor && e.score === cursorMs && e.id >= cursor.id));
      const rows = await loadRows<AuditEntry>(
        this.redis,
        candidates.map((e) => this.keys.auditEntry(e.id)),
        AUDIT_FIELDS,
      );
      for (const row of rows) {
        if (matches(row, q)) found.push(row);
        if (found.length > limit) break;
      }
      const last = entries[entries.length - 1] as { score: number };
      const sameAsLast = entries.filter((e) => e.score === last.score).length;
      if (String(last.score) === anchor) offset += entries.length;
      else {
        anchor = String(last.score);
        offset = sameAsLast;
      }
      if (entries.length < SCAN_CHUNK) break;
    }
    const items = found.slice(0, limit);
    const tail = items[items.length - 1];
    return {
      items,
      nextCursor: found.length > limit && tail ? encodeCursor({ at: tail.at, id: tail.id }) : null,
    };
  }

  async purgeBefore(isoTime: string): Promise<number> {
    const max = `(${Date.parse(normalizeIso(isoTime))}`;
    let total = 0;
    for (;;) {
      const ids = await this.redis.zrangebyscore(this.keys.auditLog(), '-inf', max, 'LIMIT', 0, PURGE_CHUNK);
      if (ids.length === 0) break;
      const p = scriptedPipeline(this.redis, true);
      p.del(...ids.map((id) => this.keys.auditEntry(id)));
      p.zrem(this.keys.auditLog(), ...ids);
      const res = await execAll(p);
      total += Number(res[1]);
    }
    return total;
  }
}

function matches(row: AuditEntry, q: AuditQuery): boolean {
  if (q.actor !== undefined && row.actorId !== q.actor && row.actorName !== q.actor) return false;
  if (q.action !== undefined && row.action !== q.action) return false;
  if (q.targetId !== undefined && row.targetId !== q.targetId) return false;
  return true;
}
