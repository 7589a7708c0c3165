/** Test-only signal helpers: seeded PRNG, noise, exact-frequency correlation, mixing. */
import { DTMF_COL_FREQS, DTMF_ROW_FREQS, SAMPLE_RATE } from '../../../src/dsp/types.ts';

/** mulberry32 (one seeded PRNG for all tests, in test/support/audio.ts). */
import { prng as mulberry32 } from '../../support/audio.ts';

export { mulberry32 };

/** Standard normal deviates (Box–Muller) from a uniform source. */
export function gaussian(rand: () => number): () => number {
  return () => {
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

export function clamp16(v: number): number {
  return v >= 32767 ? 32767 : v <= -32768 ? -32768 : Math.round(v);
}

/** Adds white Gaussian noise of the given RMS to a copy of `x` (saturating). */
export function addWhiteNoise(x: Int16Array, rms: number, seed: number): Int16Array {
  const g = gaussian(mulberry32(seed));
  const y = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = clamp16((x[i] ?? 0) + rms * g());
  return y;
}

/** Sum of two signals (saturating), `b` placed at `offset` in a copy of `a`. */
export function mix(a: Int16Array, b: Int16Array, offset = 0): Int16Array {
  const y = Int16Array.from(a);
  for (let i = 0; i < b.length && offset + i < y.length; i++) y[offset + i] = clamp16((y[offset + i] ?? 0) + (b[i] ?? 0));
  return y;
}

export function concat(...parts: Int16Array[]): Int16Array {
  const y = new Int16Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { y.set(p, o); o += p.length; }
  return y;
}

export function silence(ms: number): Int16Array {
  return new Int16Array(Math.round((ms * SAMPLE_RATE) / 1000));
}

export function meanSquare(x: Int16Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) { const v = x[i] ?? 0; s += v * v; }
  return to > from ? s / (to - from) : 0;
}

/**
 * |Σ x[n]·e^{−jωn}|² over [from, to): the energy a single-frequency correlation sees. For a sine of
 * amplitude A filling the window (length L) this is (A·L/2)².
 */
export function correlationPower(x: Int16Array, freq: number, from = 0, to = x.length): number {
  const w = (2 * Math.PI * freq) / SAMPLE_RATE;
  let re = 0;
  let im = 0;
  for (let n = from; n < to; n++) {
    const v = x[n] ?? 0;
    re += v * Math.cos(w * (n - from));
    im -= v * Math.sin(w * (n - from));
  }
  return re * re + im * im;
}

/** Amplitude of the sine at `freq` in x[from, to) (exact for a window holding many cycles). */
export function amplitudeAt(x: Int16Array, freq: number, from = 0, to = x.length): number {
  return (2 * Math.sqrt(correlationPower(x, freq, from, to))) / (to - from);
}

/** Sum over the 8 DTMF frequencies of the correlation power in x[from, to). */
export function dtmfBandPower(x: Int16Array, from: number, to: number): number {
  let s = 0;
  for (const f of [...DTMF_ROW_FREQS, ...DTMF_COL_FREQS]) s += correlationPower(x, f, from, to);
  return s;
}

/** Frequency of the strongest component within [lo, hi] Hz (grid search, then golden refinement). */
export function peakFrequency(x: Int16Array, lo: number, hi: number, step = 0.5): number {
  let best = lo;
  let bestP = -1;
  for (let f = lo; f <= hi; f += step) {
    const p = correlationPower(x, f);
    if (p > bestP) { bestP = p; best = f; }
  }
  let a = best - step;
  let b = best + step;
  for (let i = 0; i < 30; i++) {
    const m1 = a + (b - a) / 3;
    const m2 = b - (b - a) / 3;
    if (correlationPower(x, m1) < correlationPower(x, m2)) a = m1; else b = m2;
  }
  return (a + b) / 2;
}

/** Reads a 16-bit PCM WAV (tests only: audio made by espeak-ng/sox at test time). */
export function readWavPcm16(buf: Uint8Array): { rate: number; channels: number; samples: Int16Array } {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = 12;
  let rate = 0;
  let channels = 0;
  let bits = 0;
  while (p + 8 <= buf.length) {
    const id = String.fromCharCode(buf[p] ?? 0, buf[p + 1] ?? 0, buf[p + 2] ?? 0, buf[p + 3] ?? 0);
    let size = dv.getUint32(p + 4, true);
    if (id === 'fmt ') {
      channels = dv.getUint16(p + 10, true);
      rate = dv.getUint32(p + 12, true);
      bits = dv.getUint16(p + 22, true);
    } else if (id === 'data') {
      if (bits !== 16) throw new Error('test helper reads 16-bit PCM only');
      if (size === 0xffffffff || p + 8 + size > buf.length) size = buf.length - p - 8; // streamed by a pipe
      const n = Math.floor(size / 2);
      const samples = new Int16Array(n);
      for (let i = 0; i < n; i++) samples[i] = dv.getInt16(p + 8 + 2 * i, true);
      return { rate, channels, samples };
    }
    p += 8 + size + (size & 1);
  }
  throw new Error('no data chunk');
}
