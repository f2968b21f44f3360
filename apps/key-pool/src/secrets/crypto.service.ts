import { Inject, Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@gg/config';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Pool key secrets at rest: AES-256-GCM with ENCRYPTION_KEY, a fresh 12-byte IV per secret, stored as
 * `v1:<iv>:<tag>:<ciphertext>` (base64url). The fingerprint (keyed HMAC-SHA256, hex) finds duplicates without
 * decrypting. Errors never carry the secret or the ciphertext.
 */
@Injectable()
export class CryptoService {
  private readonly key: Buffer;

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'encryptionKey'>) {
    if (config.encryptionKey.length !== 32) throw new Error('ENCRYPTION_KEY must be 32 bytes');
    this.key = config.encryptionKey;
  }

  encrypt(secret: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join(':');
  }

  /** Throws a plain error (no secret material in it) when the value was not produced with this key. */
  decrypt(stored: string): string {
    const parts = stored.split(':');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new Error('unsupported secret format');
    const [, ivB64, tagB64, dataB64] = parts;
    const iv = Buffer.from(ivB64, 'base64url');
    const tag = Buffer.from(tagB64, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('unsupported secret format');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(dataB64, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('cannot decrypt a pool key secret (wrong ENCRYPTION_KEY or corrupted data)');
    }
  }

  fingerprint(secret: string): string {
    return createHmac('sha256', this.key).update(secret).digest('hex');
  }
}

/**
 * What the admin sees of a secret: at most the first 4 and the last 4 characters. Shorter secrets show less,
 * so that at least three quarters of the characters stay hidden (a 39-character Google key shows 4 + 4).
 */
export function maskSecret(secret: string): string {
  const shown = Math.min(4, Math.floor(secret.length / 8));
  if (shown === 0) return '…';
  return `${secret.slice(0, shown)}…${secret.slice(-shown)}`;
}
