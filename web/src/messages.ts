import type { CardField, FieldState, MaskedField } from './api-client.ts';

/** Field names as the agent says them to the caller. */
export const FIELD_LABELS: Readonly<Record<CardField, string>> = {
  'card-number': 'Card number',
  expiry: 'Expiry date',
  'security-code': 'Security code',
  'postal-code': 'Postcode',
};

const BRANDS: Readonly<Record<string, string>> = {
  visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', discover: 'Discover', jcb: 'JCB',
  diners: 'Diners Club', unionpay: 'UnionPay', maestro: 'Maestro', unknown: 'Unknown card type',
};

export function brandName(brand: string | null): string | null {
  return brand === null ? null : BRANDS[brand] ?? brand;
}

/**
 * Error codes of the catalogue (src/errors/catalogue.ts) in plain words, each saying what to do next.
 * Codes only ever reach the browser, never digits, so nothing here can echo card data.
 */
const ERRORS: Readonly<Record<string, string>> = {
  'invalid-card-number': 'That card number is not valid — ask the caller to try again',
  'invalid-card-type': 'That card type is not accepted — ask the caller for another card',
  'invalid-expiry': 'That expiry date is not valid — ask the caller to try again',
  'invalid-security-code': 'That security code is not valid — ask the caller to try again',
  'invalid-postal-code': 'That postcode is not valid — ask the caller to try again',
  timeout: 'The caller took too long — ask them to type it again',
  'max-attempts': 'Too many tries for this field — re-capture it or cancel the payment',
  'card-declined': 'The card was declined — ask the caller for another card',
  'connector-error': 'The payment provider did not answer — press Pay again',
  'session-expired': 'The payment timed out — start a new one',
  'invalid-state': 'That is not possible at this step',
  'invalid-credentials': 'The username or password is not correct',
  'invalid-mfa-code': 'That code is not valid — type the current code from your app',
  'login-throttled': 'Too many failed sign-ins — try again later',
  'csrf-failed': 'Your sign-in has ended — sign in again',
  'session-not-found': 'That payment was not found',
  unauthenticated: 'Your sign-in has ended — sign in again',
  forbidden: 'You are not allowed to do that',
};

export function errorText(code: string | null): string | null {
  if (code === null) return null;
  return ERRORS[code] ?? `Something went wrong (${code})`;
}

export type RowState = FieldState | 're-capture';

/**
 * The state the agent sees: a field being typed again after an invalid attempt is a "re-capture", so the
 * agent knows the caller is on a second (or later) try.
 */
export function rowState(f: MaskedField): RowState {
  if ((f.state === 'entering' || f.state === 'waiting') && f.attempts > 0) return 're-capture';
  return f.state;
}

export const STATE_LABELS: Readonly<Record<RowState, string>> = {
  waiting: 'Waiting', entering: 'Entering', valid: 'Valid', invalid: 'Invalid', 're-capture': 'Re-capture', skipped: 'Skipped',
};

/** Digits of the currency's minor unit (ISO 4217), from the platform's Intl data. */
export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

export function formatAmount(minor: number | null, currency: string | null): string {
  if (minor === null || currency === null) return '—';
  const d = minorDigits(currency);
  return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(minor / 10 ** d);
}

/** "19.99" → 1999 for GBP; null when not a plain positive amount with at most the currency's decimals. */
export function parseAmount(text: string, currency: string): number | null {
  const d = minorDigits(currency);
  const m = /^\s*(\d{1,10})(?:[.,](\d+))?\s*$/.exec(text);
  if (m === null) return null;
  const frac = m[2] ?? '';
  if (frac.length > d) return null;
  const minor = Number(m[1]) * 10 ** d + Number(frac.padEnd(d, '0') || '0');
  return minor > 0 ? minor : null;
}
