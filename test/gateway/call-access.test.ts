/**
 * "My current call" on the API (issue 7): a user's SIP identity set by an admin, `GET /v1/calls?mine=1` matching
 * it against the agent leg of real calls through a real gateway on loopback (user + host, RFC 3261 §19.1.4), and
 * the binding rules — an agent binds only its own or unclaimed calls, and only its own payment sessions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registerCallRoutes } from '../../src/gateway/index.ts';
import { call, createUser, enrol, loginToken, startSecureServer, type SecureServer, type TestUser } from '../auth/helpers.ts';
import { startCallLab, type CallLab } from './support/call-lab.ts';
import { lazyCallWiring } from './support/lazy-call-access.ts';

interface CallJson { id: string; agent: string; state: string; secure: boolean; paymentSessionId: string | null }
type Calls = { calls: CallJson[] };

describe('calls by SIP identity', { timeout: 60_000 }, () => {
  let lab: CallLab;
  let s: SecureServer;
  let alice: TestUser;
  let bob: TestUser;
  let sup: TestUser;
  const tok: Record<string, string> = {};
  const ids: Record<string, string> = {};

  before(async () => {
    lab = await startCallLab(['alice', 'bob', 'queue']);
    const wiring = lazyCallWiring();
    s = await startSecureServer({ routes: (app) => registerCallRoutes(app, lab.gateway.b2bua.registry, wiring.sessions, wiring.access) });
    wiring.bind(s);
    alice = await createUser(s, 'alice', 'agent', { mfaRequired: false, merchantId: 'acme' });
    bob = await createUser(s, 'bob', 'agent', { mfaRequired: false, merchantId: 'acme' });
    sup = await createUser(s, 'sup', 'supervisor', { merchantId: 'acme' });
    await enrol(s, sup);
    const admin = await createUser(s, 'root', 'admin');
    await enrol(s, admin);
    tok.admin = await loginToken(s, admin);
    tok.alice = await loginToken(s, alice);
    tok.bob = await loginToken(s, bob);
    tok.sup = await loginToken(s, sup);
    await lab.call('alice', '<sip:+441234567890@example.com>');
    await lab.call('bob');
    await lab.call('queue');
    const all = await call<Calls>(s, 'GET', '/v1/calls', { headers: s.auth });
    for (const c of all.body.calls) ids[/^sip:([a-z]+)@/.exec(c.agent)?.[1] ?? '?'] = c.id;
  });

  after(async () => {
    await lab?.close();
    await s?.close();
  });

  it('an admin sets a SIP identity: stored as sip:user@host; a malformed one is a usage error', async () => {
    const set = await call<{ sipUri: string | null }>(s, 'PATCH', `/v1/users/${alice.user.id}`, { token: tok.admin, body: { sipUri: 'sips:alice@127.0.0.1:5061;transport=tls' } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.sipUri, 'sip:alice@127.0.0.1');
    for (const bad of ['alice', 'sip:127.0.0.1', 'tel:+441234', 'sip:alice:secret@host']) {
      const r = await call<{ error: { code: string } }>(s, 'PATCH', `/v1/users/${alice.user.id}`, { token: tok.admin, body: { sipUri: bad } });
      assert.deepEqual([r.status, r.body.error.code], [400, 'usage'], bad);
    }
    assert.equal((await call(s, 'PATCH', `/v1/users/${bob.user.id}`, { token: tok.admin, body: { sipUri: 'sip:bob@127.0.0.1' } })).status, 200);
    // the user sees it on /v1/auth/me (the console reads it there); an agent cannot change it
    assert.equal((await call<{ user: { sipUri: string } }>(s, 'GET', '/v1/auth/me', { token: tok.alice })).body.user.sipUri, 'sip:alice@127.0.0.1');
    assert.equal((await call(s, 'PATCH', `/v1/users/${alice.user.id}`, { token: tok.alice, body: { sipUri: 'sip:bob@127.0.0.1' } })).status, 403);
  });

  it('?mine=1 lists only the calls whose agent leg goes to the signed-in user (port and parameters ignored)', async () => {
    const all = await call<Calls>(s, 'GET', '/v1/calls', { token: tok.alice });
    assert.equal(all.body.calls.length, 3, 'every call is listed (others are pickable)');
    const mine = async (t: string | undefined) => (await call<Calls>(s, 'GET', '/v1/calls?mine=1', t === undefined ? { headers: s.auth } : { token: t })).body.calls.map((c) => c.id);
    assert.deepEqual(await mine(tok.alice), [ids.alice]);
    assert.deepEqual(await mine(tok.bob), [ids.bob]);
    assert.deepEqual(await mine(tok.sup), [], 'no SIP identity: no call is "mine"');
    assert.deepEqual(await mine(undefined), [], 'an API key is nobody');
    assert.equal((await call(s, 'GET', '/v1/calls?mine=2', { token: tok.alice })).status, 400);
  });

  it('an agent binds its own call to its own session; another agent\'s call or session is refused; an unclaimed call is anyone\'s', async () => {
    const session = async (t: string, callId: string) => (await call<{ id: string }>(s, 'POST', '/v1/sessions', { token: t, body: { callId, merchantId: 'acme', intent: 'tokenize', startCapture: true } })).body.id;
    const aliceSession = await session(tok.alice!, ids.alice!);
    const bobSession = await session(tok.bob!, ids.bob!);
    const bind = (t: string, callId: string, sessionId: string) => call<CallJson & { error?: { code: string } }>(s, 'POST', `/v1/calls/${callId}/secure`, { token: t, body: { on: true, sessionId } });

    const stolen = await bind(tok.bob!, ids.alice!, bobSession);
    assert.deepEqual([stolen.status, stolen.body.error?.code], [403, 'forbidden'], 'bob cannot bind alice\'s call');
    const foreign = await bind(tok.alice!, ids.alice!, bobSession);
    assert.deepEqual([foreign.status, foreign.body.error?.code], [404, 'session-not-found'], 'alice cannot bind bob\'s session');
    assert.equal((await call(s, 'POST', `/v1/calls/${ids.alice}/secure`, { token: tok.bob, body: { on: false } })).status, 403, 'nor turn secure mode off');
    assert.equal((await call(s, 'POST', `/v1/calls/${ids.alice}/secure`, { token: tok.sup, body: { on: true, sessionId: aliceSession } })).status, 403, 'supervisors change nothing');

    const ok = await bind(tok.alice!, ids.alice!, aliceSession);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual([ok.body.secure, ok.body.paymentSessionId], [true, aliceSession]);
    // nobody's identity matches the queue's leg: any agent may take it
    const queued = await bind(tok.bob!, ids.queue!, bobSession);
    assert.deepEqual([queued.status, queued.body.paymentSessionId], [200, bobSession]);
    // the integration's API key is not restricted
    assert.equal((await call(s, 'POST', `/v1/calls/${ids.bob}/secure`, { headers: s.auth, body: { on: false } })).status, 200);
    assert.equal((await call(s, 'POST', '/v1/calls/00000000-0000-4000-8000-000000000000/secure', { token: tok.alice, body: { on: false } })).status, 404);
  });
});
