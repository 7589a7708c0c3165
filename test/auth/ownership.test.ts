import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { call, createUser, enrol, loginToken, startSecureServer, type SecureServer } from './helpers.ts';

/** Agents reach only their own sessions, supervisors only their team's; outside the scope a session looks absent. */
describe('session ownership', () => {
  let s: SecureServer;
  const t: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let ann = '';

  before(async () => {
    s = await startSecureServer();
    const spec = [['ann', 'agent', 'red'], ['bob', 'agent', 'red'], ['cat', 'agent', 'blue'], ['sue', 'supervisor', 'red'], ['sam', 'supervisor', 'blue']] as const;
    for (const [name, role, team] of spec) {
      const u = await createUser(s, name, role, { teamId: team, merchantId: 'acme' });
      if (name === 'ann') ann = u.user.id;
      await enrol(s, u);
      t[name] = await loginToken(s, u);
    }
    for (const agent of ['ann', 'bob', 'cat']) {
      for (let i = 0; i < 2; i++) {
        const r = await call<{ id: string }>(s, 'POST', '/v1/sessions', { token: t[agent], body: { callId: `${agent}-call-${i}`, merchantId: 'acme', intent: 'tokenize' } });
        assert.equal(r.status, 201);
        ids[`${agent}${i}`] = r.body.id;
        s.clock.advance(1000);
      }
    }
  });
  after(async () => { await s.close(); });

  const list = async (who: string, q = '') => {
    const r = await call<{ sessions: { id: string; callId: string }[] }>(s, 'GET', `/v1/sessions${q}`, { token: t[who] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.sessions.map((x) => x.callId).sort();
  };

  test('an agent lists and reads only its own sessions', async () => {
    assert.deepEqual(await list('ann'), ['ann-call-0', 'ann-call-1']);
    assert.equal((await call(s, 'GET', `/v1/sessions/${ids.ann0}`, { token: t.ann })).status, 200);
    const other = await call<{ error: { code: string } }>(s, 'GET', `/v1/sessions/${ids.bob0}`, { token: t.ann });
    assert.equal(other.status, 404);
    assert.equal(other.body.error.code, 'session-not-found');
    assert.equal((await call(s, 'POST', `/v1/sessions/${ids.bob0}/cancel`, { token: t.ann })).status, 404, 'nor act on it');
    assert.equal((await call(s, 'GET', `/v1/sessions/${ids.bob0}/events`, { token: t.ann })).status, 404, 'nor watch it');
    assert.equal((await call(s, 'GET', `/v1/sessions?createdBy=someone-else`, { token: t.ann })).status, 403);
    assert.equal((await call(s, 'POST', `/v1/sessions/${ids.ann0}/cancel`, { token: t.ann })).status, 200);
  });

  test('a supervisor sees its team (newest first, exact limit) but cannot change anything', async () => {
    assert.deepEqual(await list('sue'), ['ann-call-0', 'ann-call-1', 'bob-call-0', 'bob-call-1']);
    assert.deepEqual(await list('sam'), ['cat-call-0', 'cat-call-1']);
    const limited = await call<{ sessions: { callId: string }[] }>(s, 'GET', '/v1/sessions?limit=3', { token: t.sue });
    assert.deepEqual(limited.body.sessions.map((x) => x.callId), ['bob-call-1', 'bob-call-0', 'ann-call-1']);
    assert.deepEqual(await list('sue', `?createdBy=${ann}`), ['ann-call-0', 'ann-call-1']);
    assert.equal((await call(s, 'GET', `/v1/sessions/${ids.cat0}`, { token: t.sue })).status, 404);
    assert.equal((await call(s, 'GET', `/v1/sessions/${ids.bob1}`, { token: t.sue })).status, 200);
    assert.equal((await call(s, 'POST', `/v1/sessions/${ids.bob1}/cancel`, { token: t.sue })).status, 403);
  });

  test('reads and changes are in the audit trail with who, what, target and outcome', async () => {
    await new Promise((r) => setTimeout(r, 200));
    const ev = (await s.security?.audit.query({ action: 'session.', limit: 10_000 })) ?? [];
    assert.ok(ev.some((e) => e.action === 'session.create' && e.actorId === ann && e.targetId === ids.ann0 && e.outcome === 'success'));
    assert.ok(ev.some((e) => e.action === 'session.read' && e.actorId === ann && e.targetId === ids.bob0 && e.outcome === 'failure'));
    assert.ok(ev.some((e) => e.action === 'session.cancel' && e.targetId === ids.ann0 && e.outcome === 'success'));
    assert.ok(ev.some((e) => e.action === 'session.cancel' && e.targetId === ids.bob1 && e.outcome === 'denied'));
    assert.ok(ev.some((e) => e.action === 'session.list' && e.actorName === 'sue'));
    assert.ok(ev.some((e) => e.action === 'session.subscribe' || e.action === 'session.read'));
    assert.ok(ev.every((e) => e.ip === '127.0.0.1'));
  });
});
