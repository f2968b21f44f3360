import type { IncomingMessage } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';

/** The body is over the route's limit: 413. */
export class BodyTooLargeError extends Error {}

/** The gateway holds as many body bytes as it may (BODY_MEMORY_BUDGET_MB): 503 with Retry-After. */
export class BodyBudgetError extends Error {}

/**
 * Bytes of request bodies held in memory by this gateway, over every request in flight. A body is charged as it
 * is read (its whole announced Content-Length up front, when there is one) and released when the request has
 * gone upstream or was refused. Nothing waits in a queue: past the budget the request is refused at once.
 */
export class BodyBudget {
  private held = 0;

  constructor(readonly limit: number) {}

  get bytes(): number {
    return this.held;
  }

  tryTake(n: number): boolean {
    if (this.held + n > this.limit) return false;
    this.held += n;
    return true;
  }

  give(n: number): void {
    this.held = Math.max(0, this.held - n);
  }
}

/** The announced Content-Length, or null (chunked, or none). */
export function declaredLength(req: IncomingMessage): number | null {
  const v = req.headers['content-length'];
  if (v === undefined || req.headers['transfer-encoding'] !== undefined) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** A buffered body and what it holds of the budget: call `release` once it is no longer needed. */
export interface HeldBody {
  chunks: Buffer[];
  length: number;
  release: () => void;
}

/**
 * Collect the request body as chunks (no concatenation: a retry re-sends the same buffers), refusing past
 * `maxBytes` or past the gateway-wide budget. A Content-Length over either is refused before a byte is read.
 */
export function readBody(
  req: IncomingMessage,
  maxBytes: number,
  budget: BodyBudget,
  admitted?: () => void,
  /** bytes of memory one body byte costs on this route (the OpenAI routes hold a body several times over) */
  factor = 1,
): Promise<HeldBody> {
  return new Promise((resolve, reject) => {
    const announced = declaredLength(req);
    if (announced !== null && announced > maxBytes) return reject(new BodyTooLargeError(tooLarge(maxBytes)));
    // a known length is charged whole up front; a chunked body chunk by chunk
    let charged = (announced ?? 0) * factor;
    if (charged > 0 && !budget.tryTake(charged)) return reject(new BodyBudgetError(busy()));
    admitted?.();
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      budget.give(charged);
    };
    const chunks: Buffer[] = [];
    let length = 0;
    const fail = (e: Error): void => {
      req.removeListener('data', onData);
      req.resume();
      chunks.length = 0;
      release();
      reject(e);
    };
    const onData = (c: Buffer): void => {
      length += c.length;
      if (length > maxBytes) return fail(new BodyTooLargeError(tooLarge(maxBytes)));
      if (length * factor > charged) {
        const more = length * factor - charged;
        if (!budget.tryTake(more)) return fail(new BodyBudgetError(busy()));
        charged += more;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (released) return;
      resolve({ chunks, length, release });
    });
    req.once('error', (e) => fail(e));
    req.once('close', () => {
      if (!req.complete && !released) fail(new Error('the client closed the connection before the body ended'));
    });
  });
}

/**
 * A streamed body (uploads): passes the bytes through with backpressure, holding none, and fails past `maxBytes`.
 * The client's request is piped into it, so the upstream client may destroy this stream without touching the
 * client's socket (the answer can still be written).
 */
export function streamBody(req: IncomingMessage, maxBytes: number): Transform {
  const announced = declaredLength(req);
  if (announced !== null && announced > maxBytes) throw new BodyTooLargeError(tooLarge(maxBytes));
  let length = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
      length += chunk.length;
      if (length > maxBytes) return done(new BodyTooLargeError(tooLarge(maxBytes)));
      done(null, chunk);
    },
  });
  req.pipe(counter);
  const unhook = (): void => {
    req.unpipe(counter);
    // the rest of the client's body is read and dropped, so the answer can still reach it
    if (!req.complete) req.resume();
  };
  counter.once('close', unhook);
  counter.once('error', unhook);
  req.once('error', (e) => counter.destroy(e));
  req.once('close', () => {
    if (!req.complete) counter.destroy(new Error('the client closed the connection before the body ended'));
  });
  return counter;
}

function tooLarge(maxBytes: number): string {
  return `The request body is larger than this gateway accepts on this route (${Math.floor(maxBytes / 1024 / 1024)} MB).`;
}

function busy(): string {
  return 'The gateway holds as many request bodies as it may right now; retry shortly.';
}

/** Why a streamed body failed on the client's side (too large, cut off), or null when it did not. */
export function clientBodyFailure(
  body: Readable,
): { status: number; googleStatus: 'INVALID_ARGUMENT'; message: string } | null {
  const e = body.errored;
  if (e instanceof BodyTooLargeError) return { status: 413, googleStatus: 'INVALID_ARGUMENT', message: e.message };
  if (e) return { status: 400, googleStatus: 'INVALID_ARGUMENT', message: 'The request body was cut off.' };
  return null;
}
