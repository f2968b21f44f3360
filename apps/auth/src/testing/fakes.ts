import type { AppConfig } from '@gg/config';
import type {
  AuditEntry,
  AuditQuery,
  KeyChangedEvent,
  LogQuery,
  Page,
  RequestLog,
  Stats,
  StatsWindow,
  UsageRecord,
} from '@gg/contracts';
import type { AuthKeyRow, DbManager, UserRow } from '@gg/db';
import { ErrorCode, usageToRequestLog } from '@gg/contracts';
import { DomainError } from '@gg/nest-common';
import type { AuthEventsService } from '../events/auth-events.service';
import type { LoginThrottleService } from '../sessions/login-throttle.service';

/** An in-memory DbManager for unit tests: the parts auth uses, with the contract's semantics. */
export class FakeDb implements DbManager {
  readonly type = 'sqlite' as const;
  readonly userRows = new Map<string, UserRow>();
  readonly keyRows = new Map<string, AuthKeyRow>();
  readonly kvStore = new Map<string, { value: string; ttlSeconds?: number }>();
  readonly logRows: RequestLog[] = [];
  readonly auditRows: AuditEntry[] = [];
  lastLogQuery: LogQuery | undefined;
  lastStats: { window: StatsWindow; userId?: string } | undefined;

  users = {
    create: async (row: UserRow) => {
      if ([...this.userRows.values()].some((u) => u.username === row.username)) throw uniqueViolation('username');
      this.userRows.set(row.id, { ...row });
      return { ...row };
    },
    findById: async (id: string) => copy(this.userRows.get(id)),
    findByUsername: async (name: string) => copy([...this.userRows.values()].find((u) => u.username === name)),
    list: async () => [...this.userRows.values()].map((u) => ({ ...u })),
    update: async (id: string, patch: Partial<UserRow>) => {
      const row = this.userRows.get(id);
      if (!row) return null;
      Object.assign(row, patch);
      return { ...row };
    },
    delete: async (id: string) => this.userRows.delete(id),
    count: async () => this.userRows.size,
  };

  authKeys = {
    create: async (row: AuthKeyRow) => {
      this.keyRows.set(row.id, { ...row });
      return { ...row };
    },
    findById: async (id: string) => copy(this.keyRows.get(id)),
    findByHash: async (hash: string) =>
      copy([...this.keyRows.values()].find((k) => k.hash === hash || k.previousHash === hash)),
    listByUser: async (userId: string) =>
      [...this.keyRows.values()].filter((k) => k.userId === userId).map((k) => ({ ...k })),
    update: async (id: string, patch: Partial<AuthKeyRow>) => {
      const row = this.keyRows.get(id);
      if (!row) return null;
      Object.assign(row, patch);
      return { ...row };
    },
    rotate: async (id: string, next: { hash: string; prefix: string }, previousUntil: string | null) => {
      const row = this.keyRows.get(id);
      if (!row) return null;
      Object.assign(row, {
        ...next,
        previousHash: previousUntil === null ? null : row.hash,
        previousHashExpiresAt: previousUntil,
      });
      return { ...row };
    },
    delete: async (id: string) => this.keyRows.delete(id),
    deleteByUser: async (userId: string) => {
      const ids = [...this.keyRows.values()].filter((k) => k.userId === userId).map((k) => k.id);
      ids.forEach((id) => this.keyRows.delete(id));
      return ids.length;
    },
  };

  usage = {
    apply: async (records: UsageRecord[]) => {
      const fresh = records.filter((r) => !this.logRows.some((l) => l.id === r.requestId));
      for (const r of fresh) {
        this.logRows.push(usageToRequestLog(r));
        const key = this.keyRows.get(r.authKeyId);
        if (key) {
          key.callCount += 1;
          key.promptTokens += r.promptTokens;
          key.outputTokens += r.outputTokens;
          key.lastUsedAt = r.at;
        }
      }
      return fresh;
    },
  };

