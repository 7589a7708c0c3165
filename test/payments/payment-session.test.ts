import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertTransition, canTransition, SESSION_TRANSITIONS, TERMINAL_STATES, validateDetails,
} from '../../src/payments/payment-session.ts';
import { resolveCaptureConfig } from '../../src/payments/session-config.ts';
import type { PaymentResult, SessionState } from '../../src/payments/types.ts';
import { isCardlineError } from '../../src/errors/index.ts';
import { makeSession } from './session-helpers.ts';

const ALL: SessionState[] = ['created', 'capturing', 'ready', 'submitting', 'succeeded', 'failed', 'cancelled', 'expired'];
const code = (c: string) => (e: unknown) => isCardlineError(e) && e.code === c;

function ok(): PaymentResult {
  return { status: 'succeeded', token: null, authorizationCode: 'A1B2C3', connector: 'sandbox', connectorReference: 'ch_1', errorCode: null, message: null };
}
function bad(errorCode: string): PaymentResult {
  return { status: 'failed', token: null, authorizationCode: null, connector: 'sandbox', connectorReference: null, errorCode, message: null };
}

test('transition table: exactly the documented moves are legal, terminal states have no exits', () => {
  const legal = new Set([
    'created>capturing', 'created>cancelled', 'created>expired',
    'capturing>capturing', 'capturing>ready', 'capturing>failed', 'capturing>cancelled', 'capturing>expired',
    'ready>capturing', 'ready>submitting', 'ready>cancelled', 'ready>expired',
    'submitting>succeeded', 'submitting>failed', 'submitting>ready',
  ]);
  for (const from of ALL) {
    for (const to of ALL) {
      const expect = legal.has(`${from}>${to}`);
      assert.equal(canTransition(from, to), expect, `${from} -> ${to}`);
      if (expect) assertTransition(from, to);
      else assert.throws(() => assertTransition(from, to), code('invalid-state'));
    }
  }
  for (const t of TERMINAL_STATES) assert.deepEqual(SESSION_TRANSITIONS[t], []);
});

test('happy path: fields in order, auto-advance, fixed lengths end expiry and CVV, then ready', () => {
  const { session, feed, types, events } = makeSession();
  assert.equal(session.state, 'created');
  session.startCapture();
  assert.equal(session.state, 'capturing');
  assert.equal(session.currentField, 'card-number');
  feed('4111111111111111#');
  assert.equal(session.currentField, 'expiry');
  feed('1231');
  assert.equal(session.currentField, 'security-code');
  feed('123');
  assert.equal(session.state, 'ready');
  assert.equal(session.currentField, null);
  const t = types();
  assert.equal(t[0], 'session.created');
  assert.deepEqual(t.filter((x) => x !== 'field.progress'), [
    'session.created', 'field.started', 'field.completed', 'field.started', 'field.completed', 'field.started', 'field.completed', 'session.ready',
  ]);
  const snap = session.snapshot();
  assert.equal(snap.brand, 'visa');
  assert.equal(snap.last4, '1111');
  assert.deepEqual(snap.fields.map((f) => [f.field, f.state, f.digitCount]), [['card-number', 'valid', 16], ['expiry', 'valid', 4], ['security-code', 'valid', 3]]);
  assert.equal(snap.fields[0]?.display, '•••• •••• •••• 1111');
  assert.equal(snap.fields[1]?.display, null);
  // sequences strictly increase by one
  events.forEach((e, i) => assert.equal(e.sequence, i + 1));
});

test('Amex: 15 digits complete without "#", security code needs 4 digits, 4-6-5 display', () => {
  const { session, feed } = makeSession();
  session.startCapture();
  feed('378282246310005');
  assert.equal(session.currentField, 'expiry');
  feed('0631');
  feed('123');
  assert.equal(session.currentField, 'security-code', '3 digits are not enough for Amex');
  feed('4');
  assert.equal(session.state, 'ready');
  assert.equal(session.snapshot().fields[0]?.display, '•••• •••••• •0005');
});

test('brand appears as soon as the first digits decide it', () => {
  const { session, feed, events } = makeSession();
  session.startCapture();
  feed('3');
  assert.equal(session.snapshot().brand, null);
  feed('7');
  assert.equal(session.snapshot().brand, 'amex');
  assert.equal(session.snapshot().last4, null, 'no last four until the number is complete and valid');
  const last = events[events.length - 1];
  assert.equal(last?.type, 'field.progress');
  assert.equal(last?.session.fields[0]?.digitCount, 2);
  assert.equal(last?.session.fields[0]?.state, 'entering');
});

