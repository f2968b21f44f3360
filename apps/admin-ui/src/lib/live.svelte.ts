/**
 * A live event stream of the admin API (`/api/logs/stream`, `/api/service-logs/stream`) on EventSource.
 * The access token rides in `?access_token=`; when the stream is refused (an expired token after a reconnect)
 * the session is refreshed and the stream opened again, with a growing pause between tries.
 */
import { api, refreshSession, streamUrl } from './api';

const MAX_BACKOFF_MS = 15_000;

export class LiveStream<T> {
  /** true while the stream is open and delivering */
  connected = $state(false);
  #source: EventSource | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #backoff = 1000;
  #running = false;

  constructor(
    private readonly path: string,
    private readonly onItem: (item: T) => void,
    private readonly query: () => object = () => ({}),
  ) {}

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#connect();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#source?.close();
    this.#source = null;
    this.connected = false;
  }

  /** Reopen with the current query (after a filter changed). */
  restart(): void {
    this.stop();
    this.start();
  }

  #connect(): void {
    if (!this.#running) return;
    const source = new EventSource(streamUrl(this.path, this.query()));
    this.#source = source;
    source.onopen = () => {
      this.connected = true;
      this.#backoff = 1000;
    };
    source.onmessage = (event: MessageEvent<string>) => {
      try {
        this.onItem(JSON.parse(event.data) as T);
      } catch {
        // not an item (a comment or a malformed line): skip it
      }
    };
    source.onerror = () => {
      this.connected = false;
      // EventSource retries by itself after a dropped connection; CLOSED means it was refused (401, 403).
      if (source.readyState !== EventSource.CLOSED || this.#source !== source) return;
      source.close();
      this.#source = null;
      this.#timer = setTimeout(() => void this.#renewAndReconnect(), this.#backoff);
      this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF_MS);
    };
  }

  async #renewAndReconnect(): Promise<void> {
    if (!this.#running) return;
    if (!(await refreshSession())) {
      // no session any more: any authenticated call sends the browser to the login page
      await api.auth.me().catch(() => undefined);
      return;
    }
    this.#connect();
  }
}
