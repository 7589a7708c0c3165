/**
 * Small, pure audio helpers for tests and benchmarks: a seeded PRNG, white noise, mixing, levels.
 *
 * Level convention (same as spandsp and `src/dsp/dtmf/generator.ts`): a sine of peak amplitude 22787
 * is 0 dBm0, i.e. 3.14 dB below the 16-bit full-scale sine (ITU-T G.711 µ-law puts 0 dBm0 at
 * 3.17 dB below the codec's overload point; spandsp rounds to 22787). RMS of a 0 dBm0 sine is
 * 22787/√2 ≈ 16113.
 */

export const DBM0_SINE_PEAK = 22787;
export const DBM0_RMS = DBM0_SINE_PEAK / Math.SQRT2;

/** mulberry32: tiny, fast, well-distributed 32-bit PRNG; deterministic for a given seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal deviates (Box–Muller) from a seeded uniform source. */
export function gaussian(seed: number): () => number {
  const u = prng(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let a = u();
    while (a <= Number.EPSILON) a = u();
    const b = u();
    const r = Math.sqrt(-2 * Math.log(a));
    spare = r * Math.sin(2 * Math.PI * b);
    return r * Math.cos(2 * Math.PI * b);
  };
}

export function clip16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

/** `n` samples of Gaussian white noise with the given RMS (linear 16-bit units), reproducible by seed. */
export function whiteNoise(n: number, rms: number, seed: number): Int16Array {
  const g = gaussian(seed);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = clip16(g() * rms);
  return out;
}

export function dbm0ToRms(dbm0: number): number {
  return DBM0_RMS * 10 ** (dbm0 / 20);
}

export function rms(x: Int16Array, start = 0, end = x.length): number {
  let acc = 0;
  const s = Math.max(0, start);
  const e = Math.min(x.length, end);
  for (let i = s; i < e; i++) {
    const v = x[i] ?? 0;
    acc += v * v;
  }
  return e > s ? Math.sqrt(acc / (e - s)) : 0;
}

/** RMS level in dBFS relative to a full-scale *sine* (RMS 32767/√2), -Infinity for digital silence. */
export function levelDb(x: Int16Array, start = 0, end = x.length): number {
  return 20 * Math.log10(rms(x, start, end) / (32767 / Math.SQRT2));
}

/** RMS level in dBm0 (see the convention above). */
export function levelDbm0(x: Int16Array, start = 0, end = x.length): number {
  return 20 * Math.log10(rms(x, start, end) / DBM0_RMS);
}

/** A copy of `x` scaled by `gainDb` (saturating). */
export function gain(x: Int16Array, gainDb: number): Int16Array {
  const g = 10 ** (gainDb / 20);
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = clip16((x[i] ?? 0) * g);
  return out;
}

/** A copy of `x` scaled so its RMS level is `dbm0`. */
export function scaleToDbm0(x: Int16Array, dbm0: number): Int16Array {
  const now = levelDbm0(x);
  if (!Number.isFinite(now)) return x.slice();
  return gain(x, dbm0 - now);
}

export function silence(samples: number): Int16Array {
  return new Int16Array(samples);
}

export function concat(...parts: Int16Array[]): Int16Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Int16Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Sum of `a` and `b` (b scaled by `gainDb`, starting at `offset` in a), saturating; the result is long
 * enough for both.
 */
export function mix(a: Int16Array, b: Int16Array, opts: { gainDb?: number; offset?: number } = {}): Int16Array {
  const g = 10 ** ((opts.gainDb ?? 0) / 20);
  const off = opts.offset ?? 0;
  if (!Number.isInteger(off) || off < 0) throw new RangeError('mix offset must be a non-negative integer');
  const out = new Int16Array(Math.max(a.length, off + b.length));
  for (let i = 0; i < out.length; i++) {
    const j = i - off;
    const bv = j >= 0 && j < b.length ? (b[j] ?? 0) * g : 0;
    out[i] = clip16((a[i] ?? 0) + bv);
  }
  return out;
}

/** Repeats or truncates `x` to exactly `n` samples. */
export function loopTo(x: Int16Array, n: number): Int16Array {
  const out = new Int16Array(n);
  if (x.length === 0) return out;
  for (let o = 0; o < n; o += x.length) out.set(x.subarray(0, Math.min(x.length, n - o)), o);
  return out;
}

/**
 * Goertzel power of `x[start, end)` at `freq` Hz, normalised so a sine of amplitude A gives ≈ A²/4
 * whatever the span length (|X(f)|² / N²). Used to compare the same span before and after processing.
 */
export function goertzelPower(x: Int16Array, freq: number, start: number, end: number, rate = 8000): number {
  const s = Math.max(0, start);
  const e = Math.min(x.length, end);
  const n = e - s;
  if (n <= 0) return 0;
  const w = (2 * Math.PI * freq) / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = s; i < e; i++) {
    const s0 = (x[i] ?? 0) + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const p = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return p / (n * n);
}

/** Little-endian bytes of 16-bit PCM (explicit, so it is right on any host). */
export function toS16le(x: Int16Array): Buffer {
  const buf = Buffer.allocUnsafe(x.length * 2);
  for (let i = 0; i < x.length; i++) buf.writeInt16LE(x[i] ?? 0, i * 2);
  return buf;
}

export function fromS16le(buf: Uint8Array): Int16Array {
  if (buf.length % 2 !== 0) throw new RangeError('16-bit PCM must have an even number of bytes');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = new Int16Array(buf.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = dv.getInt16(i * 2, true);
  return out;
}

/**
 * Hann-windowed Goertzel power of `x[start, end)` at `freq` Hz, normalised like `goertzelPower` (a sine
 * of amplitude A at `freq` gives ≈ A²/4). The window keeps a strong component a few tens of Hz away
 * from leaking into the measurement (a rectangular window's sidelobes fall off only 6 dB/octave).
 */
export function goertzelWindowed(x: Int16Array, freq: number, start: number, end: number, rate = 8000): number {
  const s = Math.max(0, start);
  const e = Math.min(x.length, end);
  const n = e - s;
  if (n <= 1) return 0;
  const w = (2 * Math.PI * freq) / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let sumW = 0;
  for (let i = 0; i < n; i++) {
    const win = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / n);
    sumW += win;
    const s0 = (x[s + i] ?? 0) * win + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const p = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return p / (sumW * sumW);
}
