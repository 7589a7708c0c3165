/**
 * Streaming DTMF receiver at 8 kHz, built to ITU-T Q.24 / Telcordia LSSGR (GR-506) receiver rules.
 *
 * Analysis: non-overlapping blocks of N = 102 samples (12.75 ms, as in spandsp). Per sample only eight
 * Goertzel resonators at the nominal Q.23 frequencies and the block energy Σx² run (kept in local
 * variables so the JIT holds them in registers; two samples per iteration), and each sample is copied
 * into a ring buffer. Everything else happens once per block, and the expensive checks only on
 * candidate blocks:
 *
 *  1. Pre-check (every block, cheap): tone energies normalised so that a full-block on-frequency sine
 *     gives its block energy, E_k = 2|X_k|²/N. The best row and best column bin must each exceed an
 *     absolute floor (minLevel − 6 dB), beat the other bins of their group by 3 dB, sit within a loose
 *     twist window, and hold ≥ preRatio (0.6) of the block energy, R = (E_row + E_col)/E_total.
 *  2. First stage (blocks passing 1): each tone's frequency from the phase advance of two Hann-windowed
 *     correlations 51 samples apart (see tone-fit.ts); reject beyond ±maxFrequencyDeviationPct (2.5 %)
 *     — midway between Q.24's "must operate within ±1.5 %" and "must not operate beyond ±3.5 %". A
 *     least-squares fit of both tones at those frequencies gives exact levels (threshold and twist use
 *     these) and R' = fitted two-tone energy / block energy. A block with m tone samples has R' ≈ m/N,
 *     so R' ≥ minToneRatio (0.86) makes a hit block ≥ 86 % filled: a 20 ms tone (160 samples) can never
 *     give two consecutive hit blocks, while a 40 ms tone always holds two full blocks.
 *  3. Talk-off checks, only when two consecutive first-stage hits of one digit could confirm it (both
 *     blocks checked). Measured on espeak-ng speech: a high voice can put its 5th and 7th harmonics on
 *     852 + 1209 Hz with R' ≈ 0.93 (spandsp reports a '7' there). Hence:
 *       - no other sinusoid in the residual above −19 dB of the tones (voiced speech that mimics a pair
 *         carries further harmonics of the same pitch at −16…−10 dB; a real key press, even clipped
 *         at 0 dBm0 in 18 dB SNR, stays below −22.9 dB outside its own intermodulation products);
 *       - second harmonics of both tones ≤ −12 dB;
 *       - the two blocks agree in frequency (≤ 1 %) and level (≤ 6 dB).
 *  4. State machine: a digit is confirmed by 2 consecutive hit blocks of the same digit, and ends after
 *     2 consecutive blocks that neither hit it nor "continue" it. A continuation block still carries the
 *     digit: its nominal bins hold ≥ 0.4 of the energy, or (checked only then) its two tones fitted at
 *     their measured frequencies hold ≥ continuationRatio. A ≤ 10 ms interruption leaves ≥ 60 % of one
 *     of the (at most two) blocks it touches filled, so it never ends a digit, while a 40 ms pause
 *     always holds two empty blocks, so it always separates repeated digits.
 *
 * Start and end are refined below one block from the fitted amplitudes of the edge blocks
 * (m ≈ N·A_edge/A_full for a block holding m tone samples): measured within ±10 samples (1.25 ms).
 *
 * Card data rule: digits are reported only through the returned events / callbacks; nothing here logs.
 */
import { DTMF_COL_FREQS, DTMF_DIGITS, DTMF_ROW_FREQS } from '../types.ts';
import type { DtmfDigit, DtmfEvent } from '../types.ts';
import { dbToPowerRatio, dbm0ToAmplitude } from './levels.ts';
import { HannProbe, RING_MASK, RING_SIZE, ResidualScanner, ToneFitter, hzToOmega } from './tone-fit.ts';

/** Analysis block length (samples at 8 kHz). */
export const BLOCK_SIZE = 102;
const N = BLOCK_SIZE;
/** Hop between the two phase-measurement windows (half a block: ±78 Hz unambiguous range). */
const PHASE_HOP = 51;
/** Share of block energy in the active digit's nominal bins that keeps it going without analysis
 *  (a block 60 % filled by it, e.g. next to a ≤ 10 ms break, still gives ≈ 0.5). */
const KEEP_RATIO = 0.4;
/** Half a DFT bin of the block, rad/sample. */
const HALF_BIN = Math.PI / BLOCK_SIZE;

