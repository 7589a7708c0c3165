import { Migrator, sql, type Kysely, type Migration, type MigrationProvider, type MigrationResult } from 'kysely';
import { CardlineError } from '../errors/index.ts';

/**
 * Versioned schema migrations, kept in code (no files to ship or to lose) and applied at startup.
 * Names sort in application order; Kysely's Migrator refuses to run when an already-applied name is
 * missing or out of order, so a migration, once released, is never edited or renamed — add a new one.
 *
 * Only the Kysely schema builder and ANSI SQL fragments (CHECK with IN/length) are used, so the same
 * migrations run on PostgreSQL. Types: `text`, `bigint` (money in minor units), `double precision`
 * (fractional usage quantities); SQLite maps them to TEXT/INTEGER/REAL affinities.
 */

const SESSION_STATES = ['created', 'capturing', 'ready', 'submitting', 'succeeded', 'failed', 'cancelled', 'expired'];
const CHANNELS = ['agent-assisted', 'ivr', 'pay-by-link'];
const INTENTS = ['tokenize', 'charge'];
const TX_KINDS = ['tokenize', 'charge', 'refund'];
const TX_STATUSES = ['pending', 'succeeded', 'failed'];
const USAGE_KINDS = ['transaction', 'secure-minute'];
const USAGE_OUTCOMES = ['succeeded', 'failed', 'n/a'];

/** `column IN ('a','b')` from a fixed list defined above (never from input). */
function oneOf(column: string, values: readonly string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}

/**
 * Defence in depth for PCI DSS 4.0 req. 3.4.1: the database itself refuses a "last four" that is longer
 * than four characters, so a coding slip cannot put a PAN there.
 */
function lastFour(column: string) {
  return sql`${sql.ref(column)} is null or length(${sql.ref(column)}) = 4`;
}

const m0001Initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('payment_sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('call_id', 'text', (c) => c.notNull())
      .addColumn('merchant_id', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('intent', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('current_field', 'text')
      .addColumn('fields_json', 'text', (c) => c.notNull())
      .addColumn('brand', 'text')
      .addColumn('last4', 'text')
      .addColumn('amount_minor', 'bigint')
      .addColumn('currency', 'text')
      .addColumn('description', 'text')
      .addColumn('reference', 'text')
      .addColumn('error_code', 'text')
      .addColumn('result_status', 'text')
      .addColumn('result_token', 'text')
      .addColumn('result_authorization_code', 'text')
      .addColumn('result_connector', 'text')
      .addColumn('result_connector_reference', 'text')
      .addColumn('result_error_code', 'text')
      .addColumn('result_message', 'text')
      .addColumn('created_by', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addCheckConstraint('payment_sessions_state_ck', oneOf('state', SESSION_STATES))
      .addCheckConstraint('payment_sessions_channel_ck', oneOf('channel', CHANNELS))
      .addCheckConstraint('payment_sessions_intent_ck', oneOf('intent', INTENTS))
      .addCheckConstraint('payment_sessions_last4_ck', lastFour('last4'))
      .addCheckConstraint('payment_sessions_amount_ck', sql`amount_minor is null or amount_minor >= 0`)
      .addCheckConstraint('payment_sessions_result_status_ck', sql`result_status is null or result_status in ('succeeded', 'failed')`)
      .execute();
    await db.schema.createIndex('payment_sessions_merchant_created_ix').on('payment_sessions').columns(['merchant_id', 'created_at']).execute();
    await db.schema.createIndex('payment_sessions_call_ix').on('payment_sessions').column('call_id').execute();
    await db.schema.createIndex('payment_sessions_state_ix').on('payment_sessions').column('state').execute();
    await db.schema.createIndex('payment_sessions_created_by_ix').on('payment_sessions').column('created_by').execute();
    await db.schema.createIndex('payment_sessions_created_ix').on('payment_sessions').column('created_at').execute();

    await db.schema
      .createTable('transactions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('session_id', 'text', (c) => c.notNull().references('payment_sessions.id').onDelete('restrict'))
      .addColumn('merchant_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('connector', 'text', (c) => c.notNull())
      .addColumn('idempotency_key', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('token', 'text')
      .addColumn('brand', 'text')
      .addColumn('last4', 'text')
      .addColumn('amount_minor', 'bigint')
      .addColumn('currency', 'text')
      .addColumn('connector_reference', 'text')
      .addColumn('authorization_code', 'text')
      .addColumn('error_code', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      // "a retry never charges twice": one row per (merchant, idempotency key), enforced by the database
      .addUniqueConstraint('transactions_merchant_idempotency_uq', ['merchant_id', 'idempotency_key'])
      .addCheckConstraint('transactions_kind_ck', oneOf('kind', TX_KINDS))
      .addCheckConstraint('transactions_status_ck', oneOf('status', TX_STATUSES))
      .addCheckConstraint('transactions_last4_ck', lastFour('last4'))
      .addCheckConstraint('transactions_amount_ck', sql`amount_minor is null or amount_minor >= 0`)
      .execute();
    await db.schema.createIndex('transactions_session_ix').on('transactions').column('session_id').execute();
    await db.schema.createIndex('transactions_merchant_created_ix').on('transactions').columns(['merchant_id', 'created_at']).execute();

    await db.schema
      .createTable('usage_records')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('merchant_id', 'text', (c) => c.notNull())
      .addColumn('session_id', 'text', (c) => c.references('payment_sessions.id').onDelete('restrict'))
      .addColumn('transaction_id', 'text', (c) => c.references('transactions.id').onDelete('restrict'))
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('connector', 'text')
      .addColumn('quantity', 'double precision', (c) => c.notNull())
      .addColumn('occurred_at', 'text', (c) => c.notNull())
      .addCheckConstraint('usage_records_channel_ck', oneOf('channel', CHANNELS))
      .addCheckConstraint('usage_records_kind_ck', oneOf('kind', USAGE_KINDS))
      .addCheckConstraint('usage_records_outcome_ck', oneOf('outcome', USAGE_OUTCOMES))
      .addCheckConstraint('usage_records_quantity_ck', sql`quantity >= 0`)
      .execute();
    await db.schema.createIndex('usage_records_merchant_occurred_ix').on('usage_records').columns(['merchant_id', 'occurred_at']).execute();
    await db.schema.createIndex('usage_records_transaction_ix').on('usage_records').column('transaction_id').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('usage_records').execute();
    await db.schema.dropTable('transactions').execute();
    await db.schema.dropTable('payment_sessions').execute();
  },
};

/** Every migration, by name; append only. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-initial': m0001Initial,
});

class InCodeMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return { ...MIGRATIONS };
  }
}

export interface MigrationReport {
  /** names applied by this call, in order (empty when the schema was already current) */
  applied: string[];
  /** every migration name now applied */
  current: string[];
}

/** Brings the schema to the latest version; a failure is a `store-error` naming the migration (no data in it). */
export async function migrateToLatest(db: Kysely<unknown>): Promise<MigrationReport> {
  const migrator = new Migrator({ db, provider: new InCodeMigrationProvider(), migrationTableName: 'cardline_migration', migrationLockTableName: 'cardline_migration_lock' });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r: MigrationResult) => r.status === 'Error');
  if (error !== undefined) {
    throw new CardlineError('store-error', `migration ${failed?.migrationName ?? '(setup)'} failed`, { cause: error });
  }
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  const current = (await migrator.getMigrations()).filter((m) => m.executedAt !== undefined).map((m) => m.name);
  return { applied, current };
}
