import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectorError, SANDBOX_TEST_CARDS, SandboxConnector } from '../../src/connectors/index.ts';
import { isLuhnValid, ManualClock } from '../../src/payments/index.ts';
import { chargeReq, tokenizeReq } from './helpers.ts';

const rejectsWith = (code: string, retryable?: boolean) => (e: unknown) =>
  e instanceof ConnectorError && e.code === code && (retryable === undefined || e.retryable === retryable);

test('documented test cards are Luhn-valid', () => {
  for (const n of Object.values(SANDBOX_TEST_CARDS)) assert.ok(isLuhnValid(n), n);
});

test('success cards charge and tokenize; tokens are deterministic for a seed and not derived from the card', async () => {
  const a = new SandboxConnector({ seed: 's1' });
  const b = new SandboxConnector({ seed: 's1' });
  for (const n of [SANDBOX_TEST_CARDS.visa, SANDBOX_TEST_CARDS.mastercard, SANDBOX_TEST_CARDS.amex, SANDBOX_TEST_CARDS.discover]) {
    const r = await a.charge(chargeReq(n, `ch-${n}`));
    assert.match(r.connectorReference ?? '', /^ch_sandbox_[0-9a-f]{24}$/);
    assert.match(r.authorizationCode ?? '', /^[0-9A-F]{6}$/);
  }
  const t1 = await a.tokenize(tokenizeReq(SANDBOX_TEST_CARDS.visa, 'tok-key'));
  const t2 = await b.tokenize(tokenizeReq(SANDBOX_TEST_CARDS.mastercard, 'tok-key'));
  assert.match(t1.token ?? '', /^tok_sandbox_[0-9a-f]{24}$/);
  assert.equal(t1.token, t2.token, 'same seed + key: same token, whatever the card');
  const c = new SandboxConnector({ seed: 's2' });
  assert.notEqual((await c.tokenize(tokenizeReq(SANDBOX_TEST_CARDS.visa, 'tok-key'))).token, t1.token);
  assert.deepEqual(a.processed, { charges: 4, tokenizations: 1, refunds: 0 });
});

test('decline cards map to typed, non-retryable errors', async () => {
  const s = new SandboxConnector();
  await assert.rejects(s.charge(chargeReq(SANDBOX_TEST_CARDS.declined, 'k1')), rejectsWith('card-declined', false));
  await assert.rejects(s.charge(chargeReq(SANDBOX_TEST_CARDS.insufficientFunds, 'k2')), rejectsWith('insufficient-funds', false));
  await assert.rejects(s.charge(chargeReq(SANDBOX_TEST_CARDS.incorrectSecurityCode, 'k3')), rejectsWith('invalid-security-code', false));
  await assert.rejects(s.tokenize(tokenizeReq(SANDBOX_TEST_CARDS.expired, 'k4')), rejectsWith('invalid-expiry', false));
  const err = await s.charge(chargeReq(SANDBOX_TEST_CARDS.insufficientFunds, 'k2')).catch((e: unknown) => e);
  assert.ok(err instanceof ConnectorError && err.processorCode === 'insufficient_funds');
  assert.equal(s.processed.charges, 0);
});

test('network-error card: retryable connector-error every time, nothing processed', async () => {
  const s = new SandboxConnector();
  for (let i = 0; i < 3; i++) await assert.rejects(s.charge(chargeReq(SANDBOX_TEST_CARDS.networkError, 'same')), rejectsWith('connector-error', true));
  assert.equal(s.processed.charges, 0);
});

test('idempotency: a retried charge returns the first result and charges once', async () => {
  const s = new SandboxConnector();
  const first = await s.charge(chargeReq(SANDBOX_TEST_CARDS.visa, 'idem-1'));
  const again = await s.charge(chargeReq(SANDBOX_TEST_CARDS.visa, 'idem-1'));
  assert.deepEqual(again, first);
  assert.equal(s.processed.charges, 1);
  assert.equal(s.charges.length, 1);
  // the same key for a different request is a conflict
  await assert.rejects(s.charge(chargeReq(SANDBOX_TEST_CARDS.visa, 'idem-1', { amountMinor: 999 })), rejectsWith('idempotency-conflict', false));
  await assert.rejects(s.charge(chargeReq(SANDBOX_TEST_CARDS.mastercard, 'idem-1')), rejectsWith('idempotency-conflict', false));
  // declines are remembered too
  await assert.rejects(s.charge(chargeReq(SANDBOX_TEST_CARDS.declined, 'idem-2')), rejectsWith('card-declined'));
  await assert.rejects(s.charge(chargeReq(SANDBOX_TEST_CARDS.declined, 'idem-2')), rejectsWith('card-declined'));
});

