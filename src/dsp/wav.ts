/**
 * WAV (RIFF WAVE) reader and writer: pure codec, no I/O, every length checked.
 *
 * References: Microsoft/IBM "Multimedia Programming Interface and Data Specifications 1.0" (1991), which
 * defines RIFF, the WAVE form, `fmt `, `fact` and `data`; Microsoft "Multiple Channel Audio Data and WAVE
 * Files" (2007) for WAVE_FORMAT_EXTENSIBLE; RFC 2361 for the format tag registry.
 *
 *   offset size  field
 *   0      4     "RIFF"
 *   4      4     RIFF size (u32 LE) = file length − 8             (often wrong: we never trust it)
 *   8      4     "WAVE"
 *   12     …     chunks, in any order:
 *                  id (4 ASCII) | size (u32 LE) | body (size bytes) | 1 pad byte when size is odd
 *
 *   fmt  body    0  u16 wFormatTag        1 PCM, 3 IEEE float, 6 A-law, 7 µ-law, 0xFFFE extensible
 *                2  u16 nChannels
 *                4  u32 nSamplesPerSec
 *                8  u32 nAvgBytesPerSec   (informative; not checked, many writers get it wrong)
 *                12 u16 nBlockAlign       = nChannels × container bytes: one frame
 *                14 u16 wBitsPerSample
 *                16 u16 cbSize            (formats other than PCM: size of what follows)
 *                18 u16 wValidBitsPerSample ┐
 *                20 u32 dwChannelMask       ├ WAVE_FORMAT_EXTENSIBLE only (cbSize ≥ 22)
 *                24 16B SubFormat GUID      ┘ {tag-0000-0010-8000-00AA00389B71}
 *   fact body    0  u32 dwSampleLength    frames per channel; required for every non-PCM format
 *   data body    frames, channels interleaved; PCM ≤ 8 bits is unsigned, wider PCM is signed LE
 *
 * Reading decodes to one Int16Array per channel (float is clipped, 24/32-bit PCM rounded to 16 bits) and keeps
 * the source encoding in `format`, so `serializeWav` can write the same format back.
 *
 * Policy on malformed input (the brief of house style 2: never a crash, never garbage): chunks may come in
 * any order except that `fmt ` must precede `data` (the WAVE spec requires it, and ffmpeg and sox both refuse
 * otherwise); unknown chunks (LIST, fact, cue, bext, JUNK…) are skipped; the RIFF size is ignored (streaming
 * writers leave it 0 or too large); bytes after the data chunk are ignored; a data size of 0xFFFFFFFF (the
 * streaming writers' "unknown") means "to the end of the file". A data chunk that claims more bytes than
 * the file holds is `wav-truncated` unless the caller opts in with `allowTruncated`.
 */
import { CardlineError } from '../errors/index.ts';
import { alawEncode, alawToLinear, ulawEncode, ulawToLinear } from './g711.ts';
import { resample } from './resample.ts';

export type WavEncoding = 'pcm' | 'float' | 'alaw' | 'ulaw';

/** How the samples are (or will be) stored in the file. */
export interface WavFormat {
  encoding: WavEncoding;
  /** Container size per sample in bits: 8/16/24/32 for PCM, 32/64 for float, 8 for G.711. */
  bitsPerSample: number;
  /** Significant bits (≤ bitsPerSample; e.g. 12-bit PCM in a 16-bit container, or 20 in 24). */
  validBitsPerSample: number;
  /** Whether the fmt chunk is WAVE_FORMAT_EXTENSIBLE (0xFFFE). */
  extensible: boolean;
  /** Speaker positions (extensible only; 0 = not specified). */
  channelMask: number;
}

export interface WavAudio {
  /** Frames per second. */
  sampleRate: number;
  /** One array per channel, all the same length. */
  channels: Int16Array[];
  /** The source encoding (after parsing) or the encoding to write. */
  format: WavFormat;
  /** True when the file was cut short and `allowTruncated` decoded only the frames present. */
  truncated: boolean;
}

/** What `serializeWav` needs: a `WavAudio`, or just rate + channels (then 16-bit PCM is written). */
export interface WavAudioInput {
  sampleRate: number;
  channels: readonly Int16Array[];
  format?: WavFormat;
}

export interface ParseWavOptions {
  /** Decode the whole frames present when the data chunk runs past the end of the file. Default: throw. */
  allowTruncated?: boolean;
}

