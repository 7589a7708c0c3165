/**
 * `npm run bench:dtmf` (via bench/dtmf/run.sh): throughput of Cardline's DTMF detector and masker
 * against spandsp's dtmf_rx (C, bench/dtmf/spandsp_bench.c) on the same ≥ 10 minutes of audio —
 * espeak-ng speech in 20 voice settings (full band and phone-band) with typed card numbers, expiries
 * and security codes between and over it. Not a test: it prints a table and asserts nothing.
 *
 * Timing: process.hrtime around processing only, one untimed warm-up run (JIT), then the median of
 * --reps runs (default 9). Both 20 ms RTP frames (160 samples) and the whole file in one call.
 *
 * Options: --minutes M (default 10.5), --reps N (default 9).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DtmfDetector } from '../../src/dsp/dtmf/detector.ts';
import { DtmfMasker } from '../../src/dsp/dtmf/masker.ts';
import type { DtmfEvent } from '../../src/dsp/types.ts';
import { cardEntry } from '../../test/support/card-entry.ts';
import { concat, prng, silence, speechClips, toS16le } from '../../test/support/corpus.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`bench: --${name} needs a positive number\n`);
    process.exit(2);
  }
  return v;
}

const MINUTES = arg('minutes', 10.5);
const REPS = Math.round(arg('reps', 9));
const CHUNK = 160;

/** A Luhn-valid 16-digit test PAN from a seeded source (synthetic, never a real card). */
function syntheticPan(rand: () => number): string {
  const d: number[] = [4];
  while (d.length < 15) d.push(Math.floor(rand() * 10));
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    let v = d[14 - i] ?? 0;
    if (i % 2 === 0) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
  }
  d.push((10 - (sum % 10)) % 10);
  return d.join('');
}

async function buildAudio(): Promise<{ samples: Int16Array; typed: string; entries: number }> {
  const rand = prng(20240601);
  const full = await speechClips();
  const band = await speechClips({ bandLimit: true });
  const pool = [...full, ...band];
  const parts: Int16Array[] = [];
  let typed = '';
  let n = 0;
  let entries = 0;
  const target = MINUTES * 60 * 8000;
  for (let i = 0; n < target; i++) {
    const speech = pool[i % pool.length];
    const bg = pool[(i + 7) % pool.length];
    if (!speech || !bg) throw new Error('empty speech corpus');
    parts.push(speech.samples);
    n += speech.samples.length;
    const timing = [[80, 80], [60, 60], [100, 120], [50, 50]][i % 4] ?? [80, 80];
    const mm = String(1 + Math.floor(rand() * 12)).padStart(2, '0');
    const yy = String(26 + Math.floor(rand() * 8));
    const cvv = String(Math.floor(rand() * 1000)).padStart(3, '0');
    const ce = cardEntry({
      name: `entry ${i}`,
      groups: [`${syntheticPan(rand)}#`, `${mm}${yy}#`, `${cvv}#`],
      onMs: timing[0] ?? 80,
      offMs: timing[1] ?? 80,
      levelDbm0: -5 - Math.round(rand() * 20),
      twistDb: Math.round(rand() * 7) - 4,
      ...(i % 2 === 1 ? { background: bg.samples, backgroundDb: 25 } : {}),
    });
    parts.push(ce.input, silence(800));
    n += ce.input.length + 800;
    typed += ce.typed;
    entries++;
  }
  return { samples: concat(...parts), typed, entries };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

function timeIt(reps: number, run: () => void): number {
  run(); // warm-up: JIT tiers, inline caches
  const t: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    run();
    t.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(t);
}

function detectorRun(x: Int16Array, chunk: number): DtmfEvent[] {
  const det = new DtmfDetector();
  const out: DtmfEvent[] = [];
  for (let p = 0; p < x.length; p += chunk) {
    const ev = det.process(x.subarray(p, Math.min(x.length, p + chunk)));
    for (const e of ev) out.push(e);
  }
  for (const e of det.flush()) out.push(e);
  return out;
}

function maskerRun(x: Int16Array, chunk: number, out: Int16Array): number {
  let spans = 0;
  const m = new DtmfMasker({ onSpan: () => { spans++; } });
  for (let p = 0; p < x.length; p += chunk) {
    const len = Math.min(chunk, x.length - p);
    m.process(x.subarray(p, p + len), out.subarray(0, len));
  }
  m.flush();
  return spans;
}

interface CResult {
  samples: number;
  chunk: number;
  reps: number;
  medianSec: number;
  bestSec: number;
  digits: string;
}

function runC(bin: string, raw: string, chunk: number): Promise<CResult> {
  return new Promise((resolve, reject) => {
    execFile(bin, [raw, String(REPS), String(chunk)], { maxBuffer: 1 << 22 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`spandsp_bench failed: ${String(stderr).trim() || err.message}`));
      else resolve(JSON.parse(String(stdout)) as CResult);
    });
  });
}

