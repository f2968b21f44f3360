import { randomBytes } from 'node:crypto';
import { SEAL_MAX_AGE_MS, TransportSeal } from './transport-seal';

describe('TransportSeal', () => {
  const key = randomBytes(32);
  const packet = { pattern: 'ns:auth.login', id: 'r1', data: { username: 'admin', password: 'hunter2-secret' } };

  it('seals so that nothing of the message shows, and opens it again', () => {
    const sealed = new TransportSeal(key).seal(packet);
    expect(sealed).toMatch(/^gg1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('hunter2');
    expect(sealed).not.toContain('auth.login');
    expect(new TransportSeal(key).open(sealed)).toEqual({ ok: true, packet });
  });

  it('drops a message sealed with another key, a tampered one and a plain one', () => {
    const sealed = new TransportSeal(key).seal(packet);
    const seal = new TransportSeal(key);
    expect(new TransportSeal(randomBytes(32)).open(sealed)).toEqual({ ok: false, why: 'forged' });
    const raw = Buffer.from(sealed.slice(4), 'base64url');
    raw[raw.length - 1] ^= 1;
    expect(seal.open(`gg1.${raw.toString('base64url')}`)).toEqual({ ok: false, why: 'forged' });
    expect(seal.open(JSON.stringify(packet))).toEqual({ ok: false, why: 'not-sealed' });
    expect(seal.open(packet)).toEqual({ ok: false, why: 'not-sealed' });
  });

  it('drops a replayed message and one older than the allowed age', () => {
    const sender = new TransportSeal(key);
    const receiver = new TransportSeal(key);
    const now = Date.now();
    const sealed = sender.seal(packet, now);
    expect(receiver.open(sealed, now).ok).toBe(true);
    expect(receiver.open(sealed, now + 10)).toEqual({ ok: false, why: 'replayed' });
    expect(new TransportSeal(key).open(sender.seal(packet, now - SEAL_MAX_AGE_MS - 1), now)).toEqual({
      ok: false,
      why: 'stale',
    });
  });
});
