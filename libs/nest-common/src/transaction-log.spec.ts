import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RotatingFile, TransactionLog } from './transaction-log';

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
