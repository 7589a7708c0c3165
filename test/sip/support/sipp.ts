/**
 * Runs sipp (Debian `sip-tester`) as a real SIP peer. Each run gets its own working directory (sipp writes logs
 * there). Processes are stopped by PID: SIGTERM, then SIGKILL if one lingers — never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SippRun {
  child: ChildProcess;
  /** Resolves when sipp exits (code, or null when killed). */
  done: Promise<{ code: number | null; output: string }>;
  stop(): Promise<void>;
}

export function startSipp(args: string[], opts: { timeoutMs?: number; cwd?: string } = {}): SippRun {
  const cwd = opts.cwd ?? mkdtempSync(join(tmpdir(), 'cardline-sipp-'));
  const child = spawn('sipp', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-20000); });
  child.stderr!.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-20000); });
  const done = new Promise<{ code: number | null; output: string }>((resolve) => {
    child.once('exit', (code) => {
      if (!opts.cwd) rmSync(cwd, { recursive: true, force: true });
      resolve({ code, output });
    });
    child.once('error', (e) => resolve({ code: -1, output: `${output}\n${e.message}` }));
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => { if (child.exitCode === null) child.kill('SIGKILL'); }, 2000);
    await done;
    clearTimeout(t);
  };
  if (opts.timeoutMs) {
    const t = setTimeout(() => void stop(), opts.timeoutMs);
    void done.then(() => clearTimeout(t));
  }
  return { child, done, stop };
}

/** A port free for both UDP and TCP on 127.0.0.1 at the time of asking. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port');
}
