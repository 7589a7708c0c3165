/**
 * Rational sample-rate conversion with a Kaiser-windowed-sinc anti-alias filter (polyphase).
 *
 * Why this design: telephony analysis runs at 8 kHz (ITU-T G.711 narrowband, 300-3400 Hz), but WAV files come
 * at 16, 44.1, 48 kHz… Decimating without a low-pass folds everything above 4 kHz back into the band, where
 * e.g. a 5 kHz whistle becomes a 3 kHz tone that a DTMF detector or a listener would hear. So:
 *
 *  - the ratio to/from is reduced to L/M (gcd), and each output sample k sits at the exact input position
 *    k·M/L (integer part n0, phase φ = k·M mod L): no drift, any integer rate pair;
 *  - the filter is a sinc with cutoff fc = 0.4625·min(from, to) (halfway between the passband edge
 *    0.425·min, i.e. 3400 Hz at 8 kHz, and the stopband edge 0.5·min, i.e. 4000 Hz), windowed by a Kaiser
 *    window designed for 90 dB stopband attenuation (β = 0.1102·(A − 8.7) ≈ 8.96, Kaiser & Schafer 1980) and a
 *    600 Hz-wide transition at 8 kHz (0.075·min); its length is (A − 7.95) / (2.285·Δω) input samples;
 *  - the filter is symmetric and centred on each output instant, so the output is time-aligned with the
 *    input (zero group delay): output sample k is the signal at time k/toRate. A streaming `Resampler`
 *    therefore holds back half a filter length (≈ 4.8 ms) of input until it can compute an output sample;
 *  - each phase is normalised to unit DC gain, so silence stays silence and levels are kept.
 *
 * When L is small enough the L phases are precomputed (a pure dot product per output sample); for odd rate
 * pairs with a huge L (e.g. 44 101 → 8000 Hz) the prototype filter is tabulated at 1/512-sample resolution
 * and linearly interpolated instead (error below −100 dB), so memory stays bounded.
 */
import { CardlineError } from '../errors/index.ts';

/** Stopband attenuation the Kaiser window is designed for (dB). */
const STOPBAND_DB = 90;
const KAISER_BETA = 0.1102 * (STOPBAND_DB - 8.7);
/** Passband edge, cutoff and stopband edge as fractions of the lower of the two rates. */
const PASS_EDGE = 0.425;
const STOP_EDGE = 0.5;
const CUTOFF = (PASS_EDGE + STOP_EDGE) / 2;
/** Above this many precomputed coefficients, use the interpolated prototype table instead. */
const MAX_PHASE_COEFFICIENTS = 1 << 21;
/** Sub-sample resolution of the interpolated prototype table. */
const PROTOTYPE_STEPS = 512;

export const MIN_RESAMPLE_RATE = 1;
export const MAX_RESAMPLE_RATE = 10_000_000;

export interface ResamplerOptions {
  /**
   * Force the interpolated-prototype path even when the phase table would be small (for tests and for
   * callers that create many short-lived resamplers with large L).
   */
  interpolatedFilter?: boolean;
}

/** Zeroth-order modified Bessel function of the first kind (power series; converges fast for x ≤ 30). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function checkRate(name: string, rate: number): void {
  if (!Number.isInteger(rate) || rate < MIN_RESAMPLE_RATE || rate > MAX_RESAMPLE_RATE) {
    throw new CardlineError(
      'audio-invalid-argument',
      `resampler ${name} rate ${String(rate)} Hz is not an integer in ${MIN_RESAMPLE_RATE}-${MAX_RESAMPLE_RATE} Hz`,
    );
  }
}

/** The filter as designed for one rate pair; shared by the two evaluation strategies. */
interface Design {
  /** Normalised cutoff in cycles per input sample. */
  wc: number;
  /** Half window length in input samples. */
  half: number;
  /** Taps reach n0 − K … n0 + K around the integer part of the output position. */
  K: number;
}

function design(fromRate: number, toRate: number): Design {
  const fmin = Math.min(fromRate, toRate);
  const wc = (CUTOFF * fmin) / fromRate;
  const dw = (2 * Math.PI * (STOP_EDGE - PASS_EDGE) * fmin) / fromRate;
  const length = (STOPBAND_DB - 7.95) / (2.285 * dw);
  const half = length / 2;
  return { wc, half, K: Math.ceil(half) };
}

