/**
 * `cardline dtmf …` — detect, mask and generate DTMF key presses in WAV files.
 *
 * Output contract (scripts depend on it):
 *  - stdout carries only the results (one line per digit or span; JSON Lines with --json);
 *    notes and warnings go to stderr;
 *  - exit 0 ok, 2 usage error (bad option, unknown channel, invalid DIGITS), 1 runtime error
 *    (unreadable or malformed WAV, write failure) with a one-line message.
 *
 * Offline masking is time-aligned: a file has no real-time constraint, so `mask` drops the masker's
 * look-ahead delay and OUT has exactly the length and timeline of IN (spans map 1:1 onto the input).
 * The look-ahead still matters: it is how far before the detected onset the mask begins.
 */
import { renameSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CardlineError } from '../../errors/index.ts';
import {
  detectDtmf, generateSequence, isDtmfDigit, parseWav, pickChannel, resample, SAMPLE_RATE, serializeWav,
  WAV_ALAW, WAV_MAX_SAMPLE_RATE, WAV_MIN_SAMPLE_RATE, WAV_PCM16, WAV_ULAW,
  type MaskSpan, type WavAudio, type WavFormat,
} from '../../dsp/index.ts';
import type { CliIo } from '../main.ts';

const EXIT_CODES_HELP = `
Exit codes: 0 ok, 2 usage error (bad option or argument), 1 runtime error (unreadable or malformed file).`;

// ------------------------------------------------------------------------------------------- parsers
function parseChannel(allowed: 'mix' | 'all') {
  return (value: string): number | 'mix' | 'all' => {
    if (value === allowed) return allowed;
    if (/^\d{1,2}$/.test(value)) return Number(value);
    throw new InvalidArgumentError(`expected a channel number (0, 1, …) or '${allowed}'`);
  };
}

function parseNumber(name: string, min: number, max: number, integer = false) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
    }
    return n;
  };
}

// ------------------------------------------------------------------------------------------- helpers
function readWav(path: string, allowTruncated: boolean, io: CliIo): WavAudio {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new CardlineError('io-error', `cannot read ${path}: ${systemReason(e)}`);
  }
  const wav = parseWav(bytes, { allowTruncated });
  if (wav.truncated) io.stderr(`cardline: warning: ${path} is cut short; analysed the ${wav.channels[0]?.length ?? 0} whole frames present\n`);
  return wav;
}

/** Write via a temporary file in the same folder, so a failure never leaves half a WAV behind. */
function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new CardlineError('io-error', `cannot write ${path}: ${systemReason(e)}`);
  }
}

function systemReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string') {
    const reasons: Record<string, string> = {
      ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory',
      ENOTDIR: 'a parent is not a directory', ENOSPC: 'no space left on device', EROFS: 'read-only file system',
    };
    return reasons[err.code] ?? err.code;
  }
  return e instanceof Error ? (e.message.split('\n')[0] ?? 'unknown error') : 'unknown error';
}

function checkChannel(channel: number, wav: WavAudio): void {
  const n = wav.channels.length;
  if (channel >= n) {
    throw new CardlineError('usage', `--channel ${channel}: the file has ${n} channel${n === 1 ? '' : 's'} (numbered from 0)`);
  }
}

function to8k(samples: Int16Array, rate: number): Int16Array {
  return rate === SAMPLE_RATE ? samples : resample(samples, rate, SAMPLE_RATE);
}

const ms = (samples: number): string => ((samples * 1000) / SAMPLE_RATE).toFixed(1);

function describeFormat(f: WavFormat, rate: number, channels: number): string {
  const enc = f.encoding === 'ulaw' ? 'µ-law' : f.encoding === 'alaw' ? 'A-law'
    : f.encoding === 'float' ? `${f.bitsPerSample}-bit float` : `${f.validBitsPerSample}-bit PCM`;
  return `${enc}, ${rate} Hz, ${channels} channel${channels === 1 ? '' : 's'}`;
}

/** Sorted union of spans (overlapping or touching spans merge). */
export function unionSpans(spans: readonly MaskSpan[]): MaskSpan[] {
  const sorted = [...spans].sort((a, b) => a.startSample - b.startSample);
  const out: MaskSpan[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.startSample <= last.endSample) last.endSample = Math.max(last.endSample, s.endSample);
    else out.push({ startSample: s.startSample, endSample: s.endSample });
  }
  return out;
}

// ------------------------------------------------------------------------------------------- commands
interface DetectOptions { json?: boolean; channel: number | 'mix'; allowTruncated?: boolean }
interface GenerateOptions { on: number; off: number; level: number; twist: number; rate: number; encoding: 'pcm16' | 'ulaw' | 'alaw' }

function runDetect(file: string, opts: DetectOptions, io: CliIo): void {
  const wav = readWav(file, opts.allowTruncated ?? false, io);
  if (opts.channel !== 'mix') checkChannel(opts.channel, wav);
  const samples = pickChannel(wav, opts.channel);
  if (wav.channels.length > 1 && opts.channel === 0) {
    io.stderr(`cardline: note: analysing channel 0 of ${wav.channels.length} (choose with --channel N or --channel mix)\n`);
  }
  const events = detectDtmf(to8k(samples, wav.sampleRate));
  // The detector's timeline is the 8 kHz one; the resampler is time-aligned, so these are file times.
  for (const e of events) {
    io.stdout(opts.json
      ? `{"digit":${JSON.stringify(e.digit)},"startMs":${ms(e.startSample)},"endMs":${ms(e.endSample)}}\n`
      : `${e.digit}  ${ms(e.startSample)}–${ms(e.endSample)} ms\n`);
  }
}

