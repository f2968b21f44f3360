import type { AttemptOutcome, AuthKeyRecord, SnapshotKey } from '@gg/contracts';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { LiveSession, type LiveHost } from './live-session';

/**
 * LiveSession between real sockets: a client, the session behind a bare upgrade handler, and a scripted upstream
 * (a ws server) that answers the setup, echoes frames with their type, and sends a flood on demand.
 */

const RECORD: AuthKeyRecord = { id: 'k1', userId: 'u1', isActive: true, expiresAt: null, allowedModels: null };
const FRAME = 64 * 1024;
const FLOOD = 300;

interface Upstream {
  url: string;
  /** frames received by the upstream after the setup: [type, text] */
  received: [string, string][];
  /** the upstream's socket of the session, once open */
  socket: Promise<WebSocket>;
  keys: string[];
  close(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const received: [string, string][] = [];
  const keys: string[] = [];
  let resolveSocket!: (ws: WebSocket) => void;
  const socket = new Promise<WebSocket>((r) => (resolveSocket = r));
  wss.on('connection', (ws, req) => {
    keys.push(new URL(req.url ?? '/', 'http://x').searchParams.get('key') ?? '');
    resolveSocket(ws);
    let setup = true;
    ws.on('message', (data: Buffer, isBinary) => {
      if (setup) {
        setup = false;
        ws.send(Buffer.from('{"setupComplete":{}}'), { binary: true });
        return;
      }
      received.push([isBinary ? 'binary' : 'text', data.toString('utf8')]);
      if (data.toString('utf8') === 'flood') {
        // numbered frames, sent as fast as the socket takes them: order and completeness are checked
        for (let i = 0; i < FLOOD; i++) {
          const b = Buffer.alloc(FRAME, 0x61);
          b.writeUInt32BE(i, 0);
          ws.send(b, { binary: true });
        }
      } else ws.send(data, { binary: isBinary });
    });
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    socket,
    keys,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

function host(
  upstreamUrl: string,
  ended: (s: LiveSession) => void,
): LiveHost & { inUse: Map<string, number>; pingIntervalMs: number } {
  const inUse = new Map<string, number>();
  const keys: SnapshotKey[] = [
    { id: 'p1', secret: 'AIzaPoolKeyOne', status: 'active', cooldownUntil: 0, modelCooldowns: {} },
  ];
  return {
    inUse,
    geminiBaseUrl: upstreamUrl,
    maxAttempts: 3,
    upstreamSetupTimeoutMs: 5_000,
    clientSetupTimeoutMs: 5_000,
    maxUpstreamMessageBytes: 16 * 1024 * 1024,
    // no ping within a test, unless the test asks for one
    pingIntervalMs: 60_000,
    modelAllowed: () => true,
    choose: (_model: string, exclude: ReadonlySet<string>) => keys.find((k) => !exclude.has(k.id)) ?? null,
    acquire: (id: string) => inUse.set(id, (inUse.get(id) ?? 0) + 1),
    release: (id: string) => inUse.set(id, (inUse.get(id) ?? 0) - 1),
    report: (_o: AttemptOutcome) => undefined,
    via: (_key: SnapshotKey, tried: ReadonlySet<string>) =>
      tried.size === 0 ? { proxyId: null, agent: undefined } : null,
    proxyFailed: () => undefined,
    ended,
  };
}

describe('LiveSession relay between real sockets', () => {
  let upstream: Upstream;
  let gateway: Server;
  let gatewayUrl: string;
  let sessionEnded: Promise<LiveSession>;
  let h: ReturnType<typeof host>;

  beforeEach(async () => {
    upstream = await startUpstream();
    let resolveEnded!: (s: LiveSession) => void;
    sessionEnded = new Promise((r) => (resolveEnded = r));
    h = host(upstream.url, resolveEnded);
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    gateway = createServer();
    gateway.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      wss.handleUpgrade(req, socket, head, (ws) =>
        new LiveSession(h, ws, RECORD, 'gg-user', 'hash', req, 'req-1', {
          version: 'v1beta',
          constrained: false,
          queryKey: null,
        }).start(),
      ),
    );
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', () => r()));
    gatewayUrl = `ws://127.0.0.1:${(gateway.address() as AddressInfo).port}/`;
  });

  afterEach(async () => {
    gateway.closeAllConnections();
    await new Promise<void>((r) => gateway.close(() => r()));
    await upstream.close();
  });

  async function open(autoPong = true): Promise<{ client: WebSocket; next: () => Promise<[boolean, Buffer]> }> {
    const client = new WebSocket(gatewayUrl, { perMessageDeflate: false, autoPong });
    const inbox: [boolean, Buffer][] = [];
    const waiting: ((m: [boolean, Buffer]) => void)[] = [];
    client.on('message', (data: Buffer, isBinary) => {
      const w = waiting.shift();
      if (w) w([isBinary, data]);
      else inbox.push([isBinary, data]);
    });
    await new Promise((r) => client.once('open', r));
    client.send(JSON.stringify({ setup: { model: 'models/gemini-live-2.5-flash-preview' } }));
    const next = (): Promise<[boolean, Buffer]> => {
      const m = inbox.shift();
      return m ? Promise.resolve(m) : new Promise((r) => waiting.push(r));
    };
    return { client, next };
  }

  it('relays each frame with its own type and bytes, with the pool key only upstream, and holds the key', async () => {
    const { client, next } = await open();
    const [setupBinary, setup] = await next();
    expect([setupBinary, setup.toString()]).toEqual([true, '{"setupComplete":{}}']);
    expect(h.inUse.get('p1')).toBe(1);
    client.send('{"clientContent":{"turns":[],"turnComplete":true}}');
    client.send(Buffer.from('{"realtimeInput":{}}'), { binary: true });
    const a = await next();
    const b = await next();
    expect([a[0], a[1].toString()]).toEqual([false, '{"clientContent":{"turns":[],"turnComplete":true}}']);
    expect([b[0], b[1].toString()]).toEqual([true, '{"realtimeInput":{}}']);
    expect(upstream.received).toEqual([
      ['text', '{"clientContent":{"turns":[],"turnComplete":true}}'],
      ['binary', '{"realtimeInput":{}}'],
    ]);
    expect(upstream.keys).toEqual(['AIzaPoolKeyOne']);
    client.close(1000);
    const s = await sessionEnded;
    expect(s).toMatchObject({ status: 101, attempts: 1, poolKeyId: 'p1' });
    expect(s.error).toBeUndefined();
    expect(h.inUse.get('p1')).toBe(0);
  });

  it('keeps a client that answers pings, and cuts one that stops answering, freeing its pool key', async () => {
    h.pingIntervalMs = 100;
    const { client, next } = await open(false);
    await next();
    let pings = 0;
    client.on('ping', () => {
      pings++;
      // the first ping is answered, none after it
      if (pings === 1) client.pong();
    });
    const closed = new Promise<number>((r) => client.once('close', (code) => r(code)));
    const s = await sessionEnded;
    expect(pings).toBe(2);
    expect(await closed).toBe(1006);
    expect(s.error).toBe('the client stopped answering pings');
    expect(h.inUse.get('p1')).toBe(0);
  });

  it('stops reading the upstream while the client does not read, then delivers every frame in order', async () => {
    const { client, next } = await open();
    await next();
    const up = await upstream.socket;
    client.pause();
    client.send('flood');
    // with the client not reading, the gateway pauses the upstream: the upstream's own send buffer fills up
    // (a gateway that kept reading would hold the whole flood in memory and the upstream's buffer would drain)
    // wait until it settles (unchanged over 200 ms): a relay that kept reading would have drained it to 0
    let last = -1;
    for (let still = 0, t0 = Date.now(); still < 4 && Date.now() - t0 < 10_000;) {
      await new Promise((r) => setTimeout(r, 50));
      still = up.bufferedAmount === last ? still + 1 : 0;
      last = up.bufferedAmount;
    }
    expect(up.bufferedAmount).toBeGreaterThanOrEqual(FRAME * 10);
    client.resume();
    // 'flood' is answered with the flood only, no echo
    for (let i = 0; i < FLOOD; i++) {
      const [binary, data] = await next();
      expect(binary).toBe(true);
      expect(data.length).toBe(FRAME);
      expect(data.readUInt32BE(0)).toBe(i);
    }
    client.close(1000);
    await sessionEnded;
  }, 30_000);
});
