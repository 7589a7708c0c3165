import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  detectDtmf, parseWav, resample, serializeWav, WAV_PCM16, WAV_ULAW, type DtmfEvent, type WavFormat,
} from '../../src/dsp/index.ts';
import { cardEntry } from '../support/card-entry.ts';
import { fromS16le, gain, mix, silence } from '../support/audio.ts';
import { spandspDetect } from '../support/spandsp.ts';
import { cardline, cardlineProcess, lines, tempDir } from './helpers.ts';

const dir = tempDir('cardline-cli-mask-');
const JSON_SPAN = /^\{"startMs":\d+\.\d,"endMs":\d+\.\d\}$/;
interface Span { startMs: number; endMs: number }

/** One short espeak-ng utterance at `rate` (sox resamples with its own anti-alias filter). */
function speechAt(text: string, rate: number): Int16Array {
  const wav = join(dir, 'speech-src.wav');
  const raw = join(dir, 'speech.raw');
  let r = spawnSync('espeak-ng', ['-v', 'en-us', '-w', wav, text]);
  assert.equal(r.status, 0, `espeak-ng: ${r.stderr}`);
  r = spawnSync('sox', [wav, '-t', 'raw', '-e', 'signed', '-b', '16', '-L', raw, 'rate', '-v', String(rate), 'gain', '-n', '-6']);
  assert.equal(r.status, 0, `sox: ${r.stderr}`);
  return fromS16le(readFileSync(raw));
}

function parseSpans(stdout: string): Span[] {
  const out = lines(stdout);
  for (const l of out) assert.match(l, JSON_SPAN);
  return out.map((l) => JSON.parse(l) as Span);
}

/** Every key press lies inside a reported span, onset included. */
function assertCovered(spans: Span[], events: DtmfEvent[], rate = 8000): void {
  for (const e of events) {
    const s = (e.startSample * 1000) / rate;
    const t = (e.endSample * 1000) / rate;
    assert.ok(spans.some((p) => p.startMs <= s + 0.1 && p.endMs >= t - 0.1), `key press ${s.toFixed(1)}–${t.toFixed(1)} ms not covered`);
  }
}

function outside(spans: Span[], i: number, rate: number, marginMs: number): boolean {
  const t = (i * 1000) / rate;
  return spans.every((p) => t < p.startMs - marginMs || t >= p.endMs + marginMs);
}

