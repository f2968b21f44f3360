import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DB_MANAGER, type DbManager } from '@gg/db';
import { serializeState } from '@gg/key-state';
import { runOutsideRequest } from '@gg/nest-common';
import { PoolStateService } from './pool-state.service';

/** How long state changes gather before one `saveStates` writes them. */
export const PERSIST_DEBOUNCE_MS = 200;

/**
 * Writes changed key states to the db, debounced, so cooldowns, disabling and counters survive a restart.
 * Every pool write (state saves, inserts, deletes) goes through `exclusive` so that a save never lands after the
 * delete of its key. Flushed on shutdown.
 */
@Injectable()
export class StatePersister implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(StatePersister.name);
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(DB_MANAGER) private readonly db: DbManager,
    private readonly pool: PoolStateService,
  ) {}

  onModuleInit(): void {
    this.pool.onChange((ids) => this.markDirty(ids));
  }

  /** Runs `fn` after every write queued before it, and before any queued after. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Writes every pending state now. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.exclusive(async () => {
      const ids = [...this.dirty];
      this.dirty.clear();
      const states = ids.flatMap((id) => {
        const entry = this.pool.get(id);
        return entry ? [{ id, state: serializeState(entry.state) }] : [];
      });
      if (states.length === 0) return;
      try {
        await this.db.poolKeys.saveStates(states);
      } catch (e) {
        ids.forEach((id) => this.dirty.add(id));
        this.logger.error(
          { err: (e as Error).message, keys: states.length },
          'saving pool key states failed; will retry',
        );
        this.schedule();
      }
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  private markDirty(ids: string[]): void {
    if (ids.length === 0) return;
    ids.forEach((id) => this.dirty.add(id));
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    // one write for the changes of many requests: its lines name none of them
    this.timer = runOutsideRequest(() =>
      setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, PERSIST_DEBOUNCE_MS),
    );
    this.timer.unref();
  }
}
