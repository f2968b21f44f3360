import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import {
  applySettingsPatch,
  resolveSettings,
  SettingsEvent,
  settingsValues,
  type SettingsUpdateResult,
  type SettingsValues,
  type SettingsView,
  type StoredSettings,
} from '@gg/contracts';
import { DB_MANAGER, type DbManager } from '@gg/db';
import { DomainError, Mutex, RpcClient } from '@gg/nest-common';

/** kv entry holding the operators' overrides (StoredSettings, JSON) */
export const SETTINGS_KV_KEY = 'runtime-settings';
/** The settings are pushed this often anyway, so a replica that missed an event (pub/sub) or started late catches up. */
export const SETTINGS_REPUBLISH_MS = 5000;

export type SettingsListener = (values: SettingsValues, previous: SettingsValues) => void;

/**
 * The owner of the runtime settings: loads the overrides at start, validates and stores every change (all or
 * nothing), then pushes the settings in force to every app (`settings.changed`) and to its own listeners. A PATCH
 * answered means validated and stored; the push follows at once, and again every few seconds.
 */
@Injectable()
export class SettingsService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SettingsService.name);
  private stored: StoredSettings | null = null;
  private current: SettingsView;
  /** the values in force: a plain object swapped on change, read without a lookup */
  values: SettingsValues;
  private readonly listeners: SettingsListener[] = [];
  private readonly writes = new Mutex();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DB_MANAGER) private readonly db: DbManager,
    private readonly rpc: RpcClient,
  ) {
    this.current = resolveSettings(config.settings, null);
    this.values = settingsValues(this.current);
  }

  async onModuleInit(): Promise<void> {
    const raw = await this.db.kv.get(SETTINGS_KV_KEY);
    if (raw) {
      try {
        this.stored = JSON.parse(raw) as StoredSettings;
      } catch {
        this.logger.error('stored runtime settings cannot be read: the defaults are in force');
      }
    }
    this.swap(resolveSettings(this.config.settings, this.stored));
  }

  onApplicationBootstrap(): void {
    this.publish();
    this.timer = setInterval(() => this.publish(), SETTINGS_REPUBLISH_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Called at once with the values in force, then after every change with the new and the previous values. */
  onChange(listener: SettingsListener): void {
    this.listeners.push(listener);
    listener(this.values, this.values);
  }

  view(): SettingsView {
    return this.current;
  }

  /** Validate, store, apply, push. A refusal (400 bad value, 409 pinned) changes nothing. */
  update(patch: unknown): Promise<SettingsUpdateResult> {
    return this.writes.run(async () => {
      const r = applySettingsPatch(this.config.settings, this.stored, patch, new Date());
      if (!r.ok) {
        const message = r.messages.join('; ');
        throw r.status === 409 ? DomainError.conflict(message) : DomainError.badRequest(message);
      }
      await this.db.kv.set(SETTINGS_KV_KEY, JSON.stringify(r.stored));
      this.stored = r.stored;
      this.swap(r.view);
      this.publish();
      this.logger.log({ version: r.view.version, changed: Object.keys(r.changed) }, 'runtime settings changed');
      return { view: r.view, changed: r.changed };
    });
  }

  private swap(view: SettingsView): void {
    const previous = this.values;
    this.current = view;
    this.values = settingsValues(view);
    for (const listener of this.listeners) {
      try {
        listener(this.values, previous);
      } catch (e) {
        this.logger.error({ err: (e as Error).message }, 'a runtime setting could not be applied');
      }
    }
  }

  private publish(): void {
    this.rpc.emit(SettingsEvent.Changed, this.current);
  }
}
