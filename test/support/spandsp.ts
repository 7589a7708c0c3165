/**
 * spandsp's DTMF receiver as an independent reference for tests (tools/spandsp-ref/dtmf_ref.c).
 *
 * The C harness is compiled on demand by tools/spandsp-ref/build.sh (idempotent, once per process
 * here) against Debian's libspandsp-dev, then run as a child process: raw s16le 8 kHz mono PCM on
 * stdin, one line per digit on stdout.
 */
import { execFile, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toS16le } from './audio.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD_SCRIPT = join(ROOT, 'tools', 'spandsp-ref', 'build.sh');

export interface SpandspDigit {
  digit: string;
  /** Estimated start sample (two spandsp blocks of 102 samples before the "on" decision). */
  sample: number;
  /** Estimated end sample (exclusive; the input's length if the digit was still on at the end). */
  endSample: number;
  /** Exact sample position at which spandsp confirmed the digit. */
  onConfirmSample: number;
  /** spandsp's level estimate of the tone pair, dBm0. */
  levelDbm0: number;
}

export interface SpandspOptions {
  /** A more generous receiver: twist 14 dB, reverse twist 12 dB, threshold -50 dBm0. */
  sensitive?: boolean;
}

let binary: Promise<string> | null = null;

/** Builds the reference receiver if needed and resolves to its path. */
export function spandspBinary(): Promise<string> {
  if (!binary) {
    binary = new Promise<string>((resolve, reject) => {
      execFile('bash', [BUILD_SCRIPT], { cwd: ROOT }, (err, stdout, stderr) => {
        if (err) reject(new Error(`building the spandsp reference failed: ${String(stderr).trim() || err.message}`));
        else resolve(String(stdout).trim().split('\n').pop() ?? '');
      });
    });
  }
  return binary;
}

const LINE = /^([0-9*#A-D]) (\d+) (\d+) (\d+) (-?\d+) (-?\d+)$/;
const TRAILER = /^# samples=(\d+) digits=(\d+)$/;

export function parseSpandspOutput(stdout: string, expectedSamples: number): SpandspDigit[] {
  const out: SpandspDigit[] = [];
  let trailer: RegExpExecArray | null = null;
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const t = TRAILER.exec(line);
    if (t) {
      trailer = t;
      continue;
    }
    const m = LINE.exec(line);
    if (!m) throw new Error(`unexpected line from the spandsp reference (${line.length} chars)`);
    out.push({
      digit: m[1] ?? '',
      sample: Number(m[2]),
      endSample: Number(m[3]),
      onConfirmSample: Number(m[4]),
      levelDbm0: Number(m[6]),
    });
  }
  // The trailer proves the harness read the whole input and printed everything.
  if (!trailer) throw new Error('the spandsp reference output has no trailer (incomplete run)');
  if (Number(trailer[1]) !== expectedSamples) {
    throw new Error(`the spandsp reference read ${trailer[1]} samples, expected ${expectedSamples}`);
  }
  if (Number(trailer[2]) !== out.length) throw new Error('the spandsp reference digit count does not match');
  return out;
}

/** Runs spandsp's dtmf_rx over `samples` (8 kHz) and returns every digit it reports, in order. */
export async function spandspDetect(samples: Int16Array, opts: SpandspOptions = {}): Promise<SpandspDigit[]> {
  const bin = await spandspBinary();
  const args = opts.sensitive ? ['--sensitive'] : [];
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    const errs: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => errs.push(c));
    child.on('error', reject);
    child.stdin.on('error', () => {
      /* EPIPE if the child died early; the exit code below reports it. */
    });
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(chunks).toString('utf8'));
      else reject(new Error(`spandsp reference exited with ${code}: ${Buffer.concat(errs).toString('utf8').trim()}`));
    });
    child.stdin.end(toS16le(samples));
  });
  return parseSpandspOutput(stdout, samples.length);
}
