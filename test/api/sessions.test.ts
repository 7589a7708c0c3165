import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyCallbackSignature } from '../../src/api/index.ts';
import type { MaskedSession } from '../../src/payments/index.ts';
import { CALLBACK_SECRET, startTestServer, type TestServer } from './helpers/server.ts';
import { startReceiver } from './helpers/receiver.ts';
import { sseCollect, wsCollect, type WsResult } from './helpers/clients.ts';

const PAN = '4111111111111111';
const DECLINED = '4000000000000002';
const CVV = '737';
const yy = String((new Date().getUTCFullYear() + 2) % 100).padStart(2, '0');
const EXPIRY = `12${yy}`;

type Body = MaskedSession & { error?: { code: string; message: string } };

function client(s: TestServer) {
  const seen: string[] = [];
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Body; headers: Headers }> => {
    const res = await fetch(s.url + path, {
      method,
      headers: { ...s.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    seen.push(text);
    return { status: res.status, body: JSON.parse(text) as Body, headers: res.headers };
  };
  return { call, seen };
}

describe('payment sessions over HTTP (real service, SQLite file, sandbox connector)', () => {
  let s: TestServer;
  let api: ReturnType<typeof client>;
  before(async () => { s = await startTestServer({ payments: true }); api = client(s); });
  after(async () => { await s.close(); });

  test('the full flow: create → capture → digits → ready → submit → succeeded; live events on WebSocket and SSE; signed callbacks; no card data anywhere', async () => {
    const rx = await startReceiver();
    try {
      const created = await api.call('POST', '/v1/sessions', {
        callId: 'call-42', merchantId: 'acme', intent: 'charge', amountMinor: 1999, currency: 'gbp', description: 'Order 42', statusCallbackUrl: rx.url,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id;
      assert.equal(created.headers.get('location'), `/v1/sessions/${id}`);
      assert.equal(created.body.state, 'created');
      assert.equal(created.body.currency, 'GBP');
      assert.match(created.body.createdBy ?? '', /^key:[0-9a-f]{12}$/);

      // agent screen on WebSocket, a second one on SSE; both follow until the end
      let wsOpen!: () => void;
      const wsReady = new Promise<void>((r) => { wsOpen = r; });
      const ws: Promise<WsResult> = wsCollect(`${s.url.replace('http', 'ws')}/v1/sessions/${id}/events`, s.auth, { onMessage: (_m, n) => { if (n === 1) wsOpen(); } });
      let sseOpen!: () => void;
      const sseReady = new Promise<void>((r) => { sseOpen = r; });
      const sse = sseCollect(`${s.url}/v1/sessions/${id}/events`, s.auth, { onFrame: (_f, n) => { if (n === 1) sseOpen(); } });
      await Promise.all([wsReady, sseReady]);

      assert.equal((await api.call('POST', `/v1/sessions/${id}/capture`, {})).body.currentField, 'card-number');
      const afterPan = await api.call('POST', `/v1/sessions/${id}/digits`, { digits: `${PAN}#` });
      assert.equal(afterPan.status, 200);
      assert.equal(afterPan.body.brand, 'visa');
      assert.equal(afterPan.body.last4, '1111');
      assert.equal(afterPan.body.fields.find((f) => f.field === 'card-number')?.display, '•••• •••• •••• 1111');
      assert.equal(afterPan.body.currentField, 'expiry');
      await api.call('POST', `/v1/sessions/${id}/digits`, { digits: `${EXPIRY}#` });
      const ready = await api.call('POST', `/v1/sessions/${id}/digits`, { digits: `${CVV}#` });
      assert.equal(ready.body.state, 'ready', JSON.stringify(ready.body));

      const done = await api.call('POST', `/v1/sessions/${id}/submit`);
      assert.equal(done.status, 200);
      assert.equal(done.body.state, 'succeeded', JSON.stringify(done.body));
      assert.equal(done.body.result?.status, 'succeeded');
      assert.equal(done.body.result?.connector, 'sandbox');
      assert.ok(done.body.result?.connectorReference);

      const read = await api.call('GET', `/v1/sessions/${id}`);
      assert.equal(read.body.state, 'succeeded');
      const list = await api.call('GET', '/v1/sessions?merchantId=acme&state=succeeded');
      assert.deepEqual((list.body as unknown as { sessions: { id: string }[] }).sessions.map((x) => x.id), [id]);

      const wsResult = await ws;
      const sseResult = await sse;
      const wsTypes = wsResult.messages.map((m) => m.type);
      assert.equal(wsTypes[0], 'session.snapshot');
      assert.equal(wsTypes.at(-1), 'session.succeeded');
      for (const t of ['field.started', 'field.progress', 'field.completed', 'session.ready', 'session.submitting']) assert.ok(wsTypes.includes(t), `${t} in ${wsTypes.join(',')}`);
      const seqs = wsResult.messages.slice(1).map((m) => m.sequence as number);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in order');
      assert.equal(wsResult.closeCode, 1000);
      assert.deepEqual(sseResult.frames.filter((f) => f.event).map((f) => f.event), wsTypes, 'SSE carries the same events');

      await rx.waitFor(wsTypes.length);
      await s.app.cardline.callbacks.idle();
      const cbTypes = rx.received.map((r) => JSON.parse(r.body).type as string);
      assert.equal(cbTypes[0], 'session.created', 'the creation event is sent once the URL is registered');
      assert.equal(cbTypes.at(-1), 'session.succeeded');
      for (const r of rx.received) assert.equal(verifyCallbackSignature({ body: r.body, header: String(r.headers['cardline-signature']), secret: CALLBACK_SECRET }).ok, true);

      // the leak scan: every HTTP response, event, callback body, log line and database file
      await s.payments?.idle();
      const texts = [
        ...api.seen, ...wsResult.messages.map((m) => JSON.stringify(m)), ...sseResult.frames.map((f) => f.data ?? ''),
        ...rx.received.map((r) => r.body), ...s.logs,
      ];
      for (const t of texts) {
        assert.ok(!t.includes(PAN), 'PAN found');
        assert.ok(!new RegExp(`"${CVV}"|:${CVV}[,}]`).test(t), 'security code found');
        assert.ok(!t.includes(`"${EXPIRY}"`), 'expiry found');
      }
      for (const f of readdirSync(s.dir)) {
        const bytes = readFileSync(join(s.dir, f)).toString('latin1');
        assert.ok(!bytes.includes(PAN), `PAN in ${f}`);
      }
    } finally {
      await rx.close();
    }
  });

  test('a declined card: submit answers 200 with state failed and the connector\'s code', async () => {
    const { body: c } = await api.call('POST', '/v1/sessions', { callId: 'call-43', merchantId: 'acme', intent: 'charge', amountMinor: 500, currency: 'USD', startCapture: true });
    assert.equal(c.state, 'capturing');
    for (const d of [`${DECLINED}#`, `${EXPIRY}#`, `${CVV}#`]) await api.call('POST', `/v1/sessions/${c.id}/digits`, { digits: d });
    const r = await api.call('POST', `/v1/sessions/${c.id}/submit`);
    assert.equal(r.status, 200);
    assert.equal(r.body.state, 'failed');
    assert.equal(r.body.result?.errorCode, 'card-declined');
  });

  test('bad input gets a typed error and leaves the session intact', async () => {
    const { body: c } = await api.call('POST', '/v1/sessions', { callId: 'call-44', merchantId: 'acme', intent: 'tokenize', startCapture: true });
    const id = c.id;
    // not DTMF keys → schema error, value not echoed
    const bad = await api.call('POST', `/v1/sessions/${id}/digits`, { digits: '4111x' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error?.code, 'invalid-request');
    assert.ok(!JSON.stringify(bad.body).includes('4111'));
    // malformed JSON carrying a PAN
    const broken = await fetch(`${s.url}/v1/sessions/${id}/digits`, { method: 'POST', headers: { ...s.auth, 'content-type': 'application/json' }, body: `{"digits":"${PAN}` });
    assert.equal(broken.status, 400);
    assert.ok(!(await broken.text()).includes(PAN));
    // submit before ready
    const early = await api.call('POST', `/v1/sessions/${id}/submit`);
    assert.equal(early.status, 409);
    assert.equal(early.body.error?.code, 'invalid-state');
    const intact = await api.call('GET', `/v1/sessions/${id}`);
    assert.equal(intact.body.state, 'capturing');
    assert.equal(intact.body.currentField, 'card-number');
    assert.equal(intact.body.fields[0]?.digitCount, 0);

    for (const d of [`${PAN}#`, `${EXPIRY}#`, `${CVV}#`]) await api.call('POST', `/v1/sessions/${id}/digits`, { digits: d });
    // digits after completion
    const extra = await api.call('POST', `/v1/sessions/${id}/digits`, { digits: '1' });
    assert.equal(extra.status, 409);
    assert.equal(extra.body.error?.code, 'invalid-state');
    assert.equal((await api.call('GET', `/v1/sessions/${id}`)).body.state, 'ready');
    // double submit
    const first = await api.call('POST', `/v1/sessions/${id}/submit`);
    assert.equal(first.body.state, 'succeeded');
    assert.ok(first.body.result?.token, 'tokenize returns a token');
    const second = await api.call('POST', `/v1/sessions/${id}/submit`);
    assert.equal(second.status, 409);
    assert.equal(second.body.error?.code, 'invalid-state');
    const after2 = await api.call('GET', `/v1/sessions/${id}`);
    assert.equal(after2.body.state, 'succeeded');
    assert.equal(after2.body.result?.token, first.body.result?.token);
  });

  test('unknown session → 404 session-not-found on every command', async () => {
    const cmds: [string, string, unknown][] = [
      ['POST', '/v1/sessions/nope/capture', {}], ['POST', '/v1/sessions/nope/digits', { digits: '1' }],
      ['PUT', '/v1/sessions/nope/amount', { amountMinor: 1, currency: 'EUR' }], ['POST', '/v1/sessions/nope/submit', undefined],
      ['POST', '/v1/sessions/nope/cancel', undefined], ['GET', '/v1/sessions/nope', undefined],
    ];
    for (const [m, p, b] of cmds) {
      const r = await api.call(m, p, b);
      assert.equal(r.status, 404, `${m} ${p}`);
      assert.equal(r.body.error?.code, 'session-not-found');
    }
  });

  test('amount, re-capture and cancel', async () => {
    const { body: c } = await api.call('POST', '/v1/sessions', { callId: 'call-45', merchantId: 'acme', intent: 'charge' });
    const amt = await api.call('PUT', `/v1/sessions/${c.id}/amount`, { amountMinor: 12_50, currency: 'eur', reference: 'inv-9' });
    assert.equal(amt.status, 200);
    assert.deepEqual([amt.body.amountMinor, amt.body.currency, amt.body.reference], [1250, 'EUR', 'inv-9']);
    const badAmt = await api.call('PUT', `/v1/sessions/${c.id}/amount`, { amountMinor: -5, currency: 'EUR' });
    assert.equal(badAmt.status, 400);
    const panInText = await api.call('PUT', `/v1/sessions/${c.id}/amount`, { amountMinor: 100, currency: 'EUR', description: `card ${PAN}` });
    assert.equal(panInText.status, 400);
    assert.ok(!JSON.stringify(panInText.body).includes(PAN));
    await api.call('POST', `/v1/sessions/${c.id}/capture`, {});
    await api.call('POST', `/v1/sessions/${c.id}/digits`, { digits: `${PAN}#` });
    const re = await api.call('POST', `/v1/sessions/${c.id}/capture`, { field: 'card-number' });
    assert.equal(re.status, 200);
    assert.equal(re.body.currentField, 'card-number');
    assert.notEqual(re.body.fields[0]?.state, 'valid', 'the card number is captured afresh');
    assert.equal(re.body.fields[0]?.digitCount, 0);
    const cancelled = await api.call('POST', `/v1/sessions/${c.id}/cancel`);
    assert.equal(cancelled.body.state, 'cancelled');
    assert.equal((await api.call('POST', `/v1/sessions/${c.id}/cancel`)).status, 409);
  });

  test('create: validation, capture configuration, callback URL policy', async () => {
    const missing = await api.call('POST', '/v1/sessions', { merchantId: 'acme', intent: 'charge' });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error?.message ?? '', /body\/callId/);
    const badCfg = await api.call('POST', '/v1/sessions', { callId: 'c', merchantId: 'acme', intent: 'charge', fields: ['card-number', 'security-code'] });
    assert.equal(badCfg.status, 400);
    assert.equal(badCfg.body.error?.code, 'invalid-session-config');
    const before = (await api.call('GET', '/v1/sessions?callId=cb-1')).body as unknown as { sessions: unknown[] };
    const badUrl = await api.call('POST', '/v1/sessions', { callId: 'cb-1', merchantId: 'acme', intent: 'charge', statusCallbackUrl: 'ftp://example.com/x' });
    assert.equal(badUrl.status, 400);
    assert.equal(badUrl.body.error?.code, 'invalid-callback-url');
    const afterList = (await api.call('GET', '/v1/sessions?callId=cb-1')).body as unknown as { sessions: unknown[] };
    assert.equal(afterList.sessions.length, before.sessions.length, 'nothing created');
    const withPostal = await api.call('POST', '/v1/sessions', {
      callId: 'c-p', merchantId: 'acme', intent: 'tokenize',
      capture: { fields: ['card-number', 'expiry', 'security-code', { field: 'postal-code', minLength: 5, maxLength: 5 }], acceptedBrands: ['visa', 'mastercard'] },
    });
    assert.equal(withPostal.status, 201, JSON.stringify(withPostal.body));
    assert.deepEqual(withPostal.body.fields.map((f) => f.field), ['card-number', 'expiry', 'security-code', 'postal-code']);
  });
});
