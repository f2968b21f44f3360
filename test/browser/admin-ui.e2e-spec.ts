/**
 * The admin SPA in a real browser (Debian's Chromium through playwright-core) against a real stack: log in,
 * fill the pool, create a user key, call the gateway with it through @google/genai, and watch the call count
 * and the request log move without a reload; an upstream proxy added (credentials never shown) and a key bound to
 * it; the phone layout; a user who is not an admin; a user who changes her own password.
 */
import { GoogleGenAI } from '@google/genai';
import { startHttpProxy, startMockGemini, Stack, type MockGemini, type TestProxy } from '@gg/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { fakeGeminiKey, launchBrowser, logIn, maskOf, nav, newContext, waitForCount, waitForText } from './support';

delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
jest.setTimeout(60_000);

describe('admin UI in the browser', () => {
  let mock: MockGemini;
  let proxy: TestProxy;
  let stack: Stack;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  let secret = '';
  const pool = [fakeGeminiKey(), fakeGeminiKey(), fakeGeminiKey()];
  const alice = { username: 'alice', password: 'alice-password-1' };

  beforeAll(async () => {
    mock = await startMockGemini();
    // a working proxy: the calls of later cases go out through it while it is in the list
    proxy = await startHttpProxy({ auth: { user: 'ui', password: 'proxy-secret-pw' } });
    [stack, browser] = await Promise.all([
      Stack.start({ geminiBaseUrl: mock.url, env: { LOG_LEVEL: 'info' } }),
      launchBrowser(),
    ]);
    admin = await newContext(browser, stack.adminUrl);
    page = await admin.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await mock?.close();
    await proxy?.close();
  });

  it('sends a visitor to the login page and, after login, back to the page asked for', async () => {
    await page.goto('/auth-keys');
    await page.waitForURL('**/login?next=%2Fauth-keys');
    await logIn(page, stack.adminUsername, 'not-the-password', false);
    await waitForText(page.getByRole('alert'), 'Wrong username or password.');

    await logIn(page, stack.adminUsername, stack.adminPassword);
    await page.waitForURL('**/auth-keys');
    await page.getByRole('heading', { level: 1, name: 'User keys' }).waitFor();
    // the nav shows where we are
    await waitForText(page.locator('nav a[aria-current="page"]'), 'User keys');
  });

  it('adds many pool keys from one box and lists them with their state', async () => {
    await nav(page, 'Pool').click();
    await page.getByRole('heading', { level: 1, name: 'Pool' }).waitFor();
    await page
      .getByLabel('Keys, one per line or separated by commas')
      .fill(`${pool[0]}\n${pool[1]}, ${pool[2]}\n${pool[0]}`);
    await page.getByRole('button', { name: 'Add 4 keys' }).click();
    await waitForText(page.locator('.toast'), 'Added 3, 1 duplicate, 0 invalid.');
    const rows = page.locator('table tbody tr');
    await waitForCount(rows, 3);
    for (const key of pool) await waitForText(rows.filter({ hasText: maskOf(key) }), 'Active');
    // secrets never reach the page
    expect(await page.content()).not.toContain(pool[0]);
  });

  it('adds an upstream proxy, shown masked, and binds a pool key to it', async () => {
    await nav(page, 'Proxies').click();
    await page.getByRole('heading', { level: 1, name: 'Proxies' }).waitFor();
    const input = page.getByLabel('Proxy URL');
    await input.fill('ftp://nowhere');
    await waitForText(page.locator('#proxy-url-hint'), 'url must use http:, https:, socks5:');
    await input.fill(proxy.url);
    await page.getByRole('button', { name: 'Add proxy' }).click();
    const shown = proxy.url.replace(':proxy-secret-pw@', ':***@');
    await waitForText(page.locator('.toast'), `Proxy ${shown} added`);
    const row = page.locator('table tbody tr').filter({ hasText: shown });
    await waitForText(row, 'Active');
    // every pool key goes through it, the only proxy
    await waitForText(row.locator('td[data-label="Keys"]'), /^\s*3\s*$/);
    expect(await input.inputValue()).toBe('');

    await nav(page, 'Pool').click();
    const select = page.getByLabel(`Proxy of ${maskOf(pool[0])}`);
    // the column names proxies by host:port, the whole masked URL on hover
    await select.selectOption({ label: new URL(proxy.url).host });
    await waitForText(page.locator('.toast'), `Key ${maskOf(pool[0])} goes through ${shown}.`);
    await nav(page, 'Proxies').click();
    await waitForText(page.locator('table tbody tr').filter({ hasText: shown }), '(1 bound)');
    // the password never reaches the page
    expect(await page.content()).not.toContain('proxy-secret-pw');
  });

  it('creates a user key, shows it once, and counts calls made with it without a reload', async () => {
    await nav(page, 'User keys').click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('browser-laptop');
    await page.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByLabel('Secret key');
    await shown.waitFor();
    secret = (await shown.textContent())?.trim() ?? '';
    expect(secret).toMatch(/^gg1-/);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await shown.waitFor({ state: 'detached' });

    const row = page.locator('tbody tr', { hasText: 'browser-laptop' });
    const calls = row.getByTestId('call-count');
    await waitForText(calls, /^0$/);
    await waitForText(page.locator('.live-badge'), 'Live');

    const ai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: stack.gatewayUrl } });
    const r = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hello from the browser test' });
    expect(r.text).toContain('hello from the browser test');
    await waitForText(calls, /^1$/);

    await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'second call' });
    await waitForText(calls, /^2$/);
    expect(page.url()).toMatch(/\/auth-keys$/);
  });

  it('shows each request in the log view as it happens', async () => {
    await nav(page, 'Logs').click();
    const rows = page.locator('table tbody tr');
    await waitForCount(rows, 2);
    await waitForText(page.locator('.live-badge'), 'Live');

    const ai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: stack.gatewayUrl } });
    await ai.models.generateContent({ model: 'gemini-2.5-pro', contents: 'third call' });
    await waitForCount(rows, 3);
    await waitForText(rows.first(), 'gemini-2.5-pro');
    await waitForText(rows.first(), 'browser-laptop');
    await waitForText(rows.first(), '200');

    // admins also read every app's log
    await page.getByRole('tab', { name: 'Service logs' }).click();
    await page.getByRole('heading', { name: 'Service logs' }).waitFor();
    await page.locator('.lines li').first().waitFor();

    // the dashboard counts the calls from the request log
    await nav(page, 'Dashboard').click();
    await waitForText(page.getByTestId('kpi-requests'), /^3$/);
    await waitForText(page.locator('.top-keys'), 'browser-laptop');
  });

  it("links a request-log row to that request's lines in the service logs", async () => {
    // the first attempt meets a key Google refuses: key-pool logs that it disables the key, naming the request
    mock.script({ type: 'invalidKey', times: 1 });
    await nav(page, 'Logs').click();
    const rows = page.locator('table tbody tr');
    await waitForCount(rows, 3);
    await waitForText(page.locator('.live-badge'), 'Live');
    const ai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: stack.gatewayUrl } });
    const r = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'a refused key first' });
    const requestId = r.sdkHttpResponse?.headers?.['x-request-id'] ?? '';
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    await waitForCount(rows, 4);

    await rows.first().getByRole('link', { name: 'Service logs' }).click();
    await page.waitForURL((url) => url.searchParams.get('requestId') === requestId);
    expect(await page.getByLabel('Request id').inputValue()).toBe(requestId);
    const lines = page.locator('.lines li');
    await waitForText(lines, 'pool key disabled');
    // that request's lines only
    for (const text of await lines.allTextContents()) expect(text).toContain(requestId);
  });

  it('lets an admin create a user who then sees no admin page', async () => {
    await nav(page, 'Users').click();
    // the list is loaded (and the form will not re-render under the typing) once the admin's own row is there
    await page.locator('tbody tr', { hasText: stack.adminUsername }).first().waitFor();
    await page.getByLabel('Username').fill(alice.username);
    await page.getByLabel('Password', { exact: true }).fill(alice.password);
    await page.getByRole('button', { name: 'Create user' }).click();
    await waitForText(page.locator('.toast'), `User "${alice.username}" created.`);
    await waitForText(page.locator('tbody tr', { hasText: alice.username }), 'Active');

    const context = await newContext(browser, stack.adminUrl);
    try {
      const own = await context.newPage();
      await own.goto('/');
      await logIn(own, alice.username, alice.password);
      await own.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
      const nav = own.getByRole('navigation', { name: 'Main' });
      await waitForText(nav, 'User keys');
      expect((await nav.getByRole('link').allTextContents()).map((t) => t.trim())).toEqual([
        'Dashboard',
        'User keys',
        'Logs',
      ]);
      await waitForText(own.locator('.user-chip'), 'user');

      await own.goto('/status');
      await waitForText(own.getByRole('alert'), 'Admins only.');
      expect(await own.locator('table').count()).toBe(0);
      await own.goto('/users');
      await waitForText(own.getByRole('alert'), 'Admins only.');
      await own.goto('/logs');
      await own.getByRole('heading', { name: 'Requests' }).waitFor();
      expect(await own.getByRole('tab', { name: 'Service logs' }).count()).toBe(0);
      // and the admin's requests are not hers
      await waitForText(own.locator('.state-empty'), 'No requests yet.');
    } finally {
      await context.close();
    }
  });

  it('lets a user change her own password: signed out, then only the new one works', async () => {
    const carol = { username: 'carol', password: 'carol-password-1', newPassword: 'carol-password-2' };
    // come to /users afresh (the previous test leaves the page there), then wait for its list before typing
    await nav(page, 'Dashboard').click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await nav(page, 'Users').click();
    await page.locator('tbody tr', { hasText: stack.adminUsername }).first().waitFor();
    await page.getByLabel('Username').fill(carol.username);
    await page.getByLabel('Password', { exact: true }).fill(carol.password);
    await page.getByRole('button', { name: 'Create user' }).click();
    await waitForText(page.locator('.toast'), `User "${carol.username}" created.`);

    const context = await newContext(browser, stack.adminUrl);
    try {
      const own = await context.newPage();
      await own.goto('/');
      await logIn(own, carol.username, carol.password);
      await own.getByRole('button', { name: 'Change password' }).click();
      const dialog = own.getByRole('dialog', { name: 'Change password' });
      const fill = async (current: string, next: string, confirm: string): Promise<void> => {
        await dialog.getByLabel('Current password').fill(current);
        await dialog.getByLabel('New password', { exact: true }).fill(next);
        await dialog.getByLabel('Confirm new password').fill(confirm);
        await dialog.getByRole('button', { name: 'Change password' }).click();
      };
      await fill(carol.password, carol.newPassword, 'something-else');
      await waitForText(dialog.getByRole('alert'), 'The two new passwords do not match.');
      await fill('not-my-password', carol.newPassword, carol.newPassword);
      await waitForText(dialog.getByRole('alert'), 'current password is wrong');
      expect(new URL(own.url()).pathname).toBe('/');

      await fill(carol.password, carol.newPassword, carol.newPassword);
      await own.waitForURL((url) => url.pathname === '/login' && url.search === '');
      await waitForText(own.locator('.toast-success'), 'Password changed — sign in with your new password.');
      expect(await own.locator('.toast-error').count()).toBe(0);

      await logIn(own, carol.username, carol.password, false);
      await waitForText(own.getByRole('alert'), 'Wrong username or password.');
      await logIn(own, carol.username, carol.newPassword);
      await own.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
      await waitForText(own.locator('.user-chip'), carol.username);
    } finally {
      await context.close();
    }
  });

  it('fits a phone: the navigation is a drawer behind the menu button', async () => {
    const context = await newContext(browser, stack.adminUrl, true);
    try {
      const phone = await context.newPage();
      await phone.goto('/status');
      await logIn(phone, stack.adminUsername, stack.adminPassword);
      await phone.getByRole('heading', { level: 1, name: 'Pool' }).waitFor();
      const nav = phone.getByRole('navigation', { name: 'Main' });
      await nav.waitFor({ state: 'hidden' });
      const menu = phone.getByRole('button', { name: 'Menu' });
      await menu.click();
      await nav.waitFor({ state: 'visible' });
      expect(await menu.getAttribute('aria-expanded')).toBe('true');
      await nav.getByRole('link', { name: 'User keys' }).click();
      await phone.waitForURL('**/auth-keys');
      await nav.waitFor({ state: 'hidden' });
      // the table turns into cards: no sideways scrolling
      await phone.locator('tbody tr', { hasText: 'browser-laptop' }).waitFor();
      const overflow = Number(await phone.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
      expect(overflow).toBeLessThanOrEqual(0);
      // the header keeps the password change in reach (a lock button named "Change password")
      await phone.getByRole('banner').getByRole('button', { name: 'Change password' }).waitFor();
    } finally {
      await context.close();
    }
  });
});
