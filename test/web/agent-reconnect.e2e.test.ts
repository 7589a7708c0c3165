/**
 * Live-panel robustness in Chromium (issue 7): the server drops the panel's WebSocket mid-entry while the browser
 * cannot reconnect (offline), the caller keeps typing; the panel says it is reconnecting (an aria-live status),
 * and once back it resumes from the server's snapshot — the digits typed meanwhile shown, no row twice, no state
 * lost. Screenshots at 360 px and 1280 px of the reconnecting state go to test-results/agent-reconnect/.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createUser, enrol, FakeClock, startSecureServer, type SecureServer, type TestUser } from '../auth/helpers.ts';
import { assertAxeClean, assertNoCardData, DEEP_HTML, launchChromium, shotsDir, signIn } from './support/browser.ts';

const PAN = '5555555555554444';
const SHOTS = shotsDir('agent-reconnect');

describe('agent panel: WebSocket dropped mid-entry', { timeout: 90_000 }, () => {
  let s: SecureServer;
  let agent: TestUser;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const frames: string[] = [];
  let sockets = 0;

  before(async () => {
    s = await startSecureServer({ clock: new FakeClock(Date.now()), build: { console: true } });
    agent = await createUser(s, 'agent.rita', 'agent', { merchantId: 'acme' });
    await enrol(s, agent);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 360, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('websocket', (ws) => { sockets++; ws.on('framereceived', (f) => { frames.push(String(f.payload)); }); });
  });

  after(async () => {
    await browser?.close();
    await s?.close();
  });

  const row = (field: string) => page.locator(`li.field[data-field="${field}"]`);
  async function feed(id: string, digits: string): Promise<void> {
    const r = await fetch(`${s.url}/v1/sessions/${id}/digits`, { method: 'POST', headers: { ...s.auth, 'content-type': 'application/json' }, body: JSON.stringify({ digits }) });
    assert.equal(r.status, 200, await r.text());
  }

  test('reconnects with back-off, shows it, and resumes from the snapshot', async () => {
    await signIn(page, s, agent);
    await page.getByRole('heading', { name: 'New secure payment' }).waitFor();
    await page.getByLabel('Call ID').fill('call-rc-1');
    await page.getByLabel('Amount').fill('7.25');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /Secure payment £7\.25/ }).waitFor();
    const id = await page.evaluate(`document.querySelector('cardline-agent-panel').session.id`) as string;
    await feed(id, PAN.slice(0, 4));
    await row('card-number').locator('.dots', { hasText: '••••' }).waitFor();
    const connection = page.getByTestId('connection');
    assert.equal((await connection.textContent())?.trim(), '');
    assert.equal(sockets, 1);

    // the network goes away and the server drops the socket: the panel cannot get back yet
    await context.setOffline(true);
    for (const c of s.app.websocketServer.clients) c.terminate();
    await connection.filter({ hasText: 'Connection lost — reconnecting to live updates…' }).waitFor();
    assert.equal(await connection.getAttribute('role'), 'status', 'announced politely (role=status is aria-live)');
    // the caller goes on typing meanwhile
    await feed(id, `${PAN.slice(4)}#`);
    await page.screenshot({ path: join(SHOTS, '01-reconnecting-360.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: join(SHOTS, '02-reconnecting-1280.png'), fullPage: true });
    await page.setViewportSize({ width: 360, height: 900 });
    assert.ok(await page.evaluate('document.documentElement.scrollWidth') as number <= 360);
    await assertAxeClean(page, 'reconnecting');
    assert.equal(await row('card-number').getAttribute('data-state'), 'entering', 'the panel shows what it last knew');

    // back online: the next try gets the snapshot — card complete, nothing twice
    await context.setOffline(false);
    await row('card-number').and(page.locator('[data-state="valid"]')).waitFor();
    await connection.filter({ hasText: /^\s*$/ }).waitFor({ state: 'attached' });
    assert.match(await row('card-number').textContent() ?? '', /Mastercard[\s\S]*Ends 4444/);
    assert.equal(await page.locator('li.field[data-field="card-number"]').count(), 1);
    assert.equal(await page.locator('li.field').count(), (await (await fetch(`${s.url}/v1/sessions/${id}`, { headers: s.auth })).json() as { fields: unknown[] }).fields.length);
    assert.ok(sockets >= 2, `${sockets} WebSockets`);
    // the commands still work on the resumed stream
    await page.keyboard.press('Alt+KeyX');
    await page.getByRole('heading', { name: 'Payment cancelled' }).waitFor();
    assertNoCardData('frames', frames.join('\n'), [PAN], '000');
    assertNoCardData('html', await page.evaluate(DEEP_HTML) as string, [PAN], '000');
  });
});
