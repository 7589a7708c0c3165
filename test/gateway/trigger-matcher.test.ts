/**
 * TriggerMatcher: agent keys held while they are a prefix of a trigger, released (in order, with their tags) as
 * soon as they cannot be, consumed on a full match; mismatch recovery; inter-digit timeout.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { DtmfDigit } from '../../src/dsp/index.ts';
import { TriggerMatcher, TriggerMatcherState, type TriggerStep } from '../../src/gateway/index.ts';

const T = { start: '#388*', end: '#388#' };

/** Types `keys` one per 100 ms from t0; returns what was released (as a string) and the matches in order. */
function type(m: TriggerMatcher<number>, keys: string, t0 = 0): { released: string; matches: string[]; tags: number[] } {
  let released = '';
  const matches: string[] = [];
  const tags: number[] = [];
  [...keys].forEach((k, i) => {
    const step: TriggerStep<number> = m.push(k as DtmfDigit, i, t0 + i * 100);
    released += step.released.map((x) => x.digit).join('');
    tags.push(...step.released.map((x) => x.tag));
    if (step.matched) matches.push(step.matched);
  });
  return { released, matches, tags };
}

describe('TriggerMatcher', () => {
  it('holds a prefix and consumes a full start or end sequence', () => {
    const m = new TriggerMatcher<number>(T);
    const a = type(m, '#388');
    assert.deepEqual([a.released, a.matches, m.state, m.heldCount], ['', [], TriggerMatcherState.Collecting, 4]);
    const b = m.push('*', 9, 500);
    assert.deepEqual([b.released, b.matched, m.state, m.heldCount], [[], 'start', TriggerMatcherState.Idle, 0]);
    assert.deepEqual(type(m, '#388#', 1000), { released: '', matches: ['end'], tags: [] });
  });

  it('releases keys that cannot start a trigger at once, in order, with their tags', () => {
    const m = new TriggerMatcher<number>(T);
    assert.deepEqual(type(m, '12'), { released: '12', matches: [], tags: [0, 1] });
    assert.equal(m.state, TriggerMatcherState.Idle);
    // #3 held, then 5 breaks it: all three go out together
    assert.deepEqual(type(m, '#35', 1000), { released: '#35', matches: [], tags: [0, 1, 2] });
  });

  it('recovers from a mismatch by the longest held suffix that is still a prefix (##388*, #38#388#)', () => {
    const m = new TriggerMatcher<number>(T);
    assert.deepEqual(type(m, '##388*'), { released: '#', matches: ['start'], tags: [0] });
    assert.deepEqual(type(m, '#38#388#', 5000), { released: '#38', matches: ['end'], tags: [0, 1, 2] });
    // after a match the next keys start afresh: `388*` alone is no trigger
    assert.deepEqual(type(m, '#388#388*', 9000), { released: '388*', matches: ['end'], tags: [5, 6, 7, 8] });
    assert.equal(m.heldCount, 0);
  });

  it('the inter-digit timeout releases a half-typed trigger; a key after it starts afresh', () => {
    const m = new TriggerMatcher<number>({ ...T, interDigitTimeoutMs: 1000 });
    type(m, '#38'); // last key at 200 ms
    assert.deepEqual(m.poll(1199).released, []);
    assert.deepEqual(m.poll(1200).released.map((k) => k.digit), ['#', '3', '8']);
    assert.equal(m.state, TriggerMatcherState.Idle);
    type(m, '#38', 2000); // last key at 2200
    const late = m.push('8', 7, 3300); // the timeout ran out first: '#38' released, then '8' is released too
    assert.deepEqual([late.released.map((k) => k.digit).join(''), late.matched], ['#388', null]);
  });

  it('rejects bad triggers and timeouts (invalid-config), bad keys (dtmf-invalid-digit)', () => {
    const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;
    assert.throws(() => new TriggerMatcher({ start: '#38', end: '#388' }), code('invalid-config'));
    assert.throws(() => new TriggerMatcher({ start: '#1', end: '#1' }), code('invalid-config'));
    assert.throws(() => new TriggerMatcher({ ...T, interDigitTimeoutMs: 0 }), code('invalid-config'));
    assert.throws(() => new TriggerMatcher(T).push('x' as DtmfDigit, undefined, 0), code('dtmf-invalid-digit'));
  });

  it('property: every key is either released exactly once, in order, or part of a matched trigger', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom('#', '3', '8', '*', '1'), { maxLength: 60 }), (keys) => {
      const m = new TriggerMatcher<number>(T);
      const out: number[] = [];
      let matchedKeys = 0;
      keys.forEach((k, i) => {
        const s = m.push(k as DtmfDigit, i, i * 10);
        out.push(...s.released.map((x) => x.tag));
        if (s.matched) matchedKeys += 5;
      });
      out.push(...m.flush().map((x) => x.tag));
      assert.equal(out.length + matchedKeys, keys.length);
      for (let i = 1; i < out.length; i++) assert.ok((out[i] as number) > (out[i - 1] as number));
      // input without a trigger in it: nothing matched, everything released
      if (!/#388[*#]/.test(keys.join(''))) assert.deepEqual(out, keys.map((_, i) => i));
    }));
  });
});
