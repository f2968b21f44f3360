/**
 * The admin SPA's audit page in a real browser (Debian's Chromium through playwright-core) against a real stack:
 * an admin adds a pool key in the Pool page, then finds that action on the Audit page (masked key, never the
 * secret), filters it, exports it; a user who is not an admin has no Audit page. And the Settings page, whose
 * changes are audited: a setting and an alias changed through it, bad values shown on their fields, a pinned one
 * not editable.
 */
import type { SettingsView } from '@gg/contracts';
import { readFileSync } from 'node:fs';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { fakeGeminiKey, launchBrowser, logIn, maskOf, nav, newContext, waitForCount, waitForText } from './support';

jest.setTimeout(60_000);

describe('admin UI: audit page', () => {
  let mock: MockGemini;
  let stack: Stack;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    mock = await startMockGemini();
    [stack, browser] = await Promise.all([
      Stack.start({ geminiBaseUrl: mock.url, env: { PINNED_SETTINGS: 'KEY_SELECTION' } }),
      launchBrowser(),
    ]);
    admin = await newContext(browser, stack.adminUrl);
    page = await admin.newPage();
    await page.goto('/');
    await logIn(page, stack.adminUsername, stack.adminPassword);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await mock?.close();
  });

  it('shows an admin the entry for an action they just did, filters it and exports it', async () => {
    const secret = fakeGeminiKey();
    await nav(page, 'Pool').click();
    await page.getByRole('heading', { level: 1, name: 'Pool' }).waitFor();
    await page.getByLabel('Keys, one per line or separated by commas').fill(secret);
    await page.getByRole('button', { name: 'Add key' }).click();
    await waitForText(page.locator('.toast'), 'Added 1, 0 duplicates, 0 invalid.');

    await nav(page, 'Audit').click();
    await page.getByRole('heading', { level: 1, name: 'Audit' }).waitFor();
    const row = page.locator('tbody tr', { hasText: 'pool-key.add' });
    await waitForCount(row, 1);
    await waitForText(row, stack.adminUsername);
    await waitForText(row, maskOf(secret));
    await waitForText(row, '127.0.0.1');
    expect(await page.content()).not.toContain(secret);

    // a filter that matches nothing, then one that matches the entry
    await page.getByLabel('Action', { exact: true }).selectOption('user.delete');
    await page.getByRole('button', { name: 'Apply' }).click();
    await waitForText(page.locator('.state-empty'), 'No entry matches these filters.');
    await page.getByLabel('Action', { exact: true }).selectOption('pool-key.add');
    await page.getByRole('button', { name: 'Apply' }).click();
    await waitForCount(page.locator('tbody tr'), 1);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export' }).click(),
    ]);
    const file = await download.path();
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ action: 'pool-key.add', targetName: maskOf(secret) });
    expect(lines[0]).not.toContain(secret);
  });

  it('changes settings through the Settings page, each problem on its field, and audits the change', async () => {
    await nav(page, 'Settings').click();
    await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    const attempts = page.getByLabel('Attempts per request');
    expect(await attempts.inputValue()).toBe('3');
    // pinned by the environment: shown, not editable
    expect(await page.getByLabel('Selection mode').isDisabled()).toBe(true);
    await waitForText(page.locator('#hint-keySelection'), 'pinned by KEY_SELECTION');

    // checked by the shared schema before it is sent
    await attempts.fill('0');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await waitForText(page.locator('#error-maxAttempts'), 'maxAttempts must be an integer from 1 to 20');
    // checked by key-pool against the other settings: the answer's message on its field
    await attempts.fill('2');
    await page.getByLabel('Backoff base (s)').fill('600');
    await page.getByLabel('Backoff cap (s)').fill('60');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await waitForText(page.locator('#error-backoffMaxSeconds'), 'must be at least backoffBaseSeconds');
    const token = await stack.login();
    expect((await stack.api<SettingsView>(token, 'GET', '/api/settings')).body.settings.maxAttempts.value).toBe(3);

    await page.getByLabel('Backoff cap (s)').fill('3600');
    await page.getByRole('button', { name: 'Add alias' }).click();
    await page.getByLabel('Alias', { exact: true }).fill('fast');
    await page.getByLabel('Real model').fill('models/gemini-2.5-flash');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await waitForText(page.locator('.toast'), 'Settings saved.');
    await waitForText(page.getByRole('button', { name: 'Save changes' }).locator('..'), 'No changes');
    const saved = (await stack.api<SettingsView>(token, 'GET', '/api/settings')).body.settings;
    expect([saved.maxAttempts.value, saved.backoffBaseSeconds.value, saved.backoffMaxSeconds.value]).toEqual([
      2, 600, 3600,
    ]);
    expect(saved.modelAliases.value).toEqual({ fast: 'gemini-2.5-flash' });

    await nav(page, 'Audit').click();
    const row = page.locator('tbody tr', { hasText: 'settings.update' });
    await waitForCount(row, 1);
    await waitForText(row, 'fast=gemini-2.5-flash');
  });

  it('gives a user who is not an admin no Audit page', async () => {
    const token = await stack.login();
    expect(
      (await stack.api(token, 'POST', '/api/users', { username: 'dora', password: 'dora-password-1', role: 'user' }))
        .status,
    ).toBe(201);
    const context = await newContext(browser, stack.adminUrl);
    try {
      const own = await context.newPage();
      await own.goto('/');
      await logIn(own, 'dora', 'dora-password-1');
      await own.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
      expect(await nav(own, 'Audit').count()).toBe(0);
      await own.goto('/audit');
      await waitForText(own.getByRole('alert'), 'Admins only.');
      expect(await own.locator('table').count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
