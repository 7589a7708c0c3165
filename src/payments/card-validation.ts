import type { ErrorCode } from '../errors/index.ts';
import { CardlineError } from '../errors/index.ts';
import { BRAND_RULES, KNOWN_BRANDS, PAN_MAX_LENGTH, PAN_MIN_LENGTH, detectBrand, isKnownBrand, securityCodeLength, type BrandMatch } from './card-brand.ts';
import { isLuhnValid } from './luhn.ts';
import type { CardBrand } from './types.ts';

/**
 * Pure validation of the card fields captured from the keypad. Inputs are ASCII digit bytes (as the vault
 * holds them) or strings (tests). Results carry a catalogue code and a reason that names lengths and rules,
 * never the digits themselves (PCI DSS 4.0 req. 3.3, 3.4; house style 6).
 */
export type Check<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; reason: string };

type Digits = Uint8Array | string;

function allDigits(d: Digits): boolean {
  for (let i = 0; i < d.length; i++) {
    const c = typeof d === 'string' ? d.charCodeAt(i) : (d[i] ?? -1);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function fail<T>(code: ErrorCode, reason: string): Check<T> {
  return { ok: false, code, reason };
}

/** Which brands a merchant takes. `'all'` = every known brand (never `unknown`). */
export type AcceptedBrands = 'all' | readonly CardBrand[];

export function normalizeAcceptedBrands(v: AcceptedBrands | undefined): AcceptedBrands {
  if (v === undefined || v === 'all') return 'all';
  for (const b of v) if (!isKnownBrand(b)) throw new CardlineError('invalid-session-config', `unknown card brand "${b}" in accepted brands`);
  if (v.length === 0) throw new CardlineError('invalid-session-config', 'accepted brands must not be empty');
  return [...new Set(v)];
}

/** A co-branded card is accepted when any of its networks is (the merchant can route it there). */
export function isBrandAccepted(match: BrandMatch, accepted: AcceptedBrands): boolean {
  if (match.brand === 'unknown') return false;
  if (accepted === 'all') return true;
  return accepted.includes(match.brand) || match.coBrands.some((b) => accepted.includes(b));
}

export interface ValidCardNumber {
  brand: Exclude<CardBrand, 'unknown'>;
  coBrands: CardBrand[];
  length: number;
  /** last four digits: displayable (PCI DSS 4.0 req. 3.4.1) */
  last4: string;
}

/**
 * Full card-number check, in the order a caller's mistake is most likely: digits and length, Luhn, brand known,
 * brand's issued lengths, then the merchant's accepted brands (`invalid-card-type`).
 */
export function validateCardNumber(pan: Digits, accepted: AcceptedBrands = 'all'): Check<ValidCardNumber> {
  if (!allDigits(pan)) return fail('invalid-card-number', 'contains a non-digit');
  if (pan.length < PAN_MIN_LENGTH || pan.length > PAN_MAX_LENGTH) {
    return fail('invalid-card-number', `length ${pan.length} is outside ${PAN_MIN_LENGTH}-${PAN_MAX_LENGTH}`);
  }
  if (!isLuhnValid(pan)) return fail('invalid-card-number', 'check digit does not match (ISO/IEC 7812-1 Luhn)');
  const match = detectBrand(pan);
  if (match.brand === 'unknown') return fail('invalid-card-type', 'the issuer range belongs to no supported brand');
  const rule = BRAND_RULES[match.brand];
  if (!rule.lengths.includes(pan.length)) {
    return fail('invalid-card-number', `length ${pan.length} is not issued for ${rule.label} (${rule.lengths.join('/')})`);
  }
  if (!isBrandAccepted(match, accepted)) return fail('invalid-card-type', `${rule.label} is not accepted by this merchant`);
  const last4 = typeof pan === 'string' ? pan.slice(-4) : String.fromCharCode(...pan.subarray(pan.length - 4));
  return { ok: true, value: { brand: match.brand, coBrands: match.coBrands, length: pan.length, last4 } };
}

// --- expiry ---------------------------------------------------------------------------------------

export interface YearMonth {
  year: number;
  /** 1-12 */
  month: number;
}

const ymFormatters = new Map<string, Intl.DateTimeFormat>();

/** Throws `invalid-session-config` for a time zone the runtime does not know. */
export function assertTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new CardlineError('invalid-session-config', `unknown time zone "${timeZone}"`);
  }
}