test('"*" clears the field being typed', () => {
  const { session, feed } = makeSession();
  session.startCapture();
  feed('41111');
  feed('*');
  assert.equal(session.snapshot().fields[0]?.digitCount, 0);
  assert.equal(session.snapshot().brand, null);
  feed('5555555555554444#');
  assert.equal(session.currentField, 'expiry');
  assert.equal(session.snapshot().brand, 'mastercard');
});

test('invalid value: attempt counted, error shown, digits cleared, same field re-prompted', () => {
  const { session, feed, types, vault } = makeSession();
  session.startCapture();
  feed('4111111111111112#');
  assert.equal(session.state, 'capturing');
  assert.equal(session.currentField, 'card-number');
  const f = session.snapshot().fields[0];
  assert.deepEqual([f?.state, f?.attempts, f?.errorCode, f?.digitCount], ['invalid', 1, 'invalid-card-number', 0]);
  assert.equal(vault.length(session.id, 'card-number'), 0);
  assert.equal(types().at(-1), 'field.invalid');
  feed('4');
  assert.equal(session.snapshot().fields[0]?.state, 'entering');
  feed('111111111111111#');
  assert.equal(session.currentField, 'expiry');
  assert.equal(session.snapshot().fields[0]?.errorCode, null);
  assert.equal(session.snapshot().fields[0]?.attempts, 1, 'attempts are history, kept');
});

test('max attempts (policy fail): session failed with max-attempts and card data wiped', () => {
  const { session, feed, vault, clock } = makeSession({ capture: { fieldDefaults: { maxAttempts: 2 } } });
  session.startCapture();
  feed('4111111111111111#');
  feed('1399');
  assert.equal(session.snapshot().fields[1]?.errorCode, 'invalid-expiry');
  feed('0120');
  assert.equal(session.state, 'failed');
  assert.equal(session.snapshot().errorCode, 'max-attempts');
  assert.equal(vault.has(session.id), false);
  assert.equal(clock.pending, 0, 'no timer left behind');
  assert.throws(() => session.feedDigit('1'), code('invalid-state'));
});

test('max attempts (policy wait-for-agent): field locked until re-captured, attempts reset', () => {
  const { session, feed } = makeSession({ capture: { onMaxAttempts: 'wait-for-agent', fields: ['card-number', { field: 'expiry', maxAttempts: 1 }, 'security-code'] } });
  session.startCapture();
  feed('4111111111111111#');
  feed('0000');
  assert.equal(session.state, 'capturing');
  assert.equal(session.snapshot().errorCode, 'max-attempts');
  assert.throws(() => session.feedDigit('1'), code('invalid-state'));
  session.recapture('expiry');
  assert.equal(session.snapshot().errorCode, null);
  assert.equal(session.snapshot().fields[1]?.attempts, 0);
  feed('1230');
  assert.equal(session.currentField, 'security-code');
});

test('accepted brands: a brand the merchant does not take is refused after the first deciding digits', () => {
  const { session, feed, clock } = makeSession({ capture: { acceptedBrands: ['visa'] } });
  session.startCapture();
  feed('5');
  assert.equal(session.snapshot().fields[0]?.state, 'entering');
  feed('1');
  const f = session.snapshot().fields[0];
  assert.deepEqual([f?.state, f?.errorCode, f?.attempts, f?.digitCount], ['invalid', 'invalid-card-type', 1, 0]);
  // the caller keeps typing the rest of the refused card: discarded, not a cascade of failed attempts
  feed('55555555554444#');
  assert.equal(session.snapshot().fields[0]?.attempts, 1);
  assert.equal(session.snapshot().fields[0]?.digitCount, 0);
  feed('9');
  assert.equal(session.snapshot().fields[0]?.errorCode, 'invalid-card-type', 'an unknown issuer range is refused at once too');
  assert.equal(session.snapshot().fields[0]?.attempts, 2);
  feed('12');
  clock.advance(10_000); // a pause also ends the discarded entry
  feed('4111111111111111#');
  assert.equal(session.currentField, 'expiry');
  assert.equal(session.snapshot().fields[0]?.attempts, 2);
});

