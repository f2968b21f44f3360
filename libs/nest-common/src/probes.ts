import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  Controller,
  Get,
  Header,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  RequestMethod,
  Res,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestMiddleware,
  type NestModule,
} from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { HttpMetrics, RpcMetricsInterceptor } from './metrics';

export type ReadinessCheck = () => Promise<boolean>;

/** Readiness checks an app registers (its Redis, its database) and its Prometheus registry. */
@Injectable()
export class ProbesService {
  readonly registry = new Registry();
  /** request counts and latencies by route pattern and status (ProbesModule applies its middleware) */
  readonly http = new HttpMetrics(this.registry);
  private readonly checks = new Map<string, ReadinessCheck>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /** name -> ok, each check bounded to 1 s */
  async readiness(): Promise<Record<string, boolean>> {
    const out: Record<string, boolean> = {};
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        out[name] = await Promise.race([
          check().catch(() => false),
          new Promise<boolean>((r) => setTimeout(() => r(false), 1000).unref()),
        ]);
      }),
    );
    return out;
  }
}

@Controller()
export class ProbesController {
  constructor(private readonly probes: ProbesService) {}

  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(@Res() res: Response): Promise<void> {
    const checks = await this.probes.readiness();
    const ok = Object.values(checks).every(Boolean);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks });
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return this.probes.registry.metrics();
  }
}

@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly probes: ProbesService) {}

  use(req: Request, res: Response, next: NextFunction): void {
    this.probes.http.middleware(req, res, next);
  }
}

export const PROBES_PORT = Symbol('PROBES_PORT');

/**
 * `/healthz`, `/readyz`, `/metrics` on an internal port of their own (plain Node `http`), for an app whose HTTP
 * port is public: that port then answers none of them. `port` is known once the server listens (0 picks one).
 */
@Injectable()
export class ProbesServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Probes');
  private server?: Server;
  port = 0;

  constructor(
    private readonly probes: ProbesService,
    @Inject(PROBES_PORT) private readonly wanted: number,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const server = (this.server = createServer((req, res) => void this.answer(req, res)));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.wanted, '0.0.0.0', () => resolve());
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : this.wanted;
    this.logger.log(`metrics and probes on :${this.port}`);
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    let status = 200;
    let type = 'application/json';
    let body: string;
    if (path === '/healthz') body = JSON.stringify({ status: 'ok' });
    else if (path === '/readyz') {
      const checks = await this.probes.readiness();
      const ok = Object.values(checks).every(Boolean);
      status = ok ? 200 : 503;
      body = JSON.stringify({ status: ok ? 'ok' : 'unavailable', checks });
    } else if (path === '/metrics') {
      body = await this.probes.registry.metrics().catch(() => '');
      type = this.probes.registry.contentType;
    } else {
      status = 404;
      body = JSON.stringify({ status: 'not found' });
    }
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  onApplicationShutdown(): void {
    this.server?.closeAllConnections();
    this.server?.close();
  }
}

export interface ProbesOptions {
  /**
   * Serve the probes on this internal port (ProbesServer) instead of the app's own HTTP port. For apps whose
   * HTTP port is public (admin); auth and key-pool have no public port and keep them on theirs.
   */
  internalPort?: number;
}

/**
 * `/healthz`, `/readyz`, `/metrics` on the app's HTTP port or on an internal port of their own, with HTTP
 * metrics by route pattern and status and message metrics by pattern on every app that imports it.
 */
@Module({})
export class ProbesModule implements NestModule {
  static forRoot(options: ProbesOptions = {}): DynamicModule {
    const internal = options.internalPort !== undefined;
    return {
      module: ProbesModule,
      global: true,
      controllers: internal ? [] : [ProbesController],
      providers: [
        ProbesService,
        HttpMetricsMiddleware,
        {
          provide: APP_INTERCEPTOR,
          useFactory: (probes: ProbesService) => new RpcMetricsInterceptor(probes.registry),
          inject: [ProbesService],
        },
        ...(internal ? [{ provide: PROBES_PORT, useValue: options.internalPort }, ProbesServer] : []),
      ],
      exports: [ProbesService, ...(internal ? [ProbesServer] : [])],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '{*splat}', method: RequestMethod.ALL });
  }
}
