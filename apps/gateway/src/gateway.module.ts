import { Module } from '@nestjs/common';
import { ConfigModule } from '@gg/config';
import { RpcClient, TelemetryShutdown } from '@gg/nest-common';
import { AuthCacheService } from './auth/auth-cache.service';
import { EventsController } from './events.controller';
import { OwnershipService } from './resources/ownership.service';
import { ResourceGate } from './resources/resource-gate.service';
import { ResourceLists } from './resources/resource-lists.service';
import { ResourceStore } from './resources/resource-store.service';
import { AttemptRunner } from './forward/attempt-runner.service';
import { NativeRoute } from './forward/native.route';
import { GatewayPipeline } from './forward/pipeline.service';
import { GatewayTransactions } from './forward/transactions';
import { ProxyRouter } from './forward/proxy-router.service';
import { UpstreamService } from './forward/upstream.service';
import { OpenAiRoute } from './openai/openai.route';
import { GatewayMetrics } from './http/gateway-metrics';
import { GatewayServer } from './http/gateway-server';
import { RedisHealth } from './http/redis-health';
import { RateLimiterService } from './limits/rate-limiter.service';
import { LiveProxies } from './live/live-proxies.service';
import { LiveRelay } from './live/live-relay.service';
import { PoolReporterService } from './pool/pool-reporter.service';
import { PoolSnapshotService } from './pool/pool-snapshot.service';
import { RuntimeSettings } from './settings/runtime-settings.service';
import { SettingsEventsController } from './settings/settings-events.controller';
import { UsageReporterService } from './usage/usage-reporter.service';

@Module({
  imports: [ConfigModule],
  controllers: [EventsController, SettingsEventsController],
  providers: [
    RpcClient,
    TelemetryShutdown,
    RuntimeSettings,
    AuthCacheService,
    PoolSnapshotService,
    PoolReporterService,
    UsageReporterService,
    UpstreamService,
    ProxyRouter,
    ResourceStore,
    OwnershipService,
    ResourceLists,
    ResourceGate,
    GatewayTransactions,
    GatewayPipeline,
    RateLimiterService,
    AttemptRunner,
    NativeRoute,
    OpenAiRoute,
    LiveProxies,
    LiveRelay,
    GatewayMetrics,
    RedisHealth,
    GatewayServer,
  ],
})
export class GatewayModule {}
