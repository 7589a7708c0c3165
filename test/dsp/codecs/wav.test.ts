import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  decodeWavChannel8k, parseWav, pickChannel, serializeWav, WAV_ALAW, WAV_PCM16, WAV_ULAW,
  type WavAudio, type WavFormat,
} from '../../../src/dsp/wav.ts';
import { alawToLinear, linearToAlaw, linearToUlaw, ulawToLinear } from '../../../src/dsp/g711.ts';
import { CardlineError } from '../../../src/errors/index.ts';

// ---------------------------------------------------------------- byte-fixture helpers (independent of wav.ts)
function u16(n: number): number[] { return [n & 0xff, (n >> 8) & 0xff]; }
function u32(n: number): number[] { return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]; }
function ascii(s: string): number[] { return [...s].map((c) => c.charCodeAt(0)); }
function chunk(id: string, body: number[], opts: { declared?: number; pad?: boolean } = {}): number[] {
  const pad = (opts.pad ?? true) && body.length % 2 === 1 ? [0] : [];
  return [...ascii(id), ...u32(opts.declared ?? body.length), ...body, ...pad];
}
function fmtBody(o: { tag?: number; ch?: number; rate?: number; align?: number; bits?: number; extra?: number[] }): number[] {
  const ch = o.ch ?? 1; const rate = o.rate ?? 8000; const bits = o.bits ?? 16;
  const align = o.align ?? ch * Math.ceil(bits / 8);
  return [...u16(o.tag ?? 1), ...u16(ch), ...u32(rate), ...u32(rate * align), ...u16(align), ...u16(bits), ...(o.extra ?? [])];
}
function riff(chunks: number[][], opts: { riffSize?: number; form?: string; trailing?: number[] } = {}): Uint8Array {
  const body = chunks.flat();
  return new Uint8Array([...ascii('RIFF'), ...u32(opts.riffSize ?? body.length + 4), ...ascii(opts.form ?? 'WAVE'), ...body, ...(opts.trailing ?? [])]);
}
function pcm16Bytes(samples: number[]): number[] { return samples.flatMap((s) => u16(s & 0xffff)); }
const EXT_GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
function extensibleFmt(o: { sub: number; ch: number; bits: number; valid?: number; mask?: number; rate?: number; guidTail?: number[] }): number[] {
  return fmtBody({ tag: 0xfffe, ch: o.ch, bits: o.bits, rate: o.rate, extra: [...u16(22), ...u16(o.valid ?? o.bits), ...u32(o.mask ?? 0), ...u16(o.sub), ...(o.guidTail ?? EXT_GUID_TAIL)] });
}

