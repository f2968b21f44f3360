// The source files of a new NestJS app (`nx g @gg/plugin:app NAME`), shaped like key-pool: config from
// @gg/config, a module, probes on the app's HTTP port through @gg/nest-common, graceful shutdown.

/** @param {{ name: string, className: string, propertyName: string, constantName: string, port: number }} o @returns {Record<string, string>} */
function appFiles({ name, className, propertyName, constantName, port }) {
  const setup = `setup${className}App`;
  const portOf = `${propertyName}HttpPort`;
  return {
    'src/main.ts': `import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { loadConfigOrExit } from '@gg/config';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit();
  // imported after the config is validated: decorators and modules read it while being defined
  const { ${className}Module } = await import('./${name}.module');
  const { ${setup}, ${portOf} } = await import('./app.setup');
  const app = await NestFactory.create(${className}Module, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  ${setup}(app);
  const port = ${portOf}(config);
  await app.listen(port, '0.0.0.0');
  app.get(Logger).log(\`${name} listening: probes on :\${port}\`);
}

void bootstrap();
`,
    'src/app.setup.ts': `import type { INestApplication } from '@nestjs/common';
import type { AppConfig } from '@gg/config';

/** Port of /healthz, /readyz and /metrics when METRICS_PORT is not set. Give the app a variable of its own in
 *  libs/config/src/config.ts (validated) once it serves more than its probes. */
export const ${constantName}_DEFAULT_PORT = ${port};

export function ${portOf}(config: Pick<AppConfig, 'metricsPort'>): number {
  return config.metricsPort ?? ${constantName}_DEFAULT_PORT;
}

/** What main.ts and the tests do to the app before starting it: on SIGTERM or SIGINT, Nest closes the modules
 *  (onModuleDestroy, onApplicationShutdown) and the HTTP server before the process ends. */
export function ${setup}(app: INestApplication): void {
  app.enableShutdownHooks();
}
`,
    [`src/${name}.module.ts`]: `import { Module } from '@nestjs/common';
import { ConfigModule } from '@gg/config';
import { loggerModule, ProbesModule } from '@gg/nest-common';

/** ${name}: /healthz, /readyz and /metrics on its HTTP port (ProbesModule); register readiness checks with ProbesService. */
@Module({
  imports: [ConfigModule, loggerModule('${name}'), ProbesModule.forRoot()],
  controllers: [],
  providers: [],
})
export class ${className}Module {}
`,
    'src/app.setup.spec.ts': `import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ProbesModule } from '@gg/nest-common';
import { ${constantName}_DEFAULT_PORT, ${portOf}, ${setup} } from './app.setup';

describe('${name} app', () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('answers its probes on its HTTP port once set up, and stops listening when closed', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ProbesModule.forRoot()] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    ${setup}(app);
    await app.listen(0, '127.0.0.1');
    const base = await app.getUrl();

    const health = await fetch(\`\${base}/healthz\`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    const ready = await fetch(\`\${base}/readyz\`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ok', checks: {} }]);

    await app.close();
    app = undefined;
    await expect(fetch(\`\${base}/healthz\`)).rejects.toThrow();
  });

  it('listens on METRICS_PORT when set, else on its default port', () => {
    expect(${portOf}({ metricsPort: 9464 })).toBe(9464);
    expect(${portOf}({ metricsPort: null })).toBe(${constantName}_DEFAULT_PORT);
  });
});
`,
  };
}

module.exports = { appFiles };
