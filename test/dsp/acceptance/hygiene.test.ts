/**
 * Card-data hygiene at the DSP layer (PCI DSS 4.0 req. 3.3 / 3.4; house style 6): what the masker
 * reports for display, logs and recordings — spans, errors, the object itself if someone logs it, and
 * the CLI's `dtmf mask` output — never carries the keys typed. Only the secure sink (`onDigit`) does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { DtmfMasker } from '../../../src/dsp/dtmf/masker.ts';
import type { MaskMode } from '../../../src/dsp/dtmf/masker.ts';
import { DtmfDetector, detectDtmf } from '../../../src/dsp/dtmf/detector.ts';
import { isCardlineError } from '../../../src/errors/index.ts';
import type { MaskSpan } from '../../../src/dsp/types.ts';
import { cardEntry, keysMismatch } from '../../support/card-entry.ts';

const PAN = '4556737586899855';
const EXPIRY = '0831';
const CVV = '947';
const entry = cardEntry({ name: 'hygiene', groups: [`${PAN}#`, `${EXPIRY}#`, `${CVV}#`], levelDbm0: -12 });

/**
 * For object dumps full of numbers (sample buffers, filter states), 4-digit runs occur by chance; a
 * leaked key there is a *string*: look for quoted strings made only of keys, and digit fields.
 */
