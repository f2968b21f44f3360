import 'reflect-metadata';
import type { ServiceLogLine } from '@gg/contracts';
import { matches } from './service-log-filter';

const line = (over: Partial<ServiceLogLine>): ServiceLogLine => ({
  id: '1-0',
  app: 'auth',
  level: 'info',
  time: '2026-01-01T00:00:00.000Z',
  msg: 'm',
  fields: {},
  ...over,
});

describe('service-log filter', () => {
  it('requestId: only the lines written for that request', () => {
    const keep = matches({ requestId: 'req-1' });
    expect(keep(line({ fields: { requestId: 'req-1' } }))).toBe(true);
    expect(keep(line({ fields: { requestId: 'req-10' } }))).toBe(false);
    expect(keep(line({ fields: {} }))).toBe(false);
    // with the other filters
    expect(matches({ requestId: 'req-1', level: 'warn' })(line({ fields: { requestId: 'req-1' } }))).toBe(false);
    expect(matches({})(line({ fields: {} }))).toBe(true);
  });
});