export interface DtmfDetectorOptions {
  /** Minimum level of each tone (fitted amplitude), dBm0. Default −46: Q.24 asks for operation down to
   *  −36 dBm0 per tone; −46 leaves room for −8 dB twist on top of −36 plus margin. */
  minLevelDbm0: number;
  /** Largest accepted high-group-louder twist, dB. Default 8 (Q.24 asks for +4). */
  maxTwistHighDb: number;
  /** Largest accepted low-group-louder twist, dB. Default 10 (Q.24 asks for 8). */
  maxTwistLowDb: number;
  /** Largest accepted frequency error per tone, percent. Default 2.5 (must operate ±1.5, must not ±3.5). */
  maxFrequencyDeviationPct: number;
  /** Least share of block energy in the two fitted tones for a hit, 0…1. Default 0.86 (measured: full
   *  blocks ≥ 0.954 even at 0 dBm0 clipped in 18 dB SNR through G.711; a 20 ms tone's best block ≤ 0.81). */
  minToneRatio: number;
  /** Least share of block energy in the active digit's tones for a continuation block. Default 0.4. */
  continuationRatio: number;
  /** Pre-check: least share of block energy in the best row + column bins for a block to be analysed
   *  further. Default 0.6 (a full block of a must-operate tone — ±1.5 %, +4 dB twist, 18 dB SNR — gives
   *  ≥ 0.78; on speech only ≈ 0.4 % of blocks get there). */
  preRatio: number;
  /** Pre-check: best bin must beat every other bin of its group by this many dB. Default 3 (loose: with
   *  8 dB twist the louder tone leaks ≈ −13 dB into the weaker group's bins; the fit below is the real test). */
  relativePeakDb: number;
  /** Largest second-harmonic level relative to its fundamental, dB. Default −12. */
  maxSecondHarmonicDb: number;
  /** Largest other sinusoid left beside the two tones, dB relative to their energy. Default −19
   *  (measured: real key presses ≤ −22.9 dB even clipped at 0 dBm0 in 18 dB SNR; the voiced speech
   *  that mimics a pair carries further harmonics at −16…−10 dB). */
  maxResidualPeakDb: number;
  /** Largest frequency change between the two confirming blocks, percent of nominal. Default 1. */
  maxFrequencyDriftPct: number;
  /** Largest level change between the two confirming blocks, dB. Default 6. */
  maxLevelDriftDb: number;
}

export const DEFAULT_DETECTOR_OPTIONS: Readonly<DtmfDetectorOptions> = Object.freeze({
  minLevelDbm0: -46,
  maxTwistHighDb: 8,
  maxTwistLowDb: 10,
  maxFrequencyDeviationPct: 2.5,
  minToneRatio: 0.86,
  continuationRatio: 0.4,
  preRatio: 0.6,
  relativePeakDb: 3,
  maxSecondHarmonicDb: -12,
  maxResidualPeakDb: -19,
  maxFrequencyDriftPct: 1,
  maxLevelDriftDb: 6,
});

/**
 * The per-block view other DSP stages share (the masker reads it instead of running its own
 * Goertzels). Valid only during the observer call; the object is reused for every block.
 */
export interface DtmfBlockView {
  /** Block index; the block covers samples [index·BLOCK_SIZE, (index+1)·BLOCK_SIZE). */
  index: number;
  /** Σx² over the block. */
  energy: number;
  /** Normalised energies 2|X_k|²/N at the nominal row / column frequencies. */
  readonly rowEnergy: Float64Array;
  readonly colEnergy: Float64Array;
  bestRow: number;
  bestCol: number;
  /** True when the block carries DTMF for this receiver: a hit, or the active digit going on. */
  tone: boolean;
  /** True when a digit was confirmed at the end of this block. */
  digitConfirmed: boolean;
}

/** Internal hook: the masker observes every block of its detector. Not part of the public API. */
export const BLOCK_OBSERVER: unique symbol = Symbol('dtmf.blockObserver');

enum State {
  Idle = 0,
  /** One hit block seen (its digit in `prevHit`). */
  Pending = 1,
  /** Digit confirmed and in progress; `misses` consecutive non-continuing blocks so far (0 or 1). */
  Active = 2,
}

const NONE = -1;

function validate(o: DtmfDetectorOptions): void {
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`DtmfDetector option ${k} must be a finite number`);
  }
}

export class DtmfDetector {
  /** Optional early notice: a digit was confirmed (before it ends). Called with the refined start. */
  onDigitStart?: (digit: DtmfDigit, startSample: number) => void;
  [BLOCK_OBSERVER]?: (view: DtmfBlockView) => void;

