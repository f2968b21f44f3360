import type { Dispatcher } from 'undici';
import { readAnswerWhole, releaseOnce } from '../forward/answer-whole';
import type { Exchange, Responder, UpstreamFailure } from '../forward/exchange';
import type { Json } from './chat-messages';
import { countedTokens } from './chat-response';
import { ChatStreamTranslator, SseEventParser } from './chat-stream';
import { fromGoogleError, openAiErrorBody, openAiKind, sendOpenAiError, writeOpenAiError } from './openai-errors';

/** What every OpenAI responder shares: the gateway's errors and the upstream's, both in OpenAI's shape. */
abstract class OpenAiResponder implements Responder {
  readonly errors = writeOpenAiError;

  abstract success(
    ex: Exchange,
    up: Dispatcher.ResponseData,
    keyId: string,
    release: () => void,
    broken: (reason: string) => void,
  ): void;

  /** Google's error as OpenAI's, same status; the gateway already tried other keys, so the SDK must not retry. */
  upstreamError(ex: Exchange, f: UpstreamFailure): void {
    const { body, retryAfter } = fromGoogleError(f.status, f.body);
    if (!ex.error) ex.error = body.error.message;
    sendOpenAiError(ex.res, f.status, body, {
      'x-should-retry': 'false',
      ...(retryAfter ? { 'retry-after': String(retryAfter) } : {}),
    });
  }
}

/** A unary upstream JSON answer, read whole (up to `maxBytes`: 502 past it) and translated into one OpenAI JSON answer. */
export class JsonResponder extends OpenAiResponder {
  constructor(
    private readonly translate: (g: Json, ex: Exchange) => Json,
    private readonly maxBytes = 64 * 1024 * 1024,
  ) {
    super();
  }

  success(
    ex: Exchange,
    up: Dispatcher.ResponseData,
    _keyId: string,
    release: () => void,
    broken: (reason: string) => void,
  ): void {
    readAnswerWhole(ex, up, this.maxBytes, release, {
      tooLarge: (finish) => {
        finish();
        ex.status = 502;
        ex.error = 'the upstream answer is larger than MAX_ANSWER_BODY_MB';
        writeOpenAiError(ex.res, 502, 'UNAVAILABLE', 'The upstream answer is larger than this gateway translates.');
      },
      end: (body, finish) => {
        let out: Json;
        try {
          out = this.translate(JSON.parse(body.toString('utf8')) as Json, ex);
        } catch {
          ex.status = 502;
          ex.error = 'the upstream answer could not be read';
          // reported before the release, which settles the attempt as one failure of the key
          broken(ex.error);
          finish();
          return writeOpenAiError(ex.res, 502, 'UNAVAILABLE', 'The upstream answer could not be read.');
        }
        finish();
        ex.status = 200;
        const text = JSON.stringify(out);
        ex.res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        ex.res.end(text);
      },
      error: (e, finish) => {
        // a break or the deadline is one failure of the key: reported before the release that settles the attempt
        if (ex.deadlineHit) {
          ex.status = 504;
          ex.error = 'deadline exceeded after the headers: the answer was cut';
          broken(ex.error);
          finish();
          return writeOpenAiError(ex.res, 504, 'DEADLINE_EXCEEDED', 'The upstream did not answer before the deadline.');
        }
        if (ex.abort.signal.aborted) return finish();
        const reason = `upstream stream broke: ${e.code ?? e.name}`;
        ex.error = reason;
        ex.status = 502;
        broken(reason);
        finish();
        writeOpenAiError(ex.res, 502, 'UNAVAILABLE', 'The upstream answer broke off.');
      },
    });
  }
}

/**
 * `stream: true`: Gemini's SSE (`:streamGenerateContent?alt=sse`) translated event by event into
 * `chat.completion.chunk`s as each arrives, with backpressure both ways; nothing is buffered.
 */
export class ChatStreamResponder extends OpenAiResponder {
  constructor(
    private readonly model: string,
    private readonly includeUsage: boolean,
  ) {
    super();
  }

