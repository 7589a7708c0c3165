import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectorError, StripeConnector, mapStripeError, type StripeConnectorOptions } from '../../src/connectors/index.ts';
import { card, chargeReq, tokenizeReq } from './helpers.ts';
import { json, startServer, type Responder, type Seen } from './http-fixture.ts';

const KEY = 'sk_test_cardline0123456789';
const PAN = '4242424242424242';
const fails = (code: string, retryable?: boolean) => (e: unknown) =>
  e instanceof ConnectorError && e.code === code && (retryable === undefined || e.retryable === retryable);

function form(s: Seen): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(s.body.toString('utf8')));
}

function connectorFor(url: string, extra: Partial<StripeConnectorOptions> = {}): StripeConnector {
  const u = new URL(url);
  return new StripeConnector({ apiKey: KEY, host: u.hostname, port: Number(u.port), protocol: 'http', maxNetworkRetries: 0, timeoutMs: 5_000, ...extra });
}

const pm: Responder = json(200, { id: 'pm_123', object: 'payment_method', type: 'card', card: { brand: 'visa', last4: '4242' } });

function assertCommonHeaders(s: Seen, idempotencyKey: string): void {
  assert.equal(s.method, 'POST');
  assert.equal(s.headers.authorization, `Bearer ${KEY}`);
  assert.equal(s.headers['idempotency-key'], idempotencyKey);
  assert.match(String(s.headers['content-type']), /^application\/x-www-form-urlencoded/);
  assert.ok(s.headers['stripe-version'], 'API version pinned by the SDK');
}

test('charge: PaymentMethod with the card, then a confirmed PaymentIntent; exact requests', async () => {
  const srv = await startServer([
    pm,
    json(200, {
      id: 'pi_123', object: 'payment_intent', status: 'succeeded', amount: 1250, currency: 'usd',
      latest_charge: { id: 'ch_123', object: 'charge', payment_method_details: { type: 'card', card: { authorization_code: '482910' } } },
    }),
  ]);
  const c = connectorFor(srv.url, { moto: true });
  try {
    const out = await c.charge(chargeReq(PAN, 'cardline-ps_1-charge', {
      card: card(PAN, { cvv: '314', postal: '94107', month: 9, year: 2031 }), description: 'Order 9', reference: 'INV-9',
    }));
    assert.deepEqual(out, { token: null, connectorReference: 'pi_123', authorizationCode: '482910', message: null });
    assert.equal(srv.seen.length, 2);
    const [a, b] = srv.seen as [Seen, Seen];
    assert.equal(a.path, '/v1/payment_methods');
    assertCommonHeaders(a, 'cardline-ps_1-charge-pm');
    assert.deepEqual(form(a), {
      type: 'card', 'card[number]': PAN, 'card[exp_month]': '9', 'card[exp_year]': '2031', 'card[cvc]': '314',
      'billing_details[address][postal_code]': '94107',
      'metadata[cardline_session_id]': 'ps_1', 'metadata[cardline_merchant_id]': 'm-1', 'metadata[cardline_reference]': 'INV-9',
    });
    assert.equal(b.path, '/v1/payment_intents');
    assertCommonHeaders(b, 'cardline-ps_1-charge-pi');
    assert.deepEqual(form(b), {
      amount: '1250', currency: 'usd', payment_method: 'pm_123', confirm: 'true',
      'automatic_payment_methods[enabled]': 'true', 'automatic_payment_methods[allow_redirects]': 'never',
      capture_method: 'automatic', description: 'Order 9', 'payment_method_options[card][moto]': 'true',
      'metadata[cardline_session_id]': 'ps_1', 'metadata[cardline_merchant_id]': 'm-1', 'metadata[cardline_reference]': 'INV-9',
      'expand[0]': 'latest_charge',
    });
  } finally {
    await srv.close();
  }
});

test('tokenize: PaymentMethod then a confirmed off-session SetupIntent; token is the PaymentMethod id', async () => {
  const srv = await startServer([pm, json(200, { id: 'seti_1', object: 'setup_intent', status: 'succeeded', payment_method: 'pm_123' })]);
  const c = connectorFor(srv.url, { customer: 'cus_9' });
  try {
    const out = await c.tokenize(tokenizeReq(PAN, 'cardline-ps_2-tokenize'));
    assert.deepEqual(out, { token: 'pm_123', connectorReference: 'seti_1', authorizationCode: null, message: null });
    const si = srv.seen[1] as Seen;
    assert.equal(si.path, '/v1/setup_intents');
    assertCommonHeaders(si, 'cardline-ps_2-tokenize-si');
    const f = form(si);
    assert.equal(f.payment_method, 'pm_123');
    assert.equal(f.confirm, 'true');
    assert.equal(f.usage, 'off_session');
    assert.equal(f.customer, 'cus_9');
    assert.equal(f['payment_method_options[card][moto]'], undefined, 'no MOTO flag unless configured');
  } finally {
    await srv.close();
  }
  const srv2 = await startServer([pm]);
  try {
    const out = await connectorFor(srv2.url, { tokenizeWith: 'payment-method' }).tokenize(tokenizeReq(PAN, 'k'));
    assert.equal(out.token, 'pm_123');
    assert.equal(srv2.seen.length, 1);
    assert.equal(form(srv2.seen[0] as Seen)['card[cvc]'], '123');
  } finally {
    await srv2.close();
  }
});

