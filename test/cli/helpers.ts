import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { main } from '../../src/cli/main.ts';

export const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/cardline.js');

export interface RunResult { status: number | null; stdout: string; stderr: string }

/** Runs the real CLI (`node bin/cardline.js …`) as a separate process in `cwd`. */
export function cardlineProcess(args: string[], cwd: string): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs the same entry point in this process (same parser, same exit-code mapping, output captured),
 * for the many cases where a process start would only add seconds. node:test runs each test file in
 * its own process, so changing directory here affects no other file.
 */
export async function cardline(args: string[], cwd: string): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const before = process.cwd();
  process.chdir(cwd);
  try {
    const status = await main(['node', 'cardline', ...args], { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; } });
    return { status, stdout, stderr };
  } finally {
    process.chdir(before);
  }
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
