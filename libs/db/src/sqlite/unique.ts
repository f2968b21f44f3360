import { QueryFailedError } from 'typeorm';
import { UniqueViolationError } from '../errors';

/** Map SQLite's "UNIQUE constraint failed: table.column" to UniqueViolationError; rethrow anything else. */
export function rethrowUnique(e: unknown): never {
  if (e instanceof QueryFailedError) {
    const m = /UNIQUE constraint failed: \w+\.(\w+)/.exec(String((e as Error).message));
    if (m) throw new UniqueViolationError(m[1]);
  }
  throw e;
}

/** Drop undefined values so an update only touches the fields given. */
export function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}