test('lost-response card: first attempt charges but answers an error; the retry returns that charge', async () => {
  const s = new SandboxConnector();
  await assert.rejects(s.charge(chargeReq(SANDBOX_TEST_CARDS.lostResponse, 'lost-1')), rejectsWith('connector-error', true));
  assert.equal(s.processed.charges, 1, 'the money moved');
  const r = await s.charge(chargeReq(SANDBOX_TEST_CARDS.lostResponse, 'lost-1'));
  assert.equal(r.connectorReference, s.charges[0]?.reference);
  assert.equal(s.processed.charges, 1, 'not charged twice');
});

test('slow card: answers after the delay, or connector-timeout when aborted', async () => {
  const clock = new ManualClock();
  const s = new SandboxConnector({ clock, slowDelayMs: 5_000 });
  const p = s.charge(chargeReq(SANDBOX_TEST_CARDS.slow, 'slow-1'));
  let done = false;
  void p.then(() => { done = true; });
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  clock.advance(5_000);
  assert.ok((await p).connectorReference);
  const ac = new AbortController();
  const q = s.charge(chargeReq(SANDBOX_TEST_CARDS.slow, 'slow-2', { signal: ac.signal }));
  ac.abort();
  await assert.rejects(q, rejectsWith('connector-timeout', true));
  assert.equal(s.processed.charges, 1);
});

test('refunds: partial then the rest; over-refund refused; idempotent by key', async () => {
  const s = new SandboxConnector();
  const ch = await s.charge(chargeReq(SANDBOX_TEST_CARDS.visa, 'c1'));
  const ref = ch.connectorReference as string;
  const r1 = await s.refund({ merchantId: 'm-1' as never, sessionId: 'ps_1' as never, idempotencyKey: 'r1', connectorReference: ref, amountMinor: 250, currency: 'USD' });
  assert.equal(r1.amountMinor, 250);
  assert.deepEqual(await s.refund({ merchantId: 'm-1' as never, sessionId: 'ps_1' as never, idempotencyKey: 'r1', connectorReference: ref, amountMinor: 250, currency: 'USD' }), r1);
  await assert.rejects(s.refund({ merchantId: 'm-1' as never, sessionId: 'ps_1' as never, idempotencyKey: 'r2', connectorReference: ref, amountMinor: 1001, currency: 'USD' }), rejectsWith('invalid-amount'));
  const r3 = await s.refund({ merchantId: 'm-1' as never, sessionId: 'ps_1' as never, idempotencyKey: 'r3', connectorReference: ref, amountMinor: null, currency: 'USD' });
  assert.equal(r3.amountMinor, 1000);
  assert.equal(s.processed.refunds, 2);
  await assert.rejects(s.refund({ merchantId: 'm-1' as never, sessionId: 'ps_1' as never, idempotencyKey: 'r4', connectorReference: 'ch_nope', amountMinor: null, currency: 'USD' }), rejectsWith('connector-error', false));
});

test('errors and results never contain the card number or security code', async () => {
  const s = new SandboxConnector();
  const texts: string[] = [];
  for (const n of Object.values(SANDBOX_TEST_CARDS)) {
    if (n === SANDBOX_TEST_CARDS.slow) continue;
    try {
      texts.push(JSON.stringify(await s.charge(chargeReq(n, `x-${n}`))));
    } catch (e) {
      texts.push(String(e), JSON.stringify(e));
    }
  }
  for (const t of texts) {
    for (const n of Object.values(SANDBOX_TEST_CARDS)) assert.ok(!t.includes(n));
    assert.ok(!/\b123\b/.test(t), 'security code');
  }
});