export const WAV_PCM16: Readonly<WavFormat> = Object.freeze({ encoding: 'pcm', bitsPerSample: 16, validBitsPerSample: 16, extensible: false, channelMask: 0 });
export const WAV_ULAW: Readonly<WavFormat> = Object.freeze({ encoding: 'ulaw', bitsPerSample: 8, validBitsPerSample: 8, extensible: false, channelMask: 0 });
export const WAV_ALAW: Readonly<WavFormat> = Object.freeze({ encoding: 'alaw', bitsPerSample: 8, validBitsPerSample: 8, extensible: false, channelMask: 0 });

/** Telephony-relevant and sane bounds; anything outside is rejected rather than guessed at. */
export const WAV_MIN_SAMPLE_RATE = 1000;
export const WAV_MAX_SAMPLE_RATE = 768_000;
export const WAV_MAX_CHANNELS = 64;

const FORMAT_PCM = 0x0001;
const FORMAT_FLOAT = 0x0003;
const FORMAT_ALAW = 0x0006;
const FORMAT_ULAW = 0x0007;
const FORMAT_EXTENSIBLE = 0xfffe;
/** Bytes 2..15 of KSDATAFORMAT_SUBTYPE_* GUIDs: {XXXXXXXX-0000-0010-8000-00AA00389B71} in memory order. */
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
const UNKNOWN_SIZE = 0xffffffff;

/** Common tags we refuse, named so the error says what the file is (RFC 2361). */
const KNOWN_TAGS: Record<number, string> = {
  0x0002: 'Microsoft ADPCM',
  0x0011: 'IMA ADPCM',
  0x0022: 'DSP Group TrueSpeech',
  0x0031: 'GSM 6.10',
  0x0040: 'G.721 ADPCM',
  0x0050: 'MPEG',
  0x0055: 'MPEG layer 3',
  0x0064: 'G.726 ADPCM',
  0x0065: 'G.722 ADPCM',
  0x0161: 'Windows Media Audio',
  0x1610: 'AAC',
  0xf1ac: 'FLAC',
};

function malformed(detail: string): CardlineError {
  return new CardlineError('wav-malformed', detail);
}
function truncatedError(detail: string): CardlineError {
  return new CardlineError('wav-truncated', detail);
}
function unsupported(detail: string): CardlineError {
  return new CardlineError('wav-unsupported', detail);
}

/** A chunk id for an error message: quoted when printable ASCII, hex otherwise. */
function showId(bytes: Uint8Array, at: number): string {
  let s = '';
  for (let i = 0; i < 4; i++) {
    const c = bytes[at + i] as number;
    if (c < 0x20 || c > 0x7e) {
      return `0x${[0, 1, 2, 3].map((j) => (bytes[at + j] as number).toString(16).padStart(2, '0')).join('')}`;
    }
    s += String.fromCharCode(c);
  }
  return `'${s}'`;
}

function idIs(bytes: Uint8Array, at: number, id: string): boolean {
  return bytes[at] === id.charCodeAt(0) && bytes[at + 1] === id.charCodeAt(1)
    && bytes[at + 2] === id.charCodeAt(2) && bytes[at + 3] === id.charCodeAt(3);
}

function hex4(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}

interface ParsedFmt {
  format: WavFormat;
  channels: number;
  sampleRate: number;
  blockAlign: number;
}

