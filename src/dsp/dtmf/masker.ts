/**
 * Streaming DTMF masker: outputs the input delayed by a fixed look-ahead and replaces every DTMF tone,
 * including its onset, before the audio leaves (PCI DSS 4.0 req. 3.3: sensitive authentication data —
 * the card digits typed on the keypad — must not reach the agent or the call recording).
 *
 * It shares the detector's block analysis (BLOCK_SIZE = 102-sample blocks; no second set of
 * Goertzels). Masking is defined per block by a LIBERAL candidate rule — a superset of anything our own
 * detector or spandsp's dtmf_rx (even tuned "sensitive": −50 dBm0, 14/12 dB twist) can accept: lower
 * level floor, wider twist, a low share of block energy, no frequency or talk-off checks:
 *
 *     masked(block q) = candidate(q − 1) ∨ candidate(q) ∨ candidate(q + 1)
 *
 * i.e. each candidate block plus one block of pre-roll (the tone may have begun in the block before the
 * first one that shows it clearly) and one of hang-over (its tail). Whether block q is masked is known
 * once block q + 1 is analysed, at input time (q + 2)·N; block q's first sample leaves the delay line at
 * q·N + delay. So any delay ≥ 2·N = 204 samples (25.5 ms) masks every onset; the default look-ahead is
 * 30 ms (240 samples), within the 30 ms latency budget. Because masking is a function of the block
 * pattern only, output is identical for any chunking of the input.
 *
 * Modes, inside masked spans (audio outside passes bit-exact, delayed):
 *  - 'tone' (default): silence plus one identical beep per confirmed key press (so the agent hears that
 *    a key was pressed, not which): 1900 Hz — 267 Hz above the highest DTMF tone, clear of 2100 Hz
 *    (echo-canceller disable, ITU-T G.164/G.165) and 2600 Hz (SF signalling) — at −15 dBm0 for 37.5 ms
 *    with 15 ms raised-cosine ramps (7.5 ms flat top), which keep its energy at all 8 DTMF frequencies
 *    ≥ 80 dB below an equal-level tone there (measured in 300…700-sample windows; with 12.5 ms ramps a
 *    −41 dBm0 1477 Hz tone was suppressed by only 39 dB). A single tone never operates a DTMF receiver.
 *  - 'silence'.
 *  - 'noise': comfort noise at the background level (minimum statistics over the last 40 non-candidate
 *    blocks, ≈ 0.5 s, so speech does not raise it), fixed per span.
 *
 * Spans are reported in the INPUT timeline to `onSpan` when they close; the digits go only to `onDigit`
 * (the separate secure sink), never into spans, errors or logs. A span reported by this class carries
 * `keyPress` (whether it holds a confirmed key press) so `renderMask` beeps only where this class did.
 */
import { CardlineError } from '../../errors/index.ts';
import { DTMF_COL_FREQS, DTMF_ROW_FREQS, SAMPLE_RATE } from '../types.ts';
import type { DtmfEvent, MaskSpan } from '../types.ts';
import { BLOCK_OBSERVER, BLOCK_SIZE, DtmfDetector } from './detector.ts';
import type { DtmfBlockView } from './detector.ts';
import { dbToPowerRatio, dbm0ToAmplitude } from './levels.ts';

export type MaskMode = 'tone' | 'silence' | 'noise';

export interface DtmfMaskerOptions {
  /** Default 'tone'. */
  mode?: MaskMode;
  /** Fixed added delay, default 30 ms; at least 25.5 ms (two analysis blocks) so every onset is caught. */
  lookaheadMs?: number;
  /** A span in the INPUT timeline, emitted when it closes. */
  onSpan?: (span: MaskSpan) => void;
  /** The SEPARATE SECURE SINK: the only place digits go. */
  onDigit?: (e: DtmfEvent) => void;
  /** Comfort-noise PRNG seed (deterministic tests). */
  seed?: number;
}

/** A span as reported by DtmfMasker: also says whether a key press was confirmed inside it. */
export interface MaskerSpan extends MaskSpan {
  keyPress: boolean;
}

