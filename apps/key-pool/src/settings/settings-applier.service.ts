import { Injectable, type OnModuleInit } from '@nestjs/common';
import { keyPolicyFrom } from '@gg/key-state';
import { HealthCheckService } from '../health/health-check.service';
import { PoolStateService } from '../state/pool-state.service';
import { SettingsService } from './settings.service';

/** Hands key-pool's own services the runtime settings they use, at start and after every change. */
@Injectable()
export class SettingsApplier implements OnModuleInit {
  constructor(
    private readonly settings: SettingsService,
    private readonly pool: PoolStateService,
    private readonly health: HealthCheckService,
  ) {}

  onModuleInit(): void {
    this.settings.onChange((v) => {
      this.pool.configure(keyPolicyFrom(v), {
        minKeys: v.pauseMinKeys,
        fraction: v.pausePercent / 100,
        windowMs: v.pauseWindowSeconds * 1000,
      });
      this.health.setPeriod(v.healthCheckIntervalSeconds * 1000);
    });
  }
}
