import type { Request } from 'express';
import { adminTransactionLine } from './transactions';

describe('adminTransactionLine', () => {
  const base = {
    method: 'PATCH',
    headers: { authorization: 'Bearer secret-token' },
    body: { password: 'pw-123456789' },
  };

  it('holds the request id, the user, the route pattern and the figures; never the body or the token', () => {
    const req = { ...base, id: 'req-9', user: { userId: 'u_7', username: 'alice' }, route: { path: '/api/keys/:id' } };
    const line = adminTransactionLine(req as unknown as Request, 200, 1000, 1042, '10.1.2.3');
    expect(line).toEqual({
      requestId: 'req-9',
      time: new Date(1000).toISOString(),
      userId: 'u_7',
      method: 'PATCH',
      route: '/api/keys/:id',
      status: 200,
      durationMs: 42,
      client: '10.1.2.3',
    });
    expect(JSON.stringify(line)).not.toMatch(/secret-token|pw-123456789|alice/);
  });

  it('an unauthenticated call that no route answered: no user, route "unmatched"', () => {
    const line = adminTransactionLine({ ...base, id: 'r' } as unknown as Request, 404, 0, 1, '::1');
    expect(line).not.toHaveProperty('userId');
    expect(line.route).toBe('unmatched');
  });
});
