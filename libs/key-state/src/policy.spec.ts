import { backoffMs, defaultKeyPolicy, explicitDelay, nextPacificMidnight, rateLimitUntil } from './policy';

const mid = () => 0.5; // no jitter

describe('backoffMs', () => {
  it('doubles from the base and stops at the cap', () => {
    const seq = [1, 2, 3, 4, 5, 6, 7, 8, 20, 1000].map((l) => backoffMs(l, 30_000, 1_800_000, 0.1, mid));
    expect(seq).toEqual([
      30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_800_000, 1_800_000, 1_800_000, 1_800_000,
    ]);
  });

  it('jitters by at most ±10% and never above the cap', () => {
    expect(backoffMs(1, 30_000, 1_800_000, 0.1, () => 0)).toBe(27_000);
    expect(backoffMs(1, 30_000, 1_800_000, 0.1, () => 0.999999)).toBeLessThanOrEqual(33_000);
    expect(backoffMs(1, 30_000, 1_800_000, 0.1, () => 0.999999)).toBeGreaterThan(32_999);
    for (let i = 0; i < 200; i++) {
      const r = (i + 0.5) / 200;
      const d = backoffMs(2, 30_000, 1_800_000, 0.1, () => r);
      expect(d).toBeGreaterThanOrEqual(54_000);
      expect(d).toBeLessThanOrEqual(66_000);
      expect(backoffMs(50, 30_000, 1_800_000, 0.1, () => r)).toBeLessThanOrEqual(1_800_000);
    }
  });
});

/**
 * Expected values worked out by hand, not by the implementation's formula: in 2026 Los Angeles goes from PST
 * (UTC-8) to PDT (UTC-7) on Sunday 8 March at 02:00 PST (10:00Z) and back on Sunday 1 November at 02:00 PDT (09:00Z).
 * So Pacific midnight is 08:00Z on days in PST and 07:00Z on days in PDT.
 */
describe('nextPacificMidnight (America/Los_Angeles, PST and PDT)', () => {
  const next = (iso: string) => new Date(nextPacificMidnight(Date.parse(iso))).toISOString();

  it('in winter (PST) and in summer (PDT)', () => {
    expect(next('2026-01-15T12:00:00.000Z')).toBe('2026-01-16T08:00:00.000Z'); // 04:00 PST
    expect(next('2026-07-15T12:00:00.000Z')).toBe('2026-07-16T07:00:00.000Z'); // 05:00 PDT
    expect(next('2026-07-16T06:59:59.999Z')).toBe('2026-07-16T07:00:00.000Z'); // 23:59:59.999 PDT
  });

  it('around the spring change (8 March 2026)', () => {
    expect(next('2026-03-08T07:59:00.000Z')).toBe('2026-03-08T08:00:00.000Z'); // Sat 23:59 PST
    expect(next('2026-03-08T08:00:00.000Z')).toBe('2026-03-09T07:00:00.000Z'); // Sun 00:00 PST: the next one
    expect(next('2026-03-08T09:59:59.000Z')).toBe('2026-03-09T07:00:00.000Z'); // Sun 01:59:59 PST
    expect(next('2026-03-08T10:00:00.000Z')).toBe('2026-03-09T07:00:00.000Z'); // Sun 03:00 PDT
    expect(next('2026-03-09T06:59:00.000Z')).toBe('2026-03-09T07:00:00.000Z'); // Sun 23:59 PDT
    expect(next('2026-03-09T07:30:00.000Z')).toBe('2026-03-10T07:00:00.000Z'); // Mon 00:30 PDT
  });

  it('around the autumn change (1 November 2026)', () => {
    expect(next('2026-11-01T06:59:00.000Z')).toBe('2026-11-01T07:00:00.000Z'); // Sat 23:59 PDT
    expect(next('2026-11-01T07:00:00.000Z')).toBe('2026-11-02T08:00:00.000Z'); // Sun 00:00 PDT: the next one
    expect(next('2026-11-01T08:30:00.000Z')).toBe('2026-11-02T08:00:00.000Z'); // Sun 01:30 PDT
    expect(next('2026-11-01T09:30:00.000Z')).toBe('2026-11-02T08:00:00.000Z'); // Sun 01:30 PST (again)
    expect(next('2026-11-02T07:59:00.000Z')).toBe('2026-11-02T08:00:00.000Z'); // Sun 23:59 PST
    expect(next('2026-11-02T08:00:00.000Z')).toBe('2026-11-03T08:00:00.000Z'); // Mon 00:00 PST
  });

  it('is never more than 25 hours away', () => {
    for (let t = Date.parse('2026-03-07T00:00:00Z'); t < Date.parse('2026-03-10T00:00:00Z'); t += 17 * 60_000) {
      const d = nextPacificMidnight(t) - t;
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThanOrEqual(24 * 3_600_000);
    }
  });
});

describe('rateLimitUntil', () => {
  const policy = defaultKeyPolicy();
  const now = Date.parse('2025-03-10T12:00:00Z');

  it('uses the upstream delay as given, without jitter', () => {
    expect(rateLimitUntil(now, 5, 47_000, false, policy, () => 0)).toBe(now + 47_000);
  });

  it('backs off by level without one', () => {
    expect(rateLimitUntil(now, 1, undefined, false, policy, mid)).toBe(now + 30_000);
    expect(rateLimitUntil(now, 3, 0, false, policy, mid)).toBe(now + 120_000);
  });

  it('rests until the Pacific midnight for a per-day quota', () => {
    // 2025-03-10 is in PDT (the change was on 9 March 2025): midnight is 07:00Z
    expect(rateLimitUntil(now, 1, 21_000, true, policy, mid)).toBe(Date.parse('2025-03-11T07:00:00Z'));
  });

  it('clamps absurd delays', () => {
    expect(explicitDelay(1e15)).toBe(25 * 3_600_000);
    expect(explicitDelay(NaN)).toBeUndefined();
    expect(explicitDelay(-5)).toBeUndefined();
  });
});
