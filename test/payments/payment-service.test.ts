import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectorError, SANDBOX_TEST_CARDS, type ChargeRequest, type PaymentConnector, type ConnectorOutcome } from '../../src/connectors/index.ts';
import { isCardlineError } from '../../src/errors/index.ts';
import type { MaskedSession, MerchantId, PaymentStore, SessionEvent, SessionId } from '../../src/payments/index.ts';
import { drain, makeService } from './service-helpers.ts';

const code = (c: string) => (e: unknown) => isCardlineError(e) && e.code === c;
const FILL = '#1231123'; // expiry 12/31, CVV 123

async function readySession(h: ReturnType<typeof makeService>, pan: string = SANDBOX_TEST_CARDS.visa, extra: Record<string, unknown> = {}): Promise<MaskedSession> {
  const s = await h.service.create({ callId: 'CA-100', merchantId: 'm-1', intent: 'charge', amountMinor: 1000, currency: 'USD', createdBy: 'agent-7', ...extra });
  await h.service.startCapture(s.id);
  const cvv = pan.length === 15 ? '#12311234' : FILL;
  return h.service.feedDigits(s.id, pan + cvv);
}

test('create: masked session, persisted, readable and listable', async () => {
  const h = makeService();
  const s = await h.service.create({ callId: 'CA-1', merchantId: 'm-1', intent: 'tokenize', createdBy: 'agent-1' });
  assert.equal(s.id, 'ps_0001');
  assert.equal(s.state, 'created');
  assert.equal(s.channel, 'agent-assisted');
  assert.deepEqual(s.fields.map((f) => f.field), ['card-number', 'expiry', 'security-code']);
  assert.deepEqual(await h.store.getSession(s.id as SessionId), s);
  assert.deepEqual(await h.service.get(s.id), s);
  assert.equal((await h.service.list({ merchantId: 'm-1' as MerchantId })).length, 1);
  assert.deepEqual(h.events.map((e) => e.type), ['session.created']);
  const ivr = await h.service.create({ callId: 'CA-2', merchantId: 'm-1', intent: 'tokenize', channel: 'ivr', startCapture: true });
  assert.equal(ivr.state, 'capturing');
  assert.equal(ivr.currentField, 'card-number');
});

test('create: bad input is a usage error and creates nothing', async () => {
  const h = makeService();
  const bads: unknown[] = [
    { callId: '', merchantId: 'm-1', intent: 'charge' },
    { callId: 'c', merchantId: 'm 1', intent: 'charge' },
    { callId: 'c', merchantId: 'm-1', intent: 'steal' },
    { callId: 'c', merchantId: 'm-1', intent: 'charge', channel: 'fax' },
    { callId: 'c', merchantId: 'm-1', intent: 'charge', createdBy: 'x'.repeat(200) },
  ];
  for (const b of bads) await assert.rejects(h.service.create(b as never), code('usage'));
  await assert.rejects(h.service.create({ callId: 'c', merchantId: 'm-1', intent: 'charge', amountMinor: -5 }), code('invalid-amount'));
  await assert.rejects(h.service.create({ callId: 'c', merchantId: 'm-1', intent: 'charge', fields: ['card-number'] }), code('invalid-session-config'));
  assert.equal(h.service.liveCount, 0);
  assert.equal(h.vault.size, 0);
  assert.equal((await h.store.listSessions({})).length, 0);
});

test('charge end to end: succeeded, one transaction, one usage record, card data wiped', async () => {
  const h = makeService();
  const ready = await readySession(h);
  assert.equal(ready.state, 'ready');
  assert.equal(ready.fields[0]?.display, '•••• •••• •••• 1111');
  const done = await h.service.submit(ready.id);
  assert.equal(done.state, 'succeeded');
  assert.equal(done.result?.status, 'succeeded');
  assert.equal(done.result?.connector, 'sandbox');
  assert.match(done.result?.connectorReference ?? '', /^ch_sandbox_/);
  assert.equal(h.vault.has(done.id as SessionId), false);
  const txs = await h.service.transactions(done.id);
  assert.equal(txs.length, 1);
  assert.deepEqual(
    [txs[0]?.kind, txs[0]?.status, txs[0]?.brand, txs[0]?.last4, txs[0]?.amountMinor, txs[0]?.currency, txs[0]?.idempotencyKey],
    ['charge', 'succeeded', 'visa', '1111', 1000, 'USD', `cardline-${done.id}-charge`],
  );
  const usage = await h.store.listUsage({});
  assert.deepEqual(usage.map((u) => [u.kind, u.outcome, u.transactionId, u.quantity]), [['transaction', 'succeeded', txs[0]?.id, 1]]);
  assert.equal(h.sandbox.processed.charges, 1);
  assert.equal((await h.store.getSession(done.id as SessionId))?.state, 'succeeded');
  assert.deepEqual(h.events.map((e) => e.type).filter((t) => t.startsWith('session.')), ['session.created', 'session.ready', 'session.submitting', 'session.succeeded']);
});

