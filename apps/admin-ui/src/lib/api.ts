/**
 * Typed client of the admin REST API (docs/api.md, "Admin REST API").
 *
 * - The access token lives in this module's memory only (never in storage); a reload gets a new one from the
 *   refresh cookie via `refreshSession()`.
 * - A 401 on an authenticated call triggers one refresh (shared by concurrent callers) and one retry; if that
 *   fails the session is dropped and the browser goes to `/login?next=<current path>`.
 * - Every failure is an `ApiError` with the HTTP status (0 when the server could not be reached) and the
 *   message of the JSON body.
 */
import { goto } from '$app/navigation';
import type {
  AddPoolKeysResult,
  AuditEntry,
  AuditQuery,
  AuthKey,
  AuthKeyWithSecret,
  KeyCheckResult,
  LoginResult,
  LogQuery,
  Me,
  Page,
  PoolKey,
  RequestLog,
  ServiceLogLine,
  SettingsPatch,
  SettingsView,
  Stats,
  StatsWindow,
  UpstreamProxy,
  User,
} from '$contracts';
import { loginHref } from './navigation';

const API_PREFIX = '/api';

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    /** HTTP status; 0 when no answer arrived (network down, server unreachable) */
    readonly status: number,
    message: string,
    /** true when the session ended and the user is being sent to the login page */
    readonly sessionExpired = false,
  ) {
    super(message);
  }
}

/* ---------- request bodies (derived from the contract types) ---------- */

export type LoginBody = { username: string; password: string };
export type ChangePasswordBody = { currentPassword: string; newPassword: string };
export type CreateUserBody = Pick<User, 'username' | 'role'> & { password: string };
export type UpdateUserBody = Partial<Pick<User, 'role' | 'isActive'>> & { password?: string };
export type KeyLimitsBody = Partial<Pick<AuthKey, 'rateLimitPerMinute' | 'allowedModels'>>;
export type CreateAuthKeyBody = Pick<AuthKey, 'name'> & { expiresAt?: string | null } & KeyLimitsBody;
export type UpdateAuthKeyBody = Partial<Pick<AuthKey, 'name' | 'isActive' | 'expiresAt'>> & KeyLimitsBody;
export type ServiceLogLevel = ServiceLogLine['level'];
export interface ServiceLogQuery {
  level?: ServiceLogLevel;
  app?: string;
  /** only the lines written for this request (its x-request-id) */
  requestId?: string;
  limit?: number;
}

/* ---------- session ---------- */

let accessToken: string | null = null;
let refreshInFlight: Promise<boolean> | null = null;
const sessionLostListeners = new Set<() => void>();

/** Called when the session ends without a logout (refresh failed). Returns an unsubscribe function. */
export function onSessionLost(listener: () => void): () => void {
  sessionLostListeners.add(listener);
  return () => sessionLostListeners.delete(listener);
}

function setSession(result: LoginResult): void {
  accessToken = result.access_token;
}

function clearSession(): void {
  accessToken = null;
}

/** The live streams of the admin API and the ticket each needs. */
const STREAM_OF: Record<string, 'logs' | 'service-logs'> = {
  '/logs/stream': 'logs',
  '/service-logs/stream': 'service-logs',
};

/**
 * The URL of an event stream (`/api/logs/stream`, `/api/service-logs/stream`): EventSource cannot send headers,
 * and an access token in a URL would end up in proxy logs, so each connection first gets a single-use ticket
 * (`POST /api/streams/ticket`, 30 s) and opens `?ticket=`. Throws ApiError like any call (401 sends to login).
 */
export async function streamUrl(path: string, query?: object): Promise<string> {
  const stream = STREAM_OF[path];
  if (!stream) throw new ApiError(0, `not a stream: ${path}`);
  const { ticket } = await request<{ ticket: string; expiresIn: number }>('/streams/ticket', {
    method: 'POST',
    body: { stream },
  });
  return buildUrl(path, { ...(query ?? {}), ticket });
}

