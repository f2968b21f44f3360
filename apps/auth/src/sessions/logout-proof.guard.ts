import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { DomainError } from '@gg/nest-common';
import { provenCaller } from '../common/caller-proofs';

/** Where the guard puts the session a verified proof names (anything sent under this name is dropped first). */
export const PROVEN_SESSION = 'provenSessionId';

/**
 * Logout may come with a caller proof (the access token was presented, with or without the refresh cookie): the
 * proof is verified here and the session it names handed to the handler. A proof that does not verify is refused.
 */
@Injectable()
export class LogoutProofGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const data = context.switchToRpc().getData<Record<string, unknown> | undefined>();
    if (typeof data !== 'object' || data === null) throw DomainError.badRequest('payload must be an object');
    delete data[PROVEN_SESSION];
    if (data['proof'] === undefined) return true;
    data[PROVEN_SESSION] = provenCaller(this.config, context, data).sessionId;
    return true;
  }
}
