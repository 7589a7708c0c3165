import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { base32Decode, base32Encode, hotp, otpauthUri, totp, totpStep, verifyTotp } from '../../src/auth/index.ts';
import { isCardlineError } from '../../src/errors/index.ts';

const RFC_SECRET = Buffer.from('12345678901234567890', 'ascii');

test('HOTP: RFC 4226 Appendix D test values', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  expected.forEach((code, counter) => assert.equal(hotp(RFC_SECRET, counter), code, `counter ${counter}`));
});

test('TOTP: RFC 6238 Appendix B test values (SHA-1, 8 digits)', () => {
  const vectors: [number, string][] = [[59, '94287082'], [1111111109, '07081804'], [1111111111, '14050471'], [1234567890, '89005924'], [2000000000, '69279037'], [20000000000, '65353130']];
  for (const [t, code] of vectors) assert.equal(hotp(RFC_SECRET, totpStep(t * 1000), 8), code, `T=${t}`);
  assert.equal(totp(RFC_SECRET, 59_000), '287082');
});

test('verify: ±1 step accepted and reported; ±2 and malformed refused', () => {
  const now = 1_700_000_015_000;
  const step = totpStep(now);
  assert.equal(verifyTotp(RFC_SECRET, hotp(RFC_SECRET, step), now), step);
  assert.equal(verifyTotp(RFC_SECRET, hotp(RFC_SECRET, step - 1), now), step - 1);
  assert.equal(verifyTotp(RFC_SECRET, hotp(RFC_SECRET, step + 1), now), step + 1);
  assert.equal(verifyTotp(RFC_SECRET, hotp(RFC_SECRET, step + 2), now), null);
  assert.equal(verifyTotp(RFC_SECRET, hotp(RFC_SECRET, step - 2), now), null);
  for (const bad of ['', '12345', '1234567', '12345a', ' 123456']) assert.equal(verifyTotp(RFC_SECRET, bad, now), null, bad);
});

test('base32: RFC 4648 §10 vectors, round trip, hostile input', () => {
  const v: [string, string][] = [['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI']];
  for (const [plain, enc] of v) {
    assert.equal(base32Encode(Buffer.from(plain)), enc);
    assert.equal(base32Decode(`${enc.toLowerCase()}===`).toString(), plain);
  }
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (b) => Buffer.compare(base32Decode(base32Encode(b)), Buffer.from(b)) === 0));
  for (const bad of ['', 'A1', 'A!B', 'x'.repeat(2000)]) assert.throws(() => base32Decode(bad), (e) => isCardlineError(e));
});

test('otpauth URI follows the Key Uri Format', () => {
  const uri = new URL(otpauthUri(RFC_SECRET, 'Cardline', 'alice@example.com'));
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.host, 'totp');
  assert.equal(decodeURIComponent(uri.pathname), '/Cardline:alice@example.com');
  assert.equal(uri.searchParams.get('secret'), base32Encode(RFC_SECRET));
  assert.equal(uri.searchParams.get('issuer'), 'Cardline');
  assert.equal(uri.searchParams.get('digits'), '6');
  assert.equal(uri.searchParams.get('period'), '30');
});
