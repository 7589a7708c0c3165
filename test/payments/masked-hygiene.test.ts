import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_TEST_CARDS } from '../../src/connectors/index.ts';
import { drain, makeService } from './service-helpers.ts';

/**
 * Issue 4's leak test for the payments domain: drive many sessions through every path (success, declines,
 * retries, invalid attempts, re-capture, cancel, expiry, locks) and scan every emitted event, every error a
 * caller saw, every log line and every stored row for card data. Zero hits allowed:
 *  - no 5-digit run of any PAN used (we show only the last four, so nothing longer than 4 PAN digits may appear),
 *  - no security code, expiry (MMYY or MM/YY) or postal code as a standalone number.
 */
const CVV = '737';
const CVV_AMEX = '7373';
const EXPIRY = '0834';
const POSTAL = '94107';

test('no event, error, log line or stored row contains card data', async () => {
  const h = makeService({ capture: { fields: ['card-number', 'expiry', 'security-code', { field: 'postal-code', required: false, minLength: 5, maxLength: 5 }], sessionTtlMs: 300_000 } });
  const pans = new Set<string>();
  const errors: unknown[] = [];
  const attempt = async (p: Promise<unknown>) => { try { await p; } catch (e) { errors.push(e); } };
  const svc = h.service;
  const run = async (pan: string, opts: { intent?: 'charge' | 'tokenize'; submit?: number } = {}) => {
    pans.add(pan);
    const s = await svc.create({ callId: `CA-${pans.size}`, merchantId: 'm-1', intent: opts.intent ?? 'charge', amountMinor: 1000, currency: 'USD', createdBy: 'agent-9' });
    await svc.startCapture(s.id);
    const cvv = pan.length === 15 ? CVV_AMEX : CVV;
    await attempt(svc.feedDigits(s.id, `${pan}#${EXPIRY}${cvv}`));
    h.clock.advance(3_000);
    await attempt(svc.feedDigits(s.id, `${POSTAL}`));
    for (let i = 0; i < (opts.submit ?? 1); i++) await attempt(svc.submit(s.id));
    await attempt(svc.feedDigits(s.id, `${pan}`)); // digits after completion: error, no echo
    return s.id;
  };

  for (const pan of Object.values(SANDBOX_TEST_CARDS)) {
    if (pan === SANDBOX_TEST_CARDS.slow) continue;
    await run(pan, { submit: 3 });
  }
  await run(SANDBOX_TEST_CARDS.amex, { intent: 'tokenize' });

  // slow connector: service timeout
  pans.add(SANDBOX_TEST_CARDS.slow);
  const slow = await svc.create({ callId: 'CA-slow', merchantId: 'm-1', intent: 'charge', amountMinor: 500, currency: 'EUR' });
  await svc.startCapture(slow.id);
  await svc.feedDigits(slow.id, `${SANDBOX_TEST_CARDS.slow}#${EXPIRY}${CVV}`);
  h.clock.advance(3_000);
  await svc.feedDigits(slow.id, '#');
  const sp = svc.submit(slow.id);
  await drain();
  h.clock.advance(5_000);
  await attempt(sp);

  // typos, '*', re-capture, invalid expiry and CVV, then cancel
  const typo = '5555555555554445';
  pans.add(typo);
  pans.add(SANDBOX_TEST_CARDS.mastercard);
  const t = await svc.create({ callId: 'CA-typo', merchantId: 'm-1', intent: 'tokenize' });
  await svc.startCapture(t.id);
  await attempt(svc.feedDigits(t.id, typo));
  h.clock.advance(3_000);
  await attempt(svc.feedDigits(t.id, `55555*${SANDBOX_TEST_CARDS.mastercard}`));
  await attempt(svc.feedDigits(t.id, '1399'));
  await attempt(svc.feedDigits(t.id, `${EXPIRY}${CVV}`));
  await attempt(svc.recapture(t.id, 'security-code'));
  await attempt(svc.feedDigits(t.id, '12#'));
  await attempt(svc.feedDigits(t.id, `${CVV}`));
  await attempt(svc.feedDigits(t.id, 'x'));
  await attempt(svc.cancel(t.id));

  // max attempts, wait-for-agent lock, early brand rejection, expiry mid-entry
  const lock = await svc.create({ callId: 'CA-lock', merchantId: 'm-1', intent: 'tokenize', capture: { onMaxAttempts: 'wait-for-agent', acceptedBrands: ['amex'], fieldDefaults: { maxAttempts: 2 } } });
  await svc.startCapture(lock.id);
  await attempt(svc.feedDigits(lock.id, `${SANDBOX_TEST_CARDS.visa}#`));
  h.clock.advance(11_000);
  await attempt(svc.feedDigits(lock.id, `${SANDBOX_TEST_CARDS.discover}#`));
  await attempt(svc.feedDigits(lock.id, '3'));
  pans.add(SANDBOX_TEST_CARDS.discover);
  const mid = await svc.create({ callId: 'CA-mid', merchantId: 'm-1', intent: 'charge' });
  await svc.startCapture(mid.id);
  await svc.feedDigits(mid.id, SANDBOX_TEST_CARDS.visa.slice(0, 10));
  await attempt(svc.setDetails(mid.id, { description: `card ${SANDBOX_TEST_CARDS.visa}` }));
  h.clock.advance(400_000);
  await svc.idle();
  const refundable = await run(SANDBOX_TEST_CARDS.visa);
  await attempt(svc.refund(refundable, { amountMinor: 100 }));
  await svc.close();

  // --- scan ------------------------------------------------------------------------------------------
  assert.ok(h.events.length > 150, `enough events to mean something (${h.events.length})`);
  assert.ok(errors.length > 10, `enough errors (${errors.length})`);
  const logLines = h.logs().trim().split('\n').map((l) => {
    const o = JSON.parse(l) as Record<string, unknown>;
    delete o.pid; delete o.hostname; delete o.time; // process facts, not our output
    return JSON.stringify(o);
  });
  assert.ok(logLines.length > 20);
  const corpus: [string, string][] = [
    ...h.events.map((e, i) => [`event ${i} ${e.type}`, JSON.stringify(e)] as [string, string]),
    ...errors.map((e, i) => [`error ${i}`, `${String(e)} ${JSON.stringify(e)} ${(e as Error).message}`] as [string, string]),
    ...logLines.map((l, i) => [`log ${i}`, l] as [string, string]),
    ['store', h.store.dump()],
  ];
  const forbidden: [string, RegExp][] = [];
  for (const pan of pans) {
    for (let i = 0; i + 5 <= pan.length; i++) forbidden.push([`5 digits of a PAN`, new RegExp(pan.slice(i, i + 5))]);
  }
  forbidden.push(['security code', new RegExp(`(?<!\\d)(${CVV}|${CVV_AMEX})(?!\\d)`)]);
  forbidden.push(['expiry', new RegExp(`(?<!\\d)(${EXPIRY}|08/34|0834)(?!\\d)`)]);
  forbidden.push(['postal code', new RegExp(`(?<!\\d)${POSTAL}(?!\\d)`)]);
  let checked = 0;
  for (const [where, text] of corpus) {
    for (const [what, re] of forbidden) {
      checked++;
      assert.ok(!re.test(text), `${what} found in ${where}: ${text.slice(0, 300)}`);
    }
  }
  assert.ok(checked > 1000);
  // the masked view did carry what an agent may see
  const shown = h.events.map((e) => JSON.stringify(e)).join('\n');
  assert.match(shown, /•••• •••• •••• 1111/);
  assert.match(shown, /•••• •••••• •0005/);
  assert.match(shown, /"last4":"4444"/);
});
