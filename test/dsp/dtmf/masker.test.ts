/**
 * DTMF masker: delay, onset coverage, suppression, zero digits left (ours and spandsp's), speech passed
 * bit-exact, false muting on real speech, beep identity, comfort-noise level, streaming invariance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { detectDtmf } from '../../../src/dsp/dtmf/detector.ts';
import { dbm0ToAmplitude, generateSequence, generateTone } from '../../../src/dsp/dtmf/generator.ts';
import {
  BEEP_FREQ_HZ, BEEP_LEVEL_DBM0, DtmfMasker, MIN_LOOKAHEAD_SAMPLES, makeBeep, renderMask,
} from '../../../src/dsp/dtmf/masker.ts';
import type { DtmfMaskerOptions, MaskMode, MaskerSpan } from '../../../src/dsp/dtmf/masker.ts';
import { amplitudeToDbm0 } from '../../../src/dsp/dtmf/levels.ts';
import { ulawDecode, ulawEncode } from '../../../src/dsp/g711.ts';
import { DTMF_DIGITS } from '../../../src/dsp/types.ts';
import type { DtmfDigit, DtmfEvent, MaskSpan } from '../../../src/dsp/types.ts';
import { isCardlineError } from '../../../src/errors/index.ts';
import { speechClips } from '../../support/corpus.ts';
import { spandspDetect } from '../../support/spandsp.ts';
import { addWhiteNoise, clamp16, concat, correlationPower, dtmfBandPower, meanSquare, mulberry32 } from './helpers.ts';

interface Masked {
  out: Int16Array;
  /** out re-aligned to the input timeline (out[i + delay]), input length. */
  aligned: Int16Array;
  spans: MaskerSpan[];
  digits: DtmfEvent[];
  delay: number;
}

/** Streams `x` through a masker in chunks of the given sizes (cycled), then flushes. */
function mask(x: Int16Array, opts: DtmfMaskerOptions = {}, sizes: number[] = [160]): Masked {
  const spans: MaskerSpan[] = [];
  const digits: DtmfEvent[] = [];
  const m = new DtmfMasker({ ...opts, onSpan: (s) => spans.push(s as MaskerSpan), onDigit: (e) => digits.push(e) });
  const parts: Int16Array[] = [];
  let p = 0;
  let k = 0;
  while (p < x.length) {
    const n = Math.min(x.length - p, sizes[k++ % sizes.length] ?? 160);
    const chunk = x.subarray(p, p + n);
    const o = m.process(chunk);
    assert.equal(o.length, n);
    parts.push(o);
    p += n;
  }
  const tail = m.flush();
  assert.equal(tail.length, m.delaySamples);
  parts.push(tail);
  const out = concat(...parts);
  return { out, aligned: out.subarray(m.delaySamples, m.delaySamples + x.length), spans, digits, delay: m.delaySamples };
}

/** Offset of an exact copy of `beep` inside `x`, or −1. */
function findBeep(x: Int16Array, beep: Int16Array): number {
  for (let k = 0; k + beep.length <= x.length; k++) {
    if (x.subarray(k, k + beep.length).every((v, n) => v === beep[n])) return k;
  }
  return -1;
}

function spanMask(spans: readonly MaskSpan[], n: number): Uint8Array {
  const m = new Uint8Array(n);
  for (const s of spans) m.fill(1, Math.max(0, s.startSample), Math.min(n, s.endSample));
  return m;
}

function inSpan(spans: readonly MaskSpan[], i: number): boolean {
  return spans.some((s) => i >= s.startSample && i < s.endSample);
}

/** Card-number style key presses mixed into `bed` at `at` (80 ms on / 80 ms off by default). */
function withDigits(bed: Int16Array, digits: string, at: number, level = -10, onMs = 80): { x: Int16Array; events: DtmfEvent[] } {
  const { samples, events } = generateSequence(digits, { onMs, offMs: onMs, levelDbm0: level, leadMs: 0, tailMs: 0 });
  const x = Int16Array.from(bed);
  for (let i = 0; i < samples.length && at + i < x.length; i++) x[at + i] = clamp16((x[at + i] ?? 0) + (samples[i] ?? 0));
  return { x, events: events.map((e) => ({ ...e, startSample: e.startSample + at, endSample: e.endSample + at })) };
}

