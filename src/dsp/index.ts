/**
 * The DSP domain's public face (house style 1): import from here, not from the files behind it.
 */
export * from './types.ts';

// --- codecs: G.711, WAV, sample-rate conversion --------------------------------------------------------
export {
  alawDecode, alawEncode, alawToLinear, linearToAlaw, linearToUlaw, ulawDecode, ulawEncode, ulawToLinear,
} from './g711.ts';
export {
  decodeWavChannel8k, parseWav, pickChannel, serializeWav, WAV_ALAW, WAV_MAX_CHANNELS, WAV_MAX_SAMPLE_RATE,
  WAV_MIN_SAMPLE_RATE, WAV_PCM16, WAV_ULAW,
  type DecodeWav8kOptions, type ParseWavOptions, type WavAudio, type WavAudioInput, type WavEncoding, type WavFormat,
} from './wav.ts';
export { resample, Resampler, type ResamplerOptions } from './resample.ts';

// --- DTMF engine (src/dsp/dtmf/) ------------------------------------------------------------------------
export * from './dtmf/index.ts';
