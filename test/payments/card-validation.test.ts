import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  isBrandAccepted, normalizeAcceptedBrands, validateCardNumber, validateExpiry, validatePostalCode,
  validateSecurityCode, yearMonthAt, assertPostalCodeRules,
} from '../../src/payments/card-validation.ts';
import { BRAND_RULES, detectBrand } from '../../src/payments/card-brand.ts';
import { isCardlineError } from '../../src/errors/index.ts';
import { TEST_PANS, makePan } from './card-fixtures.ts';

function code<T>(r: { ok: true; value: T } | { ok: false; code: string }): string {
  return r.ok ? 'ok' : r.code;
}

test('card number: all fixtures valid with brand and last four (string and bytes)', () => {
  for (const pan of Object.values(TEST_PANS)) {
    const r = validateCardNumber(pan);
    assert.ok(r.ok, `fixture of length ${pan.length}`);
    assert.equal(r.value.last4, pan.slice(-4));
    assert.equal(r.value.length, pan.length);
    const b = validateCardNumber(Buffer.from(pan));
    assert.ok(b.ok);
    assert.equal(b.value.last4, pan.slice(-4));
  }
});

test('card number: Luhn failure, non-digits, too short/long are invalid-card-number', () => {
  assert.equal(code(validateCardNumber('4111111111111112')), 'invalid-card-number');
  assert.equal(code(validateCardNumber('411111111111111a')), 'invalid-card-number');
  assert.equal(code(validateCardNumber('41111111116')), 'invalid-card-number');
  assert.equal(code(validateCardNumber(makePan('4', 20))), 'invalid-card-number');
  assert.equal(code(validateCardNumber('')), 'invalid-card-number');
});

test('card number: brand lengths are enforced (Luhn-valid but wrong length for the brand)', () => {
  assert.equal(code(validateCardNumber(makePan('4', 15))), 'invalid-card-number', 'Visa 15');
  assert.equal(code(validateCardNumber(makePan('4', 14))), 'invalid-card-number', 'Visa 14');
  assert.equal(code(validateCardNumber(makePan('51', 15))), 'invalid-card-number', 'Mastercard 15');
  assert.equal(code(validateCardNumber(makePan('37', 16))), 'invalid-card-number', 'Amex 16');
  assert.equal(code(validateCardNumber(makePan('6011', 15))), 'invalid-card-number', 'Discover 15');
  assert.equal(code(validateCardNumber(makePan('3530', 15))), 'invalid-card-number', 'JCB 15');
  assert.equal(code(validateCardNumber(makePan('36', 13))), 'invalid-card-number', 'Diners 13');
  assert.equal(code(validateCardNumber(makePan('6759', 12))), 'ok', 'Maestro 12');
});

test('property: every brand accepts exactly its issued lengths (12-19) for numbers drawn in its ranges', () => {
  const prefixes: Record<string, string[]> = {
    visa: ['4'], mastercard: ['51', '55', '2221', '2720'], amex: ['34', '37'], discover: ['6011', '644', '649', '65', '622126', '622925'],
    jcb: ['3528', '3589'], diners: ['300', '305', '36', '38', '39'], unionpay: ['620', '624', '62293'], maestro: ['50', '56', '58', '6304', '6759', '676770', '60'],
  };
  fc.assert(fc.property(fc.constantFrom(...Object.keys(prefixes)), fc.nat(), fc.integer({ min: 12, max: 19 }), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), (brand, pi, len, seed) => {
    const list = prefixes[brand] ?? [];
    const prefix = list[pi % list.length] ?? '';
    let s = seed;
    const rand = () => { s = (s * 9301 + 0.49297) % 1; return s; };
    const pan = makePan(prefix, len, rand);
    assert.equal(detectBrand(pan).brand, brand);
    const r = validateCardNumber(pan);
    const lengths = BRAND_RULES[brand as keyof typeof BRAND_RULES].lengths;
    assert.equal(r.ok, lengths.includes(len), `${brand} len ${len}`);
  }), { numRuns: 2000 });
});

test('card number: unknown issuer range is invalid-card-type', () => {
  assert.equal(code(validateCardNumber(makePan('9', 16))), 'invalid-card-type');
  assert.equal(code(validateCardNumber(makePan('1', 16))), 'invalid-card-type');
});

test('accepted-brands policy per merchant', () => {
  const visaMc = normalizeAcceptedBrands(['visa', 'mastercard']);
  assert.equal(code(validateCardNumber(TEST_PANS.visa16, visaMc)), 'ok');
  assert.equal(code(validateCardNumber(TEST_PANS.mastercard2, visaMc)), 'ok');
  assert.equal(code(validateCardNumber(TEST_PANS.amex, visaMc)), 'invalid-card-type');
  // co-branded Discover/UnionPay is accepted by a UnionPay-only merchant, a plain Discover card is not
  const up = normalizeAcceptedBrands(['unionpay']);
  assert.equal(code(validateCardNumber(TEST_PANS.discoverUnionPay, up)), 'ok');
  assert.equal(code(validateCardNumber(TEST_PANS.discover, up)), 'invalid-card-type');
  assert.equal(isBrandAccepted({ brand: 'unknown', coBrands: [] }, 'all'), false);
  assert.equal(normalizeAcceptedBrands(undefined), 'all');
  for (const bad of [[], ['visa', 'bogus']]) {
    assert.throws(() => normalizeAcceptedBrands(bad as never), (e) => isCardlineError(e) && e.code === 'invalid-session-config');
  }
});