/** A call: speech, the caller typing the card number (quiet line, 200 ms before and after), speech. */
function speechCall(speech: Int16Array, digits: string, level: number, onMs = 80): { x: Int16Array; events: DtmfEvent[]; typing: [number, number] } {
  const cut = Math.floor(speech.length / 3);
  const { samples, events } = generateSequence(digits, { onMs, offMs: onMs, levelDbm0: level, leadMs: 200, tailMs: 200 });
  const x = concat(speech.subarray(0, cut), samples, speech.subarray(cut));
  return { x, events: events.map((e) => ({ ...e, startSample: e.startSample + cut, endSample: e.endSample + cut })), typing: [cut, cut + samples.length] };
}

test('the delay is the declared look-ahead (impulse), and flush drains exactly that much', () => {
  for (const lookaheadMs of [25.5, 30, 50]) {
    const x = new Int16Array(3000);
    x[1234] = 20000;
    x[2999] = -5;
    for (const sizes of [[1], [160], [7, 1000]]) {
      const r = mask(x, { lookaheadMs }, sizes);
      assert.equal(r.delay, Math.round(lookaheadMs * 8));
      assert.equal(r.out.length, x.length + r.delay);
      assert.equal(r.out[1234 + r.delay], 20000);
      assert.equal(r.out[2999 + r.delay], -5);
      assert.equal(r.out.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0), 2);
      assert.deepEqual(r.spans, []);
    }
  }
  assert.equal(new DtmfMasker().delaySamples, 240);
  assert.throws(() => new DtmfMasker({ lookaheadMs: 20 }), (e) => isCardlineError(e) && e.code === 'audio-invalid-argument');
  assert.ok(MIN_LOOKAHEAD_SAMPLES === 204);
  assert.throws(() => new DtmfMasker().process(new Int16Array(10), new Int16Array(5)), (e) => isCardlineError(e) && e.code === 'audio-invalid-argument');
  // a caller buffer is used in place
  const m = new DtmfMasker();
  const buf = new Int16Array(500);
  assert.equal(m.process(new Int16Array(500).fill(3), buf), buf);
  assert.equal(buf[300], 3);
});

test('every tone is masked from its first sample: 600 in-spec tones at random alignments, 3 modes × 3 channel conditions', async () => {
  const rand = mulberry32(201);
  const parts: Int16Array[] = [];
  const truth: { start: number; end: number }[] = [];
  let pos = 0;
  for (let i = 0; i < 200; i++) {
    const gap = new Int16Array(300 + Math.floor(rand() * 500));
    const digit = DTMF_DIGITS[Math.floor(rand() * 16)] as DtmfDigit;
    const tone = generateTone({
      digit, durationMs: [40, 50, 80, 120][i % 4] ?? 40, levelDbm0: -rand() * 36, twistDb: -8 + rand() * 12,
      freqOffsetPct: { row: (rand() * 2 - 1) * 1.5, col: (rand() * 2 - 1) * 1.5 }, phase: rand() * 6, rampMs: i % 5 === 0 ? 3 : 0,
    });
    parts.push(gap, tone);
    truth.push({ start: pos + gap.length, end: pos + gap.length + tone.length });
    pos += gap.length + tone.length;
  }
  parts.push(new Int16Array(500));
  const clean = concat(...parts);
  const variants: [string, Int16Array][] = [
    ['clean', clean],
    ['noise −50 dBm0', addWhiteNoise(clean, dbm0ToAmplitude(-50) / Math.SQRT2, 9)],
    ['µ-law', ulawDecode(ulawEncode(clean))],
  ];
  const modes: MaskMode[] = ['tone', 'silence', 'noise'];
  for (const [vi, [name, x]] of variants.entries()) {
    const r = mask(x, { mode: modes[vi] ?? 'tone', seed: 5 });
    assert.equal(r.digits.length, truth.length, `${name}: digits to the secure sink`);
    let worst = Infinity;
    for (const t of truth) {
      const s = r.spans.find((sp) => sp.startSample <= t.start && sp.endSample >= t.end);
      assert.ok(s, `${name}: tone ${t.start}…${t.end} not inside one span`);
      const pin = dtmfBandPower(x, s.startSample, s.endSample);
      const pout = dtmfBandPower(r.aligned, s.startSample, s.endSample);
      worst = Math.min(worst, 10 * Math.log10(pin / Math.max(pout, 1e-9)));
    }
    assert.ok(worst >= 40, `${name}: worst suppression ${worst.toFixed(1)} dB`);
    assert.deepEqual(detectDtmf(r.out), [], `${name}: our detector in the masked output`);
    assert.deepEqual(await spandspDetect(r.out), [], `${name}: spandsp in the masked output`);
    assert.deepEqual(await spandspDetect(r.out, { sensitive: true }), [], `${name}: sensitive spandsp in the masked output`);
  }
});

