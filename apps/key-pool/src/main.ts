import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { loadConfigOrExit } from '@gg/config';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit();
  // traces (OTEL_EXPORTER_OTLP_ENDPOINT) before the modules that make spans; the SDK is loaded only then
  await (await import('@gg/nest-common')).startTelemetry(config, 'key-pool');
  // imported after the config is validated: decorators and modules read it while being defined
  const { KeyPoolModule } = await import('./key-pool.module');
  const { setupKeyPoolApp } = await import('./app.setup');
  const app = await NestFactory.create(KeyPoolModule, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  setupKeyPoolApp(app, config);
  await app.startAllMicroservices();
  await app.listen(config.keyPoolHttpPort, '0.0.0.0');
  app.get(Logger).log(`key-pool listening: probes on :${config.keyPoolHttpPort}, RPC on the Redis transport`);
}

void bootstrap();
