import { BRAND_RULES } from './card-brand.ts';
import type { CardBrand } from './types.ts';

/**
 * The masked PAN shown to agents: every digit but the last four replaced by a dot, grouped the way the brand
 * prints it (Amex 4-6-5, 14-digit Diners 4-6-4), otherwise in fours counted from the right so the last four
 * always stand as one group (13 digits: 1-4-4-4; 19 digits: 3-4-4-4-4). PCI DSS 4.0 req. 3.4.1 allows up to BIN and
 * last four; Cardline shows only the last four plus the brand name, which is all an agent needs to confirm a card.
 */
export const MASK_CHAR = '•';

export function groupingFor(brand: CardBrand | null, length: number): number[] {
  const custom = brand && brand !== 'unknown' ? BRAND_RULES[brand].grouping?.[length] : undefined;
  if (custom) return [...custom];
  const groups: number[] = [];
  for (let left = length; left > 0; left -= 4) groups.unshift(Math.min(4, left));
  return groups;
}

/**
 * `maskedPanDisplay('visa', 16, '1111')` → `•••• •••• •••• 1111`; `('amex', 15, '0005')` → `•••• •••••• •0005`.
 * `last4` must be exactly four digits (it is the only part of the PAN this function ever sees).
 */
export function maskedPanDisplay(brand: CardBrand | null, length: number, last4: string): string {
  if (!/^\d{4}$/.test(last4)) throw new RangeError('last4 must be four digits');
  if (!Number.isInteger(length) || length < 4 || length > 19) throw new RangeError('PAN length out of range');
  const chars = MASK_CHAR.repeat(length - 4) + last4;
  const out: string[] = [];
  let at = 0;
  for (const g of groupingFor(brand, length)) {
    out.push(chars.slice(at, at + g));
    at += g;
  }
  return out.join(' ');
}
