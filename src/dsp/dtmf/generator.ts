/**
 * DTMF tone generator (ITU-T Q.23 frequencies) for tests, prompts and the IVR.
 *
 * Levels follow the convention stated in ./levels.ts: a 0 dBm0 sine has amplitude
 * 32 767 · 10^(−3.14/20) ≈ 22 826 (G.711 digital milliwatt, +3.14 dBm0 = full-scale sine; the same
 * convention as spandsp's dds_scaling_dbm0). Levels are per tone. Two tones at 0 dBm0 each peak at
 * ≈ 45 574, beyond 16-bit range: the output saturates (clips) exactly like a real 16-bit or G.711 path
 * would, and the detector is tested on that clipped signal.
 */
import { CardlineError } from '../../errors/index.ts';
import { DTMF_COL_FREQS, DTMF_DIGITS, DTMF_ROW_FREQS, SAMPLE_RATE, isDtmfDigit } from '../types.ts';
import type { DtmfDigit, DtmfEvent } from '../types.ts';
import { dbm0ToAmplitude } from './levels.ts';

export { amplitudeToDbm0, dbm0ToAmplitude } from './levels.ts';

export interface ToneSpec {
  digit: DtmfDigit;
  durationMs: number;
  /** Per-tone level of the LOW-group (row) tone in dBm0, default −10. */
  levelDbm0?: number;
  /** High-group level minus low-group level in dB, default 0 (+4 = high group louder). */
  twistDb?: number;
  /** Frequency error in percent, e.g. +1.5 ⇒ 1.5 % above nominal; one number applies to both tones. */
  freqOffsetPct?: number | { row: number; col: number };
  /** Raised-cosine on and off ramp length in ms, default 0 (hard keying). */
  rampMs?: number;
  /** Start phase of both tones in radians, default 0 (sin(phase) at the first sample). */
  phase?: number;
}

export interface SequenceSpec {
  /** Tone length per digit, default 80 ms. */
  onMs?: number;
  /** Silence between digits, default 80 ms. */
  offMs?: number;
  levelDbm0?: number;
  twistDb?: number;
  /** Silence before the first digit, default `offMs`. */
  leadMs?: number;
  /** Silence after the last digit, default `offMs`. */
  tailMs?: number;
}

/** Row and column index (0..3) of a digit in the Q.23 keypad matrix. */
export function digitPosition(digit: DtmfDigit): { row: number; col: number } {
  const i = DTMF_DIGITS.indexOf(digit);
  return { row: i >> 2, col: i & 3 };
}

/** Number of samples for a duration in ms at 8 kHz (rounded to the nearest sample). */
export function msToSamples(ms: number): number {
  return Math.round((ms * SAMPLE_RATE) / 1000);
}

function requireFinite(name: string, v: number, min = -Infinity, max = Infinity): void {
  if (!Number.isFinite(v) || v < min || v > max) {
    throw new CardlineError('audio-invalid-argument', `${name} must be a finite number in [${min}, ${max}]`);
  }
}

/**
 * Renders one key press. Without `out` a new Int16Array of round(durationMs·8) samples is returned;
 * with `out` the tone overwrites out[offset … offset+len) and `out` is returned.
 */
