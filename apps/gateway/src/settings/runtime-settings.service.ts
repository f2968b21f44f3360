import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import {
  resolveSettings,
  SETTING_NAMES,
  SettingsPattern,
  settingsValues,
  type SettingsValues,
  type SettingsView,
} from '@gg/contracts';
import { RpcClient } from '@gg/nest-common';
import { ModelCatalogue } from './model-catalogue';

export type SettingsListener = (values: SettingsValues) => void;

/**
 * This gateway's copy of the runtime settings: the environment's defaults until key-pool's first answer, then
 * whatever key-pool pushes (`settings.changed`, on every change and every few seconds), except what this gateway's own
 * PINNED_SETTINGS fixes (one replica can keep its own value: a canary, a test). The hot path reads plain
 * fields of objects swapped on change: no await, no Redis, no lookup per request.
 */
@Injectable()
export class RuntimeSettings implements OnApplicationBootstrap {
  private readonly logger = new Logger(RuntimeSettings.name);
  private version = -1;
  /** older versions received in a row: key-pool's store was reset (see accept) */
  private older = 0;
  values: SettingsValues;
  requestTimeoutMs = 0;
  /** null: no first-byte limit */
  firstByteTimeoutMs: number | null = null;
  catalogue: ModelCatalogue;
  private readonly listeners: SettingsListener[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly rpc: RpcClient,
  ) {
    this.values = settingsValues(resolveSettings(config.settings, null));
    this.catalogue = new ModelCatalogue(this.values);
    this.derive();
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      this.accept(await this.rpc.send<SettingsView>(SettingsPattern.Get, {}, 3000));
    } catch (e) {
      // key-pool's periodic push brings them as soon as it runs
      this.logger.warn(`runtime settings not available yet, the environment's in force: ${(e as Error).message}`);
    }
  }

  /** Called at once with the values in force, then after every change. */
  onChange(listener: SettingsListener): void {
    this.listeners.push(listener);
    listener(this.values);
  }

  /**
   * Take pushed or fetched settings unless they are older than those held. One older view is a fetch overtaken by a
   * change; older ones again and again (key-pool republishes every few seconds) mean its store was reset: taken.
   */
  accept(view: SettingsView): void {
    if (!view || typeof view.version !== 'number' || !view.settings) return;
    if (SETTING_NAMES.some((n) => view.settings[n] === undefined)) return;
    if (view.version < this.version && ++this.older < 2) return;
    this.older = 0;
    const same = view.version === this.version;
    this.version = view.version;
    if (same) return;
    this.values = settingsValues(view, this.config.settings);
    this.catalogue = new ModelCatalogue(this.values);
    this.derive();
    for (const listener of this.listeners) listener(this.values);
  }

  private derive(): void {
    this.requestTimeoutMs = this.values.requestTimeoutSeconds * 1000;
    this.firstByteTimeoutMs =
      this.values.firstByteTimeoutSeconds > 0 ? this.values.firstByteTimeoutSeconds * 1000 : null;
  }
}
