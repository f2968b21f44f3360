import { loadConfigOrExit } from '@gg/config';
import { Logger } from 'nestjs-pino';

async function main(): Promise<void> {
  // Before the app module is loaded: its decorators read the configuration.
  const config = loadConfigOrExit();
  // traces (OTEL_EXPORTER_OTLP_ENDPOINT) before the modules that make spans; the SDK is loaded only then
  await (await import('@gg/nest-common')).startTelemetry(config, 'admin');
  const { createAdminApp } = await import('./app');
  const app = await createAdminApp(config);
  await app.listen(config.adminPort, '0.0.0.0');
  app.get(Logger).log(`admin ready on http://0.0.0.0:${config.adminPort} (UI from ${config.adminUiDir})`);
}

main().catch((e: unknown) => {
  process.stderr.write(`admin failed to start: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