  readonly options: Readonly<DtmfDetectorOptions>;

  // --- derived thresholds ---
  private readonly minAmp: number;
  private readonly preMinE: number;
  private readonly twistHi: number; // amplitude ratio col/row upper bound
  private readonly twistLo: number; // amplitude ratio col/row lower bound
  private readonly preTwistHi: number;
  private readonly preTwistLo: number;
  private readonly relPeak: number;
  private readonly maxDev: number;
  private readonly harmRatio: number;
  private readonly levelDrift: number;
  private readonly residualRatio: number;
  /** Least block energy for which a continuation (two tones ≥ minLevel − 6 dB) is possible. */
  private readonly gateEnergy: number;

  // --- hot-loop state (Goertzel s1/s2 per frequency, energy, position in block) ---
  private energy = 0;
  private fill = 0;
  /** Samples fed since creation / reset. */
  private total = 0;
  private readonly gs = new Float64Array(16);
  private readonly ring = new Int16Array(RING_SIZE);

  // --- per-block analysis scratch ---
  private readonly view: DtmfBlockView = {
    index: 0, energy: 0, rowEnergy: new Float64Array(4), colEnergy: new Float64Array(4), bestRow: 0, bestCol: 0, tone: false, digitConfirmed: false,
  };
  private readonly probes: HannProbe[];
  private readonly fitter = new ToneFitter();
  private readonly residual = new ResidualScanner(N);
  private readonly omegas = new Float64Array(4);

  // results of the last classifyHit() (valid when it returned ≥ 0)
  private hitOmegaRow = 0;
  private hitOmegaCol = 0;
  private hitAmpRow = 0;
  private hitAmpCol = 0;

  // --- state machine ---
  private state: State = State.Idle;
  private block = 0; // index of the block being completed
  /** Previous block's hit digit index (NONE if it was not a hit) and its measurements. */
  private prevHit = NONE;
  private prevOmegaRow = 0;
  private prevOmegaCol = 0;
  /** Fitted coefficients and two-tone energy of the current / previous first-stage hit. */
  private readonly hitCoefs = new Float64Array(4);
  private hitEnergy = 0;
  private readonly prevCoefs = new Float64Array(4);
  private prevEnergy = 0;
  private prevAmp = 0;
  private prevAmpRow = 0;
  private prevAmpCol = 0;
  /** Talk-off checks on the previous block: 0 not run, 1 passed, −1 failed. */
  private prevVerified = 0;
  /** The current block passed the talk-off checks (set by tryConfirm). */
  private curVerified = false;
  // active digit
  private digit = NONE;
  private digitStart = 0;
  private omegaRow = 0;
  private omegaCol = 0;
  private refAmp = 0;
  private misses = 0;
  private lastGoodBlock = 0;
  /** Fitted amplitude sum of the last good block (−1: not fitted yet). */
  private lastGoodAmp = 0;

  private sink: DtmfEvent[] | null = null;
  private sinkCb: ((e: DtmfEvent) => void) | undefined;
  private listenerFailed = false;
  private listenerError: unknown = undefined;

  constructor(opts: Partial<DtmfDetectorOptions> = {}) {
    const o: DtmfDetectorOptions = { ...DEFAULT_DETECTOR_OPTIONS };
    for (const [k, v] of Object.entries(opts)) if (v !== undefined) (o as unknown as Record<string, number>)[k] = v as number;
    validate(o);
    this.options = Object.freeze(o);
    this.minAmp = dbm0ToAmplitude(o.minLevelDbm0);
    // Pre-check floor: 6 dB below the real one, because an off-frequency tone (±2.5 %) loses up to
    // ~4.3 dB in a nominal-frequency Goertzel over 102 samples (sinc of 0.52 bin at 1633 Hz).
    const preAmp = dbm0ToAmplitude(o.minLevelDbm0 - 6);
    this.preMinE = (preAmp * preAmp * N) / 2;
    this.twistHi = 10 ** (o.maxTwistHighDb / 20);
    this.twistLo = 10 ** (-o.maxTwistLowDb / 20);
    this.preTwistHi = dbToPowerRatio(o.maxTwistHighDb + 6);
    this.preTwistLo = dbToPowerRatio(-o.maxTwistLowDb - 6);
    this.relPeak = dbToPowerRatio(o.relativePeakDb);
    this.maxDev = o.maxFrequencyDeviationPct / 100;
    this.harmRatio = 10 ** (o.maxSecondHarmonicDb / 20);
    this.levelDrift = 10 ** (o.maxLevelDriftDb / 20);
    this.residualRatio = dbToPowerRatio(o.maxResidualPeakDb);
    const gateAmp = dbm0ToAmplitude(o.minLevelDbm0 - 6);
    this.gateEnergy = gateAmp * gateAmp * N; // two tones of amplitude A over a block: 2·A²N/2
    this.probes = [...DTMF_ROW_FREQS, ...DTMF_COL_FREQS].map((f) => new HannProbe(f, N));
  }

