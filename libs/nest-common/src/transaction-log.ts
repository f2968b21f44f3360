import type { AppConfig } from '@gg/config';
import { existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import SonicBoom from 'sonic-boom';

/** A rotated file's size (bytes) and how many files are kept, the live one included: 100 MB × 5. */
export const TRANSACTION_FILE_BYTES = 100 * 1024 * 1024;
export const TRANSACTION_FILES = 5;
/** bytes buffered before a write is issued; the flush timer writes what a quiet app buffered */
const MIN_LENGTH = 4096;
const FLUSH_EVERY_MS = 1000;
/**
 * stdout: one write per ~4 KB of lines (a dozen requests) rather than one per line, each write at most PIPE_BUF
 * (4096 bytes on Linux) and made of whole lines, so that a write to a pipe is atomic and never interleaves with the
 * app's own log lines (pino writes them synchronously to the same descriptor). A quiet app's lines wait at most
 * STDOUT_FLUSH_MS.
 */
const PIPE_BUF = 4096;
const STDOUT_FLUSH_MS = 100;
/**
 * Lines held while the destination does not keep up (a blocked stdout, a full disk): past this, new lines are
 * dropped (and counted) rather than growing the heap without bound.
 */
export const TRANSACTION_BUFFER_BYTES = 16 * 1024 * 1024;

/** Where the lines go: written asynchronously, off the request's own path. */
interface LineSink {
  write(line: string): void;
  flush(): Promise<void>;
  /** lines dropped so far because the destination did not keep up */
  readonly dropped: number;
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
  /** lines dropped because the file did not keep up (TRANSACTION_BUFFER_BYTES held) */
  dropped = 0;

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
    const boom = new SonicBoom({ fd, sync: false, minLength: this.minLength, maxLength: TRANSACTION_BUFFER_BYTES });
    // a write error must not become an uncaught exception of the app: the line is lost, the app serves on
    boom.on('error', () => undefined);
    boom.on('drop', () => this.dropped++);
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

/**
 * stdout, shared with the app's own log: batched into writes of whole lines up to PIPE_BUF (see STDOUT_MIN_LENGTH),
 * flushed every STDOUT_FLUSH_MS, on graceful shutdown (flush) and, synchronously, at any other exit of the process.
 */
export class StdoutSink implements LineSink {
  private readonly boom: SonicBoom;
  /**
   * Whole lines not handed to sonic-boom yet, at most PIPE_BUF bytes. Batched here rather than by sonic-boom's
   * minLength: sonic-boom measures its whole last buffer (Buffer.byteLength) on every write, kilobytes per line.
   */
  private batch = '';
  private batchBytes = 0;
  private readonly timer: NodeJS.Timeout;
  /** lines dropped because stdout did not keep up (TRANSACTION_BUFFER_BYTES held) */
  dropped = 0;
  private readonly onExit = (): void => this.flushSync();

  constructor(private readonly fd = 1) {
    // minLength 1: a batch handed over is written at once, or right after the write in flight
    this.boom = new SonicBoom({
      fd,
      sync: false,
      minLength: 1,
      maxWrite: PIPE_BUF,
      maxLength: TRANSACTION_BUFFER_BYTES,
    });
    this.boom.on('error', () => undefined);
    this.boom.on('drop', (batch: string) => (this.dropped += lineCount(batch)));
    this.timer = setInterval(() => this.handOver(), STDOUT_FLUSH_MS).unref();
    // process.exit() after a fatal error, or an exit that skipped the shutdown hooks: what is buffered still goes out
    process.once('exit', this.onExit);
  }

  write(line: string): void {
    const bytes = Buffer.byteLength(line);
    if (this.batchBytes + bytes > PIPE_BUF) this.handOver();
    this.batch += line;
    this.batchBytes += bytes;
  }

  /** The batch to sonic-boom, as one write. */
  private handOver(): void {
    if (this.batchBytes === 0 || destroyed(this.boom)) return;
    const batch = this.batch;
    this.batch = '';
    this.batchBytes = 0;
    this.boom.write(batch);
  }

  flush(): Promise<void> {
    this.handOver();
    return flushBoom(this.boom);
  }

  /**
   * Writes what is buffered now, blocking (at exit: no later turn of the event loop will). Not sonic-boom's
   * flushSync: it retries any write error forever (a closed stdout, EPIPE, would hang the exit); here a full pipe is
   * retried for at most half a second and any other error gives the lines up.
   */
  flushSync(): void {
    if (destroyed(this.boom)) return;
    const b = this.boom as unknown as Internals;
    // a write in flight keeps its own buffer (it may still land); what waits behind it, and the batch, go now
    const parts = b._writing || b._writingBuf.length === 0 ? b._bufs : [b._writingBuf, ...b._bufs];
    const text = parts.map((p) => (typeof p === 'string' ? p : p.toString())).join('') + this.batch;
    b._bufs = [];
    b._len = 0;
    if (!b._writing) b._writingBuf = '';
    this.batch = '';
    this.batchBytes = 0;
    writeAllSync(this.fd, Buffer.from(text));
  }

  /** Stops the timer and the exit hook (tests: one sink per case). */
  close(): void {
    clearInterval(this.timer);
    process.removeListener('exit', this.onExit);
    this.flushSync();
    if (!destroyed(this.boom)) this.boom.destroy();
  }
}

function lineCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** What StdoutSink.flushSync reads of sonic-boom 4 (its typings declare none of it). */
interface Internals {
  _bufs: (string | Buffer)[];
  _len: number;
  _writing: boolean;
  _writingBuf: string | Buffer;
}

const EAGAIN_TRIES = 50;
const EAGAIN_WAIT_MS = 10;

/** `data` to `fd`, blocking; a full non-blocking pipe is waited for a little, any other error loses the rest. */
function writeAllSync(fd: number, data: Buffer): void {
  let offset = 0;
  let tries = 0;
  while (offset < data.length) {
    try {
      offset += writeSync(fd, data, offset);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || ++tries > EAGAIN_TRIES) return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, EAGAIN_WAIT_MS);
    }
  }
}

