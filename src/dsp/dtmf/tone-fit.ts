/**
 * Candidate-block analysis for the DTMF detector: everything here runs only on blocks that already
 * passed the cheap per-block pre-check (rare), reading the detector's ring buffer of recent samples.
 *
 *  - `RingSignal`: the last RING_SIZE samples, addressed by absolute sample index.
 *  - `phaseAdvanceOffset()`: a tone's true frequency from the phase advance between two Hann-windowed
 *    correlations 51 samples apart (unambiguous over ±78 Hz, sub-Hz at 18 dB SNR). The Hann window keeps
 *    the other group's tone (≥ 268 Hz away, > 3 bins) from biasing the phase.
 *  - `ToneFitter`: a least-squares fit of K sinusoids of known frequency over a block. Unlike a
 *    Goertzel magnitude, the fit is not biased by the other tone's leakage (a rectangular 102-sample window
 *    leaks ≈ −21 dB across 268 Hz — enough to move a weak tone's energy by ±20 %) nor by the tone's own
 *    negative-frequency image. With the fit, the fraction of block energy explained by the two tones is
 *    ≈ m/N for a block holding m tone samples, which is what makes the duration rules sharp.
 *
 * Nothing here allocates after construction.
 */
import { SAMPLE_RATE } from '../types.ts';

export const RING_SIZE = 1024;
export const RING_MASK = RING_SIZE - 1;

/** Samples addressed by absolute index; valid for the last RING_SIZE samples written. */
export interface RingSignal {
  readonly ring: Int16Array;
}

const TWO_PI = 2 * Math.PI;

export function hzToOmega(hz: number): number {
  return (TWO_PI * hz) / SAMPLE_RATE;
}

/**
 * Σ_{n<len} x[start+n]·e^{−jωn} by the Goertzel recursion, into out[0] (re) and out[1] (im).
 * y = s[L−1] − e^{−jω}s[L−2] equals e^{jω(L−1)}·X(ω), so X = e^{−jω(L−1)}·y.
 */