  /** Samples fed since creation or the last reset(). */
  get samplesProcessed(): number {
    return this.total;
  }

  /** Feeds samples; returns the key presses that ENDED during this call (complete events). When none
   *  ended, the result is a shared frozen empty array (no allocation on the common path). */
  process(samples: Int16Array, onEvent?: (e: DtmfEvent) => void): DtmfEvent[] {
    // Most calls end no key press: they return one shared, frozen empty array instead of allocating.
    this.sink = null;
    this.sinkCb = onEvent;
    this.run(samples);
    const out = this.sink ?? (NO_EVENTS as DtmfEvent[]);
    this.sink = null;
    this.sinkCb = undefined;
    this.rethrowListenerError();
    return out;
  }

  /**
   * A throwing listener (onEvent, onDigitStart) must not leave the receiver half-way through a block
   * (house style 5): its error is held until the call's work is done, then rethrown to the caller.
   */
  private rethrowListenerError(): void {
    if (this.listenerFailed) {
      const err = this.listenerError;
      this.listenerFailed = false;
      this.listenerError = undefined;
      throw err;
    }
  }

  /** End of stream: closes a key press still in progress. The detector can then be reused (reset()). */
  flush(): DtmfEvent[] {
    const out: DtmfEvent[] = [];
    if (this.state === State.Active) {
      this.sink = out;
      this.sinkCb = undefined;
      let end: number;
      if (this.misses === 0) {
        // still on in the last complete block: it lasted at least to there, and the trailing partial
        // block (not analysed) may hold more of it
        end = this.total;
      } else {
        end = this.refinedEnd();
      }
      this.emit(end);
      this.sink = null;
    }
    this.state = State.Idle;
    this.prevHit = NONE;
    this.rethrowListenerError();
    return out;
  }

  /** Forgets everything, including the sample count. */
  reset(): void {
    this.gs.fill(0);
    this.energy = 0;
    this.fill = 0;
    this.total = 0;
    this.ring.fill(0);
    this.state = State.Idle;
    this.block = 0;
    this.prevHit = NONE;
    this.digit = NONE;
    this.misses = 0;
  }

  // -------------------------------------------------------------------------------------------------
  // Hot loop

