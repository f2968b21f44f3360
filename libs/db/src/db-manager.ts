import type {
  AuditEntry,
  AuditQuery,
  LogQuery,
  Page,
  RequestLog,
  Role,
  StatsWindow,
  Stats,
  UsageRecord,
} from '@gg/contracts';

/**
 * The storage contract of auth and key-pool. One interface, two drivers (sqlite/ and redis/), chosen by
 * DATABASE_TYPE. Each service opens its own DbManager (SQLite: its own file under DATA_DIR; Redis: keys under
 * `${REDIS_NAMESPACE}:db:${service}:`) and uses only its part. Timestamps are ISO-8601 strings.
 */

export interface UserRow {
  id: string;
  username: string;
  passwordHash: string;
  role: Role;
  isActive: boolean;
  /** bumped to revoke every session of the user */
  tokenVersion: number;
  createdAt: string;
}

export interface AuthKeyRow {
  id: string;
  userId: string;
  name: string;
  /** first characters of the secret, for recognition */
  prefix: string;
  /** keyed SHA-256 (hex) of the secret; unique */
  hash: string;
  isActive: boolean;
  callCount: number;
  promptTokens: number;
  outputTokens: number;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  /** requests per minute, or null: no limit */
  rateLimitPerMinute: number | null;
  /** model ids the key may call, or null: any */
  allowedModels: string[] | null;
  /** after a rotation with grace: the hash of the previous secret, still found by findByHash */
  previousHash: string | null;
  /** when the previous secret stops working (ISO), or null */
  previousHashExpiresAt: string | null;
}

/** The fields of an auth key a plain update may change (a rotation goes through `rotate`). */
export type AuthKeyPatch = Partial<
  Pick<AuthKeyRow, 'name' | 'isActive' | 'hash' | 'prefix' | 'expiresAt' | 'rateLimitPerMinute' | 'allowedModels'>
>;

export interface PoolKeyRow {
  id: string;
  /** AES-256-GCM ciphertext of the key, as produced by key-pool */
  secretEnc: string;
  /** keyed hash of the secret, unique: finds duplicates without decrypting */
  fingerprint: string;
  /** first 4 and last 4 characters */
  masked: string;
  /** JSON of the key's state machine state (libs/key-state), opaque to the db */
  state: string;
  createdAt: string;
}

export interface UsersRepository {
  create(row: UserRow): Promise<UserRow>;
  findById(id: string): Promise<UserRow | null>;
  findByUsername(username: string): Promise<UserRow | null>;
  list(): Promise<UserRow[]>;
  update(id: string, patch: Partial<Omit<UserRow, 'id' | 'createdAt'>>): Promise<UserRow | null>;
  delete(id: string): Promise<boolean>;
  count(): Promise<number>;
}

export interface AuthKeysRepository {
  create(row: AuthKeyRow): Promise<AuthKeyRow>;
  findById(id: string): Promise<AuthKeyRow | null>;
  /** The key whose current hash, or previous hash (kept after a rotation with grace), is `hash`. */
  findByHash(hash: string): Promise<AuthKeyRow | null>;
  listByUser(userId: string): Promise<AuthKeyRow[]>;
  update(id: string, patch: AuthKeyPatch): Promise<AuthKeyRow | null>;
  /**
   * A new secret: `hash`/`prefix` replace the current ones. With `previousUntil` (ISO) the old hash becomes
   * `previousHash` (still found by findByHash) until then; with null no previous hash is kept. Any older
   * previous hash is dropped either way. Null when the key does not exist.
   */
  rotate(id: string, next: { hash: string; prefix: string }, previousUntil: string | null): Promise<AuthKeyRow | null>;
  delete(id: string): Promise<boolean>;
  deleteByUser(userId: string): Promise<number>;
}

export interface UsageRepository {
  /**
   * Apply usage records idempotently by requestId: each record not seen before is stored as a request log row
   * and added to its key's callCount (+1), promptTokens, outputTokens and lastUsedAt. A record seen before is
   * skipped. Returns the records newly applied.
   */
  apply(records: UsageRecord[]): Promise<UsageRecord[]>;
}

export interface LogsRepository {
  /** Newest first; `cursor` is opaque and comes from a previous page's nextCursor. */
  query(q: LogQuery): Promise<Page<RequestLog>>;
  /** Delete rows older than the given time; returns how many. */
  purgeBefore(isoTime: string): Promise<number>;
  /** Aggregates for the dashboard, optionally for one user. */
  stats(window: StatsWindow, now: Date, userId?: string): Promise<Stats>;
}

export interface AuditRepository {
  /** Store one entry (its id is unique; time order comes from `at`). */
  insert(entry: AuditEntry): Promise<void>;
  /**
   * Newest first (ties by id, descending); `cursor` is opaque and comes from a previous page's nextCursor. `actor`
   * matches the actor's id or username.
   */
  query(q: AuditQuery): Promise<Page<AuditEntry>>;
  /** Delete entries older than the given time; returns how many. */
  purgeBefore(isoTime: string): Promise<number>;
}

export interface PoolKeysRepository {
  /** Insert keys whose fingerprint is new; returns those inserted and how many were duplicates. */
  insertMany(rows: PoolKeyRow[]): Promise<{ added: PoolKeyRow[]; duplicates: number }>;
  list(): Promise<PoolKeyRow[]>;
  findById(id: string): Promise<PoolKeyRow | null>;
  saveState(id: string, state: string): Promise<void>;
  /** Save many states at once (one transaction / pipeline). */
  saveStates(states: { id: string; state: string }[]): Promise<void>;
  delete(id: string): Promise<boolean>;
}

export interface KvRepository {
  /** small named values a service keeps (e.g. key-pool's pool-wide pause, file affinity) */
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface DbManager {
  readonly type: 'sqlite' | 'redis';
  users: UsersRepository;
  authKeys: AuthKeysRepository;
  usage: UsageRepository;
  logs: LogsRepository;
  poolKeys: PoolKeysRepository;
  kv: KvRepository;
  /** the audit log of admin actions (auth's database) */
  audit: AuditRepository;
  /** what opening the database did to its schema (migrations / Redis layout upgrade) */
  readonly migration?: MigrationReport;
  /** answers when the backend is reachable */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * What a DbManager found and did when it opened: SQLite runs its TypeORM migrations, Redis its layout upgrade steps.
 * A database of the first release (tables or keys, but no recorded version) is adopted: marked as at the initial
 * version without running it.
 */
export interface MigrationReport {
  /** the schema version now: the last migration's name (SQLite) or the layout version (Redis) */
  version: string;
  /** a database of the first release was found and marked as at the initial version */
  adopted: boolean;
  /** the migrations / upgrade steps run by this open, in order (empty: nothing to do) */
  applied: string[];
}

export interface DbManagerOptions {
  type: 'sqlite' | 'redis';
  /** which service owns this database: its file name (sqlite) or key prefix (redis) */
  service: 'auth' | 'key-pool' | string;
  dataDir: string;
  redisUrl: string;
  redisNamespace: string;
}

/** Injection token of the DbManager. */
export const DB_MANAGER = Symbol('DB_MANAGER');
