import { callerProofKey, CallerProofVerifier, PROOF_TTL_MS, signCallerProof, type ProvenCaller } from './caller-proof';

describe('caller proofs', () => {
  const key = callerProofKey('a-jwt-secret-a-jwt-secret-a-jwt-secret-0123');
  const alice: ProvenCaller = { userId: 'u-1', role: 'user', tokenVersion: 2, sessionId: 's-1' };
  const pattern = 'ns:auth.keys.list';
  const payload = { userId: 'u-1' };
  const message = (p = payload, pat = pattern, k = key, now = Date.now()) => ({
    ...p,
    proof: signCallerProof(k, alice, pat, p, now),
  });

  it('proves the caller once, for its pattern and payload', () => {
    const v = new CallerProofVerifier(key);
    const m = message();
    expect(v.verify(m, pattern)).toEqual(alice);
    expect(() => v.verify(m, pattern)).toThrow('caller proof already used');
  });

  it.each([
    ['no proof', () => ({ ...payload, caller: { userId: 'u-1', role: 'admin', tokenVersion: 2 } }), pattern],
    [
      'another key',
      () => message(payload, pattern, callerProofKey('another-secret-another-secret-0123456789')),
      pattern,
    ],
    ['another pattern', () => message(), 'ns:auth.users.delete'],
    ['a changed payload', () => ({ ...message(), userId: 'u-2' }), pattern],
    ['an added field', () => ({ ...message(), role: 'admin' }), pattern],
    ['an expired proof', () => message(payload, pattern, key, Date.now() - PROOF_TTL_MS - 1), pattern],
    [
      'a changed claim',
      () => {
        const m = message();
        const [body, sig] = m.proof.split('.');
        const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
        return {
          ...m,
          proof: `${Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')}.${sig}`,
        };
      },
      pattern,
    ],
  ])('refuses %s', (_name, make, pat) => {
    expect(() => new CallerProofVerifier(key).verify(make(), pat as string)).toThrow(
      expect.objectContaining({ code: 'UNAUTHORIZED' }),
    );
  });
});
