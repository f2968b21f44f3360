/**
 * Screenshots of every page, desktop (1280×800) and phone (390×844), into docs/screenshots/. Not part of
 * `npm test`; run after a build with:
 *
 *   SCREENSHOTS=1 GG_DIST_DIR=dist/out-tsc npx jest test/browser/screenshots.e2e-spec.ts --selectProjects e2e
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startMockGemini, Stack, type MockGemini } from '@gg/testing';
import type { Browser, Page } from 'playwright-core';
import { seed, slowRequests, type Seeded } from './seed';
import { launchBrowser, logIn, newContext, waitForText } from './support';

delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
const OUT = resolve(__dirname, '../../docs/screenshots');
const run = process.env.SCREENSHOTS === '1' ? describe : describe.skip;

run('screenshots of the admin UI', () => {
  let mock: MockGemini;
  let stack: Stack;
  let browser: Browser;
  let data: Seeded;

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    mock = await startMockGemini();
    [stack, browser] = await Promise.all([
      Stack.start({ geminiBaseUrl: mock.url, env: { LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_SECONDS: '3600' } }),
      launchBrowser(),
    ]);
    data = await seed(stack, mock);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await mock?.close();
  });

  async function shoot(page: Page, name: string, phone: boolean): Promise<void> {
    await page.evaluate('document.fonts.ready.then(() => true)');
    await page.screenshot({ path: join(OUT, `${name}-${phone ? 'phone' : 'desktop'}.png`) });
  }

  for (const phone of [false, true]) {
    it(`shoots every page (${phone ? 'phone' : 'desktop'})`, async () => {
      const context = await newContext(browser, stack.adminUrl, phone);
      const page = await context.newPage();
      await page.emulateMedia({ reducedMotion: 'reduce' });

      await page.goto('/');
      await page.getByRole('button', { name: 'Log in' }).waitFor();
      await page.getByLabel('Username').fill('admin');
      await shoot(page, 'login', phone);
      await page.getByLabel('Username').fill('');
      await logIn(page, stack.adminUsername, stack.adminPassword);

      await page.getByRole('heading', { name: 'Pool health' }).waitFor();
      await page.locator('.health-bar').waitFor();
      await waitForText(page.locator('.live-badge'), 'Live');
      await shoot(page, 'dashboard', phone);

      const slow = slowRequests(stack, mock, data.laptopSecret, 3, 6000);
      await page.goto('/status');
      await page.locator('.in-use.busy').first().waitFor();
      await page.locator('.cooldowns').first().waitFor();
      if (phone) await page.locator('tbody tr', { hasText: 'Cooldown' }).first().scrollIntoViewIfNeeded();
      await shoot(page, 'pool', phone);
      await slow;

      await page.goto('/auth-keys');
      await page.locator('tbody tr').first().waitFor();
      if (!phone) {
        await page.getByRole('textbox', { name: 'Name', exact: true }).fill('docs-example');
        await page.getByRole('button', { name: 'Create key' }).click();
        await page.getByLabel('Secret key').waitFor();
      }
      await waitForText(page.locator('.live-badge'), 'Live');
      await shoot(page, 'user-keys', phone);

      await page.goto('/logs');
      await page.locator('tbody tr').first().waitFor();
      await waitForText(page.locator('.live-badge'), 'Live');
      await shoot(page, 'logs', phone);

      await page.getByRole('tab', { name: 'Service logs' }).click();
      await page.locator('.lines li').first().waitFor();
      await waitForText(page.locator('.live-badge'), 'Live');
      await shoot(page, 'service-logs', phone);

      await page.goto('/users');
      await page.locator('tbody tr', { hasText: 'carol' }).waitFor();
      await shoot(page, 'users', phone);

      await page.goto('/settings');
      await page.getByLabel('Attempts per request').waitFor();
      await shoot(page, 'settings', phone);

      if (phone) {
        await page.getByRole('button', { name: 'Menu' }).click();
        await page.getByRole('navigation', { name: 'Main' }).waitFor({ state: 'visible' });
        await shoot(page, 'menu', phone);
      }
      await context.close();
    }, 60_000);
  }
});
