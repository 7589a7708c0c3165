import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { AuditDatabase } from '../audit/schema.ts';
import type { BillingDatabase } from '../billing/schema.ts';
import { CardlineError } from '../errors/index.ts';
import { migrateToLatest } from '../store/index.ts';
import type { AuthDatabase } from './schema.ts';

/** Every table the identity, audit and billing domains touch (one database with the payments' tables). */
export type SecurityDatabase = AuthDatabase & AuditDatabase & BillingDatabase & {
  usage_records: { id: string; merchant_id: string; channel: string; kind: string; outcome: string; quantity: number; occurred_at: string };
};

export interface SecurityDb {
  db: Kysely<SecurityDatabase>;
  close(): Promise<void>;
}

/**
 * Opens a connection to the Cardline SQLite file for the identity, audit and billing domains, with the same
 * settings as the payment store (WAL, busy timeout, foreign keys) and the schema migrated to the latest version.
 *
 * A second connection to the same file, on purpose: these domains never hold a transaction open across an
 * `await` (every write is one statement, and the audit chain relies on its primary key instead of a lock), so
 * the two synchronous better-sqlite3 connections of one process can never wait on each other. PostgreSQL will
 * hand a `Kysely<SecurityDatabase>` over its own pool to the same services.
 */
export async function openSecurityDb(path: string, busyTimeoutMs = 5000): Promise<SecurityDb> {
  let raw: BetterSqlite3.Database;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    raw = new BetterSqlite3(path, { timeout: busyTimeoutMs });
    raw.pragma('journal_mode = WAL');
    raw.pragma(`busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
    raw.pragma('foreign_keys = ON');
    raw.pragma('synchronous = NORMAL');
  } catch (err) {
    throw new CardlineError('store-error', `cannot open the SQLite database at ${path}`, { cause: err });
  }
  const db = new Kysely<SecurityDatabase>({ dialect: new SqliteDialect({ database: raw }) });
  try {
    await migrateToLatest(db as unknown as Kysely<unknown>);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  let closed = false;
  return {
    db,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
