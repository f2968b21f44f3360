import 'reflect-metadata';
import { loadConfigOrExit } from '@gg/config';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit();
  // Loaded after the configuration is known to be valid: event patterns read it when their modules load.
  const { NestFactory } = await import('@nestjs/core');
  const { createLogger, PinoNestLogger, redisTransport, startTelemetry } = await import('@gg/nest-common');
  // traces (OTEL_EXPORTER_OTLP_ENDPOINT) before the modules that make spans; the SDK is loaded only then
  await startTelemetry(config, 'gateway');
  const { GatewayModule } = await import('./gateway.module');
  const logger = new PinoNestLogger(createLogger('gateway'));
  const app = await NestFactory.createMicroservice(GatewayModule, { ...redisTransport(config), logger });
  app.enableShutdownHooks();
  await app.listen();
}

bootstrap().catch((e) => {
  process.stderr.write(`gateway failed to start: ${(e as Error).message}\n`);
  process.exit(1);
});
