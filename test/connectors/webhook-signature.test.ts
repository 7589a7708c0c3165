import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeSignature, signatureHeader, verifyWebhookSignature } from '../../src/connectors/index.ts';

const body = Buffer.from('{"a":1}');

test('a header made by signatureHeader verifies; the signature covers timestamp and body', () => {
  const h = signatureHeader('s3cret-s3cret-s3cret', 1_900_000_000, body);
  assert.match(h, /^t=1900000000,v1=[0-9a-f]{64}$/);
  assert.deepEqual(verifyWebhookSignature({ header: h, body, secret: 's3cret-s3cret-s3cret', nowSec: 1_900_000_010 }), { ok: true, timestampSec: 1_900_000_000 });
  assert.deepEqual(verifyWebhookSignature({ header: h, body: '{"a":2}', secret: 's3cret-s3cret-s3cret', nowSec: 1_900_000_010 }), { ok: false, reason: 'mismatch' });
  const forged = h.replace('t=1900000000', 't=1900000001');
  assert.deepEqual(verifyWebhookSignature({ header: forged, body, secret: 's3cret-s3cret-s3cret', nowSec: 1_900_000_010 }), { ok: false, reason: 'mismatch' });
});

test('stale, missing, malformed; rotation accepts either secret', () => {
  const h = signatureHeader('new-secret-new-secret', 1_900_000_000, body);
  assert.equal(verifyWebhookSignature({ header: h, body, secret: 'new-secret-new-secret', nowSec: 1_900_000_301 }).ok, false);
  assert.deepEqual(verifyWebhookSignature({ header: h, body, secret: 'new-secret-new-secret', nowSec: 1_900_000_301 }), { ok: false, reason: 'stale' });
  assert.deepEqual(verifyWebhookSignature({ header: undefined, body, secret: 'x' }), { ok: false, reason: 'missing' });
  assert.deepEqual(verifyWebhookSignature({ header: 'v1=zz', body, secret: 'x' }), { ok: false, reason: 'malformed' });
  assert.equal(verifyWebhookSignature({ header: h, body, secret: ['old-secret-old-secret', 'new-secret-new-secret'], nowSec: 1_900_000_000 }).ok, true);
  const both = `t=1900000000,v1=${computeSignature('old-secret-old-secret', 1_900_000_000, body)},v1=${computeSignature('new-secret-new-secret', 1_900_000_000, body)}`;
  assert.equal(verifyWebhookSignature({ header: both, body, secret: 'old-secret-old-secret', nowSec: 1_900_000_000 }).ok, true);
});
