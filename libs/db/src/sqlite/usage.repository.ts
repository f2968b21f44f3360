import type { UsageRecord } from '@gg/contracts';
import type { DataSource, EntityManager } from 'typeorm';
import type { UsageRepository } from '../db-manager';
import { normalizeIso } from '../shared/cursor';
import type { Mutex } from '@gg/nest-common';

const LOG_COLUMNS = [
  'id',
  'at',
  'userId',
  'authKeyId',
  'poolKeyId',
  'method',
  'model',
  'stream',
  'status',
  'attempts',
  'latencyMs',
  'ttfbMs',
  'promptTokens',
  'outputTokens',
  'error',
];
/** rows per multi-row INSERT: 200 x 15 parameters stays far below SQLite's limit of 32,766 */
const ROWS_PER_INSERT = 200;
const ROW = `(${LOG_COLUMNS.map(() => '?').join(', ')})`;
const insertCache = new Map<number, string>();

/**
 * One statement per chunk, `RETURNING` the ids it inserted (OR IGNORE skips ids already stored). The leading
 * comment makes TypeORM run it with `all()` (it uses `run()`, which drops returned rows, for text starting with
 * "INSERT ").
 */
function insertLogs(rows: number): string {
  let sql = insertCache.get(rows);
  if (!sql) {
    sql =
      `/* usage */ INSERT OR IGNORE INTO "request_logs" (${LOG_COLUMNS.map((c) => `"${c}"`).join(', ')}) ` +
      `VALUES ${Array.from({ length: rows }, () => ROW).join(', ')} RETURNING "id"`;
    insertCache.set(rows, sql);
  }
  return sql;
}
const BUMP_KEY =
  `UPDATE "auth_keys" SET "callCount" = "callCount" + ?, "promptTokens" = "promptTokens" + ?, ` +
  `"outputTokens" = "outputTokens" + ?, ` +
  `"lastUsedAt" = CASE WHEN "lastUsedAt" IS NULL OR "lastUsedAt" < ? THEN ? ELSE "lastUsedAt" END ` +
  `WHERE "id" = ?`;

interface KeyDelta {
  calls: number;
  prompt: number;
  output: number;
  lastAt: string;
}

export class SqliteUsageRepository implements UsageRepository {
  constructor(
    private readonly ds: DataSource,
    private readonly lock: Mutex,
  ) {}

  /** One transaction: insert the new log rows, then add one summed delta per auth key. */
  async apply(records: UsageRecord[]): Promise<UsageRecord[]> {
    if (records.length === 0) return [];
    return this.lock.run(() => this.ds.transaction((em) => this.applyIn(em, records)));
  }

  private async applyIn(em: EntityManager, records: UsageRecord[]): Promise<UsageRecord[]> {
    const runner = em.queryRunner;
    if (!runner) throw new Error('no query runner in transaction');
    const inserted = new Set<string>();
    for (let i = 0; i < records.length; i += ROWS_PER_INSERT) {
      const chunk = records.slice(i, i + ROWS_PER_INSERT);
      const rows: { id: string }[] = await runner.query(
        insertLogs(chunk.length),
        chunk.flatMap((r) => logParams(r, normalizeIso(r.at))),
      );
      for (const row of rows) inserted.add(row.id);
    }
    const applied: UsageRecord[] = [];
    const deltas = new Map<string, KeyDelta>();
    for (const r of records) {
      // RETURNING names the rows this batch inserted; a request id seen before (or twice in one batch) counts once
      if (!inserted.delete(r.requestId)) continue;
      applied.push(r);
      const at = normalizeIso(r.at);
      const d = deltas.get(r.authKeyId) ?? {
        calls: 0,
        prompt: 0,
        output: 0,
        lastAt: at,
      };
      d.calls += 1;
      d.prompt += r.promptTokens;
      d.output += r.outputTokens;
      if (at > d.lastAt) d.lastAt = at;
      deltas.set(r.authKeyId, d);
    }
    for (const [keyId, d] of deltas) {
      await runner.query(BUMP_KEY, [d.calls, d.prompt, d.output, d.lastAt, d.lastAt, keyId]);
    }
    return applied;
  }
}

function logParams(r: UsageRecord, at: string): unknown[] {
  return [
    r.requestId,
    at,
    r.userId,
    r.authKeyId,
    r.poolKeyId,
    r.method,
    r.model,
    r.stream ? 1 : 0,
    r.status,
    r.attempts,
    r.latencyMs,
    r.ttfbMs,
    r.promptTokens,
    r.outputTokens,
    r.error ?? null,
  ];
}