test('a "#" right after a field that completed at its fixed length is not an empty attempt at the next field', () => {
  const { session, feed } = makeSession();
  session.startCapture();
  feed('5555555555554444#');
  assert.equal(session.currentField, 'expiry');
  assert.equal(session.snapshot().fields[1]?.attempts, 0);
  feed('1231#123#');
  assert.equal(session.state, 'ready', 'a trailing "#" after the last field is ignored as well');
  assert.throws(() => session.feedDigit('#'), code('invalid-state'), 'only one trailing "#" is swallowed');
  // a mistyped 16-digit number fails at its length; the "#" after it is not a second failed attempt
  const b = makeSession();
  b.session.startCapture();
  b.feed('5555555555554445#');
  assert.equal(b.session.snapshot().fields[0]?.attempts, 1);
});

test('timeouts: no input within the total timeout counts an attempt; a pause after digits ends the field', () => {
  const { session, feed, clock } = makeSession({ capture: { fieldDefaults: { totalTimeoutMs: 30_000, interDigitTimeoutMs: 5_000 } } });
  session.startCapture();
  clock.advance(29_999);
  assert.equal(session.snapshot().fields[0]?.attempts, 0);
  clock.advance(1);
  assert.deepEqual([session.snapshot().fields[0]?.attempts, session.snapshot().fields[0]?.errorCode], [1, 'timeout']);
  feed('4111111111111111');
  clock.advance(4_999);
  assert.equal(session.currentField, 'card-number');
  clock.advance(1);
  assert.equal(session.currentField, 'expiry', 'the pause acted as the terminator');
  // a pause on an incomplete value validates it (and fails it)
  feed('12');
  clock.advance(5_000);
  assert.deepEqual([session.snapshot().fields[1]?.state, session.snapshot().fields[1]?.errorCode], ['invalid', 'invalid-expiry']);
});

test('re-capture from ready: other fields stay valid, then ready again', () => {
  const { session, feed } = makeSession();
  session.startCapture();
  feed('4111111111111111#12311' + '23');
  assert.equal(session.state, 'ready');
  session.recapture('card-number');
  assert.equal(session.state, 'capturing');
  assert.equal(session.snapshot().last4, null);
  feed('5555555555554444#');
  assert.equal(session.state, 'ready', 'expiry and CVV still valid: straight to ready');
  assert.equal(session.snapshot().last4, '4444');
});

test('re-capturing an Amex card drops a 3-digit security code that no longer fits', () => {
  const { session, feed } = makeSession();
  session.startCapture();
  feed('4111111111111111#1231123');
  session.recapture('card-number');
  feed('378282246310005');
  assert.equal(session.state, 'capturing');
  assert.equal(session.currentField, 'security-code');
  assert.equal(session.snapshot().fields[2]?.digitCount, 0);
  feed('1234');
  assert.equal(session.state, 'ready');
});

test('optional postal code can be skipped with "#"; min length enforced when typed', () => {
  const a = makeSession({ capture: { fields: ['card-number', 'expiry', 'security-code', { field: 'postal-code', required: false, minLength: 5, maxLength: 9 }] } });
  a.session.startCapture();
  a.feed('4111111111111111#1231123');
  assert.equal(a.session.currentField, 'postal-code');
  a.feed('#');
  assert.equal(a.session.currentField, 'postal-code', 'an immediate "#" closes the security code it follows');
  a.clock.advance(3_000);
  a.feed('#');
  assert.equal(a.session.state, 'ready');
  assert.equal(a.session.snapshot().fields[3]?.state, 'skipped');

  const b = makeSession({ capture: { fields: ['card-number', 'expiry', { field: 'postal-code', minLength: 5, maxLength: 9 }] } });
  b.session.startCapture();
  b.feed('4111111111111111#1231');
  b.clock.advance(3_000);
  b.feed('#');
  assert.equal(b.session.snapshot().fields[2]?.errorCode, 'invalid-postal-code', 'required: empty is invalid');
  b.feed('1234#');
  assert.equal(b.session.snapshot().fields[2]?.attempts, 2);
  b.feed('941071234');
  assert.equal(b.session.state, 'ready', 'max length completes without "#"');
});

test('terminator null: only fixed length or the pause end a field', () => {
  const { session, feed, clock } = makeSession({ capture: { fields: ['card-number', 'expiry', { field: 'postal-code', terminator: null }] } });
  session.startCapture();
  feed('4111111111111111#1231');
  feed('94107#');
  assert.equal(session.snapshot().fields[2]?.digitCount, 5, '"#" is not special here and is ignored');
  clock.advance(10_000);
  assert.equal(session.state, 'ready');
});

