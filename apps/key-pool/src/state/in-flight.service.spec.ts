import { InFlightService, MAX_LEASE_MS } from './in-flight.service';

describe('InFlightService', () => {
  const now = 1_800_000_000_000;

  it('sums the live reports of every gateway, the latest report of a gateway replacing its previous one', () => {
    const s = new InFlightService();
    s.record({ gatewayId: 'a', inFlight: { k1: 2, k2: 1 }, expiresAt: now + 5000 }, now);
    s.record({ gatewayId: 'b', inFlight: { k1: 3 }, expiresAt: now + 5000 }, now);
    expect(s.inUse('k1', now)).toBe(5);
    s.record({ gatewayId: 'a', inFlight: { k2: 4 }, expiresAt: now + 5000 }, now);
    expect(s.inUse('k1', now)).toBe(3);
    expect(s.inUse('k2', now)).toBe(4);
  });

  it("stops counting a gateway's keys when its lease expires", () => {
    const s = new InFlightService();
    s.record({ gatewayId: 'a', inFlight: { k1: 2 }, expiresAt: now + 1000 }, now);
    s.record({ gatewayId: 'b', inFlight: { k1: 1 }, expiresAt: now + 3000 }, now);
    expect(s.inUse('k1', now + 999)).toBe(3);
    expect(s.inUse('k1', now + 1000)).toBe(1);
    expect(s.inUse('k1', now + 3000)).toBe(0);
  });

  it('caps a lease far in the future and ignores counts that are not positive numbers', () => {
    const s = new InFlightService();
    s.record(
      {
        gatewayId: 'a',
        inFlight: { k1: 2, k2: -1, k3: Number.NaN, k4: '3' as unknown as number },
        expiresAt: now + 86_400_000,
      },
      now,
    );
    expect([...s.totals(now)]).toEqual([['k1', 2]]);
    expect(s.inUse('k1', now + MAX_LEASE_MS)).toBe(0);
  });
});