const N = BLOCK_SIZE;
/** Smallest look-ahead that still masks every onset: two blocks (see the header). */
export const MIN_LOOKAHEAD_SAMPLES = 2 * N;
export const DEFAULT_LOOKAHEAD_MS = 30;

// --- the liberal candidate rule -----------------------------------------------------------------------
/** Per-tone floor, dBm0 (nominal-bin energy): below the detector's −46 dBm0 less the ≤ 4.3 dB an
 *  accepted off-frequency tone loses in a nominal bin, and below spandsp "sensitive" (−50). */
export const CANDIDATE_MIN_LEVEL_DBM0 = -53;
/** Twist window, dB (col − row): wider than the detector's [−10, +8] and spandsp's [−14, +12]. */
export const CANDIDATE_TWIST_HIGH_DB = 16;
export const CANDIDATE_TWIST_LOW_DB = 18;
/** Least share of block energy in the best row + column bins. A full block of a tone that spandsp can
 *  take (it needs > 0.82 in its own blocks) or that is within ±1.5 % / +4 dB twist gives ≥ 0.78 even in
 *  18 dB SNR; tones further off, which only our receiver may still take, are flagged by its own
 *  classification (`tone`). Measured on espeak-ng speech: 0.06 % of active blocks reach 0.7 (0.44 %
 *  reach 0.6, 9 % reach 0.3) — this is what keeps false muting far below 0.5 %. */
export const CANDIDATE_MIN_RATIO = 0.7;

// --- the beep -------------------------------------------------------------------------------------------
export const BEEP_FREQ_HZ = 1900;
export const BEEP_LEVEL_DBM0 = -15;
export const BEEP_MS = 37.5;
export const BEEP_RAMP_MS = 15;

/** The beep at `rate` (identical for every key press). */
export function makeBeep(rate: number): Int16Array {
  const len = Math.round((BEEP_MS * rate) / 1000);
  const ramp = Math.round((BEEP_RAMP_MS * rate) / 1000);
  const a = dbm0ToAmplitude(BEEP_LEVEL_DBM0);
  const out = new Int16Array(len);
  for (let n = 0; n < len; n++) {
    const k = n < ramp ? n : len - 1 - n < ramp ? len - 1 - n : -1;
    const g = k >= 0 ? 0.5 - 0.5 * Math.cos((Math.PI * (k + 0.5)) / ramp) : 1;
    out[n] = Math.round(g * a * Math.sin((2 * Math.PI * BEEP_FREQ_HZ * n) / rate));
  }
  return out;
}

const BEEP_8K = makeBeep(SAMPLE_RATE);

// --- comfort noise ------------------------------------------------------------------------------------

/** xorshift32 → uniform in [−1, 1); tiny and deterministic. */
class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed >>> 0) || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 2147483648 - 1;
  }
}

/** Uniform white noise with RMS `rms` has peak √3·rms. */
const UNIFORM_PEAK = Math.sqrt(3);
const FLOOR_BLOCKS = 40;
/**
 * Minimum statistics (R. Martin, "Noise power spectral density estimation based on optimal smoothing
 * and minimum statistics", IEEE Trans. SAP 2001): the minimum of `count` window powers of stationary
 * noise sits below its mean by about c(count) spreads, where one window's spread is √(2/len) of the mean
 * and c is the expected largest of `count` standard normal deviates (Blom's approximation). The scale
 * 1.48 is calibrated on white Gaussian noise (40 windows of 102 samples: 2.6 dB), so comfort noise
 * matches the background's mean, not its quietest moment.
 */
function minStatBias(len: number, count: number): number {
  if (count < 2) return 1;
  const p = (count - 0.375) / (count + 0.25);
  // Abramowitz & Stegun 26.2.23: upper-tail normal quantile, |error| < 4.5e-4
  const t = Math.sqrt(-2 * Math.log(1 - p));
  const c = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
  return 1 / Math.max(0.25, 1 - 1.48 * c * Math.sqrt(2 / len));
}

