/**
 * How much a piece of audio *is* a DTMF signal, measured independently of any detector: used to keep
 * the talk-off corpus fair. A clip is only a fair talk-off challenge if no 40 ms stretch of it (the
 * ITU-T Q.24 minimum tone a receiver must accept) looks like a legal DTMF tone pair — one partial near
 * a row frequency and one near a column frequency (within ±3.5 %, the Q.24 "must not operate beyond"
 * bound), at a legal-ish twist, carrying nearly all of the energy.
 *
 * Method: Hann-windowed 320-sample (40 ms) frames, hop 80 (10 ms). In each frame, for each DTMF
 * frequency, the strongest partial within ±3.5 % (0.5 % grid) is estimated as a sinusoid amplitude;
 * the frame's pair fraction is (Ar² + Ac²)/2 · Σw² / Σ(w·x)² — 1.0 for a pure tone pair. Frames below
 * -45 dBm0 are ignored (no receiver operates there).
 */
import { DBM0_RMS } from './audio.ts';

const N = 320;
const HOP = 80;
const ROWS = [697, 770, 852, 941];
const COLS = [1209, 1336, 1477, 1633];
const OFFSETS = Array.from({ length: 15 }, (_, k) => (k - 7) * 0.005);

interface Probe {
  cos: Float64Array;
  sin: Float64Array;
}

let probes: { rows: Probe[][]; cols: Probe[][]; win: Float64Array; sumW: number; sumW2: number } | null = null;

function setup(): NonNullable<typeof probes> {
  if (probes) return probes;
  const win = new Float64Array(N);
  let sumW = 0;
  let sumW2 = 0;
  for (let i = 0; i < N; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / N);
    win[i] = w;
    sumW += w;
    sumW2 += w * w;
  }
  const make = (f0: number): Probe[] =>
    OFFSETS.map((o) => {
      const f = f0 * (1 + o);
      const cos = new Float64Array(N);
      const sin = new Float64Array(N);
      for (let i = 0; i < N; i++) {
        const ph = (2 * Math.PI * f * i) / 8000;
        cos[i] = (win[i] ?? 0) * Math.cos(ph);
        sin[i] = (win[i] ?? 0) * Math.sin(ph);
      }
      return { cos, sin };
    });
  probes = { rows: ROWS.map(make), cols: COLS.map(make), win, sumW, sumW2 };
  return probes;
}

export interface DtmfLikeness {
  /** Highest pair fraction over frames with twist in [-10, +6] dB and both partials ≥ -45 dBm0. */
  maxPairFraction: number;
  /** Sample offset of that frame. */
  atSample: number;
  /** Longest run (ms) of consecutive frames whose pair fraction is ≥ `threshold`. */
  longestRunMs: number;
}

export function dtmfLikeness(x: Int16Array, threshold = 0.9): DtmfLikeness {
  const p = setup();
  const minEnergy = (DBM0_RMS * 10 ** (-45 / 20)) ** 2 * p.sumW2;
  const minAmp2 = (Math.SQRT2 * DBM0_RMS * 10 ** (-45 / 20)) ** 2;
  const frame = new Float64Array(N);
  let best = 0;
  let at = 0;
  let run = 0;
  let longest = 0;
  const strongest = (group: Probe[][]): number => {
    let m = 0;
    for (const fam of group) {
      for (const pr of fam) {
        let re = 0;
        let im = 0;
        for (let i = 0; i < N; i++) {
          const v = frame[i] ?? 0;
          re += v * (pr.cos[i] ?? 0);
          im += v * (pr.sin[i] ?? 0);
        }
        const a = (2 * Math.sqrt(re * re + im * im)) / p.sumW;
        if (a * a > m) m = a * a;
      }
    }
    return m;
  };
  for (let s = 0; s + N <= x.length; s += HOP) {
    let e = 0;
    for (let i = 0; i < N; i++) {
      const v = x[s + i] ?? 0;
      frame[i] = v;
      const wv = v * (p.win[i] ?? 0);
      e += wv * wv;
    }
    let frac = 0;
    if (e >= minEnergy) {
      const r = strongest(p.rows);
      const c = strongest(p.cols);
      const twistDb = 10 * Math.log10(c / r);
      if (r >= minAmp2 && c >= minAmp2 && twistDb >= -10 && twistDb <= 6) {
        frac = ((r + c) / 2) * (p.sumW2 / e);
      }
    }
    if (frac > best) {
      best = frac;
      at = s;
    }
    run = frac >= threshold ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  return { maxPairFraction: best, atSample: at, longestRunMs: longest === 0 ? 0 : ((longest - 1) * HOP + N) / 8 };
}