/** sonic-boom sets `destroyed` (its typings do not declare it): a flush of a destroyed stream throws */
function destroyed(boom: SonicBoom): boolean {
  return (boom as unknown as { destroyed?: boolean }).destroyed === true;
}

/** bytes sonic-boom holds, written or not yet (its typings do not declare `_len`) */
function buffered(boom: SonicBoom): number {
  return (boom as unknown as { _len?: number })._len ?? 0;
}

/**
 * Everything buffered, written. sonic-boom's flush calls back on its next 'drain', which it emits once what is left
 * falls to `minLength` or below, not to zero: flush again until nothing is left (a bounded number of times).
 */
async function flushBoom(boom: SonicBoom): Promise<void> {
  for (let i = 0; i < 64 && !destroyed(boom); i++) {
    await new Promise<void>((resolve) => {
      try {
        // an error here is a lost log, never a failed shutdown
        boom.flush(() => resolve());
      } catch {
        resolve();
      }
    });
    if (buffered(boom) === 0) return;
  }
}

/**
 * The transaction log (TRANSACTION_LOG): one JSON line per client request, `"log":"transaction"` and `app` on each,
 * apart from the app's own log. `enabled` is false when off: the caller then builds no line at all.
 */
export class TransactionLog {
  readonly enabled: boolean;
  private readonly sink: LineSink | null;
  /** the start of every line, built once */
  private readonly head: string;

  constructor(app: string, sink: LineSink | null) {
    this.sink = sink;
    this.enabled = sink !== null;
    this.head = `{"log":"transaction","app":${JSON.stringify(app)}`;
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
    this.sink.write(rest.length > 2 ? `${this.head},${rest.slice(1)}\n` : `${this.head}}\n`);
  }

  /**
   * One line from its fields already serialized (`"a":1,"b":"x"`, no braces; JSON.stringify on every string that
   * did not come from a fixed set): the hot path's writer, with no object built for the line.
   */
  writeJson(fields: string): void {
    if (!this.sink) return;
    this.sink.write(`${this.head},${fields}}\n`);
  }

  /** Lines dropped so far because the destination did not keep up (TRANSACTION_BUFFER_BYTES held). */
  get dropped(): number {
    return this.sink?.dropped ?? 0;
  }

  /** Everything written so far, out (on shutdown). */
  flush(): Promise<void> {
    return this.sink ? this.sink.flush() : Promise.resolve();
  }
}
