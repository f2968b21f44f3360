import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import type { ExecutionContext } from '@nestjs/common';
import type { AppConfig } from '@gg/config';
import { callerProofKey, CallerProofVerifier, DomainError, type ProvenCaller } from '@gg/nest-common';

const verifiers = new Map<string, CallerProofVerifier>();

/** One verifier per secret and process, so its memory of used proofs covers every handler. */
export function proofVerifier(config: Pick<AppConfig, 'jwtSecret'>): CallerProofVerifier {
  let v = verifiers.get(config.jwtSecret);
  if (!v) verifiers.set(config.jwtSecret, (v = new CallerProofVerifier(callerProofKey(config.jwtSecret))));
  return v;
}

/** The (namespaced) pattern of the RPC handler being run. */
export function handlerPattern(context: ExecutionContext): string {
  const patterns = Reflect.getMetadata(PATTERN_METADATA, context.getHandler()) as unknown;
  const pattern = Array.isArray(patterns) ? patterns[0] : patterns;
  if (typeof pattern !== 'string') throw DomainError.unauthorized('not logged in');
  return pattern;
}

/** The caller proven by `payload.proof` for this handler (UNAUTHORIZED otherwise). */
export function provenCaller(config: AppConfig, context: ExecutionContext, payload: unknown): ProvenCaller {
  return proofVerifier(config).verify(payload, handlerPattern(context));
}
