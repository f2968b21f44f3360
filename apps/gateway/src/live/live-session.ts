import type { AttemptOutcome, AuthKeyRecord, SnapshotKey } from '@gg/contracts';
import { blameOfFailures, classifyUpstream, toAttemptOutcome, type UpstreamClassification } from '@gg/key-state';
import { isUpstreamProxyFailure, type UpstreamProxyError } from '@gg/nest-common';
import type { IncomingMessage } from 'node:http';
import { WebSocket, type RawData } from 'ws';
import type { AttemptTrace } from '../forward/exchange';
import { scrubSecret } from '../forward/attempt-runner.service';
import { AUTH_MESSAGES } from '../forward/pipeline.service';
import type { LiveVia } from './live-proxies.service';
import {
  closeAsHttp,
  failureCloseCode,
  fitReason,
  isNormalClose,
  relayedCloseCode,
  setupModelOf,
  upstreamLiveUrl,
  usageOf,
  type LiveTarget,
} from './live-wire';

/** What a session needs of the gateway (LiveRelay gives it its services). */
export interface LiveHost {
  readonly geminiBaseUrl: string;
  readonly maxAttempts: number;
  /** how long the upstream may take to accept the socket and then to answer the setup, per attempt */
  readonly upstreamSetupTimeoutMs: number;
  /** how long the client may take to send its setup */
  readonly clientSetupTimeoutMs: number;
  /** the largest message taken from the upstream */
  readonly maxUpstreamMessageBytes: number;
  /**
   * how often the client is pinged; one that has not answered the previous ping by then is cut (its pool key would
   * otherwise stay in use until Google ends the session, for a client that vanished without closing its socket)
   */
  readonly pingIntervalMs: number;
  modelAllowed(record: AuthKeyRecord, model: string): boolean;
  /** the model catalogue (runtime settings): the real model of a bare id asked for, null for a hidden one */
  resolveModel?(model: string): string | null;
  choose(model: string, exclude: ReadonlySet<string>): SnapshotKey | null;
  acquire(keyId: string): void;
  release(keyId: string): void;
  report(o: AttemptOutcome): void;
  /**
   * The way the upstream socket of `key` goes (its proxy of the list, UPSTREAM_PROXY or direct), leaving out the
   * proxies in `tried`; null when none is left. Never null while `tried` is empty.
   */
  via(key: SnapshotKey, tried: ReadonlySet<string>): LiveVia | null;
  /** `via` failed by a fault of its proxy (reported as on the HTTP path); `last`: no way is left for the session */
  proxyFailed(via: LiveVia, e: UpstreamProxyError, last: boolean): void;
  /** the session ended: count it once */
  ended(s: LiveSession): void;
}

/** bufferedAmount over which the side that feeds a socket is paused, and under which it resumes */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
const MAX_ERROR_BODY = 64 * 1024;
const CLIENT_LEFT: UpstreamClassification = { kind: 'client_error', reason: 'client left before the session ended' };
const SUCCESS: UpstreamClassification = { kind: 'success', reason: 'ok' };
/** frames to pass on once the upstream is open (the client is paused meanwhile, so only what was already read) */
const MAX_QUEUED = 64;

type Phase = 'setup' | 'connecting' | 'open' | 'ended';

interface Frame {
  data: Buffer;
  isBinary: boolean;
}

/**
 * One Live session: the client's socket (already accepted), its setup, then a pool key's upstream socket and the
 * relay of every message both ways, unchanged (same frame type, same bytes), with backpressure. A pool key refused
 * at the handshake or before the upstream's first message is reported and the next key tried, up to MAX_ATTEMPTS:
 * until then nothing of the upstream has reached the client. A failure of the upstream proxy on the way is not the
 * key's: the same key goes again through its next proxy. The pool key is in use for the life of the session.
 */
export class LiveSession {
  readonly startedAt = Date.now();
  phase: Phase = 'setup';
  model: string | null = null;
  attempts = 0;
  poolKeyId: string | null = null;
  promptTokens = 0;
  outputTokens = 0;
  ttfbMs: number | null = null;
  /** 101 once the upstream answered the setup; the refusal's status otherwise */
  status = 0;
  /** why the session ended abnormally, if it did */
  error?: string;
  /** each attempt's pool key id and outcome (the transaction log's `attempts`) */
  readonly tried: AttemptTrace[] = [];

