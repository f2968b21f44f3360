import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit } from '@gg/config';
import { createLogger, PinoNestLogger, redisTransport } from '@gg/nest-common';
import { GatewayModule } from './gateway.module';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = new PinoNestLogger(createLogger('gateway'));
  const app = await NestFactory.createMicroservice(GatewayModule, { ...redisTransport(config), logger });
  app.enableShutdownHooks();
  await app.listen();
}

bootstrap().catch((e) => {
  process.stderr.write(`gateway failed to start: ${(e as Error).message}\n`);
  process.exit(1);
});
