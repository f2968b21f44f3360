import { UniqueViolationError } from '../errors';
import { decode, type Encoded, type Schema } from './codec';
import { execAll, scriptedPipeline, type SaveRowResult, type ScriptedRedis } from './scripts';

/** Where one kind of row lives: its hash, the unique index hash on one field, and the set of its ids. */
export interface RowPlace {
  row: string;
  index: string;
  members: string;
  uniqueField: string;
}

export function saveRowArgs(place: RowPlace, mode: 'create' | 'update', id: string, e: Encoded): string[] {
  return [
    place.row,
    place.index,
    place.members,
    mode,
    place.uniqueField,
    id,
    String(e.set.length / 2),
    ...e.set,
    ...e.del,
  ];
}

/** Create or update one row; throws UniqueViolationError on a taken unique value (or id, on create). */
export async function saveRow(
  redis: ScriptedRedis,
  place: RowPlace,
  mode: 'create' | 'update',
  id: string,
  e: Encoded,
): Promise<SaveRowResult> {
  const [k1, k2, k3, ...argv] = saveRowArgs(place, mode, id, e);
  const res = (await redis.ggSaveRow(k1, k2, k3, ...argv)) as SaveRowResult;
  if (res === 'CONFLICT') throw new UniqueViolationError(place.uniqueField);
  if (res === 'EXISTS') throw new UniqueViolationError('id');
  return res;
}

export async function deleteRow(redis: ScriptedRedis, place: RowPlace, id: string): Promise<boolean> {
  return Number(await redis.ggDeleteRow(place.row, place.index, place.members, place.uniqueField, id)) > 0;
}

/** HGETALL many rows in one round trip, dropping the missing ones. */
export async function loadRows<T>(redis: ScriptedRedis, keys: string[], schema: Schema<T>): Promise<T[]> {
  if (keys.length === 0) return [];
  const p = scriptedPipeline(redis);
  keys.forEach((k) => p.hgetall(k));
  const hashes = (await execAll(p)) as Record<string, string>[];
  return hashes.map((h) => decode<T>(h, schema)).filter((r): r is T => r !== null);
}

export async function loadRow<T>(redis: ScriptedRedis, key: string, schema: Schema<T>): Promise<T | null> {
  return decode<T>(await redis.hgetall(key), schema);
}

export function byCreatedAt<T extends { createdAt: string; id: string }>(a: T, b: T): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