export function generateTone(spec: ToneSpec, out?: Int16Array, offset = 0): Int16Array {
  // The digit itself is never put into an error message (card data while secure mode is on).
  if (typeof spec.digit !== 'string' || !isDtmfDigit(spec.digit)) throw new CardlineError('dtmf-invalid-digit');
  requireFinite('durationMs', spec.durationMs, 0, 3_600_000);
  const level = spec.levelDbm0 ?? -10;
  const twist = spec.twistDb ?? 0;
  const rampMs = spec.rampMs ?? 0;
  const phase = spec.phase ?? 0;
  requireFinite('levelDbm0', level, -200, 10);
  requireFinite('twistDb', twist, -60, 60);
  requireFinite('rampMs', rampMs, 0, 3_600_000);
  requireFinite('phase', phase);
  const off = spec.freqOffsetPct ?? 0;
  const rowOff = typeof off === 'number' ? off : off.row;
  const colOff = typeof off === 'number' ? off : off.col;
  requireFinite('freqOffsetPct', rowOff, -50, 50);
  requireFinite('freqOffsetPct', colOff, -50, 50);

  const len = msToSamples(spec.durationMs);
  if (!Number.isInteger(offset) || offset < 0) throw new CardlineError('audio-invalid-argument', 'offset must be a non-negative integer');
  const target = out ?? new Int16Array(len);
  if (offset + len > target.length) {
    throw new CardlineError('audio-invalid-argument', `output buffer too short: need ${offset + len} samples, have ${target.length}`);
  }
  const { row, col } = digitPosition(spec.digit);
  const fRow = (DTMF_ROW_FREQS[row] ?? 0) * (1 + rowOff / 100);
  const fCol = (DTMF_COL_FREQS[col] ?? 0) * (1 + colOff / 100);
  const aRow = dbm0ToAmplitude(level);
  const aCol = dbm0ToAmplitude(level + twist);
  const wRow = (2 * Math.PI * fRow) / SAMPLE_RATE;
  const wCol = (2 * Math.PI * fCol) / SAMPLE_RATE;
  // Ramps never overlap: each is at most half the tone.
  const ramp = Math.min(msToSamples(rampMs), len >> 1);
  for (let n = 0; n < len; n++) {
    let g = 1;
    if (ramp > 0) {
      // Raised cosine 0 → 1 over `ramp` samples (sample-centred, so both ends are symmetric).
      const k = n < ramp ? n : len - 1 - n < ramp ? len - 1 - n : -1;
      if (k >= 0) g = 0.5 - 0.5 * Math.cos((Math.PI * (k + 0.5)) / ramp);
    }
    const v = g * (aRow * Math.sin(wRow * n + phase) + aCol * Math.sin(wCol * n + phase));
    // Saturate like a 16-bit converter (Int16Array assignment would wrap instead).
    target[offset + n] = v >= 32767 ? 32767 : v <= -32768 ? -32768 : Math.round(v);
  }
  return target;
}

/**
 * Renders a digit string as key presses separated by silence, and the events a perfect receiver
 * would report (sample positions in the returned buffer, end exclusive).
 */
export function generateSequence(digits: string, spec: SequenceSpec = {}): { samples: Int16Array; events: DtmfEvent[] } {
  const onMs = spec.onMs ?? 80;
  const offMs = spec.offMs ?? 80;
  requireFinite('onMs', onMs, 0, 3_600_000);
  requireFinite('offMs', offMs, 0, 3_600_000);
  const lead = msToSamples(spec.leadMs ?? offMs);
  const tail = msToSamples(spec.tailMs ?? offMs);
  requireFinite('leadMs', lead, 0);
  requireFinite('tailMs', tail, 0);
  const on = msToSamples(onMs);
  const gap = msToSamples(offMs);
  const keys: DtmfDigit[] = [];
  for (let i = 0; i < digits.length; i++) {
    const ch = digits[i] ?? '';
    if (!isDtmfDigit(ch)) throw new CardlineError('dtmf-invalid-digit', `character at index ${i}`);
    keys.push(ch);
  }
  const total = keys.length === 0 ? lead + tail : lead + keys.length * on + (keys.length - 1) * gap + tail;
  const samples = new Int16Array(total);
  const events: DtmfEvent[] = [];
  let pos = lead;
  for (const digit of keys) {
    const tone: ToneSpec = { digit, durationMs: (on * 1000) / SAMPLE_RATE };
    if (spec.levelDbm0 !== undefined) tone.levelDbm0 = spec.levelDbm0;
    if (spec.twistDb !== undefined) tone.twistDb = spec.twistDb;
    generateTone(tone, samples, pos);
    events.push({ digit, startSample: pos, endSample: pos + on });
    pos += on + gap;
  }
  return { samples, events };
}
