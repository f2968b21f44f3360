import { addProxySchema, updatePoolKeySchema } from './proxies';

describe('addProxySchema', () => {
  const parse = (url: unknown) => addProxySchema.safeParse({ url });

  it('takes http, https and socks5 proxies with credentials, without a trailing slash', () => {
    expect(parse('http://u:p%40ss@proxy.example:3128/').data).toEqual({ url: 'http://u:p%40ss@proxy.example:3128' });
    expect(parse('https://proxy.example').success).toBe(true);
    expect(parse(' socks5://[::1]:1080 ').data).toEqual({ url: 'socks5://[::1]:1080' });
  });

  it('refuses what is not a proxy URL, never repeating the value (it may hold a password)', () => {
    const secret = 'very-secret-password';
    for (const [url, message] of [
      [`ftp://u:${secret}@host`, 'url must use http:, https:, socks5:, got ftp:'],
      [`http://u:${secret}@host/path`, 'url must be scheme://[user:password@]host[:port] with no path or query'],
      [`http://u:${secret}@host?q=1`, 'url must be scheme://[user:password@]host[:port] with no path or query'],
      [`u:${secret}@host:8080`, 'url must use http:, https:, socks5:, got u:'],
      [`socks5://${'x'.repeat(256)}:${secret}@host`, 'a socks5 user name and password must be at most 255 bytes each'],
      [`not a url ${secret}`, 'url is not a valid URL'],
    ]) {
      const r = parse(url);
      expect(r.error?.issues.map((i) => i.message)).toEqual([message]);
      expect(JSON.stringify(r.error)).not.toContain(secret);
    }
    expect(parse(42).success).toBe(false);
    expect(addProxySchema.safeParse({ url: 'http://h', extra: 1 }).success).toBe(false);
  });
});

describe('updatePoolKeySchema', () => {
  it('takes a proxy id, null (back to hashing) or nothing', () => {
    expect(updatePoolKeySchema.parse({ proxyId: 'a1b2' })).toEqual({ proxyId: 'a1b2' });
    expect(updatePoolKeySchema.parse({ proxyId: null })).toEqual({ proxyId: null });
    expect(updatePoolKeySchema.parse({})).toEqual({});
    expect(updatePoolKeySchema.safeParse({ proxyId: 'has space' }).success).toBe(false);
    expect(updatePoolKeySchema.safeParse({ status: 'active' }).success).toBe(false);
  });
});