/** Calendar year and month of an instant in a time zone (IANA name), e.g. to decide if a card expired. */
export function yearMonthAt(epochMs: number, timeZone: string): YearMonth {
  let fmt = ymFormatters.get(timeZone);
  if (!fmt) {
    assertTimeZone(timeZone);
    fmt = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric' });
    ymFormatters.set(timeZone, fmt);
  }
  let year = 0;
  let month = 0;
  for (const part of fmt.formatToParts(new Date(epochMs))) {
    if (part.type === 'year') year = Number(part.value);
    else if (part.type === 'month') month = Number(part.value);
  }
  return { year, month };
}

export interface ExpiryRules {
  /** IANA zone whose calendar decides "this month" (a card is valid through the last day of its month) */
  timeZone: string;
  /** expiry further than this many years ahead is treated as a keying mistake */
  maxYearsAhead: number;
}

export const DEFAULT_EXPIRY_RULES: ExpiryRules = { timeZone: 'UTC', maxYearsAhead: 20 };

/**
 * MMYY as printed on the card. Valid through the end of that month (the card's "valid thru" date), in the
 * configured zone; the two-digit year is read as 20YY. Not in the past and at most `maxYearsAhead` years ahead.
 */
export function validateExpiry(mmyy: Digits, nowMs: number, rules: ExpiryRules = DEFAULT_EXPIRY_RULES): Check<YearMonth> {
  if (mmyy.length !== 4 || !allDigits(mmyy)) return fail('invalid-expiry', 'expected four digits MMYY');
  const d = (i: number): number => (typeof mmyy === 'string' ? mmyy.charCodeAt(i) : (mmyy[i] ?? 0)) - 0x30;
  const month = d(0) * 10 + d(1);
  const year = 2000 + d(2) * 10 + d(3);
  if (month < 1 || month > 12) return fail('invalid-expiry', 'month must be 01-12');
  const now = yearMonthAt(nowMs, rules.timeZone);
  const ahead = (year * 12 + month) - (now.year * 12 + now.month);
  if (ahead < 0) return fail('invalid-expiry', 'the card has expired');
  if (ahead > rules.maxYearsAhead * 12) return fail('invalid-expiry', `more than ${rules.maxYearsAhead} years ahead`);
  return { ok: true, value: { year, month } };
}

// --- security code, postal code -------------------------------------------------------------------------

/**
 * CVV2/CVC2/CID: 4 digits for Amex, 3 for the others. When the brand is not known yet (a flow that asks for
 * the security code before the card number), 3 or 4 digits pass and the connector has the last word.
 */
export function validateSecurityCode(code: Digits, brand: CardBrand | null): Check<{ length: number }> {
  if (!allDigits(code)) return fail('invalid-security-code', 'contains a non-digit');
  const expected = securityCodeLength(brand);
  if (expected === null) {
    if (code.length !== 3 && code.length !== 4) return fail('invalid-security-code', `length ${code.length}; expected 3 or 4`);
  } else if (code.length !== expected) {
    return fail('invalid-security-code', `length ${code.length}; ${BRAND_RULES[brand as Exclude<CardBrand, 'unknown'>].label} uses ${expected}`);
  }
  return { ok: true, value: { length: code.length } };
}

export interface PostalCodeRules {
  minLength: number;
  maxLength: number;
}

/** Keypad entry can only carry digits (e.g. US ZIP 5, ZIP+4 9): alphanumeric postcodes cannot be keyed on DTMF. */
export const DEFAULT_POSTAL_CODE_RULES: PostalCodeRules = { minLength: 3, maxLength: 10 };

export function validatePostalCode(code: Digits, rules: PostalCodeRules = DEFAULT_POSTAL_CODE_RULES): Check<{ length: number }> {
  if (!allDigits(code)) return fail('invalid-postal-code', 'contains a non-digit');
  if (code.length < rules.minLength || code.length > rules.maxLength) {
    return fail('invalid-postal-code', `length ${code.length}; expected ${rules.minLength}-${rules.maxLength}`);
  }
  return { ok: true, value: { length: code.length } };
}

export function assertPostalCodeRules(r: PostalCodeRules): void {
  if (!Number.isInteger(r.minLength) || !Number.isInteger(r.maxLength) || r.minLength < 1 || r.maxLength > 16 || r.minLength > r.maxLength) {
    throw new CardlineError('invalid-session-config', 'postal code lengths must be integers with 1 <= min <= max <= 16');
  }
}

export { KNOWN_BRANDS };
