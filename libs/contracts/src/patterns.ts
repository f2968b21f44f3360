/**
 * Message pattern, event and queue names shared by the apps. Apps never import each other: they speak by
 * these names. Every name is put under REDIS_NAMESPACE on the wire by `nsPattern()`.
 */
export const AuthPattern = {
  /** RPC: verify a user key hash for the gateway -> AuthKeyRecord | null */
  KeyVerify: 'auth.key.verify',
  /** RPC: how many legacy-format user keys may still exist (gateway, at start and now and then) -> LegacyKeysAnswer */
  KeyLegacyCount: 'auth.key.legacy-count',
  Login: 'auth.login',
  Refresh: 'auth.refresh',
  Logout: 'auth.logout',
  Me: 'auth.me',
  ChangePassword: 'auth.me.password',
  UsersList: 'auth.users.list',
  UsersCreate: 'auth.users.create',
  UsersUpdate: 'auth.users.update',
  UsersDelete: 'auth.users.delete',
  KeysList: 'auth.keys.list',
  KeysCreate: 'auth.keys.create',
  KeysUpdate: 'auth.keys.update',
  KeysRotate: 'auth.keys.rotate',
  KeysDelete: 'auth.keys.delete',
  LogsQuery: 'auth.logs.query',
  Stats: 'auth.stats',
  /** RPC from the admin after a state-changing admin action: store an audit entry (payload `AuditRecordRequest`) */
  AuditRecord: 'auth.audit.record',
  /** RPC: a page of the audit log, admins only */
  AuditQuery: 'auth.audit.query',
  /** RPC: liveness of the auth service for the admin's readiness probe; payload `{}`, answer anything (`{ ok: true }`) */
  Ping: 'auth.ping',
} as const;

export const AuthEvent = {
  /** event: a user key changed (deactivated, deleted, rotated, expired); gateways drop it from their cache */
  KeyChanged: 'auth.key.changed',
  /** event: new request log rows were stored (for /api/logs/stream); payload `RequestLog[]` */
  LogsAppended: 'auth.logs.appended',
} as const;

export const PoolPattern = {
  /** RPC: the full pool snapshot (gateway start and periodic reconcile) */
  Snapshot: 'pool.snapshot',
  List: 'pool.keys.list',
  Add: 'pool.keys.add',
  Delete: 'pool.keys.delete',
  Reset: 'pool.keys.reset',
  ResetAll: 'pool.keys.reset-all',
  Check: 'pool.keys.check',
  /** RPC: bind a pool key to a proxy, or back to consistent hashing (BindProxyRequest) -> PoolKey */
  Bind: 'pool.keys.bind',
  /** RPC: the proxy list -> UpstreamProxy[] */
  ProxiesList: 'pool.proxies.list',
  /** RPC: add a proxy (AddProxyRequest) -> UpstreamProxy */
  ProxiesAdd: 'pool.proxies.add',
  /** RPC: delete a proxy ({ id }) -> { deleted: true } */
  ProxiesDelete: 'pool.proxies.delete',
  /** RPC: liveness of the key-pool service for readiness probes; payload `{}`, answer anything (`{ ok: true }`) */
  Ping: 'pool.ping',
} as const;

export const PoolEvent = {
  /** event from key-pool: the snapshot changed (payload: PoolSnapshot) */
  SnapshotChanged: 'pool.snapshot.changed',
  /** event from a gateway: outcomes of upstream attempts (payload: PoolOutcomeBatch) */
  Outcome: 'pool.outcome',
  /** event from a gateway: its per-key in-flight counts, a lease (payload: InFlightReport) */
  InFlight: 'pool.inflight',
  /** event from a gateway: an upstream proxy failed (payload: ProxyFailureReport); key-pool rests it */
  ProxyFailure: 'pool.proxy.failure',
} as const;

/** Runtime settings, owned by key-pool (see `settings.ts`). */
export const SettingsPattern = {
  /** RPC: the settings in force -> SettingsView (every app at start, gateways now and then, the admin) */
  Get: 'settings.get',
  /** RPC from the admin for an admin (caller proof): `SettingsUpdateRequest` -> SettingsUpdateResult */
  Update: 'settings.update',
} as const;

export const SettingsEvent = {
  /** event from key-pool after every change, to every replica of every app (payload: SettingsView) */
  Changed: 'settings.changed',
} as const;

export const QueueName = {
  /** usage records from gateways, applied by auth idempotently by request id */
  Usage: 'usage',
  /** repeatable pool key health checks, run by key-pool */
  PoolHealth: 'pool-health',
  /** repeatable maintenance of auth (request-log and audit retention), each job run by its name */
  AuthMaintenance: 'auth-maintenance',
} as const;

export const JobName = {
  UsageBatch: 'usage.batch',
  PoolHealthSweep: 'pool.health.sweep',
  LogRetention: 'auth.logs.retention',
  AuditRetention: 'auth.audit.retention',
} as const;

/** Put a pattern, channel or queue name under the namespace. */
export function nsPattern(namespace: string, name: string): string {
  return `${namespace}:${name}`;
}

/** Default timeout of an RPC over the Redis transport, in milliseconds. */
export const RPC_TIMEOUT_MS = 5000;
