import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import type { AddPoolKeysResult, PoolKey } from '@gg/contracts';
import { DB_MANAGER, type DbManager, type PoolKeyRow } from '@gg/db';
import { initialKeyState, resetState, serializeState, toPoolKeyView } from '@gg/key-state';
import { DomainError } from '@gg/nest-common';
import { ProxiesService } from '../proxies/proxies.service';
import { CryptoService, maskSecret } from '../secrets/crypto.service';
import { InFlightService } from '../state/in-flight.service';
import type { PoolEntry } from '../state/pool-entry';
import { PoolStateService } from '../state/pool-state.service';
import { StatePersister } from '../state/state-persister.service';
import { parseKeyInput } from './parse-keys';

/** The admin's operations on pool keys. Answers never carry a secret: only `masked`. */
@Injectable()
export class PoolKeysService implements OnApplicationBootstrap {
  private readonly logger = new Logger(PoolKeysService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DB_MANAGER) private readonly db: DbManager,
    private readonly crypto: CryptoService,
    private readonly pool: PoolStateService,
    private readonly persister: StatePersister,
    private readonly inFlight: InFlightService,
    private readonly proxies: ProxiesService,
  ) {}

  /** GEMINI_API_KEYS are added at every start; keys already stored count as duplicates. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.geminiApiKeys.length === 0) return;
    const r = await this.add(this.config.geminiApiKeys);
    this.logger.log({ added: r.added.length, duplicates: r.duplicates, invalid: r.invalid }, 'GEMINI_API_KEYS added');
  }

  list(now = Date.now()): PoolKey[] {
    const inUse = this.inFlight.totals(now);
    return this.pool.all().map((e) => this.view(e, now, inUse.get(e.id) ?? 0));
  }

  /** Validates and stores new keys; nothing is sent upstream. */
  async add(input: string | string[]): Promise<AddPoolKeysResult> {
    const parsed = parseKeyInput(input);
    return this.persister.exclusive(async () => {
      let duplicates = parsed.duplicates;
      const now = new Date().toISOString();
      const rows: PoolKeyRow[] = [];
      for (const secret of parsed.keys) {
        const fingerprint = this.crypto.fingerprint(secret);
        if (this.pool.hasFingerprint(fingerprint)) {
          duplicates++;
          continue;
        }
        const state = serializeState(initialKeyState());
        rows.push({
          id: randomUUID(),
          secretEnc: this.crypto.encrypt(secret),
          fingerprint,
          masked: maskSecret(secret),
          state,
          createdAt: now,
        });
      }
      const secrets = new Map(parsed.keys.map((s) => [this.crypto.fingerprint(s), s]));
      const inserted = await this.db.poolKeys.insertMany(rows);
      duplicates += inserted.duplicates;
      const entries: PoolEntry[] = inserted.added.map((row) => ({
        id: row.id,
        secret: secrets.get(row.fingerprint) as string,
        fingerprint: row.fingerprint,
        masked: row.masked,
        createdAt: row.createdAt,
        state: initialKeyState(),
      }));
      this.pool.add(entries);
      if (entries.length > 0)
        this.logger.log({ added: entries.length, ids: entries.map((e) => e.id) }, 'pool keys added');
      const stamp = Date.now();
      return { added: entries.map((e) => this.view(e, stamp, 0)), duplicates, invalid: parsed.invalid };
    });
  }

  async delete(id: string): Promise<void> {
    if (!this.pool.get(id)) throw DomainError.notFound('pool key not found');
    await this.persister.exclusive(async () => {
      await this.db.poolKeys.delete(id);
      this.pool.remove(id);
    });
    this.logger.log({ keyId: id }, 'pool key deleted');
  }

  reset(id: string): PoolKey {
    if (this.pool.update([id], resetState).length === 0) throw DomainError.notFound('pool key not found');
    return this.viewOf(id);
  }

  resetAll(): PoolKey[] {
    this.pool.clearPause();
    this.pool.update(
      this.pool.all().map((e) => e.id),
      resetState,
    );
    return this.list();
  }

  /** One key's view. */
  get(id: string): PoolKey {
    return this.viewOf(id);
  }

  private viewOf(id: string, now = Date.now()): PoolKey {
    const entry = this.pool.get(id);
    if (!entry) throw DomainError.notFound('pool key not found');
    return this.view(entry, now, this.inFlight.inUse(id, now));
  }

  private view(e: PoolEntry, now: number, inUse: number): PoolKey {
    const view = toPoolKeyView(e.id, e.masked, e.state, now, inUse);
    // with no proxy list, no `proxy` field: the answer stays as it was
    const proxy = this.proxies.keyProxy(e.id, now);
    return proxy ? { ...view, proxy } : view;
  }
}