function parseFmt(bytes: Uint8Array, view: DataView, at: number, size: number): ParsedFmt {
  if (size < 16) throw malformed(`fmt chunk is ${size} bytes, need at least 16`);
  let tag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bits = view.getUint16(at + 14, true);
  if (channels === 0) throw malformed('fmt chunk declares 0 channels');
  if (channels > WAV_MAX_CHANNELS) throw unsupported(`${channels} channels (at most ${WAV_MAX_CHANNELS})`);
  if (sampleRate === 0) throw malformed('fmt chunk declares a sample rate of 0 Hz');
  if (sampleRate < WAV_MIN_SAMPLE_RATE || sampleRate > WAV_MAX_SAMPLE_RATE) {
    throw unsupported(`sample rate ${sampleRate} Hz is outside ${WAV_MIN_SAMPLE_RATE}-${WAV_MAX_SAMPLE_RATE} Hz`);
  }

  let extensible = false;
  let container: number;
  let validBits: number;
  let channelMask = 0;
  if (tag === FORMAT_EXTENSIBLE) {
    if (size < 40) throw malformed(`fmt chunk is ${size} bytes; WAVE_FORMAT_EXTENSIBLE needs 40`);
    const cbSize = view.getUint16(at + 16, true);
    if (cbSize < 22) throw malformed(`WAVE_FORMAT_EXTENSIBLE cbSize is ${cbSize}, need at least 22`);
    extensible = true;
    validBits = view.getUint16(at + 18, true);
    channelMask = view.getUint32(at + 20, true);
    const guidTag = view.getUint16(at + 24, true);
    for (let i = 0; i < GUID_TAIL.length; i++) {
      if (bytes[at + 26 + i] !== GUID_TAIL[i]) throw unsupported('WAVE_FORMAT_EXTENSIBLE sub-format GUID is not a standard KSDATAFORMAT_SUBTYPE');
    }
    tag = guidTag;
    // In the extensible format wBitsPerSample is the container size and must be a multiple of 8.
    if (bits === 0 || bits % 8 !== 0) throw malformed(`WAVE_FORMAT_EXTENSIBLE container is ${bits} bits, not a multiple of 8`);
    container = bits;
    if (validBits === 0) validBits = bits;
    if (validBits > bits) throw malformed(`valid bits per sample (${validBits}) exceed the container (${bits})`);
  } else {
    // Plain PCM may declare e.g. 12 bits: samples are left-justified in the next whole byte count.
    if (bits === 0) throw malformed('fmt chunk declares 0 bits per sample');
    container = Math.ceil(bits / 8) * 8;
    validBits = bits;
  }

  let encoding: WavEncoding;
  switch (tag) {
    case FORMAT_PCM:
      encoding = 'pcm';
      if (container > 32) throw unsupported(`${validBits}-bit PCM (at most 32 bits)`);
      break;
    case FORMAT_FLOAT:
      encoding = 'float';
      if (container !== 32 && container !== 64) throw unsupported(`${bits}-bit IEEE float (only 32 and 64)`);
      validBits = container;
      break;
    case FORMAT_ALAW:
    case FORMAT_ULAW:
      encoding = tag === FORMAT_ALAW ? 'alaw' : 'ulaw';
      if (container !== 8) throw unsupported(`${encoding === 'alaw' ? 'A-law' : 'µ-law'} with ${bits} bits per sample (G.711 is 8)`);
      validBits = 8;
      break;
    default: {
      const name = KNOWN_TAGS[tag];
      throw unsupported(`format tag ${hex4(tag)}${name ? ` (${name})` : ''}; supported: PCM, IEEE float, A-law, µ-law`);
    }
  }

  const expectedAlign = channels * (container / 8);
  if (blockAlign !== expectedAlign) {
    throw malformed(`block align is ${blockAlign}, expected ${expectedAlign} (${channels} channels × ${container / 8} bytes)`);
  }
  return { format: { encoding, bitsPerSample: container, validBitsPerSample: validBits, extensible, channelMask }, channels, sampleRate, blockAlign };
}

