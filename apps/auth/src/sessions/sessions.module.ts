import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { UsersModule } from '../users/users.module';
import { LoginThrottleService } from './login-throttle.service';
import { RefreshTokenStore } from './refresh-token.store';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

@Module({
  imports: [
    UsersModule,
    JwtModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({ secret: config.jwtSecret, signOptions: { algorithm: 'HS256' } }),
    }),
  ],
  controllers: [SessionsController],
  providers: [SessionsService, RefreshTokenStore, LoginThrottleService],
})
export class SessionsModule {}
