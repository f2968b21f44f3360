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
/**
 * Every row of a batch in one statement with a single parameter: the rows as a JSON array of arrays, unpacked by
 * SQLite (`json_each`, `->>` of each column). Binding 15 parameters per row cost more main-thread CPU than SQLite's
 * own insert did, and a multi-row VALUES statement is parsed anew for each batch size. `RETURNING` names the ids
 * it inserted (OR IGNORE skips ids already stored, and the second of an id twice in the batch). The leading
 * comment makes TypeORM run it with `all()` (it uses `run()`, which drops returned rows, for text starting with
 * "INSERT ").
 */
const INSERT_LOGS =
  `/* usage */ INSERT OR IGNORE INTO "request_logs" (${LOG_COLUMNS.map((c) => `"${c}"`).join(', ')}) ` +
  `SELECT ${LOG_COLUMNS.map((_, i) => `value ->> ${i}`).join(', ')} FROM json_each(?) RETURNING "id"`;
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
    const at = records.map((r) => normalizeIso(r.at));
    const rows: { id: string }[] = await runner.query(INSERT_LOGS, [
      JSON.stringify(records.map((r, i) => logRow(r, at[i] as string))),
    ]);
    const inserted = new Set(rows.map((row) => row.id));
    const applied: UsageRecord[] = [];
    const deltas = new Map<string, KeyDelta>();
    records.forEach((r, i) => {
      // RETURNING names the rows this batch inserted; a request id seen before (or twice in one batch) counts once
      if (!inserted.delete(r.requestId)) return;
      applied.push(r);
      const when = at[i] as string;
      const d = deltas.get(r.authKeyId) ?? { calls: 0, prompt: 0, output: 0, lastAt: when };
      d.calls += 1;
      d.prompt += r.promptTokens;
      d.output += r.outputTokens;
      if (when > d.lastAt) d.lastAt = when;
      deltas.set(r.authKeyId, d);
    });
    for (const [keyId, d] of deltas) {
      await runner.query(BUMP_KEY, [d.calls, d.prompt, d.output, d.lastAt, d.lastAt, keyId]);
    }
    return applied;
  }
}

/** One row of INSERT_LOGS, in LOG_COLUMNS order (JSON: booleans as 0/1, absent error as null). */
function logRow(r: UsageRecord, at: string): unknown[] {
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
