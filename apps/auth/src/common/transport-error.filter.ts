import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { HttpErrorFilter, RpcErrorFilter } from '@gg/nest-common';
import type { Observable } from 'rxjs';

/**
 * The HTTP app and the Redis microservice share one global config (`inheritAppConfig`), so a global catch-all
 * filter sees both transports: this one hands RPC errors to RpcErrorFilter and HTTP errors to HttpErrorFilter.
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
