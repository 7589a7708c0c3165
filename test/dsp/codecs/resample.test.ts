import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { resample, Resampler } from '../../../src/dsp/resample.ts';
import { CardlineError } from '../../../src/errors/index.ts';

function sine(f: number, rate: number, n: number, amp: number, phase = 0): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * f * i) / rate + phase)));
}
function rms(x: ArrayLike<number>, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += (x[i] as number) ** 2;
  return Math.sqrt(s / (to - from));
}
/** Amplitude and phase of frequency f in x[from, to) (single-bin DFT, exact for whole-cycle windows). */
function dft(x: ArrayLike<number>, f: number, rate: number, from: number, to: number): { amp: number; phase: number } {
  let re = 0;
  let im = 0;
  for (let i = from; i < to; i++) {
    const w = (2 * Math.PI * f * i) / rate;
    re += (x[i] as number) * Math.cos(w);
    im -= (x[i] as number) * Math.sin(w);
  }
  const n = to - from;
  return { amp: (2 * Math.hypot(re, im)) / n, phase: Math.atan2(im, re) };
}
const db = (r: number) => 20 * Math.log10(r);
/** Steady-state window: skip the filter's edge transients (10 ms) at each end. */
const inner = (n: number, rate: number) => [Math.round(0.01 * rate), n - Math.round(0.01 * rate)] as const;

const INPUT_RATES = [16000, 11025, 22050, 32000, 44100, 48000, 96000];

test('1 kHz at 48 kHz → 8 kHz keeps level (±0.1 dB), frequency and phase', () => {
  const amp = 16000;
  const y = resample(sine(1000, 48000, 48000, amp), 48000, 8000);
  assert.equal(y.length, 8000);
  const [a, b] = inner(y.length, 8000);
  const got = dft(y, 1000, 8000, a, b);
  assert.ok(Math.abs(db(got.amp / amp)) < 0.1, `level ${db(got.amp / amp)} dB`);
  // frequency: the energy sits at 1000 Hz, not next to it
  assert.ok(dft(y, 990, 8000, a, b).amp < got.amp * 0.05 && dft(y, 1010, 8000, a, b).amp < got.amp * 0.05);
  // phase of sin() is −π/2 in this DFT convention: output is time-aligned with the input
  assert.ok(Math.abs(got.phase + Math.PI / 2) < 0.01, `phase ${got.phase}`);
});

test('1 kHz keeps its level (±0.1 dB) from every input rate, and 300-3400 Hz is flat', () => {
  for (const rate of INPUT_RATES) {
    for (const f of [300, 1000, 2000, 3400]) {
      const amp = 12000;
      const y = resample(sine(f, rate, rate / 2, amp), rate, 8000);
      const [a, b] = inner(y.length, 8000);
      const level = db(rms(y, a, b) / (amp / Math.SQRT2));
      assert.ok(Math.abs(level) < 0.1, `${f} Hz from ${rate} Hz: ${level.toFixed(3)} dB`);
    }
  }
});

test('tones above 4 kHz are attenuated ≥ 60 dB on the way to 8 kHz (no aliasing into the band)', () => {
  for (const rate of [16000, 44100, 48000, 22050, 32000, 96000, 11025]) {
    for (const f of [4000, 5000, 6000, 7000, 10000]) {
      if (f >= rate / 2) continue;
      const amp = 30000;
      const y = resample(sine(f, rate, rate / 2, amp), rate, 8000);
      const [a, b] = inner(y.length, 8000);
      const r = rms(y, a, b);
      // int16 rounding floors the measurement at about −99 dB; ≥ 60 dB is the requirement
      const att = r === 0 ? Infinity : -db(r / (amp / Math.SQRT2));
      assert.ok(att >= 60, `${f} Hz from ${rate} Hz: only ${att.toFixed(1)} dB`);
    }
  }
});

test('DTMF-band tones keep their level through 44.1/48 kHz → 8 kHz and 8 kHz → 16/48 kHz → 8 kHz', () => {
  for (const f of [697, 770, 852, 941, 1209, 1336, 1477, 1633]) {
    for (const rate of [44100, 48000]) {
      const y = resample(sine(f, rate, rate / 4, 10000), rate, 8000);
      const [a, b] = inner(y.length, 8000);
      assert.ok(Math.abs(db(rms(y, a, b) / (10000 / Math.SQRT2))) < 0.05, `${f} Hz from ${rate}`);
    }
    for (const up of [16000, 48000]) {
      const x = sine(f, 8000, 2000, 10000);
      const there = resample(x, 8000, up);
      assert.equal(there.length, (2000 * up) / 8000);
      const back = resample(there, up, 8000);
      assert.equal(back.length, 2000);
      const [a, b] = inner(2000, 8000);
      let maxErr = 0;
      for (let i = a; i < b; i++) maxErr = Math.max(maxErr, Math.abs((back[i] as number) - (x[i] as number)));
      assert.ok(maxErr <= 3, `${f} Hz via ${up}: max error ${maxErr}`);
    }
  }
});

