import type { Dispatcher } from 'undici';
import type { Exchange } from './exchange';

/**
 * What a responder that reads an answer whole does at each turn. Each is handed `release` (it frees the key once,
 * however often it is called) so that it can report `broken` first when the answer failed on the upstream's side.
 */
export interface WholeAnswerHandlers {
  /** The body passed `maxBytes`: it is already destroyed and nothing of it is kept. */
  tooLarge(release: () => void): void;
  /** The whole body, once it has ended. */
  end(body: Buffer, release: () => void): void;
  /** The body broke before its end (the deadline, a network break, the client leaving) and not past the cap. */
  error(e: Error & { code?: string }, release: () => void): void;
}

/** Calls `release` once, whether the body ended, broke or the client left. */
export function releaseOnce(release: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    release();
  };
}

/**
 * Reads a successful upstream answer whole, for the routes that must see all of it before they answer (a
 * translation, a filtered list): up to `maxBytes`, the upstream body dropped as soon as the client leaves, the time
 * to the first byte kept. What is written to the client, and which failure counts against the key, is the handlers'.
 */
export function readAnswerWhole(
  ex: Exchange,
  up: Dispatcher.ResponseData,
  maxBytes: number,
  release: () => void,
  h: WholeAnswerHandlers,
): void {
  const finish = releaseOnce(release);
  const chunks: Buffer[] = [];
  let bytes = 0;
  let over = false;
  ex.res.once('close', () => {
    if (!up.body.destroyed) up.body.destroy();
    finish();
  });
  up.body.on('data', (c: Buffer) => {
    if (ex.ttfbMs === null) ex.ttfbMs = Date.now() - ex.startedAt;
    if (over) return;
    bytes += c.length;
    if (bytes > maxBytes) {
      chunks.length = 0;
      over = true;
      up.body.destroy();
      return h.tooLarge(finish);
    }
    chunks.push(c);
  });
  up.body.once('end', () => {
    if (over) return finish();
    h.end(Buffer.concat(chunks), finish);
  });
  up.body.once('error', (e: Error & { code?: string }) => {
    if (over) return finish();
    h.error(e, finish);
  });
}
