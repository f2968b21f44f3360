import type { AppConfig } from '@gg/config';
import type { DbManager } from '@gg/db';

/**
 * A session is a refresh-token family: its id is the family id, and every access token of it carries it as `sid`.
 * Ending a session writes `family:<sid>` (revoked) in the db's kv store, kept as long as any token of the
 * session could still be presented (the longer of the refresh and access token lifetimes).
 */
export function sessionRevokedKey(sessionId: string): string {
  return `family:${sessionId}`;
}

export async function revokeSession(db: DbManager, config: AppConfig, sessionId: string): Promise<void> {
  const ttl = Math.max(config.refreshTokenTtlSeconds, config.accessTokenTtlSeconds);
  await db.kv.set(sessionRevokedKey(sessionId), JSON.stringify({ revoked: true }), ttl);
}

export async function isSessionRevoked(db: DbManager, sessionId: string): Promise<boolean> {
  const raw = await db.kv.get(sessionRevokedKey(sessionId));
  return raw !== null && (JSON.parse(raw) as { revoked?: boolean }).revoked === true;
}
