import fs, { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RotatingFile, StdoutSink, TransactionLog } from './transaction-log';

describe('transaction log', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'gg-tx-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const line = (i: number) => `${JSON.stringify({ i, pad: 'x'.repeat(80) })}\n`;

  it('rotates the file by size, keeps `files` files in all, and loses no line of the ones it keeps', async () => {
    const path = join(dir, 'gateway.log');
    // 1000 bytes a file, 5 files; lines of ~100 bytes: each file holds ~10 lines, the oldest are dropped
    const file = new RotatingFile(path, 1000, 5, 256);
    for (let i = 0; i < 100; i++) file.write(line(i));
    await file.flush();
    expect(readdirSync(dir).sort()).toEqual([
      'gateway.log',
      'gateway.log.1',
      'gateway.log.2',
      'gateway.log.3',
      'gateway.log.4',
    ]);
    const kept = ['gateway.log.4', 'gateway.log.3', 'gateway.log.2', 'gateway.log.1', 'gateway.log'].flatMap((f) => {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1000);
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { i: number }).i);
    });
    // oldest first, in order, ending with the last line written, no gap
    expect(kept[kept.length - 1]).toBe(99);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, k) => 100 - kept.length + k));
    expect(kept.length).toBeGreaterThanOrEqual(40);
  });

  it('continues an existing file after a restart, counting its size toward the next rotation', async () => {
    const path = join(dir, 'admin.log');
    const first = new RotatingFile(path, 1000, 3, 1);
    for (let i = 0; i < 5; i++) first.write(line(i));
    await first.flush();
    const second = new RotatingFile(path, 1000, 3, 1);
    for (let i = 5; i < 12; i++) second.write(line(i));
    await second.flush();
    const older = readFileSync(`${path}.1`, 'utf8').split('\n').filter(Boolean);
    const current = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    expect(older.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(current.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual([10, 11]);
  });

  it('writes one JSON line per call into DATA_DIR/transactions/<app>.log, marked "log":"transaction"', async () => {
    const log = TransactionLog.forApp('gateway', { transactionLog: 'file', dataDir: dir });
    expect(log.enabled).toBe(true);
    log.write({ requestId: 'r1', status: 200 });
    log.write({});
    await log.flush();
    const lines = readFileSync(join(dir, 'transactions', 'gateway.log'), 'utf8')
      .trimEnd()
      .split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { log: 'transaction', app: 'gateway', requestId: 'r1', status: 200 },
      { log: 'transaction', app: 'gateway' },
    ]);
  });

  it('off: writes nothing and creates no file', async () => {
    const log = TransactionLog.forApp('gateway', { transactionLog: 'off', dataDir: dir });
    expect(log.enabled).toBe(false);
    log.write({ requestId: 'r1' });
    await log.flush();
    expect(existsSync(join(dir, 'transactions'))).toBe(false);
  });
});

describe('transaction log on stdout (StdoutSink)', () => {
  let dir: string;
  let fd: number;
  let sink: StdoutSink;
  let write: jest.SpyInstance;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gg-tx-'));
    fd = openSync(join(dir, 'out'), 'a');
    write = jest.spyOn(fs, 'write');
    sink = new StdoutSink(fd);
  });
  afterEach(() => {
    // closes fd too (sonic-boom closes a descriptor other than 1 and 2 when destroyed)
    sink.close();
    write.mockRestore();
    rmSync(dir, { recursive: true, force: true });
  });

  const out = (): string => readFileSync(join(dir, 'out'), 'utf8');
  const line = (i: number) => `${JSON.stringify({ i, pad: 'x'.repeat(300) })}\n`;
  const written = (): string[] => write.mock.calls.filter((c) => c[0] === fd).map((c) => String(c[1]));

  it('batches lines into writes of whole lines, none over PIPE_BUF (atomic on a pipe), and loses none', async () => {
    for (let i = 0; i < 200; i++) sink.write(line(i));
    await sink.flush();
    const writes = written();
    // ~320 bytes a line: a dozen lines a write, not one write a line
    expect(writes.length).toBeLessThan(30);
    for (const w of writes) {
      expect(Buffer.byteLength(w)).toBeLessThanOrEqual(4096);
      expect(w.endsWith('\n')).toBe(true);
    }
    const got = out()
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { i: number }).i);
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('a lone line of a quiet app goes out within the flush period, without any flush call', async () => {
    sink.write(line(1));
    expect(out()).toBe('');
    const deadline = Date.now() + 2000;
    while (out() === '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(out()).toBe(line(1));
  });

  it('flushSync (the exit hook) writes what is buffered at once, and nothing twice', async () => {
    sink.write(line(1));
    sink.write(line(2));
    sink.flushSync();
    expect(out()).toBe(line(1) + line(2));
    sink.write(line(3));
    await sink.flush();
    expect(out()).toBe(line(1) + line(2) + line(3));
  });

  it('flushSync gives up on a descriptor that fails (a closed stdout) instead of hanging the exit', () => {
    const broken = new StdoutSink(987654);
    broken.write(line(1));
    broken.flushSync();
    broken.close();
  });
});
