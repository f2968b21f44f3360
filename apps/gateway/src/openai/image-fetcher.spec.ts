import { startHttpProxy, startSocks5Proxy } from '@gg/testing';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isPublicAddress } from './address-policy';
import { ImageFetcher } from './image-fetcher';
import { InvalidRequestError } from './openai-errors';

describe('address policy', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::a00:1',
    '::127.0.0.1',
    'not-an-ip',
    // reserved, documentation, benchmarking and shared ranges
    '192.0.2.1',
    '198.18.0.1',
    '203.0.113.9',
    '240.0.0.1',
    '2001:db8::1',
    '2001:2::1',
    '100::1',
    'fec0::1',
    // transition mechanisms that embed an IPv4 (6to4 of 127.0.0.1 / 8.8.8.8, Teredo, SIIT, local-use NAT64)
    '2002:7f00:1::1',
    '2002:808:808::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '::ffff:0:7f00:1',
    '64:ff9b:1::a00:1',
    // IPv4-compatible (deprecated), zone ids, non-canonical IPv4 forms that DNS never yields
    '::8.8.8.8',
    'fe80::1%eth0',
    '127.1',
    '0x7f.0.0.1',
    '2130706433',
    '',
  ])('refuses %s', (ip) => expect(isPublicAddress(ip)).toBe(false));

  it.each([
    '8.8.8.8',
    '142.250.74.46',
    '172.32.0.1',
    '100.128.0.1',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ])('allows %s', (ip) => expect(isPublicAddress(ip)).toBe(true));
});

describe('ImageFetcher', () => {
  let server: Server;
  let port: number;
  const PNG = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
    'base64',
  );
  const hits: string[] = [];
  const hosts: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      hosts.push(req.headers.host ?? '');
      if (req.url === '/a.jpg') res.writeHead(200, { 'content-type': 'image/jpg' }).end(PNG);
      else if (req.url === '/big') res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(2048));
      else if (req.url === '/html') res.writeHead(200, { 'content-type': 'text/html' }).end('<p>');
      else if (req.url === '/redirect-private') res.writeHead(302, { location: 'http://10.0.0.1/x.png' }).end();
      else if (req.url === '/redirect') res.writeHead(302, { location: '/a.jpg' }).end();
      else if (req.url === '/slow')
        setTimeout(() => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG), 1000);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    hits.length = 0;
    hosts.length = 0;
  });

  const allowMock = (ip: string) => ip === '127.0.0.1' || isPublicAddress(ip);
  const refused = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: unknown) => e as InvalidRequestError,
    );

  it.each([
    'http://127.0.0.1:PORT/a.jpg',
    'http://10.0.0.1/a.png',
    'http://[::1]:PORT/a.jpg',
    'http://[::ffff:127.0.0.1]:PORT/a.jpg',
    'http://localhost:PORT/a.jpg',
  ])('refuses %s by default, without connecting', async (url) => {
    const e = await refused(new ImageFetcher().fetch(url.replace('PORT', String(port)), 'p'));
    expect(e).toBeInstanceOf(InvalidRequestError);
    expect(e?.message).toMatch(/private, local or reserved/);
    expect(e?.param).toBe('p');
    expect(hits).toEqual([]);
  });

  it('refuses a host whose DNS answer has any private address', async () => {
    const f = new ImageFetcher({
      resolve: async () => [
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.5', family: 4 },
      ],
    });
    expect((await refused(f.fetch('http://example.test/a.png', 'p')))?.message).toMatch(/private/);
  });

  it('connects to the checked address only, whatever the host name (no DNS rebinding)', async () => {
    const f = new ImageFetcher({
      isAllowedAddress: allowMock,
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    await expect(f.fetch(`http://images.example.test:${port}/a.jpg`, 'p')).resolves.toEqual({
      mimeType: 'image/jpeg',
      data: PNG.toString('base64'),
    });
  });

  it('inlines an image from an allowed host, follows a redirect to an allowed host', async () => {
    const f = new ImageFetcher({ isAllowedAddress: allowMock });
    await expect(f.fetch(`http://127.0.0.1:${port}/redirect`, 'p')).resolves.toEqual({
      mimeType: 'image/jpeg',
      data: PNG.toString('base64'),
    });
    expect(hits).toEqual(['/redirect', '/a.jpg']);
  });

  it.each([
    ['/redirect-private', /private/],
    ['/big', /larger than/],
    ['/html', /not an image/],
    ['/missing', /HTTP 404/],
    ['/slow', /no answer within/],
  ])('refuses %s', async (path, message) => {
    const f = new ImageFetcher({ isAllowedAddress: allowMock, maxBytes: 1024, timeoutMs: 300 });
    const e = await refused(f.fetch(`http://127.0.0.1:${port}${path}`, 'p'));
    expect(e).toBeInstanceOf(InvalidRequestError);
    expect(e?.message).toMatch(message);
  });

  describe.each([
    ['http', startHttpProxy],
    ['socks5', startSocks5Proxy],
  ] as const)('through an UPSTREAM_PROXY of %s', (_scheme, start) => {
    const auth = { user: 'gg', password: 'proxy-pw-never-shown' };

    it('asks the proxy for the checked address, the name in the Host header (no DNS rebinding)', async () => {
      const proxy = await start({ auth });
      try {
        const f = new ImageFetcher({
          isAllowedAddress: allowMock,
          resolve: async () => [{ address: '127.0.0.1', family: 4 }],
          proxy: proxy.url,
        });
        await expect(f.fetch(`http://images.example.test:${port}/a.jpg`, 'p')).resolves.toEqual({
          mimeType: 'image/jpeg',
          data: PNG.toString('base64'),
        });
        expect(proxy.targets).toEqual([`127.0.0.1:${port}`]);
        expect(proxy.tunnels).toBe(1);
        expect(hosts).toEqual([`images.example.test:${port}`]);
      } finally {
        await proxy.close();
      }
    });

    it('refuses a private address before asking the proxy anything', async () => {
      const proxy = await start({ auth });
      try {
        const f = new ImageFetcher({ resolve: async () => [{ address: '10.0.0.5', family: 4 }], proxy: proxy.url });
        expect((await refused(f.fetch('http://example.test/a.png', 'p')))?.message).toMatch(/private/);
        expect(proxy.targets).toEqual([]);
      } finally {
        await proxy.close();
      }
    });

    it('says the proxy failed, masked, when it refuses the credentials', async () => {
      const proxy = await start({ auth });
      try {
        const f = new ImageFetcher({ isAllowedAddress: allowMock, proxy: proxy.url.replace(auth.password, 'wrong') });
        const e = await refused(f.fetch(`http://127.0.0.1:${port}/a.jpg`, 'p'));
        expect(e?.message).toMatch(
          /could not be fetched \(upstream proxy \w+:\/\/gg:\*\*\*@127\.0\.0\.1:\d+ unreachable/,
        );
        expect(e?.message).not.toContain('wrong');
        expect(hits).toEqual([]);
      } finally {
        await proxy.close();
      }
    });
  });
});
