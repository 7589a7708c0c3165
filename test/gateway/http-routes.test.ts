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
    server = await startTestServer({ routes: (app) => registerCallRoutes(app, registry, { find: async (id) => (id === 'ps_known' ? { id } : null) }) });
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
});
