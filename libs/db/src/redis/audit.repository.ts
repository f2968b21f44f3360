import type { AuditEntry, AuditQuery, Page } from '@gg/contracts';
import type { AuditRepository } from '../db-manager';
import { normalizeIso } from '../shared/cursor';
import { encode, type Schema } from './codec';
import type { RedisKeys } from './keys';
import { pageNewestFirst } from './time-page';
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
    return pageNewestFirst<AuditEntry>(
      this.redis,
      { zset: this.keys.auditLog(), rowKey: (id) => this.keys.auditEntry(id), fields: AUDIT_FIELDS },
      q,
      (row) => matches(row, q),
    );
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
