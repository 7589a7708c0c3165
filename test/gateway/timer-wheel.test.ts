/** The TimerWheel that schedules every relay's RTCP reports, on real time with a short tick. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimerWheel } from '../../src/gateway/timer-wheel.ts';

describe('TimerWheel', () => {
  it('runs jobs once, in due order, never early; cancel works; a throwing job does not stop the others; more than one turn', async () => {
    const wheel = new TimerWheel({ tickMs: 10, slots: 4 }); // one turn = 40 ms
    const ran: Array<[string, number]> = [];
    const t0 = performance.now();
    const at = (name: string) => () => { ran.push([name, performance.now() - t0]); };
    wheel.schedule(60, at('b'));
    wheel.schedule(20, at('a'));
    const c = wheel.schedule(30, at('cancelled'));
    wheel.schedule(25, () => { throw new Error('job failure'); });
    wheel.schedule(130, at('c')); // three turns ahead
    c.cancel();
    c.cancel();
    assert.equal(wheel.size, 4);
    const deadline = Date.now() + 10_000;
    while (wheel.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(ran.map(([n]) => n), ['a', 'b', 'c']);
    for (const [name, t] of ran) assert.ok(t >= { a: 20, b: 60, c: 130 }[name]! - 1, `${name} ran at ${t.toFixed(1)} ms, not before it was due`);
    assert.equal(wheel.errors, 1);
    wheel.close();
  });
});
