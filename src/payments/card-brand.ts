import type { CardBrand } from './types.ts';

/**
 * Card brands from the issuer identification number (IIN, the leading digits of the PAN; ISO/IEC 7812-1 §4).
 *
 * Ranges are compared on their own number of leading digits; when several ranges match, the longest
 * (most specific) prefix wins, which is how schemes publish co-branded and carved-out ranges:
 *  - Discover 622126–622925 sits inside UnionPay 62: those cards are co-branded (UnionPay cards accepted on the
 *    Discover network). The brand shown is Discover; UnionPay is reported in `coBrands` so a merchant who
 *    accepts either network accepts the card.
 *  - Maestro "6" is a fallback: it applies only when no other range starting with 6 matches, and it is never
 *    reported as a co-brand.
 * Lengths are each brand's issued PAN lengths; the security-code length is 4 for Amex (CID), 3 for the others
 * (CVV2/CVC2/CAV2/CVN2/CVE2).
 */
export interface BrandRule {
  brand: Exclude<CardBrand, 'unknown'>;
  /** human label, for UIs */
  label: string;
  lengths: readonly number[];
  securityCodeLength: 3 | 4;
  /** display grouping of the PAN for the masked view, by PAN length (default: groups of four) */
  grouping?: Readonly<Record<number, readonly number[]>>;
}

export const BRAND_RULES: Readonly<Record<Exclude<CardBrand, 'unknown'>, BrandRule>> = {
  visa: { brand: 'visa', label: 'Visa', lengths: [13, 16, 19], securityCodeLength: 3 },
  mastercard: { brand: 'mastercard', label: 'Mastercard', lengths: [16], securityCodeLength: 3 },
  amex: { brand: 'amex', label: 'American Express', lengths: [15], securityCodeLength: 4, grouping: { 15: [4, 6, 5] } },
  discover: { brand: 'discover', label: 'Discover', lengths: [16, 17, 18, 19], securityCodeLength: 3 },
  jcb: { brand: 'jcb', label: 'JCB', lengths: [16, 17, 18, 19], securityCodeLength: 3 },
  diners: { brand: 'diners', label: 'Diners Club', lengths: [14, 15, 16, 17, 18, 19], securityCodeLength: 3, grouping: { 14: [4, 6, 4] } },
  unionpay: { brand: 'unionpay', label: 'UnionPay', lengths: [16, 17, 18, 19], securityCodeLength: 3 },
  maestro: { brand: 'maestro', label: 'Maestro', lengths: [12, 13, 14, 15, 16, 17, 18, 19], securityCodeLength: 3 },
};

export const KNOWN_BRANDS: readonly Exclude<CardBrand, 'unknown'>[] = Object.keys(BRAND_RULES) as Exclude<CardBrand, 'unknown'>[];

export const PAN_MIN_LENGTH = 12;
export const PAN_MAX_LENGTH = 19;

interface IinRange {
  brand: Exclude<CardBrand, 'unknown'>;
  /** inclusive bounds, compared against the first `digits` digits */
  lo: number;
  hi: number;
  digits: number;
  /** applies only when nothing else matches; never a co-brand */
  fallback?: true;
}

const IIN_RANGES: readonly IinRange[] = [
  { brand: 'visa', lo: 4, hi: 4, digits: 1 },
  { brand: 'mastercard', lo: 51, hi: 55, digits: 2 },
  { brand: 'mastercard', lo: 2221, hi: 2720, digits: 4 },
  { brand: 'amex', lo: 34, hi: 34, digits: 2 },
  { brand: 'amex', lo: 37, hi: 37, digits: 2 },
  { brand: 'discover', lo: 6011, hi: 6011, digits: 4 },
  { brand: 'discover', lo: 644, hi: 649, digits: 3 },
  { brand: 'discover', lo: 65, hi: 65, digits: 2 },
  { brand: 'discover', lo: 622126, hi: 622925, digits: 6 },
  { brand: 'jcb', lo: 3528, hi: 3589, digits: 4 },
  { brand: 'diners', lo: 300, hi: 305, digits: 3 },
  { brand: 'diners', lo: 36, hi: 36, digits: 2 },
  { brand: 'diners', lo: 38, hi: 39, digits: 2 },
  { brand: 'unionpay', lo: 62, hi: 62, digits: 2 },
  { brand: 'maestro', lo: 50, hi: 50, digits: 2 },
  { brand: 'maestro', lo: 56, hi: 58, digits: 2 },
  { brand: 'maestro', lo: 6, hi: 6, digits: 1, fallback: true },
  { brand: 'maestro', lo: 6304, hi: 6304, digits: 4 },
  { brand: 'maestro', lo: 6759, hi: 6759, digits: 4 },
  { brand: 'maestro', lo: 676770, hi: 676770, digits: 6 },
  { brand: 'maestro', lo: 676774, hi: 676774, digits: 6 },
];