/** Parse a WAV file into per-channel 16-bit samples. Throws `CardlineError` (wav-*) on any bad input. */
export function parseWav(bytes: Uint8Array, options: ParseWavOptions = {}): WavAudio {
  const len = bytes.length;
  if (len < 12) throw malformed(`file is ${len} bytes, shorter than the 12-byte RIFF/WAVE header`);
  if (idIs(bytes, 0, 'RIFX')) throw unsupported('big-endian RIFX files are not supported');
  if (idIs(bytes, 0, 'RF64') || idIs(bytes, 0, 'BW64')) throw unsupported(`${showId(bytes, 0)} (64-bit RIFF) files are not supported`);
  if (!idIs(bytes, 0, 'RIFF')) throw malformed(`file starts with ${showId(bytes, 0)}, not 'RIFF'`);
  if (!idIs(bytes, 8, 'WAVE')) throw malformed(`RIFF form type is ${showId(bytes, 8)}, not 'WAVE'`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  let fmt: ParsedFmt | null = null;
  let dataAt = -1;
  let dataSize = 0;
  let pos = 12;
  let overrun: string | null = null;
  while (pos + 8 <= len) {
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    if (idIs(bytes, pos, 'fmt ')) {
      if (fmt === null) {
        if (size > len - body) {
          throw truncatedError(`fmt chunk at offset ${pos} declares ${size} bytes but only ${len - body} remain`);
        }
        fmt = parseFmt(bytes, view, body, size);
      }
    } else if (idIs(bytes, pos, 'data')) {
      if (fmt === null) throw malformed(`data chunk at offset ${pos} comes before the fmt chunk`);
      dataAt = body;
      dataSize = size;
      break;
    }
    // Skip this chunk and its pad byte (RIFF: chunks are word-aligned).
    const next = body + size + (size & 1);
    if (next > len) {
      overrun = `${showId(bytes, pos)} chunk at offset ${pos} declares ${size} bytes but only ${len - body} remain`;
      break;
    }
    pos = next;
  }
  if (fmt === null) {
    if (overrun) throw truncatedError(`${overrun}, and no fmt chunk came before it`);
    throw malformed('no fmt chunk');
  }
  if (dataAt < 0) {
    if (overrun) throw truncatedError(`${overrun}, and no data chunk came before it`);
    throw malformed('no data chunk');
  }

  const available = len - dataAt;
  const { blockAlign } = fmt;
  let frames: number;
  let truncated = false;
  if (dataSize === UNKNOWN_SIZE) {
    frames = Math.floor(available / blockAlign);
  } else if (dataSize > available) {
    if (!options.allowTruncated) {
      throw truncatedError(`data chunk declares ${dataSize} bytes but only ${available} remain`);
    }
    frames = Math.floor(available / blockAlign);
    truncated = true;
  } else {
    if (dataSize % blockAlign !== 0) {
      throw malformed(`data chunk is ${dataSize} bytes, not a multiple of the ${blockAlign}-byte frame (${fmt.channels} channels × ${blockAlign / fmt.channels} bytes)`);
    }
    frames = dataSize / blockAlign;
  }

  const channels = decodeFrames(bytes, view, dataAt, frames, fmt);
  return { sampleRate: fmt.sampleRate, channels, format: fmt.format, truncated };
}

function clip16(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

/** Local copies of the G.711 decode tables, so the per-sample loop is a plain array read. */
const ULAW_TABLE = Int16Array.from({ length: 256 }, (_, c) => ulawToLinear(c));
const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, c) => alawToLinear(c));

function decodeFrames(bytes: Uint8Array, view: DataView, at: number, frames: number, fmt: ParsedFmt): Int16Array[] {
  const nch = fmt.channels;
  const out: Int16Array[] = [];
  for (let c = 0; c < nch; c++) out.push(new Int16Array(frames));
  const { encoding, bitsPerSample } = fmt.format;
  const bps = bitsPerSample / 8;
  for (let c = 0; c < nch; c++) {
    const dst = out[c] as Int16Array;
    let p = at + c * bps;
    const step = fmt.blockAlign;
    if (encoding === 'ulaw' || encoding === 'alaw') {
      const table = encoding === 'ulaw' ? ULAW_TABLE : ALAW_TABLE;
      for (let i = 0; i < frames; i++, p += step) dst[i] = table[bytes[p] as number] as number;
    } else if (encoding === 'float') {
      for (let i = 0; i < frames; i++, p += step) {
        const f = bps === 4 ? view.getFloat32(p, true) : view.getFloat64(p, true);
        // Full scale is ±1.0 (clipped beyond); NaN carries no signal and becomes silence.
        dst[i] = Number.isNaN(f) ? 0 : clip16(Math.round(f * 32768));
      }
    } else if (bps === 1) {
      for (let i = 0; i < frames; i++, p += step) dst[i] = ((bytes[p] as number) - 128) << 8;
    } else if (bps === 2) {
      for (let i = 0; i < frames; i++, p += step) dst[i] = view.getInt16(p, true);
    } else if (bps === 3) {
      for (let i = 0; i < frames; i++, p += step) {
        const v = ((bytes[p] as number) | ((bytes[p + 1] as number) << 8) | ((bytes[p + 2] as number) << 16)) << 8 >> 8;
        dst[i] = clip16((v + 128) >> 8); // round half up to 16 bits
      }
    } else {
      for (let i = 0; i < frames; i++, p += step) dst[i] = clip16(Math.floor((view.getInt32(p, true) + 32768) / 65536));
    }
  }
  return out;
}