  private up: WebSocket | null = null;
  private key: SnapshotKey | null = null;
  private setup: Frame | null = null;
  private readonly queue: Frame[] = [];
  private readonly exclude = new Set<string>();
  /** transient failures of this session's attempts, reported once its attempts are over (as the REST runner does) */
  private readonly held: AttemptOutcome[] = [];
  private timer?: NodeJS.Timeout;
  private setupTimer?: NodeJS.Timeout;
  private expiryTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  /** the gateway has closed (or is closing) the client's socket: no message is taken, no key tried any more */
  private closing = false;
  private readonly startedAtPerf = performance.now();

  constructor(
    private readonly host: LiveHost,
    private readonly client: WebSocket,
    readonly record: AuthKeyRecord,
    /** the user key as presented and its hash: rechecked when auth says the key changed */
    readonly userKey: string,
    readonly userKeyHash: string,
    readonly req: IncomingMessage,
    readonly requestId: string,
    private readonly target: LiveTarget,
  ) {}

  start(): void {
    this.client.on('message', (data, isBinary) => this.onClientMessage(asBuffer(data), isBinary));
    this.client.on('close', (code, reason) => this.onClientClose(code, reason.toString('utf8')));
    this.client.on('error', () => this.client.terminate());
    let answered = true;
    this.client.on('pong', () => (answered = true));
    this.pingTimer = setInterval(() => {
      // not held against a client: a pong the gateway is not reading yet (paused), or one behind the data the client
      // has not read yet (a slow reader is not a vanished one)
      if (this.client.isPaused || this.client.bufferedAmount > 0) return;
      if (!answered) {
        this.error ??= 'the client stopped answering pings';
        return this.client.terminate();
      }
      answered = false;
      this.client.ping();
    }, this.host.pingIntervalMs);
    this.setupTimer = setTimeout(() => {
      this.status = 408;
      this.error = 'no setup message in time';
      this.closeClient(1008, 'The session sent no setup message in time.');
    }, this.host.clientSetupTimeoutMs);
    // a key that expires during the session ends it then, as its next request would be refused (setTimeout holds
    // at most ~24.8 days: a later expiry needs no timer)
    const expiresAt = this.record.expiresAt;
    if (expiresAt !== null && expiresAt - this.startedAt < 2 ** 31 - 1) {
      this.expiryTimer = setTimeout(
        () => this.end(1008, AUTH_MESSAGES.expired, 'user key expired during the session'),
        Math.max(0, expiresAt - Date.now()),
      );
    }
  }

  /** Cuts both sockets at once (shutdown, after the grace period); the client's close event ends the session. */
  terminate(): void {
    this.up?.terminate();
    this.client.terminate();
  }

  /** Ends the session from the gateway's side: both sockets closed with this code, the client told why. */
  end(code: number, reason: string, error: string): void {
    if (this.phase === 'ended') return;
    this.error ??= error;
    if (this.status === 0) this.status = code === 1001 ? 503 : 403;
    if (this.phase === 'connecting') this.abandonAttempt();
    this.closeClient(code, reason);
    this.closeUpstream(code === 1001 ? 1001 : 1000, '');
  }

  /** The attempt in flight is dropped (the session is ending): nothing is known about its key, none is tried next. */
  private abandonAttempt(): void {
    const up = this.up;
    up?.removeAllListeners();
    up?.on('error', () => undefined);
    up?.terminate();
    clearTimeout(this.timer);
    if (this.key) this.host.release(this.key.id);
    this.key = null;
  }

  private onClientMessage(data: Buffer, isBinary: boolean): void {
    // once the session is being closed, nothing more is taken from the client
    if (this.closing) return;
    switch (this.phase) {
      case 'setup':
        return this.onSetup(data, isBinary);
      case 'connecting':
        if (this.queue.length >= MAX_QUEUED) {
          this.status = 400;
          this.error = 'too many messages before the session was set up';
          return this.closeClient(1008, 'Too many messages before setupComplete.');
        }
        this.queue.push({ data, isBinary });
        return;
      case 'open':
        if (this.up) this.pipe(data, isBinary, this.up, this.client);
        return;
      default:
        return;
    }
  }

