import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  alawDecode, alawEncode, alawToLinear, linearToAlaw, linearToUlaw, ulawDecode, ulawEncode, ulawToLinear,
} from '../../../src/dsp/g711.ts';
import { CardlineError } from '../../../src/errors/index.ts';

// ---- An independent, deliberately naive transcription of the Sun/CCITT reference routines (g711.c) ----
// µ-law: the version without an explicit clip (out-of-range magnitudes saturate through `seg >= 8`);
// it must agree with the "bias 0x84, clip 32635" formulation used by the library.
const SEG_END = [0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff, 0x3fff, 0x7fff];
const SEG_AEND = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
function search(val: number, table: number[]): number {
  for (let i = 0; i < table.length; i++) if (val <= (table[i] as number)) return i;
  return table.length;
}
function refLinear2ulaw(pcm: number): number {
  let v = pcm;
  let mask: number;
  if (v < 0) { v = 0x84 - v; mask = 0x7f; } else { v += 0x84; mask = 0xff; }
  const seg = search(v, SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((v >> (seg + 3)) & 0xf)) ^ mask;
}
function refUlaw2linear(code: number): number {
  const u = ~code & 0xff;
  let t = ((u & 0xf) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return u & 0x80 ? 0x84 - t : t - 0x84;
}
function refLinear2alaw(pcm: number): number {
  let v = pcm >> 3;
  let mask: number;
  if (v >= 0) mask = 0xd5; else { mask = 0x55; v = -v - 1; }
  const seg = search(v, SEG_AEND);
  if (seg >= 8) return 0x7f ^ mask;
  let aval = seg << 4;
  aval |= seg < 2 ? (v >> 1) & 0xf : (v >> seg) & 0xf;
  return aval ^ mask;
}
function refAlaw2linear(code: number): number {
  const a = code ^ 0x55;
  let t = (a & 0xf) << 4;
  const seg = (a & 0x70) >> 4;
  switch (seg) {
    case 0: t += 8; break;
    case 1: t += 0x108; break;
    default: t += 0x108; t <<= seg - 1;
  }
  return a & 0x80 ? t : -t;
}

const ALL_PCM = new Int16Array(65536);
for (let i = 0; i < 65536; i++) ALL_PCM[i] = i - 32768;
const ALL_CODES = new Uint8Array(256);
for (let i = 0; i < 256; i++) ALL_CODES[i] = i;

test('µ-law encode matches the reference for all 65 536 inputs (scalar and array)', () => {
  const arr = ulawEncode(ALL_PCM);
  for (let i = 0; i < 65536; i++) {
    const x = i - 32768;
    const want = refLinear2ulaw(x);
    if (linearToUlaw(x) !== want || arr[i] !== want) assert.fail(`µ-law encode ${x}: got ${linearToUlaw(x)}/${arr[i]}, want ${want}`);
  }
});

test('A-law encode matches the reference for all 65 536 inputs (scalar and array)', () => {
  const arr = alawEncode(ALL_PCM);
  for (let i = 0; i < 65536; i++) {
    const x = i - 32768;
    const want = refLinear2alaw(x);
    if (linearToAlaw(x) !== want || arr[i] !== want) assert.fail(`A-law encode ${x}: got ${linearToAlaw(x)}/${arr[i]}, want ${want}`);
  }
});

test('µ-law and A-law decode match the reference for all 256 codes (scalar and array)', () => {
  const u = ulawDecode(ALL_CODES);
  const a = alawDecode(ALL_CODES);
  for (let c = 0; c < 256; c++) {
    assert.equal(ulawToLinear(c), refUlaw2linear(c), `µ-law ${c}`);
    assert.equal(u[c], refUlaw2linear(c), `µ-law array ${c}`);
    assert.equal(alawToLinear(c), refAlaw2linear(c), `A-law ${c}`);
    assert.equal(a[c], refAlaw2linear(c), `A-law array ${c}`);
  }
});

test('known G.711 vectors', () => {
  // µ-law: both zero codes decode to 0; linear 0 encodes to 0xFF (positive zero)
  assert.equal(ulawToLinear(0xff), 0);
  assert.equal(ulawToLinear(0x7f), 0);
  assert.equal(linearToUlaw(0), 0xff);
  assert.equal(ulawToLinear(0x80), 32124); // largest positive µ-law value
  assert.equal(ulawToLinear(0x00), -32124);
  assert.equal(linearToUlaw(32767), 0x80);
  assert.equal(linearToUlaw(-32768), 0x00);
  // A-law: no zero code; the two codes nearest to zero are ±8, silence is 0xD5
  assert.equal(alawToLinear(0xd5), 8);
  assert.equal(alawToLinear(0x55), -8);
  assert.equal(linearToAlaw(0), 0xd5);
  assert.equal(linearToAlaw(-1), 0x55);
  assert.equal(alawToLinear(0xaa), 32256);
  assert.equal(alawToLinear(0x2a), -32256);
  assert.equal(linearToAlaw(32767), 0xaa);
  assert.equal(linearToAlaw(-32768), 0x2a);
});

test('decode(encode(decode(b))) == decode(b) for every code, both laws', () => {
  for (let c = 0; c < 256; c++) {
    assert.equal(ulawToLinear(linearToUlaw(ulawToLinear(c))), ulawToLinear(c));
    assert.equal(alawToLinear(linearToAlaw(alawToLinear(c))), alawToLinear(c));
    // A-law is a bijection on its codes; µ-law only merges the two zeros
    assert.equal(linearToAlaw(alawToLinear(c)), c);
    if (c !== 0x7f) assert.equal(linearToUlaw(ulawToLinear(c)), c);
  }
});

test('decoded values are strictly monotonic in magnitude order (no table hole)', () => {
  const u = [...ALL_CODES].map(ulawToLinear).sort((x, y) => x - y);
  const a = [...ALL_CODES].map(alawToLinear).sort((x, y) => x - y);
  assert.equal(new Set(u).size, 255); // two zeros
  assert.equal(new Set(a).size, 256);
  // encoding is monotonic non-decreasing in the decoded value
  let prevU = -Infinity;
  let prevA = -Infinity;
  for (let x = -32768; x < 32768; x += 7) {
    const du = ulawToLinear(linearToUlaw(x));
    const da = alawToLinear(linearToAlaw(x));
    assert.ok(du >= prevU && da >= prevA, `monotonic at ${x}`);
    prevU = du; prevA = da;
  }
});

test('scalar encoders clamp out-of-range numbers and NaN', () => {
  assert.equal(linearToUlaw(1e9), linearToUlaw(32767));
  assert.equal(linearToUlaw(-1e9), linearToUlaw(-32768));
  assert.equal(linearToAlaw(40000), linearToAlaw(32767));
  assert.equal(linearToUlaw(Number.NaN), linearToUlaw(0));
  assert.equal(linearToAlaw(Number.NaN), linearToAlaw(0));
});

test('array functions write into a caller buffer and reject one that is too small', () => {
  const pcm = new Int16Array([0, 1000, -1000]);
  const big = new Uint8Array(10).fill(0x33);
  const enc = ulawEncode(pcm, big);
  assert.equal(enc.length, 3);
  assert.equal(enc.buffer, big.buffer);
  assert.deepEqual([...big.subarray(0, 4)], [0xff, linearToUlaw(1000), linearToUlaw(-1000), 0x33]);
  const dec = new Int16Array(3);
  assert.equal(alawDecode(alawEncode(pcm), dec), dec);
  assert.throws(() => ulawEncode(pcm, new Uint8Array(2)), (e: unknown) => e instanceof CardlineError && e.code === 'audio-invalid-argument');
  assert.throws(() => alawDecode(new Uint8Array(5), new Int16Array(4)), (e: unknown) => e instanceof CardlineError && e.code === 'audio-invalid-argument');
});

test('quantisation error is at most half a step of the sample\'s segment (decoder returns interval midpoints)', () => {
  for (let x = -32768; x <= 32767; x++) {
    const eu = Math.abs(ulawToLinear(linearToUlaw(x)) - x);
    const ea = Math.abs(alawToLinear(linearToAlaw(x)) - x);
    // µ-law: segment e of |x| + 0x84 has a step of 2^(e+3) at 16-bit scale; beyond the clip the error grows
    const m = Math.min(Math.abs(x), 32635);
    const e = Math.floor(Math.log2(m + 0x84)) - 7;
    const boundU = 2 ** (e + 2) + (Math.abs(x) - m);
    // A-law: 13-bit magnitude v; segments 0 and 1 share a step of 16, segment s >= 2 has 2^(s+3)
    const v = x >= 0 ? x >> 3 : -(x >> 3) - 1;
    const seg = v < 32 ? 0 : Math.floor(Math.log2(v)) - 4;
    const boundA = seg < 2 ? 8 : 2 ** (seg + 2);
    if (eu > boundU) assert.fail(`µ-law error ${eu} > ${boundU} at ${x}`);
    if (ea > boundA) assert.fail(`A-law error ${ea} > ${boundA} at ${x}`);
  }
});

test('decode tables agree with sox\'s G.711 decoder for all 256 codes (external oracle)', (t) => {
  const probe = spawnSync('sox', ['--version']);
  if (probe.status !== 0) { t.skip('sox not installed'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'cardline-g711-'));
  try {
    const codes = join(dir, 'codes.raw');
    writeFileSync(codes, ALL_CODES);
    for (const [enc, decode] of [['u-law', ulawToLinear], ['a-law', alawToLinear]] as const) {
      const out = join(dir, `${enc}.raw`);
      const r = spawnSync('sox', ['-t', 'raw', '-r', '8000', '-e', enc, '-b', '8', '-c', '1', codes, '-t', 'raw', '-e', 'signed', '-b', '16', '-L', out]);
      assert.equal(r.status, 0, r.stderr.toString());
      const b = readFileSync(out);
      const pcm = new Int16Array(b.buffer, b.byteOffset, b.length / 2);
      assert.equal(pcm.length, 256);
      for (let c = 0; c < 256; c++) assert.equal(pcm[c], decode(c), `${enc} code ${c}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
