import { Logger } from '@nestjs/common';
import type { AppConfig } from '@gg/config';
import { AuthPattern, PoolPattern, type AuditRecordRequest } from '@gg/contracts';
import type { RpcClient } from '@gg/nest-common';
import type { Request } from 'express';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { AuditRecorder } from './audit-recorder.service';

beforeAll(() => Logger.overrideLogger(false));

const config = {
  jwtSecret: 'unit-test-secret-unit-test-secret-0123456789',
  redisNamespace: 'unit',
  trustedProxies: ['10.0.0.1'],
} as AppConfig;
const caller: AuthUser = { userId: 'a-1', role: 'admin', tokenVersion: 0, sessionId: 's-1', username: 'alice' };
const action = {
  action: 'pool-key.delete',
  targetType: 'pool-key',
  targetId: 'k-1',
  targetName: 'AIza…abcd',
  changes: null,
} as const;

/** A request from `peer`, with an X-Forwarded-For header. */
function from(peer: string, xff: string): Request {
  return { socket: { remoteAddress: peer }, headers: { 'x-forwarded-for': xff }, connection: {} } as unknown as Request;
}

function recorder(send: (pattern: string, data: unknown) => Promise<unknown>): AuditRecorder {
  const rpc = { send: jest.fn(send) } as unknown as RpcClient;
  return new AuditRecorder(config, new CallerRpc(config, rpc));
}

describe('AuditRecorder', () => {
  it("sends the event with the actor's name and the client address, with a caller proof", async () => {
    const sent: { pattern: string; data: AuditRecordRequest }[] = [];
    const audit = recorder(async (pattern, data) => {
      sent.push({ pattern, data: data as AuditRecordRequest });
      return { id: 'x', at: 'now' };
    });
    await audit.record(caller, from('10.0.0.1', '203.0.113.5'), action);
    await audit.record(caller, from('192.0.2.9', '203.0.113.5'), action);
    expect(sent.map((s) => s.pattern)).toEqual([AuthPattern.AuditRecord, AuthPattern.AuditRecord]);
    // X-Forwarded-For believed from the trusted proxy only (TRUSTED_PROXIES)
    expect(sent.map((s) => s.data.event.address)).toEqual(['203.0.113.5', '192.0.2.9']);
    expect(sent[0]?.data.event).toEqual({ ...action, actorName: 'alice', address: '203.0.113.5' });
    expect(sent[0]?.data.proof).toEqual(expect.any(String));
  });

  it('never turns a done action into an error when auth cannot record it', async () => {
    const audit = recorder(async () => {
      throw new Error('auth is down');
    });
    await expect(audit.record(caller, from('10.0.0.1', '203.0.113.5'), action)).resolves.toBeUndefined();
  });

  it('names a pool key by its masked form, and answers null when it cannot', async () => {
    const audit = recorder(async (pattern) =>
      pattern === PoolPattern.List ? [{ id: 'k-1', masked: 'AIza…abcd' }] : null,
    );
    await expect(audit.poolKeyName(caller, 'k-1')).resolves.toBe('AIza…abcd');
    await expect(audit.poolKeyName(caller, 'k-2')).resolves.toBeNull();
    const down = recorder(async () => {
      throw new Error('down');
    });
    await expect(down.poolKeyName(caller, 'k-1')).resolves.toBeNull();
    await expect(down.username(caller, 'u-1')).resolves.toBeNull();
  });
});
