import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ClientProxyFactory, type ClientProxy } from '@nestjs/microservices';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { ErrorCode, nsPattern, RPC_TIMEOUT_MS, type RpcErrorPayload } from '@gg/contracts';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';
import { DomainError } from './domain-error';
import { redisTransport } from './transport';

/**
 * RPC and events over the NestJS Redis transport. Every call has a timeout; a peer that does not answer becomes
 * a DomainError(UNAVAILABLE) naming the pattern, and a domain error from the peer is rethrown as a DomainError.
 */
@Injectable()
export class RpcClient implements OnModuleInit, OnApplicationShutdown {
  private readonly client: ClientProxy;
  private readonly ns: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.client = ClientProxyFactory.create(redisTransport(config));
    this.ns = config.redisNamespace;
  }

  async onModuleInit(): Promise<void> {
    await this.client.connect().catch(() => undefined);
  }

  async send<T>(pattern: string, data: unknown, timeoutMs = RPC_TIMEOUT_MS): Promise<T> {
    try {
      // a handler that returns nothing completes without a value: that is an answer, not an error
      return (await firstValueFrom(
        this.client.send<T>(nsPattern(this.ns, pattern), data ?? {}).pipe(timeout(timeoutMs)),
        {
          defaultValue: undefined,
        },
      )) as T;
    } catch (e) {
      throw toDomainError(e, pattern);
    }
  }

  /** Fire-and-forget notification (at most once; a periodic reconcile must also cover it). */
  emit(pattern: string, data: unknown): void {
    this.client.emit(nsPattern(this.ns, pattern), data).subscribe({ error: () => undefined });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

/**
 * What a failed call means to the caller. The peer's own errors arrive as plain payloads (`{code, message}`); an
 * `Error` instance was raised on this side, by the transport (Redis away, the connection closed): the peer could
 * not be reached, which is UNAVAILABLE (503 + Retry-After at the edge), not an internal error.
 */
export function toDomainError(e: unknown, pattern: string): DomainError {
  if (e instanceof DomainError) return e;
  const service = pattern.split('.')[0];
  if (e instanceof TimeoutError) {
    return new DomainError(ErrorCode.Unavailable, `the ${service} service did not answer in time`);
  }
  const p = e as Partial<RpcErrorPayload> | undefined;
  if (p && typeof p === 'object' && typeof p.code === 'string' && typeof p.message === 'string') {
    return new DomainError(p.code as ErrorCode, p.message, p.retryAfter);
  }
  if (e instanceof Error) {
    return new DomainError(ErrorCode.Unavailable, `the ${service} service could not be reached`);
  }
  return new DomainError(ErrorCode.Internal, 'internal error');
}