export function dftAt(ring: Int16Array, start: number, len: number, omega: number, out: Float64Array): void {
  const cw = Math.cos(omega);
  const c = 2 * cw;
  let s1 = 0;
  let s2 = 0;
  const mask = RING_MASK;
  for (let n = 0; n < len; n++) {
    const s = (ring[(start + n) & mask] as number) + c * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const yr = s1 - cw * s2;
  const yi = Math.sin(omega) * s2;
  const pr = Math.cos(omega * (len - 1));
  const pi = -Math.sin(omega * (len - 1));
  out[0] = yr * pr - yi * pi;
  out[1] = yr * pi + yi * pr;
}

/**
 * Hann-windowed correlation tables for one nominal frequency over a window of `len` samples:
 * cos[n] = w[n]·cos(ω0·n), sin[n] = w[n]·sin(ω0·n).
 */
export class HannProbe {
  readonly omega0: number;
  readonly cos: Float64Array;
  readonly sin: Float64Array;
  constructor(freq: number, readonly len: number) {
    this.omega0 = hzToOmega(freq);
    this.cos = new Float64Array(len);
    this.sin = new Float64Array(len);
    for (let n = 0; n < len; n++) {
      const w = 0.5 - 0.5 * Math.cos((TWO_PI * (n + 0.5)) / len);
      this.cos[n] = w * Math.cos(this.omega0 * n);
      this.sin[n] = w * Math.sin(this.omega0 * n);
    }
  }

  /** Phase (radians) of the windowed correlation over ring[start … start+len). */
  phaseAt(ring: Int16Array, start: number): number {
    let re = 0;
    let im = 0;
    const c = this.cos;
    const s = this.sin;
    const mask = RING_MASK;
    for (let n = 0; n < this.len; n++) {
      const v = ring[(start + n) & mask] as number;
      re += v * (c[n] as number);
      im -= v * (s[n] as number);
    }
    return Math.atan2(im, re);
  }

  /**
   * Angular-frequency offset (rad/sample) of the dominant component near ω0, from the phase advance
   * between windows at `start` and `start + hop`: Δω = wrap(Δφ − ω0·hop)/hop. Unambiguous for
   * |Δω| < π/hop (±78 Hz for hop 51 at 8 kHz).
   */
  offsetAt(ring: Int16Array, start: number, hop: number): number {
    const p1 = this.phaseAt(ring, start);
    const p2 = this.phaseAt(ring, start + hop);
    let d = p2 - p1 - this.omega0 * hop;
    d -= TWO_PI * Math.round(d / TWO_PI);
    return d / hop;
  }
}

/** Re and Im of D(θ) = Σ_{n<N} e^{jθn} (closed form), into out[0], out[1]. */
function dirichlet(theta: number, n: number, out: Float64Array): void {
  const h = Math.sin(theta / 2);
  if (Math.abs(h) < 1e-12) {
    // θ ≡ 0 (mod 2π): every term is 1 (θ ≡ 2π is not reachable for our frequencies below Nyquist)
    out[0] = n;
    out[1] = 0;
    return;
  }
  const r = Math.sin((n * theta) / 2) / h;
  const a = ((n - 1) * theta) / 2;
  out[0] = r * Math.cos(a);
  out[1] = r * Math.sin(a);
}

/**
 * Least-squares fit of x[n] ≈ Σ_k (c_k·cos ω_k n + s_k·sin ω_k n), n = 0…N−1, for up to MAX_TONES
 * known frequencies. The Gram matrix is computed in closed form (Dirichlet kernels), the inner products
 * from `dftAt`, and the normal equations solved by Gaussian elimination with partial pivoting.
 */
export const MAX_TONES = 4;

export class ToneFitter {
  private readonly omegas = new Float64Array(MAX_TONES);
  private readonly g = new Float64Array(4 * MAX_TONES * MAX_TONES);
  private readonly b = new Float64Array(2 * MAX_TONES);
  private readonly coef = new Float64Array(2 * MAX_TONES);
  private readonly work = new Float64Array(2 * MAX_TONES);
  private readonly d1 = new Float64Array(2);
  private readonly d2 = new Float64Array(2);
  private readonly x = new Float64Array(2);
  /** Energy of the projection of the block onto the fitted sinusoids (Σ of the fitted signal²·…). */
  projectedEnergy = 0;

  /** Copies the cosine/sine coefficients of the first `k` fitted tones into `out` (2·k numbers). */
  copyCoefs(out: Float64Array, k: number): void {
    for (let i = 0; i < 2 * k; i++) out[i] = this.coef[i] as number;
  }

  /** Amplitude (peak, 16-bit units) of fitted tone `i` of the last fit. */
  amplitude(i: number): number {
    const c = this.coef[2 * i] as number;
    const s = this.coef[2 * i + 1] as number;
    return Math.sqrt(c * c + s * s);
  }

  /**
   * Fits `k` tones (angular frequencies in `omegas[0…k)`) to ring[start … start+n).
   * Returns false if the system is singular (frequencies coincide), leaving amplitudes at 0.
   */
  fit(ring: Int16Array, start: number, n: number, omegas: ArrayLike<number>, k: number): boolean {
    const dim = 2 * k;
    const om = this.omegas;
    for (let i = 0; i < k; i++) om[i] = omegas[i] as number;
    const x = this.x;
    for (let i = 0; i < k; i++) {
      dftAt(ring, start, n, om[i] as number, x);
      // <x, cos ωn> = Re X, <x, sin ωn> = −Im X
      this.b[2 * i] = x[0] as number;
      this.b[2 * i + 1] = -(x[1] as number);
    }
    const g = this.g;
    const d1 = this.d1;
    const d2 = this.d2;
    for (let i = 0; i < k; i++) {
      for (let j = i; j < k; j++) {
        const a = om[i] as number;
        const c = om[j] as number;
        dirichlet(a - c, n, d1); // Σ e^{j(a−b)n}
        dirichlet(a + c, n, d2); // Σ e^{j(a+b)n}
        const cc = 0.5 * ((d1[0] as number) + (d2[0] as number)); // Σ cos a n · cos b n
        const ss = 0.5 * ((d1[0] as number) - (d2[0] as number)); // Σ sin a n · sin b n
        const cs = 0.5 * ((d2[1] as number) + (d1[1] as number)); // Σ cos b n · sin a n = ½[S(a+b) + S(a−b)]
        const sc = 0.5 * ((d2[1] as number) - (d1[1] as number)); // Σ cos a n · sin b n = ½[S(a+b) − S(a−b)]
        const ri = 2 * i;
        const rj = 2 * j;
        g[ri * dim + rj] = cc;
        g[rj * dim + ri] = cc;
        g[(ri + 1) * dim + rj + 1] = ss;
        g[(rj + 1) * dim + ri + 1] = ss;
        g[ri * dim + rj + 1] = sc; // <cos a, sin b>
        g[(rj + 1) * dim + ri] = sc;
        g[(ri + 1) * dim + rj] = cs; // <sin a, cos b>
        g[rj * dim + ri + 1] = cs;
      }
    }
    const ok = solve(g, this.b, this.coef, this.work, dim);
    let e = 0;
    if (ok) for (let i = 0; i < dim; i++) e += (this.coef[i] as number) * (this.b[i] as number);
    else this.coef.fill(0);
    this.projectedEnergy = ok ? e : 0;
    return ok;
  }
}

/** Solves g·c = b (dim ≤ 8) in place of copies; g and `work` are overwritten. */
function solve(g: Float64Array, b: Float64Array, c: Float64Array, work: Float64Array, dim: number): boolean {
  for (let i = 0; i < dim; i++) work[i] = b[i] as number;
  let scale = 0;
  for (let i = 0; i < dim; i++) scale = Math.max(scale, Math.abs(g[i * dim + i] as number));
  const eps = scale * 1e-10;
  for (let col = 0; col < dim; col++) {
    let piv = col;
    let best = Math.abs(g[col * dim + col] as number);
    for (let r = col + 1; r < dim; r++) {
      const v = Math.abs(g[r * dim + col] as number);
      if (v > best) { best = v; piv = r; }
    }
    if (!(best > eps)) return false;
    if (piv !== col) {
      for (let j = 0; j < dim; j++) {
        const t = g[col * dim + j] as number;
        g[col * dim + j] = g[piv * dim + j] as number;
        g[piv * dim + j] = t;
      }
      const t = work[col] as number;
      work[col] = work[piv] as number;
      work[piv] = t;
    }
    const p = g[col * dim + col] as number;
    for (let r = col + 1; r < dim; r++) {
      const f = (g[r * dim + col] as number) / p;
      if (f === 0) continue;
      for (let j = col; j < dim; j++) g[r * dim + j] = (g[r * dim + j] as number) - f * (g[col * dim + j] as number);
      work[r] = (work[r] as number) - f * (work[col] as number);
    }
  }
  for (let r = dim - 1; r >= 0; r--) {
    let s = work[r] as number;
    for (let j = r + 1; j < dim; j++) s -= (g[r * dim + j] as number) * (c[j] as number);
    c[r] = s / (g[r * dim + r] as number);
  }
  return true;
}

/**
 * What is left of a block once its two fitted tones are removed — the talk-off evidence:
 *
 *  - `peak`: the largest other sinusoid, the "spurious" component voiced speech or music carries
 *    (further harmonics of the pitch whose two harmonics mimic a DTMF pair), which a key press lacks;
 *  - `harmonic(ω)`: the amplitude at one frequency (the tones' second harmonics).
 *
 * The residual r = x − (fitted tones) is transformed once by a 256-point FFT (the block zero-padded:
 * a 0.4-bin grid, so an off-grid sinusoid reads at most 0.6 dB low) and scanned from 240 Hz (clear of
 * DC and mains-hum leakage) to 3600 Hz, skipping ±1.5 bins around each tone (where a slightly wrong
 * frequency or a partly filled block leaves fitting residue) and ±1 bin around the third-order
 * products a saturated path creates (2f₁−f₂, 2f₂−f₁, 2f₁+f₂, f₁+2f₂, 3f₁: about −26 dB each for two
 * 0 dBm0 tones clipped at 16-bit full scale). Energies are normalised like the detector's: 2|R(ω)|²/N.
 */
export class ResidualScanner {
  private readonly r: Float64Array;
  // 128-point complex FFT of the 256-point zero-padded real residual (even samples → re, odd → im)
  private readonly re = new Float64Array(FFT_HALF);
  private readonly im = new Float64Array(FFT_HALF);
  private readonly lo: number;
  private readonly hi: number;

  constructor(private readonly n: number) {
    if (n > FFT_SIZE) throw new RangeError('block longer than the residual FFT');
    this.r = new Float64Array(n);
    this.lo = Math.ceil((240 * FFT_SIZE) / SAMPLE_RATE);
    this.hi = Math.min(FFT_HALF - 1, Math.floor((3600 * FFT_SIZE) / SAMPLE_RATE));
  }

  /**
   * Builds the residual of ring[start … start+n) after removing two fitted tones at omega0, omega1
   * with coefficients [cos₀, sin₀, cos₁, sin₁] (ToneFitter.copyCoefs). Must precede peak() and
   * harmonic().
   */
  load(ring: Int16Array, start: number, coefs: ArrayLike<number>, omega0: number, omega1: number): void {
    const n = this.n;
    const r = this.r;
    const mask = RING_MASK;
    // Fitted tones by phasor rotation (no trig per sample; 102 steps keep the drift at ~1e-14).
    const c0 = coefs[0] as number;
    const s0 = coefs[1] as number;
    const c1 = coefs[2] as number;
    const s1 = coefs[3] as number;
    const rc0 = Math.cos(omega0);
    const rs0 = Math.sin(omega0);
    const rc1 = Math.cos(omega1);
    const rs1 = Math.sin(omega1);
    let pc0 = 1;
    let ps0 = 0;
    let pc1 = 1;
    let ps1 = 0;
    for (let i = 0; i < n; i++) {
      r[i] = (ring[(start + i) & mask] as number) - (c0 * pc0 + s0 * ps0 + c1 * pc1 + s1 * ps1);
      const a = pc0 * rc0 - ps0 * rs0;
      ps0 = ps0 * rc0 + pc0 * rs0;
      pc0 = a;
      const b = pc1 * rc1 - ps1 * rs1;
      ps1 = ps1 * rc1 + pc1 * rs1;
      pc1 = b;
    }
  }

  /** Largest normalised residual energy off the tones and their intermodulation products. */
  peak(omega0: number, omega1: number): number {
    const n = this.n;
    const r = this.r;
    const re = this.re;
    const im = this.im;
    for (let k = 0; k < FFT_HALF; k++) {
      const a = 2 * k;
      re[k] = a < n ? (r[a] as number) : 0;
      im[k] = a + 1 < n ? (r[a + 1] as number) : 0;
    }
    fft128(re, im);
    const binW = (2 * Math.PI) / FFT_SIZE;
    const guard = (1.5 * 2 * Math.PI) / n;
    const imGuard = (2 * Math.PI) / n;
    const im1 = Math.abs(2 * omega0 - omega1);
    const im2 = Math.abs(2 * omega1 - omega0);
    const im3 = 2 * omega0 + omega1;
    const im4 = omega0 + 2 * omega1;
    const im5 = 3 * omega0;
    let best = 0;
    for (let k = this.lo; k <= this.hi; k++) {
      const w = k * binW;
      if (Math.abs(w - omega0) < guard || Math.abs(w - omega1) < guard) continue;
      if (Math.abs(w - im1) < imGuard || Math.abs(w - im2) < imGuard || Math.abs(w - im3) < imGuard) continue;
      if (Math.abs(w - im4) < imGuard || Math.abs(w - im5) < imGuard) continue;
      // split the packed spectrum: X[k] = ½(Z[k] + Z*[M−k]) − ½j·e^{−jπk/M}(Z[k] − Z*[M−k]), M = 128
      const m = (FFT_HALF - k) & (FFT_HALF - 1);
      const zr = re[k] as number;
      const zi = im[k] as number;
      const wr = re[m] as number;
      const wi = -(im[m] as number);
      const er = 0.5 * (zr + wr);
      const ei = 0.5 * (zi + wi);
      const or = 0.5 * (zr - wr);
      const oi = 0.5 * (zi - wi);
      const tc = TW_COS[k] as number;
      const ts = TW_SIN[k] as number;
      // −j·e^{−jθ}·o = (−j)(cos θ − j sin θ)(or + j oi) = (−sin θ·or + cos θ·oi) … arranged:
      const pr = oi * tc - or * ts;
      const pi = -(or * tc + oi * ts);
      const xr = er + pr;
      const xi = ei + pi;
      const e = xr * xr + xi * xi;
      if (e > best) best = e;
    }
    return (2 * best) / n;
  }

  /** Amplitude (peak) of the residual's component at `omega` (Goertzel at that exact frequency). */
  harmonic(omega: number): number {
    const n = this.n;
    const r = this.r;
    const c = 2 * Math.cos(omega);
    let a1 = 0;
    let a2 = 0;
    for (let i = 0; i < n; i++) {
      const t = (r[i] as number) + c * a1 - a2;
      a2 = a1;
      a1 = t;
    }
    return (2 * Math.sqrt(Math.max(0, a1 * a1 + a2 * a2 - c * a1 * a2))) / n;
  }
}

const FFT_SIZE = 256;
const FFT_HALF = FFT_SIZE / 2;
/** e^{−jπk/128} for the real-spectrum split. */
const TW_COS = Float64Array.from({ length: FFT_HALF }, (_, k) => Math.cos((Math.PI * k) / FFT_HALF));
const TW_SIN = Float64Array.from({ length: FFT_HALF }, (_, k) => Math.sin((Math.PI * k) / FFT_HALF));
/** Bit-reversal permutation and per-stage twiddles of the 128-point FFT: for a stage of half-size h,
 *  entries h … 2h−1 hold e^{−jπk/h}, k < h. */
const BITREV = Uint8Array.from({ length: FFT_HALF }, (_, k) => {
  let r = 0;
  for (let b = 0, v = k; b < 7; b++, v >>= 1) r = (r << 1) | (v & 1);
  return r;
});
const ST_COS = new Float64Array(FFT_HALF);
const ST_SIN = new Float64Array(FFT_HALF);
for (let h = 1; h < FFT_HALF; h <<= 1) {
  for (let k = 0; k < h; k++) {
    ST_COS[h + k] = Math.cos((Math.PI * k) / h);
    ST_SIN[h + k] = -Math.sin((Math.PI * k) / h);
  }
}

/** In-place iterative radix-2 FFT of size 128 (forward, e^{−j…}); the first two stages fused into
 *  twiddle-free radix-4 butterflies. */
function fft128(re: Float64Array, im: Float64Array): void {
  const n = FFT_HALF;
  for (let i = 0; i < n; i++) {
    const j = BITREV[i] as number;
    if (j > i) {
      const tr = re[i] as number;
      re[i] = re[j] as number;
      re[j] = tr;
      const ti = im[i] as number;
      im[i] = im[j] as number;
      im[j] = ti;
    }
  }
  for (let i = 0; i < n; i += 4) {
    const r0 = re[i] as number, i0 = im[i] as number, r1 = re[i + 1] as number, i1 = im[i + 1] as number;
    const r2 = re[i + 2] as number, i2 = im[i + 2] as number, r3 = re[i + 3] as number, i3 = im[i + 3] as number;
    const ar = r0 + r1, ai = i0 + i1, br = r0 - r1, bi = i0 - i1;
    const cr = r2 + r3, ci = i2 + i3, dr = r2 - r3, di = i2 - i3;
    re[i] = ar + cr;
    im[i] = ai + ci;
    re[i + 2] = ar - cr;
    im[i + 2] = ai - ci;
    // (b) + (−j)(d)
    re[i + 1] = br + di;
    im[i + 1] = bi - dr;
    re[i + 3] = br - di;
    im[i + 3] = bi + dr;
  }
  for (let half = 4; half < n; half <<= 1) {
    const size = half << 1;
    for (let i = 0; i < n; i += size) {
      for (let k = 0; k < half; k++) {
        const wr = ST_COS[half + k] as number;
        const wi = ST_SIN[half + k] as number;
        const a = i + k;
        const b = a + half;
        const br = re[b] as number;
        const bi = im[b] as number;
        const tr = br * wr - bi * wi;
        const ti = br * wi + bi * wr;
        const ar = re[a] as number;
        const ai = im[a] as number;
        re[b] = ar - tr;
        im[b] = ai - ti;
        re[a] = ar + tr;
        im[a] = ai + ti;
      }
    }
  }
}
