/** Loading, error and data of one API read, for the loading / empty / error states of a page. */
import { ApiError, errorMessage } from './api';

export class Resource<T> {
  data = $state.raw<T | undefined>(undefined);
  error = $state<string | null>(null);
  loading = $state(false);
  #seq = 0;
  readonly #fetcher: () => Promise<T>;

  constructor(fetcher: () => Promise<T>) {
    this.#fetcher = fetcher;
  }

  /**
   * Loads (again). A slower earlier load never overwrites a later one. `silent` (background polling, live
   * updates) leaves `loading` alone, so buttons and spinners do not flicker.
   */
  async load({ silent = false }: { silent?: boolean } = {}): Promise<void> {
    const seq = ++this.#seq;
    if (!silent) this.loading = true;
    if (!silent) this.error = null;
    try {
      const data = await this.#fetcher();
      if (seq === this.#seq) {
        this.data = data;
        this.error = null;
      }
    } catch (err) {
      if (seq === this.#seq && !(err instanceof ApiError && err.sessionExpired)) this.error = errorMessage(err);
    } finally {
      if (seq === this.#seq) this.loading = false;
    }
  }
}
