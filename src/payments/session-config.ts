import { CardlineError } from '../errors/index.ts';
import {
  assertPostalCodeRules, assertTimeZone, DEFAULT_EXPIRY_RULES, DEFAULT_POSTAL_CODE_RULES, normalizeAcceptedBrands,
  type AcceptedBrands, type ExpiryRules, type PostalCodeRules,
} from './card-validation.ts';
import { CARD_FIELDS, type CardField } from './types.ts';

/**
 * How a payment session captures its fields. Every knob has a default so `{}` is a working configuration:
 * card number → expiry → security code, `#` ends a field, `*` clears it, 3 attempts per field.
 */

/** Keys that can end a field. `*` is reserved for "clear the field"; digits are data. */
export type TerminatorKey = '#' | 'A' | 'B' | 'C' | 'D';

export interface FieldOptions {
  /** invalid attempts (bad value or timeout) before the field gives up; 1-10, default 3 */
  maxAttempts?: number;
  /** after a key press, how long to wait for the next one before evaluating what was typed; default 10 s */
  interDigitTimeoutMs?: number;
  /** how long one attempt at a field may take from its (re)prompt; default 120 s */
  totalTimeoutMs?: number;
  /** key that ends the field; null = only fixed length or the inter-digit timeout end it; default '#' */
  terminator?: TerminatorKey | null;
  /** postal code only: when false, the terminator alone (no digits) skips the field; default true */
  required?: boolean;
  /** postal code only */
  minLength?: number;
  /** postal code only */
  maxLength?: number;
}

export type FieldSpec = CardField | ({ field: CardField } & FieldOptions);

export type MaxAttemptsPolicy = 'fail' | 'wait-for-agent';

export interface CaptureConfig {
  /** fields in capture order; must include card-number and expiry; default card-number, expiry, security-code */
  fields?: readonly FieldSpec[];
  /** defaults applied to every field before its own options */
  fieldDefaults?: FieldOptions;
  /** brands this merchant takes; default all known brands */
  acceptedBrands?: AcceptedBrands;
  /** on the last failed attempt: fail the session (default), or lock the field until the agent re-captures it */
  onMaxAttempts?: MaxAttemptsPolicy;
  /** time zone and horizon for expiry checks; default UTC, 20 years */
  expiry?: Partial<ExpiryRules>;
  /** session lifetime from creation; default 15 minutes */
  sessionTtlMs?: number;
  /** move to the next field when one completes; default true. When false the agent starts each field */
  autoAdvance?: boolean;
  /** connector attempts per session when the outcome is a retryable failure; default 3 */
  maxSubmitAttempts?: number;
}

export interface ResolvedField {
  field: CardField;
  maxAttempts: number;
  interDigitTimeoutMs: number;
  totalTimeoutMs: number;
  terminator: TerminatorKey | null;
  required: boolean;
  postal: PostalCodeRules;
}

export interface ResolvedCaptureConfig {
  fields: ResolvedField[];
  acceptedBrands: AcceptedBrands;
  onMaxAttempts: MaxAttemptsPolicy;
  expiry: ExpiryRules;
  sessionTtlMs: number;
  autoAdvance: boolean;
  maxSubmitAttempts: number;
}

export const DEFAULT_FIELDS: readonly CardField[] = ['card-number', 'expiry', 'security-code'];
export const DEFAULT_FIELD_OPTIONS = {
  maxAttempts: 3,
  interDigitTimeoutMs: 10_000,
  totalTimeoutMs: 120_000,
  terminator: '#',
  required: true,
} as const;
export const DEFAULT_SESSION_TTL_MS = 15 * 60_000;
export const DEFAULT_MAX_SUBMIT_ATTEMPTS = 3;

const TERMINATORS: readonly string[] = ['#', 'A', 'B', 'C', 'D'];

function bad(detail: string): CardlineError {
  return new CardlineError('invalid-session-config', detail);
}

function intIn(v: unknown, min: number, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(`${what} must be an integer in ${min}-${max}`);
  return v;
}