test('group delay is compensated: an impulse stays at its time instant', () => {
  for (const [from, to] of [[48000, 8000], [16000, 8000], [44100, 8000], [8000, 16000], [8000, 44100]] as const) {
    const n = from; // 1 s
    const x = new Int16Array(n);
    const at = from / 2; // t = 0.5 s, which is an output sample instant for all these rates
    x[at] = 30000;
    const y = resample(x, from, to);
    let peak = 0;
    for (let i = 1; i < y.length; i++) if (Math.abs(y[i] as number) > Math.abs(y[peak] as number)) peak = i;
    assert.equal(peak, to / 2, `${from} → ${to}`);
    // symmetric filter: the response is symmetric around the peak
    for (let d = 1; d < 20; d++) assert.ok(Math.abs((y[peak - d] as number) - (y[peak + d] as number)) <= 1, `${from} → ${to} symmetry at ${d}`);
  }
});

test('output length is ceil(n·to/from); equal rates copy; silence stays silence', () => {
  for (const [n, from, to] of [[0, 48000, 8000], [1, 48000, 8000], [7, 44100, 8000], [441, 44100, 8000], [1000, 8000, 11025], [3, 8000, 96000]] as const) {
    assert.equal(resample(new Int16Array(n), from, to).length, Math.ceil((n * to) / from), `${n} ${from}→${to}`);
    assert.ok(resample(new Int16Array(n), from, to).every((v) => v === 0));
  }
  const x = sine(440, 8000, 100, 1000);
  const same = resample(x, 8000, 8000);
  assert.deepEqual(same, x);
  assert.notEqual(same, x, 'a copy, not the caller\'s array');
  // full-scale square waves overshoot (Gibbs): clipped, never wrapped around
  const sq = Int16Array.from({ length: 4800 }, (_, i) => (Math.floor(i / 24) % 2 ? 32767 : -32768));
  const y = resample(sq, 48000, 8000);
  for (let i = 1; i < y.length; i++) assert.ok(Math.abs((y[i] as number) - (y[i - 1] as number)) < 60000);
});

test('streaming Resampler gives the one-shot output for any chunking (property)', () => {
  const pairs = [[48000, 8000], [44100, 8000], [11025, 8000], [8000, 16000], [8000, 44100], [22050, 8000]] as const;
  const inputs = new Map(pairs.map(([from]) => [from, sine(1234, from, Math.round(from / 20), 20000)]));
  fc.assert(fc.property(
    fc.constantFrom(...pairs),
    fc.array(fc.integer({ min: 0, max: 900 }), { minLength: 1, maxLength: 40 }),
    ([from, to], sizes) => {
      const x = inputs.get(from) as Int16Array;
      const want = resample(x, from, to);
      const r = new Resampler(from, to);
      const got: number[] = [];
      let i = 0;
      for (let k = 0; i < x.length; k++) {
        const n = sizes[k % sizes.length] as number;
        for (const v of r.process(x.subarray(i, i + n))) got.push(v);
        i += n;
      }
      for (const v of r.flush()) got.push(v);
      assert.equal(got.length, want.length);
      for (let j = 0; j < got.length; j++) if (got[j] !== want[j]) assert.fail(`${from}→${to} sample ${j}`);
    },
  ), { numRuns: 60, seed: 7 });
});

test('a Resampler is reusable after flush, and single-sample chunks work', () => {
  const x = sine(1000, 16000, 1600, 9000);
  const want = resample(x, 16000, 8000);
  const r = new Resampler(16000, 8000);
  for (let round = 0; round < 2; round++) {
    const got: number[] = [];
    for (let i = 0; i < x.length; i++) for (const v of r.process(x.subarray(i, i + 1))) got.push(v);
    for (const v of r.flush()) got.push(v);
    assert.deepEqual(Int16Array.from(got), want, `round ${round}`);
  }
  assert.equal(r.lookaheadSamples, 77, '≈ 4.8 ms of 16 kHz input held back');
});

test('odd rate pairs (huge L) use the interpolated filter and match the exact one to ±1', () => {
  const x = sine(1000, 44100, 44100 / 4, 20000);
  const exact = resample(x, 44100, 8000);
  const r = new Resampler(44100, 8000, { interpolatedFilter: true });
  const interp = Int16Array.from([...r.process(x), ...r.flush()]);
  assert.equal(interp.length, exact.length);
  for (let i = 0; i < exact.length; i++) assert.ok(Math.abs((exact[i] as number) - (interp[i] as number)) <= 1);
  // 44 101 Hz → 8000 Hz: L = 8000, M = 44 101 (gcd 1) takes the interpolated path automatically
  const odd = resample(sine(1000, 44101, 44101 / 2 | 0, 10000), 44101, 8000);
  const [a, b] = inner(odd.length, 8000);
  assert.ok(Math.abs(db(dft(odd, 1000, 8000, a, b).amp / 10000)) < 0.1);
  const alias = resample(sine(6000, 44101, 44101 / 2 | 0, 30000), 44101, 8000);
  assert.ok(rms(alias, a, b) < 30000 * 1e-3);
});

test('invalid rates are rejected with audio-invalid-argument', () => {
  for (const [from, to] of [[0, 8000], [8000, -1], [44100.5, 8000], [Number.NaN, 8000], [8000, 1e9]]) {
    assert.throws(() => new Resampler(from as number, to as number), (e: unknown) => e instanceof CardlineError && e.code === 'audio-invalid-argument');
  }
});