  private onSetup(data: Buffer, isBinary: boolean): void {
    clearTimeout(this.setupTimer);
    const model = setupModelOf(data);
    if (model === null) {
      this.status = 400;
      this.error = 'the first message was not a setup naming a model';
      return this.closeClient(1007, 'The first message must be a setup message that names a model.');
    }
    const asked = model.startsWith('models/') ? model.slice(7) : model;
    const real = this.host.resolveModel ? this.host.resolveModel(asked) : asked;
    if (real === null) {
      this.model = asked;
      this.status = 404;
      this.error = 'hidden model';
      return this.closeClient(
        1008,
        `models/${asked.slice(0, 60)} is not found for API version ${this.target.version}, or is not supported for bidiGenerateContent.`,
      );
    }
    // an alias runs its real model: the allow-list, the pool and Google see that one
    this.model = real;
    if (!this.host.modelAllowed(this.record, real)) {
      this.status = 403;
      this.error = 'model not allowed for this key';
      return this.closeClient(1008, `This API key may not use the model ${this.model.slice(0, 60)}.`);
    }
    // The setup goes upstream as parsed here, so that the model Google runs is the one checked above (a message
    // with the key twice would otherwise be read one way here and maybe another way there); all else is relayed.
    const parsed = JSON.parse(data.toString('utf8')) as { setup: { model: string } };
    if (real !== asked) parsed.setup.model = `models/${real}`;
    this.setup = { data: Buffer.from(JSON.stringify(parsed)), isBinary };
    this.phase = 'connecting';
    // what the client sends meanwhile waits in its socket, not in the gateway
    this.client.pause();
    this.attempt(null);
  }

  /** One attempt on the next pool key; `last` is the previous attempt's failure, for the client when none is left. */
  private attempt(last: { status: number; code: number; reason: string } | null): void {
    const setup = this.setup;
    if (this.phase !== 'connecting' || this.closing || !setup || this.model === null) return;
    const key = this.attempts < this.host.maxAttempts ? this.host.choose(this.model, this.exclude) : null;
    if (!key) return this.giveUp(last);
    this.exclude.add(key.id);
    this.attempts++;
    this.key = key;
    this.poolKeyId = key.id;
    this.host.acquire(key.id);
    const tried = new Set<string>();
    this.open(key, setup, this.host.via(key, tried) as LiveVia, tried);
  }

