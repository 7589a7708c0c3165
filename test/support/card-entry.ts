/**
 * Card-entry audio for masking tests: a caller types a card number, expiry and security code on the
 * keypad (each followed by `#`), between turns of speech, optionally over background speech and
 * through a G.711 codec. Returns the audio and the exact truth (events in input sample positions).
 * The digits here are published test card numbers (Luhn-valid, never real cards).
 */
import { generateTone, msToSamples } from '../../src/dsp/dtmf/generator.ts';
import { alawDecode, alawEncode, ulawDecode, ulawEncode } from '../../src/dsp/g711.ts';
import { isDtmfDigit } from '../../src/dsp/types.ts';
import type { DtmfEvent } from '../../src/dsp/types.ts';
import { concat, gain, levelDbm0, mix, silence } from './audio.ts';

export interface CardEntrySpec {
  name: string;
  /** Key groups typed one after the other, e.g. ['4111111111111111#', '0927#', '737#']. */
  groups: string[];
  onMs?: number;
  offMs?: number;
  /** Per-tone level of the low group, dBm0; an array is used digit by digit, cycling. */
  levelDbm0?: number | number[];
  twistDb?: number;
  /** Pause between groups (ms), default 600. */
  groupGapMs?: number;
  speechBefore?: Int16Array;
  speechAfter?: Int16Array;
  /** Speech mixed under the whole keypad section, `backgroundDb` below the quietest tone's level. */
  background?: Int16Array;
  backgroundDb?: number;
  codec?: 'ulaw' | 'alaw';
}

export interface CardEntry {
  name: string;
  input: Int16Array;
  /** The tones as a perfect receiver would report them (positions in `input`). */
  events: DtmfEvent[];
  /** Everything typed, in order. */
  typed: string;
  /** The same audio without the tones (background + speech turns, same codec), for baselines. */
  withoutTones: Int16Array;
}

function levelAt(spec: CardEntrySpec, i: number): number {
  const l = spec.levelDbm0 ?? -10;
  if (typeof l === 'number') return l;
  return l[i % l.length] ?? -10;
}

/** RMS level (dBm0) over 20 ms frames louder than -50 dBm0 — the "active speech level". */
export function activeLevelDbm0(x: Int16Array): number {
  let acc = 0;
  let n = 0;
  for (let s = 0; s + 160 <= x.length; s += 160) {
    if (levelDbm0(x, s, s + 160) > -50) {
      for (let i = s; i < s + 160; i++) acc += (x[i] ?? 0) ** 2;
      n += 160;
    }
  }
  return n === 0 ? -Infinity : 10 * Math.log10(acc / n / (22787 * 22787 / 2));
}

function codec(x: Int16Array, c: CardEntrySpec['codec']): Int16Array {
  if (c === 'ulaw') return ulawDecode(ulawEncode(x));
  if (c === 'alaw') return alawDecode(alawEncode(x));
  return x;
}

export function cardEntry(spec: CardEntrySpec): CardEntry {
  const on = msToSamples(spec.onMs ?? 80);
  const off = msToSamples(spec.offMs ?? 80);
  const gap = msToSamples(spec.groupGapMs ?? 600);
  const typed = spec.groups.join('');
  let keypadLen = 0;
  spec.groups.forEach((g, gi) => {
    keypadLen += g.length * on + Math.max(0, g.length - 1) * off + (gi > 0 ? gap : 0);
  });
  const lead = msToSamples(300);
  const keypad = new Int16Array(lead + keypadLen + lead);
  const local: DtmfEvent[] = [];
  let pos = lead;
  let k = 0;
  spec.groups.forEach((g, gi) => {
    if (gi > 0) pos += gap - off;
    for (const d of g) {
      if (!isDtmfDigit(d)) throw new RangeError('not a DTMF key');
      generateTone({ digit: d, durationMs: (on * 1000) / 8000, levelDbm0: levelAt(spec, k), twistDb: spec.twistDb ?? 0 }, keypad, pos);
      local.push({ digit: d, startSample: pos, endSample: pos + on });
      pos += on + off;
      k++;
    }
  });
  let bg: Int16Array = new Int16Array(keypad.length);
  if (spec.background) {
    const tone = typeof spec.levelDbm0 === 'number' ? spec.levelDbm0 : Math.min(...(spec.levelDbm0 ?? [-10]));
    const target = tone - (spec.backgroundDb ?? 25);
    const scaled = gain(spec.background, target - activeLevelDbm0(spec.background));
    bg = mix(bg, scaled.subarray(0, Math.min(scaled.length, bg.length)));
  }
  const before = spec.speechBefore ?? silence(0);
  const after = spec.speechAfter ?? silence(0);
  const withKeys = concat(before, mix(bg, keypad), after);
  const without = concat(before, bg, after);
  const events = local.map((e) => ({ ...e, startSample: e.startSample + before.length, endSample: e.endSample + before.length }));
  return { name: spec.name, input: codec(withKeys, spec.codec), events, typed, withoutTones: codec(without, spec.codec) };
}

/**
 * Compares key strings without ever printing them (card data stays out of test output too): returns
 * null when equal, else a description with lengths and the first differing position only.
 */
export function keysMismatch(actual: string, expected: string): string | null {
  if (actual === expected) return null;
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  return `got ${actual.length} keys, expected ${expected.length}; first difference at key #${i}`;
}
