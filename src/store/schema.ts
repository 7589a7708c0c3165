import type { ColumnType } from 'kysely';

/**
 * Row shapes of the Cardline database, as Kysely sees them (one definition for SQLite and, later, PostgreSQL).
 *
 * What is NOT here is the point: no PAN, no security code, no expiry, no keypad digits, not even per-field
 * digit counts (PCI DSS 4.0 req. 3.2.1: keep only what the business needs; req. 3.3.1.2: the security code is
 * never stored after authorisation; req. 3.4.1: at most the last four digits are shown). The schema test in
 * test/store proves it by column name, and scans rows for test card numbers.
 *
 * Portability choices: timestamps are ISO-8601 UTC strings (`2026-01-02T03:04:05.678Z`) so they order
 * lexicographically in both engines; money is an integer in minor units (`bigint`); JSON is TEXT.
 */

/** An ISO-8601 timestamp column (TEXT). */
type Iso = string;

export interface PaymentSessionsTable {
  id: string;
  call_id: string;
  merchant_id: string;
  channel: string;
  intent: string;
  state: string;
  current_field: string | null;
  /**
   * Per-field OUTCOME only: JSON array of `{ field, state, attempts, maxAttempts, errorCode }`.
   * Deliberately without digit counts or display strings.
   */
  fields_json: string;
  brand: string | null;
  last4: string | null;
  amount_minor: ColumnType<number | null, number | null, number | null>;
  currency: string | null;
  description: string | null;
  reference: string | null;
  error_code: string | null;
  result_status: string | null;
  result_token: string | null;
  result_authorization_code: string | null;
  result_connector: string | null;
  result_connector_reference: string | null;
  result_error_code: string | null;
  result_message: string | null;
  created_by: string | null;
  created_at: Iso;
  updated_at: Iso;
}

export interface TransactionsTable {
  id: string;
  session_id: string;
  merchant_id: string;
  kind: string;
  connector: string;
  idempotency_key: string;
  status: string;
  token: string | null;
  brand: string | null;
  last4: string | null;
  amount_minor: number | null;
  currency: string | null;
  connector_reference: string | null;
  authorization_code: string | null;
  error_code: string | null;
  created_at: Iso;
  updated_at: Iso;
}

export interface UsageRecordsTable {
  id: string;
  merchant_id: string;
  session_id: string | null;
  transaction_id: string | null;
  channel: string;
  kind: string;
  outcome: string;
  connector: string | null;
  quantity: number;
  occurred_at: Iso;
}

export interface Database {
  payment_sessions: PaymentSessionsTable;
  transactions: TransactionsTable;
  usage_records: UsageRecordsTable;
}

/** Column names per table, for the "no card data" schema test and for documentation. */
export const TABLES = ['payment_sessions', 'transactions', 'usage_records'] as const;
export type TableName = (typeof TABLES)[number];