  private run(x: Int16Array): void {
    const n = x.length;
    const ring = this.ring;
    const gs = this.gs;
    // Imported bindings can compile to property loads; keep everything the loop touches local.
    const mask = RING_MASK;
    const blockLen = N;
    // 2cos(2πf/8000) for the 8 nominal frequencies
    const c0 = COEF[0] as number, c1 = COEF[1] as number, c2 = COEF[2] as number, c3 = COEF[3] as number;
    const c4 = COEF[4] as number, c5 = COEF[5] as number, c6 = COEF[6] as number, c7 = COEF[7] as number;
    let a0 = gs[0] as number, b0 = gs[1] as number, a1 = gs[2] as number, b1 = gs[3] as number;
    let a2 = gs[4] as number, b2 = gs[5] as number, a3 = gs[6] as number, b3 = gs[7] as number;
    let a4 = gs[8] as number, b4 = gs[9] as number, a5 = gs[10] as number, b5 = gs[11] as number;
    let a6 = gs[12] as number, b6 = gs[13] as number, a7 = gs[14] as number, b7 = gs[15] as number;
    let e = this.energy;
    let w = this.total & mask;
    let i = 0;
    while (i < n) {
      let lim = i + (blockLen - this.fill);
      if (lim > n) lim = n;
      const segStart = i;
      // Two samples per iteration with the roles of s1/s2 swapped in between: s[n] = x + c·s[n−1] −
      // s[n−2] is written straight over s[n−2], so no register moves are needed (≈ 1.4× faster in V8).
      const lim2 = i + ((lim - i) & ~1);
      for (; i < lim2; i += 2) {
        const v = x[i] as number;
        const u = x[i + 1] as number;
        ring[w] = v;
        ring[(w + 1) & mask] = u;
        w = (w + 2) & mask;
        e += v * v + u * u;
        b0 = v + c0 * a0 - b0; a0 = u + c0 * b0 - a0;
        b1 = v + c1 * a1 - b1; a1 = u + c1 * b1 - a1;
        b2 = v + c2 * a2 - b2; a2 = u + c2 * b2 - a2;
        b3 = v + c3 * a3 - b3; a3 = u + c3 * b3 - a3;
        b4 = v + c4 * a4 - b4; a4 = u + c4 * b4 - a4;
        b5 = v + c5 * a5 - b5; a5 = u + c5 * b5 - a5;
        b6 = v + c6 * a6 - b6; a6 = u + c6 * b6 - a6;
        b7 = v + c7 * a7 - b7; a7 = u + c7 * b7 - a7;
      }
      if (i < lim) {
        // odd tail: one plain step (a = s[n−1], b = s[n−2] as everywhere else)
        const v = x[i] as number;
        ring[w] = v;
        w = (w + 1) & mask;
        e += v * v;
        let t = v + c0 * a0 - b0; b0 = a0; a0 = t;
        t = v + c1 * a1 - b1; b1 = a1; a1 = t;
        t = v + c2 * a2 - b2; b2 = a2; a2 = t;
        t = v + c3 * a3 - b3; b3 = a3; a3 = t;
        t = v + c4 * a4 - b4; b4 = a4; a4 = t;
        t = v + c5 * a5 - b5; b5 = a5; a5 = t;
        t = v + c6 * a6 - b6; b6 = a6; a6 = t;
        t = v + c7 * a7 - b7; b7 = a7; a7 = t;
        i++;
      }
      this.total += lim - segStart;
      this.fill += lim - segStart;
      if (this.fill === N) {
        const re = this.view.rowEnergy;
        const ce = this.view.colEnergy;
        // |X|² = s1² + s2² − 2cos(ω)·s1·s2; normalised E = 2|X|²/N
        re[0] = ((a0 * a0 + b0 * b0 - c0 * a0 * b0) * 2) / N;
        re[1] = ((a1 * a1 + b1 * b1 - c1 * a1 * b1) * 2) / N;
        re[2] = ((a2 * a2 + b2 * b2 - c2 * a2 * b2) * 2) / N;
        re[3] = ((a3 * a3 + b3 * b3 - c3 * a3 * b3) * 2) / N;
        ce[0] = ((a4 * a4 + b4 * b4 - c4 * a4 * b4) * 2) / N;
        ce[1] = ((a5 * a5 + b5 * b5 - c5 * a5 * b5) * 2) / N;
        ce[2] = ((a6 * a6 + b6 * b6 - c6 * a6 * b6) * 2) / N;
        ce[3] = ((a7 * a7 + b7 * b7 - c7 * a7 * b7) * 2) / N;
        this.view.energy = e;
        this.endBlock();
        a0 = b0 = a1 = b1 = a2 = b2 = a3 = b3 = a4 = b4 = a5 = b5 = a6 = b6 = a7 = b7 = 0;
        e = 0;
        this.fill = 0;
      }
    }
    gs[0] = a0; gs[1] = b0; gs[2] = a1; gs[3] = b1; gs[4] = a2; gs[5] = b2; gs[6] = a3; gs[7] = b3;
    gs[8] = a4; gs[9] = b4; gs[10] = a5; gs[11] = b5; gs[12] = a6; gs[13] = b6; gs[14] = a7; gs[15] = b7;
    this.energy = e;
  }

  // -------------------------------------------------------------------------------------------------
  // Once per block

  private endBlock(): void {
    const v = this.view;
    v.index = this.block;
    v.digitConfirmed = false;
    v.tone = false;
    const re = v.rowEnergy;
    const ce = v.colEnergy;
    let br = 0;
    let bc = 0;
    for (let k = 1; k < 4; k++) {
      if ((re[k] as number) > (re[br] as number)) br = k;
      if ((ce[k] as number) > (ce[bc] as number)) bc = k;
    }
    v.bestRow = br;
    v.bestCol = bc;
    const share = this.preCheck(v) ? ((re[br] as number) + (ce[bc] as number)) / v.energy : 0;
    if (this.state === State.Active && br * 4 + bc === this.digit && share >= KEEP_RATIO) {
      // The confirmed digit carries on: the nominal checks suffice (it passed the full ones to be
      // confirmed), which keeps the expensive analysis to a few blocks per key press.
      this.keepActive();
    } else if (share >= this.options.preRatio) {
      this.step(this.classifyHit(br, bc));
    } else {
      this.step(NONE);
    }
    const obs = this[BLOCK_OBSERVER];
    if (obs) obs(v);
    this.block++;
  }

