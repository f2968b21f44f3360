import { IsNumber, IsObject, IsString, MaxLength, MinLength } from 'class-validator';
import type {
  AddPoolKeysRequest,
  AddProxyRequest,
  BindProxyRequest,
  ProxyFailureReport,
  AttemptBlame,
  AttemptOutcome,
  InFlightReport,
  OutcomeKind,
  PoolKeyIdRequest,
  PoolOutcomeBatch,
} from '@gg/contracts';

const OUTCOME_KINDS: OutcomeKind[] = ['success', 'rate_limited', 'invalid', 'transient', 'affinity', 'client_error'];

/** `pool.keys.add`: `addPoolKeysRequestSchema` of `@gg/contracts`, the admin's `POST /api/keys` body. */
export type AddPoolKeysDto = AddPoolKeysRequest;
/** `pool.proxies.add`: `addProxySchema` of `@gg/contracts` */
export type AddProxyDto = AddProxyRequest;
/** `pool.keys.bind`: `bindProxyRequestSchema` of `@gg/contracts` */
export type BindProxyDto = BindProxyRequest;

export class PoolKeyIdDto implements PoolKeyIdRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  id: string;
}

const BLAMES: AttemptBlame[] = ['key', 'request'];
const OUTCOME_FIELDS = new Set([
  'keyId',
  'model',
  'kind',
  'status',
  'retryDelayMs',
  'reason',
  'at',
  'count',
  'user',
  'blame',
  'overloaded',
  'requestId',
]);
const BATCH_FIELDS = new Set(['gatewayId', 'seq', 'outcomes']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const absent = (v: unknown): boolean => v === undefined || v === null;
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const int = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const only = (o: Record<string, unknown>, allowed: Set<string>): boolean => {
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
};

function isOutcome(v: unknown): v is AttemptOutcome {
  if (!isObject(v) || !only(v, OUTCOME_FIELDS)) return false;
  return (
    typeof v.keyId === 'string' &&
    (absent(v.model) || typeof v.model === 'string') &&
    OUTCOME_KINDS.includes(v.kind as OutcomeKind) &&
    int(v.status) &&
    v.status >= 0 &&
    v.status <= 999 &&
    (absent(v.retryDelayMs) || (finite(v.retryDelayMs) && v.retryDelayMs >= 0)) &&
    (absent(v.reason) || (typeof v.reason === 'string' && v.reason.length <= 1000)) &&
    finite(v.at) &&
    (absent(v.count) || (int(v.count) && v.count >= 1)) &&
    (absent(v.user) || (typeof v.user === 'string' && v.user.length <= 128)) &&
    (absent(v.blame) || BLAMES.includes(v.blame as AttemptBlame)) &&
    (absent(v.overloaded) || typeof v.overloaded === 'boolean') &&
    (absent(v.requestId) || (typeof v.requestId === 'string' && v.requestId.length <= 128))
  );
}

/**
 * `PoolEvent.Outcome` as key-pool accepts it, or null: the rules the class-validator DTO had (unknown fields
 * refused, a batch with one bad outcome refused whole), checked by hand. Gateways send these at the rate of
 * upstream attempts; the global ValidationPipe (class-transformer, then class-validator per nested outcome) cost
 * more than applying them.
 */
export function parseOutcomeBatch(v: unknown): PoolOutcomeBatch | null {
  if (!isObject(v) || !only(v, BATCH_FIELDS)) return null;
  if (typeof v.gatewayId !== 'string') return null;
  if (!absent(v.seq) && !(int(v.seq) && v.seq >= 0)) return null;
  if (!Array.isArray(v.outcomes)) return null;
  for (const o of v.outcomes as unknown[]) if (!isOutcome(o)) return null;
  return v as unknown as PoolOutcomeBatch;
}

export class InFlightReportDto implements InFlightReport {
  @IsString()
  gatewayId: string;

  /** keyId -> count; entries that are not positive numbers are ignored */
  @IsObject()
  inFlight: Record<string, number>;

  @IsNumber()
  expiresAt: number;
}

/** A gateway's `pool.proxy.failure` event, checked by hand like outcome batches; null when malformed. */
export function parseProxyFailure(payload: unknown): ProxyFailureReport | null {
  if (!isObject(payload)) return null;
  const { proxyId, reason, at } = payload;
  if (typeof proxyId !== 'string' || proxyId.length === 0 || proxyId.length > 128) return null;
  if (typeof reason !== 'string' || reason.length > 256) return null;
  if (typeof at !== 'number' || !Number.isFinite(at)) return null;
  return { proxyId, reason, at };
}