test('keys A-D that are not the terminator are ignored', () => {
  const { session, feed, events } = makeSession();
  session.startCapture();
  const before = events.length;
  feed('ABCD');
  assert.equal(events.length, before);
  assert.equal(session.snapshot().fields[0]?.digitCount, 0);
});

test('security code before card number: 3 or 4 digits accepted while the brand is unknown', () => {
  const { session, feed } = makeSession({ capture: { fields: ['security-code', 'card-number', 'expiry'] } });
  session.startCapture();
  feed('123#');
  assert.equal(session.currentField, 'card-number');
  feed('4111111111111111#1231');
  assert.equal(session.state, 'ready');
});

test('auto-advance off: the agent starts each field', () => {
  const { session, feed } = makeSession({ capture: { autoAdvance: false } });
  session.startCapture();
  feed('4111111111111111#');
  assert.equal(session.state, 'capturing');
  assert.equal(session.currentField, null);
  assert.throws(() => session.feedDigit('1'), code('invalid-state'));
  session.startCapture();
  assert.equal(session.currentField, 'expiry');
  feed('1231');
  session.startCapture('security-code');
  feed('123');
  assert.equal(session.state, 'ready');
  assert.throws(() => session.startCapture(), code('invalid-state'));
});

test('digits with no field being captured are refused and change nothing', () => {
  const { session, feed, events } = makeSession();
  assert.throws(() => session.feedDigit('4'), code('invalid-state'));
  session.startCapture();
  feed('4111111111111111#1231123');
  const n = events.length;
  assert.throws(() => session.feedDigit('9'), code('invalid-state'));
  assert.equal(events.length, n);
  assert.equal(session.state, 'ready');
  assert.throws(() => session.recapture('postal-code'), code('invalid-field'));
});

test('details: validated, editable until submit', () => {
  const { session } = makeSession({ init: { amountMinor: null, currency: null } });
  session.setDetails({ amountMinor: 999, currency: 'eur', description: 'Order 17', reference: 'INV-17' });
  const s = session.snapshot();
  assert.deepEqual([s.amountMinor, s.currency, s.description, s.reference], [999, 'EUR', 'Order 17', 'INV-17']);
  assert.throws(() => session.setDetails({ amountMinor: -1 }), code('invalid-amount'));
  assert.throws(() => session.setDetails({ amountMinor: 1.5 }), code('invalid-amount'));
  assert.throws(() => session.setDetails({ currency: 'XXY' }), code('invalid-amount'));
  assert.throws(() => session.setDetails({ description: 'card 4111 1111 1111 1111' }), code('usage'));
  assert.throws(() => session.setDetails({ reference: 'x'.repeat(129) }), code('usage'));
  assert.deepEqual(validateDetails({ amountMinor: null }), { amountMinor: null });
});

test('submit: only when ready; a charge needs an amount; tokenize does not', () => {
  const a = makeSession({ init: { amountMinor: null, currency: null } });
  assert.throws(() => a.session.beginSubmit(), code('invalid-state'));
  a.session.startCapture();
  a.feed('4111111111111111#1231123');
  assert.throws(() => a.session.beginSubmit(), code('amount-required'));
  assert.equal(a.session.state, 'ready', 'a refused submit leaves the session as it was');
  a.session.setDetails({ amountMinor: 500, currency: 'USD' });
  assert.deepEqual(a.session.beginSubmit(), { attempt: 1 });
  assert.equal(a.session.state, 'submitting');
  assert.throws(() => a.session.beginSubmit(), code('invalid-state'), 'double submit');
  assert.throws(() => a.session.cancel(), code('invalid-state'), 'no cancel with a connector call in flight');
  assert.throws(() => a.session.setDetails({ amountMinor: 1 }), code('invalid-state'));

  const t = makeSession({ init: { intent: 'tokenize', amountMinor: null, currency: null } });
  t.session.startCapture();
  t.feed('4111111111111111#1231123');
  t.session.beginSubmit();
  t.session.completeSubmit({ ...ok(), token: 'tok_1' as PaymentResult['token'] });
  assert.equal(t.session.state, 'succeeded');
  assert.equal(t.vault.has(t.session.id), false, 'card data wiped on success');
  assert.equal(t.session.snapshot().result?.token, 'tok_1');
});

