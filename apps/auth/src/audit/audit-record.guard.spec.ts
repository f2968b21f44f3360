import type { ExecutionContext } from '@nestjs/common';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { AuthPattern, nsPattern } from '@gg/contracts';
import { callerProofKey, signCallerProof, type ProvenCaller } from '@gg/nest-common';
import { testConfig } from '../testing/fakes';
import { AuditRecordGuard } from './audit-record.guard';

const config = testConfig();
const pattern = nsPattern(config.redisNamespace, AuthPattern.AuditRecord);

function handler(): void {}
Reflect.defineMetadata(PATTERN_METADATA, [pattern], handler);

function rpc(data: Record<string, unknown>): ExecutionContext {
  return {
    getHandler: () => handler,
    getClass: () => AuditRecordGuard,
    switchToRpc: () => ({ getData: () => data, getContext: () => ({}) }),
  } as unknown as ExecutionContext;
}

function signed(caller: ProvenCaller, payload: Record<string, unknown>): Record<string, unknown> {
  return { ...payload, proof: signCallerProof(callerProofKey(config.jwtSecret), caller, pattern, payload) };
}

describe('AuditRecordGuard', () => {
  const guard = new AuditRecordGuard(config);
  const event = { action: 'user.delete' };

  it('takes the actor from the proof, without asking the database', () => {
    const admin: ProvenCaller = { userId: 'a-1', role: 'admin', tokenVersion: 4, sessionId: 's' };
    const data = signed(admin, { event });
    expect(guard.canActivate(rpc(data))).toBe(true);
    expect(data['caller']).toEqual({ userId: 'a-1', role: 'admin', tokenVersion: 4 });
  });

  it('refuses a proof of a non-admin, a proof used twice and a payload changed after signing', () => {
    const user = signed({ userId: 'u-1', role: 'user', tokenVersion: 0, sessionId: 's' }, { event });
    expect(() => guard.canActivate(rpc(user))).toThrow(/only an admin/);
    const admin = signed({ userId: 'a-1', role: 'admin', tokenVersion: 0, sessionId: 's' }, { event });
    expect(guard.canActivate(rpc({ ...admin }))).toBe(true);
    expect(() => guard.canActivate(rpc({ ...admin }))).toThrow(/already used/);
    const changed = signed({ userId: 'a-1', role: 'admin', tokenVersion: 0, sessionId: 's' }, { event });
    expect(() => guard.canActivate(rpc({ ...changed, event: { action: 'user.create' } }))).toThrow();
    expect(() => guard.canActivate(rpc({ event }))).toThrow(/not logged in/);
  });
});