/** Edit distance between two key strings (only the count is printed, never the keys). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

async function main(): Promise<void> {
  const bin = process.env.SPANDSP_BENCH_BIN;
  if (!bin) {
    process.stderr.write('bench: run through `npm run bench:dtmf` (bench/dtmf/run.sh builds the C harness)\n');
    process.exit(2);
  }
  const t0 = Date.now();
  const { samples, typed, entries } = await buildAudio();
  const outDir = join(ROOT, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  const raw = join(outDir, 'dtmf-bench.raw');
  writeFileSync(raw, toS16le(samples));
  const seconds = samples.length / 8000;
  process.stdout.write(`audio: ${(seconds / 60).toFixed(1)} min (${samples.length.toLocaleString('en')} samples at 8 kHz), ` +
    `${entries} card entries, ${typed.length} key presses; built in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

  const cFrame = await runC(bin, raw, CHUNK);
  const cWhole = await runC(bin, raw, 0);

  let events: DtmfEvent[] = [];
  const detFrame = timeIt(REPS, () => { events = detectorRun(samples, CHUNK); });
  const detWhole = timeIt(REPS, () => { detectorRun(samples, samples.length); });
  const frameBuf = new Int16Array(CHUNK);
  const wholeBuf = new Int16Array(samples.length);
  let spans = 0;
  const maskFrame = timeIt(REPS, () => { spans = maskerRun(samples, CHUNK, frameBuf); });
  const maskWhole = timeIt(REPS, () => { maskerRun(samples, samples.length, wholeBuf); });

  const n = samples.length;
  const rows: [string, number, number][] = [
    ['spandsp dtmf_rx (C -O2), 160-sample frames', n / cFrame.medianSec, n / cFrame.medianSec],
    ['spandsp dtmf_rx (C -O2), one call', n / cWhole.medianSec, n / cWhole.medianSec],
    ['Cardline DtmfDetector, 160-sample frames', n / detFrame, n / cFrame.medianSec],
    ['Cardline DtmfDetector, one call', n / detWhole, n / cWhole.medianSec],
    ['Cardline DtmfMasker, 160-sample frames', n / maskFrame, n / cFrame.medianSec],
    ['Cardline DtmfMasker, one call', n / maskWhole, n / cWhole.medianSec],
  ];
  const fmt = (v: number): string => Math.round(v).toLocaleString('en');
  process.stdout.write(`\nmedian of ${REPS} runs after one warm-up; ${cpus()[0]?.model ?? 'unknown CPU'}; Node ${process.version}\n\n`);
  const head = ['', 'samples/s', '8 kHz channels/core', '× spandsp'];
  const lines = rows.map(([name, sps, ref]) => [name, fmt(sps), fmt(sps / 8000), (sps / ref).toFixed(2)]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const pad = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('   ');
  process.stdout.write(`${pad(head)}\n${widths.map((w) => '-'.repeat(w)).join('   ')}\n`);
  for (const l of lines) process.stdout.write(`${pad(l)}\n`);

  const ours = events.map((e) => e.digit).join('');
  const ref = cFrame.digits;
  process.stdout.write(`\nkeys typed ${typed.length}; Cardline found ${ours.length} (${editDistance(ours, typed)} differences from what was typed); ` +
    `spandsp found ${ref.length} (${editDistance(ref, typed)} differences); Cardline vs spandsp: ` +
    `${ours === ref ? 'identical' : `${editDistance(ours, ref)} differences`}; masker spans ${spans}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
