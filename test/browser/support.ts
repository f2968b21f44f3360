/**
 * Browser test support: Debian's Chromium driven by playwright-core (never a downloaded browser), and small
 * waiting helpers, since playwright-core has no `expect`: every check is an auto-waiting locator.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { poll } from '@gg/testing';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (scripts/test.sh does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export async function newContext(browser: Browser, baseURL: string, phone = false): Promise<BrowserContext> {
  const context = await browser.newContext({
    baseURL,
    viewport: phone ? PHONE : DESKTOP,
    deviceScaleFactor: 1,
    isMobile: phone,
    hasTouch: phone,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(10_000);
  return context;
}

/** Log in on /login (wherever the app sent us) and wait until the app has left the login page. */
export async function logIn(page: Page, username: string, password: string, expectSuccess = true): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  if (expectSuccess) await page.waitForURL((url) => url.pathname !== '/login');
}

/** Wait until the locator's text matches (auto-waiting, no sleep). */
export async function waitForText(locator: Locator, text: RegExp | string, timeout = 10_000): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ state: 'visible', timeout });
}

/** Wait until `locator` matches exactly `count` elements. */
export async function waitForCount(locator: Locator, count: number, timeout = 10_000): Promise<void> {
  await poll(
    () => locator.count(),
    (n) => n === count,
    timeout,
    `${count} elements`,
  );
}

/** A key shaped like a Gemini key (the scripted upstream accepts any `AIza…`). */
export function fakeGeminiKey(): string {
  return 'AIza' + randomBytes(26).toString('base64url').slice(0, 35);
}

export function maskOf(key: string): string {
  return `${key.slice(0, 4)}…${key.slice(-4)}`;
}

/** A link of the main navigation (sidebar or drawer). */
export function nav(page: Page, label: string): Locator {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true });
}
