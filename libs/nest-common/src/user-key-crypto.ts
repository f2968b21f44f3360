import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  LEGACY_USER_KEY_PREFIX,
  USER_KEY_BODY_LENGTH,
  USER_KEY_CHECKSUM_LENGTH,
  USER_KEY_DISPLAY_PREFIX_LENGTH,
  USER_KEY_PREFIX,
  type UserKeyFormat,
  userKeyFormat,
} from '@gg/contracts';

/** bytes of HMAC kept as the checksum of a current-format key (8 base64url chars) */
const TAG_BYTES = (USER_KEY_CHECKSUM_LENGTH * 6) / 8;

/**
 * The checksum key is derived from the key-hash secret (HMAC with a fixed label), so the checksum and the stored
 * hash (HMAC of the whole key under the secret itself) never use the same key for two purposes.
 */
const tagKeys = new Map<string, Buffer>();
function tagKeyOf(secret: string): Buffer {
  let k = tagKeys.get(secret);
  if (!k) {
    if (tagKeys.size > 4) tagKeys.clear();
    k = createHmac('sha256', secret).update('gemini-gateway user key checksum v1').digest();
    tagKeys.set(secret, k);
  }
  return k;
}

function tag(body: string, secret: string): string {
  return createHmac('sha256', tagKeyOf(secret)).update(body).digest().subarray(0, TAG_BYTES).toString('base64url');
}

/** The checksum of legacy-format keys: plain SHA-256, anyone can compute it. Only ever verified, never issued. */
function legacyChecksum(body: string): string {
  return createHash('sha256').update(body).digest().subarray(0, 4).toString('base64url');
}

function sameText(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** A new user key: `gg1-` + 32 random bytes (base64url) + a 6-byte HMAC checksum under the key-hash secret. */
export function generateUserKey(secret: string): { key: string; prefix: string } {
  const body = randomBytes(32).toString('base64url');
  const key = USER_KEY_PREFIX + body + tag(body, secret);
  return { key, prefix: key.slice(0, USER_KEY_DISPLAY_PREFIX_LENGTH) };
}

/**
 * The key's format when its checksum matches, else null. `v1`: the HMAC checksum matches, so the key was made by
 * someone holding the secret (forged or mistyped keys fail here, with no lookup). `legacy`: an old-format key
 * whose plain checksum matches: it may be real or forged, only a lookup can tell.
 */
export function checkUserKey(key: string, secret: string): UserKeyFormat | null {
  const format = userKeyFormat(key);
  if (format === 'v1') {
    const body = key.slice(USER_KEY_PREFIX.length, USER_KEY_PREFIX.length + USER_KEY_BODY_LENGTH);
    return sameText(key.slice(USER_KEY_PREFIX.length + USER_KEY_BODY_LENGTH), tag(body, secret)) ? 'v1' : null;
  }
  if (format === 'legacy') {
    const body = key.slice(LEGACY_USER_KEY_PREFIX.length, LEGACY_USER_KEY_PREFIX.length + USER_KEY_BODY_LENGTH);
    return sameText(key.slice(LEGACY_USER_KEY_PREFIX.length + USER_KEY_BODY_LENGTH), legacyChecksum(body))
      ? 'legacy'
      : null;
  }
  return null;
}

/** Keyed SHA-256 (HMAC) of a user key, hex: what is stored and looked up. */
export function hashUserKey(key: string, secret: string): string {
  return createHmac('sha256', secret).update(key).digest('hex');
}
