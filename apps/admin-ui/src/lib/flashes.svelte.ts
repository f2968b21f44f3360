/** Ids that flash for a moment (a row just added, a count just bumped by a live update). */
export class Flashes {
  #ids = $state.raw<Set<string>>(new Set());
  readonly #ms: number;

  constructor(ms: number) {
    this.#ms = ms;
  }

  /** Marks `id` for `ms` milliseconds. */
  add(id: string): void {
    this.#ids = new Set([...this.#ids, id]);
    setTimeout(() => (this.#ids = new Set([...this.#ids].filter((other) => other !== id))), this.#ms);
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }
}
