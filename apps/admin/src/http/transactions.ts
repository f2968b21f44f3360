import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { clientAddress, compileTrust, TransactionLog, type TrustFn } from '@gg/nest-common';
import type { NextFunction, Request, Response } from 'express';

/** One line of the admin's transaction log: who called which API route, how it ended. Never a body or a token. */
export interface AdminTransaction {
  /** pino-http's request id (req.id), the one answered in x-request-id */
  requestId: string;
  time: string;
  userId?: string;
  method: string;
  /** the route pattern (/api/keys/:id), never the path with its ids and query; `unmatched` when none answered */
  route: string;
  status: number;
  durationMs: number;
  client: string;
}

/** The line of an API call that ended at `now`. */
export function adminTransactionLine(
  req: Request & { id?: unknown; user?: unknown },
  status: number,
  startedAt: number,
  now: number,
  client: string,
): AdminTransaction {
  const user = req.user as { userId?: unknown } | undefined;
  const route = (req.route as { path?: unknown } | undefined)?.path;
  return {
    requestId: String(req.id ?? ''),
    time: new Date(startedAt).toISOString(),
    ...(typeof user?.userId === 'string' ? { userId: user.userId } : {}),
    method: req.method,
    route: typeof route === 'string' ? route : 'unmatched',
    status,
    durationMs: now - startedAt,
    client,
  };
}

/**
 * The admin's transaction log (TRANSACTION_LOG): one line per /api call, written when its answer closed (by then
 * pino-http has set req.id, the JWT guard req.user and the router req.route), flushed on shutdown.
 */
@Injectable()
export class AdminTransactions implements OnApplicationShutdown {
  private readonly log: TransactionLog;
  private readonly trust: TrustFn;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.log = TransactionLog.forApp('admin', config);
    this.trust = compileTrust(config.trustedProxies ?? []);
  }

  /** Express middleware, mounted first: the UI's files, the docs page and the probes are not API calls. */
  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    if (this.log.enabled && /^\/api(?:\/|\?|$)/.test(req.originalUrl)) {
      const startedAt = Date.now();
      res.once('close', () => {
        // a client that left before the answer: 499, as the gateway counts it
        const status = res.writableFinished ? res.statusCode : 499;
        this.log.write(adminTransactionLine(req, status, startedAt, Date.now(), clientAddress(req, this.trust)));
      });
    }
    next();
  };

  onApplicationShutdown(): Promise<void> {
    return this.log.flush();
  }
}
