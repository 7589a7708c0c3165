import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Type } from '@sinclair/typebox';
import { buildServer, PERMISSIONS, type Authenticator, type Authorizer, type Principal } from '../../src/api/index.ts';
import { defaultConfig, hashApiKey } from '../../src/config/index.ts';
import { isCardlineError } from '../../src/errors/index.ts';
import { createLogger } from '../../src/log/index.ts';
import { MemoryPaymentStore } from '../../src/payments/index.ts';
import { startTestServer, CALLBACK_SECRET, type TestServer } from './helpers/server.ts';

// POST /v1/auth/embed: the embedded panel's one-time token is its credential (src/api/routes/embed.ts)
const PUBLIC = new Set(['GET /health', 'GET /openapi.json', 'POST /v1/auth/embed', 'POST /v1/auth/login']);

function concretePath(url: string): string {
  return url.replace(/:([A-Za-z]+)/g, 'test-$1');
}

/** 401 before upgrade, as the HTTP status the ws client reports */
function wsStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.on('open', () => { resolve(101); ws.close(); });
    ws.on('error', (e) => reject(e));
  });
}

describe('route matrix', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer({ payments: true }); });
  after(async () => { await s.close(); });

  test('every route is registered with a declared permission; only /health, /openapi.json, the login and the embed-token exchange are public', () => {
    const routes = s.app.cardline.routes;
    assert.deepEqual(routes.map((r) => `${r.method} ${r.url}`).sort(), [
      'DELETE /v1/api-keys/:id',
      'GET /health', 'GET /openapi.json', 'GET /v1/api-keys', 'GET /v1/audit/events', 'GET /v1/audit/export', 'GET /v1/audit/verify',
      'GET /v1/auth/me', 'GET /v1/billing/daily', 'GET /v1/billing/daily.csv', 'GET /v1/billing/plans', 'GET /v1/billing/report', 'GET /v1/billing/report.csv',
      'GET /v1/sessions', 'GET /v1/sessions/:id', 'GET /v1/sessions/:id/events', 'GET /v1/users', 'GET /v1/users/:id',
      'PATCH /v1/users/:id',
      'POST /v1/api-keys', 'POST /v1/api-keys/:id/rotate', 'POST /v1/auth/embed', 'POST /v1/auth/login', 'POST /v1/auth/logout', 'POST /v1/auth/mfa/confirm',
      'POST /v1/auth/mfa/enrol', 'POST /v1/auth/mfa/verify', 'POST /v1/auth/password', 'POST /v1/billing/secure-audio', 'POST /v1/embed-tokens',
      'POST /v1/sessions', 'POST /v1/sessions/:id/cancel', 'POST /v1/sessions/:id/capture', 'POST /v1/sessions/:id/digits',
      'POST /v1/sessions/:id/submit', 'POST /v1/users', 'POST /v1/users/:id/password', 'POST /v1/users/:id/reset-mfa', 'POST /v1/users/:id/unlock',
      'PUT /v1/billing/plans/:id', 'PUT /v1/sessions/:id/amount',
    ]);
    for (const r of routes) {
      const key = `${r.method} ${r.url}`;
      if (PUBLIC.has(key)) assert.equal(r.permission, 'public', key);
      else assert.ok((PERMISSIONS as readonly string[]).includes(r.permission), `${key} declares ${r.permission}`);
    }
    assert.deepEqual(routes.filter((r) => r.permission === 'public').map((r) => `${r.method} ${r.url}`).sort(), [...PUBLIC].sort());
  });

  test('every non-public route refuses: no credentials, a wrong key, a malformed header, an empty key → 401 with WWW-Authenticate', async () => {
    const attempts: Record<string, Record<string, string>> = {
      none: {},
      wrongBearer: { authorization: 'Bearer cl_not_the_key' },
      wrongHeader: { 'x-api-key': 'cl_not_the_key' },
      basic: { authorization: `Basic ${Buffer.from(`u:${s.key}`).toString('base64')}` },
      bearerNoKey: { authorization: 'Bearer' },
      keyPlusJunk: { authorization: `Bearer ${s.key}x` },
      keyPrefix: { authorization: `Bearer ${s.key.slice(0, -1)}` },
    };
    let checked = 0;
    for (const r of s.app.cardline.routes) {
      if (r.permission === 'public') continue;
      for (const [name, headers] of Object.entries(attempts)) {
        const res = await fetch(s.url + concretePath(r.url), {
          method: r.method,
          headers: { ...headers, ...(r.method === 'GET' ? {} : { 'content-type': 'application/json' }) },
          ...(r.method === 'GET' ? {} : { body: '{not json' }), // auth is checked before the body is even parsed
        });
        assert.equal(res.status, 401, `${r.method} ${r.url} with ${name}`);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="cardline"');
        assert.deepEqual(await res.json(), { error: { code: 'unauthenticated', message: 'Authentication is required' } });
        checked++;
      }
      if (r.websocket) {
        assert.equal(await wsStatus(s.url.replace('http', 'ws') + concretePath(r.url), {}), 401, `websocket ${r.url}`);
      }
    }
    assert.equal(checked, (s.app.cardline.routes.length - PUBLIC.size) * 7);
    assert.ok(checked >= 34 * 7);
  });

  test('the right key passes authentication on every route (Bearer any case, or X-Api-Key); outside its scope it gets 403, never 401', async () => {
    const granted = new Set(['sessions:read', 'sessions:write', 'sessions:digits']);
    for (const r of s.app.cardline.routes) {
      if (r.permission === 'public' || r.method !== 'GET') continue;
      const variants: Record<string, string>[] = [{ authorization: `Bearer ${s.key}` }, { authorization: `bearer ${s.key}` }, { 'x-api-key': s.key }];
      for (const headers of variants) {
        const res = await fetch(s.url + concretePath(r.url), { headers: { ...headers, accept: 'application/json' } });
        assert.notEqual(res.status, 401, `${r.method} ${r.url}`);
        if (granted.has(r.permission)) assert.notEqual(res.status, 403, `${r.method} ${r.url}`);
        else assert.equal(res.status, 403, `${r.method} ${r.url} needs ${r.permission}`);
        await res.body?.cancel();
      }
    }
  });

  test('public routes answer without credentials', async () => {
    assert.equal((await fetch(`${s.url}/health`)).status, 200);
    assert.equal((await fetch(`${s.url}/openapi.json`)).status, 200);
  });

  test('the key never appears in logs', () => {
    assert.ok(!s.logs.join('').includes(s.key));
  });
});

