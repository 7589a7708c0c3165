/**
 * The real-audio test corpus, produced at test time (nothing binary is committed):
 *   - speech: espeak-ng in several languages, voices, pitches and speeds, saying digits, numbers,
 *     card-payment dialogue and long vowels — the talk-off material of ITU-T Q.24 §4 / Bellcore
 *     LSSGR (speech must not operate a DTMF receiver) and the "speech must pass unmasked" material;
 *   - music: sox-synthesised chords whose notes sit near DTMF row/column pairs, sweeps, plucked,
 *     square, triangle and sawtooth instruments, tremolo, reverb and noise.
 * All audio is 8 kHz mono 16-bit (Int16Array). sox does every rate conversion with its `rate -v`
 * (very-high-quality polyphase, proper anti-alias filtering); `bandLimit` adds a 300–3400 Hz band-pass
 * like an analogue phone line (ITU-T G.712 pass band).
 *
 * Generation takes a few seconds and is cached per process (each option set once).
 *
 * Fairness rule for the music set (why some "obvious" clips are *not* in it): a talk-off clip must be
 * something a Q.24 receiver may reject. Two pure sines that each sit within ±1.5 % of a row and a column
 * frequency, at a legal twist, for ≥ 40 ms ARE a DTMF signal — a receiver must operate on them — and
 * between ±1.5 % and ±3.5 % operation is implementation-defined. So pure-sine two-note dyads near DTMF
 * pairs are kept apart in `nearDtmfDyads()` (information only), while the music set uses chords of three
 * or more equal-level notes, harmonic-rich timbres, fast sweeps, reverb and noise around those notes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromS16le, concat, silence } from './audio.ts';

export * from './audio.ts';

export interface Clip {
  /** Human label (voice/instrument), safe to print. */
  name: string;
  samples: Int16Array;
}

export interface SpeechOptions {
  /** Band-limit 300–3400 Hz like a phone line (default false: full 0–4 kHz after anti-alias). */
  bandLimit?: boolean;
}

export interface MusicOptions {
  bandLimit?: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Process plumbing: one temp dir per process, at most two tools running at once (2-core machines).

let workDir: string | null = null;
function dir(): string {
  if (workDir === null) {
    workDir = mkdtempSync(join(tmpdir(), 'cardline-corpus-'));
    const d = workDir;
    process.once('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  return workDir;
}

let running = 0;
const waiting: (() => void)[] = [];
async function run(cmd: string, args: string[]): Promise<void> {
  while (running >= 2) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(cmd, args, { maxBuffer: 1 << 20 }, (err, _stdout, stderr) => {
        if (err) reject(new Error(`${cmd} failed: ${String(stderr).trim() || err.message}`));
        else resolve();
      });
    });
  } finally {
    running--;
    waiting.shift()?.();
  }
}

let seq = 0;
function tmpName(ext: string): string {
  seq++;
  return join(dir(), `c${process.pid}-${seq}.${ext}`);
}

