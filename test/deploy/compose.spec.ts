import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './k8s-render';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Service = Record<string, any>;

/** docker/: the compose file parses, names every app, and starts them in order; the Dockerfile is the one image. */
describe('docker/', () => {
  const text = readFileSync(join(ROOT, 'docker/compose.yaml'), 'utf8');
  const compose = parse(text, { merge: true }) as {
    services: Record<string, Service>;
    volumes: Record<string, unknown>;
  };
  const envExample = readFileSync(join(ROOT, 'docker/.env.example'), 'utf8');
  const dockerfile = readFileSync(join(ROOT, 'docker/Dockerfile'), 'utf8');
  const apps = ['auth', 'key-pool', 'gateway', 'admin'];

  it('names Redis and every app, each app run from the one image by its command', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['admin', 'auth', 'gateway', 'key-pool', 'redis']);
    const images = new Set(apps.map((a) => compose.services[a].image));
    expect(images.size).toBe(1);
    expect([...images][0]).not.toMatch(/:latest\b/);
    for (const app of apps) {
      const s = compose.services[app];
      expect(s.command).toEqual(['node', `dist/out-tsc/apps/${app}/src/main.js`]);
      expect(s.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
      expect(s.environment.NODE_ENV).toBe('production');
      expect(s.environment.REDIS_URL).toMatch(
        /^redis:\/\/\$\{REDIS_USERNAME:-gg\}:\$\{REDIS_PASSWORD[^}]*\}@redis:6379$/,
      );
      expect(s.env_file).toEqual([{ path: '.env', required: true }]);
    }
  });

  it('runs Redis with AOF persistence, noeviction and one ACL user limited to the namespace, on a volume', () => {
    const redis = compose.services.redis;
    const cmd = redis.command.join(' ');
    expect(cmd).toMatch(/--appendonly yes/);
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
    expect(cmd).toMatch(/--user default off/);
    expect(cmd).toContain(
      '--user "$$REDIS_USERNAME" on ">$$REDIS_PASSWORD" "~$$REDIS_NAMESPACE:*" "&$$REDIS_NAMESPACE:*" +@all -@admin',
    );
    expect(redis.volumes).toEqual(['redis-data:/data']);
    expect(redis.image).toMatch(/^redis:\d+\.\d+\.\d+/);
  });

  it('starts apps only when what they need is healthy, and checks each app on its own port', () => {
    for (const name of ['auth', 'key-pool'])
      expect(compose.services[name].depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    for (const name of ['gateway', 'admin']) {
      expect(compose.services[name].depends_on).toEqual({
        auth: { condition: 'service_healthy' },
        'key-pool': { condition: 'service_healthy' },
      });
    }
    for (const name of [...apps, 'redis']) expect(compose.services[name].healthcheck.test.length).toBeGreaterThan(0);
    for (const app of apps)
      expect(compose.services[app].healthcheck.test).toEqual(['CMD', 'node', 'docker/healthcheck.js', app, 'readyz']);
    // SQLite files survive a restart
    expect(compose.services.auth.volumes).toEqual(['auth-data:/data']);
    expect(compose.services['key-pool'].volumes).toEqual(['key-pool-data:/data']);
  });

  it('lets the gateway drain streams on stop (grace above REQUEST_TIMEOUT_SECONDS = 300)', () => {
    const seconds = Number(/^(\d+)s$/.exec(compose.services.gateway.stop_grace_period)?.[1]);
    expect(seconds).toBeGreaterThan(300);
  });

  it('takes every secret from the env file, and the example names each one', () => {
    for (const name of [
      'REDIS_PASSWORD',
      'JWT_SECRET',
      'KEY_HASH_SECRET',
      'ENCRYPTION_KEY',
      'TRANSPORT_KEY',
      'ADMIN_PASSWORD',
    ]) {
      expect(envExample).toMatch(new RegExp(`^${name}=$`, 'm'));
      expect(text).not.toMatch(new RegExp(`${name}:\\s*[A-Za-z0-9]{16,}`));
    }
    const interpolated = [...text.matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]);
    for (const name of new Set(interpolated)) expect(envExample).toMatch(new RegExp(`^#?\\s*${name}=`, 'm'));
    expect(readFileSync(join(ROOT, 'docker/.gitignore'), 'utf8')).toMatch(/^\.env$/m);
  });

  it('builds one image: pinned Node base, production dependencies only, non-root, a healthcheck, the gateway by default', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-bookworm-slim$/m);
    expect(dockerfile).toMatch(/RUN node scripts\/build\.mjs/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*CMD \["node", "docker\/healthcheck\.js"\]$/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/out-tsc\/apps\/gateway\/src\/main\.js"\]$/m);
    expect(runtime).not.toMatch(/COPY --from=build \S+ \S*node_modules/);
  });
});

describe('docker/healthcheck.js', () => {
  const { target } = require(join(ROOT, 'docker/healthcheck.js')) as {
    target: (argv: string[], env: Record<string, string>) => { app: string; url: string };
  };

  it("asks each app's internal port, from its port variable or the default", () => {
    expect(target(['auth'], {}).url).toBe('http://127.0.0.1:8082/healthz');
    expect(target(['key-pool', 'readyz'], { KEY_POOL_HTTP_PORT: '9093' }).url).toBe('http://127.0.0.1:9093/readyz');
    expect(target([], { GG_APP: 'admin', ADMIN_PORT: '9000' }).url).toBe('http://127.0.0.1:8091/healthz');
    expect(target([], { GG_APP: 'admin', METRICS_PORT: '9464' }).url).toBe('http://127.0.0.1:9464/healthz');
    expect(target(['gateway'], { GATEWAY_PORT: '9000' }).url).toBe('http://127.0.0.1:8090/healthz');
    expect(() => target(['nope'], {})).toThrow(/unknown app/);
  });
});
