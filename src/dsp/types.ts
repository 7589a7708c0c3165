/**
 * Shared DSP vocabulary. The DSP core works at 8 kHz, 16-bit linear PCM (narrowband telephony,
 * ITU-T G.711). Positions are absolute sample indices in the stream a component was fed since it
 * was created (sample 0 = first sample fed); `end` is exclusive.
 */
export const SAMPLE_RATE = 8000;

export const DTMF_DIGITS = ['1', '2', '3', 'A', '4', '5', '6', 'B', '7', '8', '9', 'C', '*', '0', '#', 'D'] as const;
export type DtmfDigit = (typeof DTMF_DIGITS)[number];

export function isDtmfDigit(s: string): s is DtmfDigit {
  return (DTMF_DIGITS as readonly string[]).includes(s);
}

/** ITU-T Q.23 keypad frequencies (Hz): rows = low group, columns = high group. */
export const DTMF_ROW_FREQS = [697, 770, 852, 941] as const;
export const DTMF_COL_FREQS = [1209, 1336, 1477, 1633] as const;

/** A detected key press. Digits are card data while secure mode is on: never log them. */
export interface DtmfEvent {
  digit: DtmfDigit;
  startSample: number;
  endSample: number;
}

/** A span of audio the masker replaced (no digit: safe to show, log and record). */
export interface MaskSpan {
  startSample: number;
  endSample: number;
}

export function samplesToMs(samples: number, rate: number = SAMPLE_RATE): number {
  return (samples * 1000) / rate;
}
