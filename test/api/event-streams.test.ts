import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { SessionId } from '../../src/payments/types.ts';
import { session } from '../store/helpers/fixtures.ts';
import { event } from './helpers/events.ts';
import { sseCollect, wsCollect } from './helpers/clients.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let s: TestServer;
before(async () => { s = await startTestServer(); });
after(async () => { await s.close(); });

const wsUrl = (id: string) => `${s.url.replace('http', 'ws')}/v1/sessions/${id}/events`;
const sseUrl = (id: string) => `${s.url}/v1/sessions/${id}/events`;

test('WebSocket: snapshot first, then each event in order, clean close 1000 after the terminal event', async () => {
  await s.store.saveSession(session({ id: 'ws-1', state: 'created' }));
  const hub = s.app.cardline.hub;
  const result = await wsCollect(wsUrl('ws-1'), s.auth, {
    onMessage: (_m, n) => {
      if (n !== 1) return;
      // publish only once the snapshot arrived, i.e. the subscription exists
      hub.publish(event('ws-1', 1, 'capturing', 'field.started'));
      hub.publish(event('ws-1', 2, 'capturing', 'field.progress'));
      hub.publish(event('ws-1', 3, 'ready', 'session.ready'));
      hub.publish(event('ws-1', 4, 'succeeded', 'session.succeeded'));
      hub.publish(event('ws-1', 5, 'capturing', 'field.progress')); // after the end: not delivered
    },
  });
  assert.deepEqual(result.messages.map((m) => m.type), ['session.snapshot', 'field.started', 'field.progress', 'session.ready', 'session.succeeded']);
  const first = result.messages[0] as { session: { id: string; state: string }; sequence: number };
  assert.equal(first.session.id, 'ws-1');
  assert.equal(first.session.state, 'created');
  assert.equal(first.sequence, 0);
  assert.deepEqual(result.messages.slice(1).map((m) => m.sequence), [1, 2, 3, 4]);
  assert.equal(result.closeCode, 1000);
  assert.equal(result.closeReason, 'session ended');
  assert.equal(hub.subscriberCount('ws-1' as SessionId), 0);
});

test('a late subscriber gets the latest published state as its snapshot (with its sequence)', async () => {
  await s.store.saveSession(session({ id: 'late', state: 'created' }));
  s.app.cardline.hub.publish(event('late', 6, 'capturing', 'field.progress'));
  let got: Record<string, unknown> | undefined;
  const closed = wsCollect(wsUrl('late'), s.auth, {
    onMessage: (m, n) => {
      if (n === 1) { got = m; s.app.cardline.hub.publish(event('late', 7, 'cancelled', 'session.cancelled')); }
    },
  });
  const r = await closed;
  assert.equal(got?.type, 'session.snapshot');
  assert.equal(got?.sequence, 6);
  assert.equal((got?.session as { state: string } | undefined)?.state, 'capturing');
  assert.deepEqual(r.messages.map((m) => m.sequence), [6, 7]);
});

test('a session already finished: snapshot, then immediate close (WebSocket and SSE)', async () => {
  await s.store.saveSession(session({ id: 'done', state: 'failed', errorCode: 'card-declined' }));
  const ws = await wsCollect(wsUrl('done'), s.auth);
  assert.deepEqual(ws.messages.map((m) => m.type), ['session.snapshot']);
  assert.equal(ws.closeCode, 1000);
  const sse = await sseCollect(sseUrl('done'), s.auth);
  assert.equal(sse.status, 200);
  assert.deepEqual(sse.frames.map((f) => f.event), ['session.snapshot']);
});

