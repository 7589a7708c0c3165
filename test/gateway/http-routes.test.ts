/**
 * GET /v1/calls and POST /v1/calls/:id/secure on the real API server (auth, schemas, error shape), over a
 * CallRegistry whose calls are controlled by an in-memory CallControl.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Call, CallRegistry, CallState, type CallControl } from '../../src/gateway/index.ts';
import { registerCallRoutes } from '../../src/gateway/index.ts';
import { startTestServer, type TestServer } from '../api/helpers/server.ts';

class FakeControl implements CallControl {
  secure = false;
  changes: boolean[] = [];
  setSecure(on: boolean): void {
    this.secure = on;
    this.changes.push(on);
  }
  async hangup(): Promise<void> {}
}

describe('calls API', () => {
  let server: TestServer;
  const registry = new CallRegistry();
  const answered = new Call({ sipCallId: 'abc@carrier', caller: 'sip:alice@example.com', callee: 'sip:pay@cardline', agent: 'sip:agent@pbx' });
  const ringing = new Call({ sipCallId: 'def@carrier', caller: 'sip:bob@example.com', callee: 'sip:pay@cardline', agent: 'sip:agent@pbx' });
  const control = new FakeControl();
  before(async () => {
    answered.transition(CallState.Answered);
    answered.control = control;
    ringing.transition(CallState.Ringing);
    registry.add(answered);
    registry.add(ringing);
    server = await startTestServer({ routes: (app) => registerCallRoutes(app, registry, {
      find: async (id) => (id === 'ps_known' ? { state: 'capturing' } : id === 'ps_done' ? { state: 'succeeded' } : null),
    }) });
  });
  after(async () => {
    await server.close();
  });

  it('lists calls; needs credentials', async () => {
    const res = await fetch(`${server.url}/v1/calls`, { headers: server.auth });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { calls: Array<{ id: string; state: string; secure: boolean; caller: string }> };
    assert.deepEqual(body.calls.map((c) => [c.id, c.state, c.secure, c.caller]).sort(), [
      [answered.id, 'answered', false, 'sip:alice@example.com'], [ringing.id, 'ringing', false, 'sip:bob@example.com'],
    ].sort());
    assert.equal((await fetch(`${server.url}/v1/calls`)).status, 401);
  });

  it('turns secure mode on and off; unknown call 404, unanswered call 409, bad body 400', async () => {
    const post = (id: string, body: unknown) => fetch(`${server.url}/v1/calls/${id}/secure`, {
      method: 'POST', headers: { ...server.auth, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const on = await post(answered.id, { on: true });
    assert.equal(on.status, 200);
    assert.equal(((await on.json()) as { secure: boolean }).secure, true);
    const off = await post(answered.id, { on: false });
    assert.equal(((await off.json()) as { secure: boolean }).secure, false);
    assert.deepEqual(control.changes, [true, false]);
    const missing = await post('6f1c1f40-0000-4000-8000-000000000000', { on: true });
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'call-not-found');
    const early = await post(ringing.id, { on: true });
    assert.equal(early.status, 409);
    assert.equal(((await early.json()) as { error: { code: string } }).error.code, 'call-state');
    assert.equal((await post(answered.id, { on: 'yes' })).status, 400);
    assert.equal((await post('not-a-uuid', { on: true })).status, 400);
    assert.deepEqual(control.changes, [true, false]);
  });

  it('binds a payment session when turning secure mode on; unknown session 404; off unbinds', async () => {
    const post = (body: unknown) => fetch(`${server.url}/v1/calls/${answered.id}/secure`, {
      method: 'POST', headers: { ...server.auth, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const unknown = await post({ on: true, sessionId: 'ps_unknown' });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'session-not-found');
    assert.equal(answered.paymentSessionId, null);
    assert.equal((await post({ on: false, sessionId: 'ps_known' })).status, 400);
    const bound = await post({ on: true, sessionId: 'ps_known' });
    assert.equal(bound.status, 200);
    assert.deepEqual((await bound.json()) as unknown, { ...answered.view(), secure: true, paymentSessionId: 'ps_known' });
    assert.equal(answered.paymentSessionId, 'ps_known');
    await post({ on: false });
    assert.equal(answered.paymentSessionId, null);
  });

  it('refuses to bind a session that already ended (session-ended, 409); nothing changes', async () => {
    const before = answered.secureSpans.length;
    const res = await fetch(`${server.url}/v1/calls/${answered.id}/secure`, {
      method: 'POST', headers: { ...server.auth, 'content-type': 'application/json' }, body: JSON.stringify({ on: true, sessionId: 'ps_done' }),
    });
    assert.equal(res.status, 409);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'session-ended');
    assert.deepEqual([answered.paymentSessionId, answered.secure, answered.secureSpans.length], [null, false, before]);
  });

  it('the bound session ending turns secure mode off (session-ended) and unbinds; shown in secureSpans', async () => {
    registry.setSecure(answered.id, true, 'ps_known');
    assert.deepEqual(registry.paymentSessionEnded('ps_other'), []);
    assert.equal(answered.secure, true);
    assert.deepEqual(registry.paymentSessionEnded('ps_known'), [answered.id]);
    assert.deepEqual([answered.secure, answered.paymentSessionId], [false, null]);
    const body = (await (await fetch(`${server.url}/v1/calls`, { headers: server.auth })).json()) as { calls: Array<{ id: string; secureSpans: Array<{ startedBy: string; endedBy: string | null; end: string | null }> }> };
    const spans = body.calls.find((c) => c.id === answered.id)?.secureSpans ?? [];
    const last = spans.at(-1);
    assert.deepEqual([last?.startedBy, last?.endedBy, typeof last?.end], ['api', 'session-ended', 'string']);
  });

  it('a call secure by policy stays secure: API off is refused (call-state), session end only unbinds', async () => {
    const pinned = new Call({ sipCallId: 'pin@carrier', caller: 'sip:carol@example.com', callee: 'sip:pay@cardline', agent: 'sip:agent@pbx' });
    const ctl = Object.assign(new FakeControl(), { pinnedSecure: true });
    ctl.secure = true;
    pinned.transition(CallState.Answered);
    pinned.control = ctl;
    pinned.noteSecure(true, 'policy');
    registry.add(pinned);
    try {
      pinned.paymentSessionId = 'ps_pin';
      assert.deepEqual(registry.paymentSessionEnded('ps_pin'), [pinned.id]);
      assert.deepEqual([pinned.secure, pinned.paymentSessionId, ctl.changes], [true, null, []]);
      const res = await fetch(`${server.url}/v1/calls/${pinned.id}/secure`, {
        method: 'POST', headers: { ...server.auth, 'content-type': 'application/json' }, body: JSON.stringify({ on: false }),
      });
      assert.equal(res.status, 409);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'call-state');
      assert.equal(pinned.secure, true);
      assert.deepEqual(pinned.view().secureSpans.map((x) => [x.startedBy, x.endedBy]), [['policy', null]]);
    } finally {
      registry.remove(pinned.id);
    }
  });
});
