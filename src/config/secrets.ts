import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CardlineError } from '../errors/index.ts';

/**
 * First-start secrets kept in the data directory.
 * - API key: only its SHA-256 is written (`api-key.sha256`); the key itself is returned once to be printed
 *   (PCI DSS 4.0 req. 8.3.2). 256 random bits make a fast hash adequate: there is nothing to brute-force.
 * - Callback signing secret (`callback-secret`): must be readable to sign, so stored as is, mode 0600.
 */
export const API_KEY_HASH_FILE = 'api-key.sha256';
export const CALLBACK_SECRET_FILE = 'callback-secret';
const API_KEY_PREFIX = 'cl_';

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function isSha256Hex(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}

export interface ApiKeyBootstrap {
  hashes: string[];
  /** set only when this call generated a new key: print it once, never log it */
  generatedKey: string | null;
  source: 'config' | 'data-dir' | 'generated';
}

/** Uses configured hashes if any; else the data dir's stored hash; else generates and stores a new key. */
export function ensureApiKey(dataDir: string, configured: readonly string[]): ApiKeyBootstrap {
  if (configured.length > 0) return { hashes: [...configured], generatedKey: null, source: 'config' };
  const path = join(dataDir, API_KEY_HASH_FILE);
  const existing = readFileIfExists(path);
  if (existing !== null) {
    const hashes = existing.split(/\s+/).filter((h) => h !== '');
    if (hashes.length === 0 || !hashes.every(isSha256Hex)) throw new CardlineError('invalid-config', `${path} must hold SHA-256 hex hashes, one per line`);
    return { hashes, generatedKey: null, source: 'data-dir' };
  }
  const key = generateApiKey();
  const hash = hashApiKey(key);
  const written = writeSecretFileOnce(path, `${hash}\n`);
  if (!written) return ensureApiKey(dataDir, configured); // another process won the race: use its key
  return { hashes: [hash], generatedKey: key, source: 'generated' };
}

export interface CallbackSecretBootstrap {
  secret: string;
  generated: boolean;
}

export function ensureCallbackSecret(dataDir: string, configured: string | null): CallbackSecretBootstrap {
  if (configured !== null) return { secret: configured, generated: false };
  const path = join(dataDir, CALLBACK_SECRET_FILE);
  const existing = readFileIfExists(path);
  if (existing !== null) {
    const secret = existing.trim();
    if (secret.length < 16) throw new CardlineError('invalid-config', `${path} holds a secret shorter than 16 characters`);
    return { secret, generated: false };
  }
  const secret = `whsec_${randomBytes(32).toString('base64url')}`;
  if (!writeSecretFileOnce(path, `${secret}\n`)) return ensureCallbackSecret(dataDir, configured);
  return { secret, generated: true };
}

/** A file's text, or null when it does not exist; any other failure is `io-error` naming the path. */
export function readFileIfExists(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CardlineError('io-error', `cannot read ${path}`, { cause: err });
  }
}

/** Creates the file exclusively (O_EXCL) with mode 0600; false if it already exists. */
function writeSecretFileOnce(path: string, content: string): boolean {
  try {
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(path, content, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new CardlineError('io-error', `cannot write ${path}`, { cause: err });
  }
}
