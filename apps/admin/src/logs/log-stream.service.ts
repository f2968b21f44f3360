import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ErrorCode, withRequestId, type Caller, type RequestLog } from '@gg/contracts';
import { DomainError, ProbesService, type ProvenCaller } from '@gg/nest-common';
import { SessionLiveness } from '../security/session-liveness.service';
import type { Request, Response } from 'express';
import { Gauge } from 'prom-client';
import { filter, Subject } from 'rxjs';

const HEARTBEAT_MS = 15_000;
/** An open stream asks auth this often whether its session is still live (deactivation, password change). */
const SESSION_RECHECK_MS = 5_000;
/** A client that lets this much pile up unread is cut off (its EventSource reconnects). */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** Which logs a caller may see: admins every one, users their own. */
export function visibleTo(caller: Caller): (log: RequestLog) => boolean {
  return (log) => caller.role === 'admin' || log.userId === caller.userId;
}

/** The payload of `auth.logs.appended` is `RequestLog[]`; anything that is not a log is dropped. */
export function logsOf(payload: unknown): RequestLog[] {
  const items = Array.isArray(payload) ? payload : [payload];
  return items
    .filter(
      (l): l is RequestLog =>
        typeof l === 'object' && l !== null && typeof (l as RequestLog).userId === 'string' && typeof l.id === 'string',
    )
    .map(withRequestId);
}

/** Fans the logs auth announces out to the open `/api/logs/stream` responses of this replica. */
@Injectable()
export class LogStreamService implements OnModuleDestroy {
  private readonly logs$ = new Subject<RequestLog>();
  private readonly open = new Set<() => void>();
  private readonly clients: Gauge;

  constructor(
    probes: ProbesService,
    private readonly sessions: SessionLiveness,
  ) {
    this.clients = new Gauge({
      name: 'admin_log_stream_clients',
      help: 'open /api/logs/stream responses',
      registers: [probes.registry],
    });
  }

  publish(payload: unknown): void {
    for (const log of logsOf(payload)) this.logs$.next(log);
  }

  /** Turn the raw response into an event stream of the logs the caller may see, until the client goes. */
  stream(caller: ProvenCaller, req: Request, res: Response): void {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write('retry: 3000\n\n');

    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      clearInterval(recheck);
      subscription.unsubscribe();
      this.open.delete(close);
      this.clients.dec();
      res.end();
    };
    const send = (chunk: string): void => {
      if (closed) return;
      res.write(chunk);
      if (res.writableLength > MAX_BUFFERED_BYTES) close();
    };
    const subscription = this.logs$
      .pipe(filter(visibleTo(caller)))
      .subscribe((log) => send(`data: ${JSON.stringify(log)}\n\n`));
    const heartbeat = setInterval(() => send(': ping\n\n'), HEARTBEAT_MS);
    const recheck = setInterval(() => {
      this.sessions.assertLive(caller).catch((e: unknown) => {
        // auth said no: the session is over; auth not answering does not end a stream
        if (e instanceof DomainError && e.code !== ErrorCode.Unavailable) close();
      });
    }, SESSION_RECHECK_MS);
    this.open.add(close);
    this.clients.inc();
    req.on('close', close);
    res.on('close', close);
  }

  /** End every stream so the HTTP server can close. */
  onModuleDestroy(): void {
    for (const close of [...this.open]) close();
  }
}
