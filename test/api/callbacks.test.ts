import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  CallbackDispatcher, EventHub, SIGNATURE_HEADER, computeSignature, signatureHeader, validateCallbackUrl, verifyCallbackSignature,
} from '../../src/api/index.ts';
import { isCardlineError } from '../../src/errors/index.ts';
import { createLogger } from '../../src/log/index.ts';
import type { SessionId } from '../../src/payments/types.ts';
import { event } from './helpers/events.ts';
import { startReceiver } from './helpers/receiver.ts';

const SECRET = 'whsec_unit_test_secret_0123456789';

function quietLogger(lines: string[] = []) {
  return createLogger({ level: 'debug', destination: { write: (s: string) => { lines.push(s); } } });
}

function dispatcher(over: Partial<ConstructorParameters<typeof CallbackDispatcher>[0]> = {}, lines: string[] = []) {
  return new CallbackDispatcher({
    secret: SECRET, logger: quietLogger(lines), allowHttp: true, backoffMs: 5, maxBackoffMs: 40, timeoutMs: 2000, random: () => 0.5, ...over,
  });
}

describe('signature helpers (what merchants use)', () => {
  const body = '{"type":"session.succeeded","sequence":3}';
  const bytes = Buffer.from(body, 'utf8');

  test('sign then verify (string or bytes)', () => {
    const header = signatureHeader(SECRET, 1_800_000_000, bytes);
    assert.match(header, /^t=1800000000,v1=[0-9a-f]{64}$/);
    assert.deepEqual(verifyCallbackSignature({ body, header, secret: SECRET, nowSec: 1_800_000_010 }), { ok: true, timestampSec: 1_800_000_000 });
    assert.equal(verifyCallbackSignature({ body: bytes, header, secret: SECRET, nowSec: 1_800_000_010 }).ok, true);
  });

  test('the MAC is HMAC-SHA256 over "<t>.<body>" (independent computation)', async () => {
    const { createHmac } = await import('node:crypto');
    assert.equal(computeSignature(SECRET, 42, bytes), createHmac('sha256', SECRET).update(`42.${body}`).digest('hex'));
  });

  test('refusals: tampered body, wrong secret, stale or future timestamp, missing or malformed header', () => {
    const t = 1_800_000_000;
    const header = signatureHeader(SECRET, t, bytes);
    const v = (o: Partial<Parameters<typeof verifyCallbackSignature>[0]>) => verifyCallbackSignature({ body, header, secret: SECRET, nowSec: t, ...o });
    assert.deepEqual(v({ body: body.replace('3', '4') }), { ok: false, reason: 'mismatch' });
    assert.deepEqual(v({ secret: `${SECRET}x` }), { ok: false, reason: 'mismatch' });
    assert.deepEqual(v({ nowSec: t + 301 }), { ok: false, reason: 'stale' });
    assert.deepEqual(v({ nowSec: t - 301 }), { ok: false, reason: 'stale' });
    assert.equal(v({ nowSec: t + 1000, toleranceSec: 2000 }).ok, true);
    assert.deepEqual(v({ header: undefined }), { ok: false, reason: 'missing' });
    assert.deepEqual(v({ header: 'v1=abc' }), { ok: false, reason: 'malformed' });
    assert.deepEqual(v({ header: `t=${t}` }), { ok: false, reason: 'malformed' });
  });

  test('secret rotation: any matching v1 entry, or any of several secrets, is accepted', () => {
    const t = 1_800_000_000;
    const header = `t=${t},v1=${computeSignature('old_secret_0123456789', t, bytes)},v1=${computeSignature(SECRET, t, bytes)}`;
    assert.equal(verifyCallbackSignature({ body, header, secret: SECRET, nowSec: t }).ok, true);
    assert.equal(verifyCallbackSignature({ body, header: signatureHeader(SECRET, t, bytes), secret: ['other_secret_0123456', SECRET], nowSec: t }).ok, true);
  });
});

