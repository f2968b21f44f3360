import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { callerProofKey, CallerProofVerifier, DomainError } from '@gg/nest-common';

const verifiers = new Map<string, CallerProofVerifier>();

function verifierFor(secret: string): CallerProofVerifier {
  let v = verifiers.get(secret);
  if (!v) verifiers.set(secret, (v = new CallerProofVerifier(callerProofKey(secret))));
  return v;
}

/**
 * The pool RPCs the admin calls for an admin (list, add, delete, reset, check) need a caller proof of an admin
 * (`payload.proof`, signed by the admin with the key derived from JWT_SECRET, for this pattern and payload, once):
 * a peer on Redis without the secret cannot list or change the pool. The proof is removed before validation.
 * (The session itself was checked by the admin; key-pool keeps no users.)
 */
@Injectable()
export class AdminProofGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const data = context.switchToRpc().getData<Record<string, unknown> | undefined>();
    if (typeof data !== 'object' || data === null) throw DomainError.unauthorized('not logged in');
    const patterns = Reflect.getMetadata(PATTERN_METADATA, context.getHandler()) as unknown[] | undefined;
    const pattern = patterns?.[0];
    if (typeof pattern !== 'string') throw DomainError.unauthorized('not logged in');
    const caller = verifierFor(this.config.jwtSecret).verify(data, pattern);
    if (caller.role !== 'admin') throw DomainError.forbidden('only an admin may do this');
    delete data['proof'];
    return true;
  }
}
