/** Every key of one service's database, all under `${namespace}:db:${service}:`. */
export class RedisKeys {
  readonly prefix: string;

  constructor(namespace: string, service: string) {
    this.prefix = `${namespace}:db:${service}:`;
  }

  private k(...parts: (string | number)[]): string {
    return this.prefix + parts.join(':');
  }

  user = (id: string) => this.k('user', id);
  /** set of user ids */
  users = () => this.k('users');
  /** hash username -> id */
  usersByName = () => this.k('users', 'by-name');

  authKey = (id: string) => this.k('auth-key', id);
  /** hash secret hash -> id */
  authKeysByHash = () => this.k('auth-keys', 'by-hash');
  /** set of auth key ids of a user */
  authKeysOfUser = (userId: string) => this.k('auth-keys', 'user', userId);

  log = (id: string) => this.k('log', id);
  /** sorted sets of request ids scored by epoch ms */
  logs = () => this.k('logs');
  logsOfUser = (userId: string) => this.k('logs', 'user', userId);
  logsOfKey = (authKeyId: string) => this.k('logs', 'key', authKeyId);
  /** marks a request id as applied (SET NX) */
  applied = (requestId: string) => this.k('applied', requestId);
  /** pre-aggregated stats bucket: fields req, err, pt, ot, and k:<authKeyId> */
  statsBucket = (bucketSeconds: number, startMs: number) => this.k('stats', bucketSeconds, startMs);
  userStatsBucket = (userId: string, bucketSeconds: number, startMs: number) =>
    this.k('stats', 'user', userId, bucketSeconds, startMs);

  poolKey = (id: string) => this.k('pool-key', id);
  /** set of pool key ids */
  poolKeys = () => this.k('pool-keys');
  /** hash fingerprint -> id */
  poolKeysByFingerprint = () => this.k('pool-keys', 'by-fingerprint');

  kv = (key: string) => this.k('kv', key);

  /** hash: one audit entry */
  auditEntry = (id: string) => this.k('audit', id);
  /** sorted set of audit entry ids scored by epoch ms (new keys, no upgrade step: an older layout simply has none) */
  auditLog = () => this.k('audit-log');

  /** the layout version of this service's keys (redis/layout.ts); absent before the first versioned release */
  schemaVersion = () => this.k('schema-version');
  /** held (SET NX PX) by the process upgrading the layout */
  schemaLock = () => this.k('schema-lock');
}
