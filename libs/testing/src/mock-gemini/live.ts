/**
 * The Live API (BidiGenerateContent) over WebSocket, as the official SDK speaks it (docs/gemini-wire.md §1):
 * `/ws/google.ai.generativelanguage.{v1beta|v1alpha}.GenerativeService.BidiGenerateContent?key=…`, JSON messages,
 * the setup first. Server messages go out as binary frames holding JSON, as Google sends them.
 *
 * A key that is missing or not accepted gets the handshake, then a close once the setup arrived: 1007 with
 * "API key not valid. Please pass a valid API key." (1008 when no key was given). That is what Google's endpoint
 * is publicly reported to do (the SDKs surface it as a close, not as an HTTP error); it is not verified against live
 * traffic. A scripted `rateLimit`, `invalidKey`, `suspended` or `error` refuses the handshake with that HTTP answer.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

import type { Json } from './context';
import { googleError, INVALID_KEY, rateLimited, suspended, type GoogleError } from './errors';
import { answer, callTokens, splitWords } from './generate';
import { countWords } from './google-json';
import type { Rules } from './rules';
import type { Stoppable } from './stream';
import type { RecordedLiveSession, ScriptRule } from './types';

const LIVE_PATH = /^\/+ws\/google\.ai\.generativelanguage\.(v1beta|v1alpha)\.GenerativeService\.BidiGenerateContent$/;
const INVALID_KEY_MESSAGE = 'API key not valid. Please pass a valid API key.';
const MISSING_KEY_MESSAGE =
  "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other " +
  'form of API consumer identity to call this API.';

export interface LiveDeps {
  isValidKey(key: string): boolean;
  rules: Rules;
  record: boolean;
  sessions: RecordedLiveSession[];
  /** open sessions and timers, stopped by `close()` */
  live: Set<Stoppable>;
}

/** Whether the upgrade request is for the Live endpoint (else the caller answers 404). */
export function isLivePath(url: string): boolean {
  const q = url.indexOf('?');
  return LIVE_PATH.test(q < 0 ? url : url.slice(0, q));
}

export class LiveEndpoint {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  constructor(private readonly deps: LiveDeps) {}

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const m = LIVE_PATH.exec(path);
    if (!m) return refuse(socket, googleError(404, `Method not found: ${path.slice(0, 200)}`, 'NOT_FOUND'));
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    let key = query.get('key') ?? req.headers['x-goog-api-key'] ?? '';
    if (Array.isArray(key)) key = key[0] ?? '';
    const session: RecordedLiveSession = {
      path,
      version: m[1],
      key,
      headers: req.headers,
      model: '',
      messages: [],
      sent: [],
      at: Date.now(),
      remotePort: req.socket.remotePort ?? 0,
    };
    if (this.deps.record) this.deps.sessions.push(session);
    const rule = this.deps.rules.take(key, '', 'bidiGenerateContent');
    const refusal = handshakeRefusal(rule, key);
    if (refusal) {
      session.closeCode = refusal.code;
      return refuse(socket, refusal);
    }
    if (rule?.type === 'reset') {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => new MockLiveSession(ws, session, rule, this.deps));
  }
}

function handshakeRefusal(rule: ScriptRule | undefined, key: string): GoogleError | null {
  switch (rule?.type) {
    case 'rateLimit':
      return rateLimited('', rule.retryDelay, rule.quotaId);
    case 'invalidKey':
      return INVALID_KEY;
    case 'suspended':
      return suspended(key);
    case 'error':
      return googleError(rule.status, rule.message, rule.statusText);
    default:
      return null;
  }
}

/** An HTTP answer on the raw socket instead of the 101: the handshake is refused. */
function refuse(socket: Duplex, e: GoogleError): void {
  const head =
    `HTTP/1.1 ${e.code} ${STATUS_CODES[e.code] ?? 'Error'}\r\n` +
    'Content-Type: application/json; charset=UTF-8\r\n' +
    `Content-Length: ${Buffer.byteLength(e.body)}\r\n` +
    'Connection: close\r\n\r\n';
  socket.end(head + e.body);
}

