import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFinalClose, LiveStream, type StreamState } from '../../web/src/live-stream.ts';

/** A transport the test drives by hand: each open() is one connection it can message or close. */
function fakeTransport() {
  const conns: Array<{ msg(d: unknown): void; drop(final?: boolean): void; closed: boolean; openedAt: number }> = [];
  const open = (onMessage: (d: unknown) => void, onClose: (final: boolean) => void) => {
    const c = { msg: onMessage, drop: (final = false) => onClose(final), closed: false, openedAt: Date.now() };
    conns.push(c);
    return { close: () => { c.closed = true; } };
  };
  return { conns, open };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('LiveStream (reconnecting masked-event stream)', () => {
  it('goes live on the first message, reconnects after drops with doubling capped back-off, resets it once live', async () => {
    const t = fakeTransport();
    const states: Array<[StreamState, number]> = [];
    const got: unknown[] = [];
    const s = new LiveStream(t.open, { onMessage: (d) => got.push(d), onState: (st, a) => states.push([st, a]), baseDelayMs: 10, maxDelayMs: 40, random: () => 0.5 });
    assert.equal(s.state, 'connecting');
    t.conns[0]!.msg({ n: 1 });
    assert.equal(s.state, 'live');
    for (let i = 0; i < 4; i++) {
      t.conns.at(-1)!.drop();
      assert.equal(s.state, 'reconnecting');
      await until(() => t.conns.length === i + 2);
    }
    // delays 10, 20, 40, 40 (capped): each try waits at least as long as the previous one
    const gaps = t.conns.slice(1).map((c, i) => c.openedAt - t.conns[i]!.openedAt);
    assert.ok(gaps[3]! >= 35 && gaps[2]! >= 35 && gaps[1]! >= 15, gaps.join(','));
    t.conns.at(-1)!.msg({ n: 2 });
    assert.deepEqual(got, [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(states.at(-1), ['live', 0], 'the attempt counter resets once live');
    // a late message or close from an old connection is ignored
    t.conns[0]!.msg({ stale: true });
    t.conns[1]!.drop();
    assert.equal(s.state, 'live');
    assert.deepEqual(got, [{ n: 1 }, { n: 2 }]);
    s.stop();
    s.stop();
    assert.equal(s.state, 'closed');
    assert.equal(t.conns.at(-1)!.closed, true);
  });

  it('a final close ends it; stop() during a back-off cancels the retry', async () => {
    const t = fakeTransport();
    const a = new LiveStream(t.open, { onMessage: () => undefined, onState: () => undefined, baseDelayMs: 5 });
    t.conns[0]!.msg({});
    t.conns[0]!.drop(true);
    assert.equal(a.state, 'closed');
    const u = fakeTransport();
    const b = new LiveStream(u.open, { onMessage: () => undefined, onState: () => undefined, baseDelayMs: 5 });
    u.conns[0]!.drop();
    b.stop();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(u.conns.length, 1);
  });

  it('close codes: 1000 is final only after a snapshot arrived; 4404 always; 1001/1006 never', () => {
    assert.deepEqual([isFinalClose(1000, true), isFinalClose(1000, false), isFinalClose(4404, false), isFinalClose(1001, true), isFinalClose(1006, true)], [true, false, true, false, false]);
  });
});