function expectWavError(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CardlineError, `expected CardlineError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

function ramp(n: number, seed = 1): Int16Array {
  const x = new Int16Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; x[i] = (s >>> 16) - 32768; }
  if (n > 2) { x[0] = 32767; x[1] = -32768; }
  return x;
}

const fmt = (f: Partial<WavFormat> & Pick<WavFormat, 'encoding' | 'bitsPerSample'>): WavFormat => ({ validBitsPerSample: f.bitsPerSample, extensible: false, channelMask: 0, ...f });

// ---------------------------------------------------------------- round trips
test('round trip: 16-bit PCM mono, stereo and 6 channels at several rates is bit-exact', () => {
  for (const [nch, rate] of [[1, 8000], [2, 16000], [6, 48000], [3, 11025]] as const) {
    const channels = Array.from({ length: nch }, (_, c) => ramp(1001, c + 7));
    const bytes = serializeWav({ sampleRate: rate, channels });
    const back = parseWav(bytes);
    assert.equal(back.sampleRate, rate);
    assert.equal(back.truncated, false);
    assert.deepEqual(back.format, WAV_PCM16);
    assert.equal(back.channels.length, nch);
    for (let c = 0; c < nch; c++) assert.deepEqual(back.channels[c], channels[c]);
  }
});

test('round trip: µ-law and A-law keep G.711-decoded values exactly; re-serialising is byte-identical', () => {
  const x = ramp(777);
  for (const [format, enc, dec] of [[WAV_ULAW, linearToUlaw, ulawToLinear], [WAV_ALAW, linearToAlaw, alawToLinear]] as const) {
    const bytes = serializeWav({ sampleRate: 8000, channels: [x, x.map((v) => -v)], format });
    const back = parseWav(bytes);
    assert.deepEqual(back.format, format);
    for (let i = 0; i < x.length; i++) {
      assert.equal(back.channels[0]?.[i], dec(enc(x[i] as number)));
    }
    assert.deepEqual(serializeWav(back), bytes, 'same format written back gives the same bytes');
  }
});

test('round trip: 8/24/32-bit PCM, 32/64-bit float and extensible variants', () => {
  const x = ramp(501);
  const cases: WavFormat[] = [
    fmt({ encoding: 'pcm', bitsPerSample: 24 }),
    fmt({ encoding: 'pcm', bitsPerSample: 32 }),
    fmt({ encoding: 'float', bitsPerSample: 32 }),
    fmt({ encoding: 'float', bitsPerSample: 64 }),
    fmt({ encoding: 'pcm', bitsPerSample: 16, extensible: true, channelMask: 0x3 }),
    fmt({ encoding: 'pcm', bitsPerSample: 24, validBitsPerSample: 20, extensible: true, channelMask: 0x3 }),
    fmt({ encoding: 'float', bitsPerSample: 32, extensible: true, channelMask: 0x3 }),
    fmt({ encoding: 'ulaw', bitsPerSample: 8, extensible: true }),
  ];
  for (const f of cases) {
    const back = parseWav(serializeWav({ sampleRate: 44100, channels: [x, x], format: f }));
    assert.deepEqual(back.format, f, JSON.stringify(f));
    if (f.encoding === 'ulaw') continue;
    assert.deepEqual(back.channels[1], x, `exact for ${JSON.stringify(f)}`);
  }
  // 8-bit PCM and 12-bit-in-16 quantise: error at most half a step, and a second pass is stable
  for (const f of [fmt({ encoding: 'pcm', bitsPerSample: 8 }), fmt({ encoding: 'pcm', bitsPerSample: 16, validBitsPerSample: 12 })]) {
    const once = parseWav(serializeWav({ sampleRate: 8000, channels: [x], format: f }));
    assert.deepEqual(once.format, f);
    const step = 2 ** (16 - f.validBitsPerSample);
    for (let i = 0; i < x.length; i++) {
      assert.ok(Math.abs((once.channels[0]?.[i] as number) - (x[i] as number)) <= step, `${f.validBitsPerSample}-bit sample ${i}`);
      assert.ok((once.channels[0]?.[i] as number) % step === 0, 'insignificant bits are zero');
    }
    assert.deepEqual(parseWav(serializeWav(once)).channels, once.channels);
  }
});

test('writer: canonical 44-byte PCM header and 18-byte fmt + fact chunk for G.711', () => {
  const pcm = serializeWav({ sampleRate: 8000, channels: [new Int16Array([1, -2, 3])] });
  assert.deepEqual([...pcm.subarray(0, 44)], [
    ...ascii('RIFF'), ...u32(36 + 6 + 0), ...ascii('WAVE'),
    ...ascii('fmt '), ...u32(16), ...u16(1), ...u16(1), ...u32(8000), ...u32(16000), ...u16(2), ...u16(16),
    ...ascii('data'), ...u32(6),
  ]);
  assert.equal(pcm.length, 50);
  const ulaw = serializeWav({ sampleRate: 8000, channels: [new Int16Array([0, 0, 0])], format: WAV_ULAW });
  // 12 RIFF + 26 fmt(18) + 12 fact + 8 data header + 3 data + 1 pad
  assert.equal(ulaw.length, 12 + 26 + 12 + 8 + 3 + 1);
  assert.deepEqual([...ulaw.subarray(12, 12 + 26 + 12)], [
    ...ascii('fmt '), ...u32(18), ...u16(7), ...u16(1), ...u32(8000), ...u32(8000), ...u16(1), ...u16(8), ...u16(0),
    ...ascii('fact'), ...u32(4), ...u32(3),
  ]);
  assert.deepEqual([...ulaw.subarray(58)], [0xff, 0xff, 0xff, 0], 'µ-law silence and the RIFF pad byte');
  assert.deepEqual([...ulaw.subarray(4, 8)], u32(ulaw.length - 8));
});

test('writer rejects bad input with audio-invalid-argument', () => {
  const x = new Int16Array(4);
  expectWavError(() => serializeWav({ sampleRate: 8000, channels: [] }), 'audio-invalid-argument', /0 channels/);
  expectWavError(() => serializeWav({ sampleRate: 8000, channels: [x, new Int16Array(3)] }), 'audio-invalid-argument', /different lengths/);
  expectWavError(() => serializeWav({ sampleRate: 0, channels: [x] }), 'audio-invalid-argument', /sample rate 0/);
  expectWavError(() => serializeWav({ sampleRate: 8000.5, channels: [x] }), 'audio-invalid-argument');
  expectWavError(() => serializeWav({ sampleRate: 8000, channels: [x], format: fmt({ encoding: 'pcm', bitsPerSample: 12 }) }), 'audio-invalid-argument');
  expectWavError(() => serializeWav({ sampleRate: 8000, channels: [x], format: fmt({ encoding: 'float', bitsPerSample: 16 }) }), 'audio-invalid-argument');
  expectWavError(() => serializeWav({ sampleRate: 8000, channels: [x], format: fmt({ encoding: 'alaw', bitsPerSample: 16 }) }), 'audio-invalid-argument');
  expectWavError(() => serializeWav({ sampleRate: 8000, channels: [x], format: fmt({ encoding: 'pcm', bitsPerSample: 24, validBitsPerSample: 12 }) }), 'audio-invalid-argument', /EXTENSIBLE/);
});

// ---------------------------------------------------------------- reader: hand-built fixtures
test('reader: chunks in any order, odd-sized chunks padded, unknown chunks skipped, trailing garbage ignored', () => {
  const data = [100, -100, 32767, -32768, 5];
  const bytes = riff([
    chunk('LIST', [...ascii('INFOISFT'), ...u32(3), 1, 2, 3]), // 15 bytes: odd, padded
    chunk('JUNK', [0, 0, 0]),
    chunk('fmt ', fmtBody({ rate: 16000 })),
    chunk('cue ', [...u32(0)]),
    chunk('fact', u32(5)),
    chunk('data', pcm16Bytes(data)),
    chunk('LIST', [1, 2, 3, 4]),
  ], { trailing: [0xde, 0xad, 0xbe] });
  const w = parseWav(bytes);
  assert.equal(w.sampleRate, 16000);
  assert.deepEqual([...(w.channels[0] as Int16Array)], data);
});

test('reader: RIFF size lies (0, too small, too big) are tolerated; data size 0xFFFFFFFF reads to the end', () => {
  const body = [chunk('fmt ', fmtBody({})), chunk('data', pcm16Bytes([1, 2, 3]))];
  for (const riffSize of [0, 10, 0xffffffff, 1 << 20]) {
    assert.deepEqual([...(parseWav(riff(body, { riffSize })).channels[0] as Int16Array)], [1, 2, 3]);
  }
  const streaming = riff([chunk('fmt ', fmtBody({ ch: 2, align: 4 })), [...ascii('data'), ...u32(0xffffffff), ...pcm16Bytes([1, 2, 3, 4, 5])]], { riffSize: 0xffffffff });
  const w = parseWav(streaming);
  assert.deepEqual([...(w.channels[0] as Int16Array)], [1, 3]);
  assert.deepEqual([...(w.channels[1] as Int16Array)], [2, 4]);
});

test('reader: 8-bit unsigned, 24-bit rounding, 32-bit, float clipping and NaN, multi-channel extensible', () => {
  const u8 = parseWav(riff([chunk('fmt ', fmtBody({ bits: 8 })), chunk('data', [0, 128, 255])]));
  assert.deepEqual([...(u8.channels[0] as Int16Array)], [-32768, 0, 32512]);
  // 24-bit: 0x000080 rounds up to 1, 0x00007F rounds to 0, 0x7FFFFF clips to 32767, -0x800000 → -32768
  const s24 = parseWav(riff([chunk('fmt ', fmtBody({ bits: 24 })), chunk('data', [0x80, 0, 0, 0x7f, 0, 0, 0xff, 0xff, 0x7f, 0, 0, 0x80, 0x80, 0xff, 0xff])]));
  assert.deepEqual([...(s24.channels[0] as Int16Array)], [1, 0, 32767, -32768, 0]);
  const s32 = parseWav(riff([chunk('fmt ', fmtBody({ bits: 32 })), chunk('data', [...u32(0x00010000), ...u32(0x7fffffff), ...u32(0x80000000), ...u32(0xffff8000)])]));
  assert.deepEqual([...(s32.channels[0] as Int16Array)], [1, 32767, -32768, 0]);
  const f = new Float32Array([0.5, -1, 2, -3, Number.NaN, 1 / 32768]);
  const f32 = parseWav(riff([chunk('fmt ', fmtBody({ tag: 3, bits: 32, extra: u16(0) })), chunk('fact', u32(6)), chunk('data', [...new Uint8Array(f.buffer)])]));
  assert.deepEqual([...(f32.channels[0] as Int16Array)], [16384, -32768, 32767, -32768, 0, 1]);
  assert.equal(f32.format.encoding, 'float');
  // 3-channel extensible 16-bit PCM with a channel mask
  const ext = parseWav(riff([chunk('fmt ', extensibleFmt({ sub: 1, ch: 3, bits: 16, mask: 0x7 })), chunk('data', pcm16Bytes([1, 2, 3, 4, 5, 6]))]));
  assert.deepEqual(ext.channels.map((c) => [...c]), [[1, 4], [2, 5], [3, 6]]);
  assert.deepEqual(ext.format, { encoding: 'pcm', bitsPerSample: 16, validBitsPerSample: 16, extensible: true, channelMask: 7 });
  // extensible A-law
  const a = parseWav(riff([chunk('fmt ', extensibleFmt({ sub: 6, ch: 1, bits: 8 })), chunk('fact', u32(2)), chunk('data', [0xd5, 0x55])]));
  assert.deepEqual([...(a.channels[0] as Int16Array)], [8, -8]);
});

test('reader errors name what is wrong', () => {
  const good = (chunks: number[][]) => riff(chunks);
  const data = chunk('data', pcm16Bytes([1, 2]));
  expectWavError(() => parseWav(new Uint8Array(0)), 'wav-malformed', /0 bytes/);
  expectWavError(() => parseWav(new Uint8Array([...ascii('RIFF'), 0, 0])), 'wav-malformed', /6 bytes/);
  expectWavError(() => parseWav(new Uint8Array([...ascii('OggS'), ...u32(4), ...ascii('WAVE')])), 'wav-malformed', /starts with 'OggS', not 'RIFF'/);
  expectWavError(() => parseWav(new Uint8Array([0, 1, 2, 3, ...u32(4), ...ascii('WAVE')])), 'wav-malformed', /0x00010203/);
  expectWavError(() => parseWav(riff([], { form: 'AVI ' })), 'wav-malformed', /form type is 'AVI '/);
  expectWavError(() => parseWav(new Uint8Array([...ascii('RIFX'), ...u32(4), ...ascii('WAVE')])), 'wav-unsupported', /big-endian/);
  expectWavError(() => parseWav(new Uint8Array([...ascii('RF64'), ...u32(4), ...ascii('WAVE')])), 'wav-unsupported', /64-bit/);
  expectWavError(() => parseWav(good([data])), 'wav-malformed', /data chunk at offset 12 comes before the fmt chunk/);
  expectWavError(() => parseWav(good([chunk('LIST', [1, 2])])), 'wav-malformed', /no fmt chunk/);
  expectWavError(() => parseWav(good([chunk('fmt ', fmtBody({}))])), 'wav-malformed', /no data chunk/);
  expectWavError(() => parseWav(good([chunk('fmt ', fmtBody({}).slice(0, 12)), data])), 'wav-malformed', /fmt chunk is 12 bytes, need at least 16/);
  expectWavError(() => parseWav(good([chunk('fmt ', fmtBody({ ch: 0, align: 0 })), data])), 'wav-malformed', /0 channels/);
  expectWavError(() => parseWav(good([chunk('fmt ', fmtBody({ ch: 65 })), data])), 'wav-unsupported', /65 channels/);
  expectWavError(() => parseWav(good([chunk('fmt ', fmtBody({ rate: 0 })), data])), 'wav-malformed', /sample rate of 0 Hz/);
  expectWavError(() => parseWav(good([chunk('fmt ', fmtBody({ rate: 4_000_000_000 })), data])), 'wav-unsupported', /sample rate 4000000000 Hz/);
  expectWavError(() => parseWav(good([chunk('fmt ', fmtBody({ rate: 10 })), data])), 'wav-unsupported', /sample rate 10 Hz/);
  expectWavError(() => parseWav(good([chunk('fmt ', fmtBody({ align: 3 })), data])), 'wav-malformed', /block align is 3, expected 2 \(1 channels × 2 bytes\)/);
  expectWavError(() => parseWav(good([chunk('fmt ', fmtBody({ bits: 0, align: 1 })), data])), 'wav-malformed', /0 bits/);
  expectWavError(() => parseWav(good([chunk('fmt ', fmtBody({ bits: 48 })), data])), 'wav-unsupported', /48-bit PCM/);
  expectWavError(() => parseWav(good([chunk('fmt ', fmtBody({ tag: 0x11, bits: 4, align: 256 })), data])), 'wav-unsupported', /0x0011 \(IMA ADPCM\)/);
  expectWavError(() => parseWav(good([chunk('fmt ', fmtBody({ tag: 0x1234 })), data])), 'wav-unsupported', /format tag 0x1234;/);
  expectWavError(() => parseWav(good([chunk('fmt ', fmtBody({ tag: 3, bits: 16 })), data])), 'wav-unsupported', /16-bit IEEE float/);
  expectWavError(() => parseWav(good([chunk('fmt ', fmtBody({ tag: 7, bits: 16 })), data])), 'wav-unsupported', /µ-law with 16 bits/);
  expectWavError(() => parseWav(good([chunk('fmt ', fmtBody({ tag: 0xfffe, extra: [...u16(0)] })), data])), 'wav-malformed', /fmt chunk is 18 bytes; WAVE_FORMAT_EXTENSIBLE needs 40/);
  expectWavError(() => parseWav(good([chunk('fmt ', extensibleFmt({ sub: 1, ch: 1, bits: 16, guidTail: EXT_GUID_TAIL.map((b, i) => (i === 13 ? b ^ 1 : b)) })), data])), 'wav-unsupported', /GUID/);
  expectWavError(() => parseWav(good([chunk('fmt ', extensibleFmt({ sub: 1, ch: 1, bits: 16, valid: 20 })), data])), 'wav-malformed', /valid bits per sample \(20\) exceed the container \(16\)/);
  expectWavError(() => parseWav(good([chunk('fmt ', extensibleFmt({ sub: 1, ch: 1, bits: 12 })), data])), 'wav-malformed', /12 bits, not a multiple of 8/);
  expectWavError(() => parseWav(good([chunk('fmt ', fmtBody({ ch: 2 })), chunk('data', pcm16Bytes([1, 2, 3]))])), 'wav-malformed', /data chunk is 6 bytes, not a multiple of the 4-byte frame/);
});

test('truncation: wav-truncated by default, the whole frames present with allowTruncated', () => {
  const full = serializeWav({ sampleRate: 8000, channels: [ramp(100, 3), ramp(100, 4)] });
  const cut = full.subarray(0, full.length - 37); // 9 frames and one odd byte missing
  expectWavError(() => parseWav(cut), 'wav-truncated', /data chunk declares 400 bytes but only 363 remain/);
  const w = parseWav(cut, { allowTruncated: true });
  assert.equal(w.truncated, true);
  assert.equal(w.channels[0]?.length, 90);
  assert.deepEqual(w.channels[1], ramp(100, 4).subarray(0, 90));
  // a chunk before the data running past the end of file
  const bad = riff([chunk('fmt ', fmtBody({})), chunk('LIST', [1, 2, 3, 4], { declared: 1000 })]);
  expectWavError(() => parseWav(bad), 'wav-truncated', /'LIST' chunk at offset 36 declares 1000 bytes but only 4 remain, and no data chunk/);
  expectWavError(() => parseWav(bad, { allowTruncated: true }), 'wav-truncated');
  // fmt itself cut short
  expectWavError(() => parseWav(full.subarray(0, 30)), 'wav-truncated', /fmt chunk at offset 12 declares 16 bytes but only 10 remain/);
});

// ---------------------------------------------------------------- fuzzing
function checkResult(bytes: Uint8Array, allowTruncated: boolean): void {
  let w: WavAudio;
  try {
    w = parseWav(bytes, { allowTruncated });
  } catch (e) {
    if (e instanceof CardlineError && e.code.startsWith('wav-')) {
      assert.ok(!e.message.includes('\n') && e.message.length < 300, 'one-line, short message');
      return;
    }
    throw e;
  }
  assert.ok(w.channels.length >= 1 && w.channels.length <= 64);
  const frames = w.channels[0]?.length ?? -1;
  for (const c of w.channels) { assert.ok(c instanceof Int16Array); assert.equal(c.length, frames); }
  // never more samples than the bytes could hold
  assert.ok(frames * w.channels.length * (w.format.bitsPerSample / 8) <= bytes.length);
  assert.ok(w.sampleRate >= 1000 && w.sampleRate <= 768000);
}

const validFiles: Uint8Array[] = [
  serializeWav({ sampleRate: 8000, channels: [ramp(64)] }),
  serializeWav({ sampleRate: 16000, channels: [ramp(33), ramp(33, 2)], format: WAV_ULAW }),
  serializeWav({ sampleRate: 44100, channels: [ramp(20), ramp(20), ramp(20)], format: fmt({ encoding: 'pcm', bitsPerSample: 24, validBitsPerSample: 20, extensible: true, channelMask: 7 }) }),
  serializeWav({ sampleRate: 48000, channels: [ramp(17)], format: fmt({ encoding: 'float', bitsPerSample: 32 }) }),
  serializeWav({ sampleRate: 8000, channels: [ramp(9)], format: WAV_ALAW }),
  riff([chunk('LIST', [1, 2, 3]), chunk('fmt ', fmtBody({ bits: 8 })), chunk('data', [1, 2, 3, 4, 5])]),
];

test('fuzz: random bytes only ever give a WavAudio or a wav-* CardlineError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (b, t) => { checkResult(b, t); }), { numRuns: 2000, seed: 42 });
  // random bytes behind a valid RIFF/WAVE header reach the chunk parser
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (b, t) => {
    checkResult(new Uint8Array([...ascii('RIFF'), ...u32(b.length + 4), ...ascii('WAVE'), ...b]), t);
  }), { numRuns: 2000, seed: 43 });
});

test('fuzz: truncations and mutations of valid files only ever give a WavAudio or a wav-* CardlineError', () => {
  fc.assert(fc.property(fc.constantFrom(...validFiles), fc.nat(), fc.boolean(), (file, cut, t) => {
    checkResult(file.subarray(0, cut % (file.length + 1)), t);
  }), { numRuns: 2000, seed: 44 });
  fc.assert(fc.property(
    fc.constantFrom(...validFiles),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
    fc.boolean(),
    (file, edits, t) => {
      const m = file.slice();
      // bias half of the edits into the 60-byte header area where the length fields live
      edits.forEach(([at, v], i) => { m[(i % 2 === 0 ? at % Math.min(60, m.length) : at % m.length)] = v; });
      checkResult(m, t);
    },
  ), { numRuns: 4000, seed: 45 });
  // 32-bit length fields set to extreme values
  fc.assert(fc.property(fc.constantFrom(...validFiles), fc.constantFrom(4, 16, 40), fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff), fc.boolean(), (file, at, v, t) => {
    const m = file.slice();
    new DataView(m.buffer).setUint32(Math.min(at, m.length - 4), v, true);
    checkResult(m, t);
  }), { numRuns: 500, seed: 46 });
});

// ---------------------------------------------------------------- decodeWavChannel8k
function tone(f: number, rate: number, n: number, amp: number): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * f * i) / rate)));
}
function rms(x: Int16Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += (x[i] as number) ** 2;
  return Math.sqrt(s / Math.max(1, to - from));
}

test('decodeWavChannel8k picks a channel or the mix and resamples to 8 kHz', () => {
  const left = tone(1000, 16000, 16000, 8000);
  const right = tone(1000, 16000, 16000, 8000).map((v) => -v);
  const bytes = serializeWav({ sampleRate: 16000, channels: [left, right] });
  const ch1 = decodeWavChannel8k(bytes, { channel: 1 });
  assert.equal(ch1.samples.length, 8000);
  assert.equal(ch1.source.sampleRate, 16000);
  assert.equal(ch1.source.channels.length, 2);
  assert.ok(Math.abs(rms(ch1.samples, 400, 7600) - 8000 / Math.SQRT2) < 20);
  const ch0 = decodeWavChannel8k(bytes);
  for (let i = 0; i < 8000; i++) assert.ok(Math.abs((ch0.samples[i] as number) + (ch1.samples[i] as number)) <= 1);
  const mix = decodeWavChannel8k(bytes, { channel: 'mix' });
  assert.ok(rms(mix.samples) < 1, 'opposite channels cancel in the mix');
  const native = decodeWavChannel8k(serializeWav({ sampleRate: 8000, channels: [left] }));
  assert.deepEqual(native.samples, left, '8 kHz input is returned as is');
  expectWavError(() => decodeWavChannel8k(bytes, { channel: 2 }), 'audio-invalid-argument', /channel 2 does not exist \(the file has 2 channels/);
  assert.deepEqual(pickChannel({ channels: [new Int16Array([1, 3]), new Int16Array([2, 4])] }, 'mix'), new Int16Array([2, 4]));
});

// ---------------------------------------------------------------- real files from sox
const soxOk = spawnSync('sox', ['--version']).status === 0;

function sox(args: string[]): void {
  const r = spawnSync('sox', args);
  assert.equal(r.status, 0, `sox ${args.join(' ')}: ${r.stderr.toString()}`);
}
function soxRaw16(file: string, dir: string): Int16Array {
  const raw = join(dir, 'ref.raw');
  sox(['-D', file, '-t', 'raw', '-e', 'signed', '-b', '16', '-L', raw]);
  const b = readFileSync(raw);
  return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

test('real files written by sox parse and match sox\'s own decoding', { skip: !soxOk && 'sox not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardline-wav-'));
  try {
    const variants: Array<{ name: string; args: string[]; enc: WavFormat['encoding']; bits: number; rate: number; ch: number; tol: number }> = [
      { name: 's16-16k-stereo', args: ['-r', '16000', '-c', '2', '-e', 'signed', '-b', '16'], enc: 'pcm', bits: 16, rate: 16000, ch: 2, tol: 0 },
      { name: 'ulaw-8k', args: ['-r', '8000', '-c', '1', '-e', 'u-law'], enc: 'ulaw', bits: 8, rate: 8000, ch: 1, tol: 0 },
      { name: 'alaw-8k-stereo', args: ['-r', '8000', '-c', '2', '-e', 'a-law'], enc: 'alaw', bits: 8, rate: 8000, ch: 2, tol: 0 },
      { name: 'float32-48k', args: ['-r', '48000', '-c', '1', '-e', 'floating-point', '-b', '32'], enc: 'float', bits: 32, rate: 48000, ch: 1, tol: 1 },
      { name: 'float64-8k', args: ['-r', '8000', '-c', '1', '-e', 'floating-point', '-b', '64'], enc: 'float', bits: 64, rate: 8000, ch: 1, tol: 1 },
      { name: 's24-44k1', args: ['-r', '44100', '-c', '2', '-e', 'signed', '-b', '24'], enc: 'pcm', bits: 24, rate: 44100, ch: 2, tol: 1 },
      { name: 's32-22k05', args: ['-r', '22050', '-c', '1', '-e', 'signed', '-b', '32'], enc: 'pcm', bits: 32, rate: 22050, ch: 1, tol: 1 },
      { name: 'u8-11k025', args: ['-r', '11025', '-c', '1', '-e', 'unsigned', '-b', '8'], enc: 'pcm', bits: 8, rate: 11025, ch: 1, tol: 0 },
      { name: 's16-6ch', args: ['-r', '8000', '-c', '6', '-e', 'signed', '-b', '16'], enc: 'pcm', bits: 16, rate: 8000, ch: 6, tol: 0 },
    ];
    for (const v of variants) {
      const file = join(dir, `${v.name}.wav`);
      sox(['-D', '-n', ...v.args, file, 'synth', '0.5', 'sine', '1000', 'vol', '0.7']);
      const w = parseWav(readFileSync(file));
      assert.equal(w.format.encoding, v.enc, v.name);
      assert.equal(w.format.bitsPerSample, v.bits, v.name);
      assert.equal(w.sampleRate, v.rate, v.name);
      assert.equal(w.channels.length, v.ch, v.name);
      // sox writes WAVE_FORMAT_EXTENSIBLE for > 2 channels and > 16 bits
      if (v.ch > 2 || v.bits > 16 && v.enc === 'pcm') assert.equal(w.format.extensible, true, `${v.name} is extensible`);
      if (v.ch === 6) assert.equal(w.format.channelMask, 0x3f);
      assert.equal(w.channels[0]?.length, Math.floor(v.rate / 2), v.name);
      const ref = soxRaw16(file, dir);
      assert.equal(ref.length, Math.floor(v.rate / 2) * v.ch);
      let maxDiff = 0;
      for (let i = 0; i < ref.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs((ref[i] as number) - (w.channels[i % v.ch]?.[Math.floor(i / v.ch)] as number)));
      }
      assert.ok(maxDiff <= v.tol, `${v.name}: max difference to sox ${maxDiff} > ${v.tol}`);
      // the 1 kHz tone survives the 8 kHz path at the right level (0.7 of full scale)
      const { samples } = decodeWavChannel8k(readFileSync(file));
      assert.equal(samples.length, 4000);
      const level = rms(samples, 400, 3600) / (0.7 * 32768 / Math.SQRT2);
      assert.ok(Math.abs(20 * Math.log10(level)) < (v.enc === 'pcm' && v.bits === 8 ? 0.2 : 0.1), `${v.name}: level ${level}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('files written by serializeWav are read by sox with the same format and samples', { skip: !soxOk && 'sox not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardline-wav-'));
  try {
    const x = ramp(1234, 9);
    const cases: Array<[WavFormat, RegExp]> = [
      [WAV_PCM16, /16-bit Signed Integer PCM/],
      [WAV_ULAW, /8-bit u-law/],
      [WAV_ALAW, /8-bit A-law/],
      [fmt({ encoding: 'pcm', bitsPerSample: 24 }), /24-bit Signed Integer PCM/],
      [fmt({ encoding: 'float', bitsPerSample: 32, extensible: true, channelMask: 3 }), /32-bit Floating Point PCM/],
    ];
    for (const [format, encName] of cases) {
      const file = join(dir, 'ours.wav');
      writeFileSync(file, serializeWav({ sampleRate: 16000, channels: [x, x.map((v) => v >> 1)], format }));
      const info = spawnSync('sox', ['--i', file]).stdout.toString();
      assert.match(info, /Channels\s*: 2/);
      assert.match(info, /Sample Rate\s*: 16000/);
      assert.match(info, encName);
      assert.match(info, /Duration\s*: 00:00:00.08 = 1234 samples/);
      const ref = soxRaw16(file, dir);
      const ours = parseWav(readFileSync(file));
      for (let i = 0; i < ref.length; i++) assert.equal(ref[i], ours.channels[i % 2]?.[i >> 1], `${JSON.stringify(format)} sample ${i}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
