import { ValidationPipe, type INestApplication } from '@nestjs/common';
import type { AppConfig } from '@gg/config';
import { redisTransport, TransportErrorFilter } from '@gg/nest-common';

/** What main.ts and the integration tests do to the app before starting it. */
export function setupKeyPoolApp(app: INestApplication, config: AppConfig): void {
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useGlobalFilters(new TransportErrorFilter());
  app.connectMicroservice(redisTransport(config), { inheritAppConfig: true });
  app.enableShutdownHooks();
}