describe('issue 5 seam', () => {
  test('a route without a declared permission cannot be registered', async () => {
    const app = await buildServer({
      config: { ...defaultConfig(), apiKeySha256: [hashApiKey('k')] }, store: new MemoryPaymentStore(), logger: createLogger({ level: 'silent' }), callbackSecret: CALLBACK_SECRET,
    });
    assert.throws(() => app.get('/v1/unprotected', async () => ({})), (e: unknown) => isCardlineError(e) && /declares no permission/.test(e.message));
    assert.throws(() => app.get('/v1/odd', { config: { permission: 'everything' as never } }, async () => ({})), /unknown permission/);
    await app.close();
  });

  test('a custom Authenticator and Authorizer plug in: wrong role → 403 forbidden, right role → 200', async () => {
    const users: Record<string, Principal> = {
      reader: { kind: 'user', id: 'u-reader', permissions: new Set(['sessions:read']), merchantId: null },
      digits: { kind: 'service', id: 'svc-media', permissions: new Set(['sessions:digits']), merchantId: null },
    };
    const authenticator: Authenticator = { authenticate: async (req) => users[String(req.headers['x-test-user'])] ?? null };
    const seen: string[] = [];
    const authorizer: Authorizer = {
      authorize: (p, perm) => { seen.push(`${p.id}:${perm}`); return p.permissions === 'all' || p.permissions.has(perm); },
    };
    const s = await startTestServer({
      build: { authenticator, authorizer },
      routes: (app) => app.post('/v1/test/write', { config: { permission: 'sessions:write' }, schema: { body: Type.Object({}) } }, async () => ({ ok: true })),
    });
    try {
      const get = (user: string) => fetch(`${s.url}/v1/sessions`, { headers: { 'x-test-user': user } });
      assert.equal((await get('reader')).status, 200);
      const denied = await get('digits');
      assert.equal(denied.status, 403);
      assert.deepEqual(await denied.json(), { error: { code: 'forbidden', message: 'The credentials do not grant this permission: requires sessions:read' } });
      assert.equal((await get('nobody')).status, 401);
      // the configured API key is not accepted once another authenticator is plugged in
      assert.equal((await fetch(`${s.url}/v1/sessions`, { headers: s.auth })).status, 401);
      const write = await fetch(`${s.url}/v1/test/write`, { method: 'POST', headers: { 'x-test-user': 'reader', 'content-type': 'application/json' }, body: '{}' });
      assert.equal(write.status, 403);
      assert.deepEqual(seen, ['u-reader:sessions:read', 'svc-media:sessions:read', 'u-reader:sessions:write']);
    } finally {
      await s.close();
    }
  });

  test('a merchant-scoped principal sees only its merchant\'s sessions', async () => {
    const scoped: Principal = { kind: 'api-key', id: 'k-m1', permissions: 'all', merchantId: 'm-1' };
    const s = await startTestServer({ build: { authenticator: { authenticate: async () => scoped } } });
    try {
      const { session } = await import('../store/helpers/fixtures.ts');
      await s.store.saveSession(session({ id: 'mine', merchantId: 'm-1' as never }));
      await s.store.saveSession(session({ id: 'theirs', merchantId: 'm-2' as never }));
      const list = await (await fetch(`${s.url}/v1/sessions`)).json() as { sessions: { id: string }[] };
      assert.deepEqual(list.sessions.map((x) => x.id), ['mine']);
      assert.equal((await fetch(`${s.url}/v1/sessions/theirs`)).status, 404);
      assert.equal((await fetch(`${s.url}/v1/sessions/mine`)).status, 200);
      assert.equal((await fetch(`${s.url}/v1/sessions?merchantId=m-2`)).status, 403);
    } finally {
      await s.close();
    }
  });
});

