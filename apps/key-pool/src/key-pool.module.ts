import { Module } from '@nestjs/common';
import { ConfigModule } from '@gg/config';
import { DbModule } from '@gg/db';
import { PoolPattern } from '@gg/contracts';
import { loggerModule, pingController, ProbesModule, RpcClient, TelemetryShutdown } from '@gg/nest-common';
import { HealthCheckService } from './health/health-check.service';
import { HealthQueueMetrics } from './health/health-queue.metrics';
import { KeyCheckService } from './keys/key-check.service';
import { PoolKeysService } from './keys/pool-keys.service';
import { ProxiesService } from './proxies/proxies.service';
import { ReadinessChecks } from './readiness';
import { ResourceRecordsService } from './resources/resource-records.service';
import { ResourcesController } from './resources/resources.controller';
import { PoolController } from './rpc/pool.controller';
import { CryptoService } from './secrets/crypto.service';
import { SettingsApplier } from './settings/settings-applier.service';
import { SettingsController } from './settings/settings.controller';
import { SettingsService } from './settings/settings.service';
import { InFlightService } from './state/in-flight.service';
import { PoolMetrics } from './state/pool-metrics';
import { PoolStateService } from './state/pool-state.service';
import { SnapshotPublisher } from './state/snapshot-publisher.service';
import { StatePersister } from './state/state-persister.service';

/** key-pool: the single writer of pool state. RPCs and events over the Redis transport; probes over HTTP. */
@Module({
  imports: [ConfigModule, loggerModule('key-pool'), DbModule.forService('key-pool'), ProbesModule.forRoot()],
  controllers: [PoolController, ResourcesController, pingController(PoolPattern.Ping), SettingsController],
  providers: [
    RpcClient,
    TelemetryShutdown,
    CryptoService,
    PoolStateService,
    StatePersister,
    SnapshotPublisher,
    InFlightService,
    PoolKeysService,
    ProxiesService,
    KeyCheckService,
    HealthCheckService,
    ReadinessChecks,
    PoolMetrics,
    ResourceRecordsService,
    HealthQueueMetrics,
    SettingsService,
    SettingsApplier,
  ],
})
export class KeyPoolModule {}
