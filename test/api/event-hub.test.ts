import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventHub } from '../../src/api/index.ts';
import type { SessionId } from '../../src/payments/types.ts';
import { event } from './helpers/events.ts';

const S = 's-1' as SessionId;

test('subscribers get their session\'s events in order, not other sessions\'', async () => {
  const hub = new EventHub();
  const a = hub.subscribe(S);
  const b = hub.subscribe(S);
  const other = hub.subscribe('s-2' as SessionId);
  hub.publish(event('s-1', 1));
  hub.publish(event('s-1', 2));
  hub.publish(event('s-2', 1));
  assert.deepEqual([(await a.next())?.sequence, (await a.next())?.sequence], [1, 2]);
  assert.deepEqual([(await b.next())?.sequence, (await b.next())?.sequence], [1, 2]);
  assert.equal((await other.next())?.sessionId, 's-2');
  assert.equal(hub.subscriberCount(S), 2);
  a.close();
  assert.equal(hub.subscriberCount(S), 1);
  assert.equal(await a.next(), null);
});

test('a waiting next() is woken by publish and by close', async () => {
  const hub = new EventHub();
  const sub = hub.subscribe(S);
  const p = sub.next();
  hub.publish(event('s-1', 7));
  assert.equal((await p)?.sequence, 7);
  const q = sub.next();
  sub.close();
  assert.equal(await q, null);
});

test('bounded buffer: a slow subscriber loses the oldest events, counts them, and keeps the newest', async () => {
  const hub = new EventHub({ bufferSize: 3 });
  const slow = hub.subscribe(S);
  const fast = hub.subscribe(S, { bufferSize: 100 });
  for (let i = 1; i <= 10; i++) hub.publish(event('s-1', i));
  assert.equal(slow.buffered, 3);
  assert.equal(slow.dropped, 7);
  const got: number[] = [];
  for (let i = 0; i < 3; i++) got.push((await slow.next())?.sequence ?? -1);
  assert.deepEqual(got, [8, 9, 10]);
  assert.equal(fast.buffered, 10);
  assert.equal(fast.dropped, 0);
});

test('a terminal event is delivered, then the subscription ends; iteration finishes', async () => {
  const hub = new EventHub();
  const sub = hub.subscribe(S);
  hub.publish(event('s-1', 1));
  hub.publish(event('s-1', 2, 'succeeded', 'session.succeeded'));
  hub.publish(event('s-1', 3)); // nothing after the end
  const seen: string[] = [];
  for await (const ev of sub) seen.push(ev.type);
  assert.deepEqual(seen, ['field.progress', 'session.succeeded']);
  assert.equal(sub.closed, true);
  assert.equal(hub.subscriberCount(S), 0);
});

test('latest(): retained per session, stale (lower sequence) events ignored, oldest sessions evicted', () => {
  const hub = new EventHub({ maxRetained: 2 });
  hub.publish(event('a', 2));
  hub.publish(event('a', 1));
  assert.equal(hub.latest('a' as SessionId)?.sequence, 2);
  hub.publish(event('b', 1));
  hub.publish(event('c', 1));
  assert.equal(hub.latest('a' as SessionId), undefined);
  assert.equal(hub.latest('c' as SessionId)?.sequence, 1);
});

test('global listeners see every event; one that throws does not stop others or subscribers', async () => {
  const errors: unknown[] = [];
  const hub = new EventHub({ onListenerError: (e) => errors.push(e) });
  const seen: number[] = [];
  hub.onEvent(() => { throw new Error('listener bug'); });
  const off = hub.onEvent((e) => seen.push(e.sequence));
  const sub = hub.subscribe(S);
  hub.publish(event('s-1', 1));
  off();
  hub.publish(event('s-1', 2));
  assert.deepEqual(seen, [1]);
  assert.equal(errors.length, 2);
  assert.equal((await sub.next())?.sequence, 1);
});

test('close() ends every subscription and refuses later publishes and subscriptions', async () => {
  const hub = new EventHub();
  const sub = hub.subscribe(S);
  const pending = sub.next();
  hub.close();
  hub.close();
  assert.equal(await pending, null);
  hub.publish(event('s-1', 1));
  assert.equal(hub.latest(S), undefined);
  const late = hub.subscribe(S);
  assert.equal(await late.next(), null);
});
