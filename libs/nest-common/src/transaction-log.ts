import type { AppConfig } from '@gg/config';
import { existsSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import SonicBoom from 'sonic-boom';

/** A rotated file's size (bytes) and how many files are kept, the live one included: 100 MB × 5. */
export const TRANSACTION_FILE_BYTES = 100 * 1024 * 1024;
export const TRANSACTION_FILES = 5;
/** bytes buffered before a write is issued; the flush timer writes what a quiet app buffered */
const MIN_LENGTH = 4096;
const FLUSH_EVERY_MS = 1000;

/** Where the lines go: written asynchronously, off the request's own path. */
interface LineSink {
  write(line: string): void;
  flush(): Promise<void>;
}

/**
 * A file that starts over when it reaches `maxBytes`: `<name>` becomes `<name>.1`, `<name>.1` becomes `<name>.2`,
 * … and the oldest beyond `files` is dropped. Written through sonic-boom, asynchronously and buffered (`minLength`).
 * The file is opened here (openSync, so its descriptor exists before the first rename) and each rotation gives a new
 * sonic-boom on the new file while the old one ends on its own descriptor: the lines written before a rotation land
 * in the renamed file, those after it in the new one, none lost or reordered. No package of the repository rotates
 * files (pino-roll, rotating-file-stream are not installed): this is the small rotation the design allows.
 */
export class RotatingFile implements LineSink {
  private boom: SonicBoom;
  private bytes: number;
  private readonly timer: NodeJS.Timeout;
  /** sonic-booms of rotated files still writing their last lines */
  private readonly ending = new Set<Promise<void>>();

  constructor(
    readonly path: string,
    private readonly maxBytes = TRANSACTION_FILE_BYTES,
    private readonly files = TRANSACTION_FILES,
    private readonly minLength = MIN_LENGTH,
  ) {
    this.bytes = existsSync(path) ? statSync(path).size : 0;
    this.boom = this.open();
    this.timer = setInterval(() => this.flushQuietly(), FLUSH_EVERY_MS).unref();
  }

  private open(): SonicBoom {
    const fd = openSync(this.path, 'a', 0o600);
    const boom = new SonicBoom({ fd, sync: false, minLength: this.minLength });
    // a write error must not become an uncaught exception of the app: the line is lost, the app serves on
    boom.on('error', () => undefined);
    return boom;
  }

  write(line: string): void {
    // characters, not bytes: a rotation a little late for non-ASCII text is harmless
    if (this.bytes > 0 && this.bytes + line.length > this.maxBytes) this.rotate();
    this.bytes += line.length;
    this.boom.write(line);
  }

  private rotate(): void {
    let next: SonicBoom;
    try {
      rmSync(`${this.path}.${this.files - 1}`, { force: true });
      for (let i = this.files - 2; i >= 1; i--) {
        if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      }
      if (this.files > 1) renameSync(this.path, `${this.path}.1`);
      else rmSync(this.path, { force: true });
      next = this.open();
    } catch {
      // a failed rename or open (the directory went away): keep appending where we can
      return;
    }
    this.bytes = 0;
    const old = this.boom;
    this.boom = next;
    const done = new Promise<void>((resolve) => {
      old.once('close', () => resolve());
      old.once('error', () => resolve());
    });
    this.ending.add(done);
    void done.then(() => this.ending.delete(done));
    old.end();
  }

  private flushQuietly(): void {
    if (destroyed(this.boom)) return;
    this.boom.flush(() => undefined);
  }

  async flush(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.ending, flushBoom(this.boom)]);
  }
}

/** stdout, shared with the app's own log: each batch goes out once the previous write is done. */
class StdoutSink implements LineSink {
  // minLength 1: nothing waits for a timer (npm start shows each request at once); lines that arrive while a write is
  // in flight go out together in the next one
  private readonly boom = new SonicBoom({ fd: 1, sync: false, minLength: 1 });

  constructor() {
    this.boom.on('error', () => undefined);
  }

  write(line: string): void {
    this.boom.write(line);
  }

  flush(): Promise<void> {
    return flushBoom(this.boom);
  }
}

/** sonic-boom sets `destroyed` (its typings do not declare it): a flush of a destroyed stream throws */
function destroyed(boom: SonicBoom): boolean {
  return (boom as unknown as { destroyed?: boolean }).destroyed === true;
}

function flushBoom(boom: SonicBoom): Promise<void> {
  if (destroyed(boom)) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      // an error here is a lost log, never a failed shutdown
      boom.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}

/**
 * The transaction log (TRANSACTION_LOG): one JSON line per client request, `"log":"transaction"` and `app` on each,
 * apart from the app's own log. `enabled` is false when off: the caller then builds no line at all.
 */
export class TransactionLog {
  readonly enabled: boolean;
  private readonly sink: LineSink | null;

  constructor(
    private readonly app: string,
    sink: LineSink | null,
  ) {
    this.sink = sink;
    this.enabled = sink !== null;
  }

  /** The log of `app` as TRANSACTION_LOG says: stdout, `${DATA_DIR}/transactions/<app>.log`, or none. */
  static forApp(app: string, config: Pick<AppConfig, 'transactionLog' | 'dataDir'>): TransactionLog {
    if (config.transactionLog === 'off') return new TransactionLog(app, null);
    if (config.transactionLog === 'stdout') return new TransactionLog(app, new StdoutSink());
    const dir = join(config.dataDir, 'transactions');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return new TransactionLog(app, new RotatingFile(join(dir, `${app}.log`)));
  }

  /** One line; `fields` must hold ids and figures only (never a secret, a body or a token). */
  write(fields: object): void {
    if (!this.sink) return;
    const rest = JSON.stringify(fields);
    const head = `{"log":"transaction","app":${JSON.stringify(this.app)}`;
    this.sink.write(`${head}${rest.length > 2 ? `,${rest.slice(1)}` : '}'}\n`);
  }

  /** Everything written so far, out (on shutdown). */
  flush(): Promise<void> {
    return this.sink ? this.sink.flush() : Promise.resolve();
  }
}
