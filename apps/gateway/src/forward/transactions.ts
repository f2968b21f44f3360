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

/** The line of a request that ended with `status` at `now`; its error scrubbed of every key-shaped text. */
export function transactionLine(
  s: TransactionSource,
  status: number,
  now: number,
  client: string,
  withError: boolean,
): GatewayTransaction {
  const line: GatewayTransaction = {
    requestId: s.requestId,
    time: new Date(s.startedAt).toISOString(),
    ...(s.record ? { userId: s.record.userId, authKeyId: s.record.id } : {}),
    poolKeyId: s.poolKeyId,
    route: routeLabel(s.method),
    method: s.method,
    model: s.model,
    stream: s.stream,
    status,
    attempts: s.tried ?? [],
    ttfbMs: s.ttfbMs === null ? null : Math.round(s.ttfbMs),
    durationMs: now - s.startedAt,
    promptTokens: s.promptTokens,
    outputTokens: s.outputTokens,
    client,
  };
  if (withError && s.error) line.error = scrubSecrets(s.error).slice(0, 300);
  return line;
}

/**
 * The gateway's transaction log (TRANSACTION_LOG): one line per client request, built once its answer closed
 * and written asynchronously (sonic-boom, buffered); nothing at all is built when the log is off.
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
    this.log.write(transactionLine(s, status, now, clientAddress(s.req, this.trust), withError));
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
    this.log.write(transactionLine(source, status, Date.now(), clientAddress(req, this.trust), true));
  }

  flush(): Promise<void> {
    return this.log.flush();
  }
}
