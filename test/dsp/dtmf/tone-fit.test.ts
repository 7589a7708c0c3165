import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HannProbe, RING_SIZE, ResidualScanner, ToneFitter, dftAt, hzToOmega } from '../../../src/dsp/dtmf/tone-fit.ts';
import { mulberry32 } from './helpers.ts';

function ringWith(fill: (n: number) => number, len = RING_SIZE): Int16Array {
  const r = new Int16Array(RING_SIZE);
  for (let n = 0; n < len; n++) r[n] = Math.round(fill(n));
  return r;
}

test('dftAt equals the direct sum Σ x[n]·e^{−jωn}, also across the ring wrap', () => {
  const rand = mulberry32(1);
  const ring = ringWith(() => (rand() - 0.5) * 20000);
  const out = new Float64Array(2);
  for (const [start, len, f] of [[0, 102, 697], [1000, 102, 1633.3], [990, 57, 123.4], [-30, 200, 3999]] as const) {
    dftAt(ring, start, len, hzToOmega(f), out);
    let re = 0;
    let im = 0;
    const w = hzToOmega(f);
    for (let n = 0; n < len; n++) {
      const v = ring[(start + n) & (RING_SIZE - 1)] ?? 0;
      re += v * Math.cos(w * n);
      im -= v * Math.sin(w * n);
    }
    assert.ok(Math.abs((out[0] ?? 0) - re) < 1e-6 * Math.hypot(re, im) + 1e-6, `re ${f}`);
    assert.ok(Math.abs((out[1] ?? 0) - im) < 1e-6 * Math.hypot(re, im) + 1e-6, `im ${f}`);
  }
});

test('ToneFitter recovers amplitudes of two (and four) tones exactly, whatever their leakage', () => {
  const f = new ToneFitter();
  // 941 Hz 8 dB louder than 1209 Hz: a plain Goertzel of the weak tone is off by up to ±20 %.
  const ws = [hzToOmega(941 * 1.013), hzToOmega(1209 * 0.987)];
  const ring = ringWith((n) => 8000 * Math.sin(ws[0]! * n + 0.3) + 3185 * Math.cos(ws[1]! * n + 2));
  for (const start of [0, 17, 500]) {
    assert.ok(f.fit(ring, start, 102, ws, 2));
    assert.ok(Math.abs(f.amplitude(0) - 8000) < 2, `${f.amplitude(0)}`);
    assert.ok(Math.abs(f.amplitude(1) - 3185) < 2, `${f.amplitude(1)}`);
    // projected energy = energy of the block (the model is exact up to rounding)
    let e = 0;
    for (let n = 0; n < 102; n++) e += (ring[start + n] ?? 0) ** 2;
    assert.ok(Math.abs(f.projectedEnergy / e - 1) < 1e-4);
  }
  const w4 = [...ws, 2 * ws[0]!, 2 * ws[1]!];
  const ring4 = ringWith((n) => 8000 * Math.sin(w4[0]! * n) + 3000 * Math.sin(w4[1]! * n + 1) + 500 * Math.sin(w4[2]! * n + 2) + 100 * Math.sin(w4[3]! * n));
  assert.ok(f.fit(ring4, 0, 102, w4, 4));
  for (const [i, a] of [8000, 3000, 500, 100].entries()) assert.ok(Math.abs(f.amplitude(i) - a) < 2, `tone ${i}: ${f.amplitude(i)}`);
  // a block holding m tone samples (the rest silent) gives R' ≈ m/N
  const half = ringWith((n) => (n >= 51 ? 8000 * Math.sin(ws[0]! * n) + 8000 * Math.sin(ws[1]! * n) : 0), 102);
  f.fit(half, 0, 102, ws, 2);
  let e = 0;
  for (let n = 0; n < 102; n++) e += (half[n] ?? 0) ** 2;
  assert.ok(Math.abs(f.projectedEnergy / e - 0.5) < 0.05, `${f.projectedEnergy / e}`);
  // coinciding frequencies: singular, reported as such
  assert.equal(f.fit(ring, 0, 102, [ws[0]!, ws[0]!], 2), false);
});

test('HannProbe measures a frequency offset from the phase advance (±78 Hz range, a few Hz at 18 dB SNR)', () => {
  const rand = mulberry32(9);
  for (const f0 of [697, 941, 1209, 1633]) {
    const p = new HannProbe(f0, 102);
    for (const dev of [-60, -24.5, -3, 0, 10.5, 40, 70]) {
      const w = hzToOmega(f0 + dev);
      const other = hzToOmega(f0 < 1000 ? 1336 : 852);
      const ring = ringWith((n) => 6000 * Math.sin(w * n + 1) + 6000 * Math.sin(other * n) + (rand() - 0.5) * 2 * 1300);
      const est = (p.offsetAt(ring, 100, 51) * 8000) / (2 * Math.PI);
      // within ±45 Hz (beyond every limit we use) within 2.5 Hz; near the ±78 Hz edge the window gain drops
      assert.ok(Math.abs(est - dev) < (Math.abs(dev) > 45 ? 4 : 2.5), `${f0}${dev >= 0 ? '+' : ''}${dev}: estimated ${est.toFixed(2)}`);
    }
  }
});

test('ResidualScanner: a clean pair leaves nothing, an extra harmonic stands out', () => {
  const s = new ResidualScanner(102);
  const f = new ToneFitter();
  const ws = [hzToOmega(852), hzToOmega(1209)];
  const clean = ringWith((n) => 7000 * Math.sin(ws[0]! * n) + 7000 * Math.sin(ws[1]! * n + 1));
  f.fit(clean, 0, 102, ws, 2);
  const co = new Float64Array(4);
  f.copyCoefs(co, 2);
  s.load(clean, 0, co, ws[0]!, ws[1]!);
  assert.ok(s.peak(ws[0]!, ws[1]!) < 1e-6 * f.projectedEnergy);
  assert.ok(s.harmonic(2 * ws[0]!) < 0.5);
  const extra = ringWith((n) => 7000 * Math.sin(ws[0]! * n) + 7000 * Math.sin(ws[1]! * n + 1) + 1500 * Math.sin(hzToOmega(1030) * n));
  f.fit(extra, 0, 102, ws, 2);
  f.copyCoefs(co, 2);
  s.load(extra, 0, co, ws[0]!, ws[1]!);
  const ratio = s.peak(ws[0]!, ws[1]!) / f.projectedEnergy;
  // 1500² / (2·7000²) = −16.4 dB (at most 0.6 dB less: 1030 Hz is off the FFT grid)
  assert.ok(ratio > 10 ** (-1.71) && ratio < 10 ** (-1.63), `${(10 * Math.log10(ratio)).toFixed(2)} dB`);
  // the same component read at its exact frequency
  assert.ok(Math.abs(s.harmonic(hzToOmega(1030)) - 1500) < 60, `${s.harmonic(hzToOmega(1030))}`);
});
