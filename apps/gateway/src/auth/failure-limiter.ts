import { LRUCache } from 'lru-cache';

export interface FailureLimits {
  /** failures allowed per window and address; the one that reaches it starts the block */
  failures: number;
  windowMs: number;
  /** how long an address is refused once it reached the limit */
  blockMs: number;
  /** addresses remembered (least recently seen forgotten first) */
  maxAddresses: number;
}

export const AUTH_FAILURE_LIMITS: FailureLimits = {
  failures: 20,
  windowMs: 60_000,
  blockMs: 60_000,
  maxAddresses: 100_000,
};

interface Tally {
  windowStart: number;
  failures: number;
  blockedUntil: number;
}

/**
 * Authentication failures per client address, in this replica's memory (a flood guard, not an exact quota: each
 * replica counts its own). An address that fails `failures` times within `windowMs` is refused for `blockMs`; no
 * address's failures or successes touch another's tally. IPv6 clients are counted per /64, which one host
 * usually holds whole.
 */
export class AuthFailureLimiter {
  private readonly tallies: LRUCache<string, Tally>;

  constructor(private readonly limits: FailureLimits = AUTH_FAILURE_LIMITS) {
    this.tallies = new LRUCache<string, Tally>({ max: limits.maxAddresses });
  }

  /** Seconds the address must still wait, or 0 when it may try. */
  blockedFor(address: string, now: number): number {
    const t = this.tallies.get(addressKey(address));
    return t && t.blockedUntil > now ? Math.ceil((t.blockedUntil - now) / 1000) : 0;
  }

  fail(address: string, now: number): void {
    const key = addressKey(address);
    let t = this.tallies.get(key);
    if (!t) this.tallies.set(key, (t = { windowStart: now, failures: 0, blockedUntil: 0 }));
    if (now - t.windowStart >= this.limits.windowMs) {
      t.windowStart = now;
      t.failures = 0;
    }
    if (++t.failures >= this.limits.failures) {
      t.blockedUntil = now + this.limits.blockMs;
      t.windowStart = t.blockedUntil;
      t.failures = 0;
    }
  }

  get size(): number {
    return this.tallies.size;
  }
}

/** The unit an address is counted in: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. */
export function addressKey(address: string): string {
  if (!address.includes(':')) return address;
  const lower = address.toLowerCase().split('%')[0];
  if (lower.startsWith('::ffff:') && lower.includes('.')) return lower.slice(7);
  const [head, tail] = lower.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? h : [...h, ...new Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
