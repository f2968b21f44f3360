import type { MigrationInterface } from 'typeorm';
import { InitialSchema1764460800000 } from './1764460800000-initial-schema';
import { AuditLog1795996800000 } from './1795996800000-audit-log';

type MigrationClass = new () => MigrationInterface;

/** The first release's schema: what a database without a migrations table but with these tables is adopted as. */
export const INITIAL_MIGRATION = InitialSchema1764460800000;
/** A table every database of the first release has. */
export const INITIAL_MARKER_TABLE = 'users';

/**
 * The migrations of one service's SQLite file, oldest first. Every file has the same tables today (entities.ts), so
 * the list is the same for auth and key-pool; a later migration that concerns one service's tables only may be
 * listed for that service only. A new migration: a class `<Name><timestamp>` in this folder, appended here.
 */
export function sqliteMigrations(service: string): MigrationClass[] {
  void service;
  return [InitialSchema1764460800000, AuditLog1795996800000];
}