test('mask --json on an 8 kHz µ-law card entry: spans only, same format and length, speech untouched, nothing left to detect', async () => {
  const entry = cardEntry({
    name: 'cli',
    groups: ['4111111111111111#', '1229#', '123#'],
    speechBefore: speechAt('Please enter your card number, followed by the hash key.', 8000),
    speechAfter: speechAt('Thank you. Your payment is being processed.', 8000),
    codec: 'ulaw',
  });
  writeFileSync(join(dir, 'call.wav'), serializeWav({ sampleRate: 8000, channels: [entry.input], format: WAV_ULAW }));
  const r = cardlineProcess(['dtmf', 'mask', 'call.wav', 'masked.wav', '--json'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!/"digit"/.test(r.stdout), 'never the digits');
  const spans = parseSpans(r.stdout);
  assert.ok(spans.length >= 1 && spans.length <= entry.events.length);
  assertCovered(spans, entry.events);
  assert.match(r.stderr, /masked \d+ spans? found in all 1 channel .*wrote masked\.wav \(µ-law, 8000 Hz, 1 channel\)/);

  const masked = parseWav(readFileSync(join(dir, 'masked.wav')));
  assert.deepEqual(masked.format, WAV_ULAW);
  assert.equal(masked.sampleRate, 8000);
  assert.equal(masked.channels.length, 1);
  const out = masked.channels[0] as Int16Array;
  assert.equal(out.length, entry.input.length, 'time-aligned: same length as the input');
  // speech well away from the spans passes bit-exact (G.711 decode → encode is lossless)
  let same = 0;
  let total = 0;
  for (let i = 0; i < out.length; i++) {
    if (!outside(spans, i, 8000, 20)) continue;
    total++;
    if (out[i] === entry.input[i]) same++;
  }
  assert.equal(same, total, `${total - same} of ${total} samples outside the spans changed`);

  const again = cardlineProcess(['dtmf', 'detect', 'masked.wav'], dir);
  assert.equal(again.status, 0);
  assert.equal(again.stdout, '', 'cardline detect finds nothing in the masked file');
  assert.deepEqual(detectDtmf(out), []);
  const ref = await spandspDetect(out, { sensitive: true });
  assert.equal(ref.length, 0, 'spandsp (sensitive settings) finds nothing either');
  assert.ok((await spandspDetect(entry.input)).length >= entry.events.length - 1, 'and spandsp does find the keys in the input');
});

test('mask on 16 kHz stereo masks the union of spans in every channel (echo on the agent leg included)', async () => {
  const caller8k = cardEntry({ name: 'caller', groups: ['5454#'], levelDbm0: -8 });
  const agent8k = gain(caller8k.input, -22); // line echo of the caller's keys, −22 dB
  const agentSpeech = speechAt('One moment please.', 16000);
  const caller = resample(caller8k.input, 8000, 16000);
  const agent = mix(resample(agent8k, 8000, 16000), agentSpeech);
  const n = Math.min(caller.length, agent.length);
  const input = serializeWav({ sampleRate: 16000, channels: [caller.subarray(0, n), agent.subarray(0, n)] });
  writeFileSync(join(dir, 'stereo.wav'), input);
  // the echo alone is loud enough to be a digit
  assert.ok(detectDtmf(agent8k).length >= 3);

  const r = cardlineProcess(['dtmf', 'mask', 'stereo.wav', 'stereo-masked.wav'], dir);
  assert.equal(r.status, 0, r.stderr);
  for (const l of lines(r.stdout)) assert.match(l, /^masked {2}\d+\.\d–\d+\.\d ms$/);
  const masked = parseWav(readFileSync(join(dir, 'stereo-masked.wav')));
  assert.deepEqual(masked.format, WAV_PCM16);
  assert.equal(masked.sampleRate, 16000);
  assert.equal(masked.channels.length, 2);
  assert.equal(masked.channels[0]?.length, n);
  for (const ch of ['0', '1']) {
    const d = await cardline(['dtmf', 'detect', 'stereo-masked.wav', '--channel', ch], dir);
    assert.equal(d.status, 0);
    assert.equal(d.stdout, '', `channel ${ch} is clean`);
  }
});

test('mask --channel 0 --mode silence: spans found on channel 0 are silenced in all channels', async () => {
  const { input, events } = cardEntry({ name: 'c0', groups: ['12'] });
  const hum = Int16Array.from({ length: input.length }, (_, i) => Math.round(3000 * Math.sin((2 * Math.PI * 150 * i) / 8000)));
  writeFileSync(join(dir, 'c0.wav'), serializeWav({ sampleRate: 8000, channels: [input, hum] }));
  const r = await cardline(['dtmf', 'mask', 'c0.wav', 'c0-masked.wav', '--channel', '0', '--mode', 'silence', '--json'], dir);
  assert.equal(r.status, 0, r.stderr);
  const spans = parseSpans(r.stdout);
  assertCovered(spans, events);
  const out = parseWav(readFileSync(join(dir, 'c0-masked.wav')));
  const ch1 = out.channels[1] as Int16Array;
  for (const e of events) {
    for (let i = e.startSample; i < e.endSample; i++) assert.equal(ch1[i], 0, `channel 1 silenced at ${i}`);
  }
  // the hum outside the spans is untouched
  for (let i = 0; i < ch1.length; i++) if (outside(spans, i, 8000, 20)) assert.equal(ch1[i], hum[i]);
});

test('mask keeps an unusual source format: 44.1 kHz 24-bit extensible stereo', async () => {
  const samples = resample(cardEntry({ name: 'x', groups: ['9'] }).input, 8000, 44100);
  const format: WavFormat = { encoding: 'pcm', bitsPerSample: 24, validBitsPerSample: 24, extensible: true, channelMask: 3 };
  writeFileSync(join(dir, 'hi.wav'), serializeWav({ sampleRate: 44100, channels: [samples, silence(samples.length)], format }));
  const r = await cardline(['dtmf', 'mask', 'hi.wav', 'hi-masked.wav', '--mode', 'noise'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(lines(r.stdout).length, 1);
  const out = parseWav(readFileSync(join(dir, 'hi-masked.wav')));
  assert.deepEqual(out.format, format);
  assert.equal(out.sampleRate, 44100);
  assert.equal(out.channels[0]?.length, samples.length);
  assert.equal((await cardline(['dtmf', 'detect', 'hi-masked.wav'], dir)).stdout, '');
});

test('mask usage and runtime errors', async () => {
  writeFileSync(join(dir, 'mono.wav'), serializeWav({ sampleRate: 8000, channels: [new Int16Array(800)] }));
  for (const args of [
    ['dtmf', 'mask', 'mono.wav', 'o.wav', '--mode', 'bleep'],
    ['dtmf', 'mask', 'mono.wav', 'o.wav', '--lookahead-ms', '-5'],
    ['dtmf', 'mask', 'mono.wav', 'o.wav', '--channel', '1'],
    ['dtmf', 'mask', 'mono.wav'],
  ]) {
    const r = await cardline(args, dir);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
  }
  writeFileSync(join(dir, 'bad.wav'), Buffer.from('RIFF\x04\x00\x00\x00WAVE', 'latin1'));
  const bad = await cardline(['dtmf', 'mask', 'bad.wav', 'o.wav'], dir);
  assert.equal(bad.status, 1);
  assert.equal(lines(bad.stderr).length, 1);
  assert.match(bad.stderr, /^cardline: error \[wav-malformed\]: .*no fmt chunk/);
  const unwritable = await cardline(['dtmf', 'mask', 'mono.wav', join(dir, 'no-such-dir', 'o.wav')], dir);
  assert.equal(unwritable.status, 1);
  assert.match(unwritable.stderr, /^cardline: error \[io-error\]: .*cannot write .*no such file or directory\n$/);
});
