import {
  type ArgumentsHost,
  BadRequestException,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
  type RpcExceptionFilter,
} from '@nestjs/common';

import { ERROR_HTTP_STATUS, ErrorCode, type RpcErrorPayload } from '@gg/contracts';
import type { Request, Response } from 'express';
import { Observable, throwError } from 'rxjs';
import { DomainError } from './domain-error';

/** RPC side: every error becomes a typed payload; internals are logged, never sent. */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RpcErrorFilter');

  catch(exception: unknown): Observable<RpcErrorPayload> {
    if (exception instanceof DomainError) return throwError(() => exception.toPayload());
    if (exception instanceof BadRequestException) {
      const body = exception.getResponse() as { message?: string | string[] };
      const msg = Array.isArray(body.message) ? body.message.join('; ') : (body.message ?? 'bad request');
      return throwError(() => ({ code: ErrorCode.BadRequest, message: msg }));
    }
    this.logger.error({ err: exception }, 'unexpected error in a message handler');
    return throwError(() => ({ code: ErrorCode.Internal, message: 'internal error' }));
  }
}

/** HTTP side: DomainError -> its status; HttpException as Nest does; the unexpected -> 500 without internals. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    if (exception instanceof DomainError) {
      if (exception.retryAfter !== undefined) res.setHeader('Retry-After', String(exception.retryAfter));
      res
        .status(ERROR_HTTP_STATUS[exception.code])
        .json({ statusCode: ERROR_HTTP_STATUS[exception.code], code: exception.code, message: exception.message });
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message =
        typeof body === 'string'
          ? body
          : Array.isArray((body as { message?: unknown }).message)
            ? (body as { message: string[] }).message.join('; ')
            : String((body as { message?: unknown }).message ?? exception.message);
      res.status(status).json({ statusCode: status, message });
      return;
    }
    this.logger.error({ err: exception, requestId: req.headers['x-request-id'] }, 'unexpected error');
    res.status(500).json({ statusCode: 500, message: 'internal error' });
  }
}

/**
 * With `inheritAppConfig` an HTTP app and its Redis microservice share their global filters, so a catch-all filter
 * sees both transports: this one hands RPC errors to RpcErrorFilter and HTTP errors to HttpErrorFilter.
 */
@Catch()
export class TransportErrorFilter implements ExceptionFilter {
  private readonly rpc = new RpcErrorFilter();
  private readonly http = new HttpErrorFilter();

  catch(exception: unknown, host: ArgumentsHost): Observable<unknown> | void {
    if (host.getType() === 'rpc') return this.rpc.catch(exception);
    this.http.catch(exception, host);
  }
}