  logs = {
    query: async (q: LogQuery): Promise<Page<RequestLog>> => {
      this.lastLogQuery = q;
      return { items: this.logRows.filter((l) => !q.userId || l.userId === q.userId), nextCursor: null };
    },
    purgeBefore: async (iso: string) => {
      const keep = this.logRows.filter((l) => l.at >= iso);
      const removed = this.logRows.length - keep.length;
      this.logRows.splice(0, this.logRows.length, ...keep);
      return removed;
    },
    stats: async (window: StatsWindow, _now: Date, userId?: string): Promise<Stats> => {
      this.lastStats = { window, userId };
      return { window, bucketSeconds: 60, series: [], topKeys: [] };
    },
  };

  poolKeys = {
    insertMany: async () => ({ added: [], duplicates: 0 }),
    list: async () => [],
    findById: async () => null,
    saveState: async () => undefined,
    saveStates: async () => undefined,
    delete: async () => false,
  };

  /** newest first by time, the filters of the contract; no paging (unit tests keep few entries) */
  audit = {
    insert: async (entry: AuditEntry) => {
      this.auditRows.push({ ...entry });
    },
    query: async (q: AuditQuery): Promise<Page<AuditEntry>> => ({
      items: this.auditRows
        .filter((e) => q.actor === undefined || e.actorId === q.actor || e.actorName === q.actor)
        .filter((e) => q.action === undefined || e.action === q.action)
        .filter((e) => q.targetId === undefined || e.targetId === q.targetId)
        .filter((e) => q.since === undefined || e.at >= q.since)
        .sort((a, b) => (a.at === b.at ? b.id.localeCompare(a.id) : b.at.localeCompare(a.at))),
      nextCursor: null,
    }),
    purgeBefore: async (iso: string) => {
      const keep = this.auditRows.filter((e) => e.at >= iso);
      const removed = this.auditRows.length - keep.length;
      this.auditRows.splice(0, this.auditRows.length, ...keep);
      return removed;
    },
  };

  kv = {
    get: async (key: string) => this.kvStore.get(key)?.value ?? null,
    set: async (key: string, value: string, ttlSeconds?: number) => {
      this.kvStore.set(key, { value, ttlSeconds });
    },
    delete: async (key: string) => {
      this.kvStore.delete(key);
    },
  };

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}
}

/** A login throttle that never blocks, for unit tests (the real one is exercised against Redis). */
export class FakeThrottle {
  readonly failures: string[] = [];
  blocked = false;

  async assertAllowed(): Promise<void> {
    if (this.blocked) throw new DomainError(ErrorCode.TooManyRequests, 'too many failed logins', 60);
  }

  async recordFailure(username: string): Promise<void> {
    this.failures.push(username);
  }

  async recordSuccess(): Promise<void> {}

  asService(): LoginThrottleService {
    return this as unknown as LoginThrottleService;
  }
}

/** Records what would have been emitted. */
export class FakeEvents {
  readonly keyChangedEvents: KeyChangedEvent[] = [];
  readonly appended: RequestLog[][] = [];

  keyChanged(hashes: string[]): void {
    if (hashes.length > 0) this.keyChangedEvents.push({ hashes });
  }

  logsAppended(logs: RequestLog[]): void {
    if (logs.length > 0) this.appended.push(logs);
  }

  asService(): AuthEventsService {
    return this as unknown as AuthEventsService;
  }
}

/** A config for unit tests: cheap bcrypt, fixed secrets. */
export function testConfig(over: Partial<AppConfig> = {}): AppConfig {
  return {
    jwtSecret: 'unit-test-jwt-secret-unit-test-jwt-secret',
    keyHashSecret: 'unit-test-key-hash-secret-unit-test-key-hash',
    bcryptCost: 4,
    accessTokenTtlSeconds: 900,
    refreshTokenTtlSeconds: 3600,
    logRetentionDays: 7,
    auditRetentionDays: 365,
    adminUsername: 'admin',
    adminPassword: null,
    redisNamespace: 'unit',
    ...over,
  } as AppConfig;
}

function copy<T>(v: T | undefined): T | null {
  return v === undefined ? null : { ...v };
}

function uniqueViolation(field: string): Error {
  const e = new Error(`unique constraint violated: ${field}`);
  e.name = 'UniqueViolationError';
  return e;
}
