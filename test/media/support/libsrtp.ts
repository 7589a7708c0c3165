/**
 * libsrtp2 (Debian's libsrtp2-dev) as an independent SRTP implementation for interop tests.
 * The C harness next to this file is compiled on demand, once per source version, into the OS temp folder.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'srtp_ref.c');

/** Why the reference cannot run here, or null when it can. */
export function libsrtpUnavailable(): string | null {
  if (!existsSync('/usr/include/srtp2/srtp.h')) return 'libsrtp2-dev is not installed (apt-get install libsrtp2-dev)';
  if (spawnSync('gcc', ['--version']).status !== 0) return 'gcc is not installed';
  return null;
}

let built: string | null = null;

/** Compiles the harness if needed and returns its path. */
export function libsrtpBinary(): string {
  if (built) return built;
  const src = readFileSync(SOURCE);
  const dir = join(tmpdir(), 'cardline-test-srtp-ref', createHash('sha256').update(src).digest('hex').slice(0, 16));
  const bin = join(dir, 'srtp_ref');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${bin}.${process.pid}`;
    execFileSync('gcc', ['-O2', '-Wall', '-o', tmp, SOURCE, '-lsrtp2']);
    execFileSync('mv', ['-f', tmp, bin]);
  }
  built = bin;
  return bin;
}

export type LibsrtpMode = 'protect' | 'unprotect' | 'protect_rtcp' | 'unprotect_rtcp';

/** Runs one libsrtp session over `packets` in order; each result is the output packet or an error string. */
export function runLibsrtp(mode: LibsrtpMode, suite: 80 | 32, keyAndSalt: Uint8Array, packets: readonly Uint8Array[]): Array<Uint8Array | string> {
  const input = packets.map((p) => Buffer.from(p).toString('hex')).join('\n') + '\n';
  const r = spawnSync(libsrtpBinary(), [mode, String(suite), Buffer.from(keyAndSalt).toString('hex')], { input, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`srtp_ref exited ${r.status}: ${String(r.stderr)}`);
  const lines = String(r.stdout).split('\n').filter((l) => l !== '');
  if (lines.length !== packets.length) throw new Error(`srtp_ref returned ${lines.length} lines for ${packets.length} packets`);
  return lines.map((l) => (l.startsWith('ERR') ? l : new Uint8Array(Buffer.from(l, 'hex'))));
}
