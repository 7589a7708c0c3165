import type { Kysely } from 'kysely';
import type { MaskedSession, MerchantId, SessionId } from '../payments/types.ts';
import type { PaymentStore, SessionListFilter, TransactionRecord, UsageRecord } from '../payments/ports.ts';
import { CardlineError, isCardlineError } from '../errors/index.ts';
import type { Database } from './schema.ts';
import {
  rowToSession, rowToTransaction, rowToUsage, sessionToRow, transactionToRow, usageToRow,
} from './row-mapping.ts';

/** How a driver error is classified; each dialect supplies its own classifier (SQLite codes, PostgreSQL SQLSTATE). */
export type DbErrorKind = 'unique' | 'primary-key' | 'foreign-key' | 'check' | 'busy' | 'other';
export type DbErrorClassifier = (err: unknown) => DbErrorKind;

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

/**
 * The `PaymentStore` port over Kysely's query builder only (no dialect-specific SQL), so the SQLite adapter
 * and the future PostgreSQL adapter share every query and differ only in connection setup and in how a
 * driver error is classified.
 */
export class KyselyPaymentStore implements PaymentStore {
  protected readonly db: Kysely<Database>;
  readonly #classify: DbErrorClassifier;
  #closed = false;

  constructor(db: Kysely<Database>, classify: DbErrorClassifier) {
    this.db = db;
    this.#classify = classify;
  }

