import { backoffMs, defaultKeyPolicy, explicitDelay, nextPacificMidnight, rateLimitUntil } from './policy';

const mid = () => 0.5; // no jitter

describe('backoffMs', () => {
  it('doubles from the base and stops at the cap', () => {
    const seq = [1, 2, 3, 4, 5, 6, 7, 8, 20, 1000].map((l) => backoffMs(l, 30_000, 1_800_000, 0.1, mid));
    expect(seq).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_800_000, 1_800_000, 1_800_000, 1_800_000]);
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

describe('nextPacificMidnight (UTC-8)', () => {
  it('is 08:00 UTC of the same day before it, of the next day after it', () => {
    expect(nextPacificMidnight(Date.parse('2025-03-10T05:00:00Z'))).toBe(Date.parse('2025-03-10T08:00:00Z'));
    expect(nextPacificMidnight(Date.parse('2025-03-10T08:00:00Z'))).toBe(Date.parse('2025-03-11T08:00:00Z'));
    expect(nextPacificMidnight(Date.parse('2025-03-10T23:59:00Z'))).toBe(Date.parse('2025-03-11T08:00:00Z'));
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
    expect(rateLimitUntil(now, 1, 21_000, true, policy, mid)).toBe(Date.parse('2025-03-11T08:00:00Z'));
  });

  it('clamps absurd delays', () => {
    expect(explicitDelay(1e15)).toBe(25 * 3_600_000);
    expect(explicitDelay(NaN)).toBeUndefined();
    expect(explicitDelay(-5)).toBeUndefined();
  });
});
