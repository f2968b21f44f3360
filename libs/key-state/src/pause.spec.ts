import { PoolPauseDetector } from './pause';

const T0 = 1_000_000;

describe('PoolPauseDetector', () => {
  it('pauses the pool when most keys get a 429 within the window', () => {
    const d = new PoolPauseDetector();
    expect(d.record('a', 'rate_limited', T0, 4)).toBe(0);
    expect(d.record('b', 'rate_limited', T0 + 1000, 4)).toBe(0);
    expect(d.pausedUntil(T0 + 1000)).toBe(0);
    expect(d.record('c', 'rate_limited', T0 + 2000, 4)).toBe(T0 + 2000 + 30_000);
    expect(d.pausedUntil(T0 + 31_999)).toBe(T0 + 32_000);
    expect(d.pausedUntil(T0 + 32_000)).toBe(0);
  });

  it('does not pause for a few 429s on a big pool', () => {
    const d = new PoolPauseDetector();
    for (let i = 0; i < 9; i++) expect(d.record(`k${i}`, 'rate_limited', T0 + i, 20)).toBe(0);
    expect(d.record('k9', 'rate_limited', T0 + 10, 20)).toBeGreaterThan(0);
  });

  it('needs at least 3 distinct keys, even on a tiny pool', () => {
    const d = new PoolPauseDetector();
    expect(d.record('a', 'rate_limited', T0, 2)).toBe(0);
    expect(d.record('b', 'rate_limited', T0, 2)).toBe(0);
    expect(d.record('a', 'rate_limited', T0 + 1, 2)).toBe(0);
    expect(d.record('b', 'rate_limited', T0 + 2, 2)).toBe(0);
  });

  it('forgets 429s older than the window', () => {
    const d = new PoolPauseDetector({ windowMs: 10_000 });
    d.record('a', 'rate_limited', T0, 4);
    d.record('b', 'rate_limited', T0, 4);
    expect(d.record('c', 'rate_limited', T0 + 10_000, 4)).toBe(0);
    expect(d.record('d', 'rate_limited', T0 + 10_001, 4)).toBe(0);
    expect(d.record('e', 'rate_limited', T0 + 10_002, 4)).toBeGreaterThan(0);
  });

  it("a success withdraws that key's 429; other outcomes do not count", () => {
    const d = new PoolPauseDetector();
    d.record('a', 'rate_limited', T0, 4);
    d.record('b', 'rate_limited', T0, 4);
    d.record('a', 'success', T0 + 1, 4);
    d.record('d', 'transient', T0 + 1, 4);
    d.record('e', 'invalid', T0 + 1, 4);
    expect(d.record('c', 'rate_limited', T0 + 2, 4)).toBe(0);
  });

  it('pauses for the largest retry delay seen, capped', () => {
    const d = new PoolPauseDetector({ maxPauseMs: 90_000 });
    d.record('a', 'rate_limited', T0, 3, 45_000);
    d.record('b', 'rate_limited', T0, 3, 60_000);
    expect(d.record('c', 'rate_limited', T0, 3, 10_000)).toBe(T0 + 60_000);
    const capped = new PoolPauseDetector({ maxPauseMs: 90_000 });
    capped.record('a', 'rate_limited', T0, 3, 86_400_000);
    capped.record('b', 'rate_limited', T0, 3);
    expect(capped.record('c', 'rate_limited', T0, 3)).toBe(T0 + 90_000);
  });

  it('honours short retry delays: the pause is as long as Google asked, at least minPauseMs', () => {
    const d = new PoolPauseDetector();
    d.record('a', 'rate_limited', T0, 4, 3000);
    d.record('b', 'rate_limited', T0, 4, 2000);
    expect(d.record('c', 'rate_limited', T0, 4)).toBe(T0 + 3000);
    expect(d.evidence.sort()).toEqual(['a', 'b', 'c']);
    const tiny = new PoolPauseDetector({ minPauseMs: 1000 });
    ['a', 'b'].forEach((id) => tiny.record(id, 'rate_limited', T0, 3, 10));
    expect(tiny.record('c', 'rate_limited', T0, 3, 10)).toBe(T0 + 1000);
  });

  it('a pause that outlived a restart resumes, capped', () => {
    const d = new PoolPauseDetector({ maxPauseMs: 60_000 });
    d.restore(T0 + 10_000, T0);
    expect(d.pausedUntil(T0 + 9_999)).toBe(T0 + 10_000);
    const far = new PoolPauseDetector({ maxPauseMs: 60_000 });
    far.restore(T0 + 3_600_000, T0);
    expect(far.pausedUntil(T0)).toBe(T0 + 60_000);
    const over = new PoolPauseDetector();
    over.restore(T0 - 1, T0);
    expect(over.pausedUntil(T0)).toBe(0);
  });

  it('late 429s during the pause do not stretch it; afterwards new evidence is needed', () => {
    const d = new PoolPauseDetector({ minKeys: 3, pauseMs: 30_000 });
    ['a', 'b', 'c'].forEach((id) => d.record(id, 'rate_limited', T0, 3));
    expect(d.record('a', 'rate_limited', T0 + 5000, 3, 100_000)).toBe(T0 + 30_000);
    expect(d.record('b', 'rate_limited', T0 + 30_000, 3)).toBe(0);
    expect(d.pausedUntil(T0 + 30_000)).toBe(0);
  });

  it('reset ends a pause', () => {
    const d = new PoolPauseDetector();
    ['a', 'b', 'c'].forEach((id) => d.record(id, 'rate_limited', T0, 3));
    d.reset();
    expect(d.pausedUntil(T0)).toBe(0);
    expect(d.record('a', 'rate_limited', T0, 3)).toBe(0);
  });
});
