/**
 * Runs Cardline's DtmfMasker the way the media path does (20 ms RTP frames of 160 samples, or any other
 * chunking) and lines its output up with its input using the masker's *declared* delay.
 */
import { DtmfMasker } from '../../src/dsp/dtmf/masker.ts';
import type { MaskMode } from '../../src/dsp/dtmf/masker.ts';
import type { DtmfEvent, MaskSpan } from '../../src/dsp/types.ts';
import { goertzelWindowed } from './audio.ts';

export interface MaskRun {
  /** Everything the masker emitted (process() outputs, then flush()). */
  raw: Int16Array;
  /** raw shifted back by the declared delay: aligned[i] is the output for input[i]. */
  aligned: Int16Array;
  delay: number;
  spans: MaskSpan[];
  digits: DtmfEvent[];
}

export function runMasker(input: Int16Array, opts: { mode?: MaskMode; chunk?: number; seed?: number; lookaheadMs?: number } = {}): MaskRun {
  const spans: MaskSpan[] = [];
  const digits: DtmfEvent[] = [];
  const mOpts: ConstructorParameters<typeof DtmfMasker>[0] = {
    onSpan: (s) => spans.push(s),
    onDigit: (e) => digits.push(e),
    seed: opts.seed ?? 1,
  };
  if (opts.mode !== undefined) mOpts.mode = opts.mode;
  if (opts.lookaheadMs !== undefined) mOpts.lookaheadMs = opts.lookaheadMs;
  const masker = new DtmfMasker(mOpts);
  const chunk = opts.chunk ?? 160;
  const parts: Int16Array[] = [];
  let total = 0;
  const frame = new Int16Array(chunk);
  for (let pos = 0; pos < input.length; pos += chunk) {
    const inChunk = input.subarray(pos, Math.min(input.length, pos + chunk));
    // Reuse one output frame like a media loop would; copy what comes back before the next call.
    const out = masker.process(inChunk, inChunk.length === chunk ? frame : undefined);
    parts.push(out.slice());
    total += out.length;
  }
  const tail = masker.flush();
  parts.push(tail.slice());
  total += tail.length;
  const raw = new Int16Array(total);
  let o = 0;
  for (const p of parts) {
    raw.set(p, o);
    o += p.length;
  }
  const delay = masker.delaySamples;
  const aligned = raw.slice(delay, delay + input.length);
  return { raw, aligned, delay, spans, digits };
}

export const DTMF_FREQS = [697, 770, 852, 941, 1209, 1336, 1477, 1633] as const;

/**
 * Suppression (dB) of DTMF energy over one tone's span: Σ power at the 8 DTMF frequencies in the input
 * span divided by the same in the aligned output span (Hann-windowed Goertzel, so a nearby component
 * such as a masking beep is not smeared onto the DTMF bins by rectangular-window leakage), and the same
 * for the tone's own two frequencies separately (the worst of the two).
 */
export function spanSuppressionDb(input: Int16Array, aligned: Int16Array, start: number, end: number, own: readonly [number, number]): { all8: number; own: number } {
  let pin = 0;
  let pout = 0;
  for (const f of DTMF_FREQS) {
    pin += goertzelWindowed(input, f, start, end);
    pout += goertzelWindowed(aligned, f, start, end);
  }
  let worstOwn = Infinity;
  for (const f of own) {
    const a = goertzelWindowed(input, f, start, end);
    const b = goertzelWindowed(aligned, f, start, end);
    worstOwn = Math.min(worstOwn, 10 * Math.log10(a / Math.max(b, 1e-12)));
  }
  return { all8: 10 * Math.log10(pin / Math.max(pout, 1e-12)), own: worstOwn };
}
