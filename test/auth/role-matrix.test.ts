import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PERMISSIONS, ROLE_PERMISSIONS, type Permission } from '../../src/auth/index.ts';
import { call, createUser, enrol, loginToken, startSecureServer, SYSTEM_CTX, type SecureServer } from './helpers.ts';

/**
 * The access matrix over EVERY registered route (from the app's own route registry, so a route added later is
 * covered without touching this file): no credential → 401; every principal whose grant lacks the route's
 * permission → 403 (for every role, every API-key scope and both partial login stages); every principal that
 * holds it → neither 401 nor 403.
 */
function concretePath(url: string): string {
  return url.replace(/:([A-Za-z]+)/g, 'test-$1');
}

interface Who { name: string; token: string; permissions: ReadonlySet<string> }

describe('role matrix: every route × every role', () => {
  let s: SecureServer;
  const who: Who[] = [];

  before(async () => {
    s = await startSecureServer();
    const sec = s.security;
    if (sec === null) throw new Error('security');
    for (const role of ['agent', 'supervisor', 'admin', 'auditor'] as const) {
      const u = await createUser(s, `m.${role}`, role, { teamId: 'team-1' });
      await enrol(s, u);
      who.push({ name: role, token: await loginToken(s, u), permissions: ROLE_PERMISSIONS[role] });
    }
    const keyOf = async (name: string, permissions: Permission[]) => {
      const k = await sec.apiKeys.create({ name, permissions }, SYSTEM_CTX);
      who.push({ name: `service(${permissions.join('+')})`, token: k.key, permissions: new Set(permissions) });
    };
    await keyOf('all service', ['sessions:read', 'sessions:write', 'sessions:digits', 'reports:read']);
    await keyOf('media', ['sessions:digits']);
    await keyOf('reporting', ['reports:read']);
    // partial login stages
    const pendingUser = await createUser(s, 'm.pending', 'admin');
    await enrol(s, pendingUser);
    const pending = await call<{ token: string; stage: string }>(s, 'POST', '/v1/auth/login', { body: { username: 'm.pending', password: pendingUser.password, session: 'token' } });
    assert.equal(pending.body.stage, 'mfa-pending');
    who.push({ name: 'mfa-pending', token: pending.body.token, permissions: new Set(['auth:session', 'auth:mfa-verify']) });
    const enrolUser = await createUser(s, 'm.enrolling', 'supervisor');
    const enrolling = await call<{ token: string; stage: string }>(s, 'POST', '/v1/auth/login', { body: { username: 'm.enrolling', password: enrolUser.password, session: 'token' } });
    assert.equal(enrolling.body.stage, 'enrolment');
    who.push({ name: 'enrolment', token: enrolling.body.token, permissions: new Set(['auth:session', 'self', 'self:mfa']) });
  });
  after(async () => { await s.close(); });

  test('the matrix itself: least privilege invariants', () => {
    const holders = (p: Permission) => Object.entries(ROLE_PERMISSIONS).filter(([, set]) => set.has(p)).map(([r]) => r).sort();
    assert.deepEqual(holders('sessions:digits'), ['service'], 'only machines feed keypad digits');
    assert.deepEqual(holders('sessions:write'), ['agent', 'service']);
    assert.deepEqual(holders('sessions:read'), ['agent', 'service', 'supervisor']);
    assert.deepEqual(holders('audit:read'), ['auditor'], 'admins cannot read (and so cover up) the audit trail');
    assert.deepEqual(holders('reports:export'), ['auditor']);
    assert.deepEqual(holders('users:write'), ['admin']);
    assert.deepEqual(holders('apikeys:write'), ['admin']);
    assert.deepEqual(holders('settings:write'), ['admin']);
    assert.deepEqual([...ROLE_PERMISSIONS.auditor].sort(), ['audit:read', 'auth:session', 'reports:export', 'reports:read', 'self', 'self:mfa', 'settings:read']);
    assert.deepEqual(holders('auth:mfa-verify'), [], 'only the MFA-pending stage');
    for (const set of Object.values(ROLE_PERMISSIONS)) for (const p of set) assert.ok((PERMISSIONS as readonly string[]).includes(p));
  });

  test('unauthenticated → 401 and wrong role → 403 on every route; the right role passes', async () => {
    const routes = s.app.cardline.routes.filter((r) => r.permission !== 'public');
    assert.ok(routes.length >= 34, `${routes.length} routes`);
    // logout last: it ends the session it is called with
    routes.sort((a, b) => Number(a.url === '/v1/auth/logout') - Number(b.url === '/v1/auth/logout'));
    let refused = 0;
    let allowed = 0;
    for (const r of routes) {
      const path = concretePath(r.url);
      const body = r.method === 'GET' || r.method === 'DELETE' ? undefined : {};
      const anon = await call(s, r.method, path, { ...(body !== undefined ? { body } : {}) });
      assert.equal(anon.status, 401, `${r.method} ${r.url} without credentials`);
      for (const w of who) {
        const res = await call<{ error?: { code: string } }>(s, r.method, path, { token: w.token, ...(body !== undefined ? { body } : {}) });
        if (w.permissions.has(r.permission)) {
          assert.ok(res.status !== 401 && res.status !== 403, `${w.name} may ${r.method} ${r.url} (${r.permission}) but got ${res.status} ${JSON.stringify(res.body)}`);
          allowed++;
        } else {
          assert.equal(res.status, 403, `${w.name} must be refused ${r.method} ${r.url} (${r.permission}), got ${res.status}`);
          assert.equal(res.body.error?.code, 'forbidden');
          refused++;
        }
      }
    }
    assert.ok(refused > routes.length * 5, `${refused} refusals, ${allowed} allowed`);
    // onResponse hooks record after the reply is sent: wait (bounded) for them to land
    const denials = async () => ((await s.security?.audit.query({ outcome: 'denied', limit: 100_000 })) ?? []).filter((e) => e.action === 'access.denied' || e.action.startsWith('session.')).length;
    const deadline = Date.now() + 5000;
    while ((await denials()) < refused + routes.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await denials(), refused + routes.length, 'every refusal (401 and 403) is in the audit trail');
  });
});