test('refund: POST /v1/refunds with the PaymentIntent and amount', async () => {
  const srv = await startServer([json(200, { id: 're_1', object: 'refund', status: 'succeeded', amount: 500 })]);
  try {
    const out = await connectorFor(srv.url).refund({ merchantId: 'm-1' as never, sessionId: 'ps_1' as never, idempotencyKey: 'cardline-ps_1-refund-500', connectorReference: 'pi_123', amountMinor: 500, currency: 'USD' });
    assert.deepEqual(out, { connectorReference: 're_1', amountMinor: 500, message: null });
    const s = srv.seen[0] as Seen;
    assert.equal(s.path, '/v1/refunds');
    assertCommonHeaders(s, 'cardline-ps_1-refund-500-re');
    assert.equal(form(s).payment_intent, 'pi_123');
    assert.equal(form(s).amount, '500');
  } finally {
    await srv.close();
  }
});

function cardError(code: string, decline?: string): Responder {
  return json(402, { error: { type: 'card_error', code, ...(decline ? { decline_code: decline } : {}), message: `Stripe says ${code}` } });
}

test('Stripe card errors map to our codes', async () => {
  const cases: [Responder, string][] = [
    [cardError('card_declined', 'insufficient_funds'), 'insufficient-funds'],
    [cardError('card_declined', 'do_not_honor'), 'card-declined'],
    [cardError('incorrect_cvc'), 'invalid-security-code'],
    [cardError('expired_card'), 'invalid-expiry'],
    [cardError('incorrect_number'), 'invalid-card-number'],
    [cardError('incorrect_zip'), 'invalid-postal-code'],
  ];
  for (const [responder, expected] of cases) {
    const srv = await startServer([responder]);
    try {
      await assert.rejects(connectorFor(srv.url).charge(chargeReq(PAN, 'k')), fails(expected, false), expected);
    } finally {
      await srv.close();
    }
  }
});

test('decline on the PaymentIntent (402 after the PaymentMethod) and 3-D Secure demanded', async () => {
  const srv = await startServer([pm, cardError('card_declined', 'generic_decline')]);
  try {
    const e = await connectorFor(srv.url).charge(chargeReq(PAN, 'k')).catch((x: unknown) => x);
    assert.ok(fails('card-declined', false)(e));
    assert.equal((e as ConnectorError).processorCode, 'generic_decline');
  } finally {
    await srv.close();
  }
  const srv2 = await startServer([pm, json(200, { id: 'pi_2', object: 'payment_intent', status: 'requires_action' })]);
  try {
    await assert.rejects(connectorFor(srv2.url).charge(chargeReq(PAN, 'k')), (e) => fails('card-declined', false)(e) && /MOTO/.test((e as Error).message));
  } finally {
    await srv2.close();
  }
});

test('5xx: the SDK retries with the same idempotency key, then a retryable connector-error', async () => {
  const srv = await startServer([json(500, { error: { type: 'api_error', message: 'boom' } })]);
  try {
    await assert.rejects(connectorFor(srv.url, { maxNetworkRetries: 1 }).charge(chargeReq(PAN, 'same-key')), fails('connector-error', true));
    assert.equal(srv.seen.length, 2);
    assert.deepEqual(srv.seen.map((s) => s.headers['idempotency-key']), ['same-key-pm', 'same-key-pm']);
  } finally {
    await srv.close();
  }
});

test('auth, idempotency and invalid-request errors are not retryable', async () => {
  const cases: [Responder, string][] = [
    [json(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } }), 'connector-error'],
    [json(400, { error: { type: 'idempotency_error', message: 'Keys for idempotent requests can only be used with the same parameters' } }), 'idempotency-conflict'],
    [json(400, { error: { type: 'invalid_request_error', code: 'parameter_unknown', message: 'Received unknown parameter' } }), 'connector-error'],
  ];
  for (const [r, expected] of cases) {
    const srv = await startServer([r]);
    try {
      await assert.rejects(connectorFor(srv.url).charge(chargeReq(PAN, 'k')), fails(expected, false), expected);
    } finally {
      await srv.close();
    }
  }
});

test('timeout: connector-timeout, retryable', async () => {
  const srv = await startServer([() => {}]);
  try {
    await assert.rejects(connectorFor(srv.url, { timeoutMs: 200 }).charge(chargeReq(PAN, 'k')), fails('connector-timeout', true));
  } finally {
    await srv.close();
  }
});

test('configuration and error mapping edges', () => {
  assert.throws(() => new StripeConnector({ apiKey: 'pk_test_abc' }), fails('connector-not-configured'));
  assert.ok(fails('connector-error', true)(mapStripeError(new Error('socket hang up'))));
  const e = mapStripeError({ type: 'StripeCardError', code: 'card_declined', message: `number ${PAN} declined` });
  assert.ok(!e.message.includes(PAN));
});
