import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, maskProxyUrl, metricsPortFor, parseKeyList, redisOptions } from './config';

const dir = () => mkdtempSync(join(tmpdir(), 'gg-config-'));

describe('loadConfig', () => {
  it('has the defaults of docs/api.md and generates secrets into DATA_DIR with mode 0600', () => {
    const dataDir = dir();
    const c = loadConfig({ DATA_DIR: dataDir });
    expect(c).toMatchObject({
      geminiBaseUrl: 'https://generativelanguage.googleapis.com',
      databaseType: 'sqlite',
      redisUrl: 'redis://127.0.0.1:6379',
      redisNamespace: 'gg',
      adminUsername: 'admin',
      adminPassword: null,
      geminiApiKeys: [],
      requestTimeoutMs: 300_000,
      logLevel: 'info',
      gatewayPort: 8080,
      adminPort: 8081,
      authHttpPort: 8082,
      keyPoolHttpPort: 8083,
      maxAttempts: 3,
    });
    expect(statSync(join(dataDir, 'jwt-secret')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim()).toBe(c.jwtSecret);
    expect(c.encryptionKey).toHaveLength(32);
    // a second app on the same DATA_DIR reads the same secrets
    const again = loadConfig({ DATA_DIR: dataDir });
    expect(again.jwtSecret).toBe(c.jwtSecret);
    expect(again.keyHashSecret).toBe(c.keyHashSecret);
    expect(again.encryptionKey.equals(c.encryptionKey)).toBe(true);
  });

  it.each([
    [{ DATABASE_TYPE: 'mysql' }, 'DATABASE_TYPE'],
    [{ GATEWAY_PORT: 'eighty' }, 'GATEWAY_PORT'],
    [{ GATEWAY_PORT: '70000' }, 'GATEWAY_PORT'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ GEMINI_BASE_URL: 'not a url' }, 'GEMINI_BASE_URL'],
    [{ REDIS_NAMESPACE: 'a b' }, 'REDIS_NAMESPACE'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ ENCRYPTION_KEY: 'abcd' }, 'ENCRYPTION_KEY'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ KEY_SELECTION: 'best' }, 'KEY_SELECTION'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET'],
    [{ ADMIN_PASSWORD: 'short' }, 'ADMIN_PASSWORD'],
    [{ TRUSTED_PROXIES: '10.0.0.0/8, ingress' }, 'TRUSTED_PROXIES'],
    [{ TRUSTED_PROXIES: '10.0.0.0/40' }, 'TRUSTED_PROXIES'],
    [{ PUBLIC_BASE_URL: 'ftp://x' }, 'PUBLIC_BASE_URL'],
    [{ TRANSPORT_KEY: 'abcd' }, 'TRANSPORT_KEY'],
    [
      {
        NODE_ENV: 'production',
        JWT_SECRET: 'j'.repeat(32),
        KEY_HASH_SECRET: 'k'.repeat(32),
        ENCRYPTION_KEY: 'e'.repeat(64),
      },
      'TRANSPORT_KEY',
    ],
    [{ METRICS_PORT: 'nine' }, 'METRICS_PORT'],
    [{ RATE_LIMIT_FAIL_MODE: 'maybe' }, 'RATE_LIMIT_FAIL_MODE'],
    [{ RATE_LIMIT_FAIL_MODE: 'Closed' }, 'RATE_LIMIT_FAIL_MODE'],
    [{ TRANSACTION_LOG: 'syslog' }, 'TRANSACTION_LOG'],
    [{ TRANSACTION_LOG: 'File' }, 'TRANSACTION_LOG'],
    [{ METRICS_PORT: '70000' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '-1' }, 'METRICS_PORT'],
    [{ MAX_REQUEST_BODY_MB: 'ten' }, 'MAX_REQUEST_BODY_MB'],
    [{ MAX_REQUEST_BODY_MB: '0' }, 'MAX_REQUEST_BODY_MB'],
    [{ MAX_REQUEST_BODY_MB: '2049', BODY_MEMORY_BUDGET_MB: '4096' }, 'MAX_REQUEST_BODY_MB'],
    [{ MAX_OPENAI_BODY_MB: '1.5' }, 'MAX_OPENAI_BODY_MB'],
    [{ MAX_OPENAI_BODY_MB: '0' }, 'MAX_OPENAI_BODY_MB'],
    [{ MAX_UPLOAD_BODY_MB: '0' }, 'MAX_UPLOAD_BODY_MB'],
    [{ MAX_UPLOAD_BODY_MB: '65537' }, 'MAX_UPLOAD_BODY_MB'],
    [{ MAX_UPLOAD_BODY_MB: '2 GB' }, 'MAX_UPLOAD_BODY_MB'],
    [{ BODY_MEMORY_BUDGET_MB: 'lots' }, 'BODY_MEMORY_BUDGET_MB'],
    [{ BODY_MEMORY_BUDGET_MB: '0' }, 'BODY_MEMORY_BUDGET_MB'],
    // the budget must admit the largest buffered body: a native one, or an OpenAI one held about 4 times
    [{ MAX_REQUEST_BODY_MB: '200' }, 'BODY_MEMORY_BUDGET_MB'],
    [{ MAX_REQUEST_BODY_MB: '64', BODY_MEMORY_BUDGET_MB: '63' }, 'BODY_MEMORY_BUDGET_MB'],
    [{ MAX_OPENAI_BODY_MB: '33' }, 'BODY_MEMORY_BUDGET_MB'],
    [{ MAX_OPENAI_BODY_MB: '10', BODY_MEMORY_BUDGET_MB: '39' }, 'BODY_MEMORY_BUDGET_MB'],
    [{ MAX_ANSWER_BODY_MB: '0' }, 'MAX_ANSWER_BODY_MB'],
    [{ MAX_ANSWER_BODY_MB: '2049' }, 'MAX_ANSWER_BODY_MB'],
    [{ MAX_ANSWER_BODY_MB: 'big' }, 'MAX_ANSWER_BODY_MB'],
    [{ UPSTREAM_CONNECTIONS: '-1' }, 'UPSTREAM_CONNECTIONS'],
    [{ UPSTREAM_CONNECTIONS: 'many' }, 'UPSTREAM_CONNECTIONS'],
    [{ UPSTREAM_KEEPALIVE_SECONDS: '0' }, 'UPSTREAM_KEEPALIVE_SECONDS'],
    [{ UPSTREAM_KEEPALIVE_SECONDS: '3601' }, 'UPSTREAM_KEEPALIVE_SECONDS'],
    [{ TRANSPORT_KEY: 'ab'.repeat(31) }, 'TRANSPORT_KEY'],
    [{ TRANSPORT_KEY: Buffer.alloc(31, 1).toString('base64') }, 'TRANSPORT_KEY'],
  ])('refuses %j naming %s', (env, variable) => {
    const run = () => loadConfig({ DATA_DIR: dir(), ...env });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(new RegExp(`^${variable}: `));
  });

  it('generates the transport key beside the others, DATA_DIR and its parents 0700, and reads one given', () => {
    const dataDir = join(dir(), 'a', 'b');
    const c = loadConfig({ DATA_DIR: dataDir });
    expect(c.transportKey).toHaveLength(32);
    expect(c.transportKey.equals(c.encryptionKey)).toBe(false);
    expect(statSync(join(dataDir, 'transport-key')).mode & 0o777).toBe(0o600);
    for (const d of [dataDir, join(dataDir, '..')]) expect(statSync(d).mode & 0o777).toBe(0o700);
    expect(loadConfig({ DATA_DIR: dataDir }).transportKey.equals(c.transportKey)).toBe(true);
    expect(loadConfig({ DATA_DIR: dir(), TRANSPORT_KEY: 'ab'.repeat(32) }).transportKey.toString('hex')).toBe(
      'ab'.repeat(32),
    );
  });

  it('puts metrics and probes on 8090 (gateway) and 8091 (admin) unless METRICS_PORT says; fails open by default', () => {
    const c = loadConfig({ DATA_DIR: dir() });
    expect([metricsPortFor(c, 'gateway'), metricsPortFor(c, 'admin'), c.rateLimitFailMode]).toEqual([
      8090,
      8091,
      'open',
    ]);
    const set = loadConfig({ DATA_DIR: dir(), METRICS_PORT: '9464', RATE_LIMIT_FAIL_MODE: 'closed' });
    expect([metricsPortFor(set, 'gateway'), metricsPortFor(set, 'admin'), set.rateLimitFailMode]).toEqual([
      9464,
      9464,
      'closed',
    ]);
  });

  it('writes the transaction log on stdout by default, and reads TRANSACTION_LOG when set', () => {
    expect(loadConfig({ DATA_DIR: dir() }).transactionLog).toBe('stdout');
    expect(loadConfig({ DATA_DIR: dir(), TRANSACTION_LOG: 'file' }).transactionLog).toBe('file');
    expect(loadConfig({ DATA_DIR: dir(), TRANSACTION_LOG: 'off' }).transactionLog).toBe('off');
  });

  it('exports traces only when an OTLP endpoint is set, over http/protobuf unless told http/json; refuses gRPC', () => {
    const d = dir();
    const base = { DATA_DIR: d };
    expect(loadConfig(base).otelTraces).toBeNull();
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).otelTraces).toBeNull();
    const endpoint = 'http://collector:4318';
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).otelTraces).toEqual({
      protocol: 'http/protobuf',
    });
    expect(
      loadConfig({
        ...base,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/v1/traces`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      }).otelTraces,
    ).toEqual({ protocol: 'http/json' });
    // the traces-specific protocol wins over the general one
    const both = { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' };
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, ...both }).otelTraces).toEqual({
      protocol: 'http/json',
    });
    expect(() =>
      loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
    ).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL/);
    // the SDK's own switches turn it off
    expect(
      loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SDK_DISABLED: 'true' }).otelTraces,
    ).toBeNull();
    expect(
      loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_EXPORTER: 'none' }).otelTraces,
    ).toBeNull();
  });

  it('has the body limits of the README by default (MiB), reads them when set, and admits a budget that fits exactly', () => {
    const MB = 1024 * 1024;
    const c = loadConfig({ DATA_DIR: dir() });
    expect(c).toMatchObject({
      maxRequestBodyBytes: 20 * MB,
      maxOpenAiBodyBytes: 20 * MB,
      maxUploadBodyBytes: 2048 * MB,
      bodyMemoryBudgetBytes: 128 * MB,
      maxAnswerBodyBytes: 64 * MB,
      metricsPort: null,
      rateLimitFailMode: 'open',
    });
    const set = loadConfig({
      DATA_DIR: dir(),
      MAX_REQUEST_BODY_MB: '100',
      MAX_OPENAI_BODY_MB: '25',
      MAX_UPLOAD_BODY_MB: '512',
      BODY_MEMORY_BUDGET_MB: '100',
      MAX_ANSWER_BODY_MB: '8',
    });
    expect(set).toMatchObject({
      maxRequestBodyBytes: 100 * MB,
      maxOpenAiBodyBytes: 25 * MB,
      maxUploadBodyBytes: 512 * MB,
      bodyMemoryBudgetBytes: 100 * MB,
      maxAnswerBodyBytes: 8 * MB,
    });
    // 4 × 32 MiB is exactly the default budget of 128 MiB
    expect(loadConfig({ DATA_DIR: dir(), MAX_OPENAI_BODY_MB: '32' }).maxOpenAiBodyBytes).toBe(32 * MB);
    // the refusal names both limits and the least budget that would do
    expect(() => loadConfig({ DATA_DIR: dir(), MAX_OPENAI_BODY_MB: '40' })).toThrow(
      /MAX_REQUEST_BODY_MB and 4 × MAX_OPENAI_BODY_MB.*: 160, got 128/,
    );
  });

  it('reads METRICS_PORT 0 (any free port) and a blank one as unset, and TRANSPORT_KEY in base64', () => {
    expect(loadConfig({ DATA_DIR: dir(), METRICS_PORT: '0' }).metricsPort).toBe(0);
    expect(loadConfig({ DATA_DIR: dir(), METRICS_PORT: '  ' }).metricsPort).toBeNull();
    const key = Buffer.alloc(32, 7);
    expect(loadConfig({ DATA_DIR: dir(), TRANSPORT_KEY: key.toString('base64') }).transportKey.equals(key)).toBe(true);
  });

  it('has no first-byte limit unless UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS says, and refuses a negative one', () => {
    expect(loadConfig({ DATA_DIR: dir() }).firstByteTimeoutMs).toBeNull();
    expect(loadConfig({ DATA_DIR: dir(), UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '0' }).firstByteTimeoutMs).toBeNull();
    expect(loadConfig({ DATA_DIR: dir(), UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '30' }).firstByteTimeoutMs).toBe(30_000);
    expect(() => loadConfig({ DATA_DIR: dir(), UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '-1' })).toThrow(
      /UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS/,
    );
  });

  it('opens upstream connections without limit and keeps idle ones 30 s unless told', () => {
    const c = loadConfig({ DATA_DIR: dir() });
    expect([c.upstreamConnections, c.upstreamKeepAliveMs]).toEqual([null, 30_000]);
    const off = loadConfig({ DATA_DIR: dir(), UPSTREAM_CONNECTIONS: '0' });
    expect(off.upstreamConnections).toBeNull();
    const set = loadConfig({ DATA_DIR: dir(), UPSTREAM_CONNECTIONS: '64', UPSTREAM_KEEPALIVE_SECONDS: '4' });
    expect([set.upstreamConnections, set.upstreamKeepAliveMs]).toEqual([64, 4_000]);
  });

  it('goes to the upstream directly unless UPSTREAM_PROXY names an http, https or socks5 proxy', () => {
    expect(loadConfig({ DATA_DIR: dir() }).upstreamProxy).toBeNull();
    expect(loadConfig({ DATA_DIR: dir(), UPSTREAM_PROXY: ' ' }).upstreamProxy).toBeNull();
    for (const proxy of [
      'http://proxy.internal:3128',
      'https://user:p%40ss@proxy.internal:8443',
      'socks5://127.0.0.1:1080',
      'socks5://user:secret@[::1]:1080',
    ]) {
      expect(loadConfig({ DATA_DIR: dir(), UPSTREAM_PROXY: proxy }).upstreamProxy).toBe(proxy);
    }
    expect(loadConfig({ DATA_DIR: dir(), UPSTREAM_PROXY: 'http://proxy:3128/' }).upstreamProxy).toBe(
      'http://proxy:3128',
    );
  });

  it.each([
    ['ftp://user:hunter2secret@proxy:21', /^UPSTREAM_PROXY: must use http:, https:, socks5:, got ftp:$/],
    ['socks4://user:hunter2secret@proxy:1080', /^UPSTREAM_PROXY: must use .*got socks4:$/],
    ['user:hunter2secret@proxy:3128', /^UPSTREAM_PROXY: /],
    ['http://user:hunter2secret@proxy:3128/path', /^UPSTREAM_PROXY: must be scheme/],
    [`socks5://user:hunter2secret${'x'.repeat(250)}@proxy:1080`, /^UPSTREAM_PROXY: a socks5 user name/],
  ])('refuses UPSTREAM_PROXY=%s in one line naming the variable, never the password', (proxy, message) => {
    let error: unknown;
    try {
      loadConfig({ DATA_DIR: dir(), UPSTREAM_PROXY: proxy });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as Error).message;
    expect(text).toMatch(message);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('\n');
  });

  it('masks a proxy URL: the password, or a lone user name, never shown', () => {
    expect(maskProxyUrl('http://user:hunter2@proxy.internal:3128')).toBe('http://user:***@proxy.internal:3128');
    expect(maskProxyUrl('socks5://token@127.0.0.1:1080')).toBe('socks5://***@127.0.0.1:1080');
    expect(maskProxyUrl('https://proxy.internal')).toBe('https://proxy.internal');
    expect(maskProxyUrl('socks5://u%3Ax:p%40ss@[::1]:1080')).toBe('socks5://u:x:***@[::1]:1080');
  });

  it('trusts no proxy and no public URL unless told', () => {
    const c = loadConfig({ DATA_DIR: dir() });
    expect(c.trustedProxies).toEqual([]);
    expect(c.publicBaseUrl).toBeNull();
    const set = loadConfig({
      DATA_DIR: dir(),
      TRUSTED_PROXIES: '10.0.0.0/8 fd00::/8,127.0.0.1',
      PUBLIC_BASE_URL: 'https://gw.example.com/',
    });
    expect(set.trustedProxies).toEqual(['10.0.0.0/8', 'fd00::/8', '127.0.0.1']);
    expect(set.publicBaseUrl).toBe('https://gw.example.com');
  });

  it('keeps audit log entries 365 days unless AUDIT_RETENTION_DAYS says, and refuses a value out of range', () => {
    expect(loadConfig({ DATA_DIR: dir() }).auditRetentionDays).toBe(365);
    expect(loadConfig({ DATA_DIR: dir(), AUDIT_RETENTION_DAYS: '30' }).auditRetentionDays).toBe(30);
    expect(() => loadConfig({ DATA_DIR: dir(), AUDIT_RETENTION_DAYS: '0' })).toThrow(/AUDIT_RETENTION_DAYS/);
    expect(() => loadConfig({ DATA_DIR: dir(), AUDIT_RETENTION_DAYS: 'forever' })).toThrow(/AUDIT_RETENTION_DAYS/);
  });

  it('splits GEMINI_API_KEYS on commas and newlines', () => {
    expect(parseKeyList('a, b\nc,,\n')).toEqual(['a', 'b', 'c']);
    expect(loadConfig({ DATA_DIR: dir(), GEMINI_API_KEYS: 'k1,k2' }).geminiApiKeys).toEqual(['k1', 'k2']);
  });

  it('reads REDIS_URL credentials and database', () => {
    expect(redisOptions('redis://user:p%40ss@redis.example:6380/2')).toEqual({
      host: 'redis.example',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 2,
    });
    expect(redisOptions('rediss://gg:s3cret@redis.example:6380')).toEqual({
      host: 'redis.example',
      port: 6380,
      username: 'gg',
      password: 's3cret',
      tls: {},
    });
  });
});

