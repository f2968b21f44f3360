import { randomUUID } from 'node:crypto';
import { requestIdOfLog, withRequestId } from './usage';

describe('requestIdOfLog', () => {
  it("strips the suffix the gateway gives a client's own id, and nothing else", () => {
    // a client's id (usageIdFor appends `.` and 12 hex digits)
    expect(requestIdOfLog('trace-42.0a1b2c3d4e5f')).toBe('trace-42');
    // a client id that itself ends like a suffix keeps it: only the gateway's one is stripped
    expect(requestIdOfLog('x.aaaaaaaaaaaa.0a1b2c3d4e5f')).toBe('x.aaaaaaaaaaaa');
    // an id the gateway made is a UUID: the request id itself
    const uuid = randomUUID();
    expect(requestIdOfLog(uuid)).toBe(uuid);
    expect(requestIdOfLog('v1.2')).toBe('v1.2');
  });

  it('withRequestId adds the field without touching the row', () => {
    const row = { id: 'abc.0123456789ab', status: 200 } as unknown as Parameters<typeof withRequestId>[0];
    expect(withRequestId(row)).toEqual({ id: 'abc.0123456789ab', status: 200, requestId: 'abc' });
    expect(row).not.toHaveProperty('requestId');
  });
});