test('tokenize end to end returns a token; no amount needed', async () => {
  const h = makeService();
  const s = await h.service.create({ callId: 'CA-1', merchantId: 'm-1', intent: 'tokenize' });
  await h.service.startCapture(s.id);
  await h.service.feedDigits(s.id, `${SANDBOX_TEST_CARDS.mastercard}${FILL}`);
  const done = await h.service.submit(s.id);
  assert.equal(done.state, 'succeeded');
  assert.match(done.result?.token ?? '', /^tok_sandbox_[0-9a-f]{24}$/);
  assert.equal((await h.service.transactions(s.id))[0]?.token, done.result?.token);
});

test('decline: failed with the decline code; transaction and usage record the failure', async () => {
  const h = makeService();
  const s = await readySession(h, SANDBOX_TEST_CARDS.insufficientFunds);
  const done = await h.service.submit(s.id);
  assert.equal(done.state, 'failed');
  assert.equal(done.errorCode, 'insufficient-funds');
  assert.equal(done.result?.errorCode, 'insufficient-funds');
  const [tx] = await h.service.transactions(s.id);
  assert.deepEqual([tx?.status, tx?.errorCode], ['failed', 'insufficient-funds']);
  assert.deepEqual((await h.store.listUsage({})).map((u) => u.outcome), ['failed']);
  assert.equal(h.vault.size, 0);
});

test('retryable failures: back to ready with the same key each time, failed after maxSubmitAttempts', async () => {
  const h = makeService();
  const s = await readySession(h, SANDBOX_TEST_CARDS.networkError);
  const a1 = await h.service.submit(s.id);
  assert.deepEqual([a1.state, a1.errorCode], ['ready', 'connector-error']);
  assert.equal(h.vault.has(s.id as SessionId), true);
  const a2 = await h.service.submit(s.id);
  assert.equal(a2.state, 'ready');
  const a3 = await h.service.submit(s.id);
  assert.deepEqual([a3.state, a3.errorCode], ['failed', 'connector-error']);
  const txs = await h.service.transactions(s.id);
  assert.equal(txs.length, 1, 'one transaction row per idempotency key');
  assert.equal(txs[0]?.status, 'failed');
  assert.equal((await h.store.listUsage({})).length, 3, 'one usage record per attempt');
  assert.equal(h.vault.size, 0);
});

test('lost answer: the retry returns the first charge, the card is charged exactly once', async () => {
  const h = makeService();
  const s = await readySession(h, SANDBOX_TEST_CARDS.lostResponse);
  const first = await h.service.submit(s.id);
  assert.deepEqual([first.state, first.errorCode], ['ready', 'connector-error']);
  assert.equal(h.sandbox.processed.charges, 1, 'the processor did charge');
  const second = await h.service.submit(s.id);
  assert.equal(second.state, 'succeeded');
  assert.equal(second.result?.connectorReference, h.sandbox.charges[0]?.reference);
  assert.equal(h.sandbox.processed.charges, 1, 'never charged twice');
  assert.equal(h.sandbox.charges.length, 1);
});

