import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isLuhnValid, luhnCheckDigit } from '../../src/payments/luhn.ts';
import { TEST_PANS } from './card-fixtures.ts';

const digitString = (min: number, max: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((a) => a.join(''));

test('known test card numbers pass Luhn (string and byte input)', () => {
  for (const pan of Object.values(TEST_PANS)) {
    assert.ok(isLuhnValid(pan), `fixture ${pan.length} digits`);
    assert.ok(isLuhnValid(Buffer.from(pan, 'ascii')));
  }
});

test('classic examples: 79927398713 valid, 79927398710 not; non-digits and short input are invalid', () => {
  assert.equal(isLuhnValid('79927398713'), true);
  assert.equal(isLuhnValid('79927398710'), false);
  assert.equal(luhnCheckDigit('7992739871'), 3);
  assert.equal(isLuhnValid('4111 1111 1111 1111'), false);
  assert.equal(isLuhnValid('0'), false);
  assert.equal(isLuhnValid(''), false);
  assert.equal(luhnCheckDigit(''), -1);
  assert.equal(luhnCheckDigit('12a'), -1);
});

test('property: payload + generated check digit is always valid, and it is the only valid digit', () => {
  fc.assert(fc.property(digitString(1, 18), (payload) => {
    const c = luhnCheckDigit(payload);
    assert.ok(c >= 0 && c <= 9);
    for (let d = 0; d <= 9; d++) assert.equal(isLuhnValid(payload + d), d === c);
  }), { numRuns: 500 });
});

test('property: any single-digit substitution of a valid number is detected', () => {
  fc.assert(fc.property(digitString(11, 18), fc.nat(), fc.integer({ min: 1, max: 9 }), (payload, at, delta) => {
    const pan = payload + luhnCheckDigit(payload);
    const i = at % pan.length;
    const changed = pan.slice(0, i) + String((Number(pan[i]) + delta) % 10) + pan.slice(i + 1);
    assert.equal(isLuhnValid(changed), false);
  }), { numRuns: 500 });
});

test('property: adjacent transpositions are detected except 09 <-> 90', () => {
  fc.assert(fc.property(digitString(11, 18), fc.nat(), (payload, at) => {
    const pan = payload + luhnCheckDigit(payload);
    const i = at % (pan.length - 1);
    const a = pan[i] as string;
    const b = pan[i + 1] as string;
    fc.pre(a !== b && !((a === '0' && b === '9') || (a === '9' && b === '0')));
    const swapped = pan.slice(0, i) + b + a + pan.slice(i + 2);
    assert.equal(isLuhnValid(swapped), false);
  }), { numRuns: 500 });
});