/** Every range is at most six digits (the classic 6-digit IIN), so six leading digits decide the brand. */
const IIN_DIGITS = 6;
const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000] as const;

function pow10(n: number): number {
  const p = POW10[n];
  if (p === undefined) throw new RangeError('pow10 out of table');
  return p;
}

export interface BrandMatch {
  brand: CardBrand;
  /** other networks whose (non-fallback) ranges also contain this IIN, e.g. UnionPay for Discover 622126–622925 */
  coBrands: CardBrand[];
}

/** Brand of a 6-digit IIN value (0..999999). */
function matchIin6(v: number): BrandMatch {
  let best: IinRange | undefined;
  let matched = 0;
  for (const r of IIN_RANGES) {
    const lead = Math.floor(v / pow10(IIN_DIGITS - r.digits));
    if (lead < r.lo || lead > r.hi) continue;
    matched++;
    if (!best || r.digits > best.digits) best = r;
  }
  if (!best) return { brand: 'unknown', coBrands: [] };
  const winner = best.brand;
  if (matched === 1) return { brand: winner, coBrands: [] };
  const coBrands: CardBrand[] = [];
  for (const r of IIN_RANGES) {
    if (r.fallback || r.brand === winner || coBrands.includes(r.brand)) continue;
    const lead = Math.floor(v / pow10(IIN_DIGITS - r.digits));
    if (lead >= r.lo && lead <= r.hi) coBrands.push(r.brand);
  }
  return { brand: winner, coBrands };
}

/** Reads up to `n` leading ASCII digits as a number; -1 if a non-digit is met. */
function leadingValue(digits: Uint8Array | string, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = typeof digits === 'string' ? digits.charCodeAt(i) : (digits[i] ?? -1);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

/**
 * Brand of a complete card number (at least six digits). Only the first six digits are read.
 * Returns `unknown` for a number no range covers (or a non-digit in the IIN).
 */
export function detectBrand(pan: Uint8Array | string): BrandMatch {
  if (pan.length < IIN_DIGITS) return brandFromPrefix(pan).match ?? { brand: 'unknown', coBrands: [] };
  const v = leadingValue(pan, IIN_DIGITS);
  if (v < 0) return { brand: 'unknown', coBrands: [] };
  return matchIin6(v);
}

export interface PrefixBrand {
  /** the brand every completion of this prefix has, or null while it is still open */
  match: BrandMatch | null;
  /** the brands (and 'unknown') some completion of this prefix could still have */
  candidates: CardBrand[];
}

/**
 * Brand knowable from the first digits typed so far, so the agent sees "Visa" after one digit but nothing
 * for an ambiguous "5" (Maestro 50/56–58 or Mastercard 51–55) until the second.
 *
 * Exact, not heuristic: the brand is a step function of the 6-digit IIN, so it is enough to evaluate it at the
 * start of the prefix's IIN interval and at every range boundary inside that interval.
 */
export function brandFromPrefix(prefix: Uint8Array | string): PrefixBrand {
  const n = Math.min(prefix.length, IIN_DIGITS);
  if (n === 0) return { match: null, candidates: ['unknown', ...KNOWN_BRANDS] };
  const p = leadingValue(prefix, n);
  if (p < 0) return { match: { brand: 'unknown', coBrands: [] }, candidates: ['unknown'] };
  const scale = pow10(IIN_DIGITS - n);
  const start = p * scale;
  const end = (p + 1) * scale; // exclusive
  const points = new Set<number>([start]);
  for (const r of IIN_RANGES) {
    const s = pow10(IIN_DIGITS - r.digits);
    for (const b of [r.lo * s, (r.hi + 1) * s]) if (b > start && b < end) points.add(b);
  }
  const seen = new Map<string, BrandMatch>();
  for (const v of points) {
    const m = matchIin6(v);
    seen.set(`${m.brand}|${m.coBrands.join(',')}`, m);
  }
  const matches = [...seen.values()];
  const candidates = [...new Set(matches.map((m) => m.brand))];
  const only = matches.length === 1 ? matches[0] : undefined;
  return { match: only ?? null, candidates };
}

/** Security-code length for a brand; null when the brand is not known yet (then 3 or 4 are both possible). */
export function securityCodeLength(brand: CardBrand | null): 3 | 4 | null {
  if (brand === null || brand === 'unknown') return null;
  return BRAND_RULES[brand].securityCodeLength;
}

/** Longest PAN the brand issues (19 when the brand is not known yet). */
export function maxPanLength(brand: CardBrand | null): number {
  if (brand === null || brand === 'unknown') return PAN_MAX_LENGTH;
  const lengths = BRAND_RULES[brand].lengths;
  return lengths[lengths.length - 1] ?? PAN_MAX_LENGTH;
}

export function isKnownBrand(s: string): s is Exclude<CardBrand, 'unknown'> {
  return Object.hasOwn(BRAND_RULES, s);
}
