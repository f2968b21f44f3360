import {
  applySettingsPatch,
  builtInSettings,
  resolveSettings,
  settingsValues,
  type SettingsEnv,
  type StoredSettings,
} from './index';

const env = (pinned: SettingsEnv['pinned'] = []): SettingsEnv => ({ defaults: builtInSettings(), pinned });
const now = new Date('2030-01-01T00:00:00Z');

describe('runtime settings', () => {
  it('resolves defaults, then overrides, and marks what is pinned', () => {
    const stored: StoredSettings = { version: 4, updatedAt: null, overrides: { maxAttempts: 5, keyMaxFailures: 9 } };
    const view = resolveSettings(env(['keyMaxFailures']), stored);
    expect(view.version).toBe(4);
    expect(view.settings.maxAttempts).toEqual({
      value: 5,
      default: 3,
      pinned: false,
      overridden: true,
      env: 'MAX_ATTEMPTS',
    });
    // pinned: the override is ignored, the default is in force
    expect(view.settings.keyMaxFailures).toMatchObject({ value: 3, pinned: true, overridden: false });
  });

  it('ignores a stored override the rules no longer admit', () => {
    const stored: StoredSettings = { version: 1, updatedAt: null, overrides: { maxAttempts: 99 } };
    expect(resolveSettings(env(), stored).settings.maxAttempts).toMatchObject({ value: 3, overridden: false });
  });

  it('applies a valid patch, reports what changed, and null goes back to the default', () => {
    const first = applySettingsPatch(
      env(),
      null,
      { maxAttempts: 1, hiddenModels: ['models/gemini-x', 'gemini-x'] },
      now,
    );
    if (!first.ok) throw new Error(first.messages.join());
    expect(first.changed).toEqual({ maxAttempts: 1, hiddenModels: ['gemini-x'] });
    expect(first.stored.version).toBe(1);
    const second = applySettingsPatch(env(), first.stored, { maxAttempts: null, keySelection: 'random' }, now);
    if (!second.ok) throw new Error(second.messages.join());
    expect(settingsValues(second.view)).toMatchObject({
      maxAttempts: 3,
      keySelection: 'random',
      hiddenModels: ['gemini-x'],
    });
    expect(second.changed).toEqual({ maxAttempts: 3, keySelection: 'random' });
  });

  it.each([
    [{ maxAttempts: 0 }, 'maxAttempts must be an integer from 1 to 20'],
    [{ maxAttempts: '3' }, 'maxAttempts must be an integer from 1 to 20'],
    [{ keySelection: 'fastest' }, 'keySelection must be one of least-busy, round-robin, random'],
    [{ pausePercent: 101 }, 'pausePercent must be an integer from 1 to 100'],
    [{ hiddenModels: ['bad model'] }, 'hiddenModels must be a model id'],
    [{ modelAliases: { fast: 'a b' } }, 'modelAliases must be a model id'],
    [{ defaultModel: 7 }, 'defaultModel must be a model id'],
    [{ colour: 'blue' }, 'property colour should not exist'],
  ])('refuses %j with a 400 naming the field', (patch, message) => {
    const r = applySettingsPatch(env(), null, patch, now);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.status).toBe(400);
    expect(r.messages.join('\n')).toContain(message);
  });

  it('is all or nothing: one bad field refuses the good ones with it', () => {
    const r = applySettingsPatch(env(), null, { maxAttempts: 5, requestTimeoutSeconds: -1 }, now);
    expect(r).toMatchObject({ ok: false, status: 400 });
    if (r.ok) return;
    expect(r.messages).toEqual(['requestTimeoutSeconds must be an integer from 1 to 86400']);
  });

  it('checks settings together: the backoff cap must not be below its base, an alias must name a real model', () => {
    const low = applySettingsPatch(env(), null, { backoffBaseSeconds: 600, backoffMaxSeconds: 60 }, now);
    expect(low).toMatchObject({
      ok: false,
      status: 400,
      messages: ['backoffMaxSeconds must be at least backoffBaseSeconds (600)'],
    });
    const chain = applySettingsPatch(env(), null, { modelAliases: { a: 'b', b: 'gemini-2.5-flash' } }, now);
    expect(chain).toMatchObject({ ok: false, status: 400 });
    if (!chain.ok) expect(chain.messages[0]).toContain('modelAliases.a must name a real model');
  });

  it('refuses a pinned setting with a 409 naming it and its variable', () => {
    const r = applySettingsPatch(env(['maxAttempts']), null, { maxAttempts: 2, keyMaxFailures: 4 }, now);
    expect(r).toMatchObject({
      ok: false,
      status: 409,
      messages: ['maxAttempts is pinned by MAX_ATTEMPTS and cannot be changed here'],
    });
  });
});
