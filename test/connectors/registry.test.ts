import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectorError, SandboxConnector, StripeConnector, WebhookConnector, createConnector, createConnectorRegistry } from '../../src/connectors/index.ts';
import type { MerchantId } from '../../src/payments/index.ts';

const m = (s: string) => s as MerchantId;

test('default registry: the sandbox for every merchant, one shared instance', async () => {
  const r = createConnectorRegistry();
  const a = r.forMerchant(m('a'));
  assert.ok(a instanceof SandboxConnector);
  assert.equal(r.forMerchant(m('b')), a);
  await r.close();
});

test('per-merchant configuration, built eagerly; default can be disabled', async () => {
  const r = createConnectorRegistry({
    default: null,
    merchants: {
      acme: { type: 'stripe', apiKey: 'sk_test_abc123' },
      globex: { type: 'webhook', url: 'https://pay.globex.example/cardline', secret: 'whsec_0123456789abcdef' },
      initech: { type: 'sandbox', seed: 'x' },
    },
  });
  assert.ok(r.forMerchant(m('acme')) instanceof StripeConnector);
  assert.ok(r.forMerchant(m('globex')) instanceof WebhookConnector);
  assert.ok(r.forMerchant(m('initech')) instanceof SandboxConnector);
  assert.throws(() => r.forMerchant(m('other')), (e) => e instanceof ConnectorError && e.code === 'connector-not-configured');
  const mine = new SandboxConnector();
  r.set('other', mine);
  assert.equal(r.forMerchant(m('other')), mine);
  await r.close();
});

test('a bad configuration fails when the registry is built', () => {
  assert.throws(() => createConnectorRegistry({ merchants: { x: { type: 'webhook', url: 'http://insecure.example/', secret: 'whsec_0123456789abcdef' } } }),
    (e) => e instanceof ConnectorError && e.code === 'connector-not-configured');
  assert.throws(() => createConnector({ type: 'carrier-pigeon' } as never), (e) => e instanceof Error && /unknown connector type/.test(e.message));
});
