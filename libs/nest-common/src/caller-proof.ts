import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Caller, Role } from '@gg/contracts';
import { LRUCache } from 'lru-cache';
import { DomainError } from './domain-error';

/**
 * Caller proofs: how an RPC made for a logged-in user says who that user is, so that a peer on Redis cannot.
 *
 * The admin, having verified the user's access token, signs for ONE message a short-lived proof:
 * `base64url(claims).base64url(HMAC-SHA256(key, claims))`, with the key derived from JWT_SECRET (so it is never
 * the key access tokens are signed with: an access token is not a proof, nor a proof an access token). The claims
 * bind the proof to the user and session (`sub`, `role`, `tv`, `sid`), to the message pattern (`pat`, namespaced)
 * and to the SHA-256 of the rest of the payload (`bh`), expire after {@link PROOF_TTL_MS} and carry a `jti` that
 * the receiver accepts once. Auth and key-pool verify it and derive the caller from it; a bare `caller` object in a
 * payload is never believed.
 */
export const PROOF_TTL_MS = 30_000;
/** Accepted clock skew between admin and the receiver. */
const SKEW_MS = 5_000;
const KEY_LABEL = 'gemini-gateway caller proof v1';
const ROLES: readonly Role[] = ['admin', 'user'];
const MAX_PROOF_LENGTH = 2048;

/** The caller of a proof: who, at which token version, in which session. */
export interface ProvenCaller extends Caller {
  sessionId: string;
}

interface ProofClaims {
  v: 1;
  sub: string;
  role: Role;
  tv: number;
  sid: string;
  /** namespaced message pattern */
  pat: string;
  /** sha256 (base64url) of JSON.stringify(payload without `proof`) */
  bh: string;
  /** epoch ms */
  iat: number;
  exp: number;
  jti: string;
}

export function callerProofKey(jwtSecret: string): Buffer {
  return createHmac('sha256', jwtSecret).update(KEY_LABEL).digest();
}

/** SHA-256 of the payload as it travels (JSON), without its `proof`. */
export function payloadHash(payload: object): string {
  const rest: Record<string, unknown> = { ...(payload as Record<string, unknown>) };
  delete rest['proof'];
  return createHash('sha256').update(JSON.stringify(rest)).digest('base64url');
}

function mac(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}

/** The proof for one message: `payload` is everything that is sent besides the proof. */
export function signCallerProof(
  key: Buffer,
  caller: ProvenCaller,
  pattern: string,
  payload: object,
  now = Date.now(),
): string {
  const claims: ProofClaims = {
    v: 1,
    sub: caller.userId,
    role: caller.role,
    tv: caller.tokenVersion,
    sid: caller.sessionId,
    pat: pattern,
    bh: payloadHash(payload),
    iat: now,
    exp: now + PROOF_TTL_MS,
    jti: randomUUID(),
  };
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${body}.${mac(key, body)}`;
}

/**
 * Verifies the proof carried in `payload.proof` for a message on `pattern` and returns the caller it proves.
 * Throws UNAUTHORIZED (no proof, forged, expired, for another pattern or payload, replayed).
 */
export class CallerProofVerifier {
  /** jti of the proofs accepted in the last PROOF_TTL_MS (+ skew): each is accepted once */
  private readonly seen = new LRUCache<string, true>({ max: 100_000, ttl: PROOF_TTL_MS + 2 * SKEW_MS });

  constructor(private readonly key: Buffer) {}

  verify(payload: unknown, pattern: string, now = Date.now()): ProvenCaller {
    const proof = (payload as { proof?: unknown } | null | undefined)?.proof;
    if (typeof proof !== 'string' || proof.length === 0 || proof.length > MAX_PROOF_LENGTH)
      throw refused('not logged in');
    const [body, sig, extra] = proof.split('.');
    if (!body || !sig || extra !== undefined) throw refused();
    const expected = Buffer.from(mac(this.key, body));
    const given = Buffer.from(sig);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refused();
    const claims = parseClaims(body);
    if (!claims) throw refused();
    if (claims.exp <= now || claims.iat > now + SKEW_MS || claims.exp - claims.iat > PROOF_TTL_MS)
      throw refused('caller proof expired');
    if (claims.pat !== pattern) throw refused();
    if (claims.bh !== payloadHash(payload as object)) throw refused();
    if (this.seen.has(claims.jti)) throw refused('caller proof already used');
    this.seen.set(claims.jti, true);
    return { userId: claims.sub, role: claims.role, tokenVersion: claims.tv, sessionId: claims.sid };
  }
}

function refused(message = 'invalid caller proof'): DomainError {
  return DomainError.unauthorized(message);
}

function parseClaims(body: string): ProofClaims | null {
  let c: Partial<ProofClaims>;
  try {
    c = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<ProofClaims>;
  } catch {
    return null;
  }
  if (typeof c !== 'object' || c === null || c.v !== 1) return null;
  const str = (v: unknown, max: number): boolean => typeof v === 'string' && v.length > 0 && v.length <= max;
  if (!str(c.sub, 64) || !str(c.sid, 64) || !str(c.pat, 256) || !str(c.bh, 64) || !str(c.jti, 64)) return null;
  if (!ROLES.includes(c.role as Role)) return null;
  if (!Number.isSafeInteger(c.tv) || (c.tv as number) < 0) return null;
  if (!Number.isSafeInteger(c.iat) || !Number.isSafeInteger(c.exp)) return null;
  return c as ProofClaims;
}
