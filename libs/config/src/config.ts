import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import proxyAddr from 'proxy-addr';
import type { SettingsEnv } from '@gg/contracts';
import { settingsEnvFrom } from './runtime-settings';

export type DatabaseType = 'sqlite' | 'redis';
export type KeySelection = 'least-busy' | 'round-robin' | 'random';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
export type RateLimitFailMode = 'open' | 'closed';
export type TransactionLogMode = 'stdout' | 'file' | 'off';
export type OtlpProtocol = 'http/protobuf' | 'http/json';
export interface OtelTraces {
  /** OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf by default) */
  protocol: OtlpProtocol;
}

/** One validated configuration, the same names for every app (docs/api.md §2 "Configuration"). */
export interface AppConfig {
  nodeEnv: string;
  geminiBaseUrl: string;
  databaseType: DatabaseType;
  dataDir: string;
  redisUrl: string;
  redisNamespace: string;
  jwtSecret: string;
  keyHashSecret: string;
  encryptionKey: Buffer;
  /** AES-256-GCM key of every message on the Redis transport (TRANSPORT_KEY), shared by every app */
  transportKey: Buffer;
  adminUsername: string;
  /** null: generate one on first start and print it once */
  adminPassword: string | null;
  geminiApiKeys: string[];
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /**
   * UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: an attempt with no response headers by then is abandoned, counted as a
   * failure of its key and retried on another; null (0): no limit but the request's own deadline
   */
  firstByteTimeoutMs: number | null;
  /** UPSTREAM_CONNECTIONS: a gateway's connections to the upstream origin at most; null (0): no limit */
  upstreamConnections: number | null;
  /** UPSTREAM_KEEPALIVE_SECONDS: longest an idle upstream connection is kept for reuse (an origin's hint may say less) */
  upstreamKeepAliveMs: number;
  /**
   * UPSTREAM_PROXY: http://, https:// or socks5:// URL (optional user:password) every upstream connection goes through;
   * null: direct. It may carry credentials: show it only through maskProxyUrl.
   */
  upstreamProxy: string | null;
  logLevel: LogLevel;
  /**
   * TRANSACTION_LOG: one JSON line per client request (gateway) and per admin API call, `"log":"transaction"`, on
   * stdout, in `${DATA_DIR}/transactions/<app>.log` (rotated), or nowhere
   */
  transactionLog: TransactionLogMode;
  /**
   * OpenTelemetry traces over OTLP, on when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is
   * set (and OTEL_SDK_DISABLED is not true, OTEL_TRACES_EXPORTER not `none`); null: off, no SDK loaded. The SDK
   * reads the other OTEL_* variables itself (headers, sampler, batch delays, resource attributes).
   */
  otelTraces: OtelTraces | null;
  gatewayPort: number;
  adminPort: number;
  authHttpPort: number;
  keyPoolHttpPort: number;
  /** METRICS_PORT: internal port of /metrics, /healthz, /readyz; null: the app's default (metricsPortFor) */
  metricsPort: number | null;
  /** what a per-key rate limit does when Redis cannot answer in time */
  rateLimitFailMode: RateLimitFailMode;
  maxAttempts: number;
  keyMaxFailures: number;
  keySelection: KeySelection;
  /** 0: unlimited */
  keyMaxConcurrency: number;
  healthCheckIntervalMs: number;
  logRetentionDays: number;
  /** AUDIT_RETENTION_DAYS: how long audit log entries of admin actions are kept */
  auditRetentionDays: number;
  bcryptCost: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** how long a gateway trusts a cached user key record */
  authCacheTtlMs: number;
  /** where the admin serves the built SPA from */
  adminUiDir: string;
  /** addresses or CIDRs of proxies whose X-Forwarded-* headers are believed; empty: none */
  trustedProxies: string[];
  /** origin (and optional path) clients reach the gateway at, e.g. https://gemini.example.com; null: from the request */
  publicBaseUrl: string | null;
  /** request body limits in bytes: native routes (buffered), OpenAI routes (buffered), uploads (streamed) */
  maxRequestBodyBytes: number;
  maxOpenAiBodyBytes: number;
  maxUploadBodyBytes: number;
  /** bytes of request bodies one gateway holds in memory at once, over every request */
  bodyMemoryBudgetBytes: number;
  /** largest unary upstream answer the OpenAI routes read to translate */
  maxAnswerBodyBytes: number;
  /** runtime settings: their defaults from the environment and those PINNED_SETTINGS fixes (key-pool serves them) */
  settings: SettingsEnv;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v.trim() === '' ? fallback : v.trim();
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function port(env: Env, name: string, fallback: number): number {
  return int(env, name, fallback, 0, 65535);
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const v = str(env, name, fallback) as T;
  if (!allowed.includes(v)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${v}"`);
  return v;
}

function url(env: Env, name: string, fallback: string, protocols: string[]): string {
  const v = str(env, name, fallback);
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    throw new ConfigError(name, `is not a valid URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
  }
  return v.replace(/\/+$/, '');
}

const PROXY_SCHEMES = ['http:', 'https:', 'socks5:'];

/**
 * UPSTREAM_PROXY, checked. No message names the value: it may carry a password (the one-line config error is printed
 * at start and may end up in a log).
 */
function upstreamProxy(env: Env): string | null {
  const name = 'UPSTREAM_PROXY';
  const v = env[name]?.trim();
  if (!v) return null;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!PROXY_SCHEMES.includes(u.protocol)) {
    throw new ConfigError(name, `must use ${PROXY_SCHEMES.join(', ')}, got ${u.protocol}`);
  }
  if (!u.hostname) throw new ConfigError(name, 'has no host');
  if ((u.pathname !== '' && u.pathname !== '/') || u.search || u.hash) {
    throw new ConfigError(name, 'must be scheme://[user:password@]host[:port] with no path or query');
  }
  // SOCKS5 username/password authentication (RFC 1929) carries each in at most 255 bytes
  if (
    u.protocol === 'socks5:' &&
    (Buffer.byteLength(decodedPart(u.username)) > 255 || Buffer.byteLength(decodedPart(u.password)) > 255)
  ) {
    throw new ConfigError(name, 'a socks5 user name and password must be at most 255 bytes each');
  }
  return v.replace(/\/+$/, '');
}

/** A user name or password of a URL, percent-decoded (as it is when it is sent); as written when it cannot be. */
function decodedPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/**
 * A proxy URL fit to show (logs, errors, metrics, API answers): the password replaced by `***`
 * (`http://user:***@host:port`); a user name with no password is itself the secret (a token), so it is masked whole.
 */
export function maskProxyUrl(proxy: string): string {
  let u: URL;
  try {
    u = new URL(proxy);
  } catch {
    return '[invalid proxy URL]';
  }
  const auth = u.password ? `${decodedPart(u.username)}:***@` : u.username ? '***@' : '';
  return `${u.protocol}//${auth}${u.host}`;
}

/** Create `dir` (and parents) as 0700; a directory that already exists keeps its mode. */
export function makePrivateDir(dir: string): void {
  const created = mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is filtered by the umask: set it exactly on every directory this call created
  if (created) {
    for (let d = dir; d.length >= created.length; d = dirname(d)) {
      chmodSync(d, 0o700);
      if (d === created) break;
    }
  }
}

/** Read a secret from the environment, or from DATA_DIR, generating it there (mode 0600) on first use. */
function secret(env: Env, name: string, dataDir: string, file: string, production: boolean, bytes: number): string {
  const v = env[name];
  if (v !== undefined && v.trim() !== '') {
    if (Buffer.byteLength(v.trim()) < 32) throw new ConfigError(name, 'must be at least 32 bytes');
    return v.trim();
  }
  if (production) throw new ConfigError(name, 'is required when NODE_ENV=production');
  const path = join(dataDir, file);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const generated = randomBytes(bytes).toString('base64url');
  // Written whole to a private file, then linked into place: apps starting together never read a half-written
  // secret, and the first one to link wins.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    makePrivateDir(dataDir);
    writeFileSync(tmp, generated + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(tmp, 0o600);
    linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(path, 'utf8').trim();
    throw new ConfigError('DATA_DIR', `cannot write ${path}: ${(e as Error).message}`);
  } finally {
    rmSync(tmp, { force: true });
  }
  return generated;
}

/** A 32-byte AES key from `name` (64 hex characters or base64), or generated into DATA_DIR as `file`. */
function aesKey(env: Env, name: string, dataDir: string, file: string, production: boolean): Buffer {
  const raw = env[name];
  if (raw !== undefined && raw.trim() !== '') {
    const t = raw.trim();
    const buf = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
    if (buf.length !== 32) throw new ConfigError(name, 'must be 32 bytes, as 64 hex characters or base64');
    return buf;
  }
  const s = secret(env, name, dataDir, file, production, 32);
  return Buffer.from(s, 'base64url');
}

function encryptionKey(env: Env, dataDir: string, production: boolean): Buffer {
  return aesKey(env, 'ENCRYPTION_KEY', dataDir, 'encryption-key', production);
}

/** TRUSTED_PROXIES: comma or space separated addresses and CIDRs (IPv4 or IPv6), each checked. */
function trustedProxies(env: Env): string[] {
  const list = parseKeyList(env['TRUSTED_PROXIES']);
  for (const entry of list) {
    try {
      proxyAddr.compile(entry);
    } catch {
      throw new ConfigError('TRUSTED_PROXIES', `"${entry}" is not an IP address or CIDR range`);
    }
  }
  return list;
}

export function parseKeyList(raw: string | undefined): string[] {
  if (!raw) return [];
  return raw
    .split(/[\s,]+/)
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
}

const MB = 1024 * 1024;

/** What one byte of an OpenAI request body costs in memory while it is translated (body, text, parsed, re-serialized). */
export const OPENAI_BODY_MEMORY_FACTOR = 4;

/** Body limits (MiB in the environment, bytes here); the budget must admit the largest buffered body. */
function bodyLimits(
  env: Env,
): Pick<
  AppConfig,
  'maxRequestBodyBytes' | 'maxOpenAiBodyBytes' | 'maxUploadBodyBytes' | 'bodyMemoryBudgetBytes' | 'maxAnswerBodyBytes'
> {
  const native = int(env, 'MAX_REQUEST_BODY_MB', 20, 1, 2048);
  const openai = int(env, 'MAX_OPENAI_BODY_MB', 20, 1, 2048);
  const budget = int(env, 'BODY_MEMORY_BUDGET_MB', 128, 1, 65536);
  const least = Math.max(native, openai * OPENAI_BODY_MEMORY_FACTOR);
  if (budget < least) {
    throw new ConfigError(
      'BODY_MEMORY_BUDGET_MB',
      `must be at least MAX_REQUEST_BODY_MB and ${OPENAI_BODY_MEMORY_FACTOR} × MAX_OPENAI_BODY_MB (an OpenAI body is held about ${OPENAI_BODY_MEMORY_FACTOR} times while translated): ${least}, got ${budget}`,
    );
  }
  return {
    maxRequestBodyBytes: native * MB,
    maxOpenAiBodyBytes: openai * MB,
    maxUploadBodyBytes: int(env, 'MAX_UPLOAD_BODY_MB', 2048, 1, 65536) * MB,
    bodyMemoryBudgetBytes: budget * MB,
    maxAnswerBodyBytes: int(env, 'MAX_ANSWER_BODY_MB', 64, 1, 2048) * MB,
  };
}

/** Whether traces are exported, and how (see AppConfig.otelTraces). gRPC is refused: no gRPC exporter is shipped. */
function otelTraces(env: Env): OtelTraces | null {
  if (str(env, 'OTEL_SDK_DISABLED', '').toLowerCase() === 'true') return null;
  if (oneOf(env, 'OTEL_TRACES_EXPORTER', 'otlp', ['otlp', 'none']) === 'none') return null;
  const endpoint = str(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', '') || str(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', '');
  if (!endpoint) return null;
  const specific = str(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', '');
  const name = specific ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  return { protocol: oneOf<OtlpProtocol>(env, name, 'http/protobuf', ['http/protobuf', 'http/json']) };
}

/** Build and validate the configuration. Throws ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): AppConfig {
  const nodeEnv = str(env, 'NODE_ENV', 'development');
  const production = nodeEnv === 'production';
  const dataDirRaw = str(env, 'DATA_DIR', './data');
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(process.cwd(), dataDirRaw);
  const namespace = str(env, 'REDIS_NAMESPACE', 'gg');
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(namespace)) {
    throw new ConfigError('REDIS_NAMESPACE', 'must be 1-64 characters of letters, digits, "_", "." or "-"');
  }
  const requestTimeoutSeconds = int(env, 'REQUEST_TIMEOUT_SECONDS', 300, 1, 86400);
  const logLevelRaw = str(env, 'LOG_LEVEL', 'info');
  const logLevel = oneOf<LogLevel>({ LOG_LEVEL: logLevelRaw }, 'LOG_LEVEL', 'info', [
    'fatal',
    'error',
    'warn',
    'info',
    'debug',
    'trace',
  ]);
  const adminPassword = env['ADMIN_PASSWORD'];
  if (adminPassword !== undefined && adminPassword !== '' && adminPassword.length < 8) {
    throw new ConfigError('ADMIN_PASSWORD', 'must be at least 8 characters');
  }
  return Object.freeze({
    nodeEnv,
    geminiBaseUrl: url(env, 'GEMINI_BASE_URL', 'https://generativelanguage.googleapis.com', ['http:', 'https:']),
    databaseType: oneOf<DatabaseType>(env, 'DATABASE_TYPE', 'sqlite', ['sqlite', 'redis']),
    dataDir,
    redisUrl: url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    redisNamespace: namespace,
    jwtSecret: secret(env, 'JWT_SECRET', dataDir, 'jwt-secret', production, 48),
    keyHashSecret: secret(env, 'KEY_HASH_SECRET', dataDir, 'key-hash-secret', production, 48),
    encryptionKey: encryptionKey(env, dataDir, production),
    transportKey: aesKey(env, 'TRANSPORT_KEY', dataDir, 'transport-key', production),
    adminUsername: str(env, 'ADMIN_USERNAME', 'admin'),
    adminPassword: adminPassword ? adminPassword : null,
    geminiApiKeys: parseKeyList(env['GEMINI_API_KEYS']),
    requestTimeoutMs: requestTimeoutSeconds * 1000,
    connectTimeoutMs: int(env, 'CONNECT_TIMEOUT_SECONDS', 10, 1, 600) * 1000,
    idleTimeoutMs: int(env, 'IDLE_TIMEOUT_SECONDS', 120, 1, 86400) * 1000,
    firstByteTimeoutMs: int(env, 'UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS', 0, 0, 86400) * 1000 || null,
    upstreamConnections: int(env, 'UPSTREAM_CONNECTIONS', 0, 0, 100000) || null,
    upstreamKeepAliveMs: int(env, 'UPSTREAM_KEEPALIVE_SECONDS', 30, 1, 3600) * 1000,
    upstreamProxy: upstreamProxy(env),
    logLevel,
    transactionLog: oneOf<TransactionLogMode>(env, 'TRANSACTION_LOG', 'stdout', ['stdout', 'file', 'off']),
    otelTraces: otelTraces(env),
    gatewayPort: port(env, 'GATEWAY_PORT', 8080),
    adminPort: port(env, 'ADMIN_PORT', 8081),
    authHttpPort: port(env, 'AUTH_HTTP_PORT', 8082),
    keyPoolHttpPort: port(env, 'KEY_POOL_HTTP_PORT', 8083),
    metricsPort: env['METRICS_PORT']?.trim() ? port(env, 'METRICS_PORT', 0) : null,
    rateLimitFailMode: oneOf<RateLimitFailMode>(env, 'RATE_LIMIT_FAIL_MODE', 'open', ['open', 'closed']),
    maxAttempts: int(env, 'MAX_ATTEMPTS', 3, 1, 20),
    keyMaxFailures: int(env, 'KEY_MAX_FAILURES', 3, 1, 1000),
    keySelection: oneOf<KeySelection>(env, 'KEY_SELECTION', 'least-busy', ['least-busy', 'round-robin', 'random']),
    keyMaxConcurrency: int(env, 'KEY_MAX_CONCURRENCY', 0, 0, 100000),
    healthCheckIntervalMs: int(env, 'HEALTH_CHECK_INTERVAL_SECONDS', 300, 1, 86400) * 1000,
    logRetentionDays: int(env, 'LOG_RETENTION_DAYS', 7, 1, 3650),
    auditRetentionDays: int(env, 'AUDIT_RETENTION_DAYS', 365, 1, 36500),
    bcryptCost: int(env, 'BCRYPT_COST', 12, 4, 15),
    accessTokenTtlSeconds: int(env, 'ACCESS_TOKEN_TTL_SECONDS', 900, 30, 86400),
    refreshTokenTtlSeconds: int(env, 'REFRESH_TOKEN_TTL_SECONDS', 14 * 86400, 60, 365 * 86400),
    authCacheTtlMs: int(env, 'AUTH_CACHE_TTL_SECONDS', 30, 1, 3600) * 1000,
    adminUiDir: str(env, 'ADMIN_UI_DIR', resolve(__dirname, '../../../../apps/admin-ui')),
    trustedProxies: trustedProxies(env),
    publicBaseUrl: env['PUBLIC_BASE_URL']?.trim() ? url(env, 'PUBLIC_BASE_URL', '', ['http:', 'https:']) : null,
    ...bodyLimits(env),
    settings: runtimeSettings(env),
  });
}

function runtimeSettings(env: Env): SettingsEnv {
  const r = settingsEnvFrom(env);
  if ('variable' in r) throw new ConfigError(r.variable, r.problem);
  return r;
}

let cached: AppConfig | undefined;

/** The process-wide configuration (loaded once). */
export function getConfig(): AppConfig {
  if (!cached) cached = loadConfig();
  return cached;
}

/** Load the configuration or stop the process with one line naming the variable. */
export function loadConfigOrExit(): AppConfig {
  try {
    return getConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`Invalid configuration: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}

/**
 * The internal port of an app with a public port (gateway, admin) for /metrics, /healthz and /readyz:
 * METRICS_PORT, or 8090 (gateway) / 8091 (admin) so that every app of `npm start` fits on one machine.
 * auth and key-pool have no public port: their probes stay on AUTH_HTTP_PORT / KEY_POOL_HTTP_PORT.
 */
export function metricsPortFor(config: Pick<AppConfig, 'metricsPort'>, app: 'gateway' | 'admin'): number {
  return config.metricsPort ?? (app === 'gateway' ? 8090 : 8091);
}

/** ioredis options from REDIS_URL. */
export function redisOptions(redisUrl: string): {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: Record<string, never>;
} {
  const u = new URL(redisUrl);
  const db = u.pathname && u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined && !Number.isNaN(db) ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}
