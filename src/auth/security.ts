import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { AUDIT_ANCHOR_FILE, AuditLog, ensureAuditKey, type AuditDatabase } from '../audit/index.ts';
import { BillingReporter, PricePlans, SecureAudioMeter, type BillingDatabase } from '../billing/index.ts';
import type { Logger } from '../log/index.ts';
import { ApiKeyService } from './api-keys.ts';
import { AuthService, type AuthSettings } from './auth-service.ts';
import { ensureKeyFile } from './key-file.ts';
import type { AuthDatabase } from './schema.ts';
import { SecretBox } from './secret-box.ts';
import { openSecurityDb, type SecurityDatabase, type SecurityDb } from './security-db.ts';

/** `<data dir>/auth-key`: seals TOTP seeds and peppers recovery-code hashes (separate from the audit key). */
export const AUTH_KEY_FILE = 'auth-key';

export type CookieSecure = 'auto' | 'always' | 'never';

export interface SecurityOptions {
  /** the Cardline SQLite file */
  dbPath: string;
  /** where auth-key, audit-key and the audit anchor live */
  dataDir: string;
  settings?: Partial<AuthSettings>;
  audit?: { checkpointEvery?: number; checkpointIntervalMs?: number };
  apiKeyRotationGraceMs?: number;
  cookieSecure?: CookieSecure;
  now?: () => number;
  logger?: Logger;
}

/** Identity, audit and billing over one database connection: what `buildServer({ security })` and the CLI use. */
export interface Security {
  db: Kysely<SecurityDatabase>;
  auth: AuthService;
  apiKeys: ApiKeyService;
  audit: AuditLog;
  auditKey: Buffer;
  anchorPath: string;
  plans: PricePlans;
  meter: SecureAudioMeter;
  billing: BillingReporter;
  cookieSecure: CookieSecure;
  /** seals the audit tail, then closes the connection; idempotent */
  close(): Promise<void>;
}

export async function openSecurity(o: SecurityOptions): Promise<Security> {
  const now = o.now ?? (() => Date.now());
  const box = new SecretBox(ensureKeyFile(join(o.dataDir, AUTH_KEY_FILE)).key);
  const auditKey = ensureAuditKey(o.dataDir);
  const handle: SecurityDb = await openSecurityDb(o.dbPath);
  const db = handle.db;
  const anchorPath = join(o.dataDir, AUDIT_ANCHOR_FILE);
  const audit = new AuditLog({
    db: db as unknown as Kysely<AuditDatabase>, key: auditKey, clock: { now }, anchorPath,
    ...(o.audit?.checkpointEvery !== undefined ? { checkpointEvery: o.audit.checkpointEvery } : {}),
    ...(o.audit?.checkpointIntervalMs !== undefined ? { checkpointIntervalMs: o.audit.checkpointIntervalMs } : {}),
    ...(o.logger !== undefined ? { logger: o.logger.child({ component: 'audit' }) } : {}),
  });
  const authDb = db as unknown as Kysely<AuthDatabase>;
  const billingDb = db as unknown as Kysely<BillingDatabase>;
  const auth = new AuthService({ db: authDb, box, audit, now, ...(o.settings ? { settings: o.settings } : {}), ...(o.logger ? { logger: o.logger.child({ component: 'auth' }) } : {}) });
  const apiKeys = new ApiKeyService({ db: authDb, audit, now, ...(o.apiKeyRotationGraceMs !== undefined ? { rotationGraceMs: o.apiKeyRotationGraceMs } : {}) });
  let closed = false;
  return {
    db, auth, apiKeys, audit, auditKey, anchorPath,
    plans: new PricePlans(billingDb, now),
    meter: new SecureAudioMeter(billingDb, now),
    billing: new BillingReporter(db as unknown as ConstructorParameters<typeof BillingReporter>[0], now),
    cookieSecure: o.cookieSecure ?? 'auto',
    async close() {
      if (closed) return;
      closed = true;
      try {
        await audit.close();
      } finally {
        await handle.close();
      }
    },
  };
}
