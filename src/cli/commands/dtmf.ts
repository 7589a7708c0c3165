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
 * Where the masker masks is decided per analysis block, independent of the look-ahead; the option is
 * kept so a file can be masked with exactly the settings of a live call.
 */
import { renameSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CardlineError } from '../../errors/index.ts';
import {
  detectDtmf, DtmfMasker, generateSequence, isDtmfDigit, MIN_LOOKAHEAD_SAMPLES, parseWav, pickChannel, renderMask, resample,
  SAMPLE_RATE, serializeWav,
  WAV_ALAW, WAV_MAX_SAMPLE_RATE, WAV_MIN_SAMPLE_RATE, WAV_PCM16, WAV_ULAW,
  type MaskerSpan, type MaskMode, type MaskSpan, type WavAudio, type WavFormat,
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

/** Shortest look-ahead the masker accepts (two analysis blocks), in ms. */
const MIN_LOOKAHEAD_MS = (MIN_LOOKAHEAD_SAMPLES * 1000) / SAMPLE_RATE;

const ms = (samples: number): string => ((samples * 1000) / SAMPLE_RATE).toFixed(1);

function describeFormat(f: WavFormat, rate: number, channels: number): string {
  const enc = f.encoding === 'ulaw' ? 'µ-law' : f.encoding === 'alaw' ? 'A-law'
    : f.encoding === 'float' ? `${f.bitsPerSample}-bit float` : `${f.validBitsPerSample}-bit PCM`;
  return `${enc}, ${rate} Hz, ${channels} channel${channels === 1 ? '' : 's'}`;
}

/**
 * Combines the spans DtmfMasker reported on several channels of one file into one list in the 8 kHz
 * timeline: overlapping spans merge (their union is masked), and a merged span is split at the key presses
 * of the channel that saw the most of them inside it, so `renderMask` gives one beep per key press, as the
 * streaming masker does (echo of a key on another channel adds no second beep). Spans that merely touch
 * stay separate: that is how the masker itself splits a run of several key presses.
 */
export function combineChannelSpans(perChannel: readonly (readonly MaskSpan[])[]): MaskerSpan[] {
  const all = perChannel
    .flatMap((spans, channel) => spans.map((s) => ({
      start: s.startSample, end: s.endSample, channel,
      keyPress: !('keyPress' in s && (s as MaskerSpan).keyPress === false),
    })))
    .filter((s) => s.end > s.start)
    .sort((a, b) => a.start - b.start || a.channel - b.channel);
  const out: MaskerSpan[] = [];
  let i = 0;
  while (i < all.length) {
    const first = all[i] as (typeof all)[number];
    let end = first.end;
    let j = i + 1;
    while (j < all.length && (all[j] as (typeof all)[number]).start < end) end = Math.max(end, (all[j++] as (typeof all)[number]).end);
    const group = all.slice(i, j);
    // the channel with the most key presses in this group (lowest channel number on a tie)
    const counts = new Map<number, number>();
    for (const s of group) if (s.keyPress) counts.set(s.channel, (counts.get(s.channel) ?? 0) + 1);
    let best = -1;
    let bestCount = 0;
    for (const [ch, n] of counts) if (n > bestCount || (n === bestCount && ch < best)) { best = ch; bestCount = n; }
    if (bestCount === 0) {
      out.push({ startSample: first.start, endSample: end, keyPress: false });
    } else {
      const starts = group.filter((s) => s.keyPress && s.channel === best).map((s) => s.start);
      for (let k = 0; k < starts.length; k++) {
        out.push({ startSample: k === 0 ? first.start : (starts[k] as number), endSample: k + 1 < starts.length ? (starts[k + 1] as number) : end, keyPress: true });
      }
    }
    i = j;
  }
  return out;
}

// ------------------------------------------------------------------------------------------- commands
interface DetectOptions { json?: boolean; channel: number | 'mix'; allowTruncated?: boolean }
interface MaskOptions { json?: boolean; channel: number | 'all'; mode: MaskMode; lookaheadMs: number; allowTruncated?: boolean }
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

function runMask(input: string, output: string, opts: MaskOptions, io: CliIo): void {
  const wav = readWav(input, opts.allowTruncated ?? false, io);
  const rate = wav.sampleRate;
  if (opts.channel !== 'all') checkChannel(opts.channel, wav);
  const analysed = opts.channel === 'all' ? wav.channels.map((_, i) => i) : [opts.channel];

  // 1. Run the streaming masker over the 8 kHz version of every analysed channel, collecting the spans it
  //    masks (input timeline). Echo of the caller's keys on the agent leg is found and masked too.
  const perChannel = analysed.map((c) => {
    const spans: MaskSpan[] = [];
    const masker = new DtmfMasker({ mode: opts.mode, lookaheadMs: opts.lookaheadMs, onSpan: (s) => spans.push({ ...s }) });
    masker.process(to8k(wav.channels[c] as Int16Array, rate));
    masker.flush();
    return spans;
  });
  const spans = combineChannelSpans(perChannel);

  // 2. Render the union into EVERY channel at the native rate (renderMask scales the 8 kHz spans), then
  //    drop the look-ahead delay: OUT is time-aligned with IN and has its length.
  const masked = wav.channels.map((ch, c) => {
    const rendered = renderMask(ch, rate, spans, { mode: opts.mode, lookaheadMs: opts.lookaheadMs, seed: 0x5eed + c });
    const delay = rendered.length - ch.length;
    return rendered.slice(delay, delay + ch.length);
  });
  writeFileAtomic(output, serializeWav({ sampleRate: rate, channels: masked, format: wav.format }));

  for (const s of spans) {
    io.stdout(opts.json
      ? `{"startMs":${ms(s.startSample)},"endMs":${ms(s.endSample)}}\n`
      : `masked  ${ms(s.startSample)}–${ms(s.endSample)} ms\n`);
  }
  const n = wav.channels.length;
  const scope = opts.channel === 'all' ? `all ${n} channel${n === 1 ? '' : 's'}` : `channel ${opts.channel}`;
  io.stderr(`cardline: masked ${spans.length} span${spans.length === 1 ? '' : 's'} found in ${scope} (mode ${opts.mode}); wrote ${output} (${describeFormat(wav.format, rate, n)})\n`);
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
    .command('mask')
    .description('write a copy of a WAV file with every DTMF tone replaced, in the same format')
    .argument('<in>', 'input WAV file')
    .argument('<out>', 'output WAV file (same encoding, rate, channels and length as <in>)')
    .addOption(new Option('--mode <mode>', 'what replaces a tone: a flat beep, silence, or comfort noise').choices(['tone', 'silence', 'noise']).default('tone'))
    .option('--json', 'print masked spans as JSON lines {"startMs":…,"endMs":…}')
    .addOption(new Option('--lookahead-ms <ms>', `the masker's look-ahead, as on a live call (at least ${MIN_LOOKAHEAD_MS} ms)`).argParser(parseNumber('--lookahead-ms', MIN_LOOKAHEAD_MS, 1000)).default(30))
    .addOption(new Option('--channel <n|all>', 'channel(s) to analyse; spans found are masked in every channel').argParser(parseChannel('all')).default('all'))
    .option('--allow-truncated', 'mask the whole frames present in a file that was cut short (warns on stderr)')
    .addHelpText('after', `
Every channel is analysed by default and the union of the spans is masked in all channels, because an
agent leg can carry an echo of the caller's tones. Files not at 8 kHz are analysed on an 8 kHz copy and
masked at their native rate. OUT is time-aligned with IN and has its length: a live call hears the
audio --lookahead-ms late, but a file needs no delay, so it is removed. Each key press becomes one beep
(--mode tone), silence, or comfort noise at the surrounding level (--mode noise).
stdout lists the masked spans, never the digits; a summary goes to stderr.

Examples:
  $ cardline dtmf mask call.wav call-masked.wav
  $ cardline dtmf mask call.wav call-masked.wav --mode noise --json --channel 0
${EXIT_CODES_HELP}`)
    .action((input: string, output: string, opts: MaskOptions) => runMask(input, output, opts, io));

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
