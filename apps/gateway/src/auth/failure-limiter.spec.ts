import { addressKey, AuthFailureLimiter } from './failure-limiter';

describe('AuthFailureLimiter', () => {
  const limits = { failures: 3, windowMs: 1000, blockMs: 5000, maxAddresses: 2 };

  it('blocks an address at the limit within the window, for blockMs, and forgets failures of a past window', () => {
    const l = new AuthFailureLimiter(limits);
    l.fail('10.0.0.1', 0);
    l.fail('10.0.0.1', 500);
    l.fail('10.0.0.1', 1500); // a new window: 1 failure in it
    expect(l.blockedFor('10.0.0.1', 1501)).toBe(0);
    l.fail('10.0.0.1', 1600);
    l.fail('10.0.0.1', 1700);
    expect(l.blockedFor('10.0.0.1', 1700)).toBe(5);
    expect(l.blockedFor('10.0.0.1', 5701)).toBe(1);
    expect(l.blockedFor('10.0.0.1', 6700)).toBe(0);
    expect(l.blockedFor('10.0.0.2', 1700)).toBe(0);
  });

  it('remembers a bounded number of addresses', () => {
    const l = new AuthFailureLimiter(limits);
    for (let i = 0; i < 100; i++) l.fail(`10.0.0.${i}`, 0);
    expect(l.size).toBe(2);
  });

  it('counts IPv4-mapped addresses as IPv4 and IPv6 per /64', () => {
    expect(addressKey('203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('2001:db8:0:1::5')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:0DB8:0000:0001:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});
