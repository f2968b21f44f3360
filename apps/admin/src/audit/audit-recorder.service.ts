import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import {
  AuthPattern,
  PoolPattern,
  type AuditEvent,
  type AuditRecordRequest,
  type PoolKey,
  type User,
} from '@gg/contracts';
import { clientAddress, compileTrust, type TrustFn } from '@gg/nest-common';
import type { Request } from 'express';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';

/** What a controller says about an action; who did it and from where come from the request. */
export type AuditAction = Omit<AuditEvent, 'actorName' | 'address'>;

/**
 * Records state-changing admin actions in auth's audit log (`auth.audit.record`), after they succeeded. The call
 * is awaited, so an entry exists by the time the admin's answer is sent, but a failure to record is logged and
 * never turns a done action into an error answer. Callers put no secret in an event (see `@gg/contracts` audit).
 */
@Injectable()
export class AuditRecorder {
  private readonly logger = new Logger(AuditRecorder.name);
  private readonly trust: TrustFn;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly rpc: CallerRpc,
  ) {
    this.trust = compileTrust(config.trustedProxies);
  }

  async record(caller: AuthUser, req: Request, action: AuditAction): Promise<void> {
    const event: AuditEvent = { ...action, actorName: caller.username, address: clientAddress(req, this.trust) };
    try {
      await this.rpc.send<unknown>(caller, AuthPattern.AuditRecord, { event } satisfies Omit<
        AuditRecordRequest,
        'proof'
      >);
    } catch (err) {
      this.logger.error(
        { err: (err as Error).message, action: event.action, targetId: event.targetId, actorId: caller.userId },
        'audit entry not recorded',
      );
    }
  }

  /** The masked form of a pool key, to name it in an entry (null when it cannot be found). */
  async poolKeyName(caller: AuthUser, id: string): Promise<string | null> {
    try {
      const keys = await this.rpc.send<PoolKey[]>(caller, PoolPattern.List);
      return keys.find((k) => k.id === id)?.masked ?? null;
    } catch {
      return null;
    }
  }

  /** A user's username, to name it in an entry (null when it cannot be found). */
  async username(caller: AuthUser, id: string): Promise<string | null> {
    try {
      const users = await this.rpc.send<User[]>(caller, AuthPattern.UsersList);
      return users.find((u) => u.id === id)?.username ?? null;
    } catch {
      return null;
    }
  }
}
