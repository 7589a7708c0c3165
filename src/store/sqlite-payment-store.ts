import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { CardlineError } from '../errors/index.ts';
import { KyselyPaymentStore, type DbErrorKind } from './kysely-payment-store.ts';
import { migrateToLatest, type MigrationReport } from './migrations.ts';
import type { Database } from './schema.ts';

export interface SqliteStoreOptions {
  /** database file; its directory is created (mode 0700) if missing */
  path: string;
  /** how long a writer waits for another connection's lock before failing (ms); default 5000 */
  busyTimeoutMs?: number;
}

/**
 * The embedded default adapter: one better-sqlite3 connection per store, WAL journal (readers never block
 * the writer, and another process can read while we write), a busy timeout so concurrent writers from other
 * processes queue instead of failing at once, and foreign keys enforced (off by default in SQLite).
 * Kysely's SqliteDialect serialises this store's queries on its single connection.
 */
export class SqlitePaymentStore extends KyselyPaymentStore {
  readonly path: string;
  readonly migrations: MigrationReport;

  private constructor(db: Kysely<Database>, path: string, migrations: MigrationReport) {
    super(db, classifySqliteError);
    this.path = path;
    this.migrations = migrations;
  }

  static async open(opts: SqliteStoreOptions): Promise<SqlitePaymentStore> {
    const busy = opts.busyTimeoutMs ?? 5000;
    let raw: BetterSqlite3.Database;
    try {
      mkdirSync(dirname(opts.path), { recursive: true, mode: 0o700 });
      raw = new BetterSqlite3(opts.path, { timeout: busy });
      raw.pragma('journal_mode = WAL');
      raw.pragma(`busy_timeout = ${Math.max(0, Math.trunc(busy))}`);
      raw.pragma('foreign_keys = ON');
      // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commits
      raw.pragma('synchronous = NORMAL');
    } catch (err) {
      throw new CardlineError('store-error', `cannot open the SQLite database at ${opts.path}`, { cause: err });
    }
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
    try {
      const report = await migrateToLatest(db as Kysely<unknown>);
      return new SqlitePaymentStore(db, opts.path, report);
    } catch (err) {
      await db.destroy();
      throw err;
    }
  }

  /** Current value of a PRAGMA, for diagnostics and tests (name from a fixed allow-list). */
  async pragma(name: 'journal_mode' | 'foreign_keys' | 'busy_timeout' | 'synchronous'): Promise<string | number> {
    const r = await sql<Record<string, string | number>>`select * from ${sql.raw(`pragma_${name}`)}`.execute(this.db);
    const row = r.rows[0];
    const v = row === undefined ? undefined : Object.values(row)[0];
    if (v === undefined) throw new CardlineError('store-error', `pragma ${name} returned nothing`);
    return v;
  }
}

/** SQLite extended result codes (https://www.sqlite.org/rescode.html), as better-sqlite3 reports them. */
export function classifySqliteError(err: unknown): DbErrorKind {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  switch (code) {
    case 'SQLITE_CONSTRAINT_UNIQUE': return 'unique';
    case 'SQLITE_CONSTRAINT_PRIMARYKEY': return 'primary-key';
    case 'SQLITE_CONSTRAINT_FOREIGNKEY': return 'foreign-key';
    case 'SQLITE_CONSTRAINT_CHECK': return 'check';
    case 'SQLITE_BUSY': case 'SQLITE_BUSY_SNAPSHOT': case 'SQLITE_BUSY_TIMEOUT': case 'SQLITE_LOCKED': return 'busy';
    default: return 'other';
  }
}