  /** Cheap nominal-bin test (levels, twist, relative peaks); the energy share is checked by the caller. */
  private preCheck(v: DtmfBlockView): boolean {
    const er = v.rowEnergy[v.bestRow] as number;
    const ec = v.colEnergy[v.bestCol] as number;
    if (er < this.preMinE || ec < this.preMinE) return false;
    if (ec > er * this.preTwistHi || ec < er * this.preTwistLo) return false;
    const lr = er / this.relPeak;
    const lc = ec / this.relPeak;
    for (let k = 0; k < 4; k++) {
      if (k !== v.bestRow && (v.rowEnergy[k] as number) > lr) return false;
      if (k !== v.bestCol && (v.colEnergy[k] as number) > lc) return false;
    }
    return true;
  }

  /**
   * First-stage test of the block just completed for digit (row br, col bc): frequencies, levels, twist
   * and the fitted energy share R'. Returns the digit index or NONE. The talk-off checks (verify()) run
   * only when two such blocks in a row could confirm a digit, so speech blocks that pass this stage
   * alone (and the partly filled first block of every key press) cost no more.
   */
  private classifyHit(br: number, bc: number): number {
    const start = this.total - N; // absolute index of the block's first sample
    const pr = this.probes[br] as HannProbe;
    const pc = this.probes[4 + bc] as HannProbe;
    // Frequencies from the phase advance. The first window reaches 51 samples back, into audio that may
    // precede the tone; that can only pull the estimate towards nominal, and the second block of any
    // confirming pair has both windows inside the tone, so a tone beyond the limit never confirms.
    const dRow = pr.offsetAt(this.ring, start - PHASE_HOP, PHASE_HOP);
    const dCol = pc.offsetAt(this.ring, start - PHASE_HOP, PHASE_HOP);
    if (Math.abs(dRow) > this.maxDev * pr.omega0 || Math.abs(dCol) > this.maxDev * pc.omega0) return NONE;
    const wr = pr.omega0 + dRow;
    const wc = pc.omega0 + dCol;
    const om = this.omegas;
    const f = this.fitter;
    om[0] = wr;
    om[1] = wc;
    if (!f.fit(this.ring, start, N, om, 2)) return NONE;
    const ar = f.amplitude(0);
    const ac = f.amplitude(1);
    if (ar < this.minAmp || ac < this.minAmp) return NONE;
    if (ac > ar * this.twistHi || ac < ar * this.twistLo) return NONE;
    if (f.projectedEnergy < this.options.minToneRatio * this.view.energy) return NONE;
    f.copyCoefs(this.hitCoefs, 2);
    this.hitEnergy = f.projectedEnergy;
    this.hitOmegaRow = wr;
    this.hitOmegaCol = wc;
    this.hitAmpRow = ar;
    this.hitAmpCol = ac;
    return br * 4 + bc;
  }

  /**
   * Talk-off checks on the block at `start` for tones (wr, wc) of amplitudes (ar, ac):
   *  - nothing else tonal stands out of the residual (voiced speech carries more harmonics of the
   *    pitch whose two harmonics mimic the pair);
   *  - second harmonics, measured in the residual (so free of the fundamentals' leakage; 2·f_col stays
   *    below 3.4 kHz for ±2.5 %). The row tone's second harmonic (1394…1882 Hz) can fall on the column
   *    tone itself (2×761 Hz vs 1496 Hz for '6' at ∓1.5 %); closer than half a bin the two are not
   *    separable in one block, so it is only checked when resolvable.
   */
  private verify(start: number, wr: number, wc: number, ar: number, ac: number, coefs: Float64Array, toneEnergy: number): boolean {
    const res = this.residual;
    res.load(this.ring, start, coefs, wr, wc);
    if (res.peak(wr, wc) > this.residualRatio * toneEnergy) return false;
    if (res.harmonic(2 * wc) > ac * this.harmRatio) return false;
    return !(Math.abs(2 * wr - wc) >= HALF_BIN && res.harmonic(2 * wr) > ar * this.harmRatio);
  }

  /**
   * Blocks b−1 and b are first-stage hits of the same digit and agree (stationary()): run the talk-off
   * checks on both (the earlier block's result is cached) and confirm if both pass. Returns false if
   * the current block failed them (it then counts as no hit).
   */
  private tryConfirm(hit: number): boolean {
    this.curVerified = false;
    if (!this.verify(this.total - N, this.hitOmegaRow, this.hitOmegaCol, this.hitAmpRow, this.hitAmpCol, this.hitCoefs, this.hitEnergy)) return false;
    this.curVerified = true;
    if (this.prevVerified === 0) {
      this.prevVerified = this.verify(this.total - 2 * N, this.prevOmegaRow, this.prevOmegaCol, this.prevAmpRow, this.prevAmpCol, this.prevCoefs, this.prevEnergy) ? 1 : -1;
    }
    if (this.prevVerified > 0) this.confirm(hit);
    return true;
  }

