/**
 * The DTMF engine's public face: generator, streaming detector, streaming masker and offline renderer.
 * Level convention (dBm0) in ./levels.ts; analysis internals (tone-fit.ts) stay private.
 */
export {
  amplitudeToDbm0, dbm0ToAmplitude, digitPosition, generateSequence, generateTone, msToSamples,
  type SequenceSpec, type ToneSpec,
} from './generator.ts';
export { FULL_SCALE_SINE_DBM0, meanSquareToDbm0 } from './levels.ts';
export { BLOCK_SIZE, DEFAULT_DETECTOR_OPTIONS, detectDtmf, DtmfDetector, type DtmfDetectorOptions } from './detector.ts';
export {
  BEEP_FREQ_HZ, BEEP_LEVEL_DBM0, BEEP_MS, DEFAULT_LOOKAHEAD_MS, DtmfMasker, MIN_LOOKAHEAD_SAMPLES, renderMask,
  type DtmfMaskerOptions, type MaskerSpan, type MaskMode,
} from './masker.ts';
