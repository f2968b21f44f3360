/**
 * Runs async sections one at a time, in arrival order; a section that throws does not stop the next one.
 * In-process only: for the SQLite writer (one connection, so a transaction must not start inside another) and
 * for auth's check-then-write sequences (auth runs as one replica).
 */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /** True when no section is running or waiting. */
  get idle(): boolean {
    return this.pending === 0;
  }

  run<T>(section: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(section, section);
    const settled = (): void => {
      this.pending--;
    };
    this.tail = result.then(settled, settled);
    return result;
  }
}

/** One {@link Mutex} per key, dropped when its queue empties: sections with different keys run concurrently. */
export class KeyedMutex {
  private readonly locks = new Map<string, Mutex>();

  run<T>(key: string, section: () => Promise<T>): Promise<T> {
    let lock = this.locks.get(key);
    if (!lock) this.locks.set(key, (lock = new Mutex()));
    const result = lock.run(section);
    // reactions run in registration order: the Mutex has counted this section out before `release` runs
    const release = (): void => {
      if (lock.idle && this.locks.get(key) === lock) this.locks.delete(key);
    };
    void result.then(release, release);
    return result;
  }

  /** Keys with a section running or waiting (for tests). */
  get size(): number {
    return this.locks.size;
  }
}