/** One session: setup → setupComplete, then a text answer (or a tool call) per turn, with its usage. */
class MockLiveSession implements Stoppable {
  private setup: Json | null = null;
  /** the turns so far (the client's and the model's), as generateContent would get them */
  private readonly history: Json[] = [];
  private pendingCall: { id: string; name: string } | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly seed = randomUUID();
  private turns = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly rec: RecordedLiveSession,
    private readonly rule: ScriptRule | undefined,
    private readonly deps: LiveDeps,
  ) {
    deps.live.add(this);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', (code) => {
      rec.closeCode ??= code;
      this.clearTimers();
      deps.live.delete(this);
    });
    ws.on('error', () => ws.terminate());
  }

  stop(): void {
    this.clearTimers();
    this.ws.terminate();
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private close(code: number, reason: string): void {
    this.rec.closeCode = code;
    this.ws.close(code, fitReason(reason));
  }

  private send(message: Json): void {
    this.rec.sent.push(message);
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(Buffer.from(JSON.stringify(message)), { binary: true });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const text = bytes.toString('utf8');
    let msg: Json;
    try {
      msg = JSON.parse(text) as Json;
    } catch {
      this.rec.messages.push(text);
      return this.close(1007, `Invalid JSON payload received. Unknown name: ${isBinary ? 'binary' : 'text'} frame.`);
    }
    this.rec.messages.push(msg);
    if (!this.setup) return this.onSetup(msg);
    if (msg['clientContent']) return this.onClientContent(msg['clientContent'] as Json);
    if (msg['realtimeInput']) return this.onRealtimeInput(msg['realtimeInput'] as Json);
    if (msg['toolResponse']) return this.onToolResponse(msg['toolResponse'] as Json);
    if (msg['setup']) return this.close(1007, 'Setup may only be sent once.');
    this.close(1007, 'Invalid JSON payload received. The message names no known field.');
  }

  private onSetup(msg: Json): void {
    const setup = msg['setup'] as Json | undefined;
    if (!setup || typeof setup !== 'object') return this.close(1007, 'The first message must be a setup message.');
    if (!this.rec.key) return this.close(1008, MISSING_KEY_MESSAGE);
    if (!this.deps.isValidKey(this.rec.key)) return this.close(1007, INVALID_KEY_MESSAGE);
    const model = typeof setup['model'] === 'string' ? setup['model'] : '';
    this.rec.model = model;
    if (!/^models\/[\w.-]+$/.test(model)) {
      return this.close(
        1008,
        `${model || 'models/'} is not found for API version ${this.rec.version}, or is not supported for bidiGenerateContent.`,
      );
    }
    if (this.rule?.type === 'liveClose') return this.close(this.rule.code, this.rule.reason);
    this.setup = setup;
    this.send({ setupComplete: {} });
    if (this.rule?.type === 'goAway') {
      const timeLeft = this.rule.timeLeft;
      this.send({ goAway: { timeLeft } });
      this.later(Math.max(0, parseFloat(timeLeft) * 1000 || 0), () => this.close(1000, 'Session ended (goAway).'));
    }
  }

  private onClientContent(content: Json): void {
    const turns = Array.isArray(content['turns']) ? (content['turns'] as Json[]) : [];
    this.history.push(...turns);
    if (content['turnComplete']) this.respond();
  }

  private onRealtimeInput(input: Json): void {
    // text sent as realtime input is answered at once; audio and video are only recorded
    if (typeof input['text'] === 'string') {
      this.history.push({ role: 'user', parts: [{ text: input['text'] }] });
      this.respond();
    }
  }

  private onToolResponse(response: Json): void {
    const responses = Array.isArray(response['functionResponses']) ? (response['functionResponses'] as Json[]) : [];
    const call = this.pendingCall;
    const match = call && responses.find((r) => r['id'] === call.id || r['name'] === call.name);
    if (!call || !match) return this.close(1007, 'The tool response answers no pending function call.');
    this.pendingCall = null;
    this.history.push({ role: 'user', parts: [{ functionResponse: match }] });
    const text = `tool ${call.name} said: ${JSON.stringify(match['response'] ?? {})}`;
    this.sendText(text, countWords(text));
  }

  /** The answer to the turns so far: a tool call when the text asks for a declared function, else text. */
  private respond(): void {
    const body: Json = { contents: this.history, tools: this.setup?.['tools'] };
    if (this.setup?.['systemInstruction']) body['systemInstruction'] = this.setup['systemInstruction'];
    const a = answer(body, `${this.seed}|${this.turns++}`);
    if (a.call) {
      this.pendingCall = { id: a.call.id, name: a.call.name };
      this.history.push({ role: 'model', parts: [{ functionCall: a.call }] });
      this.send({ toolCall: { functionCalls: [{ id: a.call.id, name: a.call.name, args: a.call.args }] } });
      const tokens = callTokens(a.call);
      this.send({ usageMetadata: liveUsage(a.promptTokens, tokens) });
      return;
    }
    this.sendText(a.chunks.join(''), a.promptTokens);
  }

  /** The text in 2 or more serverContent messages, then generationComplete, turnComplete and the usage. */
  private sendText(text: string, promptTokens: number): void {
    const chunks = splitWords(text, 3);
    if (chunks.length < 2) chunks.push('');
    this.history.push({ role: 'model', parts: [{ text }] });
    for (const c of chunks) this.send({ serverContent: { modelTurn: { parts: [{ text: c }] } } });
    this.send({ serverContent: { generationComplete: true } });
    this.send({ serverContent: { turnComplete: true } });
    this.send({ usageMetadata: liveUsage(promptTokens, countWords(text)) });
  }
}

/** A close reason is at most 123 bytes (RFC 6455 §5.5): longer ones are cut on a character boundary. */
function fitReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let out = reason.slice(0, 123);
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

function liveUsage(prompt: number, response: number): Json {
  return {
    promptTokenCount: prompt,
    responseTokenCount: response,
    totalTokenCount: prompt + response,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }],
    responseTokensDetails: [{ modality: 'TEXT', tokenCount: response }],
  };
}
