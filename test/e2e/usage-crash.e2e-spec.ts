import { usageJournalKeys, type AddPoolKeysResult } from '@gg/contracts';
import { startMockGemini, Stack, testRedisUrl, type MockGemini } from '@gg/testing';
import Redis from 'ioredis';
import { Agent, request } from 'undici';
import { createUserKey, fakeGeminiKey, poll, userKey } from './helpers';

jest.setTimeout(120_000);

const CLIENTS = 32;
const LOAD_MS = 3000;

/**
 * Issue 11 §8: `kill -9` of a gateway under load. N clients load one replica; it is killed without warning; the
 * answers the clients received with 2xx are compared with the key's callCount once auth has queued what the dead
 * gateway's usage journal held and the usage queue has drained. What can be lost is what had not reached Redis yet:
 * about a millisecond of answers and one round trip's worth of usage records.
 */
describe('usage counts when a gateway is killed under load', () => {
  let mock: MockGemini;
  let stack: Stack;
  let token: string;
  let key: { id: string; key: string };

  beforeAll(async () => {
    mock = await startMockGemini({ record: false });
    stack = await Stack.start({ geminiBaseUrl: mock.url });
    token = await stack.login();
    const added = await stack.api<AddPoolKeysResult>(token, 'POST', '/api/keys', {
      keys: [fakeGeminiKey(), fakeGeminiKey()],
    });
    expect(added.status).toBe(201);
    key = await createUserKey(stack, token, 'crash');
    await poll(
      () => generate(stack.gatewayUrl).then((r) => r.status),
      (s) => s === 200,
      15_000,
      'the gateway to serve',
    );
  });

  const redis = new Redis(testRedisUrl());
  afterAll(async () => {
    await redis.quit();
    await stack?.stop();
    await mock?.close();
  });

  const agent = new Agent({ connections: CLIENTS, pipelining: 1 });
  afterAll(() => agent.close());

  async function generate(gateway: string): Promise<{ status: number }> {
    const r = await request(`${gateway}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'x-goog-api-key': key.key, 'content-type': 'application/json' },
      body: '{"contents":[{"parts":[{"text":"count me"}]}]}',
    });
    await r.body.text();
    return { status: r.statusCode };
  }

  it('loses under 1 % of the answers of the last second before the kill', async () => {
    const gateway = stack.gatewayUrl;
    const before = (await userKey(stack, token, key.id))!.callCount;
    const answeredAt: number[] = [];
    let stop = false;
    const client = async (): Promise<void> => {
      while (!stop) {
        try {
          const r = await generate(gateway);
          if (r.status >= 200 && r.status < 300) answeredAt.push(Date.now());
        } catch {
          return; // the gateway is gone
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, () => client());
    // the usage journal of the one gateway (it registers it at start)
    const journals = await redis.smembers(usageJournalKeys.journals(stack.namespace));
    expect(journals).toHaveLength(1);
    await new Promise((r) => setTimeout(r, LOAD_MS)); // a load phase of fixed length is the scenario
    const killedAt = Date.now();
    await stack.signal('gateway', 'SIGKILL');
    stop = true;
    await Promise.all(clients);

    const answered = answeredAt.length;
    const lastSecond = answeredAt.filter((t) => t >= killedAt - 1000).length;
    // the dead gateway's journal (up to 100 ms of records not yet in a job) waits for its heartbeat to lapse (5 s);
    // then auth queues what it holds and forgets it (it looks every 2 s)
    await poll(
      () => redis.smembers(usageJournalKeys.journals(stack.namespace)),
      (ids) => !ids.some((id) => journals.includes(id)),
      30_000,
      "auth to reclaim the killed gateway's usage journal",
    );
    // the queue drains: wait until the count stops moving
    let counted = -1;
    await poll(
      async () => {
        const now = (await userKey(stack, token, key.id))!.callCount - before;
        const settled = now === counted && now > 0;
        counted = now;
        return settled;
      },
      (settled) => settled,
      30_000,
      'the usage queue to drain',
    );
    await new Promise((r) => setTimeout(r, 1000)); // nothing more may arrive after the queue drained
    counted = (await userKey(stack, token, key.id))!.callCount - before;
    const lost = Math.max(0, answered - counted);
    process.stderr.write(
      `[usage-crash] ${CLIENTS} clients, ${LOAD_MS} ms: answered 2xx ${answered} (last second ${lastSecond}), counted ${counted}, lost ${lost} (${((100 * lost) / Math.max(1, lastSecond)).toFixed(2)} % of the last second)\n`,
    );
    expect(lastSecond).toBeGreaterThan(100);
    // the target: at most 1 % of the last second's answers (never asked below 2, for a slow run)
    expect(lost).toBeLessThanOrEqual(Math.max(2, Math.ceil(lastSecond * 0.01)));

    // the replica comes back and counts on
    await stack.spawn('gateway');
    await poll(
      () => generate(stack.gatewayUrl).then((r) => r.status),
      (s) => s === 200,
      15_000,
      'the restarted gateway to serve',
    );
  });
});
