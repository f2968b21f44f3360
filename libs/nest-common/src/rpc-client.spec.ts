import { ErrorCode } from '@gg/contracts';
import { TimeoutError } from 'rxjs';
import { DomainError } from './domain-error';
import { toDomainError } from './rpc-client';

describe('toDomainError', () => {
  it('reads a timeout and a transport failure as UNAVAILABLE naming the service, never INTERNAL', () => {
    const timedOut = toDomainError(new TimeoutError(), 'auth.key.verify');
    expect([timedOut.code, timedOut.message]).toEqual([
      ErrorCode.Unavailable,
      'the auth service did not answer in time',
    ]);
    // what ioredis raises when Redis went away under the transport
    const closed = toDomainError(new Error('Connection is closed.'), 'pool.keys.list');
    expect([closed.code, closed.message]).toEqual([ErrorCode.Unavailable, 'the pool service could not be reached']);
  });

  it("passes the peer's own error on with its code and retry hint", () => {
    const e = toDomainError({ code: ErrorCode.NotFound, message: 'user not found', retryAfter: 3 }, 'auth.user.get');
    expect(e).toBeInstanceOf(DomainError);
    expect([e.code, e.message, e.retryAfter]).toEqual([ErrorCode.NotFound, 'user not found', 3]);
    const same = new DomainError(ErrorCode.Conflict, 'taken');
    expect(toDomainError(same, 'auth.user.create')).toBe(same);
  });

  it('reads an answer that is neither as INTERNAL, without its text', () => {
    const e = toDomainError({ status: 'error', message: 'Internal server error' }, 'auth.user.get');
    expect([e.code, e.message]).toEqual([ErrorCode.Internal, 'internal error']);
  });
});
