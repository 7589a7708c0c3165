import type { CallId, CardBrand, Channel, MaskedSession, MerchantId, SessionId, SessionState, Token } from './types.ts';

/**
 * Persistence port of the payments domain (ports and adapters, house style 7).
 * Implemented by src/store (SQLite by default, PostgreSQL later) and by an in-memory adapter for tests.
 * By construction nothing here can hold a PAN or security code (PCI DSS 4.0 req. 3.2, 3.3).
 */
export interface TransactionRecord {
  id: string;
  sessionId: SessionId;
  merchantId: MerchantId;
  kind: 'tokenize' | 'charge' | 'refund';
  connector: string;
  idempotencyKey: string;
  status: 'pending' | 'succeeded' | 'failed';
  token: Token | null;
  brand: CardBrand | null;
  last4: string | null;
  amountMinor: number | null;
  currency: string | null;
  connectorReference: string | null;
  authorizationCode: string | null;
  errorCode: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface UsageRecord {
  id: string;
  merchantId: MerchantId;
  sessionId: SessionId | null;
  transactionId: string | null;
  channel: Channel;
  /** 'transaction' = one attempt at tokenize/charge; 'secure-minute' = masked-audio minutes (quantity may be fractional) */
  kind: 'transaction' | 'secure-minute';
  outcome: 'succeeded' | 'failed' | 'n/a';
  connector: string | null;
  quantity: number;
  occurredAt: string;
}

export interface SessionListFilter {
  merchantId?: MerchantId;
  callId?: CallId;
  state?: SessionState;
  createdBy?: string;
  limit?: number;
  /** ISO timestamps */
  from?: string;
  to?: string;
}

export interface PaymentStore {
  /** Insert or replace the masked snapshot of a session (only masked data exists to store). */
  saveSession(session: MaskedSession): Promise<void>;
  getSession(id: SessionId): Promise<MaskedSession | null>;
  listSessions(filter: SessionListFilter): Promise<MaskedSession[]>;
  /** Must fail with `idempotency-conflict` if the idempotency key exists for a different session. */
  insertTransaction(tx: TransactionRecord): Promise<void>;
  updateTransaction(tx: TransactionRecord): Promise<void>;
  findTransactionByIdempotencyKey(merchantId: MerchantId, key: string): Promise<TransactionRecord | null>;
  listTransactions(filter: { sessionId?: SessionId; merchantId?: MerchantId; from?: string; to?: string; limit?: number }): Promise<TransactionRecord[]>;
  insertUsage(u: UsageRecord): Promise<void>;
  listUsage(filter: { merchantId?: MerchantId; from?: string; to?: string }): Promise<UsageRecord[]>;
  close(): Promise<void>;
}