/** sox output side: 8 kHz mono signed 16-bit raw. */
const RAW8K = ['-t', 'raw', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer'];

async function soxToRaw(inputArgs: string[], effects: string[]): Promise<Int16Array> {
  const out = tmpName('raw');
  // -R: repeatable (fixed seeds for noise synthesis and dither), so every run tests the same audio.
  await run('sox', ['-R', ...inputArgs, ...RAW8K, out, ...effects]);
  const buf = readFileSync(out);
  rmSync(out, { force: true });
  return fromS16le(buf);
}

const cache = new Map<string, Promise<Clip[]>>();
function cached(key: string, make: () => Promise<Clip[]>): Promise<Clip[]> {
  let p = cache.get(key);
  if (!p) {
    p = make();
    cache.set(key, p);
  }
  return p;
}

// ---------------------------------------------------------------------------------------------------
// Speech

interface SpeechSpec {
  voice: string;
  pitch: number; // espeak-ng -p 0..99
  speed: number; // espeak-ng -s words per minute
  amplitude: number; // espeak-ng -a 0..200
  text: string;
}

const EN_CARD = [
  'Thank you for calling. Could you please read me the long number on the front of your card?',
  'Sure, it is four one one one, one one one one, one one one one, one one one one.',
  'And the expiry date? Oh nine, twenty seven. The three digit code on the back is one two three.',
  'Your total comes to one thousand two hundred and thirty four pounds and fifty six pence.',
].join(' ');
const EN_NUMBERS = [
  'Zero, one, two, three, four, five, six, seven, eight, nine, ten, eleven, twelve.',
  'Seven hundred and seventy, eight hundred and fifty two, nine hundred and forty one, twelve oh nine.',
  'My phone number is oh seven nine four six, three three six one four seven seven, extension sixteen thirty three.',
].join(' ');
const EN_VOWELS = [
  'Hellooooo? Is anyone there? Nooooo, I said the euuuuro account, not the pound one.',
  'Ahhhhh, I see. Oooooh, wonderful. Yeeees, pleeeease. Mmmmmm, let me think. Weeeell, alright.',
  'Eeeeeeeee. Aaaaaaaaah. Ooooooooh. Iiiiiiiii. Uuuuuuuuu.',
].join(' ');
const EN_CHAT = [
  'I have been waiting on hold for twenty minutes listening to that dreadful music.',
  'Could you check whether the payment of nineteen ninety nine went through on the third of March?',
  'The reference is A B C D, nine eight seven six five four, hash, star, zero.',
].join(' ');
const DE = 'Meine Kartennummer ist vier eins eins eins, eins eins eins eins. Das Ablaufdatum ist null neun sieben und zwanzig. Vielen Dank, auf Wiederhören! Jaaaa, neeeein, sooo.';
const FR = "Mon numéro de carte est quatre un un un, un un un un. La date d'expiration est zéro neuf vingt-sept. Merci beaucoup, au revoir! Ouiiii, d'accooord.";
const ES = 'Mi número de tarjeta es cuatro uno uno uno, uno uno uno uno. La fecha de caducidad es cero nueve veintisiete. ¡Muchas gracias, hasta luego! Siiii, claaaaro.';
const IT = 'Il mio numero di carta è quattro uno uno uno. La data di scadenza è zero nove ventisette. Grazie mille, arrivederci! Sììì, certooo.';
const NL = 'Mijn kaartnummer is vier een een een, een een een een. Dank u wel, tot ziens! Jaaaa, neeee.';

/**
 * Voices chosen to cover male, female and child-like fundamentals (≈ 80–350 Hz): the higher the
 * pitch, the sparser and stronger the harmonics that can land on DTMF frequencies.
 */
const SPEECH_SPECS: SpeechSpec[] = [
  { voice: 'en-us', pitch: 50, speed: 160, amplitude: 120, text: EN_CARD },
  { voice: 'en-gb', pitch: 35, speed: 150, amplitude: 120, text: EN_NUMBERS },
  { voice: 'en+f3', pitch: 80, speed: 170, amplitude: 130, text: EN_CARD },
  { voice: 'en-us+f4', pitch: 99, speed: 120, amplitude: 130, text: EN_VOWELS },
  { voice: 'en-gb+m3', pitch: 20, speed: 140, amplitude: 120, text: EN_VOWELS },
  { voice: 'en-us+f2', pitch: 70, speed: 200, amplitude: 120, text: EN_CHAT },
  { voice: 'en-gb-scotland+m1', pitch: 40, speed: 175, amplitude: 120, text: EN_CHAT },
  { voice: 'en-us+klatt', pitch: 60, speed: 150, amplitude: 120, text: EN_NUMBERS },
  { voice: 'en+f5', pitch: 90, speed: 110, amplitude: 130, text: EN_NUMBERS },
  { voice: 'en-us+croak', pitch: 45, speed: 165, amplitude: 120, text: EN_VOWELS },
  { voice: 'de', pitch: 45, speed: 150, amplitude: 120, text: DE },
  { voice: 'de+f2', pitch: 85, speed: 140, amplitude: 130, text: DE },
  { voice: 'fr-fr', pitch: 55, speed: 160, amplitude: 120, text: FR },
  { voice: 'fr-fr+f3', pitch: 95, speed: 130, amplitude: 130, text: FR },
  { voice: 'es', pitch: 50, speed: 170, amplitude: 120, text: ES },
  { voice: 'es+f4', pitch: 75, speed: 125, amplitude: 130, text: ES },
  { voice: 'it', pitch: 60, speed: 150, amplitude: 120, text: IT },
  { voice: 'nl+m3', pitch: 30, speed: 145, amplitude: 120, text: NL },
  { voice: 'en-us+whisperf', pitch: 50, speed: 150, amplitude: 150, text: EN_CHAT },
  { voice: 'en-gb+Alicia', pitch: 99, speed: 95, amplitude: 130, text: EN_VOWELS },
];

async function speechClip(spec: SpeechSpec, bandLimit: boolean): Promise<Clip> {
  const wav = tmpName('wav');
  await run('espeak-ng', [
    '-v', spec.voice, '-p', String(spec.pitch), '-s', String(spec.speed), '-a', String(spec.amplitude),
    '-w', wav, spec.text,
  ]);
  // espeak-ng writes 22.05 kHz; `rate -v` resamples with a proper anti-alias filter. Peak-normalise
  // to -1 dBFS: loud speech is the hard case for talk-off.
  const effects = ['remix', '-', 'rate', '-v', '8000', ...(bandLimit ? ['sinc', '300-3400'] : []), 'gain', '-n', '-1'];
  const samples = await soxToRaw([wav], effects);
  rmSync(wav, { force: true });
  return { name: `espeak-ng ${spec.voice} -p ${spec.pitch} -s ${spec.speed}`, samples };
}

/**
 * One utterance (espeak-ng, en-us by default), 8 kHz, peak -1 dBFS: a caller's turn in end-to-end call audio.
 * Cached per text and voice.
 */
export async function say(text: string, opts: { voice?: string; pitch?: number; speed?: number } & SpeechOptions = {}): Promise<Int16Array> {
  const spec: SpeechSpec = { voice: opts.voice ?? 'en-us', pitch: opts.pitch ?? 50, speed: opts.speed ?? 170, amplitude: 120, text };
  const clips = await cached(`say:${JSON.stringify(spec)}:${opts.bandLimit ?? false}`, async () => [await speechClip(spec, opts.bandLimit ?? false)]);
  return clips[0]?.samples ?? silence(0);
}

/** The speech corpus as separate clips (≈ 3 minutes in total), one per voice setting. */
export function speechClips(opts: SpeechOptions = {}): Promise<Clip[]> {
  const bandLimit = opts.bandLimit ?? false;
  return cached(`speech:${bandLimit}`, () => Promise.all(SPEECH_SPECS.map((s) => speechClip(s, bandLimit))));
}

/** The speech corpus as one stream, clips separated by 250 ms of silence. */
export async function speech(opts: SpeechOptions = {}): Promise<Int16Array> {
  const clips = await speechClips(opts);
  return concat(...clips.flatMap((c) => [c.samples, silence(2000)]));
}

// ---------------------------------------------------------------------------------------------------
// Music

interface MusicSpec {
  name: string;
  /** sox effects after `-n` (synth …, then anything else); the output is peak-normalised afterwards. */
  effects: string[];
  /** Peak level after normalisation, dBFS (default -1). */
  peakDb?: number;
}

// Equal-tempered notes (A4 = 440 Hz) that sit near DTMF frequencies (Q.23):
//   F5 698.46 (697 +0.2 %), G5 783.99 (770 +1.8 %), G#5 830.61 (852 -2.5 %), A5 880.00 (852 +3.3 %),
//   A#5 932.33 (941 -0.9 %), D6 1174.66 (1209 -2.8 %), D#6 1244.51 (1209 +2.9 %),
//   E6 1318.51 (1336 -1.3 %), F#6 1479.98 (1477 +0.2 %), G#6 1661.22 (1633 +1.7 %).
const F5 = '698.46';
const G5 = '783.99';
const GS5 = '830.61';
const A5 = '880';
const AS5 = '932.33';
const C6 = '1046.5';
const D6 = '1174.66';
const DS6 = '1244.51';
const E6 = '1318.51';
const FS6 = '1479.98';
const GS6 = '1661.22';
const C5 = '523.25';
const A4 = '440';

function synth(seconds: number, ...voices: string[]): string[] {
  return ['synth', String(seconds), ...voices];
}
const sines = (...f: string[]): string[] => f.flatMap((x) => ['sine', x]);
const timbre = (t: string, ...f: string[]): string[] => f.flatMap((x) => [t, x]);

const MUSIC_SPECS: MusicSpec[] = [
  // Chords of three or more equal-level sines, each containing a near-DTMF row+column pair.
  { name: 'sine chord F5 A5 D6 (Dm/F)', effects: [...synth(4, ...sines(F5, A5, D6))] },
  { name: 'sine chord G5 C6 E6 (C/G)', effects: [...synth(4, ...sines(G5, C6, E6))] },
  { name: 'sine chord F5 A#5 D6 F#6', effects: [...synth(4, ...sines(F5, AS5, D6, FS6))] },
  { name: 'sine chord A#5 C6 E6', effects: [...synth(3, ...sines(AS5, C6, E6))] },
  { name: 'sine chord F5 E6 F#6', effects: [...synth(3, ...sines(F5, E6, FS6))] },
  { name: 'sine chord G#5 D#6 G#6 C5', effects: [...synth(3, ...sines(GS5, DS6, GS6, C5))] },
  { name: 'sine chord A4 F5 E6 tremolo', effects: [...synth(4, ...sines(A4, F5, E6)), 'tremolo', '6', '60'] },
  { name: 'sine chord F5 A#5 F#6 tremolo', effects: [...synth(4, ...sines(F5, AS5, FS6)), 'tremolo', '4.5', '40'] },
  // Sweeps across the whole band (single tone) and crossing sweeps (two tones passing fast).
  { name: 'sine sweep 300-3400 linear', effects: [...synth(3, 'sine', '300:3400')] },
  { name: 'sine sweep 3400-300 exponential', effects: [...synth(3, 'sine', '3400/300')] },
  { name: 'crossing sweeps 300-3400 / 3400-300 (1 s)', effects: [...synth(1, 'sine', '300:3400', 'sine', '3400:300'), 'repeat', '2'] },
  { name: 'sweep 600-1800 + chord A4 C5', effects: [...synth(3, 'sine', '600:1800', ...sines(A4, C5))] },
  // Harmonic-rich instruments on near-DTMF dyads and chords.
  { name: 'sawtooth dyad F5 F#6', effects: [...synth(3, ...timbre('sawtooth', F5, FS6))] },
  { name: 'triangle chord F5 A5 E6', effects: [...synth(3, ...timbre('triangle', F5, A5, E6))] },
  { name: 'triangle chord A#5 D6 F#6', effects: [...synth(3, ...timbre('triangle', AS5, D6, FS6))] },
  { name: 'pluck chord F5 A5 D6', effects: [...synth(1.5, ...timbre('pluck', F5, A5, D6)), 'repeat', '2'] },
  { name: 'pluck dyad F5 F#6', effects: [...synth(1, ...timbre('pluck', F5, FS6)), 'repeat', '3'] },
  { name: 'square chord G5 C6 E6 tremolo', effects: [...synth(3, ...timbre('square', G5, C6, E6)), 'tremolo', '5', '50'] },
  { name: 'trapezium chord F5 D6 F#6', effects: [...synth(3, ...timbre('trapezium', F5, D6, FS6))] },
  // Reverb smears notes into each other: the tail of one note overlaps the next.
  { name: 'triangle arpeggio C5 E5 G5 C6 E6 with reverb', effects: [
    ...synth(1.5, ...timbre('triangle', C5, '659.26', G5, C6, E6)), 'fade', 'q', '0.01', '1.5', '1.2',
    'delay', '0', '0.2', '0.4', '0.6', '0.8', 'reverb', '70', 'repeat', '1'] },
  { name: 'square chord F5 E6 + A4', effects: [...synth(3, ...timbre('square', F5, E6, A4))] },
  { name: 'square chord A#5 F#6 + D6', effects: [...synth(3, ...timbre('square', AS5, FS6, D6))] },
  { name: 'triangle chord F5 A5 D6 with reverb + echo', effects: [...synth(2, ...timbre('triangle', F5, A5, D6)), 'reverb', '80', 'echo', '0.8', '0.7', '60', '0.4'] },
  // Noise: alone, and under chords and dyads at ≈ 10-20 dB SNR.
  { name: 'pink noise', effects: [...synth(2, 'pinknoise')], peakDb: -6 },
  { name: 'sine chord F5 A5 D6 + white noise', effects: [...synth(3, ...sines(F5, A5, D6), 'whitenoise'), 'remix', '1v0.3,2v0.3,3v0.3,4v0.06'] },
  { name: 'square dyad A#5 E6 + white noise', effects: [...synth(3, ...timbre('square', AS5, E6), 'whitenoise'), 'remix', '1v0.3,2v0.3,3v1.0'] },
  { name: 'sawtooth chord G#5 D#6 G#6 quiet', effects: [...synth(3, ...timbre('sawtooth', GS5, DS6, GS6))], peakDb: -20 },
];

async function musicClip(spec: MusicSpec, bandLimit: boolean): Promise<Clip> {
  const effects = [
    ...spec.effects,
    'remix', '-',
    ...(bandLimit ? ['sinc', '300-3400'] : []),
    'gain', '-n', String(spec.peakDb ?? -1),
  ];
  const samples = await soxToRaw(['-n', '-r', '8000'], effects);
  return { name: spec.name, samples };
}

/** The music corpus as separate clips (≈ 80 s in total). */
export function musicClips(opts: MusicOptions = {}): Promise<Clip[]> {
  const bandLimit = opts.bandLimit ?? false;
  return cached(`music:${bandLimit}`, () => Promise.all(MUSIC_SPECS.map((s) => musicClip(s, bandLimit))));
}

/** The music corpus as one stream, clips separated by 250 ms of silence. */
export async function music(opts: MusicOptions = {}): Promise<Int16Array> {
  const clips = await musicClips(opts);
  return concat(...clips.flatMap((c) => [c.samples, silence(2000)]));
}

/**
 * Music that is, physically, (nearly) a DTMF signal, kept OUT of the talk-off set and only *reported*
 * by the tests. Pure-sine dyads whose notes sit between ±1.5 % and ±3.5 % of a DTMF pair fall where
 * ITU-T Q.24 neither requires nor forbids operation; square-wave dyads put ≈ 90 % of their energy in
 * the pair; a plucked dyad decays into two pure sines within ±1.5 % (a receiver *must* operate on that);
 * reverb on a plucked arpeggio overlaps two in-tolerance partials for hundreds of ms.
 * `test/support/dtmf-likeness.ts` measures this; a corpus test keeps the talk-off set clear of it.
 */
export function dtmfLikeMusicClips(): Promise<Clip[]> {
  const specs: MusicSpec[] = [
    { name: 'sine dyad F5 D6 (697 +0.2 %, 1209 -2.8 %)', effects: [...synth(2, ...sines(F5, D6))], peakDb: -6 },
    { name: 'sine dyad G5 E6 (770 +1.8 %, 1336 -1.3 %)', effects: [...synth(2, ...sines(G5, E6))], peakDb: -6 },
    { name: 'sine dyad A5 G#6 (852 +3.3 %, 1633 +1.7 %)', effects: [...synth(2, ...sines(A5, GS6))], peakDb: -6 },
    { name: 'sine dyad G#5 D#6 (852 -2.5 %, 1209 +2.9 %)', effects: [...synth(2, ...sines(GS5, DS6))], peakDb: -6 },
    { name: 'square dyad F5 E6', effects: [...synth(3, ...timbre('square', F5, E6))] },
    { name: 'square dyad A#5 F#6', effects: [...synth(3, ...timbre('square', AS5, FS6))] },
    { name: 'pluck dyad A#5 E6', effects: [...synth(1.5, ...timbre('pluck', AS5, E6)), 'repeat', '2'] },
    // Brown noise is mostly below 300 Hz: a phone-band filter removes it and leaves the square dyad.
    { name: 'square dyad A#5 E6 + brown noise, phone band', effects: [
      ...synth(3, ...timbre('square', AS5, E6), 'brownnoise'), 'remix', '1v0.3,2v0.3,3v0.5', 'sinc', '300-3400'] },
    { name: 'pluck arpeggio F5 E6 A#5 F#6 with reverb', effects: [
      ...synth(1.5, ...timbre('pluck', F5, E6, AS5, FS6)), 'delay', '0', '0.3', '0.6', '0.9', 'reverb', '60'] },
  ];
  return cached('dtmf-like', () => Promise.all(specs.map((s) => musicClip(s, false))));
}

export function totalSeconds(clips: readonly Clip[]): number {
  let n = 0;
  for (const c of clips) n += c.samples.length;
  return n / 8000;
}