test('error reasons never contain the digits', () => {
  const pan = '4111111111111112';
  const r = validateCardNumber(pan);
  assert.ok(!r.ok);
  assert.ok(!r.reason.includes(pan) && !r.reason.includes('1112'));
});

// 2026-03-31T23:30:00Z: still March in UTC and Los Angeles, already April on Kiritimati (UTC+14)
const NOW = Date.UTC(2026, 2, 31, 23, 30);

test('expiry: valid through the end of its month, in the configured time zone', () => {
  assert.deepEqual(yearMonthAt(NOW, 'UTC'), { year: 2026, month: 3 });
  assert.deepEqual(yearMonthAt(NOW, 'Pacific/Kiritimati'), { year: 2026, month: 4 });
  assert.equal(code(validateExpiry('0326', NOW, { timeZone: 'UTC', maxYearsAhead: 20 })), 'ok');
  assert.equal(code(validateExpiry('0326', NOW, { timeZone: 'America/Los_Angeles', maxYearsAhead: 20 })), 'ok');
  assert.equal(code(validateExpiry('0326', NOW, { timeZone: 'Pacific/Kiritimati', maxYearsAhead: 20 })), 'invalid-expiry');
  assert.equal(code(validateExpiry('0226', NOW)), 'invalid-expiry');
  assert.equal(code(validateExpiry('1225', NOW)), 'invalid-expiry');
  const ok = validateExpiry(Buffer.from('0428'), NOW);
  assert.ok(ok.ok);
  assert.deepEqual(ok.value, { year: 2028, month: 4 });
});

test('expiry: month range, shape, and not absurdly far ahead', () => {
  assert.equal(code(validateExpiry('0027', NOW)), 'invalid-expiry');
  assert.equal(code(validateExpiry('1327', NOW)), 'invalid-expiry');
  assert.equal(code(validateExpiry('127', NOW)), 'invalid-expiry');
  assert.equal(code(validateExpiry('12/7', NOW)), 'invalid-expiry');
  assert.equal(code(validateExpiry('0346', NOW)), 'ok', 'exactly 20 years');
  assert.equal(code(validateExpiry('0446', NOW)), 'invalid-expiry', '20 years and a month');
  assert.equal(code(validateExpiry('0331', NOW, { timeZone: 'UTC', maxYearsAhead: 5 })), 'ok');
  assert.equal(code(validateExpiry('0431', NOW, { timeZone: 'UTC', maxYearsAhead: 5 })), 'invalid-expiry');
  assert.throws(() => validateExpiry('0428', NOW, { timeZone: 'Mars/Olympus', maxYearsAhead: 20 }), (e) => isCardlineError(e) && e.code === 'invalid-session-config');
});

test('security code: 4 for Amex, 3 for others, 3 or 4 while the brand is unknown', () => {
  assert.equal(code(validateSecurityCode('1234', 'amex')), 'ok');
  assert.equal(code(validateSecurityCode('123', 'amex')), 'invalid-security-code');
  assert.equal(code(validateSecurityCode('123', 'visa')), 'ok');
  assert.equal(code(validateSecurityCode('1234', 'visa')), 'invalid-security-code');
  assert.equal(code(validateSecurityCode('12', 'mastercard')), 'invalid-security-code');
  assert.equal(code(validateSecurityCode('123', null)), 'ok');
  assert.equal(code(validateSecurityCode('1234', null)), 'ok');
  assert.equal(code(validateSecurityCode('12345', null)), 'invalid-security-code');
  assert.equal(code(validateSecurityCode('12a', 'visa')), 'invalid-security-code');
  for (const b of ['visa', 'mastercard', 'discover', 'jcb', 'diners', 'unionpay', 'maestro'] as const) {
    assert.equal(code(validateSecurityCode(Buffer.from('321'), b)), 'ok', b);
  }
});

test('postal code: digits within configured min/max', () => {
  assert.equal(code(validatePostalCode('94107')), 'ok');
  assert.equal(code(validatePostalCode('12')), 'invalid-postal-code');
  assert.equal(code(validatePostalCode('12345678901')), 'invalid-postal-code');
  assert.equal(code(validatePostalCode('941a7')), 'invalid-postal-code');
  assert.equal(code(validatePostalCode('94107', { minLength: 5, maxLength: 5 })), 'ok');
  assert.equal(code(validatePostalCode('9410', { minLength: 5, maxLength: 9 })), 'invalid-postal-code');
  assert.equal(code(validatePostalCode('941071234', { minLength: 5, maxLength: 9 })), 'ok');
  assert.throws(() => assertPostalCodeRules({ minLength: 6, maxLength: 5 }));
  assert.throws(() => assertPostalCodeRules({ minLength: 0, maxLength: 5 }));
});
