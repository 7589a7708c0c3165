import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapApiKeys, sha256Hex } from '../../src/auth/index.ts';
import { defaultConfig, generateApiKey } from '../../src/config/index.ts';
import { call, createUser, enrol, loginToken, startSecureServer, SYSTEM_CTX, type SecureServer } from './helpers.ts';

describe('API keys: scope, rotation, revocation', () => {
  let s: SecureServer;
  let admin = '';
  let adminUser: Awaited<ReturnType<typeof createUser>>;
  before(async () => {
    s = await startSecureServer();
    adminUser = await createUser(s, 'key.admin', 'admin');
    await enrol(s, adminUser);
    admin = await loginToken(s, adminUser);
  });
  after(async () => { await s.close(); });

  const issue = async (body: Record<string, unknown>) => {
    const r = await call<{ key: string; apiKey: { id: string; permissions: string[]; prefix: string; status: string } }>(s, 'POST', '/v1/api-keys', { token: admin, body });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };

  test('shown once, stored hashed, scoped to a permission subset and a merchant', async () => {
    const media = await issue({ name: 'media node 1', permissions: ['sessions:digits'], merchantId: 'acme' });
    assert.match(media.key, /^cl_[A-Za-z0-9_-]{43}$/);
    assert.equal(media.apiKey.prefix, media.key.slice(0, 7));
    const listed = await call<{ apiKeys: Record<string, unknown>[] }>(s, 'GET', '/v1/api-keys', { token: admin });
    assert.ok(!JSON.stringify(listed.body).includes(media.key), 'never listed');
    // scope: digits only
    const create = await call(s, 'POST', '/v1/sessions', { token: media.key, body: { callId: 'c', merchantId: 'acme', intent: 'tokenize' } });
    assert.equal(create.status, 403);
    const ivr = await issue({ name: 'ivr', permissions: ['sessions:read', 'sessions:write'], merchantId: 'acme' });
    assert.equal((await call(s, 'POST', '/v1/sessions', { token: ivr.key, body: { callId: 'c', merchantId: 'globex', intent: 'tokenize' } })).status, 403, 'other merchant');
    const made = await call<{ id: string }>(s, 'POST', '/v1/sessions', { token: ivr.key, body: { callId: 'c', merchantId: 'acme', intent: 'tokenize', startCapture: true } });
    assert.equal(made.status, 201);
    assert.equal((await call(s, 'POST', `/v1/sessions/${made.body.id}/digits`, { token: media.key, body: { digits: '4' } })).status, 200);
    assert.equal((await call(s, 'POST', '/v1/api-keys', { token: admin, body: { name: 'too much', permissions: ['users:write'] } })).status, 400, 'only service permissions are grantable');
    assert.equal((await call(s, 'GET', '/v1/users', { token: ivr.key })).status, 403);
    const info = await s.security?.apiKeys.get(media.apiKey.id);
    assert.ok(info?.lastUsedAt, 'last use recorded');
  });

  test('rotation: the new key works at once, the old one until the grace period ends; revocation is immediate', async () => {
    const k = await issue({ name: 'lambda' });
    const rotated = await call<{ key: string; apiKey: { id: string; rotatedFrom: string } }>(s, 'POST', `/v1/api-keys/${k.apiKey.id}/rotate?graceSeconds=3600`, { token: admin });
    assert.equal(rotated.status, 200);
    assert.equal(rotated.body.apiKey.rotatedFrom, k.apiKey.id);
    assert.equal((await call(s, 'GET', '/v1/sessions', { token: rotated.body.key })).status, 200);
    assert.equal((await call(s, 'GET', '/v1/sessions', { token: k.key })).status, 200, 'old key in its grace period');
    const old = await s.security?.apiKeys.get(k.apiKey.id);
    assert.equal(old?.status, 'expiring');
    assert.equal(old?.replacedBy, rotated.body.apiKey.id);
    s.clock.advance(3600_000);
    assert.equal((await call(s, 'GET', '/v1/sessions', { token: k.key })).status, 401, 'grace over');
    assert.equal((await call(s, 'GET', '/v1/sessions', { token: rotated.body.key })).status, 200);
    admin = await loginToken(s, adminUser); // an hour later the admin's own token has expired too
    const revoked = await call<{ status: string }>(s, 'DELETE', `/v1/api-keys/${rotated.body.apiKey.id}`, { token: admin });
    assert.equal(revoked.body.status, 'revoked');
    assert.equal((await call(s, 'GET', '/v1/sessions', { token: rotated.body.key })).status, 401);
    await new Promise((r) => setTimeout(r, 100));
    const actions = ((await s.security?.audit.query({ action: 'apikey.' })) ?? []).map((e) => e.action);
    for (const a of ['apikey.create', 'apikey.rotate', 'apikey.revoke']) assert.ok(actions.includes(a), a);
  });

  test('the interim first-start key is migrated into a service key with the same principal id', async () => {
    const legacy = generateApiKey();
    const hash = sha256Hex(legacy);
    writeFileSync(join(s.dir, 'api-key.sha256'), `${hash}\n`);
    const security = s.security;
    assert.ok(security);
    const config = { ...defaultConfig(s.dir), dataDir: s.dir };
    const r1 = await bootstrapApiKeys(security, config);
    assert.deepEqual(r1, { generatedKey: null, source: 'data-dir', imported: 1 });
    assert.equal((await bootstrapApiKeys(security, config)).imported, 0, 'idempotent');
    const made = await call<{ createdBy: string }>(s, 'POST', '/v1/sessions', { token: legacy, body: { callId: 'legacy', merchantId: 'm', intent: 'tokenize' } });
    assert.equal(made.status, 201);
    assert.equal(made.body.createdBy, `key:${hash.slice(0, 12)}`, 'same id the interim authenticator used');
    assert.equal((await call(s, 'GET', '/v1/users', { token: legacy })).status, 403, 'a service key, not an admin');
    await security.apiKeys.revoke(hash.slice(0, 12), SYSTEM_CTX);
    assert.equal((await bootstrapApiKeys(security, config)).imported, 0, 'a revoked key is not brought back');
    assert.equal((await call(s, 'GET', '/v1/sessions', { token: legacy })).status, 401);
  });
});
