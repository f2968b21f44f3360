import type { AttemptOutcome } from '@gg/contracts';
import { ModelRestDetector } from './model-rest';

const T0 = Date.parse('2026-03-10T12:00:00Z');

function overloaded(keyId: string, user: string, extra: Partial<AttemptOutcome> = {}): AttemptOutcome {
  return { keyId, model: 'gemini-2.5-pro', kind: 'transient', status: 503, overloaded: true, user, at: T0, ...extra };
}

describe('ModelRestDetector', () => {
  it('503 overloaded from 2 keys for 2 users within 10 s: the model rests 10 s', () => {
    const d = new ModelRestDetector();
    expect(d.record(overloaded('k1', 'alice'), T0)).toBe(0);
    expect(d.record(overloaded('k2', 'bob'), T0 + 1000)).toBe(T0 + 11_000);
    expect(d.restingUntil('gemini-2.5-pro', T0 + 5000)).toBe(T0 + 11_000);
    expect(d.restingUntil('gemini-2.5-flash', T0 + 5000)).toBe(0);
    expect(d.active(T0 + 5000)).toEqual({ 'gemini-2.5-pro': T0 + 11_000 });
    expect(d.active(T0 + 11_000)).toEqual({});
  });

  it('one user alone never rests the model, whatever the number of keys', () => {
    const d = new ModelRestDetector();
    for (let i = 0; i < 20; i++) expect(d.record(overloaded(`k${i % 5}`, 'mallory'), T0 + i)).toBe(0);
  });

  it('one key alone does not either (that may be the key)', () => {
    const d = new ModelRestDetector();
    expect(d.record(overloaded('k1', 'alice'), T0)).toBe(0);
    expect(d.record(overloaded('k1', 'bob'), T0 + 1)).toBe(0);
  });

  it('evidence older than the window, a success for the model, or confirmed key faults do not count', () => {
    const d = new ModelRestDetector();
    d.record(overloaded('k1', 'alice'), T0);
    expect(d.record(overloaded('k2', 'bob'), T0 + 10_001)).toBe(0);
    d.record({ ...overloaded('k3', 'carol'), kind: 'success', status: 200 }, T0 + 10_002);
    expect(d.record(overloaded('k4', 'dave'), T0 + 10_003)).toBe(0);
    expect(d.record(overloaded('k5', 'erin', { blame: 'key' }), T0 + 10_004)).toBe(0);
    expect(d.record(overloaded('k5', 'erin', { overloaded: undefined, status: 500 }), T0 + 10_005)).toBe(0);
    expect(d.restingUntil('gemini-2.5-pro', T0 + 10_006)).toBe(0);
  });

  it('models/x and x are the same model; a reset ends every rest', () => {
    const d = new ModelRestDetector();
    d.record(overloaded('k1', 'alice', { model: 'models/gemini-2.5-pro' }), T0);
    expect(d.record(overloaded('k2', 'bob'), T0 + 1)).toBeGreaterThan(0);
    d.reset();
    expect(d.restingUntil('gemini-2.5-pro', T0 + 2)).toBe(0);
  });
});