function runGenerate(cmd: Command, digitsArg: string, output: string, opts: GenerateOptions, io: CliIo): void {
  const digits = digitsArg.toUpperCase();
  if (digits.length === 0) cmd.error('cardline: error [usage]: DIGITS is empty', { exitCode: 2, code: 'usage' });
  for (let i = 0; i < digits.length; i++) {
    if (!isDtmfDigit(digits[i] ?? '')) {
      // The character is not echoed: DIGITS may be card data typed on a command line.
      const err = new CardlineError('dtmf-invalid-digit', `character ${i + 1} of DIGITS`);
      cmd.error(`cardline: error [${err.code}]: ${err.message}`, { exitCode: 2, code: err.code });
    }
  }
  const { samples } = generateSequence(digits, { onMs: opts.on, offMs: opts.off, levelDbm0: opts.level, twistDb: opts.twist });
  // The generator works at 8 kHz; DTMF tones lie far inside the resampler's passband (flat to 0.425·8 kHz).
  const pcm = opts.rate === SAMPLE_RATE ? samples : resample(samples, SAMPLE_RATE, opts.rate);
  const format = opts.encoding === 'ulaw' ? WAV_ULAW : opts.encoding === 'alaw' ? WAV_ALAW : WAV_PCM16;
  writeFileAtomic(output, serializeWav({ sampleRate: opts.rate, channels: [pcm], format }));
  io.stdout(`wrote ${output}: ${digits.length} key press${digits.length === 1 ? '' : 'es'}, ${(pcm.length / opts.rate).toFixed(3)} s (${describeFormat(format, opts.rate, 1)})\n`);
}

// ------------------------------------------------------------------------------------------- registration
export function registerDtmfCommands(program: Command, io: CliIo): void {
  const dtmf = program
    .command('dtmf')
    .description('detect, mask and generate DTMF tones in WAV files')
    .addHelpText('after', `
Examples:
  $ cardline dtmf generate 4111111111111111 card.wav --encoding ulaw
  $ cardline dtmf detect card.wav --json
  $ cardline dtmf mask call.wav call-masked.wav --mode tone
${EXIT_CODES_HELP}`);

  dtmf
    .command('detect')
    .description('list the DTMF key presses in a WAV file, one per line (digit, start–end)')
    .argument('<file>', 'WAV file: PCM 8/16/24/32-bit, float, µ-law or A-law, any rate (analysed at 8 kHz)')
    .option('--json', 'one JSON object per line: {"digit":"5","startMs":1230.0,"endMs":1290.0}')
    .addOption(new Option('--channel <n|mix>', 'channel to analyse (0-based), or mix of all channels').argParser(parseChannel('mix')).default(0))
    .option('--allow-truncated', 'analyse the whole frames present in a file that was cut short (warns on stderr)')
    .addHelpText('after', `
Output: "5  1230.0–1290.0 ms" per key press (times from the start of the file); nothing else on stdout.

Examples:
  $ cardline dtmf detect call.wav
  $ cardline dtmf detect call.wav --json --channel 1
${EXIT_CODES_HELP}`)
    .action((file: string, opts: DetectOptions) => runDetect(file, opts, io));

  dtmf
    .command('generate')
    .description('write a WAV file of DTMF key presses')
    .argument('<digits>', 'keys to press: 0-9 * # A B C D (a-d accepted)')
    .argument('<out>', 'output WAV file')
    .addOption(new Option('--on <ms>', 'tone length per key').argParser(parseNumber('--on', 1, 60_000)).default(80))
    .addOption(new Option('--off <ms>', 'silence between keys (also before the first and after the last)').argParser(parseNumber('--off', 0, 60_000)).default(80))
    .addOption(new Option('--level <dBm0>', 'level of each tone (low group), dBm0').argParser(parseNumber('--level', -80, 3)).default(-10))
    .addOption(new Option('--twist <dB>', 'high-group level minus low-group level').argParser(parseNumber('--twist', -20, 20)).default(0))
    .addOption(new Option('--rate <Hz>', 'sample rate of the file').argParser(parseNumber('--rate', WAV_MIN_SAMPLE_RATE, WAV_MAX_SAMPLE_RATE, true)).default(SAMPLE_RATE))
    .addOption(new Option('--encoding <enc>', 'sample encoding').choices(['pcm16', 'ulaw', 'alaw']).default('pcm16'))
    .addHelpText('after', `
Invalid DIGITS are a usage error (exit 2, code dtmf-invalid-digit); the message gives the position of the
offending character, never the digits.

Examples:
  $ cardline dtmf generate 123# keys.wav
  $ cardline dtmf generate 4111111111111111 card.wav --on 60 --off 60 --level -20 --encoding alaw
  $ cardline dtmf generate 5 five.wav --rate 48000 --twist 4
${EXIT_CODES_HELP}`)
    .action(function (this: Command, digits: string, output: string, opts: GenerateOptions) {
      runGenerate(this, digits, output, opts, io);
    });
}
