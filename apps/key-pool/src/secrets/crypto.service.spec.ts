import { randomBytes } from 'node:crypto';
import { CryptoService, maskSecret } from './crypto.service';

const SECRET = 'AIzaSyA1234567890abcdefghijklmnopqrstu';

describe('CryptoService', () => {
  const crypto = new CryptoService({ encryptionKey: randomBytes(32) });

  it('round-trips a secret and never stores it in clear', () => {
    const stored = crypto.encrypt(SECRET);
    expect(stored).toMatch(/^v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/);
    expect(stored).not.toContain(SECRET);
    expect(stored).not.toContain(SECRET.slice(4, 20));
    expect(crypto.decrypt(stored)).toBe(SECRET);
  });

  it('uses a fresh IV for every encryption', () => {
    const a = crypto.encrypt(SECRET);
    const b = crypto.encrypt(SECRET);
    expect(a).not.toBe(b);
    expect(a.split(':')[1]).not.toBe(b.split(':')[1]);
  });

  it('refuses tampered data and another key, without revealing anything', () => {
    const stored = crypto.encrypt(SECRET);
    const [v, iv, tag, data] = stored.split(':');
    const flipped = Buffer.from(data, 'base64url');
    flipped[0] ^= 1;
    const tampered = [v, iv, tag, flipped.toString('base64url')].join(':');
    expect(() => crypto.decrypt(tampered)).toThrow(/cannot decrypt/);
    const other = new CryptoService({ encryptionKey: randomBytes(32) });
    let message = '';
    try {
      other.decrypt(stored);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/cannot decrypt/);
    expect(message).not.toContain(data);
    expect(() => crypto.decrypt('plain-text')).toThrow(/unsupported/);
  });

  it('fingerprints deterministically, keyed by the encryption key', () => {
    const fp = crypto.fingerprint(SECRET);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(crypto.fingerprint(SECRET)).toBe(fp);
    expect(crypto.fingerprint(SECRET + 'x')).not.toBe(fp);
    expect(new CryptoService({ encryptionKey: randomBytes(32) }).fingerprint(SECRET)).not.toBe(fp);
  });

  it('rejects an encryption key that is not 32 bytes', () => {
    expect(() => new CryptoService({ encryptionKey: randomBytes(16) })).toThrow(/32 bytes/);
  });
});

describe('maskSecret', () => {
  it('shows the first 4 and last 4 characters of a Google key', () => {
    expect(maskSecret(SECRET)).toBe('AIza…rstu');
  });

  it('masks shorter keys harder', () => {
    expect(maskSecret('abcdefghijklmnop')).toBe('ab…op');
    expect(maskSecret('abcdefghijklmnopqrstuvwx')).toBe('abc…vwx');
    expect(maskSecret('short')).toBe('…');
  });
});
