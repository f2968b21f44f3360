import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AppConfig } from '@gg/config';
import { compileTrust, redisTransport, telemetryEnabled } from '@gg/nest-common';
import cookieParser from 'cookie-parser';
import { Logger } from 'nestjs-pino';
import { AdminModule } from './admin.module';
import { RedisLink } from './health/redis-link';
import { docsCsp, docsForAdmins, mountApiDocs } from './http/api-docs';
import { BODY_LIMIT, bodyErrors } from './http/body-errors';
import { AdminErrorFilter } from './http/error-filter';
import { sameOriginJsonOnly } from './http/same-origin-json';
import { AdminTransactions } from './http/transactions';
import { traceApiCalls } from './http/tracing';
import { securityHeaders } from './http/security-headers';
import { spaHandlers } from './http/spa';
import { streamTicketFromQuery } from './http/stream-token';
import { AccessTokens } from './security/access-token';
import { SessionLiveness } from './security/session-liveness.service';

/**
 * The admin app, configured and with its event consumer started, not yet listening (main.ts and the
 * integration test both use it). Express middleware added here runs before Nest's own (the request logger).
 */
export async function createAdminApp(config: AppConfig): Promise<NestExpressApplication> {
  // No default body parsers: JSON only, registered below after the CSRF and content-type check.
  const app = await NestFactory.create<NestExpressApplication>(AdminModule, { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  // req.ip (throttling, logs) believes X-Forwarded-For / -Proto only from the proxies in TRUSTED_PROXIES
  app.set('trust proxy', compileTrust(config.trustedProxies));
  app.disable('x-powered-by');

  // first: every /api call gets its transaction line, those refused by the middleware below included
  app.use(app.get(AdminTransactions).middleware);
  if (telemetryEnabled()) app.use(traceApiCalls);
  app.use(streamTicketFromQuery);
  app.use(securityHeaders);
  app.use(docsCsp);
  app.use(...spaHandlers(config.adminUiDir));
  app.use(sameOriginJsonOnly(config.publicBaseUrl));
  app.use(cookieParser());
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.use(bodyErrors);
  app.use(docsForAdmins(app.get(AccessTokens), app.get(SessionLiveness)));

  app.setGlobalPrefix('api', { exclude: ['healthz', 'readyz', 'metrics'] });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useGlobalFilters(new AdminErrorFilter(app.get(RedisLink)));
  mountApiDocs(app);
  // Events (auth.logs.appended) arrive over the Redis transport.
  app.connectMicroservice(redisTransport(config), { inheritAppConfig: true });
  app.enableShutdownHooks();
  await app.startAllMicroservices();
  return app;
}