describe('runtime settings from the environment', () => {
  const base = (): Record<string, string> => ({ DATA_DIR: mkdtempSync(join(tmpdir(), 'gg-cfg-settings-')) });

  it('gives the defaults and pins what PINNED_SETTINGS names', () => {
    const c = loadConfig({
      ...base(),
      MAX_ATTEMPTS: '5',
      KEY_BACKOFF_BASE_SECONDS: '10',
      HIDDEN_MODELS: 'models/gemini-a, gemini-b',
      MODEL_ALIASES: 'fast=gemini-2.5-flash,pro=models/gemini-2.5-pro',
      PINNED_SETTINGS: 'MAX_ATTEMPTS,defaultModel',
    });
    expect(c.settings.defaults).toMatchObject({
      maxAttempts: 5,
      backoffBaseSeconds: 10,
      hiddenModels: ['gemini-a', 'gemini-b'],
      modelAliases: { fast: 'gemini-2.5-flash', pro: 'gemini-2.5-pro' },
      defaultModel: '',
    });
    expect(c.settings.pinned).toEqual(['maxAttempts', 'defaultModel']);
  });

  it.each([
    [{ KEY_BACKOFF_MAX_SECONDS: '0' }, 'KEY_BACKOFF_MAX_SECONDS'],
    [{ KEY_BACKOFF_BASE_SECONDS: '600', KEY_BACKOFF_MAX_SECONDS: '60' }, 'KEY_BACKOFF_MAX_SECONDS'],
    [{ MODEL_ALIASES: 'fast' }, 'MODEL_ALIASES'],
    [{ POOL_PAUSE_PERCENT: '0' }, 'POOL_PAUSE_PERCENT'],
    [{ PINNED_SETTINGS: 'MAX_ATTEMPTS,NOPE' }, 'PINNED_SETTINGS'],
  ])('refuses %j naming the variable', (env, variable) => {
    expect(() => loadConfig({ ...base(), ...env })).toThrow(new RegExp(`^${variable}:`));
  });
});