function assertCleanDump(text: string, where: string): void {
  assert.ok(!/['"`][0-9*#A-D]+['"`]/.test(text), `${where} contains a string of keys`);
  assert.ok(!/digit\w*['"]?\s*[:=]\s*['"][0-9*#A-D]/i.test(text), `${where} contains a digit field`);
  assert.ok(!text.includes(PAN), `${where} contains the PAN`);
}

/** No card datum, nor any 4-digit run of the PAN, in `text`. */
function assertClean(text: string, where: string): void {
  for (let i = 0; i + 4 <= PAN.length; i++) {
    assert.ok(!text.includes(PAN.slice(i, i + 4)), `${where} contains part of the PAN`);
  }
  assert.ok(!/digit['"]?\s*[:=]\s*['"][0-9*#A-D]['"]/.test(text), `${where} contains a digit field`);
}

test('MaskSpan objects carry positions only', () => {
  for (const mode of ['tone', 'silence', 'noise'] as MaskMode[]) {
    const spans: MaskSpan[] = [];
    let sunk = '';
    const m = new DtmfMasker({ mode, onSpan: (s) => spans.push(s), onDigit: (e) => { sunk += e.digit; } });
    // Mid-stream (a tone is still in the look-ahead), as someone might log it by accident: inspect is
    // what console.log and logger fallbacks use.
    const cut = (entry.events.at(-1)?.startSample ?? 0) + 400;
    m.process(entry.input.subarray(0, cut));
    assertCleanDump(inspect(m, { depth: Infinity, showHidden: true }), `inspect(masker) mid-stream in mode ${mode}`);
    m.process(entry.input.subarray(cut));
    m.flush();
    assertCleanDump(inspect(m, { depth: Infinity, showHidden: true }), `inspect(masker) after flush in mode ${mode}`);
    assert.equal(keysMismatch(sunk, entry.typed), null, 'the secure sink still gets the keys');
    assert.ok(spans.length >= entry.typed.length);
    for (const s of spans) {
      const keys = Object.keys(s).sort();
      // Positions, plus at most a "was this a confirmed key press" flag: nothing that says which key.
      assert.ok(JSON.stringify(keys) === '["endSample","startSample"]' || JSON.stringify(keys) === '["endSample","keyPress","startSample"]',
        `span fields: ${keys.join(',')}`);
      const flag: unknown = (s as unknown as Record<string, unknown>).keyPress;
      assert.ok(flag === undefined || typeof flag === 'boolean');
      assert.ok(Number.isInteger(s.startSample) && Number.isInteger(s.endSample) && s.endSample > s.startSample);
    }
    assertClean(JSON.stringify(spans), 'JSON of the spans');
  }
});

test('errors from the masker and the detector are typed and carry no card data', () => {
  const misuse: [string, () => unknown][] = [
    ['unknown mode', () => new DtmfMasker({ mode: 'loud' as MaskMode })],
    ['negative look-ahead', () => new DtmfMasker({ lookaheadMs: -5 })],
    ['NaN look-ahead', () => new DtmfMasker({ lookaheadMs: Number.NaN })],
    ['absurd look-ahead', () => new DtmfMasker({ lookaheadMs: 1e9 })],
    ['output buffer too short after card entry', () => {
      const m = new DtmfMasker();
      m.process(entry.input.subarray(0, entry.input.length - 800));
      m.process(entry.input.subarray(entry.input.length - 800), new Int16Array(10));
    }],
  ];
  // Misuse only possible by defeating the types: rejecting it is optional, leaking through it is not.
  const optional: [string, () => unknown][] = [
    ['not PCM (masker)', () => new DtmfMasker().process(PAN as unknown as Int16Array)],
    ['not PCM (detector)', () => new DtmfDetector().process([4, 5, 5, 6] as unknown as Int16Array)],
    ['not PCM (detectDtmf)', () => detectDtmf(Buffer.from(PAN) as unknown as Int16Array)],
  ];
  for (const [what, f] of [...misuse, ...optional]) {
    let err: unknown = null;
    try {
      f();
    } catch (e) {
      err = e;
    }
    if (err === null && optional.some(([w]) => w === what)) continue;
    assert.ok(err !== null, `${what}: rejected`);
    const required = misuse.some(([w]) => w === what);
    if (required) assert.ok(isCardlineError(err), `${what}: a typed CardlineError from the catalogue`);
    const e = err instanceof Error ? err : new Error(String(err));
    assertClean(`${e.message} ${JSON.stringify(e)} ${String(e.stack)}`, `${what}: error`);
  }
});

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/cardline.js', ...args], { cwd: join(import.meta.dirname, '..', '..', '..') }, (err, stdout, stderr) => {
      const code = err && typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : err ? 1 : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Minimal PCM16 mono 8 kHz WAV (RIFF/WAVE, fmt chunk PCM = 1). */
function wav(x: Int16Array): Buffer {
  const data = Buffer.alloc(x.length * 2);
  x.forEach((v, i) => data.writeInt16LE(v, i * 2));
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(16000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

test('CLI `dtmf mask` prints spans, never digits', async (t) => {
  const help = await runCli(['dtmf', 'mask', '--help']);
  if (help.code !== 0) {
    t.skip('`cardline dtmf mask` is not there yet');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'cardline-hygiene-'));
  try {
    const input = join(dir, 'in.wav');
    writeFileSync(input, wav(entry.input));
    for (const extra of [[], ['--json'], ['--mode', 'noise', '--json'], ['--mode', 'silence']]) {
      const r = await runCli(['dtmf', 'mask', input, join(dir, 'out.wav'), ...extra]);
      assert.equal(r.code, 0, `exit code (${extra.join(' ')}): ${r.stderr.slice(0, 200)}`);
      const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
      assert.equal(lines.length, entry.typed.length, 'one line per key press');
      for (const l of lines) {
        if (extra.includes('--json')) {
          const o = JSON.parse(l) as Record<string, unknown>;
          assert.deepEqual(Object.keys(o).sort(), ['endMs', 'startMs']);
          assert.ok(typeof o.startMs === 'number' && typeof o.endMs === 'number');
        } else {
          // Times only: no token that is a lone key (0-9 * # A-D).
          assert.ok(!l.split(/[\s,;=:()[\]]+/).some((tok) => /^[0-9*#A-D]$/.test(tok)), 'a plain line holds no lone key');
        }
      }
      // Times in ms can contain any 4 digits, so only whole card data is looked for here.
      for (const secret of [PAN, PAN.slice(-8), `${EXPIRY}#`, `${CVV}#`]) {
        assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'card data on stdout/stderr');
      }
      assert.ok(!/digit/i.test(r.stdout), 'no digit field on stdout');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
