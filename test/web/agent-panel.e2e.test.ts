import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { totp } from '../../src/auth/index.ts';
import { createUser, enrol, FakeClock, startSecureServer, type SecureServer, type TestUser } from '../auth/helpers.ts';
import { assertAxeClean, assertNoCardData, DEEP_HTML, DEEP_TEXT, launchChromium, shotsDir, signIn as signInAs } from './support/browser.ts';

/**
 * The agent console end to end in real Chromium (Debian's, driven by playwright-core) against the real server on
 * 127.0.0.1:0 over a real SQLite file: TOTP sign-in, a payment for a call, the caller's keypad fed through the
 * API with a service key as the media layer does, masked live rows, a bad Luhn and its re-capture, Pay, result.
 * Screenshots of every state go to test-results/agent-panel/. The page (light DOM and shadow roots), its text,
 * every WebSocket frame and every API response are checked for the test PAN and security code.
 */
const PAN = '4111111111111111';
const BAD_PAN = '4111111111111112'; // Luhn check digit off by one
const CVV = '737';
const yy = String((new Date().getUTCFullYear() + 2) % 100).padStart(2, '0');
const EXPIRY = `12${yy}`;
const SHOTS = shotsDir('agent-panel');

describe('agent console in Chromium', { timeout: 90_000 }, () => {
  let s: SecureServer;
  let agent: TestUser;
  let supervisor: TestUser;
  let auditor: TestUser;
  let admin: TestUser;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const frames: string[] = [];
  const bodies: string[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    // the browser drops cookies whose expiry is in its past: the security clock starts at the real time
    s = await startSecureServer({ clock: new FakeClock(Date.now()), build: { console: true } });
    const security = s.security;
    assert.ok(security !== null);
    agent = await createUser(s, 'agent.alice', 'agent', { merchantId: 'acme', teamId: 'team-1' });
    await enrol(s, agent);
    supervisor = await createUser(s, 'sup.sam', 'supervisor', { merchantId: 'acme', teamId: 'team-1' });
    await enrol(s, supervisor);
    auditor = await createUser(s, 'audit.ann', 'auditor');
    await enrol(s, auditor);
    admin = await createUser(s, 'admin.ada', 'admin');
    await enrol(s, admin);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 360, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (e) => { pageErrors.push(String(e)); });
    // console errors include CSP violations; the expected failures are the signed-out probe of /v1/auth/me (401)
    // and the one probe of /v1/calls on a server without a media gateway (404)
    page.on('console', (m) => { if (m.type() === 'error' && !/status of (401|404)/.test(m.text())) pageErrors.push(m.text()); });
    page.on('websocket', (ws) => { ws.on('framereceived', (f) => { frames.push(String(f.payload)); }); });
    page.on('response', (r) => {
      if (r.url().includes('/v1/')) r.text().then((t) => { bodies.push(t); }, () => { /* upgrade or aborted */ });
    });
  });

  after(async () => {
    await browser?.close();
    await s?.close();
  });

  const panel = () => page.locator('cardline-agent-panel');
  const row = (field: string) => page.locator(`li.field[data-field="${field}"]`);
  /** a screenshot, and the check that the view fits the 360 px side panel without scrolling sideways */
  async function shot(name: string, p: Page = page): Promise<void> {
    await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    const width = await p.evaluate('document.documentElement.scrollWidth') as number;
    assert.ok(width <= 360, `${name}: ${width} px wide`);
  }
  async function feed(id: string, digits: string): Promise<void> {
    const r = await fetch(`${s.url}/v1/sessions/${id}/digits`, {
      method: 'POST', headers: { ...s.auth, 'content-type': 'application/json' }, body: JSON.stringify({ digits }),
    });
    assert.equal(r.status, 200, await r.text());
  }
  const signIn = (p: Page, u: TestUser) => signInAs(p, s, u);
  const axe = (label: string, p: Page = page) => assertAxeClean(p, label);

  test('sign in with password and TOTP, take a payment with a bad card number, re-capture, Pay, see the result', async () => {
    await page.goto(`${s.url}/console/`);
    await page.getByLabel('Username').waitFor();
    await shot('01-login');
    await axe('login');
    // keyboard only: the username has focus, Tab goes to the password, then to Sign in; Enter submits
    const focused = () => page.evaluate(`(() => { const a = document.querySelector('cardline-agent-panel').shadowRoot.activeElement; return a ? (a.id || a.textContent.trim()) : null; })()`);
    assert.equal(await focused(), 'username');
    await page.keyboard.type(agent.user.username);
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'password');
    await page.keyboard.type(agent.password);
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'Sign in');
    await page.keyboard.press('Enter');

    const code = page.getByLabel('6-digit code from your authenticator app');
    await code.waitFor();
    // focus order: the code field has focus as soon as the step appears
    assert.equal(await page.evaluate(`document.querySelector('cardline-agent-panel').shadowRoot.activeElement?.id`), 'code');
    await shot('02-mfa');
    assert.ok(agent.secret !== null);
    await code.fill(totp(agent.secret, s.clock.now()));
    await page.keyboard.press('Enter');

    await page.getByRole('heading', { name: 'New secure payment' }).waitFor().catch(async (e: unknown) => {
      throw new Error(`after MFA: "${await panel().locator('[role=alert]').textContent()}"`, { cause: e });
    });
    assert.equal(await page.getByLabel('Merchant').inputValue(), 'acme', 'the agent\'s merchant is prefilled');
    await page.getByLabel('Call ID').fill('call-7001');
    await page.getByLabel('Amount').fill('19.99');
    await page.getByLabel('Reference (optional)').fill('ORDER-7');
    await shot('03-new-payment');
    await page.getByRole('button', { name: 'Start secure payment' }).click();

    await page.getByRole('heading', { name: /Secure payment £19\.99/ }).waitFor();
    const list = await fetch(`${s.url}/v1/sessions?callId=call-7001`, { headers: s.auth });
    const sessions = (await list.json() as { sessions: { id: string; createdBy: string }[] }).sessions;
    assert.equal(sessions.length, 1);
    const id = sessions[0]!.id;
    assert.equal(sessions[0]!.createdBy, agent.user.id, 'created as the signed-in agent (cookie session)');
    await row('card-number').and(page.locator('[data-state="waiting"]')).waitFor();
    await page.getByTestId('status').filter({ hasText: 'The caller is typing: Card number' }).waitFor();
    await shot('04-waiting-for-caller');

    // the caller starts typing: dots only, the brand from the prefix
    await feed(id, BAD_PAN.slice(0, 6));
    await row('card-number').locator('.dots', { hasText: '••••••' }).waitFor();
    assert.match(await row('card-number').textContent() ?? '', /Entering[\s\S]*6 digits entered[\s\S]*Visa[\s\S]*Attempt 1 of 3/);
    await shot('05-entering');

    // the agent reloads the page mid-entry: still signed in (cookie), the open payment is offered and resumed
    // with its masked progress (commands after this use the CSRF token from the readable cookie)
    await page.reload();
    await page.getByRole('heading', { name: 'New secure payment' }).waitFor();
    await page.getByRole('button', { name: 'Resume call call-7001' }).click();
    await row('card-number').locator('.dots', { hasText: '••••••' }).waitFor();

    // a bad Luhn: invalid, the plain-words error, the attempt counted
    await feed(id, `${BAD_PAN.slice(6)}#`);
    await row('card-number').and(page.locator('[data-state="invalid"]')).waitFor();
    const err = 'That card number is not valid — ask the caller to try again';
    assert.match(await row('card-number').textContent() ?? '', /Invalid[\s\S]*0 digits entered[\s\S]*Attempt 2 of 3/);
    assert.equal((await panel().getByTestId('current-error').textContent())?.trim(), err);
    await shot('06-invalid-card-number');

    // the caller types again on their own: shown as a re-capture
    await feed(id, '41');
    await row('card-number').and(page.locator('[data-state="re-capture"]')).waitFor();
    await shot('07-re-capture-by-caller');

    // the agent restarts the field with its shortcut (Alt+1): digits cleared, attempts reset
    await page.keyboard.press('Alt+Digit1');
    await row('card-number').and(page.locator('[data-state="waiting"]')).waitFor();
    assert.match(await row('card-number').textContent() ?? '', /0 digits entered[\s\S]*Attempt 1 of 3/);

    await feed(id, `${PAN}#`);
    await row('card-number').and(page.locator('[data-state="valid"]')).waitFor();
    assert.match(await row('card-number').textContent() ?? '', /Valid[\s\S]*Visa[\s\S]*Ends 1111/);
    await feed(id, `${EXPIRY}#`);
    await row('expiry').and(page.locator('[data-state="valid"]')).waitFor();
    await feed(id, `${CVV}#`);
    await row('security-code').and(page.locator('[data-state="valid"]')).waitFor();
    const pay = page.getByRole('button', { name: /^Pay/ });
    await page.getByTestId('status').filter({ hasText: 'All details captured — press Pay' }).waitFor();
    assert.equal(await pay.isEnabled(), true);
    await shot('08-ready');
    await axe('live panel (ready)');

    // Pay with its shortcut
    await page.keyboard.press('Alt+KeyP');
    await page.getByRole('heading', { name: 'Payment successful' }).waitFor();
    assert.equal((await panel().getByTestId('amount').textContent())?.trim(), '£19.99');
    assert.equal((await panel().getByTestId('card').textContent())?.trim(), 'Visa ending 1111');
    const final = await (await fetch(`${s.url}/v1/sessions/${id}`, { headers: s.auth })).json() as { state: string; result: { token: string | null; authorizationCode: string | null } };
    assert.equal(final.state, 'succeeded');
    const shown = [await panel().getByTestId('token').count() ? (await panel().getByTestId('token').textContent())?.trim() : null,
      await panel().getByTestId('auth-code').count() ? (await panel().getByTestId('auth-code').textContent())?.trim() : null];
    assert.deepEqual(shown, [final.result.token, final.result.authorizationCode]);
    assert.ok(final.result.token !== null || final.result.authorizationCode !== null, 'a token or an authorisation reference is shown');
    await shot('09-result');
    await axe('result');

    // no card data reached the browser: page HTML (with shadow roots), text, WebSocket frames, API responses
    const html = await page.evaluate(DEEP_HTML) as string;
    const text = await page.evaluate(DEEP_TEXT) as string;
    assert.ok(frames.length >= 8, `${frames.length} WebSocket frames`);
    for (const [name, blob] of [['html', html], ['text', text], ['frames', frames.join('\n')], ['responses', bodies.join('\n')]] as const) {
      assertNoCardData(name, blob, [PAN, BAD_PAN], CVV, [id]);
    }
    assert.deepEqual(pageErrors, []);

    // a new payment starts from a clean form (Alt+N); this one the agent cancels (Alt+X)
    await page.keyboard.press('Alt+KeyN');
    await page.getByRole('heading', { name: 'New secure payment' }).waitFor();
    assert.equal(await page.getByLabel('Call ID').inputValue(), '');
    await page.getByLabel('Call ID').fill('call-7002');
    await page.getByLabel('Amount').fill('5');
    await page.getByLabel('Currency').selectOption('EUR');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /Secure payment €5\.00/ }).waitFor();
    await page.keyboard.press('Alt+KeyX');
    await page.getByRole('heading', { name: 'Payment cancelled' }).waitFor();
    await shot('10-cancelled');

    // the UI routes by role; the API is what refuses: an agent's cookie session cannot read the audit trail or users
    const statuses = await page.evaluate(`Promise.all(['/v1/audit/events', '/v1/users', '/v1/audit/verify'].map((u) => fetch(u).then((r) => r.status)))`) as number[];
    assert.deepEqual(statuses, [403, 403, 403]);
  });

  test('a supervisor signs in to the team board: the agent\'s payments, masked, with their outcome; no payment form', async () => {
    const ctx = await browser.newContext({ viewport: { width: 360, height: 900 } });
    try {
      const p = await ctx.newPage();
      p.setDefaultTimeout(10_000);
      await signIn(p, supervisor);
      await p.getByRole('heading', { name: 'Team payments' }).waitFor();
      const paid = p.locator('li[data-state="succeeded"]');
      await paid.waitFor();
      assert.match(await paid.textContent() ?? '', /Call call-7001[\s\S]*Succeeded[\s\S]*£19\.99[\s\S]*Visa ending 1111/);
      await p.locator('li[data-state="cancelled"]', { hasText: 'call-7002' }).waitFor();
      assert.match(await p.getByRole('status').textContent() ?? '', /0 in progress\s*1 succeeded\s*0 failed/);
      assert.equal(await p.getByRole('heading', { name: 'New secure payment' }).count(), 0, 'supervisors take no payments');
      await shot('11-supervisor-board', p);
      const html = await p.evaluate(DEEP_HTML) as string;
      assert.ok(!html.includes(PAN) && !html.includes(BAD_PAN));
      await axe('supervisor board', p);
    } finally {
      await ctx.close();
    }
  });

  test('an auditor sees the chain verified, searches the trail and gets export links for the same filter', async () => {
    const ctx = await browser.newContext({ viewport: { width: 360, height: 900 } });
    try {
      const p = await ctx.newPage();
      p.setDefaultTimeout(10_000);
      await signIn(p, auditor);
      await p.getByRole('heading', { name: 'Audit trail' }).waitFor();
      await p.getByTestId('verify').filter({ hasText: /^Audit chain verified: \d+ records/ }).waitFor();
      await p.getByLabel('Action or prefix').fill('auth.login');
      await p.getByLabel('Actor ID').fill(agent.user.id);
      await p.getByRole('button', { name: 'Search' }).click();
      const rows = p.locator('li[data-seq]');
      await rows.first().filter({ hasText: 'auth.login' }).waitFor();
      const texts = await rows.allTextContents();
      assert.ok(texts.length >= 1 && texts.every((t) => t.includes('auth.login') && t.includes(agent.user.username)), texts.join(' | '));
      const csv = await p.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
      assert.equal(csv, `/v1/audit/export?action=auth.login&actorId=${agent.user.id}&format=csv`);
      // the link works with the browser's cookie session (and is itself audited)
      const body = await p.evaluate(`fetch(${JSON.stringify(csv)}).then((r) => r.status + ' ' + r.headers.get('content-type'))`) as string;
      assert.match(body, /^200 text\/csv/);
      assert.equal(await p.getByRole('heading', { name: 'Team payments' }).count(), 0);
      assert.equal(await p.getByRole('heading', { name: 'New secure payment' }).count(), 0);
      await shot('12-auditor-search', p);
      await axe('audit search', p);
      const html = await p.evaluate(DEEP_HTML) as string;
      assert.ok(!html.includes(PAN) && !html.includes(BAD_PAN));
    } finally {
      await ctx.close();
    }
  });

  test('an admin resets a user\'s MFA (two presses) and disables an account from the users page', async () => {
    const ctx = await browser.newContext({ viewport: { width: 360, height: 900 } });
    try {
      const p = await ctx.newPage();
      p.setDefaultTimeout(10_000);
      await signIn(p, admin);
      await p.getByRole('heading', { name: 'Users' }).waitFor();
      const security = s.security;
      assert.ok(security !== null);
      assert.equal((await security.auth.getUser(agent.user.id)).mfaEnrolled, true);
      const reset = p.getByRole('button', { name: 'Reset MFA for agent.alice' });
      await reset.click();
      await p.getByRole('button', { name: 'Confirm reset for agent.alice' }).click();
      await p.getByRole('status').filter({ hasText: 'MFA reset for agent.alice' }).waitFor();
      assert.equal((await security.auth.getUser(agent.user.id)).mfaEnrolled, false);
      await p.getByRole('button', { name: 'Disable audit.ann' }).click();
      await p.locator('li[data-user="audit.ann"]', { hasText: 'Disabled' }).waitFor();
      assert.equal((await security.auth.getUser(auditor.user.id)).disabled, true);
      await shot('13-admin-users', p);
      await axe('admin users', p);
    } finally {
      await ctx.close();
    }
  });
});
