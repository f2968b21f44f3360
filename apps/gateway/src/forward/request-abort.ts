import { EventEmitter } from 'node:events';

/**
 * Aborts one client request's upstream work. undici accepts an EventEmitter with `aborted` and an 'abort' event as
 * its signal, which costs far less per request than an AbortController (a DOM EventTarget in Node).
 */
export class RequestAbort extends EventEmitter {
  aborted = false;

  /** what to hand to undici as `signal` */
  get signal(): this {
    return this;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }

  /** A standard AbortSignal that follows this one, for APIs that need one (rare paths only). */
  asAbortSignal(): AbortSignal {
    const c = new AbortController();
    if (this.aborted) c.abort();
    else this.once('abort', () => c.abort());
    return c.signal;
  }
}
