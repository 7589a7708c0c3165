import type { Selectable, Insertable } from 'kysely';
import type {
  CallId, CardBrand, CardField, Channel, FieldState, MaskedField, MaskedSession, MerchantId, PaymentIntent,
  PaymentResult, SessionId, SessionState, Token,
} from '../payments/types.ts';
import type { TransactionRecord, UsageRecord } from '../payments/ports.ts';
import { CardlineError } from '../errors/index.ts';
import type { PaymentSessionsTable, TransactionsTable, UsageRecordsTable } from './schema.ts';

/**
 * Pure conversions between domain records and rows. The session mapping is where "outcome, not history"
 * is enforced: per-field digit counts and display strings are dropped on the way in (PCI DSS 4.0 req. 3.2.1),
 * so a snapshot read back reports `digitCount: 0` and rebuilds the card-number display from `last4` only.
 */

interface StoredField {
  field: CardField;
  state: FieldState;
  attempts: number;
  maxAttempts: number;
  errorCode: string | null;
}

export function sessionToRow(s: MaskedSession): Insertable<PaymentSessionsTable> {
  assertLast4(s.last4);
  const fields: StoredField[] = s.fields.map((f) => ({
    field: f.field, state: f.state, attempts: f.attempts, maxAttempts: f.maxAttempts, errorCode: f.errorCode,
  }));
  const r = s.result;
  return {
    id: s.id,
    call_id: s.callId,
    merchant_id: s.merchantId,
    channel: s.channel,
    intent: s.intent,
    state: s.state,
    current_field: s.currentField,
    fields_json: JSON.stringify(fields),
    brand: s.brand,
    last4: s.last4,
    amount_minor: s.amountMinor,
    currency: s.currency,
    description: s.description,
    reference: s.reference,
    error_code: s.errorCode,
    result_status: r?.status ?? null,
    result_token: r?.token ?? null,
    result_authorization_code: r?.authorizationCode ?? null,
    result_connector: r?.connector ?? null,
    result_connector_reference: r?.connectorReference ?? null,
    result_error_code: r?.errorCode ?? null,
    result_message: r?.message ?? null,
    created_by: s.createdBy,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  };
}

export function rowToSession(row: Selectable<PaymentSessionsTable>): MaskedSession {
  const stored = parseStoredFields(row.fields_json, row.id);
  const fields: MaskedField[] = stored.map((f) => ({
    field: f.field,
    state: f.state,
    digitCount: 0,
    attempts: f.attempts,
    maxAttempts: f.maxAttempts,
    display: f.field === 'card-number' && f.state === 'valid' && row.last4 !== null ? maskedDisplay(row.last4) : null,
    errorCode: f.errorCode,
  }));
  const result: PaymentResult | null = row.result_status === null ? null : {
    status: row.result_status as PaymentResult['status'],
    token: row.result_token as Token | null,
    authorizationCode: row.result_authorization_code,
    connector: row.result_connector ?? '',
    connectorReference: row.result_connector_reference,
    errorCode: row.result_error_code,
    message: row.result_message,
  };
  return {
    id: row.id as SessionId,
    callId: row.call_id as CallId,
    merchantId: row.merchant_id as MerchantId,
    channel: row.channel as Channel,
    intent: row.intent as PaymentIntent,
    state: row.state as SessionState,
    currentField: row.current_field as CardField | null,
    fields,
    brand: row.brand as CardBrand | null,
    last4: row.last4,
    amountMinor: toNumberOrNull(row.amount_minor),
    currency: row.currency,
    description: row.description,
    reference: row.reference,
    result,
    errorCode: row.error_code,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function transactionToRow(t: TransactionRecord): Insertable<TransactionsTable> {
  assertLast4(t.last4);
  return {
    id: t.id,
    session_id: t.sessionId,
    merchant_id: t.merchantId,
    kind: t.kind,
    connector: t.connector,
    idempotency_key: t.idempotencyKey,
    status: t.status,
    token: t.token,
    brand: t.brand,
    last4: t.last4,
    amount_minor: t.amountMinor,
    currency: t.currency,
    connector_reference: t.connectorReference,
    authorization_code: t.authorizationCode,
    error_code: t.errorCode,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
  };
}

export function rowToTransaction(row: Selectable<TransactionsTable>): TransactionRecord {
  return {
    id: row.id,
    sessionId: row.session_id as SessionId,
    merchantId: row.merchant_id as MerchantId,
    kind: row.kind as TransactionRecord['kind'],
    connector: row.connector,
    idempotencyKey: row.idempotency_key,
    status: row.status as TransactionRecord['status'],
    token: row.token as Token | null,
    brand: row.brand as CardBrand | null,
    last4: row.last4,
    amountMinor: toNumberOrNull(row.amount_minor),
    currency: row.currency,
    connectorReference: row.connector_reference,
    authorizationCode: row.authorization_code,
    errorCode: row.error_code,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function usageToRow(u: UsageRecord): Insertable<UsageRecordsTable> {
  return {
    id: u.id,
    merchant_id: u.merchantId,
    session_id: u.sessionId,
    transaction_id: u.transactionId,
    channel: u.channel,
    kind: u.kind,
    outcome: u.outcome,
    connector: u.connector,
    quantity: u.quantity,
    occurred_at: u.occurredAt,
  };
}

export function rowToUsage(row: Selectable<UsageRecordsTable>): UsageRecord {
  return {
    id: row.id,
    merchantId: row.merchant_id as MerchantId,
    sessionId: row.session_id as SessionId | null,
    transactionId: row.transaction_id,
    channel: row.channel as Channel,
    kind: row.kind as UsageRecord['kind'],
    outcome: row.outcome as UsageRecord['outcome'],
    connector: row.connector,
    quantity: Number(row.quantity),
    occurredAt: row.occurred_at,
  };
}

/** PCI DSS 4.0 req. 3.4.1 display: only the last four are shown. */
export function maskedDisplay(last4: string): string {
  return `•••• •••• •••• ${last4}`;
}

/** Refuses anything but exactly four digits before it can reach a row (the table CHECK is the second line). */
function assertLast4(last4: string | null): void {
  if (last4 !== null && !/^[0-9]{4}$/.test(last4)) {
    throw new CardlineError('store-error', `last4 must be exactly 4 digits (got ${last4.length} characters)`);
  }
}

/** PostgreSQL's driver returns BIGINT as a string; SQLite returns a number. Both become a number. */
function toNumberOrNull(v: number | string | bigint | null): number | null {
  if (v === null) return null;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new CardlineError('store-error', 'amount is not a safe integer');
  return n;
}

function parseStoredFields(json: string, id: string): StoredField[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new CardlineError('store-error', `session ${id} has unreadable field outcomes`, { cause: err });
  }
  if (!Array.isArray(parsed)) throw new CardlineError('store-error', `session ${id} has unreadable field outcomes`);
  return parsed.map((f: unknown) => {
    if (typeof f !== 'object' || f === null) throw new CardlineError('store-error', `session ${id} has unreadable field outcomes`);
    const o = f as Record<string, unknown>;
    return {
      field: String(o.field) as CardField,
      state: String(o.state) as FieldState,
      attempts: Number(o.attempts ?? 0),
      maxAttempts: Number(o.maxAttempts ?? 0),
      errorCode: typeof o.errorCode === 'string' ? o.errorCode : null,
    };
  });
}
