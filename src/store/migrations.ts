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

/**
 * Issue 5: identity and access (users, recovery codes, login sessions, API keys, login throttling), the
 * tamper-evident audit trail, and billing (price plans, metered secure-mode audio).
 *
 * What is stored is only what verifies a secret, never the secret (PCI DSS 4.0 req. 8.3.2): scrypt hashes of
 * passwords, SHA-256 of API keys and session tokens (256 random bits each: nothing to brute-force), HMAC-SHA256
 * of recovery codes (peppered with a data-dir key), and TOTP seeds sealed with AES-256-GCM under a data-dir key.
 * Booleans are 0/1 integers with a CHECK (portable to PostgreSQL without a dialect switch).
 */
const USER_ROLES = ['agent', 'supervisor', 'admin', 'auditor'];
const AUTH_SESSION_KINDS = ['cookie', 'bearer'];
const LOGIN_STAGES = ['full', 'mfa-pending', 'enrolment'];
const AUDIT_OUTCOMES = ['success', 'failure', 'denied'];

function zeroOrOne(column: string) {
  return sql`${sql.ref(column)} in (0, 1)`;
}

const m0002AuthAuditBilling: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('username', 'text', (c) => c.notNull().unique())
      .addColumn('display_name', 'text')
      .addColumn('email', 'text')
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('merchant_id', 'text')
      .addColumn('team_id', 'text')
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('password_changed_at', 'text', (c) => c.notNull())
      .addColumn('mfa_required', 'integer', (c) => c.notNull())
      .addColumn('totp_secret_enc', 'text')
      .addColumn('totp_pending_enc', 'text')
      .addColumn('totp_enrolled_at', 'text')
      .addColumn('totp_last_step', 'bigint')
      .addColumn('disabled', 'integer', (c) => c.notNull())
      .addColumn('last_login_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addCheckConstraint('users_role_ck', oneOf('role', USER_ROLES))
      .addCheckConstraint('users_mfa_required_ck', zeroOrOne('mfa_required'))
      .addCheckConstraint('users_disabled_ck', zeroOrOne('disabled'))
      .execute();
    await db.schema.createIndex('users_team_ix').on('users').column('team_id').execute();

    await db.schema
      .createTable('recovery_codes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('code_hash', 'text', (c) => c.notNull().unique())
      .addColumn('used_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('recovery_codes_user_ix').on('recovery_codes').column('user_id').execute();

    await db.schema
      .createTable('auth_sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('stage', 'text', (c) => c.notNull())
      .addColumn('csrf_hash', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'text', (c) => c.notNull())
      .addColumn('idle_expires_at', 'text', (c) => c.notNull())
      .addColumn('absolute_expires_at', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text')
      .addColumn('ip', 'text')
      .addColumn('user_agent', 'text')
      .addCheckConstraint('auth_sessions_kind_ck', oneOf('kind', AUTH_SESSION_KINDS))
      .addCheckConstraint('auth_sessions_stage_ck', oneOf('stage', LOGIN_STAGES))
      .execute();
    await db.schema.createIndex('auth_sessions_user_ix').on('auth_sessions').column('user_id').execute();

    await db.schema
      .createTable('api_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('key_hash', 'text', (c) => c.notNull().unique())
      .addColumn('prefix', 'text', (c) => c.notNull())
      .addColumn('permissions_json', 'text', (c) => c.notNull())
      .addColumn('merchant_id', 'text')
      .addColumn('created_by', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text')
      .addColumn('revoked_at', 'text')
      .addColumn('last_used_at', 'text')
      .addColumn('rotated_from', 'text')
      .addColumn('replaced_by', 'text')
      .execute();

    await db.schema
      .createTable('auth_throttle')
      .addColumn('subject', 'text', (c) => c.primaryKey())
      .addColumn('failures', 'integer', (c) => c.notNull())
      .addColumn('last_failure_at', 'text', (c) => c.notNull())
      .addColumn('locked_until', 'text')
      .execute();

    await db.schema
      .createTable('audit_events')
      .addColumn('seq', 'bigint', (c) => c.primaryKey())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('actor_kind', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text')
      .addColumn('actor_name', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('target_kind', 'text')
      .addColumn('target_id', 'text')
      .addColumn('merchant_id', 'text')
      .addColumn('ip', 'text')
      .addColumn('user_agent', 'text')
      .addColumn('detail_json', 'text', (c) => c.notNull())
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addCheckConstraint('audit_events_outcome_ck', oneOf('outcome', AUDIT_OUTCOMES))
      .execute();
    await db.schema.createIndex('audit_events_at_ix').on('audit_events').column('at').execute();
    await db.schema.createIndex('audit_events_actor_ix').on('audit_events').column('actor_id').execute();
    await db.schema.createIndex('audit_events_action_ix').on('audit_events').column('action').execute();

    await db.schema
      .createTable('audit_checkpoints')
      .addColumn('seq', 'bigint', (c) => c.primaryKey())
      .addColumn('record_seq', 'bigint', (c) => c.notNull())
      .addColumn('head_hash', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('prev_mac', 'text', (c) => c.notNull())
      .addColumn('mac', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('price_plans')
      .addColumn('merchant_id', 'text', (c) => c.primaryKey())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('per_minute_minor', 'bigint', (c) => c.notNull())
      .addColumn('monthly_minimum_minor', 'bigint', (c) => c.notNull())
      .addColumn('transaction_fees_json', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('updated_by', 'text')
      .addCheckConstraint('price_plans_amounts_ck', sql`per_minute_minor >= 0 and monthly_minimum_minor >= 0`)
      .execute();

    await db.schema
      .createTable('secure_audio_usage')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('merchant_id', 'text', (c) => c.notNull())
      .addColumn('call_id', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('duration_ms', 'bigint', (c) => c.notNull())
      .addColumn('occurred_at', 'text', (c) => c.notNull())
      .addCheckConstraint('secure_audio_usage_channel_ck', oneOf('channel', CHANNELS))
      .addCheckConstraint('secure_audio_usage_duration_ck', sql`duration_ms >= 0`)
      .execute();
    await db.schema.createIndex('secure_audio_usage_merchant_occurred_ix').on('secure_audio_usage').columns(['merchant_id', 'occurred_at']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const t of ['secure_audio_usage', 'price_plans', 'audit_checkpoints', 'audit_events', 'auth_throttle', 'api_keys', 'auth_sessions', 'recovery_codes', 'users']) {
      await db.schema.dropTable(t).execute();
    }
  },
};

/** Admin settings (src/settings): one row per key; connector secrets inside are sealed (AES-256-GCM), never plain. */
const m0003Settings: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('settings')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value_json', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('updated_by', 'text')
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('settings').execute();
  },
};

/**
 * Issue 7: a user's SIP identity (the agent's address of record, matched against the gateway's agent leg to find
 * "my current call") and one-time embed tokens (an iframe of the agent panel in a CRM exchanges one for a login
 * session; only SHA-256 of the token is kept, like login sessions and API keys).
 */
const m0004SipIdentityEmbedTokens: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('users').addColumn('sip_uri', 'text').execute();
    await db.schema
      .createTable('embed_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('used_at', 'text')
      .execute();
    await db.schema.createIndex('embed_tokens_expires_ix').on('embed_tokens').column('expires_at').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('embed_tokens').execute();
    await db.schema.alterTable('users').dropColumn('sip_uri').execute();
  },
};

/** Every migration, by name; append only. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-initial': m0001Initial,
  '0002-auth-audit-billing': m0002AuthAuditBilling,
  '0003-settings': m0003Settings,
  '0004-sip-identity-embed-tokens': m0004SipIdentityEmbedTokens,
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