test('retryable connector failures return to ready until maxSubmitAttempts; definite ones fail', () => {
  const { session, feed, vault } = makeSession({ capture: { maxSubmitAttempts: 2 } });
  session.startCapture();
  feed('4111111111111111#1231123');
  session.beginSubmit();
  assert.equal(session.failSubmit(bad('connector-timeout'), true), 'ready');
  assert.equal(session.snapshot().errorCode, 'connector-timeout');
  assert.equal(vault.has(session.id), true, 'card kept for the retry');
  assert.deepEqual(session.beginSubmit(), { attempt: 2 });
  assert.equal(session.snapshot().errorCode, null);
  assert.equal(session.failSubmit(bad('connector-error'), true), 'failed');
  assert.equal(session.snapshot().errorCode, 'connector-error');
  assert.equal(vault.has(session.id), false);

  const d = makeSession();
  d.session.startCapture();
  d.feed('4111111111111111#1231123');
  d.session.beginSubmit();
  assert.equal(d.session.failSubmit(bad('card-declined'), false), 'failed');
  assert.equal(d.session.snapshot().result?.errorCode, 'card-declined');
});

test('cancel wipes the card and stops every timer', () => {
  const { session, feed, vault, clock } = makeSession();
  session.startCapture();
  feed('41111');
  session.cancel();
  assert.equal(session.state, 'cancelled');
  assert.equal(vault.has(session.id), false);
  assert.equal(clock.pending, 0);
  assert.throws(() => session.cancel(), code('invalid-state'));
  assert.throws(() => session.startCapture(), code('invalid-state'));
});

test('TTL: the session expires; while submitting, expiry waits for the connector', () => {
  const a = makeSession({ capture: { sessionTtlMs: 60_000 } });
  a.session.startCapture();
  a.clock.advance(60_000);
  assert.equal(a.session.state, 'expired');
  assert.equal(a.session.snapshot().errorCode, 'session-expired');
  assert.equal(a.vault.has(a.session.id), false);

  const b = makeSession({ capture: { sessionTtlMs: 60_000 } });
  b.session.startCapture();
  b.feed('4111111111111111#1231123');
  b.session.beginSubmit();
  b.clock.advance(120_000);
  assert.equal(b.session.state, 'submitting');
  assert.equal(b.session.failSubmit(bad('connector-timeout'), true), 'expired');
  assert.equal(b.session.state, 'expired');
  assert.equal(b.vault.has(b.session.id), false);

  const c = makeSession({ capture: { sessionTtlMs: 60_000 } });
  c.session.startCapture();
  c.feed('4111111111111111#1231123');
  c.session.beginSubmit();
  c.clock.advance(120_000);
  c.session.completeSubmit(ok());
  assert.equal(c.session.state, 'succeeded', 'money moved: the result wins over the TTL');
});

test('capture configuration is validated', () => {
  const bads = [
    { fields: ['card-number'] },
    { fields: ['card-number', 'expiry', 'expiry'] },
    { fields: ['card-number', 'expiry', 'pin'] },
    { fields: ['card-number', 'expiry', { field: 'security-code', required: false }] },
    { fieldDefaults: { maxAttempts: 0 } },
    { fieldDefaults: { terminator: '*' } },
    { acceptedBrands: [] },
    { expiry: { timeZone: 'Nowhere/Land' } },
    { onMaxAttempts: 'retry' },
    { fields: ['card-number', 'expiry', { field: 'postal-code', minLength: 9, maxLength: 5 }] },
  ];
  for (const b of bads) assert.throws(() => resolveCaptureConfig(b as never), code('invalid-session-config'), JSON.stringify(b));
  const r = resolveCaptureConfig({ fieldDefaults: { maxAttempts: undefined } });
  assert.equal(r.fields[0]?.maxAttempts, 3);
  assert.deepEqual(r.fields.map((f) => f.field), ['card-number', 'expiry', 'security-code']);
});

test('events carry copies: mutating one cannot change the session', () => {
  const { session, events } = makeSession();
  session.startCapture();
  const e = events.at(-1);
  assert.ok(e);
  e.session.fields[0]!.state = 'valid';
  e.session.state = 'succeeded';
  assert.equal(session.snapshot().fields[0]?.state, 'waiting');
  assert.equal(session.state, 'capturing');
});
