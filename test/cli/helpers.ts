import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';

export const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/cardline.js');

export interface RunResult { status: number | null; stdout: string; stderr: string }

/** Runs the real CLI (`node bin/cardline.js …`) as a separate process in `cwd`. */
export function cardline(args: string[], cwd: string): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh temporary folder, removed when the test file finishes. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function lines(s: string): string[] {
  return s.split('\n').filter((l) => l.length > 0);
}
