import { CardlineError } from '../errors/index.ts';
import type { PaymentStore, SessionListFilter, TransactionRecord, UsageRecord } from './ports.ts';
import type { MaskedSession, MerchantId, SessionId } from './types.ts';

/**
 * In-memory `PaymentStore` adapter: for tests (domain and API) and for running without a data directory.
 * Same contract as the SQLite store: one transaction per (merchant, idempotency key), `idempotency-conflict`
 * when a key is reused by another transaction; lists newest first. Values are deep-copied in and out, so a
 * caller mutating a returned object cannot change what is stored.
 */
export class MemoryPaymentStore implements PaymentStore {
  readonly #sessions = new Map<SessionId, MaskedSession>();
  readonly #transactions = new Map<string, TransactionRecord>();
  readonly #usage: UsageRecord[] = [];
  #closed = false;

  async saveSession(session: MaskedSession): Promise<void> {
    this.#open();
    this.#sessions.set(session.id, structuredClone(session));
  }

  async getSession(id: SessionId): Promise<MaskedSession | null> {
    this.#open();
    const s = this.#sessions.get(id);
    return s ? structuredClone(s) : null;
  }

  async listSessions(filter: SessionListFilter): Promise<MaskedSession[]> {
    this.#open();
    const out = [...this.#sessions.values()].filter((s) =>
      (filter.merchantId === undefined || s.merchantId === filter.merchantId)
      && (filter.callId === undefined || s.callId === filter.callId)
      && (filter.state === undefined || s.state === filter.state)
      && (filter.createdBy === undefined || s.createdBy === filter.createdBy)
      && (filter.from === undefined || s.createdAt >= filter.from)
      && (filter.to === undefined || s.createdAt < filter.to));
    out.sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));
    return out.slice(0, limit(filter.limit)).map((s) => structuredClone(s));
  }

  async insertTransaction(tx: TransactionRecord): Promise<void> {
    this.#open();
    const existing = await this.findTransactionByIdempotencyKey(tx.merchantId, tx.idempotencyKey);
    if (existing && existing.id !== tx.id) {
      throw new CardlineError('idempotency-conflict', existing.sessionId === tx.sessionId
        ? 'the key is already used by another transaction of this session'
        : 'the key is already used by another payment session');
    }
    if (this.#transactions.has(tx.id)) throw new CardlineError('store-error', 'transaction id already exists');
    this.#transactions.set(tx.id, structuredClone(tx));
  }

  async updateTransaction(tx: TransactionRecord): Promise<void> {
    this.#open();
    const existing = this.#transactions.get(tx.id);
    if (!existing || existing.merchantId !== tx.merchantId || existing.idempotencyKey !== tx.idempotencyKey) {
      throw new CardlineError('store-error', 'no transaction with that id, merchant and idempotency key');
    }
    // identity fields never change after insert
    this.#transactions.set(tx.id, structuredClone({ ...tx, sessionId: existing.sessionId, createdAt: existing.createdAt }));
  }

  async findTransactionByIdempotencyKey(merchantId: MerchantId, key: string): Promise<TransactionRecord | null> {
    this.#open();
    for (const t of this.#transactions.values()) if (t.merchantId === merchantId && t.idempotencyKey === key) return structuredClone(t);
    return null;
  }

  async listTransactions(filter: { sessionId?: SessionId; merchantId?: MerchantId; from?: string; to?: string; limit?: number }): Promise<TransactionRecord[]> {
    this.#open();
    const out = [...this.#transactions.values()].filter((t) =>
      (filter.sessionId === undefined || t.sessionId === filter.sessionId)
      && (filter.merchantId === undefined || t.merchantId === filter.merchantId)
      && (filter.from === undefined || t.createdAt >= filter.from)
      && (filter.to === undefined || t.createdAt < filter.to));
    out.sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));
    return out.slice(0, limit(filter.limit)).map((t) => structuredClone(t));
  }

  async insertUsage(u: UsageRecord): Promise<void> {
    this.#open();
    this.#usage.push(structuredClone(u));
  }

  async listUsage(filter: { merchantId?: MerchantId; from?: string; to?: string }): Promise<UsageRecord[]> {
    this.#open();
    return this.#usage
      .filter((u) => (filter.merchantId === undefined || u.merchantId === filter.merchantId)
        && (filter.from === undefined || u.occurredAt >= filter.from)
        && (filter.to === undefined || u.occurredAt < filter.to))
      .map((u) => structuredClone(u));
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** Everything stored, as one JSON text: lets tests scan all rows for card data. */
  dump(): string {
    return JSON.stringify({ sessions: [...this.#sessions.values()], transactions: [...this.#transactions.values()], usage: this.#usage });
  }

  #open(): void {
    if (this.#closed) throw new CardlineError('store-error', 'the payment store is closed');
  }
}

/** Same bounds as the SQLite store: default 100, at most 1000, a positive integer. */
function limit(n: number | undefined): number {
  if (n === undefined) return 100;
  if (!Number.isInteger(n) || n < 1) throw new CardlineError('usage', 'limit must be a positive integer');
  return Math.min(n, 1000);
}
