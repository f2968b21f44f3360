import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { ErrorCode } from '@gg/contracts';
import { DomainError, HttpErrorFilter } from '@gg/nest-common';
import type { RedisLink } from '../health/redis-link';

/** What a client is told to wait when a dependency (Redis, auth, key-pool) does not answer. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * The admin's error filter: HttpErrorFilter, with every 503 (a dependency down: Redis, auth, key-pool) carrying
 * `Retry-After`, and an RPC that failed inside the transport while Redis is down answered 503, not 500.
 */
@Catch()
export class AdminErrorFilter implements ExceptionFilter {
  private readonly inner = new HttpErrorFilter();

  constructor(private readonly redis: Pick<RedisLink, 'up'>) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof DomainError && exception.code === ErrorCode.Internal && !this.redis.up) {
      exception = new DomainError(ErrorCode.Unavailable, 'a service the admin needs is unreachable (Redis is down)');
    }
    if (
      exception instanceof DomainError &&
      exception.code === ErrorCode.Unavailable &&
      exception.retryAfter === undefined
    ) {
      exception = new DomainError(ErrorCode.Unavailable, exception.message, UNAVAILABLE_RETRY_AFTER_SECONDS);
    }
    this.inner.catch(exception, host);
  }
}
