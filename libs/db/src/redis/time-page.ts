import type { Page } from '@gg/contracts';
import { clampLimit, decodeCursor, encodeCursor, normalizeIso } from '../shared/cursor';
import type { Schema } from './codec';
import { loadRows } from './rows';
import type { ScriptedRedis } from './scripts';

const SCAN_CHUNK = 200;

/** Where rows indexed by time live: the sorted set (score: epoch ms of `at`) and each row's hash. */
export interface TimeIndex<T> {
  zset: string;
  rowKey: (id: string) => string;
  fields: Schema<T>;
}

/**
 * One page of rows newest first (`at` desc, then `id` desc), from the opaque cursor on and back to `since`: walks the
 * sorted set in chunks, keeps the rows `keep` accepts, until a page and one more row are found (the more tells
 * whether a next page exists). Members of one score come in member-descending order from ZREVRANGEBYSCORE, which is
 * the id order of the cursor; a run of equal scores longer than a chunk is walked with an offset.
 */
export async function pageNewestFirst<T extends { at: string; id: string }>(
  redis: ScriptedRedis,
  index: TimeIndex<T>,
  q: { limit?: number; cursor?: string; since?: string },
  keep: (row: T) => boolean,
): Promise<Page<T>> {
  const limit = clampLimit(q.limit);
  const cursor = decodeCursor(q.cursor);
  const cursorMs = cursor ? Date.parse(cursor.at) : null;
  const min = q.since !== undefined ? String(Date.parse(normalizeIso(q.since))) : '-inf';
  let anchor = cursorMs !== null ? String(cursorMs) : '+inf';
  let offset = 0;
  const found: T[] = [];
  while (found.length <= limit) {
    const flat = await redis.zrevrangebyscore(index.zset, anchor, min, 'WITHSCORES', 'LIMIT', offset, SCAN_CHUNK);
    const entries: { id: string; score: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) entries.push({ id: flat[i] as string, score: Number(flat[i + 1]) });
    if (entries.length === 0) break;
    const candidates = entries.filter((e) => !(cursor && e.score === cursorMs && e.id >= cursor.id));
    const rows = await loadRows<T>(
      redis,
      candidates.map((e) => index.rowKey(e.id)),
      index.fields,
    );
    for (const row of rows) {
      if (keep(row)) found.push(row);
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
