import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combineChannelSpans } from '../../src/cli/commands/dtmf.ts';

const sp = (startSample: number, endSample: number, keyPress = true) => ({ startSample, endSample, keyPress });

test('one channel: the masker\'s spans come back unchanged, touching split spans stay separate', () => {
  const spans = [sp(100, 400), sp(400, 700), sp(1000, 1300, false), sp(2000, 2500)];
  assert.deepEqual(combineChannelSpans([spans]), spans);
});

test('overlapping spans of two channels merge; beeps follow the channel with the most key presses', () => {
  // channel 0: a run split at its second key press; channel 1: the echo of both, as one span
  const ch0 = [sp(100, 400), sp(400, 700)];
  const ch1 = [sp(80, 720)];
  assert.deepEqual(combineChannelSpans([ch0, ch1]), [sp(80, 400), sp(400, 720)]);
  // the echo alone (no confirmed key press) adds coverage but no beep of its own
  assert.deepEqual(combineChannelSpans([[sp(100, 300)], [sp(250, 500, false)]]), [sp(100, 500)]);
  assert.deepEqual(combineChannelSpans([[sp(100, 300, false)], [sp(250, 500, false)]]), [sp(100, 500, false)]);
  // disjoint spans of different channels are kept apart, in time order
  assert.deepEqual(combineChannelSpans([[sp(900, 1000)], [sp(100, 200)]]), [sp(100, 200), sp(900, 1000)]);
  // plain MaskSpans (no keyPress field) count as key presses; empty spans are dropped
  assert.deepEqual(combineChannelSpans([[{ startSample: 5, endSample: 9 }, { startSample: 20, endSample: 20 }]]), [sp(5, 9)]);
  assert.deepEqual(combineChannelSpans([[], []]), []);
});
