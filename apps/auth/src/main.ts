import 'reflect-metadata';
import { loadConfigOrExit } from '@gg/config';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit();
  // traces (OTEL_EXPORTER_OTLP_ENDPOINT) before the modules that make spans; the SDK is loaded only then
  await (await import('@gg/nest-common')).startTelemetry(config, 'auth');
  // Loaded after the configuration is known to be valid: message patterns read it when their modules load.
  const { NestFactory } = await import('@nestjs/core');
  const { Logger } = await import('nestjs-pino');
  const { AuthModule } = await import('./auth.module');
  const { configureAuthApp } = await import('./app.setup');

  const app = await NestFactory.create(AuthModule, { bufferLogs: true });
  configureAuthApp(app);
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.authHttpPort, '0.0.0.0');
  app.get(Logger).log(`auth ready (probes on :${config.authHttpPort})`);
}

void bootstrap();