test('least privilege: a media-layer credential (sessions:digits only) can feed digits but not create, read or submit', async () => {
  const media: Principal = { kind: 'service', id: 'svc-media', permissions: new Set(['sessions:digits']), merchantId: null };
  const s = await startTestServer({ payments: true, build: { authenticator: { authenticate: async (req) => (req.headers['x-role'] === 'media' ? media : { kind: 'api-key', id: 'admin', permissions: 'all', merchantId: null }) } } });
  try {
    const json = { 'content-type': 'application/json' };
    const created = await fetch(`${s.url}/v1/sessions`, { method: 'POST', headers: json, body: JSON.stringify({ callId: 'c', merchantId: 'm', intent: 'tokenize', startCapture: true }) });
    const id = ((await created.json()) as { id: string }).id;
    const asMedia = { ...json, 'x-role': 'media' };
    const digits = await fetch(`${s.url}/v1/sessions/${id}/digits`, { method: 'POST', headers: asMedia, body: JSON.stringify({ digits: '41' }) });
    assert.equal(digits.status, 200);
    assert.equal(((await digits.json()) as { fields: { digitCount: number }[] }).fields[0]?.digitCount, 2);
    assert.equal((await fetch(`${s.url}/v1/sessions`, { method: 'POST', headers: asMedia, body: JSON.stringify({ callId: 'c', merchantId: 'm', intent: 'tokenize' }) })).status, 403);
    assert.equal((await fetch(`${s.url}/v1/sessions/${id}`, { headers: asMedia })).status, 403);
    assert.equal((await fetch(`${s.url}/v1/sessions/${id}/submit`, { method: 'POST', headers: { 'x-role': 'media' } })).status, 403);
  } finally {
    await s.close();
  }
});
