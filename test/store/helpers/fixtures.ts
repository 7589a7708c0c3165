import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallId, MaskedSession, MerchantId, SessionId, Token } from '../../../src/payments/types.ts';
import type { TransactionRecord, UsageRecord } from '../../../src/payments/ports.ts';

/** Test PANs and security codes that must never show up in any row or file. */
export const TEST_PANS = ['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117'];
export const TEST_SECURITY_CODES = ['737', '1234'];

export function tempDir(prefix = 'cardline-store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export type SessionOverrides = Omit<Partial<MaskedSession>, 'id'> & { id: string };

export function session(overrides: SessionOverrides): MaskedSession {
  const base: MaskedSession = {
    id: overrides.id as SessionId,
    callId: 'call-1' as CallId,
    merchantId: 'm-1' as MerchantId,
    channel: 'agent-assisted',
    intent: 'charge',
    state: 'created',
    currentField: null,
    fields: [
      { field: 'card-number', state: 'waiting', digitCount: 0, attempts: 0, maxAttempts: 3, display: null, errorCode: null },
      { field: 'expiry', state: 'waiting', digitCount: 0, attempts: 0, maxAttempts: 3, display: null, errorCode: null },
      { field: 'security-code', state: 'waiting', digitCount: 0, attempts: 0, maxAttempts: 3, display: null, errorCode: null },
    ],
    brand: null,
    last4: null,
    amountMinor: 1999,
    currency: 'GBP',
    description: 'Order 42',
    reference: 'ref-42',
    result: null,
    errorCode: null,
    createdBy: 'agent-7',
    createdAt: '2026-01-01T10:00:00.000Z',
    updatedAt: '2026-01-01T10:00:00.000Z',
  };
  return { ...base, ...overrides, id: overrides.id as SessionId };
}

/** A finished session as the domain would snapshot it: masked fields with live digit counts. */
export function succeededSession(id: string, overrides: Omit<Partial<MaskedSession>, 'id'> = {}): MaskedSession {
  return session({
    id,
    state: 'succeeded',
    brand: 'visa',
    last4: '1111',
    fields: [
      { field: 'card-number', state: 'valid', digitCount: 16, attempts: 1, maxAttempts: 3, display: '•••• •••• •••• 1111', errorCode: null },
      { field: 'expiry', state: 'valid', digitCount: 4, attempts: 2, maxAttempts: 3, display: null, errorCode: null },
      { field: 'security-code', state: 'valid', digitCount: 3, attempts: 1, maxAttempts: 3, display: null, errorCode: null },
    ],
    result: {
      status: 'succeeded', token: 'tok_abc' as Token, authorizationCode: 'A1B2C3', connector: 'sandbox',
      connectorReference: 'sbx_ch_1', errorCode: null, message: 'Approved',
    },
    updatedAt: '2026-01-01T10:05:00.000Z',
    ...overrides,
  });
}

export function transaction(overrides: Omit<Partial<TransactionRecord>, 'sessionId'> & { id: string; sessionId: string }): TransactionRecord {
  return {
    merchantId: 'm-1' as MerchantId,
    kind: 'charge',
    connector: 'sandbox',
    idempotencyKey: `idem-${overrides.id}`,
    status: 'pending',
    token: null,
    brand: 'visa',
    last4: '1111',
    amountMinor: 1999,
    currency: 'GBP',
    connectorReference: null,
    authorizationCode: null,
    errorCode: null,
    createdAt: '2026-01-01T10:04:00.000Z',
    updatedAt: '2026-01-01T10:04:00.000Z',
    ...overrides,
    sessionId: overrides.sessionId as SessionId,
  };
}

export function usage(overrides: Partial<UsageRecord> & { id: string }): UsageRecord {
  return {
    merchantId: 'm-1' as MerchantId,
    sessionId: null,
    transactionId: null,
    channel: 'agent-assisted',
    kind: 'transaction',
    outcome: 'succeeded',
    connector: 'sandbox',
    quantity: 1,
    occurredAt: '2026-01-01T10:05:00.000Z',
    ...overrides,
  };
}