  /** Opens the upstream socket of `key` by `via` and sends the setup; the failures of the attempt are handled here. */
  private open(key: SnapshotKey, setup: Frame, via: LiveVia, tried: Set<string>): void {
    const up = new WebSocket(upstreamLiveUrl(this.host.geminiBaseUrl, this.target.version, key.secret), {
      headers: upstreamHeaders(this.req, this.requestId),
      perMessageDeflate: false,
      handshakeTimeout: this.host.upstreamSetupTimeoutMs,
      maxPayload: this.host.maxUpstreamMessageBytes,
      followRedirects: false,
      agent: via.agent,
    });
    this.up = up;
    let settled = false;
    /** the socket of this attempt is dropped; false when the attempt was settled already */
    const drop = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(this.timer);
      up.removeAllListeners();
      up.on('error', () => undefined);
      up.terminate();
      return true;
    };
    /**
     * The proxy failed before the upstream could answer: the proxy's fault, not the key's (no outcome). The same key
     * goes again by its next way; when none is left the session is refused as the HTTP path answers 502.
     */
    const proxyFailed = (e: UpstreamProxyError): void => {
      if (!drop()) return;
      if (this.phase !== 'connecting') {
        this.host.release(key.id);
        this.key = null;
        return;
      }
      tried.add(via.proxyId ?? '');
      const next = this.host.via(key, tried);
      this.host.proxyFailed(via, e, next === null);
      if (next) return this.open(key, setup, next, tried);
      this.host.release(key.id);
      this.key = null;
      this.error = e.message;
      // no other key would fare better: with a proxy list, every proxy left was tried already
      this.giveUp({ status: 502, code: 1011, reason: `The upstream proxy ${e.proxy} could not be reached.` });
    };
    /** this attempt failed before the upstream's first message: report it, then try the next key or give up */
    const failed = (
      status: number,
      body: string,
      headers: Record<string, string | string[] | undefined>,
      closeCode?: number,
    ): void => {
      if (!drop()) return;
      this.host.release(key.id);
      this.key = null;
      if (this.phase !== 'connecting') return;
      const scrubbed = scrubSecret(Buffer.from(body), key.secret).toString('utf8');
      const c = classifyUpstream(status, scrubbed, headers, Date.now());
      const o = this.outcome(key.id, c, status);
      if (c.kind === 'transient') this.held.push(o);
      else this.host.report(o);
      this.error = c.reason;
      // a refused pool key or quota is the gateway's matter, not a fault of the client's messages (1007, 1008)
      let code: number;
      if (c.kind === 'invalid') code = 1011;
      else if (c.kind === 'rate_limited') code = 1013;
      else code = closeCode === undefined ? failureCloseCode(status) : (relayedCloseCode(closeCode) ?? 1011);
      const failure = { status, code, reason: messageOf(scrubbed) };
      if (c.proxyBug)
        return this.giveUp({ status: 502, code: 1011, reason: 'The gateway could not authenticate upstream.' });
      const retryable = c.kind === 'rate_limited' || c.kind === 'invalid' || c.kind === 'transient';
      if (!retryable) return this.giveUp(failure);
      this.attempt(failure);
    };
    up.on('unexpected-response', (request, res) => {
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        if (n < MAX_ERROR_BODY) chunks.push(c);
        n += c.length;
      });
      const done = (): void => {
        failed(res.statusCode ?? 0, Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY).toString('utf8'), res.headers);
        request.destroy();
      };
      res.on('end', done);
      res.on('error', done);
    });
    up.on('error', (e) => {
      if (isUpstreamProxyFailure(e)) proxyFailed(e);
      else failed(0, (e as { code?: string }).code ?? 'network error', {});
    });
    up.on('open', () => {
      if (this.phase !== 'connecting') return;
      up.send(setup.data, { binary: setup.isBinary });
      this.timer = setTimeout(
        () => failed(0, 'timeout: the upstream did not answer the setup in time', {}),
        this.host.upstreamSetupTimeoutMs,
      );
    });
    up.on('close', (code, reason) => {
      const http = closeAsHttp(code, reason.toString('utf8'));
      failed(http.status, http.body, {}, code);
    });
    up.once('message', (data, isBinary) => {
      if (settled || this.phase !== 'connecting') return;
      settled = true;
      clearTimeout(this.timer);
      up.removeAllListeners();
      this.established(up, asBuffer(data), isBinary);
    });
  }

  /** The upstream answered the setup: from here every message is relayed, and the key's outcome waits for the end. */
  private established(up: WebSocket, first: Buffer, isBinary: boolean): void {
    this.phase = 'open';
    this.status = 101;
    this.error = undefined;
    this.ttfbMs = Math.round(performance.now() - this.startedAtPerf);
    this.flushHeld(true);
    up.on('message', (data, binary) => this.onUpstreamMessage(up, asBuffer(data), binary));
    up.on('close', (code, reason) => this.onUpstreamClose(code, reason.toString('utf8')));
    up.on('error', () => up.terminate());
    this.onUpstreamMessage(up, first, isBinary);
    for (const f of this.queue.splice(0)) this.pipe(f.data, f.isBinary, up, this.client);
    if (up.bufferedAmount < HIGH_WATER) this.client.resume();
  }

  private onUpstreamMessage(up: WebSocket, data: Buffer, isBinary: boolean): void {
    const tokens = usageOf(data);
    if (tokens) {
      this.promptTokens += tokens.prompt;
      this.outputTokens += tokens.output;
    }
    this.pipe(data, isBinary, this.client, up);
  }

  /**
   * Send on `dest` what `src` gave, as it came; pause `src` while `dest` holds too much unsent, resume it once the
   * sends it waits on have gone out (ws calls back when a frame is written to the socket).
   */
  private pipe(data: Buffer, isBinary: boolean, dest: WebSocket, src: WebSocket): void {
    if (dest.readyState !== WebSocket.OPEN) return;
    dest.send(data, { binary: isBinary }, () => {
      if (src.isPaused && dest.bufferedAmount < LOW_WATER && src.readyState === WebSocket.OPEN) src.resume();
    });
    if (dest.bufferedAmount > HIGH_WATER && !src.isPaused) src.pause();
  }

  private onClientClose(code: number, reason: string): void {
    clearTimeout(this.setupTimer);
    if (this.phase === 'ended') return;
    if (this.phase === 'open') {
      if (!isNormalClose(code)) this.error ??= `client closed ${code}${reason ? `: ${reason}` : ''}`;
      // a client that vanished (1006) is gone for the upstream too (1001)
      this.closeUpstream(code === 1006 ? 1001 : relayedCloseCode(code), reason);
      this.finish(CLIENT_LEFT);
      return;
    }
    if (this.status === 0) {
      this.status = 499;
      this.error = 'client closed the connection before the session was set up';
    }
    if (this.phase === 'connecting') this.abandonAttempt();
    this.finish(null);
  }

  private onUpstreamClose(code: number, reason: string): void {
    if (this.phase !== 'open') return;
    const scrubbed = this.key ? scrubSecret(Buffer.from(reason), this.key.secret).toString('utf8') : reason;
    let c = SUCCESS;
    if (!isNormalClose(code)) {
      this.error ??= `upstream closed ${code}${scrubbed ? `: ${scrubbed}` : ''}`;
      const http = closeAsHttp(code, scrubbed);
      c = classifyUpstream(http.status, http.body, {}, Date.now());
      // a policy or payload close that names no key problem is the client's own doing
      if (c.kind === 'client_error') c = SUCCESS;
    }
    this.closeClient(relayedCloseCode(code), scrubbed);
    this.finish(c);
  }

  /** No pool key could open the session: the client is told with a close (the 101 has gone already). */
  private giveUp(last: { status: number; code: number; reason: string } | null): void {
    this.flushHeld(false);
    if (last) {
      this.status = last.status || 502;
      this.closeClient(last.code, last.reason || 'The upstream refused the session.');
    } else {
      this.status = 503;
      this.error = 'no pool key available';
      this.closeClient(1013, 'No Gemini key can serve this session now; retry later.');
    }
  }

  private closeClient(code: number | undefined, reason: string): void {
    this.closing = true;
    const s = this.client.readyState;
    if (s === WebSocket.CLOSING || s === WebSocket.CLOSED) return;
    // a paused socket would never read the client's answer to the close (ws would cut it after its close timeout)
    if (this.client.isPaused) this.client.resume();
    if (code === undefined) this.client.close();
    else this.client.close(code, fitReason(reason));
  }

  private closeUpstream(code: number | undefined, reason: string): void {
    const up = this.up;
    if (!up) return;
    const s = up.readyState;
    if (s === WebSocket.CLOSING || s === WebSocket.CLOSED) return;
    if (s === WebSocket.CONNECTING) return up.terminate();
    if (code === undefined) up.close();
    else up.close(code, fitReason(reason));
  }

  /** Once: the key released with its outcome (null: none to report), the session counted. */
  private finish(outcome: UpstreamClassification | null): void {
    if (this.phase === 'ended') return;
    const wasOpen = this.phase === 'open';
    this.phase = 'ended';
    clearTimeout(this.timer);
    clearTimeout(this.setupTimer);
    clearTimeout(this.expiryTimer);
    clearInterval(this.pingTimer);
    this.flushHeld(false);
    if (wasOpen && this.key) {
      const keyId = this.key.id;
      this.key = null;
      this.host.release(keyId);
      if (outcome) this.host.report(this.outcome(keyId, outcome, 101));
    }
    this.host.ended(this);
  }

  private outcome(keyId: string, c: UpstreamClassification, status: number): AttemptOutcome {
    const o = toAttemptOutcome(keyId, this.model, status, c, Date.now());
    // the transaction log's trace of the session's attempts
    this.tried.push({ keyId, outcome: c.kind, status });
    o.user = this.record.userId;
    return o;
  }

  private flushHeld(served: boolean): void {
    if (this.held.length === 0) return;
    const blame = blameOfFailures(this.held.length, served);
    for (const o of this.held.splice(0)) {
      if (blame) o.blame = blame;
      this.host.report(o);
    }
  }
}

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** What goes upstream: the client's identification, the request id; never its credentials or hop headers. */
function upstreamHeaders(req: IncomingMessage, requestId: string): Record<string, string> {
  const out: Record<string, string> = { 'x-request-id': requestId };
  for (const name of ['user-agent', 'x-goog-api-client']) {
    const v = req.headers[name];
    if (typeof v === 'string') out[name] = v;
  }
  return out;
}

/** The message of a Google error body (or the text itself): what the client reads as the close reason. */
function messageOf(body: string): string {
  try {
    const m = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    if (typeof m === 'string') return m;
  } catch {
    // not JSON: the text as it is
  }
  return body;
}
