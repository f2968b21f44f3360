/**
 * User API key format: `gg-` + base64url(32 random bytes) + base64url(4-byte checksum).
 * The checksum lets the gateway reject a mistyped or forged key before any lookup.
 * Pure functions over a hash provided by the caller, so this file stays browser-safe.
 */
export const USER_KEY_PREFIX = 'gg-';
/** 32 bytes -> 43 base64url chars, checksum 4 bytes -> 6 chars */
export const USER_KEY_BODY_LENGTH = 43;
export const USER_KEY_CHECKSUM_LENGTH = 6;
export const USER_KEY_LENGTH = USER_KEY_PREFIX.length + USER_KEY_BODY_LENGTH + USER_KEY_CHECKSUM_LENGTH;
/** characters shown as `prefix` for recognition */
export const USER_KEY_DISPLAY_PREFIX_LENGTH = 10;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Shape check only (length, alphabet, prefix); the checksum is checked by `verifyUserKeyChecksum` in node code. */
export function looksLikeUserKey(key: string): boolean {
  return key.length === USER_KEY_LENGTH && key.startsWith(USER_KEY_PREFIX) && BASE64URL.test(key.slice(3));
}
