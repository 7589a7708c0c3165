/**
 * The embeddable agent panel (issue 7) in Chromium, framed cross-site: a "CRM" page served by a tiny HTTP server
 * on http://localhost:<port> frames Cardline's http://127.0.0.1:<port>/console/embed#token=… (different sites).
 * The CRM back end mints the one-time token with an admin session; the framed panel exchanges it for a bearer
 * session in memory (no cookie — a SameSite=Strict cookie would not be sent in this frame), takes a payment with
 * the caller's digits fed through the API, and its live rows arrive over the fetch-streamed event stream. A reused
 * or expired token is refused, frame-ancestors keeps the normal console and unlisted origins out, and minting and
 * exchanges are in the audit trail.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Frame, FrameLocator, Page } from 'playwright-core';
import { loadConfig } from '../../src/config/index.ts';
import { call, createUser, enrol, FakeClock, loginToken, startSecureServer, type SecureServer, type TestUser } from '../auth/helpers.ts';
import { assertAxeClean, assertNoCardData, DEEP_HTML, DEEP_TEXT, launchChromium, shotsDir } from './support/browser.ts';

const PAN = '4111111111111111';
const CVV = '737';
const EXPIRY = `12${String((new Date().getUTCFullYear() + 2) % 100).padStart(2, '0')}`;
const SHOTS = shotsDir('agent-embed');

/** A third-party page host: serves whatever HTML the test puts at a path. */
async function startHost(): Promise<{ server: Server; origin: string; pages: Map<string, string> }> {
  const pages = new Map<string, string>();
  const server = createServer((req, res) => {
    const body = pages.get(req.url ?? '');
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' }).end(body ?? 'not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, origin: `http://localhost:${(server.address() as AddressInfo).port}`, pages };
}

const crmPage = (src: string) => `<!doctype html><html lang="en"><head><title>CRM</title></head><body>
<main><h1>Acme CRM — customer 1042</h1><iframe title="Cardline payment panel" src="${src}" width="360" height="860" style="border:1px solid #999"></iframe></main></body></html>`;

describe('embedded agent panel in a cross-site iframe', { timeout: 90_000 }, () => {
  let s: SecureServer;
  let host: Awaited<ReturnType<typeof startHost>>;
  let other: Awaited<ReturnType<typeof startHost>>;
  let agent: TestUser;
  let adminToken: string;
  let agentToken: string;
  let browser: Browser;
  const pageErrors: string[] = [];

  before(async () => {
    host = await startHost();
    other = await startHost();
    s = await startSecureServer({ clock: new FakeClock(Date.now()), build: { console: true }, config: (c) => { c.console.frameAncestors = [host.origin]; } });
    agent = await createUser(s, 'agent.emma', 'agent', { merchantId: 'acme' });
    await enrol(s, agent);
    const admin = await createUser(s, 'admin.crm', 'admin');
    await enrol(s, admin);
    adminToken = await loginToken(s, admin);
    agentToken = await loginToken(s, agent);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await s?.close();
    host?.server.close();
    other?.server.close();
  });

  async function mint(token: string, ttlSeconds?: number) {
    return call<{ token: string; url: string; expiresAt: string; error?: { code: string } }>(s, 'POST', '/v1/embed-tokens', { token, body: { userId: agent.user.id, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) } });
  }
  async function feed(id: string, digits: string): Promise<void> {
    const r = await fetch(`${s.url}/v1/sessions/${id}/digits`, { method: 'POST', headers: { ...s.auth, 'content-type': 'application/json' }, body: JSON.stringify({ digits }) });
    assert.equal(r.status, 200, await r.text());
  }
  async function openCrm(path: string, src: string, width = 1024): Promise<{ page: Page; panel: FrameLocator }> {
    host.pages.set(path, crmPage(src));
    const page = await (await browser.newContext({ viewport: { width, height: 960 } })).newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => { pageErrors.push(String(e)); });
    await page.goto(`${host.origin}${path}`);
    return { page, panel: page.frameLocator('iframe') };
  }
  const cardlineFrame = (page: Page): Frame | undefined => page.frames().find((f) => f.url().startsWith(s.url));

  test('minting: admins and granted keys only, agents never; the token opens the panel once, within its lifetime', async () => {
    assert.equal((await mint(agentToken)).status, 403, 'an agent cannot mint for itself');
    assert.equal((await call(s, 'POST', '/v1/embed-tokens', { headers: s.auth, body: { userId: agent.user.id } })).status, 403, 'a key without embed-tokens:write');
    const bad = await call(s, 'POST', '/v1/embed-tokens', { token: adminToken, body: { userId: agent.user.id, ttlSeconds: 301 } });
    assert.equal(bad.status, 400, 'at most 5 minutes');
    const m = await mint(adminToken, 60);
    assert.equal(m.status, 201);
    assert.match(m.body.url, /^\/console\/embed#token=cle_/);
    const first = await call<{ token: string }>(s, 'POST', '/v1/auth/embed', { body: { token: m.body.token } });
    assert.equal(first.status, 200);
    const again = await call<{ error: { code: string } }>(s, 'POST', '/v1/auth/embed', { body: { token: m.body.token } });
    assert.deepEqual([again.status, again.body.error.code], [401, 'embed-token-invalid'], 'single use');
    const late = await mint(adminToken, 10);
    s.clock.advance(11_000);
    const expired = await call<{ error: { code: string } }>(s, 'POST', '/v1/auth/embed', { body: { token: late.body.token } });
    assert.deepEqual([expired.status, expired.body.error.code], [401, 'embed-token-invalid'], 'expired');
    // the bearer session is a full agent session
    const me = await call<{ user: { username: string }; stage: string; via: string }>(s, 'GET', '/v1/auth/me', { token: first.body.token });
    assert.deepEqual([me.body.user.username, me.body.stage, me.body.via], ['agent.emma', 'full', 'bearer']);
    const audit = await s.security!.audit.query({ action: 'auth.embed-token*' });
    const seen = audit.map((r) => `${r.action}:${r.outcome}:${String(r.detail.reason ?? '')}`);
    for (const want of ['auth.embed-token-mint:success:', 'auth.embed-token-exchange:success:', 'auth.embed-token-exchange:failure:used', 'auth.embed-token-exchange:failure:expired']) {
      assert.ok(seen.includes(want), `${want} in ${seen.join(', ')}`);
    }
    assert.ok(!JSON.stringify(audit).includes(m.body.token), 'the token itself is never in the audit trail');
  });

  test('framed cross-site: signs in with the token, takes a payment live, keeps no cookie; the token is gone from the URL', async () => {
    const m = await mint(adminToken);
    const { page, panel } = await openCrm('/crm/1042', `${s.url}${m.body.url}`);
    await panel.getByRole('heading', { name: 'New secure payment' }).waitFor();
    assert.match(await panel.locator('header').textContent() ?? '', /Signed in as\s*agent\.emma/);
    assert.doesNotMatch(cardlineFrame(page)?.url() ?? '', /token/, 'the token left the frame URL');
    await panel.getByLabel('Call ID').fill('crm-call-1042');
    await panel.getByLabel('Amount').fill('12.00');
    await page.screenshot({ path: join(SHOTS, '01-embedded-new-payment-1024.png') });
    await panel.getByRole('button', { name: 'Start secure payment' }).click();
    await panel.getByRole('heading', { name: /Secure payment £12\.00/ }).waitFor();
    const frame = cardlineFrame(page);
    assert.ok(frame);
    const id = await frame.evaluate(`document.querySelector('cardline-agent-panel').session.id`) as string;
    await feed(id, `${PAN}#${EXPIRY}#`);
    await panel.locator('li.field[data-field="expiry"][data-state="valid"]').waitFor();
    assert.match(await panel.locator('li.field[data-field="card-number"]').textContent() ?? '', /Visa[\s\S]*Ends 1111/);
    await feed(id, `${CVV}#`);
    await panel.getByTestId('status').filter({ hasText: 'All details captured — press Pay' }).waitFor();
    await page.screenshot({ path: join(SHOTS, '02-embedded-ready-1024.png') });
    await assertAxeClean(page, 'CRM page with the embedded panel');
    await panel.getByRole('button', { name: /^Pay/ }).click();
    await panel.getByRole('heading', { name: 'Payment successful' }).waitFor();
    await page.screenshot({ path: join(SHOTS, '03-embedded-result-1024.png') });
    const created = await (await fetch(`${s.url}/v1/sessions/${id}`, { headers: s.auth })).json() as { createdBy: string; state: string };
    assert.deepEqual([created.createdBy, created.state], [agent.user.id, 'succeeded']);
    assert.deepEqual((await page.context().cookies(s.url)).map((c) => c.name), [], 'no Cardline cookie in the frame');
    for (const [name, blob] of [['html', await frame.evaluate(DEEP_HTML) as string], ['text', await frame.evaluate(DEEP_TEXT) as string]] as const) {
      assertNoCardData(name, blob, [PAN], CVV, [id]);
    }
    // the same link again (reload, or copied): refused, the panel says to reopen it from the desktop
    await page.reload();
    await panel.getByText('This panel link has expired or was already used').waitFor();
    await page.screenshot({ path: join(SHOTS, '04-embedded-link-used-1024.png') });
    assert.deepEqual(pageErrors.filter((e) => !/401/.test(e)), []);
  });

  test('frame-ancestors: the normal console is never framed, the embedded panel only by configured origins', async () => {
    const normal = await openCrm('/crm/normal', `${s.url}/console/`);
    await normal.page.waitForLoadState('load');
    assert.equal(await normal.panel.locator('cardline-agent-panel').count(), 0, '/console/ refuses to be framed');
    const headers = (await fetch(`${s.url}/console/embed`)).headers.get('content-security-policy') ?? '';
    assert.match(headers, new RegExp(`frame-ancestors ${host.origin.replace(/[.:/]/g, '\\$&')}(;|$)`));
    assert.match((await fetch(`${s.url}/console/`)).headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    // the configured list cannot smuggle other CSP directives or keywords in
    for (const bad of ["https://crm.example.com; script-src *", "'unsafe-inline'", '*', 'javascript:alert(1)']) {
      const file = join(s.dir, 'bad-console.json');
      writeFileSync(file, JSON.stringify({ console: { frameAncestors: [bad] } }));
      assert.throws(() => loadConfig({ env: {}, file }), (e: Error & { code?: string }) => e.code === 'invalid-config', bad);
    }
    // an origin not in console.frameAncestors
    other.pages.set('/evil', crmPage(`${s.url}/console/embed`));
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${other.origin}/evil`);
    await page.waitForLoadState('load');
    assert.equal(await page.frameLocator('iframe').locator('cardline-agent-panel').count(), 0, 'unlisted origin refused');
  });
});