  /**
   * Not in a digit, and this block is a first-stage `hit` (≠ NONE, or NONE): confirm if it pairs with
   * the previous block, else wait for a partner (Pending) or go Idle. Returns the hit as it counts
   * (NONE if it failed the talk-off checks).
   */
  private pairUp(hit: number, mayPair: boolean): number {
    this.state = State.Idle;
    if (hit === NONE) return NONE;
    if (mayPair && hit === this.prevHit && this.stationary()) {
      if (!this.tryConfirm(hit)) return NONE;
      if (this.digit === hit) return hit; // confirmed: state is Active
    }
    this.state = State.Pending;
    return hit;
  }

  /**
   * Fitted amplitude sum of the active digit's two tones over block `b` (must be in the ring). The fit
   * matters here: a nominal Goertzel of the weaker tone carries the other tone's leakage (±20 % at 8 dB
   * twist), which would make the edge-block fill estimates below off by up to 20 samples.
   */
  private ampInBlock(b: number): number {
    const om = this.omegas;
    om[0] = this.omegaRow;
    om[1] = this.omegaCol;
    if (!this.fitter.fit(this.ring, b * N, N, om, 2)) return 0;
    return this.fitter.amplitude(0) + this.fitter.amplitude(1);
  }

  /** True if block `b` (just completed) still carries the active digit (interruption bridging). */
  private continues(): boolean {
    // Cheap exits first: too little energy, or the digit's nominal bins hold almost none of it (a
    // continuation needs ≥ continuationRatio in the fitted tones; even a tone 2.5 % off keeps ~half of
    // its energy in a nominal bin).
    const v = this.view;
    if (v.energy < this.gateEnergy) return false;
    const share = ((v.rowEnergy[this.digit >> 2] as number) + (v.colEnergy[this.digit & 3] as number)) / v.energy;
    if (share < 0.4 * this.options.continuationRatio) return false;
    const om = this.omegas;
    om[0] = this.omegaRow;
    om[1] = this.omegaCol;
    const f = this.fitter;
    if (!f.fit(this.ring, this.block * N, N, om, 2)) return false;
    return f.projectedEnergy >= this.options.continuationRatio * this.view.energy && f.amplitude(0) >= this.minAmp * 0.5 && f.amplitude(1) >= this.minAmp * 0.5;
  }

  /** A block that carries the active digit by the nominal checks. */
  private keepActive(): void {
    this.view.tone = true;
    this.misses = 0;
    this.lastGoodBlock = this.block;
    this.lastGoodAmp = -1; // fitted only if it turns out to be the last one (refinedEnd)
    this.prevHit = this.digit;
  }

  private step(firstStage: number): void {
    const b = this.block;
    let hit = firstStage;
    if (hit !== NONE) this.view.tone = true;
    this.curVerified = false;
    if (this.state === State.Active) {
      let good = hit === this.digit;
      let amp = good ? this.hitAmpRow + this.hitAmpCol : 0;
      if (!good && hit === NONE && this.continues()) {
        good = true;
        amp = this.fitter.amplitude(0) + this.fitter.amplitude(1);
      }
      if (good) {
        this.view.tone = true;
        this.misses = 0;
        this.lastGoodBlock = b;
        this.lastGoodAmp = amp;
        if (amp > this.refAmp) this.refAmp = amp;
        if (hit === this.digit) {
          this.omegaRow = this.hitOmegaRow;
          this.omegaCol = this.hitOmegaCol;
        }
      } else {
        this.misses++;
        if (this.misses >= 2) {
          this.emit(this.refinedEnd());
          // d d e e: the other digit may already have its two hits
          hit = this.pairUp(hit, true);
        }
      }
    } else if (hit !== NONE) {
      hit = this.pairUp(hit, this.state === State.Pending);
    } else {
      this.state = State.Idle;
    }
    this.prevHit = hit;
    this.prevVerified = this.curVerified ? 1 : 0;
    if (hit !== NONE) {
      this.prevOmegaRow = this.hitOmegaRow;
      this.prevOmegaCol = this.hitOmegaCol;
      this.prevAmpRow = this.hitAmpRow;
      this.prevAmpCol = this.hitAmpCol;
      this.prevCoefs.set(this.hitCoefs);
      this.prevEnergy = this.hitEnergy;
      this.prevAmp = this.hitAmpRow + this.hitAmpCol;
    }
  }

