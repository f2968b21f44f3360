import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** Version tag of a sealed message on the wire: `gg1.<base64url(iv ‖ tag ‖ ciphertext)>`. */
const PREFIX = 'gg1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Additional data: a sealed message is only ever a message of this transport, never another ciphertext. */
const AAD = Buffer.from('gemini-gateway redis transport v1');
/** HKDF label of the transport's subkey (TRANSPORT_KEY itself is never used directly). */
const LABEL = 'gg/redis-transport/aes-256-gcm/v1';
/** A message older (or further in the future) than this is refused: replaying a captured message later fails. */
export const SEAL_MAX_AGE_MS = 120_000;

/** The AES-256-GCM subkey of the Redis transport, derived from TRANSPORT_KEY with HKDF-SHA-256. */
export function transportSubkey(transportKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', transportKey, Buffer.alloc(0), LABEL, 32));
}

export type OpenFailure = 'not-sealed' | 'forged' | 'stale' | 'replayed';

/**
 * Seals every message the Redis transport publishes (requests, replies, events) with AES-256-GCM and opens
 * what it receives: whoever reads Redis pub/sub sees no payload (pool keys, passwords, tokens, user keys), and
 * whoever can only publish on Redis cannot make an app act (a message without the key is dropped unread).
 * Each sealed message carries its time; one older than SEAL_MAX_AGE_MS, or one already seen, is dropped.
 */
export class TransportSeal {
  private readonly key: Buffer;
  /** nonces seen in the last SEAL_MAX_AGE_MS (×2 to cover skew both ways) */
  private readonly seen = new LRUCache<string, true>({ max: 200_000, ttl: 2 * SEAL_MAX_AGE_MS, ttlAutopurge: false });

  constructor(transportKey: Buffer) {
    this.key = transportSubkey(transportKey);
  }

  seal(packet: unknown, now = Date.now()): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(AAD);
    const plain = Buffer.from(JSON.stringify({ t: now, p: packet }));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The packet inside a sealed message, or why there is none. */
  open(sealed: unknown, now = Date.now()): { ok: true; packet: unknown } | { ok: false; why: OpenFailure } {
    if (typeof sealed !== 'string' || !sealed.startsWith(PREFIX)) return { ok: false, why: 'not-sealed' };
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) return { ok: false, why: 'forged' };
    const iv = raw.subarray(0, IV_BYTES);
    let plain: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAAD(AAD);
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return { ok: false, why: 'forged' };
    }
    const { t, p } = JSON.parse(plain) as { t: number; p: unknown };
    if (typeof t !== 'number' || Math.abs(now - t) > SEAL_MAX_AGE_MS) return { ok: false, why: 'stale' };
    const nonce = iv.toString('base64');
    if (this.seen.has(nonce)) return { ok: false, why: 'replayed' };
    this.seen.set(nonce, true);
    return { ok: true, packet: p };
  }
}
