/**
 * A live event stream of the admin API (`/api/logs/stream`, `/api/service-logs/stream`) on EventSource.
 * Each connection opens with a fresh single-use ticket (`POST /api/streams/ticket`, never the access token in the
 * URL); when the stream is refused or drops, a new ticket is fetched (refreshing the session if needed) and the
 * stream opened again, with a growing pause between tries.
 */
import { ApiError, streamUrl } from './api';

const MAX_BACKOFF_MS = 15_000;

export class LiveStream<T> {
  /** true while the stream is open and delivering */
  connected = $state(false);
  #source: EventSource | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #backoff = 1000;
  #running = false;
  /** bumped by stop(): a connect started before it never opens a stream */
  #generation = 0;

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
    void this.#connect();
  }

  stop(): void {
    this.#running = false;
    this.#generation++;
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

  async #connect(): Promise<void> {
    if (!this.#running) return;
    const generation = this.#generation;
    let url: string;
    try {
      // the ticket call refreshes an expired access token by itself, and sends to login when the session is over
      url = await streamUrl(this.path, this.query());
    } catch (e) {
      if (!(e instanceof ApiError && e.sessionExpired)) this.#retryLater();
      return;
    }
    if (!this.#running || this.#source || generation !== this.#generation) return;
    const source = new EventSource(url);
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
      if (this.#source !== source) return;
      // a ticket opens one connection: EventSource's own retry would present a used one, so reconnect here
      source.close();
      this.#source = null;
      this.#retryLater();
    };
  }

  #retryLater(): void {
    if (!this.#running) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#connect(), this.#backoff);
    this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF_MS);
  }
}
