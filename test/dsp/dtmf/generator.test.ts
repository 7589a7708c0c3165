import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  amplitudeToDbm0, dbm0ToAmplitude, digitPosition, generateSequence, generateTone,
} from '../../../src/dsp/dtmf/generator.ts';
import { DTMF_COL_FREQS, DTMF_DIGITS, DTMF_ROW_FREQS } from '../../../src/dsp/types.ts';
import { isCardlineError } from '../../../src/errors/index.ts';
import { amplitudeAt, meanSquare, peakFrequency } from './helpers.ts';

const near = (a: number, b: number, tol: number, what = '') =>
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} not within ${tol} of ${b}`);

test('dBm0 convention: 0 dBm0 = 32767·10^(−3.14/20) ≈ 22 826 peak, full-scale sine = +3.14 dBm0', () => {
  near(dbm0ToAmplitude(0), 22826.4, 0.1);
  near(amplitudeToDbm0(32767), 3.14, 1e-9);
  for (const l of [-50, -36, -10, 0, 3]) near(amplitudeToDbm0(dbm0ToAmplitude(l)), l, 1e-9);
  near(dbm0ToAmplitude(-20) / dbm0ToAmplitude(0), 0.1, 1e-12);
});

test('each digit has its Q.23 row and column tones at the requested level (measured back)', () => {
  for (const digit of DTMF_DIGITS) {
    const { row, col } = digitPosition(digit);
    const x = generateTone({ digit, durationMs: 500, levelDbm0: -13 });
    assert.equal(x.length, 4000);
    const fr = DTMF_ROW_FREQS[row] ?? 0;
    const fc = DTMF_COL_FREQS[col] ?? 0;
    near(amplitudeToDbm0(amplitudeAt(x, fr)), -13, 0.05, `${digit} row`);
    near(amplitudeToDbm0(amplitudeAt(x, fc)), -13, 0.05, `${digit} col`);
    // Nothing else: the two tones hold all the power (mean square = A²/2 + A²/2).
    const a = dbm0ToAmplitude(-13);
    near(meanSquare(x) / (a * a), 1, 0.01, `${digit} power`);
  }
});

test('twist: high group = low group + twist dB', () => {
  for (const twist of [4, -8, 0]) {
    const x = generateTone({ digit: '5', durationMs: 400, levelDbm0: -20, twistDb: twist });
    near(amplitudeToDbm0(amplitudeAt(x, 770)), -20, 0.05);
    near(amplitudeToDbm0(amplitudeAt(x, 1336)), -20 + twist, 0.05);
  }
});

test('frequency offsets move each tone by the given percentage', () => {
  const x = generateTone({ digit: 'D', durationMs: 1000, levelDbm0: -10, freqOffsetPct: 1.5 });
  near(peakFrequency(x, 900, 980), 941 * 1.015, 0.05, 'row');
  near(peakFrequency(x, 1600, 1700), 1633 * 1.015, 0.05, 'col');
  const y = generateTone({ digit: '1', durationMs: 1000, freqOffsetPct: { row: -3.5, col: 2 } });
  near(peakFrequency(y, 650, 720), 697 * 0.965, 0.05, 'row');
  near(peakFrequency(y, 1180, 1260), 1209 * 1.02, 0.05, 'col');
});

test('phase sets the start phase; ramps shape on/off with a raised cosine', () => {
  const a = generateTone({ digit: '1', durationMs: 10, levelDbm0: -10 });
  assert.equal(a[0], 0); // sin(0) + sin(0)
  const b = generateTone({ digit: '1', durationMs: 10, levelDbm0: -10, phase: Math.PI / 2 });
  near(b[0] ?? 0, 2 * dbm0ToAmplitude(-10), 1);
  const r = generateTone({ digit: '1', durationMs: 100, levelDbm0: -10, rampMs: 10, phase: Math.PI / 2 });
  // first sample is almost silent, the ramp is monotone in envelope, the middle is at full level
  assert.ok(Math.abs(r[0] ?? 0) < 0.01 * 2 * dbm0ToAmplitude(-10));
  assert.ok(Math.abs(r[r.length - 1] ?? 0) < 0.05 * 2 * dbm0ToAmplitude(-10));
  // between the ramps the samples are exactly those of the unramped tone
  const flat = generateTone({ digit: '1', durationMs: 100, levelDbm0: -10, phase: Math.PI / 2 });
  assert.deepEqual(r.subarray(80, 720), flat.subarray(80, 720));
  assert.ok(Math.abs(r[40] ?? 0) <= Math.abs(flat[40] ?? 0) * 0.55 + 1); // half-way up the ramp
});

test('0 dBm0 per tone saturates instead of wrapping around', () => {
  const x = generateTone({ digit: '#', durationMs: 100, levelDbm0: 0 });
  let max = -Infinity;
  let min = Infinity;
  for (const v of x) { max = Math.max(max, v); min = Math.min(min, v); }
  assert.equal(max, 32767);
  assert.equal(min, -32768);
  // clipped, but the tones are still there at about their level
  near(amplitudeToDbm0(amplitudeAt(x, 941)), 0, 1.5);
});

test('generateTone writes into a caller buffer at an offset and checks its length', () => {
  const buf = new Int16Array(1000).fill(7);
  const ret = generateTone({ digit: '9', durationMs: 50 }, buf, 100);
  assert.equal(ret, buf);
  assert.equal(buf[99], 7);
  assert.equal(buf[500], 7);
  assert.notEqual(buf[101], 7);
  assert.deepEqual(buf.subarray(100, 500), generateTone({ digit: '9', durationMs: 50 }));
  assert.throws(() => generateTone({ digit: '9', durationMs: 50 }, buf, 700), (e) => isCardlineError(e) && e.code === 'audio-invalid-argument');
});

test('generateSequence: layout, events and defaults', () => {
  const { samples, events } = generateSequence('4111#', { onMs: 80, offMs: 80 });
  assert.equal(samples.length, 640 + 5 * 640 + 4 * 640 + 640);
  assert.deepEqual(events.map((e) => e.digit), ['4', '1', '1', '1', '#']);
  events.forEach((e, i) => {
    assert.equal(e.startSample, 640 + i * 1280);
    assert.equal(e.endSample, e.startSample + 640);
  });
  // silence between tones, tone inside
  assert.equal(meanSquare(samples, 0, 640), 0);
  assert.equal(meanSquare(samples, 1280, 1920), 0);
  near(amplitudeToDbm0(amplitudeAt(samples, 770, 640, 1280)), -10, 0.05);
  const s2 = generateSequence('12', { onMs: 50, offMs: 40, leadMs: 0, tailMs: 10, levelDbm0: -30, twistDb: 2 });
  assert.equal(s2.samples.length, 400 + 320 + 400 + 80);
  assert.deepEqual(s2.events, [{ digit: '1', startSample: 0, endSample: 400 }, { digit: '2', startSample: 720, endSample: 1120 }]);
  near(amplitudeToDbm0(amplitudeAt(s2.samples, 1336, 720, 1120)), -28, 0.1);
});

test('invalid digits are typed errors that never echo the input', () => {
  const secret = '4111x1111';
  assert.throws(() => generateSequence(secret), (e) => {
    assert.ok(isCardlineError(e));
    assert.equal(e.code, 'dtmf-invalid-digit');
    assert.ok(!e.message.includes('4111'));
    assert.match(e.message, /index 4/);
    return true;
  });
  assert.throws(() => generateTone({ digit: 'E' as never, durationMs: 10 }), (e) => isCardlineError(e) && e.code === 'dtmf-invalid-digit');
  assert.throws(() => generateTone({ digit: '1', durationMs: Number.NaN }), (e) => isCardlineError(e) && e.code === 'audio-invalid-argument');
});
