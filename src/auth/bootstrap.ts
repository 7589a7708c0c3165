import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_KEY_HASH_FILE, type CardlineConfig } from '../config/index.ts';
import { CardlineError } from '../errors/index.ts';
import type { AuthSettings } from './auth-service.ts';
import type { Security, SecurityOptions } from './security.ts';

/** Maps the runtime configuration onto the security services' options. */
export function securityOptionsFromConfig(config: CardlineConfig, dbPath: string): SecurityOptions {
  const a = config.auth;
  const settings: Partial<AuthSettings> = {
    scrypt: a.scrypt,
    cookie: { idleMs: a.idleTimeoutMinutes * 60_000, absoluteMs: a.sessionLifetimeHours * 3600_000 },
    tokenIdleMs: a.idleTimeoutMinutes * 60_000,
    tokenDefaultTtlMs: Math.min(a.tokenTtlMinutes, a.tokenMaxTtlMinutes) * 60_000,
    tokenMaxTtlMs: a.tokenMaxTtlMinutes * 60_000,
    accountThrottle: { threshold: a.lockoutThreshold, baseMs: a.lockoutBaseSeconds * 1000, maxMs: a.lockoutMaxMinutes * 60_000, decayMs: 15 * 60_000 },
    ipThrottle: { threshold: a.ipLockoutThreshold, baseMs: 30_000, maxMs: 15 * 60_000, decayMs: 15 * 60_000 },
    mfaDefault: a.mfaDefault,
    issuer: a.issuer,
  };
  return {
    dbPath,
    dataDir: config.dataDir,
    settings,
    audit: { checkpointEvery: config.audit.checkpointEvery, checkpointIntervalMs: config.audit.checkpointMinutes * 60_000 },
    apiKeyRotationGraceMs: a.apiKeyRotationGraceHours * 3600_000,
    cookieSecure: a.cookieSecure,
  };
}

export interface ApiKeyBootstrapResult {
  /** set only on the start that generated it: print once, never log */
  generatedKey: string | null;
  source: 'config' | 'data-dir' | 'generated';
  imported: number;
}

const SYSTEM = { actor: { kind: 'system' as const, id: 'cardline', name: 'startup' }, ip: null, userAgent: null };

/**
 * Replaces the interim single-key setup: keys configured as hashes (`apiKeySha256`, `CARDLINE_API_KEY[_SHA256]`)
 * and the first-start key of earlier releases (`<data dir>/api-key.sha256`) become `service` API keys with the
 * payment-session permissions (idempotent: a key once imported, even if later revoked, is never re-imported).
 * A data directory that never had any key gets one generated, as before, returned once to be printed.
 */
export async function bootstrapApiKeys(security: Security, config: CardlineConfig): Promise<ApiKeyBootstrapResult> {
  let imported = 0;
  for (const h of config.apiKeySha256) {
    if ((await security.apiKeys.importHash(h, 'configured key', SYSTEM)).imported) imported++;
  }
  const legacy = readLegacyHashes(join(config.dataDir, API_KEY_HASH_FILE));
  for (const h of legacy) {
    if ((await security.apiKeys.importHash(h, 'first-start key (migrated)', SYSTEM)).imported) imported++;
  }
  if (config.apiKeySha256.length > 0) return { generatedKey: null, source: 'config', imported };
  const all = await security.apiKeys.list({ includeRevoked: true });
  if (all.length > 0) return { generatedKey: null, source: 'data-dir', imported };
  const issued = await security.apiKeys.create({ name: 'first-start key' }, SYSTEM);
  return { generatedKey: issued.key, source: 'generated', imported };
}

function readLegacyHashes(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CardlineError('io-error', `cannot read ${path}`, { cause: err });
  }
  const hashes = text.split(/\s+/).filter((h) => h !== '');
  if (!hashes.every((h) => /^[0-9a-f]{64}$/.test(h))) throw new CardlineError('invalid-config', `${path} must hold SHA-256 hex hashes, one per line`);
  return hashes;
}
