/**
 * The agent panel in each state, at 360 px (a CRM side bar) and 1280 px, into test-results/agent-states/ — with, at
 * every shot, axe-core clean, no sideways scroll at 360 px, and the page's HTML and text (shadow roots included)
 * free of every test PAN and the security code. Reconnecting and embedded states are shot by their own tests
 * (agent-reconnect, embed); success by agent-panel.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { totp } from '../../src/auth/index.ts';
import { createUser, enrol, FakeClock, startSecureServer, type SecureServer, type TestUser } from '../auth/helpers.ts';
import { assertAxeClean, assertNoCardData, DEEP_HTML, DEEP_TEXT, launchChromium, shotsDir } from './support/browser.ts';

const BAD = '4111111111111112';
const DECLINED = '4000000000000002'; // sandbox: card-declined
const SLOW = '4000000000000077'; // sandbox: answers after a minute, so "submitting" stays on screen
const CVV = '737';
const EXPIRY = `12${String((new Date().getUTCFullYear() + 2) % 100).padStart(2, '0')}`;
const SHOTS = shotsDir('agent-states');

describe('agent panel states, narrow and wide', { timeout: 120_000 }, () => {
  let s: SecureServer;
  let agent: TestUser;
  let browser: Browser;
  let page: Page;
  const ids: string[] = [];

  before(async () => {
    s = await startSecureServer({ clock: new FakeClock(Date.now()), build: { console: true } });
    agent = await createUser(s, 'agent.nia', 'agent', { merchantId: 'acme' });
    await enrol(s, agent);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 360, height: 900 } })).newPage();
    page.setDefaultTimeout(15_000);
  });

  after(async () => {
    await browser?.close();
    await s?.close();
  });

  let n = 0;
  async function both(state: string): Promise<void> {
    n++;
    const name = `${String(n).padStart(2, '0')}-${state}`;
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
      if (width === 360) assert.ok(await page.evaluate('document.documentElement.scrollWidth') as number <= 360, `${state}: sideways scroll`);
    }
    await page.setViewportSize({ width: 360, height: 900 });
    await assertAxeClean(page, state);
    for (const [what, blob] of [['html', await page.evaluate(DEEP_HTML) as string], ['text', await page.evaluate(DEEP_TEXT) as string]] as const) {
      assertNoCardData(`${state} ${what}`, blob, [BAD, DECLINED, SLOW], CVV, ids);
    }
  }
  const row = (field: string) => page.locator(`li.field[data-field="${field}"]`);
  async function feed(digits: string): Promise<void> {
    const r = await fetch(`${s.url}/v1/sessions/${ids.at(-1)}/digits`, { method: 'POST', headers: { ...s.auth, 'content-type': 'application/json' }, body: JSON.stringify({ digits }) });
    assert.equal(r.status, 200, await r.text());
  }
  async function start(callId: string, amount: string): Promise<void> {
    await page.getByLabel('Call ID').fill(callId);
    await page.getByLabel('Amount').fill(amount);
    await page.getByRole('button', { name: 'Start secure payment' }).click();
    await page.getByRole('heading', { name: /Secure payment/ }).waitFor();
    ids.push(await page.evaluate(`document.querySelector('cardline-agent-panel').session.id`) as string);
  }

  test('every state of a payment', async () => {
    await page.goto(`${s.url}/console/`);
    await page.getByLabel('Username').waitFor();
    await both('login');
    await page.getByLabel('Username').fill(agent.user.username);
    await page.getByLabel('Password').fill(agent.password);
    await page.keyboard.press('Enter');
    await page.getByLabel('6-digit code from your authenticator app').waitFor();
    await both('mfa');
    await page.getByLabel('6-digit code from your authenticator app').fill(totp(agent.secret!, s.clock.now()));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'New secure payment' }).waitFor();
    await both('new-payment');

    await start('call-st-1', '30.00');
    await row('card-number').and(page.locator('[data-state="waiting"]')).waitFor();
    await both('waiting');
    await feed(BAD.slice(0, 8));
    await row('card-number').and(page.locator('[data-state="entering"]')).waitFor();
    await both('entering');
    await feed(`${BAD.slice(8)}#`);
    await page.getByTestId('current-error').filter({ hasText: 'That card number is not valid' }).waitFor();
    await both('invalid-with-error');
    await feed('40');
    await row('card-number').and(page.locator('[data-state="re-capture"]')).waitFor();
    await both('re-capture');
    await page.keyboard.press('Alt+Digit1');
    await row('card-number').and(page.locator('[data-state="waiting"]')).waitFor();
    await feed(`${DECLINED}#${EXPIRY}#${CVV}#`);
    await row('security-code').and(page.locator('[data-state="valid"]')).waitFor();
    await both('valid-ready');
    await page.keyboard.press('Alt+KeyP');
    await page.getByRole('heading', { name: 'Payment failed' }).waitFor();
    assert.match(await page.locator('cardline-agent-panel section').textContent() ?? '', /declined/i);
    await both('result-declined');

    await page.keyboard.press('Alt+KeyN');
    await page.getByRole('heading', { name: 'New secure payment' }).waitFor();
    await start('call-st-2', '9.99');
    await feed(`${SLOW}#${EXPIRY}#${CVV}#`);
    await page.getByTestId('status').filter({ hasText: 'All details captured — press Pay' }).waitFor();
    await page.keyboard.press('Alt+KeyP');
    await page.getByTestId('status').filter({ hasText: 'Paying…' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Pay/ }).isDisabled(), true, 'no second Pay while submitting');
    await both('submitting');
  });
});
