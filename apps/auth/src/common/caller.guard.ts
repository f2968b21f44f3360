import { type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DB_MANAGER, type DbManager } from '@gg/db';
import { DomainError } from '@gg/nest-common';

const ADMIN_ONLY = 'gg:admin-only';

/** Marks an RPC handler (or a whole controller) as admins only. */
export const AdminOnly = (): MethodDecorator & ClassDecorator => SetMetadata(ADMIN_ONLY, true);

/**
 * Checks the `caller` of an RPC against the database: the user must still exist, be active, hold the role the
 * token claims and still be at the token's version (a password change, role change or deactivation bumps it), so
 * such a change takes effect at once, not when the access token expires. With `@AdminOnly()`, the caller must be
 * an admin.
 */
@Injectable()
export class CallerGuard implements CanActivate {
  constructor(
    @Inject(DB_MANAGER) private readonly db: DbManager,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const data = context
      .switchToRpc()
      .getData<{ caller?: { userId?: unknown; role?: unknown; tokenVersion?: unknown } } | undefined>();
    const caller = data?.caller;
    if (!caller || typeof caller.userId !== 'string' || caller.userId === '') {
      throw DomainError.unauthorized('not logged in');
    }
    const user = await this.db.users.findById(caller.userId);
    if (!user || !user.isActive || user.role !== caller.role || user.tokenVersion !== caller.tokenVersion) {
      throw DomainError.unauthorized('session is no longer valid; please log in again');
    }
    const adminOnly = this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, [context.getHandler(), context.getClass()]);
    if (adminOnly && user.role !== 'admin') throw DomainError.forbidden('only an admin may do this');
    return true;
  }
}
