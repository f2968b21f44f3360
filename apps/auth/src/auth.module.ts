import { Module } from '@nestjs/common';
import { ConfigModule } from '@gg/config';
import { DbModule } from '@gg/db';
import { AuthPattern } from '@gg/contracts';
import { loggerModule, pingController, ProbesModule, TelemetryShutdown } from '@gg/nest-common';
import { AuditModule } from './audit/audit.module';
import { EventsModule } from './events/events.module';
import { KeysModule } from './keys/keys.module';
import { LogsModule } from './logs/logs.module';
import { RetentionService } from './maintenance/retention.service';
import { SessionsModule } from './sessions/sessions.module';
import { UsageModule } from './usage/usage.module';
import { UsersModule } from './users/users.module';

/** auth: the single writer of users, user keys, call counts and the request log. */
@Module({
  imports: [
    ConfigModule,
    loggerModule('auth'),
    ProbesModule.forRoot(),
    DbModule.forService('auth'),
    UsersModule,
    SessionsModule,
    KeysModule,
    UsageModule,
    LogsModule,
    AuditModule,
    EventsModule,
  ],
  controllers: [pingController(AuthPattern.Ping)],
  providers: [RetentionService, TelemetryShutdown],
})
export class AuthModule {}
