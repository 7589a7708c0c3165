import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import {
  ConnectorError, WebhookConnector, SIGNATURE_HEADER, verifyWebhookSignature, type WebhookConnectorOptions,
} from '../../src/connectors/index.ts';
import { chargeReq, tokenizeReq, card } from './helpers.ts';
import { hang, json, startServer } from './http-fixture.ts';

const SECRET = 'whsec_test_0123456789abcdef';
const PAN = '4111111111111111';
const fails = (code: string, retryable?: boolean) => (e: unknown) =>
  e instanceof ConnectorError && e.code === code && (retryable === undefined || e.retryable === retryable);

function connector(url: string, extra: Partial<WebhookConnectorOptions> = {}): WebhookConnector {
  return new WebhookConnector({ url, secret: SECRET, allowInsecureHttp: true, retryBaseDelayMs: 10, jitter: false, timeoutMs: 2_000, ...extra });
}

test('charge: signed JSON with the card, idempotency key header; response mapped', async () => {
  const srv = await startServer([json(200, { status: 'succeeded', reference: 'ch_42', authorization_code: '654321', message: 'approved' })]);
  const c = connector(`${srv.url}/pay`);
  try {
    const req = chargeReq(PAN, 'cardline-ps_1-charge', { card: card(PAN, { cvv: '737', postal: '94107', month: 7, year: 2031 }), description: 'Order "7"', reference: 'INV-7' });
    const out = await c.charge(req);
    assert.deepEqual(out, { token: null, connectorReference: 'ch_42', authorizationCode: '654321', message: 'approved' });
    const s = srv.seen[0];
    assert.ok(s);
    assert.equal(s.method, 'POST');
    assert.equal(s.path, '/pay');
    assert.equal(s.headers['content-type'], 'application/json');
    assert.equal(s.headers['idempotency-key'], 'cardline-ps_1-charge');
    assert.equal(s.headers['cardline-attempt'], '1');
    const v = verifyWebhookSignature({ header: s.headers[SIGNATURE_HEADER] as string, body: s.body, secret: SECRET });
    assert.ok(v.ok, 'signature verifies over the raw body');
    const body = JSON.parse(s.body.toString('utf8'));
    assert.deepEqual(body, {
      version: 1, type: 'charge', idempotency_key: 'cardline-ps_1-charge', session_id: 'ps_1', merchant_id: 'm-1',
      amount_minor: 1250, currency: 'USD', description: 'Order "7"', reference: 'INV-7',
      card: { brand: 'visa', number: PAN, expiry_month: 7, expiry_year: 2031, security_code: '737', postal_code: '94107' },
    });
    // the connector does not consume the caller's card buffers (the vault zeroes those itself)
    assert.equal(req.card.number.toString('ascii'), PAN);
  } finally {
    await c.close();
    await srv.close();
  }
});

test('tokenize needs a token; refund sends the charge reference and no card', async () => {
  const srv = await startServer([
    json(200, { status: 'succeeded', token: 'tok_abc' }),
    json(200, { status: 'succeeded' }),
    json(200, { status: 'succeeded', reference: 're_1' }),
  ]);
  const c = connector(srv.url);
  try {
    assert.equal((await c.tokenize(tokenizeReq(PAN, 'k-t'))).token, 'tok_abc');
    assert.equal(JSON.parse(srv.seen[0]!.body.toString()).card.security_code, '123');
    await assert.rejects(c.tokenize(tokenizeReq(PAN, 'k-t2')), fails('connector-error', true));
    const r = await c.refund({ merchantId: 'm-1' as never, sessionId: 'ps_1' as never, idempotencyKey: 'k-r', connectorReference: 'ch_42', amountMinor: 100, currency: 'USD' });
    assert.equal(r.connectorReference, 're_1');
    const body = JSON.parse(srv.seen[2]!.body.toString());
    assert.equal(body.type, 'refund');
    assert.equal(body.charge_reference, 'ch_42');
    assert.equal(body.card, undefined);
  } finally {
    await c.close();
    await srv.close();
  }
});

test('declines: typed codes from a 2xx or 402 answer, never retried', async () => {
  const srv = await startServer([
    json(200, { status: 'declined', error_code: 'insufficient-funds', message: 'NSF' }),
    json(402, { status: 'declined', message: 'Do not honour' }),
    json(200, { status: 'declined', error_code: 'something-else' }),
    json(200, { status: 'failed', retryable: true, message: 'processor busy' }),
  ]);
  const c = connector(srv.url);
  try {
    await assert.rejects(c.charge(chargeReq(PAN, 'a')), fails('insufficient-funds', false));
    await assert.rejects(c.charge(chargeReq(PAN, 'b')), fails('card-declined', false));
    await assert.rejects(c.charge(chargeReq(PAN, 'c')), fails('card-declined', false));
    await assert.rejects(c.charge(chargeReq(PAN, 'd')), fails('connector-error', true));
    assert.equal(srv.seen.length, 4, 'one request each');
  } finally {
    await c.close();
    await srv.close();
  }
});

test('5xx then success: retried with back-off, same key and same body every time', async () => {
  const srv = await startServer([json(503, { error: 'down' }), json(500, {}), json(200, { status: 'succeeded', reference: 'ch_ok' })]);
  const c = connector(srv.url, { maxRetries: 2 });
  try {
    const out = await c.charge(chargeReq(PAN, 'retry-key'));
    assert.equal(out.connectorReference, 'ch_ok');
    assert.equal(srv.seen.length, 3);
    assert.deepEqual(srv.seen.map((s) => s.headers['idempotency-key']), ['retry-key', 'retry-key', 'retry-key']);
    assert.deepEqual(srv.seen.map((s) => s.headers['cardline-attempt']), ['1', '2', '3']);
    assert.ok(srv.seen.every((s) => s.body.equals(srv.seen[0]!.body)));
    for (const s of srv.seen) assert.ok(verifyWebhookSignature({ header: s.headers[SIGNATURE_HEADER] as string, body: s.body, secret: SECRET }).ok);
  } finally {
    await c.close();
    await srv.close();
  }
});