function checkFormat(f: WavFormat): void {
  const bad = (d: string) => new CardlineError('audio-invalid-argument', `cannot write WAV: ${d}`);
  const { encoding, bitsPerSample: bits, validBitsPerSample: valid } = f;
  if (encoding === 'pcm') {
    if (bits !== 8 && bits !== 16 && bits !== 24 && bits !== 32) throw bad(`PCM container of ${bits} bits`);
    if (!Number.isInteger(valid) || valid < 1 || valid > bits) throw bad(`${valid} valid bits in a ${bits}-bit container`);
    // A plain fmt chunk only carries the significant bits; the reader derives the container from them.
    if (!f.extensible && Math.ceil(valid / 8) * 8 !== bits) throw bad(`${valid} valid bits need WAVE_FORMAT_EXTENSIBLE in a ${bits}-bit container`);
  } else if (encoding === 'float') {
    if (bits !== 32 && bits !== 64) throw bad(`${bits}-bit float`);
  } else if (encoding === 'alaw' || encoding === 'ulaw') {
    if (bits !== 8) throw bad(`G.711 with ${bits} bits`);
  } else {
    throw bad('unknown encoding');
  }
  if (!Number.isInteger(f.channelMask) || f.channelMask < 0 || f.channelMask > 0xffffffff) throw bad('channel mask out of range');
}

function tagOf(encoding: WavEncoding): number {
  return encoding === 'pcm' ? FORMAT_PCM : encoding === 'float' ? FORMAT_FLOAT : encoding === 'alaw' ? FORMAT_ALAW : FORMAT_ULAW;
}

/**
 * Serialise to a WAV file in `w.format` (default 16-bit PCM). Samples are scaled from 16 bits into the
 * container (8-bit PCM and G.711 quantise; wider PCM and float are exact). Non-PCM formats get an 18-byte
 * (or 40-byte extensible) fmt chunk and the `fact` chunk the WAVE spec requires for them.
 */
export function serializeWav(w: WavAudioInput): Uint8Array {
  const bad = (d: string) => new CardlineError('audio-invalid-argument', `cannot write WAV: ${d}`);
  const format = w.format ?? WAV_PCM16;
  checkFormat(format);
  const nch = w.channels.length;
  if (nch < 1 || nch > WAV_MAX_CHANNELS) throw bad(`${nch} channels (1-${WAV_MAX_CHANNELS})`);
  if (!Number.isInteger(w.sampleRate) || w.sampleRate < WAV_MIN_SAMPLE_RATE || w.sampleRate > WAV_MAX_SAMPLE_RATE) {
    throw bad(`sample rate ${w.sampleRate} Hz (${WAV_MIN_SAMPLE_RATE}-${WAV_MAX_SAMPLE_RATE})`);
  }
  const frames = (w.channels[0] as Int16Array).length;
  for (const ch of w.channels) if (ch.length !== frames) throw bad('channels have different lengths');

  const bps = format.bitsPerSample / 8;
  const blockAlign = nch * bps;
  const dataBytes = frames * blockAlign;
  const isPcm = format.encoding === 'pcm';
  const fmtSize = format.extensible ? 40 : isPcm ? 16 : 18;
  const factSize = isPcm ? 0 : 12;
  const total = 12 + 8 + fmtSize + factSize + 8 + dataBytes + (dataBytes & 1);
  if (total - 8 > 0xffffffff) throw bad(`${dataBytes} bytes of audio exceed the 4 GiB RIFF limit`);

  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  const ascii = (at: number, s: string) => { for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i); };
  ascii(0, 'RIFF');
  view.setUint32(4, total - 8, true);
  ascii(8, 'WAVE');
  let p = 12;
  ascii(p, 'fmt ');
  view.setUint32(p + 4, fmtSize, true);
  const f = p + 8;
  const tag = tagOf(format.encoding);
  view.setUint16(f, format.extensible ? FORMAT_EXTENSIBLE : tag, true);
  view.setUint16(f + 2, nch, true);
  view.setUint32(f + 4, w.sampleRate, true);
  view.setUint32(f + 8, w.sampleRate * blockAlign, true);
  view.setUint16(f + 12, blockAlign, true);
  // Plain PCM declares its significant bits (e.g. 12); extensible declares the container and valid bits apart.
  view.setUint16(f + 14, format.extensible || !isPcm ? format.bitsPerSample : format.validBitsPerSample, true);
  if (format.extensible) {
    view.setUint16(f + 16, 22, true);
    view.setUint16(f + 18, format.validBitsPerSample, true);
    view.setUint32(f + 20, format.channelMask, true);
    view.setUint16(f + 24, tag, true);
    out.set(GUID_TAIL, f + 26);
  } else if (!isPcm) {
    view.setUint16(f + 16, 0, true); // cbSize = 0
  }
  p = f + fmtSize;
  if (!isPcm) {
    ascii(p, 'fact');
    view.setUint32(p + 4, 4, true);
    view.setUint32(p + 8, frames, true);
    p += 12;
  }
  ascii(p, 'data');
  view.setUint32(p + 4, dataBytes, true);
  encodeFrames(out, view, p + 8, frames, w.channels, format, blockAlign);
  return out;
}