/** Drops keys whose value is undefined, so `{ maxAttempts: undefined }` means "default", as it reads. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Validates and fills in a capture configuration; throws `invalid-session-config` with the offending key. */
export function resolveCaptureConfig(cfg: CaptureConfig = {}): ResolvedCaptureConfig {
  const specs = cfg.fields ?? DEFAULT_FIELDS;
  if (!Array.isArray(specs)) throw bad('fields must be a list');
  const seen = new Set<CardField>();
  const defaults = { ...DEFAULT_FIELD_OPTIONS, ...definedOnly(cfg.fieldDefaults ?? {}) };
  const fields: ResolvedField[] = specs.map((spec) => {
    const o: { field: CardField } & FieldOptions = typeof spec === 'string' ? { field: spec } : spec;
    if (!(CARD_FIELDS as readonly string[]).includes(o.field)) throw bad(`unknown field "${String(o.field)}"`);
    if (seen.has(o.field)) throw bad(`field "${o.field}" is listed twice`);
    seen.add(o.field);
    const merged = { ...defaults, ...definedOnly(o) };
    const terminator = merged.terminator === undefined ? '#' : merged.terminator;
    if (terminator !== null && !TERMINATORS.includes(terminator)) throw bad(`terminator of "${o.field}" must be one of # A B C D or null`);
    if (o.field !== 'postal-code' && (o.required === false || o.minLength !== undefined || o.maxLength !== undefined)) {
      throw bad(`required/minLength/maxLength apply to postal-code only`);
    }
    const postal: PostalCodeRules = {
      minLength: o.minLength ?? DEFAULT_POSTAL_CODE_RULES.minLength,
      maxLength: o.maxLength ?? DEFAULT_POSTAL_CODE_RULES.maxLength,
    };
    if (o.field === 'postal-code') assertPostalCodeRules(postal);
    return {
      field: o.field,
      maxAttempts: intIn(merged.maxAttempts, 1, 10, `maxAttempts of "${o.field}"`),
      interDigitTimeoutMs: intIn(merged.interDigitTimeoutMs, 500, 600_000, `interDigitTimeoutMs of "${o.field}"`),
      totalTimeoutMs: intIn(merged.totalTimeoutMs, 1_000, 3_600_000, `totalTimeoutMs of "${o.field}"`),
      terminator,
      required: o.field === 'postal-code' ? merged.required !== false : true,
      postal,
    };
  });
  if (!seen.has('card-number') || !seen.has('expiry')) throw bad('fields must include card-number and expiry');
  const expiry: ExpiryRules = { ...DEFAULT_EXPIRY_RULES, ...cfg.expiry };
  assertTimeZone(expiry.timeZone);
  intIn(expiry.maxYearsAhead, 1, 50, 'expiry.maxYearsAhead');
  const onMaxAttempts = cfg.onMaxAttempts ?? 'fail';
  if (onMaxAttempts !== 'fail' && onMaxAttempts !== 'wait-for-agent') throw bad('onMaxAttempts must be "fail" or "wait-for-agent"');
  return {
    fields,
    acceptedBrands: normalizeAcceptedBrands(cfg.acceptedBrands),
    onMaxAttempts,
    expiry,
    sessionTtlMs: intIn(cfg.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS, 10_000, 24 * 3_600_000, 'sessionTtlMs'),
    autoAdvance: cfg.autoAdvance ?? true,
    maxSubmitAttempts: intIn(cfg.maxSubmitAttempts ?? DEFAULT_MAX_SUBMIT_ATTEMPTS, 1, 10, 'maxSubmitAttempts'),
  };
}

/** Merges a per-session override onto merchant defaults (field list replaced, not merged). */
export function mergeCaptureConfig(base: CaptureConfig | undefined, override: CaptureConfig | undefined): CaptureConfig {
  return {
    ...base,
    ...override,
    fieldDefaults: { ...base?.fieldDefaults, ...override?.fieldDefaults },
    expiry: { ...base?.expiry, ...override?.expiry },
  };
}
