import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { APP_CONFIG, metricsPortFor, type AppConfig } from '@gg/config';
import { requestIdFrom, runWithRequestId } from '@gg/nest-common';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { NativeRoute } from '../forward/native.route';
import { GatewayTransactions } from '../forward/transactions';
import { LiveRelay } from '../live/live-relay.service';
import { refuseUpgrade } from '../live/live-wire';
import { openAiEndpoint } from '../openai/openai-endpoint';
import { OpenAiRoute } from '../openai/openai.route';
import { PoolReporterService } from '../pool/pool-reporter.service';
import { PoolSnapshotService } from '../pool/pool-snapshot.service';
import { RuntimeSettings } from '../settings/runtime-settings.service';
import { UsageReporterService } from '../usage/usage-reporter.service';
import { installEscapedErrorHandlers } from './escaped-errors';
import { GatewayMetrics } from './gateway-metrics';
import { writeGoogleError } from './google-error';
import { plainRequestBytes } from './plain-upgrade';
import { RedisHealth } from './redis-health';
import { canonicalUrl, NON_CANONICAL_PATH } from './target-path';

const NATIVE = /^\/(?:upload\/|download\/)?v1(?:beta|alpha)?\//;

/**
 * The gateway's HTTP server: plain Node `http`, no framework between the client socket and the upstream socket.
 * On SIGTERM it stops accepting, lets requests in flight and Live sessions finish (up to the request deadline; the
 * sessions still open then are closed with 1001), then flushes.
 */
@Injectable()
export class GatewayServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Gateway');
  private server?: Server;
  /** /metrics, /healthz, /readyz on METRICS_PORT, never on the public port */
  private probes?: Server;
  private open = 0;
  private draining = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly native: NativeRoute,
    private readonly openai: OpenAiRoute,
    private readonly pool: PoolSnapshotService,
    private readonly reporter: PoolReporterService,
    private readonly usage: UsageReporterService,
    private readonly metrics: GatewayMetrics,
    private readonly redis: RedisHealth,
    private readonly live: LiveRelay,
    private readonly transactions: GatewayTransactions,
    private readonly settings?: RuntimeSettings,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 }, (req, res) =>
      this.onRequest(req, res),
    );
    this.server.maxHeadersCount = 200;
    // `Expect: 100-continue` is answered by the pipeline once the key passed (not by Node before anything is known)
    this.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
    installEscapedErrorHandlers(this.metrics.registry, this.logger);
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.gatewayPort, '0.0.0.0', () => resolve());
    });
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : this.config.gatewayPort;
    const probes = (this.probes = createServer((req, res) => this.onProbe(req, res)));
    await new Promise<void>((resolve, reject) => {
      probes.once('error', reject);
      probes.listen(metricsPortFor(this.config, 'gateway'), '0.0.0.0', () => resolve());
    });
    const probeAddr = probes.address();
    const probePort = typeof probeAddr === 'object' && probeAddr ? probeAddr.port : 0;
    this.logger.log(`gateway ready on http://127.0.0.1:${port} (metrics and probes on :${probePort})`);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const startedAtPerf = performance.now();
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    // everything done for the request (its log lines, its RPCs to auth and key-pool) names it
    runWithRequestId(requestId, () => this.serve(req, res, requestId, startedAtPerf));
  }

  private serve(req: IncomingMessage, res: ServerResponse, requestId: string, startedAtPerf: number): void {
    // before anything else (authentication included): a path the upstream could read another way is refused
    const url = canonicalUrl(req.url ?? '/');
    if (url === null) {
      this.transactions.refused(req, requestId, Date.now(), 'other', null, false, 400, 'non-canonical path');
      return writeGoogleError(res, 400, 'INVALID_ARGUMENT', NON_CANONICAL_PATH);
    }
    if (url !== req.url) req.url = url;
    if (NATIVE.test(url)) {
      if (this.draining) res.setHeader('connection', 'close');
      this.open++;
      this.metrics.open.inc();
      res.once('close', () => {
        this.open--;
        this.metrics.open.dec();
      });
      const openai = url.startsWith('/v1/') ? openAiEndpoint(req.method, url, req.headers) : null;
      if (openai) this.openai.handle(openai, req, res, requestId, Date.now(), startedAtPerf);
      else this.native.handle(req, res, requestId, Date.now(), startedAtPerf);
      return;
    }
    this.transactions.refused(req, requestId, Date.now(), 'other', null, false, 404, 'no route');
    writeGoogleError(res, 404, 'NOT_FOUND', `No route for ${req.method} ${url.split('?')[0].slice(0, 200)}.`);
  }

  /** A WebSocket upgrade: the Live API, else 404; refused while draining (sessions go to another replica). */
  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const upgrade = req.headers.upgrade;
    if (typeof upgrade !== 'string' || upgrade.toLowerCase() !== 'websocket') {
      // not a WebSocket (h2c…): served as the plain request it also is, on the same socket
      socket.unshift(plainRequestBytes(req, head));
      this.server?.emit('connection', socket);
      return;
    }
    // an upgraded socket has no error listener of Node's own: a reset must not become an uncaught exception
    socket.on('error', () => socket.destroy());
    const requestId = requestIdFrom(req.headers['x-request-id']);
    // a Live session is one request: its lines and RPCs name it for as long as it lasts
    runWithRequestId(requestId, () => this.upgradeLive(req, socket, head, requestId));
  }

  private upgradeLive(req: IncomingMessage, socket: Duplex, head: Buffer, requestId: string): void {
    if (this.draining) {
      const message = 'The gateway is shutting down; retry shortly.';
      return refuseUpgrade(socket, 503, 'UNAVAILABLE', message, requestId, { 'retry-after': '1' });
    }
    if (this.live.upgrade(req, socket, head, requestId)) return;
    const path = (req.url ?? '/').split('?')[0].slice(0, 200);
    refuseUpgrade(socket, 404, 'NOT_FOUND', `No route for ${req.method} ${path}.`, requestId);
  }

  /** The internal port: liveness, readiness (Redis, a pool snapshot, not draining) and Prometheus. */
  private onProbe(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      // a failed check is an unready replica (503), never an unanswered probe or an escaped rejection
      this.redis
        .ping()
        .then((redis) => {
          const checks = { redis, pool: this.pool.ready, draining: !this.draining };
          const ok = redis && this.pool.ready && !this.draining;
          json(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', checks });
        })
        .catch(() => probeFailed(res, 503));
      return;
    }
    if (path === '/metrics') {
      this.metrics.registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
          res.end(text);
        })
        .catch(() => probeFailed(res, 500));
      return;
    }
    json(res, 404, { status: 'not found' });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.draining = true;
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // the total timeout in force (runtime settings): the longest a request still running may take
    const deadline = Date.now() + (this.settings?.requestTimeoutMs ?? this.config.requestTimeoutMs);
    // open Live sessions may run until the deadline too, then are told to go (1001)
    while ((this.open > 0 || this.live.size > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      server.closeIdleConnections();
    }
    await this.live.closeAll();
    server.closeAllConnections();
    await closed;
    this.probes?.closeAllConnections();
    this.probes?.close();
    this.reporter.close();
    await this.usage.flush();
    await this.transactions.flush();
    this.logger.log('gateway drained');
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A probe whose check rejected: its status, unless an answer is already under way (then the socket is cut). */
function probeFailed(res: ServerResponse, status: number): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  json(res, status, { status: status === 503 ? 'unavailable' : 'error' });
}
