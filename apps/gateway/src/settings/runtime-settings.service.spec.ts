import type { AppConfig } from '@gg/config';
import { applySettingsPatch, builtInSettings, type SettingsEnv, type SettingsView } from '@gg/contracts';
import type { RpcClient } from '@gg/nest-common';
import { RuntimeSettings } from './runtime-settings.service';

const env: SettingsEnv = { defaults: { ...builtInSettings(), maxAttempts: 4 }, pinned: [] };

function viewAt(version: number, patch: object): SettingsView {
  const r = applySettingsPatch(env, { version: version - 1, updatedAt: null, overrides: {} }, patch, new Date());
  if (!r.ok) throw new Error(r.messages.join());
  return r.view;
}

describe('RuntimeSettings (gateway)', () => {
  let settings: RuntimeSettings;
  beforeEach(() => {
    settings = new RuntimeSettings({ settings: env } as AppConfig, {} as RpcClient);
  });

  it("starts from the environment's defaults, then takes what key-pool pushes and tells its listeners", () => {
    expect(settings.values.maxAttempts).toBe(4);
    expect(settings.requestTimeoutMs).toBe(300_000);
    expect(settings.firstByteTimeoutMs).toBeNull();
    const seen: number[] = [];
    settings.onChange((v) => seen.push(v.maxAttempts));
    settings.accept(
      viewAt(3, { maxAttempts: 1, firstByteTimeoutSeconds: 20, modelAliases: { f: 'gemini-2.5-flash' } }),
    );
    expect(seen).toEqual([4, 1]);
    expect(settings.firstByteTimeoutMs).toBe(20_000);
    expect(settings.catalogue.resolve('f')).toBe('gemini-2.5-flash');
  });

  it('ignores one older view (a fetch overtaken by a change), takes older ones pushed again (a reset store)', () => {
    settings.accept(viewAt(5, { maxAttempts: 2 }));
    settings.accept(viewAt(4, { maxAttempts: 7 }));
    expect(settings.values.maxAttempts).toBe(2);
    settings.accept(viewAt(4, { maxAttempts: 7 }));
    expect(settings.values.maxAttempts).toBe(7);
  });

  it("keeps what this gateway's own PINNED_SETTINGS fixes, whatever key-pool pushes", () => {
    const local: SettingsEnv = { defaults: { ...env.defaults, keySelection: 'round-robin' }, pinned: ['keySelection'] };
    const pinnedHere = new RuntimeSettings({ settings: local } as AppConfig, {} as RpcClient);
    pinnedHere.accept(viewAt(2, { keySelection: 'random', maxAttempts: 2 }));
    expect(pinnedHere.values.keySelection).toBe('round-robin');
    expect(pinnedHere.values.maxAttempts).toBe(2);
  });
});