interface Run {
  /** Input positions [start, end); `end` is provisional while the run is open. */
  start: number;
  end: number;
  lastCandidate: number;
  noiseRms: number;
  open: boolean;
  /** Beep starts (input positions) inside this run. */
  beeps: number[];
}

function validateLookahead(lookaheadMs: number, rate: number): number {
  if (!Number.isFinite(lookaheadMs) || lookaheadMs < 0 || lookaheadMs > 1000) {
    throw new CardlineError('audio-invalid-argument', 'lookaheadMs must be between 0 and 1000');
  }
  return Math.round((lookaheadMs * rate) / 1000);
}

export class DtmfMasker {
  /** output[i] corresponds to input[i − delaySamples]. */
  readonly delaySamples: number;
  readonly mode: MaskMode;

  private readonly onSpan: ((span: MaskSpan) => void) | undefined;
  private readonly onDigit: ((e: DtmfEvent) => void) | undefined;
  private readonly seed: number;
  private detector: DtmfDetector;
  private prng: Prng;

  private readonly minE: number;
  private readonly twistHi: number;
  private readonly twistLo: number;

  /** Last `hist.length` input samples, by absolute position. */
  private readonly hist: Int16Array;
  private readonly histMask: number;
  /** Input samples received. */
  private inTotal = 0;

  private readonly runs: Run[] = [];
  private readonly floor = new Float64Array(FLOOR_BLOCKS);
  private floorCount = 0;
  private floorPos = 0;

  constructor(opts: DtmfMaskerOptions = {}) {
    const mode = opts.mode ?? 'tone';
    if (mode !== 'tone' && mode !== 'silence' && mode !== 'noise') throw new CardlineError('audio-invalid-argument', 'mode must be tone, silence or noise');
    this.mode = mode;
    this.delaySamples = validateLookahead(opts.lookaheadMs ?? DEFAULT_LOOKAHEAD_MS, SAMPLE_RATE);
    if (this.delaySamples < MIN_LOOKAHEAD_SAMPLES) {
      throw new CardlineError('audio-invalid-argument', `lookaheadMs must be at least ${(MIN_LOOKAHEAD_SAMPLES * 1000) / SAMPLE_RATE} (two analysis blocks) to mask tone onsets`);
    }
    // Listener errors never break the stream (house style 5): held, then rethrown once the call's
    // samples are fully processed and rendered.
    const onSpan = opts.onSpan;
    const onDigit = opts.onDigit;
    this.onSpan = onSpan ? (s) => { try { onSpan(s); } catch (err) { this.hold(err); } } : undefined;
    this.onDigit = onDigit ? (e) => { try { onDigit(e); } catch (err) { this.hold(err); } } : undefined;
    this.seed = opts.seed ?? 1;
    this.prng = new Prng(this.seed);
    const minAmp = dbm0ToAmplitude(CANDIDATE_MIN_LEVEL_DBM0);
    this.minE = (minAmp * minAmp * N) / 2;
    this.twistHi = dbToPowerRatio(CANDIDATE_TWIST_HIGH_DB);
    this.twistLo = dbToPowerRatio(-CANDIDATE_TWIST_LOW_DB);
    let h = 1;
    while (h < this.delaySamples) h <<= 1;
    this.hist = new Int16Array(h);
    this.histMask = h - 1;
    this.detector = this.newDetector();
  }

  private newDetector(): DtmfDetector {
    const d = new DtmfDetector();
    d[BLOCK_OBSERVER] = (v) => this.onBlock(v);
    return d;
  }

