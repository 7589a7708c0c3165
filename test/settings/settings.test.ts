import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { ConnectorRegistry } from '../../src/connectors/index.ts';
import { applyConnectorSettings, settingsDefaultsFromConfig, SettingsStore, type SettingsDatabase } from '../../src/settings/index.ts';
import { call, createUser, enrol, loginToken, startSecureServer, SYSTEM_CTX, type SecureServer } from '../auth/helpers.ts';

/**
 * The settings store and its routes over a real SQLite file: masking policy (defaults from config, validation,
 * the gateway's policy source), connectors per merchant with write-only secrets (never answered, sealed in the
 * file, kept when left out), the registry following saved settings, role checks and the audit records.
 */
const STRIPE_SECRET = `sk_test_${randomBytes(18).toString('hex')}`;
const WEBHOOK_SECRET = `whsec_${randomBytes(18).toString('hex')}`;

describe('settings', { timeout: 60_000 }, () => {
  let s: SecureServer;
  let admin: string;
  let auditor: string;
  let agent: string;
  let acmeAdmin: string;
  const bodies: string[] = [];

  async function req<T = Record<string, unknown>>(method: string, path: string, token: string, body?: unknown) {
    const r = await call<T>(s, method, path, { token, ...(body !== undefined ? { body } : {}) });
    bodies.push(JSON.stringify(r.body));
    return r;
  }

  before(async () => {
    s = await startSecureServer({ settings: true });
    const a = await createUser(s, 'admin.ada', 'admin');
    await enrol(s, a);
    admin = await loginToken(s, a);
    const au = await createUser(s, 'audit.ann', 'auditor');
    await enrol(s, au);
    auditor = await loginToken(s, au);
    const ag = await createUser(s, 'agent.al', 'agent', { merchantId: 'acme', mfaRequired: false });
    agent = await loginToken(s, ag);
    const ma = await createUser(s, 'admin.acme', 'admin', { merchantId: 'acme' });
    await enrol(s, ma);
    acmeAdmin = await loginToken(s, ma);
  });
  after(async () => { await s?.close(); });

  test('masking policy: configured default, invalid triggers refused with a named fault, saved policy read back and served to the gateway', async () => {
    const settings = s.settings;
    assert.ok(settings !== null);
    const d = await req<{ policy: { maskMode: string; triggers: unknown }; source: string }>('GET', '/v1/settings/masking-policy', admin);
    assert.equal(d.status, 200);
    assert.equal(d.body.source, 'config');
    assert.deepEqual(d.body.policy, { secureByDefault: false, maskMode: 'tone', triggers: null });

    for (const [triggers, words] of [
      [{ start: '#388*', end: '#388' }, 'prefix'],
      [{ start: '#1', end: '#1' }, 'differ'],
      [{ start: '#38x', end: '#388#' }, 'DTMF keys'],
    ] as const) {
      const bad = await req<{ error: { code: string; message: string } }>('PUT', '/v1/settings/masking-policy', admin, { secureByDefault: true, maskMode: 'silence', triggers });
      assert.equal(bad.status, 422, JSON.stringify(bad.body));
      assert.equal(bad.body.error.code, 'settings-invalid');
      assert.match(bad.body.error.message, new RegExp(words));
    }
    const wrongMode = await req('PUT', '/v1/settings/masking-policy', admin, { secureByDefault: true, maskMode: 'beep', triggers: null });
    assert.equal(wrongMode.status, 400);
    assert.equal(settings.maskingPolicy().maskMode, 'tone', 'nothing saved by refused requests');

    const policy = { secureByDefault: true, maskMode: 'noise', triggers: { start: '#388*', end: '#388#' } };
    const ok = await req<{ policy: unknown; source: string; updatedBy: string }>('PUT', '/v1/settings/masking-policy', admin, policy);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body.policy, policy);
    assert.equal(ok.body.source, 'settings');
    const back = await req<{ policy: unknown }>('GET', '/v1/settings/masking-policy', auditor);
    assert.equal(back.status, 200, 'an auditor reads the non-secret settings');
    assert.deepEqual(back.body.policy, policy);
    assert.deepEqual(settings.policySource(), policy, 'the gateway policy source returns the saved policy');

    // a fresh store over the same file (a restart) loads it
    const again = await SettingsStore.open({ db: s.security?.db as unknown as Kysely<SettingsDatabase>, audit: s.security!.audit, dataDir: s.dir, defaults: settingsDefaultsFromConfig({ gateway: null, connectors: null }) });
    assert.deepEqual(again.maskingPolicy(), policy);

    assert.equal((await req('PUT', '/v1/settings/masking-policy', auditor, policy)).status, 403);
    assert.equal((await req('PUT', '/v1/settings/masking-policy', acmeAdmin, policy)).status, 403, 'a merchant admin cannot change the platform policy');
    assert.equal((await req('GET', '/v1/settings/masking-policy', agent)).status, 403);
  });

  test('connectors: secrets write-only (never answered, sealed in the file, kept when left out), applied to the registry', async () => {
    const settings = s.settings;
    assert.ok(settings !== null);
    const registry = new ConnectorRegistry();
    const off = applyConnectorSettings(settings, registry, null);
    try {
      assert.equal(registry.forMerchant('acme' as never).name, 'sandbox');
      const missing = await req<{ error: { code: string } }>('PUT', '/v1/settings/connectors/acme', admin, { type: 'stripe', options: { moto: true } });
      assert.equal(missing.status, 422);
      assert.equal(missing.body.error.code, 'settings-invalid');

      const put = await req<{ type: string; secrets: Record<string, { set: boolean; last4?: string }>; options: Record<string, unknown> }>('PUT', '/v1/settings/connectors/acme', admin,
        { type: 'stripe', options: { moto: true, captureMethod: 'manual' }, secrets: { apiKey: STRIPE_SECRET } });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.deepEqual(Object.keys(put.body.secrets), ['apiKey']);
      assert.equal(put.body.secrets.apiKey?.set, true);
      assert.equal(put.body.secrets.apiKey?.last4, STRIPE_SECRET.slice(-4));
      assert.deepEqual(put.body.options, { moto: true, captureMethod: 'manual' });
      assert.equal(registry.forMerchant('acme' as never).name, 'stripe', 'new submissions for acme use the saved connector');

      // change an option only: the secret stays
      const opt = await req<{ secrets: Record<string, { set: boolean }> }>('PUT', '/v1/settings/connectors/acme', admin, { type: 'stripe', options: { moto: false } });
      assert.equal(opt.status, 200, JSON.stringify(opt.body));
      assert.equal(opt.body.secrets.apiKey?.set, true);

      const http = await req<{ error: { code: string } }>('PUT', '/v1/settings/connectors/*', admin, { type: 'webhook', options: { url: 'http://127.0.0.1:9/pay' }, secrets: { secret: WEBHOOK_SECRET } });
      assert.equal(http.status, 422, 'plain http is refused unless allowed');
      assert.match(JSON.stringify(http.body), /must be https/, 'the reason names the option');
      const badKey = await req<{ error: { message: string } }>('PUT', '/v1/settings/connectors/initech', admin, { type: 'stripe', options: {}, secrets: { apiKey: 'not-a-stripe-key-0123' } });
      assert.equal(badKey.status, 422);
      assert.match(badKey.body.error.message, /Stripe secret or restricted key/);
      assert.ok(!badKey.body.error.message.includes('not-a-stripe-key-0123'), 'the refused value is not echoed');
      const hook = await req('PUT', '/v1/settings/connectors/*', admin, { type: 'webhook', options: { url: 'https://pay.example.test/cardline', timeoutMs: 2000 }, secrets: { secret: WEBHOOK_SECRET } });
      assert.equal(hook.status, 200, JSON.stringify(hook.body));
      assert.equal(registry.forMerchant('globex' as never).name, 'webhook', 'the default follows "*"');

      const list = await req<{ connectors: { merchantId: string; source: string; secrets: Record<string, { set: boolean }> }[] }>('GET', '/v1/settings/connectors', auditor);
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.connectors.map((c) => [c.merchantId, c.source, c.secrets]).map(([m, src]) => [m, src]), [['*', 'settings'], ['acme', 'settings']]);

      const scoped = await req<{ connectors: { merchantId: string }[] }>('GET', '/v1/settings/connectors', acmeAdmin);
      assert.deepEqual(scoped.body.connectors.map((c) => c.merchantId), ['acme'], 'a merchant admin sees its own connector only');
      assert.equal((await req('PUT', '/v1/settings/connectors/globex', acmeAdmin, { type: 'sandbox', options: {} })).status, 404);
      assert.equal((await req('PUT', '/v1/settings/connectors/acme', auditor, { type: 'sandbox', options: {} })).status, 403);
      assert.equal((await req('GET', '/v1/settings/connectors', agent)).status, 403);

      const del = await req('DELETE', '/v1/settings/connectors/acme', admin);
      assert.equal(del.status, 200);
      assert.equal(registry.forMerchant('acme' as never).name, 'webhook', 'acme falls back to the default');
      assert.equal((await req('DELETE', '/v1/settings/connectors/acme', admin)).status, 404);

      const audit = await req<{ events: { action: string; detail: Record<string, unknown> }[] }>('GET', '/v1/audit/events?action=config.', auditor);
      assert.deepEqual(audit.body.events.map((e) => e.action), ['config.masking-policy', 'config.connector', 'config.connector', 'config.connector', 'config.connector']);
      assert.equal(audit.body.events[1]?.detail.changed, 'type,apiKey,options');
      assert.equal(audit.body.events[2]?.detail.changed, 'options');
    } finally {
      off();
      await registry.close();
    }

    // hygiene: no answer and no byte of the data directory holds a secret in plain text
    for (const secret of [STRIPE_SECRET, WEBHOOK_SECRET]) {
      for (const b of bodies) assert.ok(!b.includes(secret), 'an API answer carries a connector secret');
      for (const f of readdirSync(s.dir)) {
        if (f.startsWith('cardline')) assert.ok(!readFileSync(join(s.dir, f)).includes(Buffer.from(secret)), `${f} holds a connector secret in plain text`);
      }
      for (const line of s.logs) assert.ok(!line.includes(secret), 'a log line carries a connector secret');
    }
  });

  test('the store refuses bad input without saving (typed errors), and a sealed secret moved to another merchant does not open', async () => {
    const settings = s.settings;
    assert.ok(settings !== null);
    await assert.rejects(settings.setConnector('acme', { type: 'webhook', options: { url: 'ftp://x' } } as never, SYSTEM_CTX), { code: 'settings-invalid' });
    await assert.rejects(settings.setMaskingPolicy({ secureByDefault: 'yes', maskMode: 'tone', triggers: null } as never, SYSTEM_CTX), { code: 'settings-invalid' });
    await assert.rejects(settings.removeConnector('nobody', SYSTEM_CTX), { code: 'settings-not-found' });
    const db = s.security?.db as unknown as Kysely<SettingsDatabase>;
    const star = await db.selectFrom('settings').select('value_json').where('key', '=', 'connector:*').executeTakeFirstOrThrow();
    await db.insertInto('settings').values({ key: 'connector:initech', value_json: star.value_json, updated_at: new Date().toISOString(), updated_by: null }).execute();
    const moved = await SettingsStore.open({ db, audit: s.security!.audit, dataDir: s.dir, defaults: settingsDefaultsFromConfig({ gateway: null, connectors: null }) });
    assert.throws(() => moved.savedConnectorConfigs(), { code: 'store-error' });
    await db.deleteFrom('settings').where('key', '=', 'connector:initech').execute();
  });
});
