import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { openSecurityDb, type SecurityDb } from '../../src/auth/index.ts';
import { AUDIT_ANCHOR_FILE, AuditLog, ensureAuditKey, type AuditDatabase } from '../../src/audit/index.ts';

export interface AuditFixture {
  dir: string;
  handle: SecurityDb;
  db: Kysely<AuditDatabase>;
  key: Buffer;
  anchorPath: string;
  log: AuditLog;
  clock: { t: number; now: () => number };
  close(): Promise<void>;
}

export async function auditFixture(o: { every?: number; intervalMs?: number } = {}): Promise<AuditFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'cardline-audit-'));
  const handle = await openSecurityDb(join(dir, 'cardline.db'));
  const key = ensureAuditKey(dir);
  const clock = { t: Date.UTC(2026, 10, 5, 12), now: () => clock.t };
  const anchorPath = join(dir, AUDIT_ANCHOR_FILE);
  const db = handle.db as unknown as Kysely<AuditDatabase>;
  const log = new AuditLog({ db, key, clock, anchorPath, checkpointEvery: o.every ?? 10, checkpointIntervalMs: o.intervalMs ?? 0 });
  return {
    dir, handle, db, key, anchorPath, log, clock,
    async close() {
      await log.close().catch(() => undefined);
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function appendMany(f: AuditFixture, n: number, prefix = 'test'): Promise<void> {
  for (let i = 0; i < n; i++) {
    f.clock.t += 1000;
    await f.log.append({ actor: { kind: 'user', id: `usr_${i % 3}`, name: `user${i % 3}` }, action: `${prefix}.event-${i % 4}`, outcome: i % 5 === 0 ? 'failure' : 'success', target: { kind: 'thing', id: `t-${i}` }, ip: '10.0.0.1', userAgent: 'ua', detail: { i } });
  }
}
