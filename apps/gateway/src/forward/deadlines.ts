import type { Exchange } from './exchange';

const SWEEP_MS = 100;

/**
 * One timer for every request's deadline instead of a timer per request: exchanges are kept in arrival order, and
 * since they all get the same timeout, the sweep stops at the first one not yet due. Precision: SWEEP_MS. The
 * timeout is read at each sweep (a runtime setting): a change applies to the requests in flight too.
 */
export class Deadlines {
  private readonly open = new Set<Exchange>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly timeoutMs: () => number) {}

  add(ex: Exchange): void {
    this.open.add(ex);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), SWEEP_MS);
      this.timer.unref();
    }
  }

  delete(ex: Exchange): void {
    this.open.delete(ex);
    if (this.open.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private sweep(): void {
    const due = Date.now() - this.timeoutMs();
    for (const ex of this.open) {
      if (ex.startedAt > due) break;
      this.open.delete(ex);
      ex.deadlineHit = true;
      ex.abort.abort();
    }
  }
}
