import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWav, serializeWav, generateSequence, resample } from '../../src/dsp/index.ts';
import { cardline, cardlineProcess, lines, tempDir } from './helpers.ts';

const dir = tempDir('cardline-cli-');
const JSON_DIGIT = /^\{"digit":"[0-9*#A-D]","startMs":\d+\.\d,"endMs":\d+\.\d\}$/;

test('--help on every dtmf command exits 0 with examples and the exit codes', async () => {
  for (const args of [['dtmf', '--help'], ['dtmf', 'detect', '--help'], ['dtmf', 'generate', '--help'], ['dtmf', 'mask', '--help']]) {
    // one of them through a real process, the rest in-process (same entry point, faster)
    const r = args[1] === 'mask' ? cardlineProcess(args, dir) : await cardline(args, dir);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stdout.startsWith(`Usage: cardline ${args.slice(0, -1).join(' ')} `), r.stdout.split('\n')[0]);
    assert.match(r.stdout, /Examples:/);
    assert.match(r.stdout, /Exit codes: 0 ok, 2 usage error/);
  }
});

test('generate then detect --json: one JSON object per line, digits and times as generated', async () => {
  const r = cardlineProcess(['dtmf', 'generate', '159#*D', 'keys.wav', '--on', '60', '--off', '70', '--level', '-20'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^wrote keys\.wav: 6 key presses/);
  assert.ok(!r.stdout.includes('159'), 'the digits are not echoed');
  const wav = parseWav(readFileSync(join(dir, 'keys.wav')));
  assert.equal(wav.sampleRate, 8000);
  assert.equal(wav.format.encoding, 'pcm');
  // lead 70 + 6×60 + 5×70 + tail 70 ms = 850 ms
  assert.equal(wav.channels[0]?.length, 850 * 8);

  const d = cardlineProcess(['dtmf', 'detect', 'keys.wav', '--json'], dir);
  assert.equal(d.status, 0, d.stderr);
  assert.equal(d.stderr, '', 'mono file: nothing on stderr');
  const out = lines(d.stdout);
  assert.equal(out.length, 6);
  for (const l of out) assert.match(l, JSON_DIGIT);
  const events = out.map((l) => JSON.parse(l) as { digit: string; startMs: number; endMs: number });
  assert.deepEqual(events.map((e) => e.digit), ['1', '5', '9', '#', '*', 'D']);
  events.forEach((e, i) => {
    const start = 70 + i * 130;
    assert.ok(Math.abs(e.startMs - start) <= 13, `start ${e.startMs} vs ${start}`);
    assert.ok(Math.abs(e.endMs - (start + 60)) <= 13, `end ${e.endMs} vs ${start + 60}`);
  });
});

test('detect prints "digit  start–end ms" lines and nothing else', async () => {
  const d = await cardline(['dtmf', 'detect', 'keys.wav'], dir);
  assert.equal(d.status, 0);
  const out = lines(d.stdout);
  assert.equal(out.length, 6);
  for (const l of out) assert.match(l, /^[0-9*#A-D] {2}\d+\.\d–\d+\.\d ms$/);
});

test('generate --rate 48000 --encoding alaw/ulaw writes that format, and detect resamples it', async () => {
  for (const enc of ['alaw', 'ulaw'] as const) {
    const r = await cardline(['dtmf', 'generate', '0A', `k48-${enc}.wav`, '--rate', '48000', '--encoding', enc, '--twist', '4'], dir);
    assert.equal(r.status, 0, r.stderr);
    const wav = parseWav(readFileSync(join(dir, `k48-${enc}.wav`)));
    assert.equal(wav.sampleRate, 48000);
    assert.equal(wav.format.encoding, enc);
    const d = await cardline(['dtmf', 'detect', `k48-${enc}.wav`, '--json'], dir);
    assert.equal(d.status, 0, d.stderr);
    assert.deepEqual(lines(d.stdout).map((l) => (JSON.parse(l) as { digit: string }).digit), ['0', 'A']);
  }
});

test('detect --channel picks the channel (and mix); a missing channel is a usage error', async () => {
  const { samples } = generateSequence('42', {});
  const quiet = new Int16Array(samples.length);
  const stereo = serializeWav({ sampleRate: 16000, channels: [resample(quiet, 8000, 16000), resample(samples, 8000, 16000)] });
  writeFileSync(join(dir, 'stereo.wav'), stereo);
  const c0 = await cardline(['dtmf', 'detect', 'stereo.wav', '--json'], dir);
  assert.equal(c0.status, 0);
  assert.equal(c0.stdout, '', 'channel 0 is silent');
  assert.match(c0.stderr, /analysing channel 0 of 2/);
  const c1 = await cardline(['dtmf', 'detect', 'stereo.wav', '--json', '--channel', '1'], dir);
  assert.deepEqual(lines(c1.stdout).map((l) => (JSON.parse(l) as { digit: string }).digit), ['4', '2']);
  const mix = await cardline(['dtmf', 'detect', 'stereo.wav', '--channel', 'mix'], dir);
  assert.equal(lines(mix.stdout).length, 2, 'a −6 dB mix still carries the tones');
  const bad = await cardline(['dtmf', 'detect', 'stereo.wav', '--channel', '2'], dir);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^cardline: error \[usage\]: .*--channel 2: the file has 2 channels/);
  const worse = await cardline(['dtmf', 'detect', 'stereo.wav', '--channel', 'left'], dir);
  assert.equal(worse.status, 2);
});

test('invalid DIGITS: exit 2 with dtmf-invalid-digit, position only, no file written', async () => {
  const r = await cardline(['dtmf', 'generate', '41X1', 'nope.wav'], dir);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^cardline: error \[dtmf-invalid-digit\]: .*character 3 of DIGITS/);
  assert.ok(!r.stderr.includes('41'), 'the digits are not echoed');
  assert.ok(!existsSync(join(dir, 'nope.wav')));
  const empty = await cardline(['dtmf', 'generate', '', 'nope.wav'], dir);
  assert.equal(empty.status, 2);
});

test('usage errors exit 2: unknown option, bad numbers, bad choices, missing arguments', async () => {
  for (const args of [
    ['dtmf', 'detect', 'keys.wav', '--frobnicate'],
    ['dtmf', 'generate', '1', 'x.wav', '--on', 'abc'],
    ['dtmf', 'generate', '1', 'x.wav', '--on', '0'],
    ['dtmf', 'generate', '1', 'x.wav', '--rate', '44100.5'],
    ['dtmf', 'generate', '1', 'x.wav', '--encoding', 'mp3'],
    ['dtmf', 'generate', '1'],
    ['dtmf', 'detect'],
    ['dtmf', 'frobnicate'],
  ]) {
    const r = args.includes('--frobnicate') ? cardlineProcess(args, dir) : await cardline(args, dir);
    assert.equal(r.status, 2, `${args.join(' ')} → ${r.status}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.length > 0);
  }
});

test('bad WAV files: exit 1 with a one-line typed error and no stack (unless --debug)', async () => {
  writeFileSync(join(dir, 'garbage.wav'), Buffer.from('this is not a wav file at all'));
  const full = readFileSync(join(dir, 'keys.wav'));
  writeFileSync(join(dir, 'cut.wav'), full.subarray(0, full.length - 1001));
  const cases: Array<[string, RegExp]> = [
    ['garbage.wav', /^cardline: error \[wav-malformed\]: .*starts with 'this', not 'RIFF'$/],
    ['cut.wav', /^cardline: error \[wav-truncated\]: .*data chunk declares 13600 bytes but only 12599 remain$/],
    ['missing.wav', /^cardline: error \[io-error\]: .*cannot read missing\.wav: no such file or directory$/],
  ];
  for (const [file, re] of cases) {
    const r = cardlineProcess(['dtmf', 'detect', file], dir);
    assert.equal(r.status, 1, file);
    assert.equal(r.stdout, '');
    const errLines = lines(r.stderr);
    assert.equal(errLines.length, 1, `one line for ${file}: ${r.stderr}`);
    assert.match(errLines[0] as string, re);
  }
  const debug = cardlineProcess(['dtmf', 'detect', 'garbage.wav', '--debug'], dir);
  assert.equal(debug.status, 1);
  assert.match(debug.stderr, /\n\s+at /, '--debug adds the stack');
  // a cut file is readable on request, with a warning on stderr
  const opt = await cardline(['dtmf', 'detect', 'cut.wav', '--json', '--allow-truncated'], dir);
  assert.equal(opt.status, 0);
  assert.match(opt.stderr, /warning: cut\.wav is cut short/);
  assert.ok(lines(opt.stdout).length >= 4);
});
