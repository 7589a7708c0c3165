import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { MaskedSession } from '../../src/payments/types.ts';
import { session, succeededSession } from '../store/helpers/fixtures.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer();
  await s.store.saveSession(succeededSession('r-1', { createdAt: '2026-04-01T09:00:00.000Z' }));
  await s.store.saveSession(session({ id: 'r-2', state: 'cancelled', merchantId: 'm-2' as never, createdAt: '2026-04-02T09:00:00.000Z' }));
  await s.store.saveSession(session({ id: 'r-3', state: 'capturing', callId: 'call-9' as never, createdAt: '2026-04-03T09:00:00.000Z' }));
});
after(async () => { await s.close(); });

const get = async (path: string) => {
  const r = await fetch(s.url + path, { headers: s.auth });
  return { status: r.status, body: await r.json() as Record<string, unknown> };
};

test('GET /v1/sessions/:id returns the masked session from the SQLite file', async () => {
  const r = await get('/v1/sessions/r-1');
  assert.equal(r.status, 200);
  const body = r.body as unknown as MaskedSession;
  assert.equal(body.id, 'r-1');
  assert.equal(body.state, 'succeeded');
  assert.equal(body.last4, '1111');
  assert.equal(body.fields[0]?.display, '•••• •••• •••• 1111');
  assert.equal(body.result?.status, 'succeeded');
  assert.equal(body.amountMinor, 1999);
});

test('GET /v1/sessions filters and orders (newest first)', async () => {
  const ids = async (q: string) => ((await get(`/v1/sessions${q}`)).body.sessions as { id: string }[]).map((x) => x.id);
  assert.deepEqual(await ids(''), ['r-3', 'r-2', 'r-1']);
  assert.deepEqual(await ids('?merchantId=m-2'), ['r-2']);
  assert.deepEqual(await ids('?state=succeeded'), ['r-1']);
  assert.deepEqual(await ids('?callId=call-9'), ['r-3']);
  assert.deepEqual(await ids('?from=2026-04-02T00:00:00Z&to=2026-04-03T00:00:00Z'), ['r-2']);
  assert.deepEqual(await ids('?limit=1'), ['r-3']);
});

test('unknown id → 404 session-not-found; malformed id → 400', async () => {
  assert.deepEqual(await get('/v1/sessions/zzz'), { status: 404, body: { error: { code: 'session-not-found', message: 'No such payment session' } } });
  assert.equal((await get('/v1/sessions/a%20b')).status, 400);
});

test('a reader that returns extra properties cannot leak them: the response schema is an allow-list', async () => {
  const leaky = await startTestServer({
    build: {
      sessions: {
        get: async (id) => ({ ...succeededSession(id), pan: '4111111111111111', cvv: '737' } as MaskedSession),
        list: async () => [],
      },
    },
  });
  try {
    const r = await fetch(`${leaky.url}/v1/sessions/x-1`, { headers: leaky.auth });
    const text = await r.text();
    assert.equal(r.status, 200);
    assert.ok(!text.includes('4111111111111111') && !text.includes('"cvv"'));
  } finally {
    await leaky.close();
  }
});