test('a tone in the last block of the stream is still masked (flush analyses the partial block)', () => {
  for (const tailMs of [0, 5, 10, 30]) {
    const x = concat(new Int16Array(1000), generateTone({ digit: '7', durationMs: 60, levelDbm0: -5 }), new Int16Array(tailMs * 8));
    const r = mask(x, {}, [1000000]);
    const toneStart = 1000;
    for (let i = toneStart; i < toneStart + 480; i++) assert.ok(inSpan(r.spans, i), `tail ${tailMs}: sample ${i} unmasked`);
    assert.deepEqual(detectDtmf(r.out), []);
    assert.deepEqual(r.digits.map((d) => d.digit), ['7']);
    for (const s of r.spans) assert.ok(s.endSample <= x.length);
  }
});

test('speech and a typed card number: digits only to the secure sink, speech bit-exact outside spans, zero digits left, < 0.5 % speech falsely muted', async (t) => {
  const clips = await speechClips();
  const band = await speechClips({ bandLimit: true });
  let activeSamples = 0;
  let mutedActive = 0;
  const ACTIVE = (dbm0ToAmplitude(-45) ** 2) / 2; // 20 ms frames above −45 dBm0 count as speech
  for (const [i, clip] of [...clips, ...band].entries()) {
    const keys = i % 2 ? '4111111111111111#' : '5500005555555559';
    const { x, typing } = speechCall(clip.samples, keys, -8 - (i % 5) * 4);
    const r = mask(x, { mode: (['tone', 'silence', 'noise'] as const)[i % 3] ?? 'tone', seed: i });
    assert.equal(r.digits.map((d) => d.digit).join(''), keys, `${clip.name}: secure sink`);
    // no digit anywhere else: spans are positions only
    for (const s of r.spans) assert.deepEqual(Object.keys(s).sort(), ['endSample', 'keyPress', 'startSample']);
    const masked = spanMask(r.spans, x.length);
    // bit-exact outside spans
    for (let k = 0; k < x.length; k++) {
      if (!masked[k] && r.aligned[k] !== x[k]) assert.fail(`${clip.name}: sample ${k} changed outside every span`);
    }
    assert.deepEqual(detectDtmf(r.out), [], `${clip.name}: digits left`);
    // falsely muted speech: active 20 ms frames of the speech (not the typing) that fell into a span
    for (let f = 0; f + 160 <= x.length; f += 160) {
      if (f + 160 > typing[0] && f < typing[1]) continue;
      if (meanSquare(x, f, f + 160) < ACTIVE) continue;
      for (let k = f; k < f + 160; k++) {
        activeSamples++;
        mutedActive += masked[k] ?? 0;
      }
    }
  }
  const pct = (100 * mutedActive) / activeSamples;
  t.diagnostic(`speech falsely muted: ${pct.toFixed(3)} % of ${(activeSamples / 8000).toFixed(0)} s of active speech`);
  assert.ok(pct < 0.5, `${pct.toFixed(3)} %`);
});

test('spandsp finds no digit in masked speech + card numbers, also typed over quiet background speech', async () => {
  const clips = (await speechClips()).slice(0, 6);
  const xs: Int16Array[] = [];
  const outs: Int16Array[] = [];
  for (const [i, clip] of clips.entries()) {
    // typed in a pause, 50 ms tones
    const call = speechCall(clip.samples, '4000056655665556', -6 - i * 5, 50);
    xs.push(call.x);
    const r = mask(call.x);
    assert.equal(r.digits.length, 16);
    outs.push(r.out);
    // typed while someone talks 20 dB under the tones in the background
    const bed = Int16Array.from(clip.samples, (v) => Math.round(v * 10 ** ((-20 - i * 3) / 20)));
    const over = withDigits(bed, '4000056655665556', Math.floor(bed.length / 4), -6 - i * 3, 60);
    xs.push(over.x);
    outs.push(mask(over.x).out);
  }
  assert.ok((await spandspDetect(concat(...xs))).length >= 6 * 16 * 2 - 4); // the reference hears (almost) all…
  assert.deepEqual(await spandspDetect(concat(...outs)), []); // …and none after masking
  assert.deepEqual(await spandspDetect(concat(...outs), { sensitive: true }), []);
  assert.deepEqual(detectDtmf(concat(...outs)), []);
});