test('a crashed connector (throws a plain error) → ready with connector-error; the retry reuses the key', async () => {
  const keys: string[] = [];
  let calls = 0;
  const crashing: PaymentConnector = {
    name: 'crashy', capabilities: { tokenize: true, charge: true, refund: false },
    tokenize: async () => { throw new Error('unreachable'); },
    charge: async (req: ChargeRequest): Promise<ConnectorOutcome> => {
      keys.push(req.idempotencyKey);
      if (++calls === 1) throw new TypeError(`cannot read properties of undefined (card ${req.card.number.toString('ascii')})`);
      return { token: null, connectorReference: 'ref_ok', authorizationCode: null, message: null };
    },
    refund: async () => { throw new ConnectorError('connector-unsupported', 'crashy'); },
  };
  const h = makeService({ connector: crashing });
  const s = await readySession(h);
  const a = await h.service.submit(s.id);
  assert.deepEqual([a.state, a.errorCode], ['ready', 'connector-error']);
  assert.ok(!JSON.stringify(a).includes(SANDBOX_TEST_CARDS.visa));
  assert.ok(!h.logs().includes(SANDBOX_TEST_CARDS.visa), 'the crash message with the card is not logged');
  const b = await h.service.submit(s.id);
  assert.equal(b.state, 'succeeded');
  assert.deepEqual(keys, [`cardline-${s.id}-charge`, `cardline-${s.id}-charge`]);
});

test('a connector that never answers: the service timeout makes it a retryable connector-timeout', async () => {
  const h = makeService();
  const s = await readySession(h, SANDBOX_TEST_CARDS.slow);
  const p = h.service.submit(s.id);
  await drain();
  assert.equal((await h.service.get(s.id)).state, 'submitting');
  h.clock.advance(5_000);
  const r = await p;
  assert.deepEqual([r.state, r.errorCode], ['ready', 'connector-timeout']);
  assert.equal(h.sandbox.processed.charges, 0);
});

test('double submit: the second is refused with invalid-state, one charge', async () => {
  const h = makeService();
  const s = await readySession(h);
  const [a, b] = await Promise.allSettled([h.service.submit(s.id), h.service.submit(s.id)]);
  assert.equal(a.status, 'fulfilled');
  assert.ok(b.status === 'rejected' && code('invalid-state')(b.reason));
  await assert.rejects(h.service.submit(s.id), code('invalid-state'), 'submit after success');
  assert.equal(h.sandbox.processed.charges, 1);
  assert.equal((await h.service.get(s.id)).state, 'succeeded');
});

test('submit when not ready or without amount: typed error, session intact', async () => {
  const h = makeService();
  const s = await h.service.create({ callId: 'CA-1', merchantId: 'm-1', intent: 'charge' });
  await assert.rejects(h.service.submit(s.id), code('invalid-state'));
  await h.service.startCapture(s.id);
  await h.service.feedDigits(s.id, '4111');
  const before = await h.service.get(s.id);
  await assert.rejects(h.service.submit(s.id), code('invalid-state'));
  assert.deepEqual(await h.service.get(s.id), before);
  await h.service.feedDigits(s.id, `111111111111${FILL}`);
  await assert.rejects(h.service.submit(s.id), code('amount-required'));
  assert.equal((await h.service.get(s.id)).state, 'ready');
  await h.service.setAmount(s.id, 2500, 'gbp');
  const done = await h.service.submit(s.id);
  assert.deepEqual([done.state, done.amountMinor, done.currency], ['succeeded', 2500, 'GBP']);
});

test('unknown session ids: session-not-found from every command', async () => {
  const h = makeService();
  const id = 'ps_nope';
  await assert.rejects(h.service.get(id), code('session-not-found'));
  assert.equal(await h.service.find(id), null);
  await assert.rejects(h.service.startCapture(id), code('session-not-found'));
  await assert.rejects(h.service.recapture(id, 'expiry'), code('session-not-found'));
  await assert.rejects(h.service.feedDigits(id, '1'), code('session-not-found'));
  await assert.rejects(h.service.setDetails(id, { amountMinor: 1 }), code('session-not-found'));
  await assert.rejects(h.service.submit(id), code('session-not-found'));
  await assert.rejects(h.service.cancel(id), code('session-not-found'));
  await assert.rejects(h.service.refund(id), code('session-not-found'));
  await assert.rejects(h.service.transactions(id), code('session-not-found'));
  assert.throws(() => h.service.subscribe(id, () => {}), code('session-not-found'));
});

