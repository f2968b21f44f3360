import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { ErrorCode } from '@gg/contracts';
import { DomainError } from '@gg/nest-common';
import type Redis from 'ioredis';
import { RedisLink } from '../health/redis-link';
import type { AuthUser } from '../security/auth-user';

export const STREAMS = ['logs', 'service-logs'] as const;
export type StreamName = (typeof STREAMS)[number];

/** A ticket opens one stream once, within this time. */
export const TICKET_TTL_SECONDS = 30;
const RETRY_AFTER_SECONDS = 5;

interface TicketRecord {
  stream: StreamName;
  user: AuthUser;
}

/**
 * Single-use tickets for the live streams (EventSource cannot send headers, and an access token in a URL ends up
 * in proxy and access logs). Kept in Redis so any admin replica can redeem it: `${ns}:admin:stream-ticket:<sha256>`
 * (the ticket itself is never stored), deleted by the GETDEL that redeems it, gone after TICKET_TTL_SECONDS.
 */
@Injectable()
export class StreamTicketStore {
  private readonly logger = new Logger(StreamTicketStore.name);
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig, link: RedisLink) {
    this.prefix = `${config.redisNamespace}:admin:stream-ticket`;
    this.redis = link.redis;
  }

  async issue(user: AuthUser, stream: StreamName): Promise<string> {
    const ticket = randomBytes(32).toString('base64url');
    const record: TicketRecord = { stream, user };
    await this.call(() => this.redis.set(this.key(ticket), JSON.stringify(record), 'EX', TICKET_TTL_SECONDS));
    return ticket;
  }

  /** The user the ticket was issued to, once; null when unknown, used, expired or for another stream. */
  async redeem(ticket: string, stream: StreamName): Promise<AuthUser | null> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(ticket)) return null;
    const raw = await this.call(() => this.redis.getdel(this.key(ticket)));
    if (!raw) return null;
    const record = JSON.parse(raw) as TicketRecord;
    return record.stream === stream ? record.user : null;
  }

  private key(ticket: string): string {
    return `${this.prefix}:${createHash('sha256').update(ticket).digest('hex')}`;
  }

  private async call<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, 'stream tickets: redis unavailable');
      throw new DomainError(
        ErrorCode.Unavailable,
        'stream tickets are unavailable (Redis); try again shortly',
        RETRY_AFTER_SECONDS,
      );
    }
  }
}
