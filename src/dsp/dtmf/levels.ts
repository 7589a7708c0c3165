/**
 * Level convention for the whole DTMF engine (ITU-T G.711 §5 / Table 5, ITU-T O.6 style):
 *
 *   a full-scale 16-bit sine (amplitude 32 767) is +3.14 dBm0, so a 0 dBm0 sine has amplitude
 *   32 767 · 10^(−3.14/20) ≈ 22 826.
 *
 * This is the "digital milliwatt" convention of G.711 (the µ-law digital milliwatt sequence decodes to
 * a 0 dBm0 1 kHz sine with that amplitude) and the same one spandsp uses (`DBM0_MAX_SINE_POWER` =
 * +3.14 dBm0, `dds_scaling_dbm0()`), so levels in our tests mean the same as in the reference receiver.
 * All DTMF levels are PER TONE (ITU-T Q.24 specifies each frequency's level separately).
 */

/** Level of a full-scale 16-bit sine, in dBm0 (ITU-T G.711). */
export const FULL_SCALE_SINE_DBM0 = 3.14;
/** 16-bit full scale. */
export const FULL_SCALE = 32767;

/** Peak amplitude (16-bit units) of a sine at `dbm0`. `dbm0ToAmplitude(0)` ≈ 22 826.4. */
export function dbm0ToAmplitude(dbm0: number): number {
  return FULL_SCALE * 10 ** ((dbm0 - FULL_SCALE_SINE_DBM0) / 20);
}

/** Level in dBm0 of a sine with peak `amplitude` (16-bit units); −Infinity for 0. */
export function amplitudeToDbm0(amplitude: number): number {
  return 20 * Math.log10(Math.abs(amplitude) / FULL_SCALE) + FULL_SCALE_SINE_DBM0;
}

/**
 * Level in dBm0 of a signal whose mean square (power per sample) is `meanSquare`: a sine of amplitude A
 * has mean square A²/2, so this is the dBm0 of the sine with the same power.
 */
export function meanSquareToDbm0(meanSquare: number): number {
  return amplitudeToDbm0(Math.sqrt(2 * meanSquare));
}

/** dB → power ratio. */
export function dbToPowerRatio(db: number): number {
  return 10 ** (db / 10);
}

/** Power ratio → dB. */
export function powerRatioToDb(ratio: number): number {
  return 10 * Math.log10(ratio);
}
