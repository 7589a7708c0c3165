/**
 * "Your current call" end to end (issue 7): a real media gateway on loopback with our own SIP user agents, the
 * console in Chromium. The agent's SIP identity (set by an admin) matches the agent leg of a live call, which the
 * new-payment form preselects; starting the payment binds the session to the call (secure mode on), and the
 * caller's keypad (SIP INFO through the gateway) fills the masked rows. Another agent's call is listed but not
 * preselected, and the server refuses it anyway.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { PaymentDigitBinder, registerCallRoutes } from '../../src/gateway/index.ts';
import type { Dialog } from '../../src/sip/dialogs/index.ts';
import { createUser, enrol, FakeClock, startSecureServer, SYSTEM_CTX, type SecureServer, type TestUser } from '../auth/helpers.ts';
import { startCallLab, type CallLab } from '../gateway/support/call-lab.ts';
import { lazyCallWiring } from '../gateway/support/lazy-call-access.ts';
import { assertAxeClean, assertNoCardData, DEEP_HTML, DEEP_TEXT, launchChromium, shotsDir, signIn } from './support/browser.ts';

const PAN = '4111111111111111';
const CVV = '737';
const EXPIRY = `12${String((new Date().getUTCFullYear() + 2) % 100).padStart(2, '0')}`;
const SHOTS = shotsDir('agent-current-call');

describe('agent panel: your current call', { timeout: 90_000 }, () => {
  let lab: CallLab;
  let s: SecureServer;
  let alice: TestUser;
  let browser: Browser;
  let page: Page;
  let aliceDialog: Dialog;
  const pageErrors: string[] = [];
  const frames: string[] = [];

  before(async () => {
    let binder: PaymentDigitBinder | null = null;
    lab = await startCallLab(['alice', 'bob'], { onSecureDigit: (call, digit) => binder?.sink(call, digit) });
    const wiring = lazyCallWiring();
    s = await startSecureServer({
      clock: new FakeClock(Date.now()), build: { console: true },
      routes: (app) => registerCallRoutes(app, lab.gateway.b2bua.registry, wiring.sessions, wiring.access),
    });
    wiring.bind(s);
    assert.ok(s.payments !== null && s.security !== null);
    binder = new PaymentDigitBinder(s.payments);
    alice = await createUser(s, 'alice', 'agent', { merchantId: 'acme' });
    await enrol(s, alice);
    await s.security.auth.updateUser(alice.user.id, { sipUri: 'sip:alice@127.0.0.1' }, SYSTEM_CTX);
    const bob = await createUser(s, 'bob', 'agent', { merchantId: 'acme' });
    await s.security.auth.updateUser(bob.user.id, { sipUri: 'sip:bob@127.0.0.1' }, SYSTEM_CTX);
    await lab.call('bob', '<sip:+441110000000@example.com>');
    aliceDialog = await lab.call('alice', '<sip:+447700900123@example.com>');
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 360, height: 900 } })).newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => { pageErrors.push(String(e)); });
    page.on('console', (m) => { if (m.type() === 'error' && !m.text().includes('status of 401')) pageErrors.push(m.text()); });
    page.on('websocket', (ws) => { ws.on('framereceived', (f) => { frames.push(String(f.payload)); }); });
  });

  after(async () => {
    await browser?.close();
    await lab?.close();
    await s?.close();
  });

  const row = (field: string) => page.locator(`li.field[data-field="${field}"]`);
  async function press(digits: string): Promise<void> {
    for (const k of digits) {
      const r = await aliceDialog.info(`Signal=${k}\r\nDuration=160\r\n`, 'application/dtmf-relay');
      assert.equal(r.status, 200);
    }
  }

  test('the agent\'s own call is preselected, the payment binds it, the caller\'s keypad fills the rows', async () => {
    await signIn(page, s, alice);
    await page.getByRole('heading', { name: 'New secure payment' }).waitFor();
    const mine = page.getByRole('radio', { name: /Your current call from \+447700900123@example\.com/ });
    await mine.waitFor();
    assert.equal(await mine.isChecked(), true, 'preselected');
    const other = page.getByRole('radio', { name: /^Call from \+441110000000@example\.com/ });
    assert.equal(await other.isChecked(), false, 'another agent\'s call is listed, not chosen');
    assert.equal(await page.getByLabel('Call ID').count(), 0, 'no typed call id with a gateway');
    // focus order: the preselected call first
    assert.equal(await page.evaluate(`document.querySelector('cardline-agent-panel').shadowRoot.activeElement?.value`), (await mine.inputValue()));
    await page.getByLabel('Amount').fill('42.50');
    await page.screenshot({ path: join(SHOTS, '01-new-payment-current-call.png'), fullPage: true });
    await assertAxeClean(page, 'new payment with calls');
    assert.ok(await page.evaluate('document.documentElement.scrollWidth') as number <= 360);

    await page.getByRole('button', { name: 'Start secure payment' }).click();
    await page.getByRole('heading', { name: /Secure payment £42\.50/ }).waitFor();
    const calls = (await (await fetch(`${s.url}/v1/calls`, { headers: s.auth })).json() as { calls: { id: string; agent: string; secure: boolean; paymentSessionId: string | null }[] }).calls;
    const bound = calls.find((c) => c.agent.startsWith('sip:alice@'));
    assert.ok(bound?.secure && bound.paymentSessionId !== null, 'secure mode on, bound to the session');
    assert.equal(calls.find((c) => c.agent.startsWith('sip:bob@'))?.secure, false);
    const session = await (await fetch(`${s.url}/v1/sessions/${bound.paymentSessionId}`, { headers: s.auth })).json() as { callId: string; createdBy: string };
    assert.deepEqual([session.callId, session.createdBy], [bound.id, alice.user.id]);

    // the caller types on the phone: SIP INFO through the gateway to the bound session, masked in the panel
    await press(`${PAN}#`);
    await row('card-number').and(page.locator('[data-state="valid"]')).waitFor();
    assert.match(await row('card-number').textContent() ?? '', /Visa[\s\S]*Ends 1111/);
    await press(`${EXPIRY}#${CVV}#`);
    await page.getByTestId('status').filter({ hasText: 'All details captured — press Pay' }).waitFor();
    await page.screenshot({ path: join(SHOTS, '02-ready-from-keypad.png'), fullPage: true });
    await page.keyboard.press('Alt+KeyP');
    await page.getByRole('heading', { name: 'Payment successful' }).waitFor();

    for (const [name, blob] of [['html', await page.evaluate(DEEP_HTML) as string], ['text', await page.evaluate(DEEP_TEXT) as string], ['frames', frames.join('\n')]] as const) {
      assertNoCardData(name, blob, [PAN], CVV, [bound.id, bound.paymentSessionId ?? '']);
    }
    assert.deepEqual(pageErrors, []);
  });
});