  /** Feeds `input`; returns the same number of samples, delayed by `delaySamples`. */
  process(input: Int16Array, output?: Int16Array): Int16Array {
    const len = input.length;
    let out: Int16Array;
    if (output) {
      if (output.length < len) throw new CardlineError('audio-invalid-argument', `output buffer too short: need ${len} samples, have ${output.length}`);
      out = output.length === len ? output : output.subarray(0, len);
    } else {
      out = new Int16Array(len);
    }
    // 1. Analysis first: every masking decision about the samples leaving now is then made (they lag
    //    the input by delaySamples ≥ 2 blocks).
    this.detector.process(input, this.onDigit);
    // 2. Render output positions [S − D, S + len − D).
    const start = this.inTotal;
    this.render(input, start, out, start - this.delaySamples, len);
    // 3. Remember the tail of the input for the next call (bulk copies: at most two, around the wrap).
    const h = this.hist;
    const from = Math.max(0, len - h.length);
    let at = (start + from) & this.histMask;
    let i = from;
    while (i < len) {
      const n = Math.min(len - i, h.length - at);
      h.set(input.subarray(i, i + n), at);
      i += n;
      at = 0;
    }
    this.inTotal += len;
    this.dropRendered(this.inTotal - this.delaySamples);
    this.rethrow();
    return out;
  }

  private listenerFailed = false;
  private listenerError: unknown = undefined;

  private hold(err: unknown): void {
    if (!this.listenerFailed) {
      this.listenerFailed = true;
      this.listenerError = err;
    }
  }

  private rethrow(): void {
    if (this.listenerFailed) {
      const err = this.listenerError;
      this.listenerFailed = false;
      this.listenerError = undefined;
      throw err;
    }
  }

  /** End of stream: drains the delay line (delaySamples samples) and closes open spans. The masker then
   *  starts a new stream (positions restart at 0). */
  flush(): Int16Array {
    const total = this.inTotal;
    // Analyse the trailing partial block too (zero-padded): a tone starting in the last few ms is masked.
    const partial = total % N;
    if (partial !== 0) {
      const events = this.detector.process(new Int16Array(N - partial));
      for (const e of events) this.deliverClamped(e, total);
    }
    for (const e of this.detector.flush()) this.deliverClamped(e, total);
    for (const r of this.runs) {
      r.open = false;
      if (r.end > total) r.end = total;
    }
    const out = new Int16Array(this.delaySamples);
    this.render(new Int16Array(0), total, out, total - this.delaySamples, this.delaySamples);
    for (const r of this.runs) this.emitRun(r);
    this.runs.length = 0;
    // fresh stream
    this.inTotal = 0;
    this.hist.fill(0);
    this.floorCount = 0;
    this.floorPos = 0;
    this.prng = new Prng(this.seed);
    this.detector = this.newDetector();
    this.rethrow();
    return out;
  }

  private deliverClamped(e: DtmfEvent, total: number): void {
    if (e.endSample > total) e.endSample = total;
    if (e.startSample > e.endSample) e.startSample = e.endSample;
    this.onDigit?.(e);
  }

  // -------------------------------------------------------------------------------------------------
  // Per block (called by the detector after it classified the block)

  private onBlock(v: DtmfBlockView): void {
    const b = v.index;
    const er = v.rowEnergy[v.bestRow] as number;
    const ec = v.colEnergy[v.bestCol] as number;
    // Anything our receiver treats as DTMF (hits, and blocks carrying a confirmed digit on), plus the
    // nominal rule for near-nominal tones at any level or twist another receiver might take.
    const candidate = v.tone || (er >= this.minE && ec >= this.minE && ec <= er * this.twistHi && ec >= er * this.twistLo && er + ec >= CANDIDATE_MIN_RATIO * v.energy);
    const last = this.runs.length > 0 ? (this.runs[this.runs.length - 1] as Run) : null;
    const open = last?.open ? last : null;
    if (candidate) {
      if (open && b <= open.lastCandidate + 3) {
        // contiguous: pre-roll block b−1 touches the hang-over block lastCandidate+1
        open.lastCandidate = b;
        open.end = (b + 2) * N;
      } else {
        if (open) this.close(open);
        this.runs.push({ start: Math.max(0, (b - 1) * N), end: (b + 2) * N, lastCandidate: b, noiseRms: this.noiseRms(), open: true, beeps: [] });
      }
    } else {
      if (open && b >= open.lastCandidate + 3) this.close(open);
      // background level from blocks that carry no tone candidate
      this.floor[this.floorPos] = v.energy / N;
      this.floorPos = (this.floorPos + 1) % FLOOR_BLOCKS;
      if (this.floorCount < FLOOR_BLOCKS) this.floorCount++;
    }
    if (v.digitConfirmed) {
      // Confirmed at the end of block b (hits in b−1 and b, so blocks b−2 … b+1 are masked). The beep
      // starts at the first sample not yet output — or at the masked block b−2 if the look-ahead is
      // longer — so it always fits in the masked run: it ends by (b+2)·N for any delay ≥ 2 blocks.
      const run = this.runs[this.runs.length - 1];
      if (run?.open) run.beeps.push(Math.max((b - 2) * N, (b + 1) * N - this.delaySamples));
    }
  }