describe('callback URL policy', () => {
  test('https only unless http is allowed; no credentials, no fragment', () => {
    const code = (f: () => unknown) => { try { f(); return 'ok'; } catch (e) { return isCardlineError(e) ? e.code : 'other'; } };
    assert.equal(code(() => validateCallbackUrl('https://merchant.example/hook', false)), 'ok');
    assert.equal(code(() => validateCallbackUrl('http://merchant.example/hook', false)), 'invalid-callback-url');
    assert.equal(code(() => validateCallbackUrl('http://127.0.0.1:9/hook', true)), 'ok');
    assert.equal(code(() => validateCallbackUrl('ftp://merchant.example/hook', true)), 'invalid-callback-url');
    assert.equal(code(() => validateCallbackUrl('https://user:pw@merchant.example/hook', false)), 'invalid-callback-url');
    assert.equal(code(() => validateCallbackUrl('https://merchant.example/hook#x', false)), 'invalid-callback-url');
    assert.equal(code(() => validateCallbackUrl('/relative', false)), 'invalid-callback-url');
    assert.equal(code(() => validateCallbackUrl(`https://merchant.example/${'a'.repeat(3000)}`, false)), 'invalid-callback-url');
  });
});

describe('dispatcher against a local receiver', () => {
  test('delivers each event signed, in order, with a stable delivery id and the masked body only', async () => {
    const rx = await startReceiver();
    const d = dispatcher();
    try {
      const hub = new EventHub();
      d.attach(hub);
      d.register('s-1' as SessionId, rx.url);
      for (let i = 1; i <= 5; i++) hub.publish(event('s-1', i));
      hub.publish(event('s-other', 1)); // no callback registered: not sent
      await rx.waitFor(5);
      await d.idle();
      assert.equal(rx.received.length, 5);
      assert.deepEqual(rx.received.map((r) => JSON.parse(r.body).sequence), [1, 2, 3, 4, 5]);
      for (const r of rx.received) {
        assert.equal(r.headers['content-type'], 'application/json');
        assert.equal(verifyCallbackSignature({ body: r.body, header: String(r.headers[SIGNATURE_HEADER.toLowerCase()]), secret: SECRET }).ok, true);
        assert.match(String(r.headers['cardline-delivery']), /^[0-9a-f-]{36}$/);
        assert.equal(r.headers['cardline-event'], 'field.progress');
        assert.deepEqual(Object.keys(JSON.parse(r.body)).sort(), ['at', 'sequence', 'session', 'sessionId', 'type']);
      }
      assert.equal(d.stats().delivered, 5);
    } finally {
      await d.close();
      await rx.close();
    }
  });

  test('retries 5xx/429/timeouts with back-off and the same delivery id, re-signed each time; then stops on success', async () => {
    // 500, 429 (Retry-After 0), hang (timeout), then 200
    const rx = await startReceiver((i) => (i === 0 ? { status: 500 } : i === 1 ? { status: 429, headers: { 'retry-after': '0' } } : i === 2 ? 'hang' : { status: 204 }));
    const lines: string[] = [];
    const d = dispatcher({}, lines);
    try {
      d.register('s-r' as SessionId, rx.url);
      assert.equal(d.enqueue(event('s-r', 1)), true);
      await rx.waitFor(4, 8000);
      await d.idle();
      assert.equal(rx.received.length, 4);
      const ids = new Set(rx.received.map((r) => r.headers['cardline-delivery']));
      assert.equal(ids.size, 1, 'one delivery id across retries');
      assert.deepEqual(rx.received.map((r) => r.headers['cardline-attempt']), ['1', '2', '3', '4']);
      for (const r of rx.received) assert.equal(verifyCallbackSignature({ body: r.body, header: String(r.headers['cardline-signature']), secret: SECRET }).ok, true);
      for (let i = 1; i < 4; i++) assert.ok((rx.received[i]?.at ?? 0) - (rx.received[i - 1]?.at ?? 0) >= 1, 'back-off between attempts');
      assert.deepEqual({ ...d.stats(), registered: 0 }, { registered: 0, queued: 0, inFlight: 0, delivered: 1, failed: 0, dropped: 0, retries: 3 });
      const logged = lines.join('');
      assert.match(logged, /"reason":"timeout"/);
      assert.ok(!logged.includes('/hooks/cardline') && !logged.includes('tenant=t1'), 'logs carry the host only');
    } finally {
      await d.close();
      await rx.close();
    }
  });

  test('a 4xx (other than 408/425/429) or a redirect is final; gives up after maxAttempts on persistent 503', async () => {
    const rx = await startReceiver((_i, r) => {
      const seq = JSON.parse(r.body).sequence as number;
      return seq === 1 ? { status: 400 } : seq === 2 ? { status: 302, headers: { location: 'http://127.0.0.1:1/' } } : { status: 503 };
    });
    const d = dispatcher({ maxAttempts: 3 });
    try {
      d.register('a' as SessionId, rx.url);
      d.enqueue(event('a', 1));
      d.enqueue(event('a', 2));
      d.enqueue(event('a', 3));
      await rx.waitFor(5);
      await d.idle();
      assert.deepEqual(rx.received.map((r) => JSON.parse(r.body).sequence), [1, 2, 3, 3, 3]);
      assert.equal(d.stats().failed, 3);
      assert.equal(d.stats().delivered, 0);
    } finally {
      await d.close();
      await rx.close();
    }
  });

  test('bounded queue: when full, a session\'s oldest waiting event gives way to its newest', async () => {
    const rx = await startReceiver((i) => (i === 0 ? 'hang' : { status: 200 }));
    const d = dispatcher({ maxQueue: 3, timeoutMs: 400, concurrency: 1 });
    try {
      d.register('q' as SessionId, rx.url);
      for (let i = 1; i <= 6; i++) d.enqueue(event('q', i));
      // 1 is in flight (hanging); 2..6 competed for 2 waiting places: 2,3,4 dropped as superseded → 5, 6 wait
      assert.equal(d.stats().queued, 3);
      assert.equal(d.stats().dropped, 3);
      await rx.waitFor(4, 5000);
      await d.idle();
      assert.deepEqual(rx.received.map((r) => JSON.parse(r.body).sequence), [1, 1, 5, 6]);
    } finally {
      await d.close();
      await rx.close();
    }
  });

  test('after the terminal event the session registration is forgotten', async () => {
    const rx = await startReceiver();
    const d = dispatcher();
    try {
      d.register('t' as SessionId, rx.url);
      d.enqueue(event('t', 1));
      d.enqueue(event('t', 2, 'cancelled', 'session.cancelled'));
      assert.equal(d.enqueue(event('t', 3)), false, 'nothing after a terminal event');
      await rx.waitFor(2);
      await d.idle();
      assert.equal(d.urlFor('t' as SessionId), null);
      assert.equal(d.stats().registered, 0);
    } finally {
      await d.close();
      await rx.close();
    }
  });

  test('close() aborts deliveries still hanging after the grace period and refuses new ones', async () => {
    const rx = await startReceiver(() => 'hang');
    const d = dispatcher({ timeoutMs: 10_000 });
    try {
      d.register('c' as SessionId, rx.url);
      d.enqueue(event('c', 1));
      d.enqueue(event('c', 2));
      await rx.waitFor(1);
      const t0 = Date.now();
      await d.close(100);
      await d.idle();
      assert.ok(Date.now() - t0 < 2000);
      assert.equal(d.stats().inFlight, 0);
      assert.equal(d.enqueue(event('c', 3)), false);
    } finally {
      await rx.close();
    }
  });
});

describe('status callbacks through a running server', () => {
  test('a session with a callback URL gets each masked event its hub publishes, signed with the server secret', async () => {
    const { startTestServer, CALLBACK_SECRET } = await import('./helpers/server.ts');
    const rx = await startReceiver();
    const s = await startTestServer();
    try {
      s.app.cardline.callbacks.register('srv-1' as SessionId, rx.url);
      s.app.cardline.hub.publish(event('srv-1', 1, 'capturing', 'field.started'));
      s.app.cardline.hub.publish(event('srv-1', 2, 'succeeded', 'session.succeeded'));
      await rx.waitFor(2);
      assert.deepEqual(rx.received.map((r) => r.headers['cardline-event']), ['field.started', 'session.succeeded']);
      for (const r of rx.received) {
        assert.equal(verifyCallbackSignature({ body: r.body, header: String(r.headers['cardline-signature']), secret: CALLBACK_SECRET }).ok, true);
      }
    } finally {
      await s.close();
      await rx.close();
    }
  });
});
