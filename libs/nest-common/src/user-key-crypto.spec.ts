import { createHash, randomBytes } from 'node:crypto';
import { isLegacyUserKeyPrefix, looksLikeUserKey, userKeyFormat } from '@gg/contracts';
import { checkUserKey, generateUserKey, hashUserKey } from './user-key-crypto';

const secret = 'test-secret-test-secret-test-secret';

/** What anyone could compute before: `gg-` + body + 4 bytes of plain SHA-256 (the old algorithm). */
function legacyKey(): string {
  const body = randomBytes(32).toString('base64url');
  return `gg-${body}${createHash('sha256').update(body).digest().subarray(0, 4).toString('base64url')}`;
}

/** An attacker's best try at a current-format key without the secret: the same recipe, with a longer plain hash. */
function forgedKey(): string {
  const body = randomBytes(32).toString('base64url');
  return `gg1-${body}${createHash('sha256').update(body).digest().subarray(0, 6).toString('base64url')}`;
}

describe('user key checksum', () => {
  it('issues gg1- keys whose HMAC checksum only the secret holder can make', () => {
    const { key, prefix } = generateUserKey(secret);
    expect(key).toMatch(/^gg1-[A-Za-z0-9_-]{51}$/);
    expect(prefix).toBe(key.slice(0, 10));
    expect(userKeyFormat(key)).toBe('v1');
    expect(checkUserKey(key, secret)).toBe('v1');
    expect(checkUserKey(key, `${secret}-other`)).toBeNull();
    expect(generateUserKey(secret).key).not.toBe(key);
  });

  it('refuses forged and mistyped keys', () => {
    for (let i = 0; i < 1000; i++) expect(checkUserKey(forgedKey(), secret)).toBeNull();
    const { key } = generateUserKey(secret);
    for (const at of [4, 20, 46, 54]) {
      const typo = key.slice(0, at) + (key[at] === 'a' ? 'b' : 'a') + key.slice(at + 1);
      expect(checkUserKey(typo, secret)).toBeNull();
    }
    expect(checkUserKey(key.slice(0, -1), secret)).toBeNull();
    expect(checkUserKey(`${key}A`, secret)).toBeNull();
    expect(checkUserKey('AIzaSomething', secret)).toBeNull();
    // the legacy checksum on a current-format body is no way in either
    const legacy = legacyKey();
    expect(checkUserKey(`gg1-${legacy.slice(3, 46)}${legacy.slice(46)}AA`, secret)).toBeNull();
  });

  it('tells legacy keys (plain checksum) apart: right checksum -> legacy, wrong -> refused', () => {
    const old = legacyKey();
    expect(old).toHaveLength(52);
    expect(userKeyFormat(old)).toBe('legacy');
    expect(checkUserKey(old, secret)).toBe('legacy');
    const typo = old.slice(0, 10) + (old[10] === 'a' ? 'b' : 'a') + old.slice(11);
    expect(checkUserKey(typo, secret)).toBeNull();
  });

  it('shape helpers accept both formats and only them', () => {
    const { key, prefix } = generateUserKey(secret);
    const old = legacyKey();
    expect(looksLikeUserKey(key)).toBe(true);
    expect(looksLikeUserKey(old)).toBe(true);
    expect(looksLikeUserKey(`gg-${key.slice(4)}`)).toBe(false);
    expect(looksLikeUserKey(`${key.slice(0, -1)}!`)).toBe(false);
    expect(looksLikeUserKey('')).toBe(false);
    expect(isLegacyUserKeyPrefix(prefix)).toBe(false);
    expect(isLegacyUserKeyPrefix(old.slice(0, 10))).toBe(true);
  });

  it('hashes keys with the secret', () => {
    const { key } = generateUserKey(secret);
    expect(hashUserKey(key, secret)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashUserKey(key, secret)).not.toBe(hashUserKey(key, `${secret}-other`));
  });
});