/**
 * Exchanges the refresh cookie for a new access token. Concurrent callers share one request.
 * Resolves to false (never throws) when there is no valid refresh cookie.
 */
export function refreshSession(): Promise<boolean> {
  refreshInFlight ??= (async () => {
    try {
      const res = await send('/auth/refresh', { method: 'POST', auth: false });
      if (!res.ok) return false;
      setSession((await res.json()) as LoginResult);
      return true;
    } catch {
      return false;
    } finally {
      refreshInFlight = null;
    }
  })();
  return refreshInFlight;
}

function endSessionAndGoToLogin(): void {
  clearSession();
  for (const listener of sessionLostListeners) listener();
  const here = location.pathname + location.search;
  if (location.pathname !== '/login') void goto(loginHref(here), { replaceState: true });
}

/* ---------- transport ---------- */

type QueryValue = string | number | boolean | null | undefined;

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: object;
  /** send the access token and handle 401 by refreshing (default true) */
  auth?: boolean;
  /** on a 401 that a refresh cannot cure, go to the login page (default true) */
  redirectOn401?: boolean;
  signal?: AbortSignal;
}

function buildUrl(path: string, query?: object): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {}) as [string, QueryValue][]) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const qs = params.toString();
  return `${API_PREFIX}${path}${qs ? `?${qs}` : ''}`;
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.auth !== false && accessToken) headers.authorization = `Bearer ${accessToken}`;
  try {
    return await fetch(buildUrl(path, options.query), {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.');
  }
}

/** Reads `{message}` (NestJS, possibly an array of validation messages) or `{error: {message}}`. */
function messageFromBody(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const { message, error } = body as { message?: unknown; error?: unknown };
  if (typeof message === 'string' && message) return message;
  if (Array.isArray(message) && message.length) return message.map(String).join('; ');
  if (error && typeof error === 'object') return messageFromBody(error);
  return undefined;
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

async function toApiError(res: Response): Promise<ApiError> {
  const message = messageFromBody(await readJson(res));
  return new ApiError(res.status, message ?? (res.statusText || `Request failed with status ${res.status}`));
}

async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const authenticated = options.auth !== false;
  let res = await send(path, options);
  if (res.status === 401 && authenticated) {
    if (await refreshSession()) res = await send(path, options);
    if (res.status === 401 && options.redirectOn401 !== false) {
      endSessionAndGoToLogin();
      throw new ApiError(401, 'Your session has ended. Please sign in again.', true);
    }
  }
  if (!res.ok) throw await toApiError(res);
  return (await readJson(res)) as T;
}

/**
 * A file the API sends (an export): the same 401 handling as `request`, the body as a Blob. Fetched with the
 * access token, since a plain link could not send it.
 */
async function download(path: string, options: RequestOptions = {}): Promise<Blob> {
  let res = await send(path, options);
  if (res.status === 401) {
    if (await refreshSession()) res = await send(path, options);
    if (res.status === 401) {
      endSessionAndGoToLogin();
      throw new ApiError(401, 'Your session has ended. Please sign in again.', true);
    }
  }
  if (!res.ok) throw await toApiError(res);
  return res.blob();
}

/* ---------- endpoints ---------- */

const enc = encodeURIComponent;

export const api = {
  auth: {
    async login(body: LoginBody): Promise<void> {
      setSession(await request<LoginResult>('/auth/login', { method: 'POST', body, auth: false }));
    },
    refresh: refreshSession,
    /** Ends the session on the server (best effort) and always forgets the token here. */
    async logout(): Promise<void> {
      try {
        await request<void>('/auth/logout', { method: 'POST', redirectOn401: false });
      } catch {
        // the local session ends anyway
      } finally {
        clearSession();
      }
    },
    me: () => request<Me>('/auth/me'),
    changePassword: (body: ChangePasswordBody) => request<void>('/auth/me/password', { method: 'PATCH', body }),
  },

  users: {
    list: () => request<User[]>('/users'),
    create: (body: CreateUserBody) => request<User>('/users', { method: 'POST', body }),
    update: (id: string, body: UpdateUserBody) => request<User>(`/users/${enc(id)}`, { method: 'PATCH', body }),
    remove: (id: string) => request<void>(`/users/${enc(id)}`, { method: 'DELETE' }),
  },

  authKeys: {
    /** The caller's keys; admins may pass another user's id. */
    list: (userId?: string) => request<AuthKey[]>('/auth-keys', { query: { userId } }),
    create: (body: CreateAuthKeyBody) => request<AuthKeyWithSecret>('/auth-keys', { method: 'POST', body }),
    update: (id: string, body: UpdateAuthKeyBody) =>
      request<AuthKey>(`/auth-keys/${enc(id)}`, { method: 'PATCH', body }),
    /** `graceSeconds`: how long the old secret keeps working (0: it stops at once) */
    rotate: (id: string, graceSeconds = 0) =>
      request<AuthKeyWithSecret>(`/auth-keys/${enc(id)}/rotate`, { method: 'POST', body: { graceSeconds } }),
    remove: (id: string) => request<void>(`/auth-keys/${enc(id)}`, { method: 'DELETE' }),
  },

  poolKeys: {
    list: () => request<PoolKey[]>('/keys'),
    /** `keys`: separated by newlines or commas, or a list */
    add: (keys: string | string[]) => request<AddPoolKeysResult>('/keys', { method: 'POST', body: { keys } }),
    remove: (id: string) => request<void>(`/keys/${enc(id)}`, { method: 'DELETE' }),
    reset: (id: string) => request<unknown>(`/keys/${enc(id)}/reset`, { method: 'POST' }),
    resetAll: () => request<unknown>('/keys/reset', { method: 'POST' }),
    check: (id: string) => request<KeyCheckResult>(`/keys/${enc(id)}/check`, { method: 'POST' }),
    /** the key's proxy of the list; null: back to consistent hashing */
    bind: (id: string, proxyId: string | null) =>
      request<PoolKey>(`/keys/${enc(id)}`, { method: 'PATCH', body: { proxyId } }),
  },

  proxies: {
    /** admins only: the upstream proxy list, URLs masked */
    list: () => request<UpstreamProxy[]>('/proxies'),
    add: (url: string) => request<UpstreamProxy>('/proxies', { method: 'POST', body: { url } }),
    remove: (id: string) => request<void>(`/proxies/${enc(id)}`, { method: 'DELETE' }),
  },

  logs: {
    list: (query: LogQuery = {}, signal?: AbortSignal) => request<Page<RequestLog>>('/logs', { query, signal }),
  },

  audit: {
    /** admins only: the audit log of admin actions, newest first */
    list: (query: AuditQuery = {}, signal?: AbortSignal) => request<Page<AuditEntry>>('/audit', { query, signal }),
    /** admins only: every entry matching the filters, as JSON lines */
    export: (query: Omit<AuditQuery, 'limit' | 'cursor'> = {}) => download('/audit/export', { query }),
  },

  settings: {
    /** admins only: every runtime setting with its value, default, variable and pinned state */
    get: () => request<SettingsView>('/settings'),
    /** admins only: any subset; `null` puts a setting back to its default. Answers the settings in force. */
    update: (patch: SettingsPatch) => request<SettingsView>('/settings', { method: 'PATCH', body: patch }),
  },

  stats: {
    get: (window: StatsWindow) => request<Stats>('/stats', { query: { window } }),
  },

  serviceLogs: {
    /** admins only: the newest lines of every app's log, newest first */
    list: (query: ServiceLogQuery = {}, signal?: AbortSignal) =>
      request<{ items: ServiceLogLine[] }>('/service-logs', { query, signal }),
  },
};

/** A message for the user from anything thrown by the client. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong.';
}