  success(
    ex: Exchange,
    up: Dispatcher.ResponseData,
    _keyId: string,
    release: () => void,
    broken: (reason: string) => void,
  ): void {
    const { res } = ex;
    const body = up.body;
    const finish = releaseOnce(release);
    const parser = new SseEventParser();
    const tr = new ChatStreamTranslator(this.model, this.includeUsage);
    let stopped = false;
    ex.status = 200;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();

    const count = (): void => {
      const t = countedTokens(tr.lastUsage);
      ex.promptTokens = t.promptTokens;
      ex.outputTokens = t.outputTokens;
    };
    const write = (s: string): void => {
      if (s && !res.write(s)) body.pause();
    };
    /** An error after the first byte: one error chunk the SDK throws on, then the end (never a retry). */
    const fail = (status: number, message: string, googleStatus?: string): void => {
      stopped = true;
      try {
        count();
      } catch {
        // usage the translator could not read counts as none
      }
      const k = openAiKind(status, googleStatus, message);
      res.end(tr.error(openAiErrorBody(message, k.type, k.code)));
    };
    /**
     * An upstream chunk the translator cannot read (`{"candidates":[null]}`): the answer ends with the error chunk
     * and the key is freed. The request failed (the log keeps why), not the key: it answered, so no `broken`.
     */
    const untranslatable = (e: unknown): void => {
      const was = stopped;
      ex.error = `the upstream answer could not be translated: ${errorName(e)}`;
      ex.incomplete = true;
      try {
        if (!was && !res.writableEnded) fail(502, 'The upstream answer could not be read.', 'UNAVAILABLE');
      } catch {
        res.destroy();
      }
      stopped = true;
      finish();
      if (!body.destroyed) body.destroy();
    };
    const handle = (payloads: string[]): void => {
      for (const p of payloads) {
        if (stopped) return;
        let g: Json;
        try {
          const v = JSON.parse(p) as Json | Json[];
          g = Array.isArray(v) ? v[0] : v;
        } catch {
          continue;
        }
        if (g?.['error']) {
          const err = g['error'] as Json;
          ex.error = `upstream error mid-stream: ${String(err['message'] ?? '')}`.slice(0, 300);
          ex.incomplete = true;
          broken(ex.error);
          fail(Number(err['code']) || 500, String(err['message'] ?? 'Upstream error.'), err['status']);
          finish();
          body.destroy();
          return;
        }
        write(tr.event(g));
      }
    };

    res.on('drain', () => body.resume());
    body.on('data', (c: Buffer) => {
      if (ex.ttfbMs === null) ex.ttfbMs = Date.now() - ex.startedAt;
      try {
        handle(parser.push(c));
      } catch (e) {
        untranslatable(e);
      }
    });
    body.once('end', () => {
      try {
        handle(parser.end());
        if (!stopped) {
          count();
          const last = tr.end();
          stopped = true;
          res.end(last);
        }
      } catch (e) {
        untranslatable(e);
      }
      finish();
    });
    body.once('error', (e: Error & { code?: string }) => {
      if (stopped || (ex.abort.signal.aborted && !ex.deadlineHit)) return finish();
      // a break or the deadline after the headers: one failure of the key, reported before the release that
      // settles the attempt; the request log keeps the error and the tokens of the chunks relayed so far
      const reason = ex.deadlineHit
        ? 'deadline exceeded after the headers: the answer was cut'
        : `upstream stream broke: ${e.code ?? e.name}`;
      ex.error = reason;
      ex.incomplete = true;
      broken(reason);
      finish();
      if (ex.deadlineHit) fail(504, 'The upstream did not finish before the deadline.');
      else fail(502, 'The upstream stream broke off.', 'UNAVAILABLE');
    });
    res.once('close', () => {
      if (!body.destroyed) body.destroy();
      finish();
    });
  }
}

/** The error's name and message, short (the request log keeps it; no upstream content beyond that). */
function errorName(e: unknown): string {
  const err = e as { name?: unknown; message?: unknown } | null;
  return `${typeof err?.name === 'string' ? err.name : 'Error'}: ${String(err?.message ?? e)}`.slice(0, 200);
}
