import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { MigrationReport } from '../db-manager';
import type { RedisKeys } from './keys';

/**
 * The version of a service's Redis layout (the keys of keys.ts and what they hold), kept in
 * `${namespace}:db:${service}:schema-version`. Version 1 is the layout of the first release; each later version
 * has one upgrade step. At open, a DbManager brings its keys to the current version under a lock (SET NX PX), so
 * two processes starting together do not both upgrade; the other waits until the version is current.
 */
export interface RedisUpgradeStep {
  /** the version this step produces: 2, 3, … in order */
  version: number;
  description: string;
  /** must be idempotent: a step interrupted by a crash runs again in full at the next start */
  run(redis: Redis, keys: RedisKeys): Promise<void>;
}

/** The upgrade steps, in order. Empty: version 1 (the first release's layout) is today's layout. */
export const REDIS_UPGRADE_STEPS: readonly RedisUpgradeStep[] = [];

const LOCK_TTL_MS = 30_000;
const WAIT_MS = 60_000;
const POLL_MS = 100;

/** Delete the lock only if it is still ours. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export class RedisLayoutError extends Error {}

export function currentLayoutVersion(steps: readonly RedisUpgradeStep[] = REDIS_UPGRADE_STEPS): number {
  return 1 + steps.length;
}

async function readVersion(redis: Redis, keys: RedisKeys): Promise<number | null> {
  const raw = await redis.get(keys.schemaVersion());
  if (raw === null) return null;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1)
    throw new RedisLayoutError(`${keys.schemaVersion()} holds "${raw}", not a layout version`);
  return v;
}

/** Whether any data key of the service exists (the layout version and its lock aside). */
async function hasData(redis: Redis, keys: RedisKeys): Promise<boolean> {
  const own = new Set([keys.schemaVersion(), keys.schemaLock()]);
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${keys.prefix}*`, 'COUNT', 1000);
    if (found.some((k) => !own.has(k))) return true;
    cursor = next;
  } while (cursor !== '0');
  return false;
}

function check(version: number, current: number, keys: RedisKeys): void {
  if (version > current) {
    throw new RedisLayoutError(
      `${keys.prefix}* has layout version ${version}, newer than this release knows (${current}): run the newer release`,
    );
  }
}

/**
 * Bring the service's keys to the current layout version. An unversioned layout with data is the first release's:
 * adopted as version 1. An empty one is new: its version is set to the current one after the (idempotent) steps.
 */
export async function upgradeRedisLayout(
  redis: Redis,
  keys: RedisKeys,
  steps: readonly RedisUpgradeStep[] = REDIS_UPGRADE_STEPS,
): Promise<MigrationReport> {
  const current = currentLayoutVersion(steps);
  const seen = await readVersion(redis, keys);
  if (seen !== null) {
    check(seen, current, keys);
    if (seen === current) return { version: String(current), adopted: false, applied: [] };
  }
  const token = randomBytes(12).toString('hex');
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    if ((await redis.set(keys.schemaLock(), token, 'PX', LOCK_TTL_MS, 'NX')) === 'OK') break;
    const v = await readVersion(redis, keys);
    if (v === current) return { version: String(current), adopted: false, applied: [] };
    if (Date.now() > deadline) {
      throw new RedisLayoutError(
        `timed out waiting for another process to upgrade ${keys.prefix}* (lock ${keys.schemaLock()})`,
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  try {
    let version = await readVersion(redis, keys);
    const adopted = version === null && (await hasData(redis, keys));
    if (version === null) {
      version = 1;
      await redis.set(keys.schemaVersion(), '1');
    }
    check(version, current, keys);
    const applied: string[] = [];
    for (const step of steps) {
      if (step.version <= version) continue;
      if (step.version !== version + 1)
        throw new RedisLayoutError(`upgrade steps out of order: ${version} → ${step.version}`);
      await redis.pexpire(keys.schemaLock(), LOCK_TTL_MS);
      await step.run(redis, keys);
      await redis.set(keys.schemaVersion(), String(step.version));
      version = step.version;
      applied.push(`${step.version}: ${step.description}`);
    }
    return { version: String(version), adopted, applied };
  } finally {
    await redis.eval(RELEASE, 1, keys.schemaLock(), token);
  }
}
