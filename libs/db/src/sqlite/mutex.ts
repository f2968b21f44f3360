/**
 * TypeORM's sqlite driver runs everything on one connection, and a transaction started while another is open
 * becomes a SAVEPOINT inside it. Writes therefore go through this queue, one at a time.
 */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
