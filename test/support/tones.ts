/**
 * An independent DTMF tone generator for the tests' own use (e.g. proving the spandsp reference works),
 * deliberately separate from the engine under test (`src/dsp/dtmf/generator.ts`), so a shared bug cannot
 * hide itself. Frequencies: ITU-T Q.23. Level convention: see audio.ts (0 dBm0 sine peak 22787).
 */
import { DBM0_SINE_PEAK, clip16 } from './audio.ts';

const KEYS = '123A456B789C*0#D';
const ROWS = [697, 770, 852, 941];
const COLS = [1209, 1336, 1477, 1633];

export interface RefToneEvent {
  digit: string;
  startSample: number;
  endSample: number;
}

export interface RefSequenceSpec {
  onMs?: number;
  offMs?: number;
  /** Level of the low-group tone, dBm0 per tone (default -10). */
  levelDbm0?: number;
  /** High-group level minus low-group level, dB (default 0). */
  twistDb?: number;
  leadMs?: number;
  tailMs?: number;
}

export function refDtmfFrequencies(digit: string): { row: number; col: number } {
  const k = KEYS.indexOf(digit);
  if (k < 0 || digit.length !== 1) throw new RangeError('not a DTMF key');
  return { row: ROWS[k >> 2] ?? 0, col: COLS[k & 3] ?? 0 };
}

/** A sequence of key presses with exact expected events (sample positions at 8 kHz). */
export function refDtmfSequence(digits: string, spec: RefSequenceSpec = {}): { samples: Int16Array; events: RefToneEvent[] } {
  const on = Math.round(((spec.onMs ?? 80) * 8000) / 1000);
  const off = Math.round(((spec.offMs ?? 80) * 8000) / 1000);
  const lead = Math.round(((spec.leadMs ?? 100) * 8000) / 1000);
  const tail = Math.round(((spec.tailMs ?? 100) * 8000) / 1000);
  const aLow = DBM0_SINE_PEAK * 10 ** ((spec.levelDbm0 ?? -10) / 20);
  const aHigh = aLow * 10 ** ((spec.twistDb ?? 0) / 20);
  const n = lead + digits.length * on + Math.max(0, digits.length - 1) * off + tail;
  const out = new Int16Array(n);
  const events: RefToneEvent[] = [];
  let pos = lead;
  for (const d of digits) {
    const { row, col } = refDtmfFrequencies(d);
    for (let i = 0; i < on; i++) {
      const t = i / 8000;
      out[pos + i] = clip16(aLow * Math.sin(2 * Math.PI * row * t) + aHigh * Math.sin(2 * Math.PI * col * t));
    }
    events.push({ digit: d, startSample: pos, endSample: pos + on });
    pos += on + off;
  }
  return { samples: out, events };
}