test('digits after completion and bad keys: typed errors that leave the session intact', async () => {
  const h = makeService();
  const s = await readySession(h);
  await assert.rejects(h.service.feedDigits(s.id, '5'), code('invalid-state'));
  assert.equal((await h.service.get(s.id)).state, 'ready');
  const c = await h.service.create({ callId: 'CA-2', merchantId: 'm-1', intent: 'tokenize' });
  await h.service.startCapture(c.id);
  await h.service.feedDigits(c.id, '41');
  await assert.rejects(h.service.feedDigits(c.id, '11x1'), code('dtmf-invalid-digit'));
  assert.equal((await h.service.get(c.id)).fields[0]?.digitCount, 2, 'nothing of a bad batch is applied');
  await assert.rejects(h.service.feedDigits(c.id, ''), code('usage'));
  // a batch that runs past the last field: the keys before are applied, the error says how many
  const e = await h.service.feedDigits(c.id, `11111111111111${FILL}99`).catch((x: unknown) => x);
  assert.ok(code('invalid-state')(e));
  assert.match((e as Error).message, /22 of 24 keys were taken/);
  assert.ok(!/1111/.test((e as Error).message));
  assert.equal((await h.service.get(c.id)).state, 'ready');
});

test('subscribe: ordered masked events, after they are saved; unsubscribe; a throwing listener is isolated', async () => {
  const h = makeService();
  const s = await h.service.create({ callId: 'CA-1', merchantId: 'm-1', intent: 'tokenize' });
  const got: SessionEvent[] = [];
  const savedStates: (string | undefined)[] = [];
  const off = h.service.subscribe(s.id, (e) => {
    got.push(e);
    void h.store.getSession(s.id as SessionId).then((x) => savedStates.push(x?.updatedAt));
  });
  h.service.subscribe(s.id, () => { throw new Error('bad listener'); });
  await h.service.startCapture(s.id);
  await h.service.feedDigits(s.id, '4111');
  assert.deepEqual(got.map((e) => e.type), ['field.started', 'field.progress', 'field.progress', 'field.progress', 'field.progress']);
  assert.deepEqual(got.map((e) => e.sequence), [2, 3, 4, 5, 6]);
  assert.equal(got[0]?.session.fields[0]?.state, 'waiting');
  off();
  await h.service.feedDigits(s.id, '1');
  assert.equal(got.length, 5);
  assert.match(h.logs(), /a session listener threw/);
  await drain();
  assert.equal(savedStates.length, 5);
});

test('cancel: persisted, card data wiped, further commands refused', async () => {
  const h = makeService();
  const s = await h.service.create({ callId: 'CA-1', merchantId: 'm-1', intent: 'tokenize' });
  await h.service.startCapture(s.id);
  await h.service.feedDigits(s.id, '4111');
  const c = await h.service.cancel(s.id);
  assert.equal(c.state, 'cancelled');
  assert.equal(h.vault.size, 0);
  assert.equal((await h.store.getSession(s.id as SessionId))?.state, 'cancelled');
  await assert.rejects(h.service.feedDigits(s.id, '1'), code('invalid-state'));
  await assert.rejects(h.service.cancel(s.id), code('invalid-state'));
});

test('timers: field timeout and session TTL are persisted; finished sessions leave memory later', async () => {
  const h = makeService({ capture: { sessionTtlMs: 60_000, fieldDefaults: { totalTimeoutMs: 20_000 } }, retainTerminalMs: 1_000 });
  const s = await h.service.create({ callId: 'CA-1', merchantId: 'm-1', intent: 'tokenize' });
  await h.service.startCapture(s.id);
  h.clock.advance(20_000);
  await h.service.idle();
  assert.equal((await h.store.getSession(s.id as SessionId))?.fields[0]?.errorCode, 'timeout');
  h.clock.advance(40_000);
  await h.service.idle();
  assert.equal((await h.store.getSession(s.id as SessionId))?.state, 'expired');
  assert.equal(h.vault.size, 0);
  assert.equal(h.service.liveCount, 1);
  h.clock.advance(1_000);
  await drain();
  assert.equal(h.service.liveCount, 0);
  assert.equal((await h.service.get(s.id)).state, 'expired', 'read from the store');
});