/** Prototype impulse response at distance d (input samples) from the output instant. */
function prototype(d: number, dz: Design, i0beta: number): number {
  const r = d / dz.half;
  if (r <= -1 || r >= 1) return 0;
  const x = 2 * dz.wc * d;
  const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
  return 2 * dz.wc * sinc * (besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / i0beta);
}

/**
 * Streaming resampler. Feed chunks of any size to `process`; call `flush` at the end of the stream to get
 * the last samples (the input is taken as zero beyond its end). The concatenated outputs are identical to
 * `resample(all input)` for every chunking. After `flush` the instance is reset for a new stream.
 */
export class Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  /** Up-sampling factor L and down-sampling factor M (to/from = L/M, reduced). */
  readonly up: number;
  readonly down: number;
  /** How many input samples past an output instant the filter needs (the streaming hold-back). */
  readonly lookaheadSamples: number;

  readonly #identity: boolean;
  readonly #K: number;
  readonly #taps: number;
  /** Exact path: L phases × taps; null when the interpolated path is used. */
  readonly #phases: Float32Array | null;
  /** Interpolated path: prototype sampled every 1/PROTOTYPE_STEPS input sample over [−K−1, K+1]. */
  readonly #proto: Float64Array | null;

  /** Input history; buf[0] is absolute input sample #bufStart (negative indices are the zero prefix). */
  #buf: Int16Array = new Int16Array(0);
  #bufStart = 0;
  #bufLen = 0;
  /** Input samples received since the stream began. */
  #totalIn = 0;
  /** Next output sample index, and its position n0 + φ/L in input samples. */
  #k = 0;
  #n0 = 0;
  #phi = 0;

  constructor(fromRate: number, toRate: number, options: ResamplerOptions = {}) {
    checkRate('input', fromRate);
    checkRate('output', toRate);
    this.fromRate = fromRate;
    this.toRate = toRate;
    const g = gcd(fromRate, toRate);
    this.up = toRate / g;
    this.down = fromRate / g;
    this.#identity = fromRate === toRate;
    const dz = design(fromRate, toRate);
    this.#K = this.#identity ? 0 : dz.K;
    this.#taps = 2 * this.#K + 1;
    this.lookaheadSamples = this.#K;
    this.#phases = null;
    this.#proto = null;
    if (!this.#identity) {
      const i0beta = besselI0(KAISER_BETA);
      const K = this.#K;
      if (!options.interpolatedFilter && this.up * this.#taps <= MAX_PHASE_COEFFICIENTS) {
        const L = this.up;
        const phases = new Float32Array(L * this.#taps);
        for (let phi = 0; phi < L; phi++) {
          const frac = phi / L;
          let sum = 0;
          const w = new Float64Array(this.#taps);
          // tap t multiplies input n0 − K + t, at distance d = frac − (t − K) from the output instant
          for (let t = 0; t < this.#taps; t++) sum += w[t] = prototype(frac - (t - K), dz, i0beta);
          for (let t = 0; t < this.#taps; t++) phases[phi * this.#taps + t] = (w[t] as number) / sum;
        }
        this.#phases = phases;
      } else {
        const span = 2 * (K + 1) * PROTOTYPE_STEPS;
        const proto = new Float64Array(span + 2);
        for (let i = 0; i <= span + 1; i++) proto[i] = prototype(i / PROTOTYPE_STEPS - (K + 1), dz, i0beta);
        this.#proto = proto;
      }
    }
    this.#reset();
  }

  #reset(): void {
    // K zeros stand for the (silent) input before the stream began.
    this.#buf = new Int16Array(Math.max(1024, 2 * this.#taps));
    this.#bufStart = -this.#K;
    this.#bufLen = this.#K;
    this.#totalIn = 0;
    this.#k = 0;
    this.#n0 = 0;
    this.#phi = 0;
  }

  /** Feed input; returns every output sample whose filter window is now complete. */
  process(chunk: Int16Array): Int16Array {
    if (this.#identity) {
      this.#totalIn += chunk.length;
      return chunk.slice();
    }
    this.#append(chunk, chunk.length);
    this.#totalIn += chunk.length;
    // output k is computable once input n0(k) + K exists: n0(k) ≤ totalIn − 1 − K
    const out = this.#run(this.#countUpTo(this.#totalIn - 1 - this.#K));
    this.#discard();
    return out;
  }

  /** End of stream: returns the remaining output (input taken as zero after its end), then resets. */
  flush(): Int16Array {
    if (this.#identity) {
      this.#totalIn = 0;
      return new Int16Array(0);
    }
    // Total output length: every k with k/toRate < totalIn/fromRate.
    const totalOut = Math.ceil((this.#totalIn * this.up) / this.down);
    this.#append(null, this.#K + 1);
    const out = this.#run(Math.max(0, totalOut - this.#k));
    this.#reset();
    return out;
  }

  /** Number of pending outputs k ≥ this.#k with n0(k) ≤ lastN. */
  #countUpTo(lastN: number): number {
    if (lastN < 0) return 0;
    // n0(k) ≤ X  ⇔  k < (X + 1)·L/M  ⇔  k ≤ ceil((X + 1)·L/M) − 1
    const limit = Math.ceil(((lastN + 1) * this.up) / this.down);
    return Math.max(0, limit - this.#k);
  }

  #append(chunk: Int16Array | null, n: number): void {
    const need = this.#bufLen + n;
    if (need > this.#buf.length) {
      const grown = new Int16Array(Math.max(need, this.#buf.length * 2));
      grown.set(this.#buf.subarray(0, this.#bufLen));
      this.#buf = grown;
    }
    if (chunk) this.#buf.set(chunk, this.#bufLen);
    else this.#buf.fill(0, this.#bufLen, need);
    this.#bufLen = need;
  }

  /** Drop input no future output needs (anything before n0 − K). */
  #discard(): void {
    const keepFrom = this.#n0 - this.#K - this.#bufStart;
    if (keepFrom <= 0) return;
    const drop = Math.min(keepFrom, this.#bufLen);
    // Only move memory when it pays off (at least half the buffer is dead).
    if (drop < this.#buf.length / 2) return;
    this.#buf.copyWithin(0, drop, this.#bufLen);
    this.#bufLen -= drop;
    this.#bufStart += drop;
  }

  #run(count: number): Int16Array {
    const out = new Int16Array(count);
    const L = this.up;
    const M = this.down;
    const T = this.#taps;
    const K = this.#K;
    const buf = this.#buf;
    const phases = this.#phases;
    const proto = this.#proto;
    let n0 = this.#n0;
    let phi = this.#phi;
    for (let i = 0; i < count; i++) {
      const base = n0 - K - this.#bufStart;
      let acc = 0;
      if (phases) {
        const p = phi * T;
        for (let t = 0; t < T; t++) acc += (phases[p + t] as number) * (buf[base + t] as number);
      } else if (proto) {
        // distance of tap t: d = frac − (t − K); table index (d + K + 1)·S = (2K + 1 − t)·S + frac·S
        const pos = (phi / L) * PROTOTYPE_STEPS;
        const i0 = Math.floor(pos);
        const f = pos - i0;
        let sum = 0;
        for (let t = 0; t < T; t++) {
          const j = (2 * K + 1 - t) * PROTOTYPE_STEPS + i0;
          const a = proto[j] as number;
          const w = a + f * ((proto[j + 1] as number) - a);
          sum += w;
          acc += w * (buf[base + t] as number);
        }
        acc /= sum;
      }
      const r = Math.round(acc);
      out[i] = r > 32767 ? 32767 : r < -32768 ? -32768 : r;
      phi += M;
      if (phi >= L) {
        n0 += Math.floor(phi / L);
        phi %= L;
      }
    }
    this.#n0 = n0;
    this.#phi = phi;
    this.#k += count;
    return out;
  }
}

/**
 * Resample a whole signal. Output length is ceil(input.length · to / from); sample k is the band-limited
 * signal at time k / toRate (time-aligned with the input). Returns a copy when the rates are equal.
 */
export function resample(input: Int16Array, fromRate: number, toRate: number): Int16Array {
  const r = new Resampler(fromRate, toRate);
  const head = r.process(input);
  const tail = r.flush();
  if (tail.length === 0) return head;
  const out = new Int16Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}