  private noiseRms(): number {
    if (this.floorCount === 0) return 0;
    let m = Infinity;
    for (let i = 0; i < this.floorCount; i++) m = Math.min(m, this.floor[i] as number);
    return Math.sqrt(m * minStatBias(N, this.floorCount));
  }

  private close(r: Run): void {
    r.open = false;
    this.emitRun(r);
  }

  /** Reports a closed run as spans: split at each further key press so each span holds ≤ 1 beep. */
  private emitRun(r: Run): void {
    const cb = this.onSpan;
    if (!cb || r.end <= r.start) return;
    if (r.beeps.length <= 1) {
      const span: MaskerSpan = { startSample: r.start, endSample: r.end, keyPress: r.beeps.length === 1 };
      cb(span);
      return;
    }
    for (let i = 0; i < r.beeps.length; i++) {
      const s = i === 0 ? r.start : (r.beeps[i] as number);
      const e = i + 1 < r.beeps.length ? (r.beeps[i + 1] as number) : r.end;
      const span: MaskerSpan = { startSample: s, endSample: Math.min(e, r.end), keyPress: true };
      cb(span);
    }
  }

  /** Forgets runs that lie wholly before `pos` and are closed (already emitted). */
  private dropRendered(pos: number): void {
    let k = 0;
    while (k < this.runs.length) {
      const r = this.runs[k] as Run;
      if (!r.open && r.end <= pos) k++;
      else break;
    }
    if (k > 0) this.runs.splice(0, k);
  }

  // -------------------------------------------------------------------------------------------------
  // Rendering

  /**
   * Writes output positions [p0, p0 + count) into out[0 …): input position p comes from `input`
   * (holding positions [inStart, inStart + input.length)) or from the history ring; then masked runs
   * are overwritten.
   */
  private render(input: Int16Array, inStart: number, out: Int16Array, p0: number, count: number): void {
    const h = this.hist;
    const hm = this.histMask;
    let j = 0;
    // before the stream began: the delay line starts silent
    while (j < count && p0 + j < 0) out[j++] = 0;
    // from history (bulk copies: at most two, around the wrap)
    while (j < count && p0 + j < inStart) {
      const at = (p0 + j) & hm;
      const n = Math.min(count - j, inStart - (p0 + j), h.length - at);
      out.set(h.subarray(at, at + n), j);
      j += n;
    }
    // from this call's input
    if (j < count) out.set(input.subarray(p0 + j - inStart, p0 + count - inStart), j);
    const p1 = p0 + count;
    const runs = this.runs;
    for (let k = 0; k < runs.length; k++) {
      const r = runs[k] as Run;
      if (r.start >= p1) break;
      if (r.end <= p0) continue;
      const a = Math.max(r.start, p0);
      const z = Math.min(r.end, p1);
      this.fill(r, out, a - p0, a, z - a);
    }
  }

  private fill(r: Run, out: Int16Array, o: number, pos: number, n: number): void {
    if (this.mode === 'noise') {
      const peak = r.noiseRms * UNIFORM_PEAK;
      for (let i = 0; i < n; i++) out[o + i] = Math.round(peak * this.prng.next());
      return;
    }
    out.fill(0, o, o + n);
    if (this.mode !== 'tone') return;
    const beep = BEEP_8K;
    for (const b of r.beeps) {
      const a = Math.max(b, pos);
      const z = Math.min(b + beep.length, pos + n);
      for (let p = a; p < z; p++) out[o + p - pos] = beep[p - b] as number;
    }
  }
}