test('tone mode: one identical 1900 Hz beep per key press, whatever the digit', () => {
  const beep = makeBeep(8000);
  assert.equal(beep.length, 300);
  const offsets: number[] = [];
  for (const digit of ['1', 'D', '5', '#'] as const) {
    const x = concat(new Int16Array(1000), generateTone({ digit, durationMs: 70, levelDbm0: -12 }), new Int16Array(1000));
    const r = mask(x);
    assert.equal(r.spans.length, 1);
    const s = r.spans[0] as MaskerSpan;
    assert.equal(s.keyPress, true);
    // the span holds exactly the beep and silence: find where the beep sits, the rest must be zero
    const inside = r.aligned.subarray(s.startSample, s.endSample);
    const at = findBeep(inside, beep);
    assert.ok(at >= 0, `${digit}: beep not found`);
    assert.ok(inside.every((v, n) => (n >= at && n < at + beep.length) || v === 0), `${digit}: more than the beep`);
    offsets.push(at);
  }
  // the same place relative to the span, too
  assert.ok(offsets.every((o) => o === offsets[0]), offsets.join(','));
  // a single tone at 1900 Hz: every DTMF frequency ≥ 60 dB below it
  const peak = correlationPower(beep, BEEP_FREQ_HZ);
  for (const f of [697, 770, 852, 941, 1209, 1336, 1477, 1633]) {
    assert.ok(10 * Math.log10(peak / correlationPower(beep, f)) > 60, `${f} Hz`);
  }
  // two quick key presses whose spans merge still give two beeps and two spans
  const { samples } = generateSequence('12', { onMs: 45, offMs: 40, levelDbm0: -10 });
  const r2 = mask(samples);
  assert.equal(r2.spans.filter((s) => s.keyPress).length, 2);
});

test('noise mode: comfort noise at the background level', () => {
  for (const bgDbm0 of [-55, -40, -30]) {
    const rms = dbm0ToAmplitude(bgDbm0) / Math.SQRT2;
    const bed = addWhiteNoise(new Int16Array(8000 * 3), rms, 33);
    const { x, events } = withDigits(bed, '123', 8000, -10);
    const r = mask(x, { mode: 'noise', seed: 3 });
    assert.equal(r.spans.length, 3);
    for (const e of events) {
      const level = Math.sqrt(meanSquare(r.aligned, e.startSample, e.endSample));
      const db = 20 * Math.log10(level / rms);
      assert.ok(Math.abs(db) < 1, `background ${bgDbm0} dBm0: comfort noise ${db.toFixed(2)} dB off`);
    }
  }
  // silence mode leaves true silence
  const r = mask(withDigits(new Int16Array(8000), '9', 2000).x, { mode: 'silence' });
  const s = r.spans[0] as MaskSpan;
  assert.ok(r.aligned.subarray(s.startSample, s.endSample).every((v) => v === 0));
});

test('streaming: any chunk sizes give identical output, spans and digits (fast-check)', () => {
  const rand = mulberry32(202);
  const bed = addWhiteNoise(new Int16Array(8000 * 4), 200, 4);
  const { x } = withDigits(bed, '4929000000006', 2000, -15, 45);
  for (let i = 0; i < 30; i++) x[Math.floor(rand() * x.length)] = 15000; // clicks
  for (const mode of ['tone', 'noise'] as const) {
    const ref = mask(x, { mode, seed: 11 }, [x.length]);
    assert.ok(ref.spans.length >= 13);
    const same = (sizes: number[]): void => {
      const r = mask(x, { mode, seed: 11 }, sizes);
      assert.deepEqual(r.out, ref.out);
      assert.deepEqual(r.spans, ref.spans);
      assert.deepEqual(r.digits, ref.digits);
    };
    same([1]);
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 10 }), (sizes) => same(sizes)), { numRuns: 25, seed: 77 });
  }
});