  async saveSession(session: MaskedSession): Promise<void> {
    const row = sessionToRow(session);
    const { id: _id, created_at: _c, ...changes } = row;
    await this.#run('save session', () =>
      this.db.insertInto('payment_sessions').values(row)
        // ON CONFLICT … DO UPDATE exists in both SQLite (3.24+) and PostgreSQL (9.5+)
        .onConflict((oc) => oc.column('id').doUpdateSet(changes))
        .execute());
  }

  async getSession(id: SessionId): Promise<MaskedSession | null> {
    const row = await this.#run('get session', () =>
      this.db.selectFrom('payment_sessions').selectAll().where('id', '=', id).executeTakeFirst());
    return row === undefined ? null : rowToSession(row);
  }

  async listSessions(filter: SessionListFilter): Promise<MaskedSession[]> {
    let q = this.db.selectFrom('payment_sessions').selectAll();
    if (filter.merchantId !== undefined) q = q.where('merchant_id', '=', filter.merchantId);
    if (filter.callId !== undefined) q = q.where('call_id', '=', filter.callId);
    if (filter.state !== undefined) q = q.where('state', '=', filter.state);
    if (filter.createdBy !== undefined) q = q.where('created_by', '=', filter.createdBy);
    if (filter.from !== undefined) q = q.where('created_at', '>=', isoBound(filter.from, 'from'));
    if (filter.to !== undefined) q = q.where('created_at', '<', isoBound(filter.to, 'to'));
    const rows = await this.#run('list sessions', () =>
      q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(listLimit(filter.limit)).execute());
    return rows.map(rowToSession);
  }

  async insertTransaction(tx: TransactionRecord): Promise<void> {
    const row = transactionToRow(tx);
    try {
      await this.db.insertInto('transactions').values(row).execute();
    } catch (err) {
      const kind = this.#classify(err);
      if (kind === 'unique') {
        const existing = await this.findTransactionByIdempotencyKey(tx.merchantId, tx.idempotencyKey);
        if (existing !== null && existing.id !== tx.id) {
          // The idempotency key identifies one attempt (issue 4: "a retry never charges twice").
          throw new CardlineError('idempotency-conflict', existing.sessionId === tx.sessionId
            ? 'the key is already used by another transaction of this session'
            : 'the key is already used by another payment session', { cause: err });
        }
      }
      if (kind === 'primary-key' || kind === 'unique') {
        throw new CardlineError('store-error', `insert transaction: id ${tx.id} already exists`, { cause: err });
      }
      throw this.#wrap('insert transaction', err);
    }
  }

  async updateTransaction(tx: TransactionRecord): Promise<void> {
    const row = transactionToRow(tx);
    // identity columns (id, session, merchant, key, created_at) never change after insert
    const result = await this.#run('update transaction', () => this.db.updateTable('transactions')
      .set({
        kind: row.kind, connector: row.connector, status: row.status, token: row.token, brand: row.brand,
        last4: row.last4, amount_minor: row.amount_minor, currency: row.currency,
        connector_reference: row.connector_reference, authorization_code: row.authorization_code,
        error_code: row.error_code, updated_at: row.updated_at,
      })
      .where('id', '=', tx.id)
      .where('merchant_id', '=', tx.merchantId)
      .where('idempotency_key', '=', tx.idempotencyKey)
      .executeTakeFirst());
    if (result.numUpdatedRows === 0n) {
      throw new CardlineError('store-error', `update transaction: no transaction ${tx.id} with that merchant and idempotency key`);
    }
  }

  async findTransactionByIdempotencyKey(merchantId: MerchantId, key: string): Promise<TransactionRecord | null> {
    const row = await this.#run('find transaction', () => this.db.selectFrom('transactions').selectAll()
      .where('merchant_id', '=', merchantId).where('idempotency_key', '=', key).executeTakeFirst());
    return row === undefined ? null : rowToTransaction(row);
  }

  async listTransactions(filter: { sessionId?: SessionId; merchantId?: MerchantId; from?: string; to?: string; limit?: number }): Promise<TransactionRecord[]> {
    let q = this.db.selectFrom('transactions').selectAll();
    if (filter.sessionId !== undefined) q = q.where('session_id', '=', filter.sessionId);
    if (filter.merchantId !== undefined) q = q.where('merchant_id', '=', filter.merchantId);
    if (filter.from !== undefined) q = q.where('created_at', '>=', isoBound(filter.from, 'from'));
    if (filter.to !== undefined) q = q.where('created_at', '<', isoBound(filter.to, 'to'));
    const rows = await this.#run('list transactions', () =>
      q.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(listLimit(filter.limit)).execute());
    return rows.map(rowToTransaction);
  }

  async insertUsage(u: UsageRecord): Promise<void> {
    if (!Number.isFinite(u.quantity) || u.quantity < 0) throw new CardlineError('store-error', 'usage quantity must be a finite number >= 0');
    await this.#run('insert usage', () => this.db.insertInto('usage_records').values(usageToRow(u)).execute());
  }

  /** Every matching record, oldest first (billing needs them all; no limit). */
  async listUsage(filter: { merchantId?: MerchantId; from?: string; to?: string }): Promise<UsageRecord[]> {
    let q = this.db.selectFrom('usage_records').selectAll();
    if (filter.merchantId !== undefined) q = q.where('merchant_id', '=', filter.merchantId);
    if (filter.from !== undefined) q = q.where('occurred_at', '>=', isoBound(filter.from, 'from'));
    if (filter.to !== undefined) q = q.where('occurred_at', '<', isoBound(filter.to, 'to'));
    const rows = await this.#run('list usage', () => q.orderBy('occurred_at', 'asc').orderBy('id', 'asc').execute());
    return rows.map(rowToUsage);
  }

  /** Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.db.destroy();
  }

  get closed(): boolean {
    return this.#closed;
  }

  async #run<T>(what: string, op: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new CardlineError('store-error', `${what}: the store is closed`);
    try {
      return await op();
    } catch (err) {
      throw this.#wrap(what, err);
    }
  }

  /** Driver messages name constraints and columns, never values; they travel only as `cause`. */
  #wrap(what: string, err: unknown): CardlineError {
    if (isCardlineError(err)) return err;
    const kind = this.#classify(err);
    const reason = kind === 'other' ? 'database error' : `${kind} constraint`.replace('busy constraint', 'database busy');
    return new CardlineError('store-error', `${what}: ${reason}`, { cause: err });
  }
}

/** Normalises a filter bound to the stored ISO form so string comparison orders correctly. */
function isoBound(v: string, name: string): string {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new CardlineError('usage', `${name} is not an ISO-8601 timestamp`);
  return new Date(t).toISOString();
}

function listLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new CardlineError('usage', 'limit must be a positive integer');
  return Math.min(limit, MAX_LIST_LIMIT);
}
