import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { ConfigModule, getConfig, metricsPortFor } from '@gg/config';
import { loggerModule, ProbesModule, RpcClient, TelemetryShutdown } from '@gg/nest-common';
import { AdminTransactions } from './http/transactions';
import { AuditRecorder } from './audit/audit-recorder.service';
import { AuditController } from './audit/audit.controller';
import { AuthKeysController } from './auth-keys/auth-keys.controller';
import { ReadinessChecks } from './health/readiness.service';
import { RedisLink } from './health/redis-link';
import { ResourcesController } from './resources/resources.controller';
import { KeysController } from './keys/keys.controller';
import { ProxiesController } from './proxies/proxies.controller';
import { LogStreamService } from './logs/log-stream.service';
import { LogsEventsController } from './logs/logs-events.controller';
import { LogsController } from './logs/logs.controller';
import { AccessTokens } from './security/access-token';
import { CallerRpc } from './security/caller-rpc';
import { JwtAuthGuard } from './security/jwt-auth.guard';
import { JwtStrategy } from './security/jwt.strategy';
import { RolesGuard } from './security/roles.guard';
import { SessionLiveness } from './security/session-liveness.service';
import { SessionGuard } from './security/session.guard';
import { SessionController } from './session/session.controller';
import { ServiceLogsController } from './service-logs/service-logs.controller';
import { SettingsController } from './settings/settings.controller';
import { ServiceLogsService } from './service-logs/service-logs.service';
import { SessionService } from './session/session.service';
import { StatsController } from './stats/stats.controller';
import { StreamTicketStore } from './streams/stream-ticket.store';
import { StreamsController } from './streams/streams.controller';
import { UsersController } from './users/users.controller';

/** The admin owns no data: every route is an RPC to auth or key-pool. */
@Module({
  imports: [
    ConfigModule,
    loggerModule('admin'),
    PassportModule,
    ProbesModule.forRoot({ internalPort: metricsPortFor(getConfig(), 'admin') }),
  ],
  controllers: [
    SessionController,
    UsersController,
    AuthKeysController,
    KeysController,
    ProxiesController,
    LogsController,
    LogsEventsController,
    StatsController,
    StreamsController,
    ResourcesController,
    AuditController,
    ServiceLogsController,
    SettingsController,
  ],
  providers: [
    AdminTransactions,
    RpcClient,
    TelemetryShutdown,
    CallerRpc,
    AccessTokens,
    SessionLiveness,
    RedisLink,
    StreamTicketStore,
    JwtStrategy,
    SessionService,
    LogStreamService,
    // beside SessionLiveness: an open service-log stream checks its session as the request-log stream does
    ServiceLogsService,
    ReadinessChecks,
    AuditRecorder,
    // Order matters: authenticate first (401), then check the role (403), then that the session is still live (401).
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
    { provide: APP_GUARD, useClass: SessionGuard },
  ],
})
export class AdminModule {}