test('SSE: text/event-stream, snapshot first, event/id/data frames, heartbeats while idle, end after the terminal event', async () => {
  await s.store.saveSession(session({ id: 'sse-1', state: 'created' }));
  const hub = s.app.cardline.hub;
  let sawHeartbeat = false;
  const r = await sseCollect(sseUrl('sse-1'), s.auth, {
    onFrame: (f, n) => {
      if (n === 1) hub.publish(event('sse-1', 1, 'capturing', 'field.started'));
      if (f.comment === 'heartbeat' && !sawHeartbeat) {
        sawHeartbeat = true;
        hub.publish(event('sse-1', 2, 'expired', 'session.expired'));
      }
    },
  });
  assert.equal(r.status, 200);
  assert.match(r.contentType ?? '', /^text\/event-stream/);
  const events = r.frames.filter((f) => f.event !== undefined);
  assert.deepEqual(events.map((f) => [f.event, f.id]), [['session.snapshot', '0'], ['field.started', '1'], ['session.expired', '2']]);
  for (const f of events) {
    const data = JSON.parse(f.data ?? '{}') as { type: string; sequence: number; session: { id: string } };
    assert.equal(data.type, f.event);
    assert.equal(String(data.sequence), f.id);
    assert.equal(data.session.id, 'sse-1');
  }
  assert.ok(sawHeartbeat, 'a heartbeat comment arrived while idle (heartbeatMs=200)');
  assert.equal(hub.subscriberCount('sse-1' as SessionId), 0);
});

test('WebSocket heartbeat: the server pings; a client that does not answer pongs is dropped', async () => {
  await s.store.saveSession(session({ id: 'hb', state: 'capturing' }));
  const r = await wsCollect(wsUrl('hb'), s.auth, { autoPong: false });
  assert.ok(r.pings >= 1);
  assert.equal(r.closeCode, 1006, 'terminated without a close frame');
  for (let i = 0; i < 50 && s.app.cardline.hub.subscriberCount('hb' as SessionId) > 0; i++) await new Promise((res) => setTimeout(res, 20));
  assert.equal(s.app.cardline.hub.subscriberCount('hb' as SessionId), 0);
});

test('a client that goes away is unsubscribed (SSE abort)', async () => {
  await s.store.saveSession(session({ id: 'gone', state: 'capturing' }));
  const ctl = new AbortController();
  await sseCollect(sseUrl('gone'), s.auth, { signal: ctl.signal, onFrame: (_f, n) => { if (n === 1) ctl.abort(); } });
  for (let i = 0; i < 50 && s.app.cardline.hub.subscriberCount('gone' as SessionId) > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.app.cardline.hub.subscriberCount('gone' as SessionId), 0);
});

test('unknown session → 404 before any upgrade or stream', async () => {
  await assert.rejects(wsCollect(wsUrl('nope'), s.auth), /HTTP 404/);
  const r = await fetch(sseUrl('nope'), { headers: { ...s.auth, accept: 'text/event-stream' } });
  assert.equal(r.status, 404);
  assert.deepEqual(await r.json(), { error: { code: 'session-not-found', message: 'No such payment session' } });
});

test('events are sent through the schema: a property the domain added by mistake never reaches the client', async () => {
  await s.store.saveSession(session({ id: 'leak', state: 'created' }));
  const PAN = '4111111111111111';
  const r = await wsCollect(wsUrl('leak'), s.auth, {
    onMessage: (_m, n) => {
      if (n !== 1) return;
      const ev = event('leak', 1, 'cancelled', 'session.cancelled');
      Object.assign(ev.session, { pan: PAN });
      Object.assign(ev, { digits: PAN });
      s.app.cardline.hub.publish(ev);
    },
  });
  assert.equal(r.messages.length, 2);
  assert.ok(!JSON.stringify(r.messages).includes(PAN));
});

test('server shutdown closes open streams (WebSocket 1001)', async () => {
  const own = await startTestServer();
  try {
    await own.store.saveSession(session({ id: 'sd', state: 'capturing' }));
    const r = await wsCollect(`${own.url.replace('http', 'ws')}/v1/sessions/sd/events`, own.auth, { onMessage: (_m, n) => { if (n === 1) void own.app.close(); } });
    assert.equal(r.closeCode, 1001);
  } finally {
    await own.close();
  }
});
