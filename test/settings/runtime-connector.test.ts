import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SANDBOX_TEST_CARDS, verifyWebhookSignature } from '../../src/connectors/index.ts';
import { applyConnectorSettings } from '../../src/settings/index.ts';
import { json, startServer } from '../connectors/http-fixture.ts';
import { makeService } from '../payments/service-helpers.ts';
import { call, createUser, enrol, loginToken, startSecureServer, type SecureServer } from '../auth/helpers.ts';

/**
 * A connector saved by an admin applies to the next submission without a restart: the payment goes to the saved
 * webhook endpoint (a real HTTP server), signed with the saved (write-only) secret; removing the setting brings the
 * configured connector back.
 */
const SECRET = `whsec_${randomBytes(20).toString('hex')}`;

describe('connector settings at run time', { timeout: 60_000 }, () => {
  let s: SecureServer;
  let admin: string;
  let hook: Awaited<ReturnType<typeof startServer>>;

  before(async () => {
    s = await startSecureServer({ settings: true });
    const a = await createUser(s, 'admin.ada', 'admin');
    await enrol(s, a);
    admin = await loginToken(s, a);
    hook = await startServer([json(200, { status: 'succeeded', reference: 'ch_hook_1', authorization_code: '777001', message: 'approved' })]);
  });
  after(async () => {
    await hook?.close();
    await s?.close();
  });

  test('save → the next submission uses the webhook with the sealed secret; remove → the configured connector again', async () => {
    const settings = s.settings;
    assert.ok(settings !== null);
    const h = makeService();
    const off = applyConnectorSettings(settings, h.registry, { merchants: { 'm-1': { type: 'sandbox', seed: 'cardline-tests' } } });
    const pay = async () => {
      const created = await h.service.create({ callId: `CA-${randomBytes(3).toString('hex')}`, merchantId: 'm-1', intent: 'charge', amountMinor: 1250, currency: 'GBP', createdBy: 'agent-1' });
      await h.service.startCapture(created.id);
      const ready = await h.service.feedDigits(created.id, `${SANDBOX_TEST_CARDS.visa}#1231123`);
      assert.equal(ready.state, 'ready');
      return h.service.submit(created.id);
    };
    try {
      assert.equal((await pay()).result?.connector, 'sandbox');

      const put = await call(s, 'PUT', '/v1/settings/connectors/m-1', { token: admin, body: { type: 'webhook', options: { url: `${hook.url}/pay`, allowInsecureHttp: true, timeoutMs: 5000 }, secrets: { secret: SECRET } } });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const viaHook = await pay();
      assert.equal(viaHook.state, 'succeeded');
      assert.equal(viaHook.result?.connector, 'webhook');
      assert.equal(viaHook.result?.connectorReference, 'ch_hook_1');
      assert.equal(hook.seen.length, 1);
      const req = hook.seen[0];
      assert.ok(req !== undefined);
      const sig = req.headers['cardline-signature'];
      assert.equal(verifyWebhookSignature({ header: typeof sig === 'string' ? sig : undefined, body: req.body, secret: SECRET }).ok, true, 'signed with the saved secret');

      assert.equal((await call(s, 'DELETE', '/v1/settings/connectors/m-1', { token: admin })).status, 200);
      assert.equal((await pay()).result?.connector, 'sandbox');
      assert.equal(hook.seen.length, 1);
    } finally {
      off();
      await h.service.close();
      await h.registry.close();
    }
  });
});