test('retries are bounded: persistent 5xx ends as a retryable connector-error; 4xx is not retried', async () => {
  const srv = await startServer([json(502, {})]);
  const c = connector(srv.url, { maxRetries: 1 });
  try {
    await assert.rejects(c.charge(chargeReq(PAN, 'k')), fails('connector-error', true));
    assert.equal(srv.seen.length, 2);
  } finally {
    await c.close();
    await srv.close();
  }
  const srv2 = await startServer([json(400, { error: 'bad' })]);
  const c2 = connector(srv2.url, { maxRetries: 3 });
  try {
    await assert.rejects(c2.charge(chargeReq(PAN, 'k')), fails('connector-error', false));
    assert.equal(srv2.seen.length, 1);
  } finally {
    await c2.close();
    await srv2.close();
  }
});

test('timeout per attempt, retried, then connector-timeout', async () => {
  const srv = await startServer([hang]);
  const c = connector(srv.url, { timeoutMs: 150, maxRetries: 1 });
  try {
    const t0 = Date.now();
    await assert.rejects(c.charge(chargeReq(PAN, 'slow')), fails('connector-timeout', true));
    const took = Date.now() - t0;
    assert.ok(took >= 300 && took < 2_000, `took ${took} ms`);
    assert.equal(srv.seen.length, 2);
  } finally {
    await c.close();
    await srv.close();
  }
});

test('connection refused is a network error: retried, then retryable connector-error', async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const c = connector(`http://127.0.0.1:${port}/`, { maxRetries: 2 });
  try {
    await assert.rejects(c.charge(chargeReq(PAN, 'k')), (e) => fails('connector-error', true)(e) && /ECONNREFUSED/.test((e as Error).message) && /3 attempts/.test((e as Error).message));
  } finally {
    await c.close();
  }
});

test('a 2xx that breaks the schema is a connector-error, not retried here; oversize answers refused', async () => {
  const srv = await startServer([
    json(200, { status: 'ok' }),
    json(200, { status: 'succeeded', reference: 42 }),
    (_q, res) => { res.writeHead(200); res.end('not json'); },
    (_q, res) => { res.writeHead(200); res.end(JSON.stringify({ status: 'succeeded', reference: 'x', message: 'y'.repeat(70_000) })); },
  ]);
  const c = connector(srv.url, { maxRetries: 3 });
  try {
    for (let i = 0; i < 3; i++) await assert.rejects(c.charge(chargeReq(PAN, `k${i}`)), fails('connector-error', true));
    await assert.rejects(c.charge(chargeReq(PAN, 'k4')), fails('connector-error', false));
    assert.equal(srv.seen.length, 4);
  } finally {
    await c.close();
    await srv.close();
  }
});

test('caller abort stops the attempt at once', async () => {
  const srv = await startServer([hang]);
  const c = connector(srv.url, { timeoutMs: 10_000 });
  try {
    const ac = new AbortController();
    const p = c.charge(chargeReq(PAN, 'k', { signal: ac.signal }));
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(p, fails('connector-timeout'));
  } finally {
    await c.close();
    await srv.close();
  }
});

test('messages from the endpoint lose anything card-number-like', async () => {
  const srv = await startServer([json(200, { status: 'declined', message: `card ${PAN} declined` })]);
  const c = connector(srv.url);
  try {
    const e = await c.charge(chargeReq(PAN, 'k')).catch((x: unknown) => x);
    assert.ok(e instanceof ConnectorError);
    assert.ok(!e.message.includes(PAN), e.message);
    assert.match(e.message, /number removed/);
  } finally {
    await c.close();
    await srv.close();
  }
});

test('configuration: https required unless allowed, no credentials in the url, secret length', () => {
  const bad = (o: Partial<WebhookConnectorOptions>) => assert.throws(() => new WebhookConnector({ url: 'https://x.example/', secret: SECRET, ...o }), fails('connector-not-configured'));
  bad({ url: 'http://x.example/' });
  bad({ url: 'ftp://x.example/' });
  bad({ url: 'https://user:pw@x.example/' });
  bad({ url: 'not a url' });
  bad({ secret: 'short' });
  bad({ maxRetries: 11 });
  new WebhookConnector({ url: 'https://x.example/', secret: SECRET }).close();
});

// --- HTTPS with a self-signed certificate made by the openssl CLI ------------------------------------------
let dir = '';
let tls: { key: string; cert: string } | undefined;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cardline-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('HTTPS: trusted via the configured CA; an untrusted certificate fails without retries', async () => {
  assert.ok(tls);
  const srv = await startServer([json(200, { status: 'succeeded', reference: 'ch_tls' })], tls);
  const trusted = new WebhookConnector({ url: srv.url, secret: SECRET, ca: tls.cert, retryBaseDelayMs: 10 });
  const untrusted = new WebhookConnector({ url: srv.url, secret: SECRET, maxRetries: 3, retryBaseDelayMs: 10 });
  try {
    assert.equal((await trusted.charge(chargeReq(PAN, 'tls-1'))).connectorReference, 'ch_tls');
    await assert.rejects(untrusted.charge(chargeReq(PAN, 'tls-2')), fails('connector-error', false));
    assert.equal(srv.seen.length, 1, 'the untrusted attempt never reached the handler and was not retried');
  } finally {
    await trusted.close();
    await untrusted.close();
    await srv.close();
  }
});
