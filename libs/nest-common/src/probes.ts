import {
  Controller,
  Get,
  Header,
  Injectable,
  Module,
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

/**
 * `/healthz`, `/readyz`, `/metrics` on the app's HTTP port, with HTTP metrics by route pattern and status and
 * message metrics by pattern on every app that imports it.
 */
@Module({})
export class ProbesModule implements NestModule {
  static forRoot(): DynamicModule {
    return {
      module: ProbesModule,
      global: true,
      controllers: [ProbesController],
      providers: [
        ProbesService,
        HttpMetricsMiddleware,
        { provide: APP_INTERCEPTOR, useFactory: (probes: ProbesService) => new RpcMetricsInterceptor(probes.registry), inject: [ProbesService] },
      ],
      exports: [ProbesService],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '{*splat}', method: RequestMethod.ALL });
  }
}
