import { createServer as createHttpServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, createServer, isIPv6, type AddressInfo, type Server, type Socket } from 'node:net';

/** Credentials a test proxy demands (HTTP Basic, or SOCKS5 username/password); none: it lets anyone through. */
export interface ProxyAuth {
  user: string;
  password: string;
}

/** A proxy started by a test, counting what went through it. */
export interface TestProxy {
  /** its URL, with the credentials when it demands some */
  url: string;
  /** tunnels opened to a target (HTTP CONNECT answered 200, or SOCKS5 CONNECT succeeded) */
  tunnels: number;
  /** plain requests forwarded (absolute-URI form, HTTP proxy only) */
  forwarded: number;
  /** requests refused for missing or wrong credentials (407, or a failed SOCKS5 authentication) */
  refused: number;
  /** `host:port` of every target asked for, in order */
  targets: string[];
  /** the local port of every tunnel's connection to its target (the port the target sees the request come from) */
  ports: number[];
  close(): Promise<void>;
}

function listen(server: Server, sockets: Set<Socket>): Promise<number> {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

function closer(server: Server, sockets: Set<Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
}

function credentialsIn(auth: ProxyAuth | undefined): string {
  return auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.password)}@` : '';
}

/** Both ways, bytes as they come; either side closing or failing closes the other. */
function splice(a: Socket, b: Socket): void {
  a.pipe(b).pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
}

/**
 * An HTTP proxy: CONNECT tunnels (any target) and absolute-URI requests forwarded (http:// targets). With `auth`, a
 * request without the right Proxy-Authorization is answered 407.
 */
export async function startHttpProxy(opts: { auth?: ProxyAuth } = {}): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const expected = opts.auth
    ? `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.password}`).toString('base64')}`
    : null;
  const allowed = (req: IncomingMessage): boolean =>
    expected === null || req.headers['proxy-authorization'] === expected;

  const server = createHttpServer((req, res) => {
    const target = new URL(req.url ?? '/', 'http://invalid');
    if (target.hostname === 'invalid') {
      res.writeHead(400).end('absolute URI expected');
      return;
    }
    proxy.targets.push(target.host);
    if (!allowed(req)) {
      proxy.refused++;
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    proxy.forwarded++;
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const up = httpRequest(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(up);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    proxy.targets.push(target);
    client.on('error', () => undefined);
    if (!allowed(req)) {
      proxy.refused++;
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n');
      return;
    }
    const at = target.lastIndexOf(':');
    const host = target.slice(0, at).replace(/^\[|\]$/g, '');
    const upstream = connect(Number(target.slice(at + 1)), host);
    upstream.once('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
    upstream.once('connect', () => {
      proxy.tunnels++;
      proxy.ports.push(upstream.localPort ?? 0);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      splice(client, upstream);
    });
  });
  const port = await listen(server, sockets);
  const proxy: TestProxy = {
    url: `http://${credentialsIn(opts.auth)}127.0.0.1:${port}`,
    tunnels: 0,
    forwarded: 0,
    refused: 0,
    targets: [],
    ports: [],
    close: closer(server, sockets),
  };
  return proxy;
}

/** Reads exact byte counts off a socket until `release`, which hands back what was read past them. */
function reader(socket: Socket): { read(n: number): Promise<Buffer>; release(): Buffer } {
  let buf = Buffer.alloc(0);
  let wake: (() => void) | null = null;
  let ended = false;
  const onData = (d: Buffer): void => {
    buf = Buffer.concat([buf, d]);
    wake?.();
  };
  const onEnd = (): void => {
    ended = true;
    wake?.();
  };
  socket.on('data', onData);
  socket.on('close', onEnd);
  return {
    async read(n) {
      while (buf.length < n) {
        if (ended) throw new Error('closed during the handshake');
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
      const out = buf.subarray(0, n);
      buf = buf.subarray(n);
      return out;
    },
    release() {
      socket.off('data', onData);
      socket.off('close', onEnd);
      return buf;
    },
  };
}

/**
 * A SOCKS5 proxy (RFC 1928, CONNECT only; RFC 1929 username/password when `auth` is given, else no authentication).
 */
export async function startSocks5Proxy(opts: { auth?: ProxyAuth } = {}): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const handshake = async (client: Socket): Promise<void> => {
    const r = reader(client);
    const [version, methods] = await r.read(2);
    if (version !== 5) return void client.destroy();
    const offered = [...(await r.read(methods))];
    const method = opts.auth ? 0x02 : 0x00;
    if (!offered.includes(method)) return void client.end(Buffer.from([5, 0xff]));
    client.write(Buffer.from([5, method]));
    if (opts.auth) {
      const [, userLength] = await r.read(2);
      const user = (await r.read(userLength)).toString('utf8');
      const [passwordLength] = await r.read(1);
      const password = (await r.read(passwordLength)).toString('utf8');
      if (user !== opts.auth.user || password !== opts.auth.password) {
        proxy.refused++;
        return void client.end(Buffer.from([1, 1]));
      }
      client.write(Buffer.from([1, 0]));
    }
    const [, command, , type] = await r.read(4);
    let host: string;
    if (type === 1) host = [...(await r.read(4))].join('.');
    else if (type === 3) host = (await r.read((await r.read(1))[0])).toString('utf8');
    else if (type === 4) host = ((await r.read(16)).toString('hex').match(/.{4}/g) ?? []).join(':');
    else return void client.end(Buffer.from([5, 8, 0, 1, 0, 0, 0, 0, 0, 0]));
    const port = (await r.read(2)).readUInt16BE(0);
    proxy.targets.push(`${isIPv6(host) ? `[${host}]` : host}:${port}`);
    // 7: command not supported
    if (command !== 1) return void client.end(Buffer.from([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]));
    const upstream = connect(port, host);
    // 5: connection refused
    upstream.once('error', () => client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])));
    upstream.once('connect', () => {
      proxy.tunnels++;
      proxy.ports.push(upstream.localPort ?? 0);
      client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
      const rest = r.release();
      if (rest.length > 0) upstream.write(rest);
      splice(client, upstream);
    });
  };
  const server = createServer((client) => {
    client.on('error', () => undefined);
    handshake(client).catch(() => client.destroy());
  });
  const port = await listen(server, sockets);
  const proxy: TestProxy = {
    url: `socks5://${credentialsIn(opts.auth)}127.0.0.1:${port}`,
    tunnels: 0,
    forwarded: 0,
    refused: 0,
    targets: [],
    ports: [],
    close: closer(server, sockets),
  };
  return proxy;
}
