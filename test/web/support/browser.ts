import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { totp } from '../../../src/auth/index.ts';
import type { SecureServer, TestUser } from '../../auth/helpers.ts';

/** Shared by the console's browser tests: Debian's Chromium via playwright-core, axe-core, card-data scans. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Light DOM plus every open shadow root, serialised (page.content() leaves shadow roots out). */
export const DEEP_HTML = `(() => {
  const out = [document.documentElement.outerHTML];
  const walk = (root) => { for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { out.push(el.shadowRoot.innerHTML); walk(el.shadowRoot); } };
  walk(document);
  return out.join('\\n');
})()`;
export const DEEP_TEXT = `(() => {
  const out = [document.body.innerText];
  const walk = (root) => { for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { out.push(el.shadowRoot.textContent ?? ''); walk(el.shadowRoot); } };
  walk(document);
  return out.join('\\n');
})()`;

interface AxeViolation { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }

/** axe-core over the whole page (shadow roots included): no serious or critical violation. */
export async function assertAxeClean(p: Page, label: string): Promise<void> {
  await p.evaluate(`${AXE_SOURCE};undefined`);
  const violations = await p.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`) as AxeViolation[];
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${label}: ${JSON.stringify(bad, null, 1)}`);
}

/**
 * No PAN and no security code in a blob of page HTML, text, frames or responses. A 3-digit code may occur by
 * chance inside server-made ids and timestamps: those are removed first.
 */
export function assertNoCardData(name: string, blob: string, pans: readonly string[], cvv: string, ids: readonly string[] = []): void {
  for (const pan of pans) assert.ok(!blob.includes(pan), `${name} holds a PAN`);
  let scrubbed = blob;
  for (const id of ids) scrubbed = scrubbed.replaceAll(id, '');
  scrubbed = scrubbed
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '')
    .replace(/\b(tok|auth|ref|sandbox|ch|pi|txn|ps|usr|as)_[A-Za-z0-9_]+/g, '')
    .replace(/"sequence":\d+/g, '');
  assert.ok(!new RegExp(`(^|[^0-9A-Za-z])${cvv}([^0-9A-Za-z]|$)`).test(scrubbed), `${name} holds the security code`);
}

/** Screenshots into test-results/<dir>/ (git-ignored; created here). */
export function shotsDir(dir: string): string {
  const d = join('test-results', dir);
  mkdirSync(d, { recursive: true });
  return d;
}

/** Password then TOTP through the sign-in form. */
export async function signIn(p: Page, s: SecureServer, u: TestUser, path = '/console/'): Promise<void> {
  await p.goto(`${s.url}${path}`);
  await p.getByLabel('Username').fill(u.user.username);
  await p.getByLabel('Password').fill(u.password);
  await p.keyboard.press('Enter');
  assert.ok(u.secret !== null);
  await p.getByLabel('6-digit code from your authenticator app').fill(totp(u.secret, s.clock.now()));
  await p.keyboard.press('Enter');
}
