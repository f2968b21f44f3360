import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AppConfig } from '@gg/config';
import { HttpErrorFilter, redisTransport } from '@gg/nest-common';
import cookieParser from 'cookie-parser';
import { Logger } from 'nestjs-pino';
import { AdminModule } from './admin.module';
import { docsCsp, mountApiDocs } from './http/api-docs';
import { securityHeaders } from './http/security-headers';
import { spaHandlers } from './http/spa';
import { streamTokenFromQuery } from './http/stream-token';

/**
 * The admin app, configured and with its event consumer started, not yet listening (main.ts and the
 * integration test both use it). Express middleware added here runs before Nest's own (the request logger).
 */
export async function createAdminApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AdminModule, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.set('trust proxy', 'loopback');
  app.disable('x-powered-by');

  app.use(streamTokenFromQuery);
  app.use(securityHeaders);
  app.use(docsCsp);
  app.use(...spaHandlers(config.adminUiDir));
  app.use(cookieParser());
  app.useBodyParser('json', { limit: '1mb' });

  app.setGlobalPrefix('api', { exclude: ['healthz', 'readyz', 'metrics'] });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useGlobalFilters(new HttpErrorFilter());
  mountApiDocs(app);
  // Events (auth.logs.appended) arrive over the Redis transport.
  app.connectMicroservice(redisTransport(config), { inheritAppConfig: true });
  app.enableShutdownHooks();
  await app.startAllMicroservices();
  return app;
}
