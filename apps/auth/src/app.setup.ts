import { type INestApplication, ValidationPipe } from '@nestjs/common';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { DB_MANAGER, type DbManager } from '@gg/db';
import { ProbesService, redisTransport, TransportErrorFilter } from '@gg/nest-common';
import { Logger } from 'nestjs-pino';

import { UsageWorker } from './usage/usage.worker';

/**
 * Wires an AuthModule application: pino logger, validation and error filters (registered before the
 * microservice is connected, which builds its handlers at once and inherits them), the Redis transport,
 * readiness checks. Shared by main.ts and the integration test.
 */
export function configureAuthApp(app: INestApplication): AppConfig {
  const config = app.get<AppConfig>(APP_CONFIG);
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useGlobalFilters(new TransportErrorFilter());
  app.connectMicroservice<MicroserviceOptions>(redisTransport(config), { inheritAppConfig: true });
  app.enableShutdownHooks();

  const probes = app.get(ProbesService);
  const db = app.get<DbManager>(DB_MANAGER);
  const usage = app.get(UsageWorker);
  probes.register('db', () => db.ping());
  probes.register('redis', () => usage.ping());
  return config;
}
