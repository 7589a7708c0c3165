import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { MerchantId } from '../../src/payments/index.ts';
import { call, createUser, enrol, FakeClock, loginToken, startSecureServer, type SecureServer, type TestUser } from '../auth/helpers.ts';
import { signIn as signInForm } from './support/browser.ts';

/**
 * The back office end to end in real Chromium against the real server over a real SQLite file: an admin signs in
 * with TOTP, creates an API key (shown once, gone after navigating away), sets a connector secret (never again in
 * the DOM, in API answers or in the database file in plain text), changes the masking policy (a bad trigger shows
 * an inline error; the saved one is what the gateway's policy source returns) and edits a price plan; an auditor
 * sees the chain verified, searches, exports, and reads the billing chart (bar counts per seeded day); agents and
 * auditors cannot open admin pages, and the API refuses them. Screenshots in test-results/back-office/; axe-core
 * finds no serious or critical violation on any page.
 */
const SHOTS = join('test-results', 'back-office');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const DEEP_HTML = `(() => {
  const out = [document.documentElement.outerHTML];
  const walk = (root) => { for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { out.push(el.shadowRoot.innerHTML); walk(el.shadowRoot); } };
  walk(document);
  return out.join('\\n');
})()`;
/** values of every input in every shadow root (innerHTML leaves typed values out) */
const DEEP_VALUES = `(() => {
  const out = [];
  const walk = (root) => { for (const el of root.querySelectorAll('*')) { if ('value' in el && typeof el.value === 'string') out.push(el.value); if (el.shadowRoot) walk(el.shadowRoot); } };
  walk(document);
  return out.join('\\n');
})()`;
const STRIPE_SECRET = `sk_test_${randomBytes(18).toString('hex')}`;
const DAY_MS = 86_400_000;
const day = (offset: number) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);
/** seeded transactions per day (offset from today): [succeeded, failed] */
const SEED: readonly (readonly [number, number, number])[] = [[-3, 3, 1], [-2, 0, 0], [-1, 2, 0], [0, 0, 2]];

interface AxeViolation { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }

