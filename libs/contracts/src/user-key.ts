/**
 * User API key formats. Pure shape functions, so this file stays browser-safe; the checksums are computed by
 * `@gg/nest-common` (user-key-crypto.ts) in node code.
 *
 * - current (`v1`): `gg1-` + base64url(32 random bytes) + base64url(6-byte truncated HMAC-SHA256 of the body under
 *   the shared key-hash secret). Only the gateway and auth can tell a real one from a forged one, without a lookup.
 * - legacy: `gg-` + base64url(32 random bytes) + base64url(4-byte plain SHA-256 of the body). Issued before the
 *   HMAC checksum; still accepted while such keys exist, never issued again. Anyone can compute this checksum.
 *
 * The third character tells them apart (`1` or `-`), and so does the length (55 or 52).
 */
export const USER_KEY_PREFIX = 'gg1-';
export const LEGACY_USER_KEY_PREFIX = 'gg-';
/** 32 bytes -> 43 base64url chars */
export const USER_KEY_BODY_LENGTH = 43;
/** 6-byte HMAC tag -> 8 chars */
export const USER_KEY_CHECKSUM_LENGTH = 8;
/** 4-byte SHA-256 checksum -> 6 chars */
export const LEGACY_USER_KEY_CHECKSUM_LENGTH = 6;
export const USER_KEY_LENGTH = USER_KEY_PREFIX.length + USER_KEY_BODY_LENGTH + USER_KEY_CHECKSUM_LENGTH;
export const LEGACY_USER_KEY_LENGTH =
  LEGACY_USER_KEY_PREFIX.length + USER_KEY_BODY_LENGTH + LEGACY_USER_KEY_CHECKSUM_LENGTH;
/** characters shown as `prefix` for recognition (both formats) */
export const USER_KEY_DISPLAY_PREFIX_LENGTH = 10;

export type UserKeyFormat = 'v1' | 'legacy';

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Which format the key has the shape of (length, prefix, alphabet), or null. The checksum is not checked here. */
export function userKeyFormat(key: string): UserKeyFormat | null {
  if (key.length === USER_KEY_LENGTH && key.startsWith(USER_KEY_PREFIX)) {
    return BASE64URL.test(key.slice(USER_KEY_PREFIX.length)) ? 'v1' : null;
  }
  if (key.length === LEGACY_USER_KEY_LENGTH && key.startsWith(LEGACY_USER_KEY_PREFIX)) {
    return BASE64URL.test(key.slice(LEGACY_USER_KEY_PREFIX.length)) ? 'legacy' : null;
  }
  return null;
}

/** Shape check only, either format; the checksum is checked by `checkUserKey` in node code. */
export function looksLikeUserKey(key: string): boolean {
  return userKeyFormat(key) !== null;
}

/** True when a displayed/stored `prefix` belongs to a legacy-format key (a new one starts with `gg1-`). */
export function isLegacyUserKeyPrefix(prefix: string): boolean {
  return prefix.startsWith(LEGACY_USER_KEY_PREFIX);
}

/**
 * Answer of `AuthPattern.KeyLegacyCount`: how many stored secrets may be legacy-format. While it is 0 the gateways
 * refuse every legacy-format key without asking auth.
 */
export interface LegacyKeysAnswer {
  legacyKeys: number;
}
