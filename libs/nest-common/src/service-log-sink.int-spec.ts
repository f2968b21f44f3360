import { randomBytes } from 'node:crypto';
import pino from 'pino';
import Redis from 'ioredis';
import { testRedisUrl } from '@gg/testing';
import { REDACT_PATHS } from './logging';
import { ServiceLogSink, serviceLogsKey } from './service-log-sink';

const REDIS_URL = testRedisUrl();

describe('ServiceLogSink (real Redis)', () => {
  const namespace = `t-sl-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(REDIS_URL);
  afterAll(async () => {
    await redis.del(serviceLogsKey(namespace));
    await redis.quit();
  });

  it('ships pino lines, redacted, to the capped stream with app, level, time and msg', async () => {
    const sink = new ServiceLogSink({ redisUrl: REDIS_URL, namespace });
    const log = pino(
      {
        base: { app: 'auth' },
        redact: { paths: REDACT_PATHS, censor: '[redacted]' },
        timestamp: pino.stdTimeFunctions.isoTime,
      },
      sink,
    );
    log.warn(
      { body: { password: 'hunter2-secret' }, req: { headers: { authorization: 'Bearer sk-secret' } } },
      'login failed',
    );
    log.info('second');
    await sink.flush();
    const entries = await redis.xrange(serviceLogsKey(namespace), '-', '+');
    expect(entries).toHaveLength(2);
    const fields = Object.fromEntries(
      entries[0][1].reduce<string[][]>((acc, v, i) => (i % 2 ? acc[acc.length - 1].push(v) : acc.push([v]), acc), []),
    );
    expect(fields).toMatchObject({ app: 'auth', level: 'warn', msg: 'login failed' });
    expect(new Date(fields.time).getTime()).toBeGreaterThan(0);
    expect(fields.line).not.toContain('hunter2-secret');
    expect(fields.line).not.toContain('sk-secret');
    sink.close();
  });

  it('never blocks or grows without bound when Redis is away: lines are dropped', async () => {
    const sink = new ServiceLogSink({ redisUrl: 'redis://127.0.0.1:1', namespace, maxBuffered: 10 });
    const t0 = Date.now();
    for (let i = 0; i < 1000; i++) sink.write(`{"level":30,"msg":"m${i}"}\n`);
    expect(Date.now() - t0).toBeLessThan(200);
    expect(sink.dropped).toBe(990);
    await sink.flush();
    expect(sink.dropped).toBe(1000);
    sink.close();
  });
});
