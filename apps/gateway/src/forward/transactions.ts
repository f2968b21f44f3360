import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { clientAddress, compileTrust, TransactionLog, type TrustFn } from '@gg/nest-common';
import type { AuthKeyRecord } from '@gg/contracts';
import type { IncomingMessage } from 'node:http';
import { routeLabel } from '../http/gateway-metrics';
import type { AttemptTrace } from './exchange';
import { scrubSecrets } from './scrub';

/** One line of the gateway's transaction log: ids and figures only, never a key, a body or a token. */
export interface GatewayTransaction {
  requestId: string;
  /** when the request arrived (ISO) */
  time: string;
  userId?: string;
  authKeyId?: string;
  poolKeyId: string | null;
  /** the metrics route label (gateway_requests_total{route}) */
  route: string;
  /** the Gemini method or the route name */
  method: string;
  model: string | null;
  stream: boolean;
  status: number;
  attempts: AttemptTrace[];
  ttfbMs: number | null;
  durationMs: number;
  promptTokens: number;
  outputTokens: number;
  error?: string;
  client: string;
}

/** What a line is built from: a REST exchange or a Live session, after its end. */
export interface TransactionSource {
  req: IncomingMessage;
  requestId: string;
  startedAt: number;
  method: string;
  model: string | null;
  stream: boolean;
  record?: AuthKeyRecord;
  poolKeyId: string | null;
  tried?: AttemptTrace[];
  ttfbMs: number | null;
  promptTokens: number;
  outputTokens: number;
  error?: string;
}

const str = JSON.stringify;

/**
 * The fields of the line (a GatewayTransaction, serialized without its braces) of a request that ended with `status`
 * at `now`; its error scrubbed of every key-shaped text. Built by hand, in one string, on every request's path:
 * numbers and booleans as they are, JSON.stringify on every string (ids, names, the client's model and address).
 */
export function transactionJson(
  s: TransactionSource,
  status: number,
  now: number,
  client: string,
  withError: boolean,
): string {
  let out = `"requestId":${str(s.requestId)},"time":"${isoTime(s.startedAt)}"`;
  if (s.record) out += `,"userId":${str(s.record.userId)},"authKeyId":${str(s.record.id)}`;
  out += `,"poolKeyId":${s.poolKeyId === null ? 'null' : str(s.poolKeyId)}`;
  out += `,"route":${str(routeLabel(s.method))},"method":${str(s.method)}`;
  out += `,"model":${s.model === null ? 'null' : str(s.model)},"stream":${s.stream ? 'true' : 'false'}`;
  out += `,"status":${num(status)},"attempts":[`;
  const tried = s.tried;
  if (tried) {
    for (let i = 0; i < tried.length; i++) {
      const a = tried[i];
      out += `${i > 0 ? ',' : ''}{"keyId":${str(a.keyId)},"outcome":${str(a.outcome)},"status":${num(a.status)}}`;
    }
  }
  out += `],"ttfbMs":${s.ttfbMs === null ? 'null' : num(Math.round(s.ttfbMs))},"durationMs":${num(now - s.startedAt)}`;
  out += `,"promptTokens":${num(s.promptTokens)},"outputTokens":${num(s.outputTokens)},"client":${str(client)}`;
  if (withError && s.error) out += `,"error":${str(scrubSecrets(s.error).slice(0, 300))}`;
  return out;
}

let isoSecond = NaN;
let isoPrefix = '';

/**
 * `new Date(ms).toISOString()`, a third of the line's cost when built anew each time: the part up to the second is
 * kept while requests keep arriving within the same second.
 */
export function isoTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const r = ms - second * 1000;
  return `${isoPrefix}${r < 10 ? '00' : r < 100 ? '0' : ''}${r}Z`;
}

/** A number as JSON writes it (NaN and Infinity as null). */
function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/**
 * The gateway's transaction log (TRANSACTION_LOG): one line per client request, built once its answer closed
 * and written asynchronously (sonic-boom, batched); nothing at all is built when the log is off.
 */
@Injectable()
export class GatewayTransactions {
  private readonly log: TransactionLog;
  private readonly trust: TrustFn;
  readonly enabled: boolean;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.log = TransactionLog.forApp('gateway', config);
    this.enabled = this.log.enabled;
    this.trust = compileTrust(config.trustedProxies ?? []);
  }

  /** A request or Live session that ended: `withError` when its error is the client's to know (see finish). */
  ended(s: TransactionSource, status: number, now: number, withError: boolean): void {
    if (!this.enabled) return;
    this.log.writeJson(transactionJson(s, status, now, clientAddress(s.req, this.trust), withError));
  }

  /** A request refused before its key passed (missing, unknown, throttled…): no user fields. */
  refused(
    req: IncomingMessage,
    requestId: string,
    startedAt: number,
    method: string,
    model: string | null,
    stream: boolean,
    status: number,
    reason: string,
  ): void {
    if (!this.enabled) return;
    const source: TransactionSource = {
      req,
      requestId,
      startedAt,
      method,
      model,
      stream,
      poolKeyId: null,
      ttfbMs: null,
      promptTokens: 0,
      outputTokens: 0,
      error: `refused: ${reason}`,
    };
    this.log.writeJson(transactionJson(source, status, Date.now(), clientAddress(req, this.trust), true));
  }

  flush(): Promise<void> {
    return this.log.flush();
  }
}
