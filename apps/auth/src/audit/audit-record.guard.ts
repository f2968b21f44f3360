import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { DomainError } from '@gg/nest-common';
import { provenCaller } from '../common/caller-proofs';

/**
 * For `auth.audit.record`: the actor is who the admin's caller proof (signed for this one message) says, and
 * must have been an admin when the admin signed it. Unlike CallerGuard, the session is not checked against the
 * database: the action being recorded may itself have ended it (an admin changing their own role or password).
 */
@Injectable()
export class AuditRecordGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const data = context.switchToRpc().getData<Record<string, unknown> | undefined>();
    if (typeof data !== 'object' || data === null) throw DomainError.unauthorized('not logged in');
    const proven = provenCaller(this.config, context, data);
    if (proven.role !== 'admin') throw DomainError.forbidden('only an admin action is audited');
    data['caller'] = { userId: proven.userId, role: proven.role, tokenVersion: proven.tokenVersion };
    return true;
  }
}