function encodeFrames(out: Uint8Array, view: DataView, at: number, frames: number, channels: readonly Int16Array[], format: WavFormat, blockAlign: number): void {
  const bps = format.bitsPerSample / 8;
  const bits = format.bitsPerSample;
  // Bits below the significant ones must be zero (left-justified samples): round to the coarser grid.
  const lowBits = format.encoding === 'pcm' ? bits - format.validBitsPerSample : 0;
  for (let c = 0; c < channels.length; c++) {
    const src = channels[c] as Int16Array;
    let p = at + c * bps;
    if (format.encoding === 'ulaw' || format.encoding === 'alaw') {
      if (channels.length === 1) {
        (format.encoding === 'ulaw' ? ulawEncode : alawEncode)(src, out.subarray(p, p + frames));
      } else {
        const codes = (format.encoding === 'ulaw' ? ulawEncode : alawEncode)(src);
        for (let i = 0; i < frames; i++, p += blockAlign) out[p] = codes[i] as number;
      }
    } else if (format.encoding === 'float') {
      for (let i = 0; i < frames; i++, p += blockAlign) {
        if (bps === 4) view.setFloat32(p, (src[i] as number) / 32768, true);
        else view.setFloat64(p, (src[i] as number) / 32768, true);
      }
    } else if (lowBits === 0 && bps >= 2) {
      // Exact: the 16-bit value shifted up into the container.
      for (let i = 0; i < frames; i++, p += blockAlign) {
        const v = src[i] as number;
        if (bps === 2) view.setInt16(p, v, true);
        else if (bps === 3) { out[p] = 0; out[p + 1] = v & 0xff; out[p + 2] = (v >> 8) & 0xff; }
        else view.setInt32(p, v * 65536, true);
      }
    } else {
      const scale = 2 ** (bits - 16);
      const q = 2 ** lowBits;
      const top = Math.floor((2 ** (bits - 1) - 1) / q) * q;
      for (let i = 0; i < frames; i++, p += blockAlign) {
        // to the container's scale, then onto the grid of significant bits (never above full scale)
        const v = Math.min(Math.round((src[i] as number) * scale / q) * q, top);
        if (bps === 1) out[p] = v + 128; // 8-bit PCM is unsigned
        else if (bps === 2) view.setInt16(p, v, true);
        else if (bps === 3) { out[p] = v & 0xff; out[p + 1] = (v >> 8) & 0xff; out[p + 2] = (v >> 16) & 0xff; }
        else view.setInt32(p, v, true);
      }
    }
  }
}

export interface DecodeWav8kOptions extends ParseWavOptions {
  /** Which channel to analyse (0-based), or 'mix' for the average of all channels. Default 0. */
  channel?: number | 'mix';
}

/**
 * Parse a WAV file and return one channel (or the mix) at 8 kHz, resampled with the anti-alias filter of
 * `resample` when the file is at another rate. `source` is the full parsed file (all channels, native rate).
 */
export function decodeWavChannel8k(bytes: Uint8Array, options: DecodeWav8kOptions = {}): { samples: Int16Array; source: WavAudio } {
  const source = parseWav(bytes, options);
  const samples = pickChannel(source, options.channel ?? 0);
  return { samples: source.sampleRate === 8000 ? samples : resample(samples, source.sampleRate, 8000), source };
}

/** One channel of a parsed file, or the rounded average of all channels for 'mix'. */
export function pickChannel(audio: Pick<WavAudio, 'channels'>, channel: number | 'mix'): Int16Array {
  const n = audio.channels.length;
  if (channel === 'mix') {
    if (n === 1) return audio.channels[0] as Int16Array;
    const frames = (audio.channels[0] as Int16Array).length;
    const out = new Int16Array(frames);
    for (let i = 0; i < frames; i++) {
      let s = 0;
      for (let c = 0; c < n; c++) s += (audio.channels[c] as Int16Array)[i] as number;
      out[i] = Math.round(s / n);
    }
    return out;
  }
  if (!Number.isInteger(channel) || channel < 0 || channel >= n) {
    throw new CardlineError('audio-invalid-argument', `channel ${String(channel)} does not exist (the file has ${n} channel${n === 1 ? '' : 's'}, numbered from 0)`);
  }
  return audio.channels[channel] as Int16Array;
}
