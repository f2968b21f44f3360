import { type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { DB_MANAGER, type DbManager } from '@gg/db';
import { DomainError } from '@gg/nest-common';
import { provenCaller } from './caller-proofs';
import { isSessionRevoked } from './session-revocation';

const ADMIN_ONLY = 'gg:admin-only';

/** Marks an RPC handler (or a whole controller) as admins only. */
export const AdminOnly = (): MethodDecorator & ClassDecorator => SetMetadata(ADMIN_ONLY, true);

/**
 * Establishes who calls an RPC from its caller proof (`payload.proof`, signed by the admin for this one message:
 * see `@gg/nest-common` caller-proof), never from a `caller` object in the payload: whatever `caller` was sent is
 * replaced by the proven one before validation. Then checks it against the database: the user must still exist,
 * be active, hold the proven role, be at the proven token version (a password change, role change or
 * deactivation bumps it) and the session must not have ended (logout, refresh-token reuse). With
 * `@AdminOnly()`, the caller must be an admin.
 */
@Injectable()
export class CallerGuard implements CanActivate {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DB_MANAGER) private readonly db: DbManager,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const data = context.switchToRpc().getData<Record<string, unknown> | undefined>();
    if (typeof data !== 'object' || data === null) throw DomainError.unauthorized('not logged in');
    const proven = provenCaller(this.config, context, data);
    const user = await this.db.users.findById(proven.userId);
    if (!user || !user.isActive || user.role !== proven.role || user.tokenVersion !== proven.tokenVersion) {
      throw DomainError.unauthorized('session is no longer valid; please log in again');
    }
    if (await isSessionRevoked(this.db, proven.sessionId)) {
      throw DomainError.unauthorized('session is no longer valid; please log in again');
    }
    const adminOnly = this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, [context.getHandler(), context.getClass()]);
    if (adminOnly && user.role !== 'admin') throw DomainError.forbidden('only an admin may do this');
    data['caller'] = { userId: proven.userId, role: proven.role, tokenVersion: proven.tokenVersion };
    return true;
  }
}
