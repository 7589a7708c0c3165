import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BRAND_RULES, brandFromPrefix, detectBrand, maxPanLength, securityCodeLength } from '../../src/payments/card-brand.ts';
import type { CardBrand } from '../../src/payments/types.ts';
import { TEST_PANS } from './card-fixtures.ts';

/** Independent oracle written as the if-chain a reader would check against the scheme tables. */
function oracle(iin6: string): CardBrand {
  const n = (k: number) => Number(iin6.slice(0, k));
  if (n(6) >= 622126 && n(6) <= 622925) return 'discover';
  if (n(6) === 676770 || n(6) === 676774) return 'maestro';
  if (n(4) === 6011) return 'discover';
  if (n(4) >= 3528 && n(4) <= 3589) return 'jcb';
  if (n(4) >= 2221 && n(4) <= 2720) return 'mastercard';
  if (n(4) === 6304 || n(4) === 6759) return 'maestro';
  if (n(3) >= 644 && n(3) <= 649) return 'discover';
  if (n(3) >= 300 && n(3) <= 305) return 'diners';
  if (n(2) === 34 || n(2) === 37) return 'amex';
  if (n(2) >= 51 && n(2) <= 55) return 'mastercard';
  if (n(2) === 65) return 'discover';
  if (n(2) === 62) return 'unionpay';
  if (n(2) === 36 || n(2) === 38 || n(2) === 39) return 'diners';
  if (n(2) === 50 || (n(2) >= 56 && n(2) <= 58)) return 'maestro';
  if (iin6[0] === '4') return 'visa';
  if (iin6[0] === '6') return 'maestro';
  return 'unknown';
}

test('IIN table: every one of the 1,000,000 six-digit IINs matches the independent oracle', () => {
  let mismatches = 0;
  const counts = new Map<CardBrand, number>();
  for (let v = 0; v < 1_000_000; v++) {
    const iin = String(v).padStart(6, '0');
    const got = detectBrand(iin).brand;
    if (got !== oracle(iin)) mismatches++;
    counts.set(got, (counts.get(got) ?? 0) + 1);
  }
  assert.equal(mismatches, 0);
  // every brand is reachable
  for (const b of Object.keys(BRAND_RULES) as CardBrand[]) assert.ok((counts.get(b) ?? 0) > 0, b);
});

test('fixtures detect to their brands', () => {
  const expect: Record<keyof typeof TEST_PANS, CardBrand> = {
    visa16: 'visa', visa13: 'visa', visa19: 'visa', mastercard: 'mastercard', mastercard2: 'mastercard',
    amex: 'amex', amex2: 'amex', discover: 'discover', discover644: 'discover', discoverUnionPay: 'discover',
    jcb: 'jcb', diners14: 'diners', diners300: 'diners', unionpay: 'unionpay', maestro: 'maestro', maestro50: 'maestro',
  };
  for (const [k, pan] of Object.entries(TEST_PANS)) assert.equal(detectBrand(pan).brand, expect[k as keyof typeof TEST_PANS], k);
});

test('range boundaries', () => {
  const cases: [string, CardBrand][] = [
    ['222099', 'unknown'], ['222100', 'mastercard'], ['272099', 'mastercard'], ['272100', 'unknown'],
    ['622125', 'unionpay'], ['622126', 'discover'], ['622925', 'discover'], ['622926', 'unionpay'],
    ['352799', 'unknown'], ['352800', 'jcb'], ['358999', 'jcb'], ['359000', 'unknown'],
    ['299999', 'unknown'], ['300000', 'diners'], ['305999', 'diners'], ['306000', 'unknown'],
    ['643999', 'maestro'], ['644000', 'discover'], ['649999', 'discover'], ['650000', 'discover'],
    ['601099', 'maestro'], ['601100', 'discover'], ['601200', 'maestro'], ['676770', 'maestro'],
    ['499999', 'visa'], ['500000', 'maestro'], ['510000', 'mastercard'], ['559999', 'mastercard'], ['560000', 'maestro'],
    ['590000', 'unknown'], ['000000', 'unknown'], ['100000', 'unknown'],
  ];
  for (const [iin, b] of cases) assert.equal(detectBrand(iin).brand, b, iin);
});

test('Discover/UnionPay co-brand reports UnionPay as a co-brand; Maestro fallback is never a co-brand', () => {
  assert.deepEqual(detectBrand('6221260000000000').coBrands, ['unionpay']);
  assert.deepEqual(detectBrand('6011000000000004').coBrands, []);
  assert.deepEqual(detectBrand('6200000000000005').coBrands, []);
});

test('brand from the first digits: known as soon as every completion agrees', () => {
  assert.equal(brandFromPrefix('4').match?.brand, 'visa');
  assert.equal(brandFromPrefix('3').match, null);
  assert.equal(brandFromPrefix('34').match?.brand, 'amex');
  assert.equal(brandFromPrefix('5').match, null);
  assert.equal(brandFromPrefix('51').match?.brand, 'mastercard');
  assert.equal(brandFromPrefix('50').match?.brand, 'maestro');
  assert.equal(brandFromPrefix('6').match, null);
  assert.equal(brandFromPrefix('65').match?.brand, 'discover');
  assert.equal(brandFromPrefix('62').match, null, 'UnionPay or co-branded Discover');
  assert.equal(brandFromPrefix('623').match?.brand, 'unionpay');
  assert.equal(brandFromPrefix('2').match, null);
  assert.equal(brandFromPrefix('2221').match?.brand, 'mastercard');
  assert.equal(brandFromPrefix('9').match?.brand, 'unknown');
  assert.equal(brandFromPrefix('').match, null);
  assert.ok(brandFromPrefix('3').candidates.includes('jcb'));
});

test('property: a prefix decision never contradicts the full number, and candidates always contain it', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 6, maxLength: 6 }), fc.integer({ min: 1, max: 6 }), (d, k) => {
    const iin = d.join('');
    const full = detectBrand(iin).brand;
    const p = brandFromPrefix(iin.slice(0, k));
    if (p.match) assert.equal(p.match.brand, full);
    assert.ok(p.candidates.includes(full));
    if (k === 6) assert.equal(p.match?.brand, full);
  }), { numRuns: 3000 });
});

test('security-code and maximum lengths by brand', () => {
  assert.equal(securityCodeLength('amex'), 4);
  assert.equal(securityCodeLength('visa'), 3);
  assert.equal(securityCodeLength(null), null);
  assert.equal(securityCodeLength('unknown'), null);
  assert.equal(maxPanLength('amex'), 15);
  assert.equal(maxPanLength('mastercard'), 16);
  assert.equal(maxPanLength('visa'), 19);
  assert.equal(maxPanLength(null), 19);
});
