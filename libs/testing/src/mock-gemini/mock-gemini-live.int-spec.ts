import { GoogleGenAI, Modality, type LiveServerMessage, type Session } from '@google/genai';
import { WebSocket } from 'ws';

import { startMockGemini, type MockGemini } from '@gg/testing';

const KEY = 'AIzaMockLiveKeyA';
const MODEL = 'gemini-live-2.5-flash-preview';
const LIVE_PATH = '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent';

let mock: MockGemini;

beforeAll(async () => {
  delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
  mock = await startMockGemini();
});
afterAll(() => mock.close());
beforeEach(() => mock.reset());

interface Opened {
  session: Session;
  messages: LiveServerMessage[];
  /** resolves with the first message (already received or to come) that satisfies `ok` */
  until(ok: (m: LiveServerMessage) => boolean): Promise<LiveServerMessage>;
  closed: Promise<{ code: number; reason: string }>;
}

/** `ai.live.connect` on the mock, with every message collected. */
async function connect(apiKey: string, config: Record<string, unknown> = {}): Promise<Opened> {
  const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl: mock.url } });
  const messages: LiveServerMessage[] = [];
  const waiters: { ok: (m: LiveServerMessage) => boolean; resolve: (m: LiveServerMessage) => void }[] = [];
  let onClose!: (e: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => (onClose = r));
  const session = await ai.live.connect({
    model: MODEL,
    config: { responseModalities: [Modality.TEXT], ...config },
    callbacks: {
      onmessage: (m) => {
        messages.push(m);
        for (const w of waiters.splice(0)) {
          if (w.ok(m)) w.resolve(m);
          else waiters.push(w);
        }
      },
      onclose: (e) => onClose({ code: e.code, reason: e.reason }),
    },
  });
  const until = (ok: (m: LiveServerMessage) => boolean): Promise<LiveServerMessage> => {
    const seen = messages.find(ok);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ ok, resolve }));
  };
  return { session, messages, until, closed };
}

const textOf = (ms: LiveServerMessage[]): string =>
  ms.map((m) => m.serverContent?.modelTurn?.parts?.map((p) => p.text ?? '').join('') ?? '').join('');

/** A raw client: the outcome of the handshake and of the setup. */
function rawSession(
  path: string,
  setup: unknown,
): Promise<{ status?: number; body?: string; code?: number; reason?: string; first?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(mock.url.replace('http', 'ws') + path);
    let first: string | undefined;
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    ws.on('open', () => ws.send(JSON.stringify(setup)));
    ws.on('message', (d: Buffer) => {
      // the first answer is all this client wants: it leaves then
      first ??= d.toString('utf8');
      ws.close();
    });
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), first }));
    ws.on('error', () => undefined);
  });
}

describe('mock Live API (BidiGenerateContent over WebSocket)', () => {
  it('answers the setup, then a text turn in several serverContent messages, turnComplete and the usage', async () => {
    const s = await connect(KEY);
    expect(s.messages[0].setupComplete).toEqual({});
    s.session.sendClientContent({ turns: [{ role: 'user', parts: [{ text: 'hello live mock' }] }] });
    const usage = await s.until((m) => m.usageMetadata !== undefined);
    const content = s.messages.filter((m) => m.serverContent?.modelTurn);
    expect(content.length).toBeGreaterThanOrEqual(2);
    expect(textOf(s.messages)).toBe('echo: hello live mock');
    expect(s.messages.some((m) => m.serverContent?.turnComplete)).toBe(true);
    expect(usage.usageMetadata).toMatchObject({ promptTokenCount: 3, responseTokenCount: 4, totalTokenCount: 7 });
    s.session.close();
    expect((await s.closed).code).toBe(1005);
    const [rec] = mock.liveSessions;
    expect(rec).toMatchObject({ key: KEY, model: `models/${MODEL}`, version: 'v1beta' });
    expect(rec.messages[0]).toMatchObject({ setup: { model: `models/${MODEL}` } });
    expect(rec.messages[1]).toMatchObject({ clientContent: { turnComplete: true } });
  });

  it('calls a declared function when asked, and goes on after the tool response', async () => {
    const tools = [{ functionDeclarations: [{ name: 'get_weather', description: 'the weather' }] }];
    const s = await connect(KEY, { tools });
    s.session.sendClientContent({ turns: 'call get_weather {"city":"Paris"}' });
    const call = (await s.until((m) => m.toolCall !== undefined)).toolCall!.functionCalls![0];
    expect(call).toMatchObject({ name: 'get_weather', args: { city: 'Paris' } });
    expect(call.id).toBeTruthy();
    s.session.sendToolResponse({
      functionResponses: [{ id: call.id, name: call.name, response: { temperature: 21 } }],
    });
    await s.until((m) => m.serverContent?.turnComplete === true);
    expect(textOf(s.messages)).toBe('tool get_weather said: {"temperature":21}');
    s.session.close();
    await s.closed;
  });

  it('sends a scripted goAway, then ends the session when its time is up', async () => {
    mock.script({ type: 'goAway', timeLeft: '0.2s', method: 'bidiGenerateContent' });
    const s = await connect(KEY);
    await s.until((m) => m.goAway !== undefined);
    expect(s.messages.find((m) => m.goAway)?.goAway?.timeLeft).toBe('0.2s');
    expect((await s.closed).code).toBe(1000);
  });

  it('closes with 1007 after the setup when the key is not valid; the // path of the SDK is accepted too', async () => {
    const bad = await rawSession(`/${LIVE_PATH}?key=not-a-key`, { setup: { model: `models/${MODEL}` } });
    expect(bad).toMatchObject({ code: 1007, reason: 'API key not valid. Please pass a valid API key.' });
    expect(bad.first).toBeUndefined();
    const none = await rawSession(LIVE_PATH, { setup: { model: `models/${MODEL}` } });
    expect(none.code).toBe(1008);
    const good = await rawSession(`/${LIVE_PATH}?key=${KEY}`, { setup: { model: `models/${MODEL}` } });
    expect(good).toMatchObject({ first: '{"setupComplete":{}}', code: 1005 });
  });

  it('refuses the handshake with a scripted HTTP error, and only for the key and method the rule names', async () => {
    mock.script({ type: 'rateLimit', key: KEY, method: 'bidiGenerateContent' });
    mock.script({ type: 'rateLimit', key: 'AIzaOther' }); // a REST rule never reaches a WebSocket
    const refused = await rawSession(`${LIVE_PATH}?key=${KEY}`, { setup: { model: `models/${MODEL}` } });
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body!).error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    const other = await rawSession(`${LIVE_PATH}?key=AIzaOther`, { setup: { model: `models/${MODEL}` } });
    expect(other.first).toBe('{"setupComplete":{}}');
    mock.script({ type: 'liveClose', code: 1011, reason: 'quota exceeded', method: 'bidiGenerateContent' });
    const closed = await rawSession(`${LIVE_PATH}?key=${KEY}`, { setup: { model: `models/${MODEL}` } });
    expect(closed).toMatchObject({ code: 1011, reason: 'quota exceeded' });
    const notFound = await rawSession('/ws/other?key=' + KEY, {});
    expect(notFound.status).toBe(404);
  });
});
