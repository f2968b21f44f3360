import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import { createKey, generate, keyOf, listModels } from './accounts-helpers';
import { fakeGeminiKey, poll } from './helpers';

jest.setTimeout(120_000);

interface Outcome {
  status: number;
  body: string;
}

/** Steady load from `workers` loops over the given gateways until `stop()`; every outcome is kept. */
function load(
  gateways: () => string[],
  key: string,
  workers = 6,
): { outcomes: Outcome[]; errors: number; stop: () => Promise<void> } {
  const state = { outcomes: [] as Outcome[], errors: 0, running: true };
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let n = 0; state.running; n++) {
      const urls = gateways();
      try {
        const r = await generate(urls[(w + n) % urls.length], key);
        state.outcomes.push({ status: r.status, body: r.body });
      } catch {
        state.errors++; // no answer: the request never passed authentication as far as the client can tell
        await new Promise((r) => setTimeout(r, 20)); // a client's back-off before it retries, not a wait for an event
      }
    }
  });
  return {
    outcomes: state.outcomes,
    get errors() {
      return state.errors;
    },
    stop: async () => {
      state.running = false;
      await Promise.all(loops);
    },
  };
}

/** Answers that passed authentication: everything but 401 and the gateway's own "auth unavailable" 503. */
function authenticated(outcomes: Outcome[]): number {
  return outcomes.filter((o) => o.status !== 401 && !(o.status === 503 && o.body.includes('authentication service')))
    .length;
}

/** A load phase of fixed length (or, after a count settled, a window in which nothing more may arrive). */
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(['sqlite', 'redis'] as const)(
  'exact counts while apps crash or stop (DATABASE_TYPE=%s)',
  (databaseType) => {
    let mock: MockGemini;
    let stack: Stack;
    let admin: string;

    beforeAll(async () => {
      mock = await startMockGemini({ record: false });
      stack = await Stack.start({
        geminiBaseUrl: mock.url,
        databaseType,
        gateways: 2,
        env: { AUTH_CACHE_TTL_SECONDS: '300' },
      });
      admin = await stack.login();
      expect((await stack.api(admin, 'POST', '/api/keys', { keys: [fakeGeminiKey(), fakeGeminiKey()] })).status).toBe(
        201,
      );
      for (const i of [0, 1]) {
        await stack.gatewayReady(i);
      }
    });

    afterAll(async () => {
      await stack?.stop();
      await mock?.close();
    });

    it('kill -9 of auth twice in the middle of a load: callCount ends exactly at the authenticated requests', async () => {
      const k = await createKey(stack, admin, { name: 'under load' });
      const gateways = [stack.urlOf('gateway', 0), stack.urlOf('gateway', 1)];
      for (const g of gateways) expect(await listModels(g, k.key)).toBe(200); // both caches hold the key
      const before = gateways.length; // the new key's calls so far: the warm-up

      const run = load(() => gateways, k.key);
      for (let crash = 0; crash < 2; crash++) {
        await pause(800);
        await stack.signal('auth', 'SIGKILL');
        await pause(700); // requests go on meanwhile: the gateways serve from their cache, usage waits in BullMQ
        await stack.spawn('auth');
      }
      await pause(800);
      await run.stop();

      const expected = before + authenticated(run.outcomes);
      expect(run.errors).toBe(0);
      expect(authenticated(run.outcomes)).toBeGreaterThan(50);
      // a batch in hand when auth died is taken up again once its lock lapses (about 15 s at most)
      const token = await stack.login();
      await poll(
        () => keyOf(stack, token, k.id).then((x) => x?.callCount ?? -1),
        (n) => n >= expected,
        45_000,
        `callCount ${expected}`,
      );
      await pause(1000);
      expect((await keyOf(stack, token, k.id))!.callCount).toBe(expected);
    });

    it('SIGTERM of a gateway in the middle of a load: every request it answered is counted, none twice', async () => {
      const k = await createKey(stack, admin, { name: 'draining' });
      const gateway = stack.urlOf('gateway', 1);
      expect(await listModels(gateway, k.key)).toBe(200);
      const before = 1; // the warm-up
      mock.script({ type: 'delay', firstByteMs: 150, times: Infinity });
      const run = load(() => [gateway], k.key, 8);
      await pause(1000);
      await stack.signal('gateway', 'SIGTERM', 1);
      await run.stop();
      mock.reset();

      const expected = before + authenticated(run.outcomes);
      expect(authenticated(run.outcomes)).toBeGreaterThan(20);
      await poll(
        () => keyOf(stack, admin, k.id).then((x) => x?.callCount ?? -1),
        (n) => n >= expected,
        20_000,
        `callCount ${expected}`,
      );
      await pause(1000);
      expect((await keyOf(stack, admin, k.id))!.callCount).toBe(expected);
      await stack.spawn('gateway', 1);
    });
  },
);