  /** The current hit agrees with the previous block's hit in frequency and level. */
  private stationary(): boolean {
    const drift = this.options.maxFrequencyDriftPct / 100;
    const pr = this.probes[(this.prevHit >> 2)] as HannProbe;
    const pc = this.probes[4 + (this.prevHit & 3)] as HannProbe;
    if (Math.abs(this.hitOmegaRow - this.prevOmegaRow) > drift * pr.omega0) return false;
    if (Math.abs(this.hitOmegaCol - this.prevOmegaCol) > drift * pc.omega0) return false;
    const ld = this.levelDrift;
    if (this.hitAmpRow > this.prevAmpRow * ld || this.hitAmpRow * ld < this.prevAmpRow) return false;
    if (this.hitAmpCol > this.prevAmpCol * ld || this.hitAmpCol * ld < this.prevAmpCol) return false;
    return true;
  }

  /** Two consecutive hits (blocks b−1 and b) of `hit`: the digit is on. */
  private confirm(hit: number): void {
    const b = this.block;
    this.state = State.Active;
    this.digit = hit;
    this.misses = 0;
    this.omegaRow = this.hitOmegaRow;
    this.omegaCol = this.hitOmegaCol;
    const ampK = this.prevAmp;
    const ampB = this.hitAmpRow + this.hitAmpCol;
    this.refAmp = Math.max(ampK, ampB);
    this.lastGoodBlock = b;
    this.lastGoodAmp = ampB;
    // Start: the first hit block k = b−1 holds m_k tone samples at its end; if it is (nearly) full,
    // the tone may have begun in an earlier block.
    const k = b - 1;
    const mk = Math.min(N, (N * ampK) / this.refAmp);
    let start = (k + 1) * N - mk;
    // Walk back over full blocks (up to 3: a tone near the acceptance limits can be confirmed a block
    // or two late) to the partly filled one where it began.
    let m = mk;
    for (let j = k - 1; m >= 0.9 * N && j >= 0 && j >= k - 3; j--) {
      m = Math.min(N, (N * this.ampInBlock(j)) / this.refAmp);
      if (m < 0.03 * N) break;
      start -= m;
    }
    this.digitStart = Math.max(0, Math.round(start));
    this.view.digitConfirmed = true;
    const cb = this.onDigitStart;
    if (cb) {
      try {
        cb(DTMF_DIGITS[hit] as DtmfDigit, this.digitStart);
      } catch (err) {
        this.holdListenerError(err);
      }
    }
  }

  /** End of the active digit from the last good block j and the block after it. */
  private refinedEnd(): number {
    const j = this.lastGoodBlock;
    const ampJ = this.lastGoodAmp >= 0 ? this.lastGoodAmp : this.ampInBlock(j);
    const mj = Math.min(N, (N * ampJ) / this.refAmp);
    let end = j * N + mj;
    if (mj >= 0.9 * N && (j + 1) * N + N <= this.total) {
      const mNext = Math.min(N, (N * this.ampInBlock(j + 1)) / this.refAmp);
      if (mNext >= 0.03 * N) end += mNext;
    }
    return Math.max(this.digitStart + 1, Math.round(end));
  }

  private holdListenerError(err: unknown): void {
    if (!this.listenerFailed) {
      this.listenerFailed = true;
      this.listenerError = err;
    }
  }

  private emit(end: number): void {
    const e: DtmfEvent = { digit: DTMF_DIGITS[this.digit] as DtmfDigit, startSample: this.digitStart, endSample: end };
    this.digit = NONE;
    (this.sink ??= []).push(e);
    const cb = this.sinkCb;
    if (cb) {
      try {
        cb(e);
      } catch (err) {
        this.holdListenerError(err);
      }
    }
  }
}

const NO_EVENTS: readonly DtmfEvent[] = Object.freeze([]);

const COEF = new Float64Array([...DTMF_ROW_FREQS, ...DTMF_COL_FREQS].map((f) => 2 * Math.cos(hzToOmega(f))));

/** Convenience: runs a fresh detector over a whole signal (process + flush). */
export function detectDtmf(samples: Int16Array, opts?: Partial<DtmfDetectorOptions>): DtmfEvent[] {
  const d = new DtmfDetector(opts);
  return [...d.process(samples), ...d.flush()];
}