test('expireStale: the sweep expires sessions past their TTL even when timers are late', async () => {
  const h = makeService({ capture: { sessionTtlMs: 60_000 } });
  const s = await h.service.create({ callId: 'CA-1', merchantId: 'm-1', intent: 'tokenize' });
  const young = await h.service.create({ callId: 'CA-2', merchantId: 'm-1', intent: 'tokenize' });
  assert.equal(await h.service.expireStale(), 0);
  h.clock.jump(30_000);
  const later = await h.service.create({ callId: 'CA-3', merchantId: 'm-1', intent: 'tokenize' });
  h.clock.jump(30_000); // the host slept: 60 s passed for the first two, the TTL timers have not fired
  assert.equal(await h.service.expireStale(), 2);
  assert.equal((await h.service.get(s.id)).state, 'expired');
  assert.equal((await h.service.get(young.id)).state, 'expired');
  assert.equal((await h.service.get(later.id)).state, 'created');
  assert.equal(h.vault.size, 1);
});

test('a succeeded transaction already in the store for the key: reused, connector not called', async () => {
  const h = makeService();
  const s = await readySession(h);
  await h.store.insertTransaction({
    id: 'tx_prev', sessionId: s.id as SessionId, merchantId: 'm-1' as MerchantId, kind: 'charge', connector: 'sandbox',
    idempotencyKey: `cardline-${s.id}-charge`, status: 'succeeded', token: null, brand: 'visa', last4: '1111', amountMinor: 1000,
    currency: 'USD', connectorReference: 'ch_before_crash', authorizationCode: 'ZZ9', errorCode: null, createdAt: '2030-01-01T00:00:00.000Z', updatedAt: '2030-01-01T00:00:00.000Z',
  });
  const done = await h.service.submit(s.id);
  assert.deepEqual([done.state, done.result?.connectorReference], ['succeeded', 'ch_before_crash']);
  assert.equal(h.sandbox.processed.charges, 0);
});

test('recoverInterrupted: unfinished sessions from a previous process are closed', async () => {
  const h = makeService();
  const base = await h.service.create({ callId: 'CA-1', merchantId: 'm-1', intent: 'charge' });
  const template = await h.service.get(base.id);
  await h.store.saveSession({ ...template, id: 'ps_old1' as SessionId, state: 'capturing' });
  await h.store.saveSession({ ...template, id: 'ps_old2' as SessionId, state: 'submitting' });
  await h.store.saveSession({ ...template, id: 'ps_old3' as SessionId, state: 'succeeded' });
  assert.equal(await h.service.recoverInterrupted(), 2);
  assert.deepEqual([(await h.service.get('ps_old1')).state, (await h.service.get('ps_old1')).errorCode], ['expired', 'session-expired']);
  assert.deepEqual([(await h.service.get('ps_old2')).state, (await h.service.get('ps_old2')).errorCode], ['failed', 'connector-error']);
  assert.equal((await h.service.get('ps_old3')).state, 'succeeded');
  assert.equal((await h.service.get(base.id)).state, 'created', 'live sessions untouched');
});

test('refund: partial refund recorded; repeating it does not refund twice; tokenize sessions cannot be refunded', async () => {
  const h = makeService();
  const s = await readySession(h);
  await h.service.submit(s.id);
  const r1 = await h.service.refund(s.id, { amountMinor: 300 });
  assert.deepEqual([r1.kind, r1.status, r1.amountMinor], ['refund', 'succeeded', 300]);
  const again = await h.service.refund(s.id, { amountMinor: 300 });
  assert.equal(again.id, r1.id);
  assert.equal(h.sandbox.processed.refunds, 1);
  await assert.rejects(h.service.refund(s.id, { amountMinor: 5000 }), code('invalid-amount'));
  const rest = await h.service.refund(s.id);
  assert.equal(rest.amountMinor, 700);
  const t = await h.service.create({ callId: 'CA-2', merchantId: 'm-1', intent: 'tokenize' });
  await assert.rejects(h.service.refund(t.id), code('invalid-state'));
});

test('per-merchant capture policy: accepted brands', async () => {
  const h = makeService({ merchants: { 'm-1': { capture: { acceptedBrands: ['visa'] } } } });
  const s = await h.service.create({ callId: 'CA-1', merchantId: 'm-1', intent: 'tokenize' });
  await h.service.startCapture(s.id);
  const r = await h.service.feedDigits(s.id, '55');
  assert.deepEqual([r.fields[0]?.state, r.fields[0]?.errorCode], ['invalid', 'invalid-card-type']);
});

