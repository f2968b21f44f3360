/**
 * streamGenerateContent: SSE (`?alt=sse`) or the incrementally streamed JSON array (no alt), docs/gemini-wire.md §2.3.
 * A stream is a small state object and one timer at a time (no buffers), so thousands of slow streams stay cheap.
 * Every element carries `"sentAt": <epoch ms with fraction>` (performance.timeOrigin + performance.now() when written)
 * so a client can measure how long a relay held a chunk.
 */
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { constants, createGzip, type Gzip } from 'node:zlib';

import { MID_STREAM_ERROR } from './errors';
import { countWords, googleLine, pretty } from './google-json';
import { callPart, callTokens, streamChunk, type Answer } from './generate';
import { GZIP_HEADERS, JSON_HEADERS, SSE_HEADERS } from './http-out';

export interface StreamPlan {
  answer: Answer;
  /** texts to stream; when undefined, the answer's chunks (or its function call + an empty terminator chunk) */
  texts?: readonly string[];
  intervalMs: number;
  /** after this many elements: 'reset' closes the socket, 'error' writes a mid-stream error and ends */
  failAfter?: number;
  failMode?: 'reset' | 'error';
}

export interface Stoppable {
  stop(): void;
}

const ARRAY_ERROR = pretty({ error: { code: 500, message: 'Internal error', status: 'INTERNAL' } });

/** Where bytes go: the response, or a gzip stream sync-flushed after every element so it stays incremental. */
class Sink {
  private readonly gz: Gzip | undefined;

  constructor(
    private readonly res: ServerResponse,
    gzip: boolean,
  ) {
    if (!gzip) return;
    this.gz = createGzip({ level: constants.Z_BEST_SPEED, windowBits: 12, memLevel: 6 });
    this.gz.on('data', (d: Buffer) => res.write(d));
    this.gz.on('end', () => res.end());
    this.gz.on('error', () => res.destroy());
  }

  write(s: string): void {
    if (!this.gz) {
      this.res.write(s);
      return;
    }
    this.gz.write(s);
    this.gz.flush(constants.Z_SYNC_FLUSH);
  }

  end(s?: string): void {
    if (!this.gz) this.res.end(s);
    else this.gz.end(s);
  }

  /** Close the connection mid-body, after what was written reached the socket. */
  abort(): void {
    const socket = this.res.socket;
    const close = (): void => {
      if (socket && !socket.destroyed) socket.end(() => socket.destroy());
    };
    if (this.gz) this.gz.flush(constants.Z_SYNC_FLUSH, close);
    else close();
  }

  dispose(): void {
    this.gz?.close();
  }
}

export class StreamSession implements Stoppable {
  private readonly sink: Sink;
  private readonly total: number;
  private index = 0;
  private candidateTokens = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** no more elements will be written */
  private done = false;
  private stopped = false;
  private readonly next = (): void => this.tick();

  constructor(
    res: ServerResponse,
    private readonly sse: boolean,
    gzip: boolean,
    private readonly plan: StreamPlan,
    private readonly model: string,
    private readonly responseId: string,
    private readonly live: Set<Stoppable>,
  ) {
    const base = sse ? SSE_HEADERS : JSON_HEADERS;
    res.writeHead(200, gzip ? [...base, ...GZIP_HEADERS] : [...base]);
    this.sink = new Sink(res, gzip);
    this.total = plan.texts ? Math.max(1, plan.texts.length) : plan.answer.call ? 2 : plan.answer.chunks.length;
    live.add(this);
    res.on('close', () => this.stop());
    this.tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = this.immediate = undefined;
    if (this.stopped) return;
    this.stopped = this.done = true;
    this.live.delete(this);
    this.sink.dispose();
  }

  private tick(): void {
    this.timer = this.immediate = undefined;
    if (this.done) return;
    if (this.plan.failAfter !== undefined && this.index >= Math.min(this.plan.failAfter, this.total)) {
      this.fail();
      return;
    }
    const element = this.element(this.index);
    this.sink.write(
      this.sse ? `data: ${googleLine(element)}\r\n\r\n` : (this.index ? '\n,\r\n' : '[') + pretty(element),
    );
    this.index++;
    if (this.index < this.total || this.plan.failAfter !== undefined) this.schedule(this.plan.intervalMs);
    else this.finish();
  }

  private schedule(ms: number): void {
    if (ms > 0) this.timer = setTimeout(this.next, ms);
    else this.immediate = setImmediate(this.next);
  }

  private element(i: number): Record<string, unknown> {
    const { answer, texts } = this.plan;
    const last = i === this.total - 1;
    let parts: Record<string, unknown>[];
    if (!texts && answer.call) {
      if (i === 0) this.candidateTokens = callTokens(answer.call);
      parts = i === 0 ? [callPart(answer.call)] : [{ text: '' }];
    } else {
      const text = (texts ?? answer.chunks)[i] ?? '';
      this.candidateTokens += countWords(text);
      parts = [{ text }];
    }
    const sentAt = performance.timeOrigin + performance.now();
    return streamChunk(answer, parts, last, this.candidateTokens, this.model, this.responseId, sentAt);
  }

  private finish(): void {
    this.done = true;
    this.sink.end(this.sse ? undefined : '\n]');
  }

  private fail(): void {
    this.done = true;
    if (this.plan.failMode === 'reset') {
      // a little later, so that the chunks already written reach the client before the connection drops (a reset
      // right behind them can discard them unread on a busy machine)
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.sink.abort();
      }, 20);
      return;
    }
    // Its own network chunk, a little later, so that SDKs that JSON.parse each raw chunk recognise it.
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        if (this.sse) this.sink.end(MID_STREAM_ERROR);
        else this.sink.end(`${this.index ? '\n,\r\n' : '['}${ARRAY_ERROR}\n]`);
      },
      Math.max(20, this.plan.intervalMs),
    );
  }
}