describe('back office in Chromium', { timeout: 120_000 }, () => {
  let s: SecureServer;
  let admin: TestUser;
  let auditor: TestUser;
  let agent: TestUser;
  let supervisor: TestUser;
  let browser: Browser;
  const pageErrors: string[] = [];
  const bodies: string[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    s = await startSecureServer({ clock: new FakeClock(Date.now()), settings: true, build: { console: true } });
    admin = await createUser(s, 'admin.ada', 'admin');
    await enrol(s, admin);
    auditor = await createUser(s, 'audit.ann', 'auditor');
    await enrol(s, auditor);
    agent = await createUser(s, 'agent.alice', 'agent', { merchantId: 'acme', teamId: 'team-1' });
    await enrol(s, agent);
    supervisor = await createUser(s, 'sup.sam', 'supervisor', { merchantId: 'acme', teamId: 'team-1' });
    await enrol(s, supervisor);
    let n = 0;
    for (const [offset, ok, bad] of SEED) {
      for (const [count, outcome] of [[ok, 'succeeded'], [bad, 'failed']] as const) {
        for (let i = 0; i < count; i++) {
          await s.store.insertUsage({
            id: `us_e2e_${n++}`, merchantId: 'acme' as MerchantId, sessionId: null, transactionId: null, channel: 'agent-assisted', kind: 'transaction',
            outcome, connector: 'sandbox', quantity: 1, occurredAt: `${day(offset)}T00:00:${String(i).padStart(2, '0')}.000Z`,
          });
        }
      }
    }
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await s?.close();
  });

  async function open(width = 1024): Promise<{ ctx: BrowserContext; p: Page }> {
    const ctx = await browser.newContext({ viewport: { width, height: 900 }, acceptDownloads: false });
    const p = await ctx.newPage();
    p.setDefaultTimeout(15_000);
    p.on('pageerror', (e) => { pageErrors.push(String(e)); });
    // HTTP refusals are part of these flows (403s, a 422 shown inline, no gateway: 404); CSP violations and script errors are not
    p.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text()); });
    p.on('response', (r) => { if (r.url().includes('/v1/')) r.text().then((t) => { bodies.push(t); }, () => { /* aborted */ }); });
    return { ctx, p };
  }
  async function signIn(p: Page, u: TestUser, hash = ''): Promise<void> {
    await signInForm(p, s, u, `/console/${hash}`);
    await p.getByRole('button', { name: /Sign out/ }).waitFor();
    // this TOTP step is spent for the user: the next sign-in (API token) needs the next one
    s.clock.advance(30_000);
  }
  async function axe(p: Page, label: string): Promise<void> {
    await p.evaluate(`${AXE_SOURCE};undefined`);
    const violations = await p.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`) as AxeViolation[];
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad, [], `${label}: ${JSON.stringify(bad, null, 1)}`);
  }
  const shot = (p: Page, name: string) => p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const go = async (p: Page, link: string, heading: string) => {
    await p.getByRole('navigation', { name: 'Back office' }).getByRole('link', { name: link }).click();
    await p.getByRole('heading', { name: heading, level: 1 }).waitFor();
  };

  test('admin: users, API key shown once, connector secret write-only, masking policy with inline validation, price plan edit', async () => {
    const { ctx, p } = await open();
    try {
      await signIn(p, admin);
      await p.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
      await p.getByRole('button', { name: 'Unlock agent.alice' }).waitFor();
      await p.getByLabel('New password for agent.alice').waitFor();
      // create a user, change its role, set its password: each reaches the API
      const nickPassword = `Vq7!${randomBytes(9).toString('hex')}#mZ`;
      await p.getByLabel('Username', { exact: true }).fill('new.nick');
      await p.getByLabel('Role', { exact: true }).selectOption('supervisor');
      await p.getByLabel('Initial password').fill(`Zx9!${randomBytes(9).toString('hex')}#qP`);
      await p.getByLabel('Team (optional)').fill('team-1');
      await p.getByRole('button', { name: 'Create user' }).click();
      await p.getByRole('status').filter({ hasText: 'new.nick created as supervisor' }).waitFor();
      await p.getByLabel('Role of new.nick').selectOption('auditor');
      await p.getByRole('status').filter({ hasText: 'new.nick is now auditor' }).waitFor();
      await p.getByLabel('New password for new.nick').fill(nickPassword);
      await p.getByRole('button', { name: 'Set password for new.nick' }).click();
      await p.getByRole('status').filter({ hasText: 'New password set for new.nick' }).waitFor();
      await p.getByRole('button', { name: 'Unlock new.nick' }).click();
      await p.getByRole('status').filter({ hasText: 'new.nick unlocked' }).waitFor();
      const nick = (await s.security!.auth.listUsers({ merchantId: null })).find((u) => u.username === 'new.nick');
      assert.equal(nick?.role, 'auditor');
      assert.equal(nick?.teamId, 'team-1');
      const nickLogin = await call<{ stage: string }>(s, 'POST', '/v1/auth/login', { body: { username: 'new.nick', password: nickPassword, session: 'token' } });
      assert.equal(nickLogin.status, 200, 'the password set in the console signs in');
      assert.equal(nickLogin.body.stage, 'enrolment', 'a new auditor enrols MFA first');
      await shot(p, '01-admin-users');
      await axe(p, 'users');

      // --- API key: shown once --------------------------------------------------------------------------------
      await go(p, 'API keys', 'API keys');
      await p.getByLabel('Name').fill('IVR node 1');
      await p.getByRole('button', { name: 'Create key' }).click();
      const keyText = (await p.getByTestId('new-key').textContent())?.trim() ?? '';
      assert.match(keyText, /^cl_[A-Za-z0-9_-]{20,}$/);
      assert.equal((await call(s, 'GET', '/v1/sessions', { token: keyText })).status, 200, 'the shown key works');
      await p.locator('li[data-key="IVR node 1"]', { hasText: 'active' }).waitFor();
      await shot(p, '02-api-key-issued');
      await axe(p, 'api key issued');
      await go(p, 'Connectors', 'Payment connectors');
      await go(p, 'API keys', 'API keys');
      await p.locator('li[data-key="IVR node 1"]').waitFor();
      assert.ok(!(await p.evaluate(DEEP_HTML) as string).includes(keyText), 'the key is gone from the DOM after navigation');
      assert.equal(bodies.filter((b) => b.includes(keyText)).length, 1, 'only the create answer carried the key');
      // rotate (two presses) issues a new one; revoke the old chain
      await p.getByRole('button', { name: 'Rotate key IVR node 1' }).click();
      await p.getByRole('button', { name: 'Confirm rotate key IVR node 1' }).click();
      const rotated = (await p.getByTestId('new-key').textContent())?.trim() ?? '';
      assert.ok(rotated !== keyText && rotated.startsWith('cl_'));
      await p.getByRole('button', { name: 'I have stored the key' }).click();
      assert.equal(await p.getByTestId('new-key').count(), 0);
      await shot(p, '03-api-keys');

      // --- connector secret: write-only ----------------------------------------------------------------------
      await go(p, 'Connectors', 'Payment connectors');
      await p.getByLabel('Merchant ID, or * for the default').fill('acme');
      await p.getByLabel('Connector', { exact: true }).selectOption('stripe');
      await p.getByLabel('Mark payments as mail/telephone order (MOTO)').check();
      await p.getByLabel('Secret API key (write-only)').fill(STRIPE_SECRET);
      await p.getByRole('button', { name: 'Save connector' }).click();
      await p.getByRole('status').filter({ hasText: 'Connector for acme saved' }).waitFor().catch(async (e: unknown) => {
        throw new Error(`connector save: "${await p.locator('cardline-connectors p.error').textContent()}"`, { cause: e });
      });
      const acme = p.locator('li[data-merchant="acme"]');
      await acme.getByTestId('secret-state').filter({ hasText: `Secret API key: set (ends ${STRIPE_SECRET.slice(-4)})` }).waitFor();
      await acme.getByRole('button', { name: 'Edit connector of acme' }).click();
      await p.getByTestId('secret-hint').filter({ hasText: 'Currently set' }).waitFor();
      assert.equal(await p.getByLabel('Secret API key (write-only)').inputValue(), '', 'the edit form starts empty');
      await shot(p, '04-connectors');
      await axe(p, 'connectors');
      const html = await p.evaluate(DEEP_HTML) as string;
      const values = await p.evaluate(DEEP_VALUES) as string;
      assert.ok(!html.includes(STRIPE_SECRET) && !values.includes(STRIPE_SECRET), 'the secret is not in the DOM');
      const api = await call(s, 'GET', '/v1/settings/connectors', { token: await loginToken(s, admin) });
      assert.ok(!JSON.stringify(api.body).includes(STRIPE_SECRET));
      for (const b of bodies) assert.ok(!b.includes(STRIPE_SECRET), 'an API answer carried the secret');
      for (const f of readdirSync(s.dir).filter((x) => x.startsWith('cardline'))) {
        assert.ok(!readFileSync(join(s.dir, f)).includes(Buffer.from(STRIPE_SECRET)), `${f} holds the secret in plain text`);
      }

      // --- masking policy: inline error, then saved --------------------------------------------------------
      await go(p, 'Masking policy', 'Masking policy');
      await p.getByLabel('Comfort noise').check();
      await p.getByLabel('Secure mode on every call (from answer to hang-up)').check();
      await p.getByLabel('Agents switch secure mode with key sequences').check();
      await p.getByLabel('Start sequence').fill('#388*');
      await p.getByLabel('End sequence').fill('#388');
      await p.getByRole('button', { name: 'Save policy' }).click();
      await p.getByTestId('trigger-error').filter({ hasText: 'prefix' }).waitFor();
      assert.equal(await p.getByLabel('Start sequence').getAttribute('aria-invalid'), 'true');
      assert.equal(s.settings?.maskingPolicy().triggers, null, 'nothing saved');
      await shot(p, '05-masking-invalid');
      await axe(p, 'masking policy with an error');
      await p.getByLabel('End sequence').fill('#388#');
      await p.getByRole('button', { name: 'Save policy' }).click();
      await p.getByRole('status').filter({ hasText: 'Masking policy saved' }).waitFor();
      const want = { secureByDefault: true, maskMode: 'noise', triggers: { start: '#388*', end: '#388#' } };
      const got = await call<{ policy: unknown }>(s, 'GET', '/v1/settings/masking-policy', { token: await loginToken(s, admin) });
      assert.deepEqual(got.body.policy, want);
      assert.deepEqual(s.settings?.policySource(), want, 'the gateway policy source returns the saved policy');
      await shot(p, '06-masking-saved');

      // --- price plans --------------------------------------------------------------------------------------
      await go(p, 'Price plans', 'Price plans');
      await p.getByLabel('Merchant ID, or * for the default').fill('acme');
      await p.getByLabel('Per minute (minor units)').fill('7');
      await p.getByLabel('Monthly minimum (minor units)').fill('2000');
      await p.getByLabel('Transaction fees (minor units), one per line').fill('agent-assisted/succeeded = 30\nnot a fee');
      await p.getByRole('button', { name: 'Save plan' }).click();
      await p.getByText('Write one fee per line').waitFor();
      await p.getByLabel('Transaction fees (minor units), one per line').fill('agent-assisted/succeeded = 30\n*/failed = 5');
      await p.getByRole('button', { name: 'Save plan' }).click();
      await p.locator('li[data-plan="acme"]').getByTestId('per-minute').filter({ hasText: '0.07' }).waitFor();
      await p.getByRole('button', { name: 'Edit plan acme' }).click();
      await p.getByLabel('Per minute (minor units)').fill('9');
      await p.getByRole('button', { name: 'Save plan' }).click();
      await p.locator('li[data-plan="acme"]').getByTestId('per-minute').filter({ hasText: '0.09' }).waitFor();
      const plans = await call<{ plans: { merchantId: string; perMinuteMinor: number; transactionFees: Record<string, number> }[] }>(s, 'GET', '/v1/billing/plans', { token: await loginToken(s, admin) });
      const plan = plans.body.plans.find((x) => x.merchantId === 'acme');
      assert.equal(plan?.perMinuteMinor, 9);
      assert.deepEqual(plan?.transactionFees, { 'agent-assisted/succeeded': 30, '*/failed': 5 });
      await shot(p, '07-price-plans');
      await axe(p, 'price plans');
    } finally {
      await ctx.close();
    }
  });

  test('auditor: chain verified, search and export, billing chart bars per seeded day with its table and CSV', async () => {
    const { ctx, p } = await open();
    try {
      await signIn(p, auditor);
      await p.getByRole('heading', { name: 'Audit trail', level: 1 }).waitFor();
      await p.getByTestId('verify').filter({ hasText: /^Audit chain verified: \d+ records/ }).waitFor();
      await p.getByLabel('Action or prefix').fill('config.');
      await p.getByRole('button', { name: 'Search' }).click();
      await p.locator('li[data-seq]').filter({ hasText: 'config.connector' }).first().waitFor();
      const csv = await p.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
      assert.equal(csv, '/v1/audit/export?action=config.&format=csv');
      const exported = await p.evaluate(`fetch(${JSON.stringify(csv)}).then((r) => r.text())`) as string;
      assert.match(exported, /config\.masking-policy/);
      assert.match(exported, /config\.connector/);
      assert.ok(!exported.includes(STRIPE_SECRET));
      await shot(p, '08-audit');
      await axe(p, 'audit');

      await go(p, 'Billing', 'Billing: transactions per day');
      await p.getByLabel('From (UTC day)').fill(day(-3));
      await p.getByLabel('To (UTC day)').fill(day(0));
      await p.getByRole('button', { name: 'Show' }).click();
      await p.getByTestId('chart-summary').filter({ hasText: `8 transactions from ${day(-3)} to ${day(0)} (4 days): 5 succeeded, 3 failed` }).waitFor();
      const chart = p.getByRole('img', { name: 'Transactions per day, succeeded and failed' });
      await chart.waitFor();
      assert.equal(await p.locator('svg rect[data-outcome="succeeded"]').count(), SEED.filter(([, ok]) => ok > 0).length);
      assert.equal(await p.locator('svg rect[data-outcome="failed"]').count(), SEED.filter(([, , bad]) => bad > 0).length);
      for (const [offset, ok, bad] of SEED) {
        const cells = await p.locator(`tr[data-day="${day(offset)}"] td`).allTextContents();
        assert.deepEqual(cells, [String(ok), String(bad), String(ok + bad)], day(offset));
      }
      // stacked: on the day with both outcomes, failed sits directly on top of succeeded, heights in proportion
      const box = async (o: string) => p.locator(`svg rect[data-day="${day(-3)}"][data-outcome="${o}"]`).evaluate((r) => ({ y: Number(r.getAttribute('y')), h: Number(r.getAttribute('height')) }));
      const okBox = await box('succeeded');
      const badBox = await box('failed');
      assert.ok(Math.abs(badBox.y + badBox.h - okBox.y) < 0.01 && Math.abs(okBox.h - 3 * badBox.h) < 0.01, JSON.stringify({ okBox, badBox }));
      const dailyCsv = await p.getByRole('link', { name: /^Export CSV/ }).getAttribute('href');
      assert.equal(dailyCsv, `/v1/billing/daily.csv?from=${day(-3)}&to=${day(0)}`);
      const text = await p.evaluate(`fetch(${JSON.stringify(dailyCsv)}).then((r) => r.text())`) as string;
      assert.equal(text.trim().split(/\r?\n/).length, 5);
      await shot(p, '09-billing-chart');
      await axe(p, 'billing chart');

      // an auditor asking for an admin page gets its own pages; the API refuses the write
      await p.goto(`${s.url}/console/#/api-keys`);
      await p.getByRole('heading', { name: 'Audit trail', level: 1 }).waitFor();
      assert.equal(await p.getByRole('heading', { name: 'API keys' }).count(), 0);
      const put = await p.evaluate(`fetch('/v1/settings/masking-policy', { method: 'PUT', headers: { 'content-type': 'application/json', 'x-csrf-token': decodeURIComponent(document.cookie.split('; ').find((c) => c.startsWith('cardline_csrf='))?.split('=')[1] ?? '') }, body: JSON.stringify({ secureByDefault: false, maskMode: 'tone', triggers: null }) }).then((r) => r.status)`) as number;
      assert.equal(put, 403);
    } finally {
      await ctx.close();
    }
  });

  test('agent and supervisor: no admin page in the UI, 403 from the API', async () => {
    const { ctx, p } = await open(360);
    try {
      await signIn(p, agent, '#/connectors');
      await p.getByRole('heading', { name: 'New secure payment' }).waitFor();
      assert.equal(await p.locator('cardline-back-office').count(), 0);
      assert.equal(await p.getByRole('heading', { name: 'Payment connectors' }).count(), 0);
      for (const path of ['/v1/settings/connectors', '/v1/api-keys', '/v1/settings/masking-policy', '/v1/billing/plans', '/v1/billing/daily?from=2026-11-01']) {
        const status = await p.evaluate(`fetch(${JSON.stringify(path)}).then((r) => r.status)`) as number;
        assert.equal(status, 403, path);
      }
    } finally {
      await ctx.close();
    }
    const sup = await open(360);
    try {
      await signIn(sup.p, supervisor, '#/masking');
      await sup.p.getByRole('heading', { name: 'Team payments', level: 1 }).waitFor();
      assert.equal(await sup.p.getByRole('heading', { name: 'Masking policy' }).count(), 0);
      await shot(sup.p, '10-supervisor-board');
      await axe(sup.p, 'supervisor board');
    } finally {
      await sup.ctx.close();
    }
    assert.deepEqual(pageErrors, [], 'no script error and no CSP violation');
  });
});
