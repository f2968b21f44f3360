import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  USER_KEY_BODY_LENGTH,
  USER_KEY_CHECKSUM_LENGTH,
  USER_KEY_DISPLAY_PREFIX_LENGTH,
  USER_KEY_PREFIX,
  looksLikeUserKey,
} from '@gg/contracts';

function checksum(body: string): string {
  return createHash('sha256').update(body).digest().subarray(0, 4).toString('base64url');
}

/** A new user key: `gg-` + 32 random bytes (base64url) + a 4-byte checksum. */
export function generateUserKey(): { key: string; prefix: string } {
  const body = randomBytes(32).toString('base64url');
  const key = USER_KEY_PREFIX + body + checksum(body);
  return { key, prefix: key.slice(0, USER_KEY_DISPLAY_PREFIX_LENGTH) };
}

/** True when the key has the right shape and its checksum matches: forged or mistyped keys fail here. */
export function verifyUserKeyChecksum(key: string): boolean {
  if (!looksLikeUserKey(key)) return false;
  const body = key.slice(USER_KEY_PREFIX.length, USER_KEY_PREFIX.length + USER_KEY_BODY_LENGTH);
  const sum = key.slice(USER_KEY_PREFIX.length + USER_KEY_BODY_LENGTH);
  const expected = checksum(body);
  return sum.length === USER_KEY_CHECKSUM_LENGTH && timingSafeEqual(Buffer.from(sum), Buffer.from(expected));
}

/** Keyed SHA-256 (HMAC) of a user key, hex: what is stored and looked up. */
export function hashUserKey(key: string, secret: string): string {
  return createHmac('sha256', secret).update(key).digest('hex');
}
