import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CardlineError } from '../errors/index.ts';
import { readFileIfExists } from '../config/index.ts';

/**
 * A 256-bit key kept in its own file in the data directory (base64, mode 0600), created once with O_EXCL so
 * two processes starting together agree on one key. The content is never logged; errors name the path only.
 */
export function ensureKeyFile(path: string): { key: Buffer; generated: boolean } {
  const existing = readKey(path);
  if (existing !== null) return { key: existing, generated: false };
  const key = randomBytes(32);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return { key, generated: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return ensureKeyFile(path);
    throw new CardlineError('io-error', `cannot write ${path}`, { cause: err });
  }
}

export function readKey(path: string): Buffer | null {
  const text = readFileIfExists(path);
  if (text === null) return null;
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new CardlineError('invalid-config', `${path} must hold a base64 256-bit key`);
  return key;
}