/**
 * Offline rendering at ANY sample rate (the CLI masks 16/44.1/48 kHz and multi-channel files with
 * it): returns `input` delayed by round(lookaheadMs·rate/1000) samples, with every span (given in the
 * 8 kHz input timeline) replaced in the chosen mode. Same output length as input + delay.
 * In 'tone' mode each span gets one beep (at the span start plus one analysis block, earlier if the
 * span is short), except spans from DtmfMasker that hold no confirmed key press (`keyPress: false`).
 * In 'noise' mode the level is the background of the unmasked audio before the span (minimum power
 * over 12.75 ms windows in the preceding ≈ 0.5 s).
 */
export function renderMask(
  input: Int16Array,
  sampleRate: number,
  spans: readonly MaskSpan[],
  opts: { mode?: MaskMode; lookaheadMs?: number; seed?: number } = {},
): Int16Array {
  if (!Number.isFinite(sampleRate) || sampleRate < 1000 || sampleRate > 768000) {
    throw new CardlineError('audio-invalid-argument', 'sampleRate must be between 1000 and 768000');
  }
  const mode = opts.mode ?? 'tone';
  if (mode !== 'tone' && mode !== 'silence' && mode !== 'noise') throw new CardlineError('audio-invalid-argument', 'mode must be tone, silence or noise');
  const delay = validateLookahead(opts.lookaheadMs ?? DEFAULT_LOOKAHEAD_MS, sampleRate);
  const out = new Int16Array(input.length + delay);
  out.set(input, delay);
  const scale = sampleRate / SAMPLE_RATE;
  const block = Math.max(1, Math.round(N * scale));
  const beep = mode === 'tone' ? makeBeep(sampleRate) : null;
  const prng = new Prng(opts.seed ?? 1);
  // spans in rate samples, sorted, clipped to the input
  const ranges = spans
    .map((s) => {
      if (!Number.isFinite(s.startSample) || !Number.isFinite(s.endSample)) throw new CardlineError('audio-invalid-argument', 'span bounds must be finite');
      return {
        a: Math.max(0, Math.floor(s.startSample * scale)),
        z: Math.min(input.length, Math.ceil(s.endSample * scale)),
        beep: !('keyPress' in s && (s as MaskerSpan).keyPress === false),
      };
    })
    .filter((r) => r.z > r.a)
    .sort((x, y) => x.a - y.a);
  const masked = (p: number): boolean => ranges.some((r) => p >= r.a && p < r.z);
  for (const r of ranges) {
    const o = delay + r.a;
    const n = r.z - r.a;
    if (mode === 'noise') {
      // background: quietest unmasked window among the ~40 before the span
      let best = Infinity;
      let count = 0;
      for (let k = 1; k <= FLOOR_BLOCKS; k++) {
        const wa = r.a - k * block;
        if (wa < 0) break;
        if (masked(wa) || masked(wa + block - 1)) continue;
        let e = 0;
        for (let i = wa; i < wa + block; i++) { const v = input[i] as number; e += v * v; }
        best = Math.min(best, e / block);
        count++;
      }
      const rms = count > 0 ? Math.sqrt(best * minStatBias(block, count)) : 0;
      const peak = rms * UNIFORM_PEAK;
      for (let i = 0; i < n; i++) out[o + i] = Math.round(peak * prng.next());
      continue;
    }
    out.fill(0, o, o + n);
    if (beep && r.beep) {
      const at = Math.max(0, Math.min(block, n - beep.length));
      const m = Math.min(beep.length, n - at);
      out.set(beep.subarray(0, m), o + at);
    }
  }
  return out;
}

/** The nominal DTMF frequencies (for measurements in tests and benchmarks). */
export const DTMF_FREQS: readonly number[] = [...DTMF_ROW_FREQS, ...DTMF_COL_FREQS];