test('after flush the masker starts a new stream', () => {
  const x = withDigits(new Int16Array(4000), '3', 1000).x;
  const spans: MaskSpan[] = [];
  const m = new DtmfMasker({ onSpan: (s) => spans.push(s) });
  const a = concat(m.process(x), m.flush());
  const first = spans.splice(0);
  const b = concat(m.process(x), m.flush());
  assert.deepEqual(b, a);
  assert.deepEqual(spans, first);
});

test('renderMask: any rate, delay round(30 ms · rate), spans replaced, everything else bit-exact', () => {
  for (const rate of [8000, 16000, 44100, 48000]) {
    const scale = rate / 8000;
    const rand = mulberry32(rate);
    const x = new Int16Array(rate); // 1 s of "speech-like" noise
    for (let i = 0; i < x.length; i++) x[i] = Math.round((rand() - 0.5) * 2000);
    const spans: MaskerSpan[] = [
      { startSample: 1000, endSample: 1612, keyPress: true },
      { startSample: 4000, endSample: 4306, keyPress: false },
    ];
    for (const mode of ['tone', 'silence', 'noise'] as const) {
      const y = renderMask(x, rate, spans, { mode, seed: 1 });
      const delay = Math.round(0.03 * rate);
      assert.equal(y.length, x.length + delay);
      const masked = (i: number): boolean => spans.some((s) => i >= Math.floor(s.startSample * scale) && i < Math.ceil(s.endSample * scale));
      for (let i = 0; i < x.length; i++) if (!masked(i)) assert.equal(y[i + delay], x[i]);
      const a0 = Math.floor(1000 * scale) + delay;
      const z0 = Math.ceil(1612 * scale) + delay;
      const a1 = Math.floor(4000 * scale) + delay;
      const z1 = Math.ceil(4306 * scale) + delay;
      if (mode === 'tone') {
        // exactly one beep in the key-press span (the rate's own rendering of it), silence in the other
        const seg = y.subarray(a0, z0);
        const beep = makeBeep(rate);
        const at = findBeep(seg, beep);
        assert.ok(at >= 0, `${rate}: beep not found`);
        assert.ok(seg.every((v, n) => (n >= at && n < at + beep.length) || v === 0), `${rate}: more than the beep`);
        const peak = beep.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        assert.ok(Math.abs(amplitudeToDbm0(peak) - BEEP_LEVEL_DBM0) < 0.1, `${rate}: beep peak ${amplitudeToDbm0(peak)} dBm0`);
        assert.ok(y.subarray(a1, z1).every((v) => v === 0));
      } else if (mode === 'silence') {
        assert.ok(y.subarray(a0, z0).every((v) => v === 0));
      } else {
        const rms = Math.sqrt(meanSquare(y, a0, z0));
        const bg = Math.sqrt(meanSquare(x, 0, Math.floor(900 * scale)));
        assert.ok(Math.abs(20 * Math.log10(rms / bg)) < 1.5, `${rate}: ${rms} vs ${bg}`);
      }
    }
  }
  assert.throws(() => renderMask(new Int16Array(10), 0, []), (e) => isCardlineError(e) && e.code === 'audio-invalid-argument');
  assert.throws(() => renderMask(new Int16Array(10), 8000, [], { mode: 'loud' as MaskMode }), (e) => isCardlineError(e) && e.code === 'audio-invalid-argument');
});

test('throwing listeners do not derail the masker: same audio out, errors reach the caller', () => {
  const x = withDigits(addWhiteNoise(new Int16Array(8000 * 2), 100, 8), '759', 2000).x;
  const ref = mask(x);
  const m = new DtmfMasker({ onSpan: () => { throw new Error('span listener'); }, onDigit: () => { throw new Error('digit listener'); } });
  const parts: Int16Array[] = [];
  let thrown = 0;
  for (let p = 0; p < x.length; p += 160) {
    const out = new Int16Array(Math.min(160, x.length - p));
    try {
      m.process(x.subarray(p, p + out.length), out);
    } catch (e) {
      assert.ok(e instanceof Error && /listener$/.test(e.message));
      thrown++;
    }
    parts.push(out); // the caller's buffer is filled even when a listener threw
  }
  try { m.flush(); } catch { thrown++; }
  assert.ok(thrown >= 3);
  assert.deepEqual(concat(...parts).subarray(0, x.length), ref.out.subarray(0, x.length));
});