test('no connector for the merchant: submit fails with connector-not-configured', async () => {
  const h = makeService();
  const s = await h.service.create({ callId: 'CA-1', merchantId: 'm-2', intent: 'tokenize' });
  await h.service.startCapture(s.id);
  await h.service.feedDigits(s.id, `${SANDBOX_TEST_CARDS.visa}${FILL}`);
  const r = await h.service.submit(s.id);
  assert.deepEqual([r.state, r.errorCode], ['failed', 'connector-not-configured']);
});

test('a connector echoing the card: reference refused, message dropped', async () => {
  const echo = (what: 'reference' | 'message'): PaymentConnector => ({
    name: 'echo', capabilities: { tokenize: true, charge: true, refund: false },
    tokenize: async () => { throw new Error('x'); },
    charge: async (req) => {
      const pan = req.card.number.toString('ascii');
      return what === 'reference'
        ? { token: null, connectorReference: `ref-${pan}`, authorizationCode: null, message: null }
        : { token: null, connectorReference: 'ref-ok', authorizationCode: null, message: `approved, cvv 123 ok` };
    },
    refund: async () => { throw new ConnectorError('connector-unsupported', 'echo'); },
  });
  const a = makeService({ connector: echo('reference') });
  const sa = await readySession(a);
  const ra = await a.service.submit(sa.id);
  assert.deepEqual([ra.state, ra.errorCode], ['failed', 'connector-error']);
  assert.ok(!a.store.dump().includes(SANDBOX_TEST_CARDS.visa));
  const b = makeService({ connector: echo('message') });
  const sb = await readySession(b);
  const rb = await b.service.submit(sb.id);
  assert.equal(rb.state, 'succeeded');
  assert.equal(rb.result?.message, null);
});

test('no false alarm: ids that merely contain the security code digits are accepted', async () => {
  const hexy: PaymentConnector = {
    name: 'hexy', capabilities: { tokenize: true, charge: true, refund: false },
    tokenize: async () => ({ token: 'tok_9f123ab' as never, connectorReference: 'seti_123x', authorizationCode: null, message: null }),
    charge: async () => ({ token: null, connectorReference: 'ch_ab123cd', authorizationCode: 'A123B9', message: 'ref 41234 approved' }),
    refund: async () => { throw new ConnectorError('connector-unsupported', 'hexy'); },
  };
  const h = makeService({ connector: hexy });
  const s = await readySession(h); // security code 123
  const r = await h.service.submit(s.id);
  assert.deepEqual([r.state, r.result?.connectorReference, r.result?.authorizationCode, r.result?.message], ['succeeded', 'ch_ab123cd', 'A123B9', 'ref 41234 approved']);
});

test('a failing store surfaces to the command that caused the write', async () => {
  const h = makeService();
  const s = await h.service.create({ callId: 'CA-1', merchantId: 'm-1', intent: 'tokenize' });
  const orig = h.store.saveSession.bind(h.store);
  (h.store as PaymentStore).saveSession = async () => { throw new Error('disk full'); };
  await assert.rejects(h.service.startCapture(s.id), /disk full/);
  (h.store as PaymentStore).saveSession = orig;
  const r = await h.service.feedDigits(s.id, '4');
  assert.equal(r.fields[0]?.digitCount, 1);
});

test('close: open sessions expire (persisted), card data wiped, service refuses new work', async () => {
  const h = makeService();
  const a = await h.service.create({ callId: 'CA-1', merchantId: 'm-1', intent: 'tokenize' });
  await h.service.startCapture(a.id);
  await h.service.feedDigits(a.id, '4111');
  await h.service.close();
  assert.equal((await h.store.getSession(a.id as SessionId))?.state, 'expired');
  assert.equal(h.vault.size, 0);
  assert.equal(h.service.liveCount, 0);
  await assert.rejects(h.service.create({ callId: 'CA-2', merchantId: 'm-1', intent: 'tokenize' }), code('invalid-state'));
  await h.service.close();
});
