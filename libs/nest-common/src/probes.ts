import { Controller, Get, Header, Injectable, Module, Res, type DynamicModule } from '@nestjs/common';
import type { Response } from 'express';
import { collectDefaultMetrics, Registry } from 'prom-client';

export type ReadinessCheck = () => Promise<boolean>;

/** Readiness checks an app registers (its Redis, its database) and its Prometheus registry. */
@Injectable()
export class ProbesService {
  readonly registry = new Registry();
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

/** `/healthz`, `/readyz`, `/metrics` on the app's HTTP port. */
@Module({})
export class ProbesModule {
  static forRoot(): DynamicModule {
    return {
      module: ProbesModule,
      global: true,
      controllers: [ProbesController],
      providers: [ProbesService],
      exports: [ProbesService],
    };
  }
}
