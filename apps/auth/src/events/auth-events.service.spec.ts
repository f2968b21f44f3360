import { AuthEvent, type RequestLog } from '@gg/contracts';
import type { RpcClient } from '@gg/nest-common';
import { AuthEventsService, LOGS_APPENDED_EVERY_MS, LOGS_APPENDED_MAX_ROWS } from './auth-events.service';

const log = (i: number): RequestLog => ({ id: `r${i}`, userId: 'u1' }) as RequestLog;

describe('AuthEventsService: request-log rows for the live stream', () => {
  let sent: { pattern: string; data: unknown }[];
  let events: AuthEventsService;

  beforeEach(() => {
    jest.useFakeTimers();
    sent = [];
    const rpc = { emit: (pattern: string, data: unknown) => sent.push({ pattern, data }) };
    events = new AuthEventsService(rpc as unknown as RpcClient);
  });
  afterEach(() => jest.useRealTimers());

  it('sends the rows of many usage jobs as one event within the interval, in order', () => {
    events.logsAppended([log(1), log(2)]);
    events.logsAppended([log(3)]);
    events.logsAppended([]);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(LOGS_APPENDED_EVERY_MS - 1);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([{ pattern: AuthEvent.LogsAppended, data: [log(1), log(2), log(3)] }]);
    // the next rows start a new interval
    events.logsAppended([log(4)]);
    jest.advanceTimersByTime(LOGS_APPENDED_EVERY_MS);
    expect(sent.map((s) => s.data)).toEqual([[log(1), log(2), log(3)], [log(4)]]);
  });

  it('sends at once when the maximum is waiting, and sends nothing empty', () => {
    events.logsAppended(Array.from({ length: LOGS_APPENDED_MAX_ROWS }, (_, i) => log(i)));
    expect(sent).toHaveLength(1);
    expect((sent[0].data as RequestLog[]).length).toBe(LOGS_APPENDED_MAX_ROWS);
    jest.advanceTimersByTime(LOGS_APPENDED_EVERY_MS * 3);
    expect(sent).toHaveLength(1);
  });

  it('sends what waits at shutdown, before the transport closes', () => {
    events.logsAppended([log(1)]);
    events.beforeApplicationShutdown();
    expect(sent).toEqual([{ pattern: AuthEvent.LogsAppended, data: [log(1)] }]);
    jest.advanceTimersByTime(LOGS_APPENDED_EVERY_MS);
    expect(sent).toHaveLength(1);
  });
});
